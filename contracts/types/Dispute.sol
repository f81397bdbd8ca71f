// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Inference} from "./Commitment.sol";
import {LayerSpec} from "./LayerSpec.sol";

/// @notice Steps of a dispute game. The party to move is fixed by the phase:
/// provider: AwaitingInput, AwaitingTrace, AwaitingLayerReveal;
/// challenger: InputRevealed, AwaitingLayerSelection, AwaitingNeuronProof.
enum Phase {
    None,
    AwaitingInput,
    InputRevealed,
    AwaitingTrace,
    AwaitingLayerSelection,
    AwaitingLayerReveal,
    AwaitingNeuronProof,
    Resolved
}

/// @notice How a dispute ended.
/// @dev ChallengerWon: fraud proven (or the provider missed a deadline). ProviderWon: the challenger
/// missed a deadline. Refunded: the target was already overturned by another game, or the challenger
/// let the game lapse after an input reveal; the bond goes back to the challenger.
enum Outcome {
    None,
    ChallengerWon,
    ProviderWon,
    Refunded
}

/// @notice Everything a dispute game is about, fixed when it opens. `disputeId = keccak256(abi.encode(params))`.
/// @dev Not stored: every move passes the params again and the contract checks their hash. A move thus
/// names its game by content, so after a reorg it can only land on the same game.
struct DisputeParams {
    /// The commitment id, or the batch id for a batch leaf.
    bytes32 target;
    /// True for a batch leaf.
    bool isLeaf;
    bytes32 modelId;
    address provider;
    address challenger;
    /// The disputed inference (for a leaf: the leaf itself).
    Inference inference;
    /// Snapshots of the model's policy and of the stake manager's challenger share.
    uint96 bond;
    uint96 slashAmount;
    uint32 responseWindow;
    uint16 challengerShareBps;
    /// The block the game opened in: with the other fields it makes ids unique (one game per challenger,
    /// target and block).
    uint64 nonce;
}

/// @notice Mutable state of a dispute: one storage slot (48 + 8 + 8 + 16 + 16 = 96 bits).
struct GameState {
    /// The party to move loses if it has not moved by this time.
    uint48 deadline;
    Phase phase;
    Outcome outcome;
    /// Number of layers L in the provider's trace (set by revealTrace).
    uint16 numLayers;
    /// The layer the challenger disputes, 1..L (set by selectLayer).
    uint16 layer;
}

/// @notice The challenger's final move: one neuron recomputed on-chain.
struct NeuronProof {
    /// The trace `s_0..s_L` again (checked against the trace root).
    bytes32[] layerHashes;
    /// The model's graph and weights root (checked against the model id).
    LayerSpec[] graph;
    bytes32 weightsRoot;
    /// Layer l-1's activation (hash must be `s_(l-1)`): for l = 1, the input.
    bytes input;
    /// The provider's revealed activation of layer l (hash must be `s_l`).
    bytes output;
    /// The neuron j whose output the challenger disputes, its bias and weight row, and the row's proof.
    uint32 neuron;
    int32 bias;
    bytes row;
    bytes32[] rowProof;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Inference} from "./Commitment.sol";

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
/// missed a deadline on a target that is not overturned. Refunded: the challenger let the game lapse
/// after an input reveal, or stopped playing (or withdrew) after another game overturned the target;
/// the bond goes back to the challenger.
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
    /// The model's number of layers L (the trace has L + 1 hashes).
    uint16 numLayers;
    /// Chosen by the challenger: with the other fields it makes the id unique, and it does not depend on
    /// the block the game opens in, so a reorg that moves the opening keeps the id.
    uint64 nonce;
}

/// @notice Mutable state of a dispute: one storage slot (48 + 8 + 8 + 16 + 8 = 88 bits).
struct GameState {
    /// The party to move loses if it has not moved by this time.
    uint48 deadline;
    Phase phase;
    Outcome outcome;
    /// The layer the challenger disputes, 1..L (set by selectLayer).
    uint16 layer;
    /// A ChallengerWon game's share of its target's reward pool has been paid.
    bool rewardPaid;
}

/// @notice The challenger's share of one overturned target's slash, escrowed until every game that was
/// open when the target was overturned has ended, then split equally among those that ended
/// ChallengerWon (docs/protocol.md, "Rewards"). One storage slot (8 + 96 + 24 + 24 + 24 = 176 bits).
struct RewardPool {
    /// The target was overturned by a game of this contract (the pool exists, even if nothing was slashed).
    bool overturned;
    uint96 amount;
    /// Games still open on the target.
    uint24 pending;
    /// Games that ended ChallengerWon.
    uint24 winners;
    /// Winners already paid.
    uint24 paid;
}

/// @notice The challenger's final move: one neuron of the selected layer l recomputed on-chain.
/// @dev The provider's trace and activation were checked when revealed; the game keeps
/// `keccak256(abi.encode(s_(l-1), s_l))`, so the proof carries only the two vectors.
struct NeuronProof {
    /// Layer l-1's activation (for l = 1, the input): `keccak256(input) == s_(l-1)`.
    bytes input;
    /// The provider's revealed activation of layer l: `keccak256(output) == s_l`.
    bytes output;
    /// The neuron j whose output the challenger disputes, its bias and weight row, and the row's proof.
    uint32 neuron;
    int32 bias;
    bytes row;
    bytes32[] rowProof;
}

/// @notice Phases of a batch's disclosure demand.
enum DisclosurePhase {
    None,
    Open,
    Disclosed,
    Failed
}

/// @notice State of a batch's disclosure demand (two storage slots and the running leaf hash).
struct Disclosure {
    // slot 0: 160 + 48 + 32 + 8 = 248
    address demander;
    uint48 deadline;
    /// Leaves disclosed so far.
    uint32 disclosed;
    DisclosurePhase phase;
    // slot 1: 96 + 96 + 16 = 208
    uint96 bond;
    uint96 slashAmount;
    uint16 challengerShareBps;
    // slot 2: `h_k = keccak256(abi.encode(h_(k-1), leafHash_k))`, `h_0 = 0`, over the leaves in disclosure order.
    bytes32 chain;
}

/// @notice One batch leaf with its input, as disclosed on-chain.
struct DisclosedLeaf {
    Inference leaf;
    bytes input;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchHeader, Inference} from "../types/Commitment.sol";
import {DisputeParams, GameState, NeuronProof, Outcome, Phase} from "../types/Dispute.sol";

/// @title IDisputeGame
/// @notice Permissionless fraud proofs for `dense-int8-v1` inferences. Anyone who re-executes a
/// committed inference and gets a different answer opens a dispute with a bond; the provider and the
/// challenger then bisect the trace down to one layer and one neuron, which the contract recomputes.
/// Every move has a deadline (the model's response window); the party that misses it loses, and anyone
/// may call `timeout`. Fraud proven: the commitment (or leaf) is overturned, the provider slashed once,
/// the challenger refunded plus its share. Challenger fails: its bond is credited to the provider.
/// @dev Moves: openDispute -> [revealInput -> continueDispute] -> revealTrace -> selectLayer ->
/// revealLayer -> proveNeuron. The bracketed part exists only for batch leaves whose input the
/// challenger demands (batch leaves, or single commitments whose event lacks the input). Every move passes
/// the game's `DisputeParams`; their hash is the dispute id.
interface IDisputeGame {
    /// @notice The params do not hash to a known dispute.
    error DisputeGameUnknownDispute(bytes32 disputeId);
    /// @notice The move does not fit the game's phase.
    error DisputeGameUnexpectedPhase(bytes32 disputeId, Phase current, Phase expected);
    /// @notice `caller` is not the party whose move this is.
    error DisputeGameWrongParty(bytes32 disputeId, address caller, address expected);
    /// @notice The move came after its deadline.
    error DisputeGameDeadlinePassed(bytes32 disputeId, uint48 deadline);
    /// @notice This challenger already opened a game on this target in this block.
    error DisputeGameDuplicate(bytes32 disputeId);
    /// @notice The game has already ended.
    error DisputeGameAlreadyResolved(bytes32 disputeId);
    /// @notice A timeout was called before the deadline.
    error DisputeGameDeadlineNotPassed(bytes32 disputeId, uint48 deadline);
    /// @notice The given inference does not hash to the disputed commitment id.
    error DisputeGameInferenceMismatch(bytes32 target);
    /// @notice The model is not evaluated with the `dense-int8-v1` profile this game can recompute.
    error DisputeGameUnsupportedEngine(bytes32 modelId, bytes32 engineId);
    /// @notice The revealed input does not hash to the inference's input hash.
    error DisputeGameInputHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice The trace needs at least two hashes (`s_0` and `s_L`) and at most 65,536.
    error DisputeGameInvalidTraceLength(uint256 length);
    /// @notice The layer hashes do not hash to the committed trace root.
    error DisputeGameTraceRootMismatch(bytes32 expected, bytes32 actual);
    /// @notice `s_0` is not the committed input hash.
    error DisputeGameTraceInputMismatch(bytes32 expected, bytes32 actual);
    /// @notice `s_L` is not the committed output hash.
    error DisputeGameTraceOutputMismatch(bytes32 expected, bytes32 actual);
    /// @notice The selected layer is not in 1..L.
    error DisputeGameInvalidLayer(uint256 layer, uint256 numLayers);
    /// @notice The layer answered is not the layer the challenger selected.
    error DisputeGameUnexpectedLayer(uint256 layer, uint256 selected);
    /// @notice A vector does not hash to its layer's trace hash.
    error DisputeGameActivationMismatch(uint256 layer, bytes32 expected, bytes32 actual);
    /// @notice The graph and weights root do not hash to the disputed model id.
    error DisputeGameModelMismatch(bytes32 modelId, bytes32 computed);
    /// @notice Layer l-1's vector has the wrong length for layer l (dispute layer l-1 instead).
    error DisputeGameInputLengthMismatch(uint256 expected, uint256 actual);
    /// @notice The neuron index is not below the layer's output width.
    error DisputeGameInvalidNeuron(uint256 neuron, uint256 outDim);
    /// @notice The weight row and bias are not in the model's weights tree.
    error DisputeGameInvalidRowProof(uint32 layer, uint32 neuron);
    /// @notice The recomputed neuron equals the provider's value: no fraud at this neuron.
    error DisputeGameNeuronMatches(uint32 neuron, int8 value);
    /// @notice The target is not overturned; the game cannot be closed early.
    error DisputeGameTargetNotOverturned(bytes32 disputeId);
    /// @notice A constructor argument was the zero address.
    error DisputeGameZeroAddress();

    /// @notice A dispute opened; `params` are what every later move must pass.
    event DisputeOpened(
        bytes32 indexed disputeId,
        bytes32 indexed target,
        address indexed challenger,
        DisputeParams params,
        Phase phase,
        uint48 deadline
    );
    /// @notice The provider revealed a batch leaf's input on demand.
    event InputRevealed(bytes32 indexed disputeId, bytes input, uint48 deadline);
    /// @notice The challenger, having seen the input, goes on with the game.
    event DisputeContinued(bytes32 indexed disputeId, uint48 deadline);
    /// @notice The provider revealed the trace `s_0..s_L`.
    event TraceRevealed(bytes32 indexed disputeId, bytes32[] layerHashes, uint48 deadline);
    /// @notice The challenger named the first layer it disputes.
    event LayerSelected(bytes32 indexed disputeId, uint16 layer, uint48 deadline);
    /// @notice The provider revealed the activation of the selected layer.
    event LayerRevealed(bytes32 indexed disputeId, uint16 layer, bytes activation, uint48 deadline);
    /// @notice Fraud was proven at `neuron` of `layer` (expected = recomputed value, claimed = provider's),
    /// or structurally (`neuron` = type(uint32).max: a vector or trace of the wrong shape, or a model that
    /// cannot be evaluated: a spec out of bounds or a weight row of the wrong width).
    event FraudProven(bytes32 indexed disputeId, uint16 layer, uint32 neuron, int8 expected, int8 claimed);
    /// @notice The dispute ended.
    event DisputeResolved(bytes32 indexed disputeId, Outcome outcome, uint256 slashed);

    /// @notice Opens a dispute on a single commitment, posting the model's challenger bond (approve the
    /// stake manager first). Only within the commitment's challenge window.
    /// @return disputeId The new game's id.
    function openDispute(
        bytes32 commitmentId,
        bytes32 modelId,
        Inference calldata inference
    ) external returns (bytes32 disputeId);

    /// @notice Opens a dispute on a single commitment whose event does not carry its input (a URI, or bytes
    /// that do not hash to the input hash): the provider must first reveal the input on-chain.
    /// @return disputeId The new game's id.
    function openDisputeWithInputDemand(
        bytes32 commitmentId,
        bytes32 modelId,
        Inference calldata inference
    ) external returns (bytes32 disputeId);

    /// @notice Opens a dispute on one leaf of a batch, posting the bond. With `demandInput`, the provider
    /// must first reveal the leaf's input bytes on-chain.
    /// @return disputeId The new game's id.
    function openLeafDispute(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf,
        bool demandInput
    ) external returns (bytes32 disputeId);

    /// @notice Provider: reveals the demanded input (its hash must be the leaf's input hash).
    function revealInput(DisputeParams calldata params, bytes calldata input) external;

    /// @notice Challenger: having re-executed the revealed input, goes on with the game. Not moving
    /// before the deadline ends the game with the bond refunded.
    function continueDispute(DisputeParams calldata params) external;

    /// @notice Provider: reveals the trace `s_0..s_L` (checked against the trace root, input and output hashes).
    function revealTrace(DisputeParams calldata params, bytes32[] calldata layerHashes) external;

    /// @notice Challenger: names the first layer (1..L) whose hash it disputes.
    function selectLayer(DisputeParams calldata params, uint16 layer) external;

    /// @notice Provider: reveals the selected layer's activation (its hash must be `s_layer`).
    function revealLayer(
        DisputeParams calldata params,
        uint16 layer,
        bytes32[] calldata layerHashes,
        bytes calldata activation
    ) external;

    /// @notice Challenger: proves one neuron of the selected layer wrong; the contract recomputes it.
    function proveNeuron(DisputeParams calldata params, NeuronProof calldata proof) external;

    /// @notice Anyone: ends a game whose party to move missed its deadline.
    function timeout(DisputeParams calldata params) external;

    /// @notice Anyone: ends a game whose target another game already overturned, refunding the bond.
    function closeOverturned(DisputeParams calldata params) external;

    /// @notice Pauses new disputes (never moves, timeouts or withdrawals). GUARDIAN_ROLE only.
    function pause() external;

    /// @notice Lifts the pause. GUARDIAN_ROLE only.
    function unpause() external;

    /// @notice The state of a game.
    function gameOf(bytes32 disputeId) external view returns (GameState memory);

    /// @notice The id of a game with these params.
    function disputeIdOf(DisputeParams calldata params) external pure returns (bytes32);

    /// @notice Bond a challenger posts to dispute a commitment of `modelId` now.
    function requiredBond(bytes32 modelId) external view returns (uint256);
}

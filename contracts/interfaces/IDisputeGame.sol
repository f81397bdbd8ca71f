// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchHeader, CommitmentKey, Inference} from "../types/Commitment.sol";
import {DisputeParams, GameState, NeuronProof, Outcome, Phase, RewardPool} from "../types/Dispute.sol";

/// @title IDisputeGame
/// @notice Permissionless fraud proofs for `dense-int8-v1` inferences. Anyone who re-executes a
/// committed inference and gets a different answer opens a dispute with a bond; the provider and the
/// challenger then bisect the trace down to one layer and one neuron, which the contract recomputes.
/// Every move has a deadline (the model's response window); the party that misses it loses, and anyone
/// may call `timeout`. Every reveal has its exact length checked when it is made, and no move re-sends
/// what the chain already checked, so every honest move fits the gas bound the registry enforced.
/// Fraud proven: the commitment (or leaf) is overturned and the provider slashed once; the challengers'
/// share of the slash is escrowed and split among every game open on the target that ends ChallengerWon.
/// Challenger fails: its bond is credited to the provider. Disputes cannot be paused.
/// @dev Moves: open -> [revealInput -> continueDispute] -> revealTrace -> selectLayer -> revealLayer ->
/// proveNeuron. The bracketed part exists only when the challenger demands the input (a URI commitment,
/// or a batch leaf of a batch not disclosed on-chain). Every move passes the game's `DisputeParams`;
/// their hash is the dispute id.
interface IDisputeGame {
    /// @notice The params do not hash to a known dispute.
    error DisputeGameUnknownDispute(bytes32 disputeId);
    /// @notice The move does not fit the game's phase.
    error DisputeGameUnexpectedPhase(bytes32 disputeId, Phase current, Phase expected);
    /// @notice `caller` is not the party whose move this is.
    error DisputeGameWrongParty(bytes32 disputeId, address caller, address expected);
    /// @notice The move came after its deadline.
    error DisputeGameDeadlinePassed(bytes32 disputeId, uint48 deadline);
    /// @notice This challenger already opened a game on this target with this nonce.
    error DisputeGameDuplicate(bytes32 disputeId);
    /// @notice The game has already ended.
    error DisputeGameAlreadyResolved(bytes32 disputeId);
    /// @notice A timeout was called before the deadline.
    error DisputeGameDeadlineNotPassed(bytes32 disputeId, uint48 deadline);
    /// @notice No dispute game can recompute this model (its engine is not `dense-int8-v1`).
    error DisputeGameUnsupportedModel(bytes32 modelId);
    /// @notice An input demand on a commitment whose input is already public (in its event, or in its
    /// batch's on-chain disclosure).
    error DisputeGameInputAlreadyPublic(bytes32 target);
    /// @notice The revealed input does not have the model's input length.
    error DisputeGameInputLengthMismatch(uint256 expected, uint256 actual);
    /// @notice The revealed input does not hash to the inference's input hash.
    error DisputeGameInputHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice The trace must have `expected` hashes (the model's L + 1).
    error DisputeGameInvalidTraceLength(uint256 length, uint256 expected);
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
    /// @notice The revealed activation does not have the layer's output width.
    error DisputeGameActivationLengthMismatch(uint256 layer, uint256 expected, uint256 actual);
    /// @notice A vector does not hash to its layer's trace hash.
    error DisputeGameActivationMismatch(uint256 layer, bytes32 expected, bytes32 actual);
    /// @notice The proof's vectors are not the layer l-1 and layer l vectors the game recorded.
    error DisputeGameVectorsMismatch(bytes32 expected, bytes32 actual);
    /// @notice Layer l-1's vector has the wrong length for layer l (dispute layer l-1 instead).
    error DisputeGamePreviousLengthMismatch(uint256 expected, uint256 actual);
    /// @notice The neuron index is not below the layer's output width.
    error DisputeGameInvalidNeuron(uint256 neuron, uint256 outDim);
    /// @notice The weight row and bias are not in the model's weights tree.
    error DisputeGameInvalidRowProof(uint32 layer, uint32 neuron);
    /// @notice The recomputed neuron equals the provider's value: no fraud at this neuron.
    error DisputeGameNeuronMatches(uint32 neuron, int8 value);
    /// @notice The target is not overturned.
    error DisputeGameTargetNotOverturned(bytes32 disputeId);
    /// @notice No reward is owed to this game (it did not end ChallengerWon, or was already paid).
    error DisputeGameNoReward(bytes32 disputeId);
    /// @notice The target's reward pool is still waiting for `pending` games to end.
    error DisputeGameRewardPending(bytes32 disputeId, uint24 pending);
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
    /// @notice The provider revealed a demanded input.
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
    /// or structurally (`neuron` = type(uint32).max: a malformed committed input, or a weight row of the
    /// wrong width in the model's tree).
    event FraudProven(bytes32 indexed disputeId, uint16 layer, uint32 neuron, int8 expected, int8 claimed);
    /// @notice The dispute ended; `slashed` is non-zero only for the game that overturned its target.
    event DisputeResolved(bytes32 indexed disputeId, Outcome outcome, uint256 slashed);
    /// @notice A target was overturned and its challengers' share of the slash escrowed; `pending` other
    /// games were still open on it.
    event RewardEscrowed(bytes32 indexed targetKey, uint256 amount, uint24 pending);
    /// @notice A ChallengerWon game was paid its part of its target's reward pool.
    event RewardPaid(bytes32 indexed disputeId, address indexed challenger, uint256 amount);

    /// @notice Opens a dispute on a single commitment, posting the model's challenger bond (approve the
    /// stake manager first). Only within the commitment's challenge window.
    /// @param key The commitment (its hash is the commitment id).
    /// @param demandInput Whether the provider must first reveal the input (refused when the commitment's
    /// event already carries it).
    /// @param nonce Any number: the id of the game depends on it, not on the block.
    /// @return disputeId The new game's id.
    function openDispute(
        CommitmentKey calldata key,
        bool demandInput,
        uint64 nonce
    ) external returns (bytes32 disputeId);

    /// @notice Opens a dispute on one leaf of a batch, posting the bond. With `demandInput`, the provider
    /// must first reveal the leaf's input bytes on-chain (refused once the batch was disclosed).
    /// @return disputeId The new game's id.
    function openLeafDispute(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf,
        bool demandInput,
        uint64 nonce
    ) external returns (bytes32 disputeId);

    /// @notice Provider: reveals the demanded input (`inDim(1)` bytes hashing to the input hash).
    function revealInput(DisputeParams calldata params, bytes calldata input) external;

    /// @notice Challenger: having re-executed the revealed input, goes on with the game. Not moving
    /// before the deadline ends the game with the bond refunded.
    function continueDispute(DisputeParams calldata params) external;

    /// @notice Provider: reveals the trace `s_0..s_L`: exactly L + 1 hashes, checked against the trace
    /// root, input and output hashes.
    function revealTrace(DisputeParams calldata params, bytes32[] calldata layerHashes) external;

    /// @notice Challenger: names the first layer (1..L) whose hash it disputes.
    function selectLayer(DisputeParams calldata params, uint16 layer) external;

    /// @notice Provider: reveals the selected layer's activation: exactly `outDim(layer)` bytes hashing to
    /// `s_layer` of the trace (passed again, checked against the trace root).
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

    /// @notice The game's challenger: stops playing a game whose target another game already overturned
    /// (or, for a leaf, whose whole batch was overturned by a failed disclosure); the bond is refunded and
    /// the game takes no part of the reward.
    function closeOverturned(DisputeParams calldata params) external;

    /// @notice Anyone: pays a ChallengerWon game its part of its target's reward pool once every game
    /// open on the target has ended (a game that ends last is paid at once).
    function claimReward(DisputeParams calldata params) external;

    /// @notice The state of a game.
    function gameOf(bytes32 disputeId) external view returns (GameState memory);

    /// @notice The reward pool of a target (`targetKeyOf`); zero until the target is overturned.
    function rewardPoolOf(bytes32 targetKey) external view returns (RewardPool memory);

    /// @notice The key of a game's target: the commitment id, or `keccak256(abi.encode(batchId, leafHash))`.
    function targetKeyOf(DisputeParams calldata params) external pure returns (bytes32);

    /// @notice The id of a game with these params.
    function disputeIdOf(DisputeParams calldata params) external pure returns (bytes32);

    /// @notice Bond a challenger posts to dispute a commitment of `modelId` now.
    function requiredBond(bytes32 modelId) external view returns (uint256);
}

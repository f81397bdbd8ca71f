// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IDisputeGame} from "./interfaces/IDisputeGame.sol";
import {IInferenceLedger} from "./interfaces/IInferenceLedger.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {DenseInt8} from "./libraries/DenseInt8.sol";
import {BatchHeader, Inference} from "./types/Commitment.sol";
import {DisputeParams, GameState, NeuronProof, Outcome, Phase} from "./types/Dispute.sol";
import {LayerSpec} from "./types/LayerSpec.sol";
import {DisputeTerms} from "./types/Model.sol";

/// @title DisputeGame
/// @notice One-step fraud proofs for `dense-int8-v1` inferences (docs/protocol.md, "Dispute game").
/// @dev Holds no tokens: bonds and stakes stay in the stake manager, which this contract drives through
/// its DISPUTE_ROLE. Per game it stores one slot (`GameState`); the immutable `DisputeParams` are
/// passed with every move and checked against the dispute id, their hash.
contract DisputeGame is IDisputeGame, AccessControl, Pausable, ReentrancyGuardTransient {
    /// @notice May pause new disputes (never moves, timeouts or withdrawals).
    bytes32 public constant GUARDIAN_ROLE = keccak256("verity.role.guardian");

    /// @notice `neuron` value of a `FraudProven` event for fraud proven by the shape of a vector or trace.
    uint32 public constant STRUCTURAL_FRAUD = type(uint32).max;

    /// @notice The model registry (policies and determinism profiles).
    IModelRegistry public immutable registry;
    /// @notice The ledger whose commitments this game disputes.
    IInferenceLedger public immutable ledger;
    /// @notice The vault holding stakes and bonds.
    IStakeManager public immutable stakeManager;

    mapping(bytes32 disputeId => GameState) private _games;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    constructor(address admin, IModelRegistry registry_, IInferenceLedger ledger_, IStakeManager stakeManager_) {
        if (
            admin == address(0) ||
            address(registry_) == address(0) ||
            address(ledger_) == address(0) ||
            address(stakeManager_) == address(0)
        ) revert DisputeGameZeroAddress();
        registry = registry_;
        ledger = ledger_;
        stakeManager = stakeManager_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
    }

    // ------------------------------------------------------------------ opening

    /// @inheritdoc IDisputeGame
    function openDispute(
        bytes32 commitmentId,
        bytes32 modelId,
        Inference calldata inference
    ) external whenNotPaused nonReentrant returns (bytes32) {
        return _openSingle(commitmentId, modelId, inference, Phase.AwaitingTrace);
    }

    /// @inheritdoc IDisputeGame
    function openDisputeWithInputDemand(
        bytes32 commitmentId,
        bytes32 modelId,
        Inference calldata inference
    ) external whenNotPaused nonReentrant returns (bytes32) {
        return _openSingle(commitmentId, modelId, inference, Phase.AwaitingInput);
    }

    /// @inheritdoc IDisputeGame
    function openLeafDispute(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf,
        bool demandInput
    ) external whenNotPaused nonReentrant returns (bytes32) {
        // The ledger checks the batch, the leaf's inclusion, the window and that the leaf is not overturned.
        (bytes32 batchId, ) = ledger.markLeafDisputeOpened(header, proof, leaf);
        Phase first = demandInput ? Phase.AwaitingInput : Phase.AwaitingTrace;
        return _open(batchId, true, header.modelId, header.provider, leaf, first);
    }

    // ------------------------------------------------------------------ moves

    /// @inheritdoc IDisputeGame
    function revealInput(DisputeParams calldata params, bytes calldata input) external {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingInput);
        bytes32 inputHash = keccak256(input);
        if (inputHash != params.inference.inputHash) {
            revert DisputeGameInputHashMismatch(params.inference.inputHash, inputHash);
        }
        uint48 deadline = _advance(game, Phase.InputRevealed, params.responseWindow);
        emit InputRevealed(id, input, deadline);
    }

    /// @inheritdoc IDisputeGame
    function continueDispute(DisputeParams calldata params) external {
        (bytes32 id, GameState storage game) = _move(params, Phase.InputRevealed);
        emit DisputeContinued(id, _advance(game, Phase.AwaitingTrace, params.responseWindow));
    }

    /// @inheritdoc IDisputeGame
    function revealTrace(DisputeParams calldata params, bytes32[] calldata layerHashes) external {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingTrace);
        uint256 length = layerHashes.length;
        if (length < 2 || length > uint256(type(uint16).max) + 1) revert DisputeGameInvalidTraceLength(length);
        _checkTrace(params, layerHashes);
        // INVARIANT: the trace a provider defends starts at its committed input and ends at its output.
        if (layerHashes[0] != params.inference.inputHash) {
            revert DisputeGameTraceInputMismatch(params.inference.inputHash, layerHashes[0]);
        }
        if (layerHashes[length - 1] != params.inference.outputHash) {
            revert DisputeGameTraceOutputMismatch(params.inference.outputHash, layerHashes[length - 1]);
        }
        game.numLayers = uint16(length - 1);
        emit TraceRevealed(id, layerHashes, _advance(game, Phase.AwaitingLayerSelection, params.responseWindow));
    }

    /// @inheritdoc IDisputeGame
    function selectLayer(DisputeParams calldata params, uint16 layer) external {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingLayerSelection);
        if (layer == 0 || layer > game.numLayers) revert DisputeGameInvalidLayer(layer, game.numLayers);
        game.layer = layer;
        emit LayerSelected(id, layer, _advance(game, Phase.AwaitingLayerReveal, params.responseWindow));
    }

    /// @inheritdoc IDisputeGame
    function revealLayer(
        DisputeParams calldata params,
        uint16 layer,
        bytes32[] calldata layerHashes,
        bytes calldata activation
    ) external {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingLayerReveal);
        if (layer != game.layer) revert DisputeGameUnexpectedLayer(layer, game.layer);
        _checkTrace(params, layerHashes);
        _checkActivation(layerHashes, layer, activation);
        emit LayerRevealed(id, layer, activation, _advance(game, Phase.AwaitingNeuronProof, params.responseWindow));
    }

    /// @inheritdoc IDisputeGame
    function proveNeuron(DisputeParams calldata params, NeuronProof calldata proof) external nonReentrant {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingNeuronProof);
        uint16 layer = game.layer;
        _checkTrace(params, proof.layerHashes);
        _checkActivation(proof.layerHashes, layer - 1, proof.input);
        _checkActivation(proof.layerHashes, layer, proof.output);
        bytes32 computedModel = DenseInt8.modelId(proof.weightsRoot, DenseInt8.graphHash(proof.graph));
        if (computedModel != params.modelId) revert DisputeGameModelMismatch(params.modelId, computedModel);

        // Fraud by shape: the provider's trace or revealed vectors cannot be an evaluation of this model.
        if (proof.graph.length != game.numLayers) {
            _proveStructural(id, game, params, layer);
            return;
        }
        LayerSpec calldata spec = proof.graph[layer - 1];
        // A spec out of bounds cannot be evaluated: serving such a model is the provider's fault (providers
        // validate model files before serving them).
        bool structural = !DenseInt8.isValidSpec(spec) || proof.output.length != spec.outDim;
        if (!structural && proof.input.length != spec.inDim) {
            // At layer 1 the vector is the committed input itself: a malformed input is the provider's fault.
            // Above it, the challenger accepted s_(l-1) and should have disputed that layer instead.
            if (layer != 1) revert DisputeGameInputLengthMismatch(spec.inDim, proof.input.length);
            structural = true;
        }
        if (structural) {
            _proveStructural(id, game, params, layer);
            return;
        }

        // Fraud by value: recompute neuron j of layer l from the challenger's (bound) inputs.
        if (proof.neuron >= spec.outDim) revert DisputeGameInvalidNeuron(proof.neuron, spec.outDim);
        if (!DenseInt8.verifyRow(proof.rowProof, proof.weightsRoot, layer, proof.neuron, proof.bias, proof.row)) {
            revert DisputeGameInvalidRowProof(layer, proof.neuron);
        }
        // A committed row of the wrong width makes the model impossible to evaluate: structural as above.
        if (proof.row.length != spec.inDim) {
            _proveStructural(id, game, params, layer);
            return;
        }
        int8 expected = DenseInt8.neuron(proof.input, proof.row, proof.bias, spec);
        int8 claimed = DenseInt8.at(proof.output, proof.neuron);
        if (expected == claimed) revert DisputeGameNeuronMatches(proof.neuron, claimed);
        emit FraudProven(id, layer, proof.neuron, expected, claimed);
        _resolve(id, game, params, Outcome.ChallengerWon);
    }

    // ------------------------------------------------------------------ endings

    /// @inheritdoc IDisputeGame
    function timeout(DisputeParams calldata params) external nonReentrant {
        (bytes32 id, GameState storage game) = _live(params);
        if (block.timestamp <= game.deadline) revert DisputeGameDeadlineNotPassed(id, game.deadline);
        Phase phase = game.phase;
        Outcome outcome;
        if (_providerMoves(phase)) {
            // A provider that cannot answer (no trace fitting its own commitment, no preimage of a layer
            // hash, no input) is treated as proven wrong.
            outcome = Outcome.ChallengerWon;
        } else if (phase == Phase.InputRevealed) {
            // The challenger saw the input and let the game lapse: the demand was answered, nobody lost.
            outcome = Outcome.Refunded;
        } else {
            outcome = Outcome.ProviderWon;
        }
        _resolve(id, game, params, outcome);
    }

    /// @inheritdoc IDisputeGame
    function closeOverturned(DisputeParams calldata params) external nonReentrant {
        (bytes32 id, GameState storage game) = _live(params);
        if (!_targetOverturned(params)) revert DisputeGameTargetNotOverturned(id);
        _resolve(id, game, params, Outcome.Refunded);
    }

    // ------------------------------------------------------------------ guardian

    /// @inheritdoc IDisputeGame
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IDisputeGame
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDisputeGame
    function gameOf(bytes32 disputeId) external view returns (GameState memory) {
        return _games[disputeId];
    }

    /// @inheritdoc IDisputeGame
    function disputeIdOf(DisputeParams calldata params) external pure returns (bytes32) {
        return keccak256(abi.encode(params));
    }

    /// @inheritdoc IDisputeGame
    function requiredBond(bytes32 modelId) external view returns (uint256) {
        return registry.policyOf(modelId).challengerBond;
    }

    // ------------------------------------------------------------------ internals

    function _openSingle(
        bytes32 commitmentId,
        bytes32 modelId,
        Inference calldata inference,
        Phase first
    ) private returns (bytes32) {
        // The ledger checks that the commitment exists, is inside its window and is not overturned.
        address provider = ledger.markDisputeOpened(commitmentId);
        // INVARIANT: a game is about exactly the committed inference of exactly this model.
        bytes32 computed = Commitments.commitmentId(
            provider,
            modelId,
            inference.inputHash,
            inference.outputHash,
            inference.traceRoot
        );
        if (computed != commitmentId) revert DisputeGameInferenceMismatch(commitmentId);
        return _open(commitmentId, false, modelId, provider, inference, first);
    }

    function _open(
        bytes32 target,
        bool isLeaf,
        bytes32 modelId,
        address provider,
        Inference calldata inference,
        Phase first
    ) private returns (bytes32 disputeId) {
        (DisputeTerms memory policy, bytes32 engineId) = registry.disputeTermsOf(modelId);
        if (engineId != DenseInt8.ENGINE_ID) revert DisputeGameUnsupportedEngine(modelId, engineId);
        // Locks the provider's stake, takes the bond, and reads the governed share to snapshot.
        uint16 share = stakeManager.openDisputeStake(provider, msg.sender, policy.challengerBond);
        // Policies are immutable per model version; the share is governed, so it is snapshotted here.
        DisputeParams memory params = DisputeParams({
            target: target,
            isLeaf: isLeaf,
            modelId: modelId,
            provider: provider,
            challenger: msg.sender,
            inference: inference,
            bond: policy.challengerBond,
            slashAmount: policy.slashAmount,
            responseWindow: policy.responseWindow,
            challengerShareBps: share,
            nonce: uint64(block.number)
        });
        disputeId = keccak256(abi.encode(params));
        // The nonce is the block number: one challenger opens at most one game per target per block.
        if (_games[disputeId].phase != Phase.None) revert DisputeGameDuplicate(disputeId);
        uint48 deadline = uint48(block.timestamp) + policy.responseWindow;
        _games[disputeId] = GameState({
            deadline: deadline,
            phase: first,
            outcome: Outcome.None,
            numLayers: 0,
            layer: 0
        });
        emit DisputeOpened(disputeId, target, msg.sender, params, first, deadline);
    }

    /// @dev Loads a live game for a move of `expected` phase by the party whose move it is, in time.
    function _move(
        DisputeParams calldata params,
        Phase expected
    ) private view returns (bytes32 id, GameState storage game) {
        (id, game) = _live(params);
        if (game.phase != expected) revert DisputeGameUnexpectedPhase(id, game.phase, expected);
        // INVARIANT: a move after its deadline never lands; the timeout decides instead.
        if (block.timestamp > game.deadline) revert DisputeGameDeadlinePassed(id, game.deadline);
        address mover = _providerMoves(expected) ? params.provider : params.challenger;
        if (msg.sender != mover) revert DisputeGameWrongParty(id, msg.sender, mover);
    }

    function _live(DisputeParams calldata params) private view returns (bytes32 id, GameState storage game) {
        id = keccak256(abi.encode(params));
        game = _games[id];
        if (game.phase == Phase.None) revert DisputeGameUnknownDispute(id);
        if (game.phase == Phase.Resolved) revert DisputeGameAlreadyResolved(id);
    }

    function _advance(GameState storage game, Phase next, uint32 window) private returns (uint48 deadline) {
        deadline = uint48(block.timestamp) + window;
        game.phase = next;
        game.deadline = deadline;
    }

    function _checkTrace(DisputeParams calldata params, bytes32[] calldata layerHashes) private pure {
        bytes32 root = DenseInt8.traceRoot(layerHashes);
        if (root != params.inference.traceRoot) revert DisputeGameTraceRootMismatch(params.inference.traceRoot, root);
    }

    function _checkActivation(bytes32[] calldata layerHashes, uint256 layer, bytes calldata vector) private pure {
        bytes32 actual = DenseInt8.hashVector(vector);
        if (actual != layerHashes[layer]) revert DisputeGameActivationMismatch(layer, layerHashes[layer], actual);
    }

    /// @dev Ends a game: closes it in the ledger, releases the stake lock, slashes on the first proven
    /// fraud, and credits the bond to the winner. State is final before any external call.
    function _resolve(bytes32 id, GameState storage game, DisputeParams calldata params, Outcome outcome) private {
        game.phase = Phase.Resolved;
        bool fraud = outcome == Outcome.ChallengerWon;
        bool newlyOverturned =
            params.isLeaf
                ? ledger.markLeafDisputeClosed(params.target, Commitments.leafHash(params.inference), fraud)
                : ledger.markDisputeClosed(params.target, fraud);
        // INVARIANT: an honest challenger never loses a bond to a provider whose commitment was overturned.
        if (outcome == Outcome.ProviderWon && _targetOverturned(params)) outcome = Outcome.Refunded;
        game.outcome = outcome;

        stakeManager.unlockStake(params.provider);
        uint256 slashed;
        // INVARIANT: a provider is slashed at most once per commitment (or leaf): only the first proof.
        if (newlyOverturned) {
            slashed = stakeManager.slash(
                params.provider,
                params.slashAmount,
                params.challenger,
                params.challengerShareBps
            );
        }
        stakeManager.releaseBond(outcome == Outcome.ProviderWon ? params.provider : params.challenger, params.bond);
        emit DisputeResolved(id, outcome, slashed);
    }

    function _targetOverturned(DisputeParams calldata params) private view returns (bool) {
        if (params.isLeaf) {
            return ledger.leafRecordOf(params.target, Commitments.leafHash(params.inference)).overturned;
        }
        return ledger.recordOf(params.target).overturned;
    }

    /// @dev Fraud shown by shape (a trace, vector or model row that cannot be an evaluation of the model).
    function _proveStructural(bytes32 id, GameState storage game, DisputeParams calldata params, uint16 layer) private {
        emit FraudProven(id, layer, STRUCTURAL_FRAUD, 0, 0);
        _resolve(id, game, params, Outcome.ChallengerWon);
    }

    function _providerMoves(Phase phase) private pure returns (bool) {
        return phase == Phase.AwaitingInput || phase == Phase.AwaitingTrace || phase == Phase.AwaitingLayerReveal;
    }
}

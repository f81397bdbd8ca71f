// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IDisputeGame} from "../interfaces/IDisputeGame.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStakeManager} from "../interfaces/IStakeManager.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {DenseInt8} from "../libraries/DenseInt8.sol";
import {RecordFlags} from "../libraries/RecordFlags.sol";
import {BatchHeader, CommitmentKey, Inference} from "../types/Commitment.sol";
import {DisputeParams, GameState, NeuronProof, Outcome, Phase, RewardPool} from "../types/Dispute.sol";
import {LayerSpec} from "../types/LayerSpec.sol";
import {DisputeTerms} from "../types/Model.sol";

/// @title DisputeGame
/// @notice One-step fraud proofs for `dense-int8-v1` inferences (docs/protocol.md, "Dispute game").
/// @dev Holds no tokens: bonds, stakes and escrowed rewards stay in the stake manager, which this contract
/// drives through its DISPUTE_ROLE. Per game it stores one slot (`GameState`) and, from the layer reveal
/// on, the hash of the two vectors the neuron proof must use; per overturned target one `RewardPool`
/// slot. The immutable `DisputeParams` are passed with every move and checked against the dispute id.
contract DisputeGame is IDisputeGame, AccessControl, ReentrancyGuardTransient {
    using RecordFlags for uint8;

    /// @notice `neuron` value of a `FraudProven` event for fraud proven by shape.
    uint32 public constant STRUCTURAL_FRAUD = type(uint32).max;

    /// @notice The model registry (policies and layer graphs).
    IModelRegistry public immutable registry;
    /// @notice The ledger whose commitments this game disputes.
    IInferenceLedger public immutable ledger;
    /// @notice The vault holding stakes, bonds and escrowed rewards.
    IStakeManager public immutable stakeManager;

    mapping(bytes32 disputeId => GameState) private _games;
    /// @dev `keccak256(abi.encode(s_(l-1), s_l))` of the selected layer, recorded at `revealLayer`.
    mapping(bytes32 disputeId => bytes32) private _vectors;
    mapping(bytes32 targetKey => RewardPool) private _pools;

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
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
    }

    // ------------------------------------------------------------------ opening

    /// @inheritdoc IDisputeGame
    function openDispute(
        CommitmentKey calldata key,
        bool demandInput,
        uint64 nonce
    ) external nonReentrant returns (bytes32) {
        // The id binds the provider and the inference; the ledger checks that it exists, is inside its
        // window and is not overturned.
        bytes32 id = Commitments.commitmentId(key);
        (address provider, uint8 flags) = ledger.markDisputeOpened(id);
        if (demandInput && flags.has(RecordFlags.INPUT_PUBLIC)) revert DisputeGameInputAlreadyPublic(id);
        return _open(id, false, key.modelId, provider, key.inference, demandInput, nonce);
    }

    /// @inheritdoc IDisputeGame
    function openLeafDispute(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf,
        bool demandInput,
        uint64 nonce
    ) external nonReentrant returns (bytes32) {
        // The ledger checks the batch, the leaf's inclusion, the window and that neither is overturned.
        (bytes32 batchId, , uint8 flags) = ledger.markLeafDisputeOpened(header, proof, leaf);
        if (demandInput && flags.has(RecordFlags.DISCLOSED)) revert DisputeGameInputAlreadyPublic(batchId);
        return _open(batchId, true, header.modelId, header.provider, leaf, demandInput, nonce);
    }

    // ------------------------------------------------------------------ moves

    /// @inheritdoc IDisputeGame
    function revealInput(DisputeParams calldata params, bytes calldata input) external {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingInput);
        (LayerSpec memory first, ) = registry.layerOf(params.modelId, 1);
        if (input.length != first.inDim) revert DisputeGameInputLengthMismatch(first.inDim, input.length);
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
        _checkTrace(params, layerHashes);
        // INVARIANT: the trace a provider defends starts at its committed input and ends at its output.
        if (layerHashes[0] != params.inference.inputHash) {
            revert DisputeGameTraceInputMismatch(params.inference.inputHash, layerHashes[0]);
        }
        uint256 last = layerHashes.length - 1;
        if (layerHashes[last] != params.inference.outputHash) {
            revert DisputeGameTraceOutputMismatch(params.inference.outputHash, layerHashes[last]);
        }
        emit TraceRevealed(id, layerHashes, _advance(game, Phase.AwaitingLayerSelection, params.responseWindow));
    }

    /// @inheritdoc IDisputeGame
    function selectLayer(DisputeParams calldata params, uint16 layer) external {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingLayerSelection);
        if (layer == 0 || layer > params.numLayers) revert DisputeGameInvalidLayer(layer, params.numLayers);
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
        (LayerSpec memory spec, ) = registry.layerOf(params.modelId, layer);
        // INVARIANT: a revealed vector has exactly its layer's width, so no proof depends on its length.
        if (activation.length != spec.outDim) {
            revert DisputeGameActivationLengthMismatch(layer, spec.outDim, activation.length);
        }
        bytes32 actual = keccak256(activation);
        if (actual != layerHashes[layer]) revert DisputeGameActivationMismatch(layer, layerHashes[layer], actual);
        _vectors[id] = keccak256(abi.encode(layerHashes[layer - 1], actual));
        emit LayerRevealed(id, layer, activation, _advance(game, Phase.AwaitingNeuronProof, params.responseWindow));
    }

    /// @inheritdoc IDisputeGame
    function proveNeuron(DisputeParams calldata params, NeuronProof calldata proof) external nonReentrant {
        (bytes32 id, GameState storage game) = _move(params, Phase.AwaitingNeuronProof);
        uint16 layer = game.layer;
        bytes32 vectors = keccak256(abi.encode(keccak256(proof.input), keccak256(proof.output)));
        if (vectors != _vectors[id]) revert DisputeGameVectorsMismatch(_vectors[id], vectors);
        (LayerSpec memory spec, bytes32 weightsRoot) = registry.layerOf(params.modelId, layer);

        if (proof.input.length != spec.inDim) {
            // At layer 1 the vector is the committed input itself: a malformed input is the provider's fault.
            // Above it, the challenger accepted s_(l-1) and should have disputed that layer instead.
            if (layer != 1) revert DisputeGamePreviousLengthMismatch(spec.inDim, proof.input.length);
            _proveStructural(id, game, params, layer);
            return;
        }
        // Fraud by value: recompute neuron j of layer l from the challenger's (bound) inputs.
        if (proof.neuron >= spec.outDim) revert DisputeGameInvalidNeuron(proof.neuron, spec.outDim);
        if (!DenseInt8.verifyRow(proof.rowProof, weightsRoot, layer, proof.neuron, proof.bias, proof.row)) {
            revert DisputeGameInvalidRowProof(layer, proof.neuron);
        }
        // A committed row of the wrong width makes the model impossible to evaluate: serving it is the
        // provider's fault (providers serve only models whose file rebuilds the registered roots).
        if (proof.row.length != spec.inDim) {
            _proveStructural(id, game, params, layer);
            return;
        }
        int8 expected = DenseInt8.neuron(proof.input, proof.row, proof.bias, spec);
        int8 claimed = DenseInt8.at(proof.output, proof.neuron);
        if (expected == claimed) revert DisputeGameNeuronMatches(proof.neuron, claimed);
        emit FraudProven(id, layer, proof.neuron, expected, claimed);
        _resolve(id, game, params, Outcome.ChallengerWon, true);
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
            // hash, no input of the right length) is treated as proven wrong.
            outcome = Outcome.ChallengerWon;
        } else if (phase == Phase.InputRevealed) {
            // The challenger saw the input and let the game lapse: the demand was answered, nobody lost.
            outcome = Outcome.Refunded;
        } else {
            outcome = Outcome.ProviderWon;
        }
        _resolve(id, game, params, outcome, false);
    }

    /// @inheritdoc IDisputeGame
    function closeOverturned(DisputeParams calldata params) external nonReentrant {
        (bytes32 id, GameState storage game) = _live(params);
        // Only the challenger may give up its own part of the reward.
        if (msg.sender != params.challenger) revert DisputeGameWrongParty(id, msg.sender, params.challenger);
        if (!_pools[_targetKey(params)].overturned && !_batchOverturned(params)) {
            revert DisputeGameTargetNotOverturned(id);
        }
        _resolve(id, game, params, Outcome.Refunded, false);
    }

    /// @inheritdoc IDisputeGame
    function claimReward(DisputeParams calldata params) external nonReentrant {
        bytes32 id = keccak256(abi.encode(params));
        GameState storage game = _games[id];
        if (game.outcome != Outcome.ChallengerWon || game.rewardPaid) revert DisputeGameNoReward(id);
        RewardPool storage pool = _pools[_targetKey(params)];
        if (pool.pending != 0) revert DisputeGameRewardPending(id, pool.pending);
        stakeManager.releaseBond(params.challenger, _takeReward(id, game, pool, params.challenger));
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDisputeGame
    function gameOf(bytes32 disputeId) external view returns (GameState memory) {
        return _games[disputeId];
    }

    /// @inheritdoc IDisputeGame
    function rewardPoolOf(bytes32 targetKey) external view returns (RewardPool memory) {
        return _pools[targetKey];
    }

    /// @inheritdoc IDisputeGame
    function targetKeyOf(DisputeParams calldata params) external pure returns (bytes32) {
        return _targetKey(params);
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

    function _open(
        bytes32 target,
        bool isLeaf,
        bytes32 modelId,
        address provider,
        Inference calldata inference,
        bool demandInput,
        uint64 nonce
    ) private returns (bytes32 disputeId) {
        DisputeTerms memory terms = registry.disputeTermsOf(modelId);
        if (terms.numLayers == 0) revert DisputeGameUnsupportedModel(modelId);
        // Locks the provider's stake, takes the bond, and reads the governed share to snapshot.
        uint16 share = stakeManager.openDisputeStake(provider, msg.sender, terms.challengerBond);
        // Policies are immutable per model version; the share is governed, so it is snapshotted here.
        DisputeParams memory params = DisputeParams({
            target: target,
            isLeaf: isLeaf,
            modelId: modelId,
            provider: provider,
            challenger: msg.sender,
            inference: inference,
            bond: terms.challengerBond,
            slashAmount: terms.slashAmount,
            responseWindow: terms.responseWindow,
            challengerShareBps: share,
            numLayers: terms.numLayers,
            nonce: nonce
        });
        disputeId = keccak256(abi.encode(params));
        if (_games[disputeId].phase != Phase.None) revert DisputeGameDuplicate(disputeId);
        Phase first = demandInput ? Phase.AwaitingInput : Phase.AwaitingTrace;
        uint48 deadline = uint48(block.timestamp) + terms.responseWindow;
        _games[disputeId] = GameState({
            deadline: deadline,
            phase: first,
            outcome: Outcome.None,
            layer: 0,
            rewardPaid: false
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

    /// @dev The trace has exactly L + 1 hashes and fits the committed trace root.
    function _checkTrace(DisputeParams calldata params, bytes32[] calldata layerHashes) private pure {
        uint256 expected = uint256(params.numLayers) + 1;
        if (layerHashes.length != expected) revert DisputeGameInvalidTraceLength(layerHashes.length, expected);
        bytes32 root = DenseInt8.traceRoot(layerHashes);
        if (root != params.inference.traceRoot) revert DisputeGameTraceRootMismatch(params.inference.traceRoot, root);
    }

    /// @dev Ends a game: closes it in the ledger and releases the stake lock. The first proven fraud slashes
    /// and escrows the challengers' share for every game open on the target; each game that ends
    /// ChallengerWon after it joins the winners. Bonds go back to the winner (to the challenger on
    /// Refunded), with the game's reward once the pool is settled. State is final before any transfer.
    /// `proven`: the challenger won by a proof (not by the provider's silence).
    function _resolve(
        bytes32 id,
        GameState storage game,
        DisputeParams calldata params,
        Outcome outcome,
        bool proven
    ) private {
        game.phase = Phase.Resolved;
        bool won = outcome == Outcome.ChallengerWon;
        (bool newlyOverturned, uint24 stillOpen) = params.isLeaf
            ? ledger.markLeafDisputeClosed(params.target, Commitments.leafHash(params.inference), won, proven)
            : ledger.markDisputeClosed(params.target, won, proven);
        bytes32 key = _targetKey(params);
        RewardPool storage pool = _pools[key];
        uint256 slashed;
        uint256 reward;
        if (newlyOverturned) {
            // INVARIANT: a provider is slashed at most once per commitment (or leaf): only the first proof.
            // An answer to an oracle request also compensates its requester (held until the oracle reopens it).
            bytes32 harmed =
                !params.isLeaf && ledger.recordOf(params.target).flags.has(RecordFlags.REQUESTED)
                    ? params.target
                    : bytes32(0);
            (slashed, reward, ) = stakeManager.slashCompensating(
                params.provider,
                params.slashAmount,
                params.challengerShareBps,
                harmed
            );
            emit RewardEscrowed(key, reward, stillOpen);
            if (stillOpen != 0) {
                // Other games are open: they run on, and the reward waits for them (no game can open now).
                _pools[key] = RewardPool({
                    overturned: true,
                    amount: uint96(reward),
                    pending: stillOpen,
                    winners: 1,
                    paid: 0
                });
                reward = 0;
            } else {
                // The only game on the target: it takes the whole reward now, and no pool is kept.
                game.rewardPaid = true;
                emit RewardPaid(id, params.challenger, reward);
            }
        } else if (pool.overturned) {
            // A game that was open when another overturned the target: it shares the reward if it wins.
            pool.pending -= 1;
            if (won)
                pool.winners += 1;
                // INVARIANT: an honest challenger never loses a bond to a provider whose commitment was overturned.
            else if (outcome == Outcome.ProviderWon) outcome = Outcome.Refunded;
        } else if (outcome == Outcome.ProviderWon && _batchOverturned(params)) {
            // The leaf's whole batch was overturned (its disclosure failed): the same holds for its games.
            outcome = Outcome.Refunded;
        }
        game.outcome = outcome;
        emit DisputeResolved(id, outcome, slashed);

        stakeManager.unlockStake(params.provider);
        if (outcome == Outcome.ProviderWon) {
            stakeManager.releaseBond(params.provider, params.bond);
        } else {
            // The game that ends a pool's wait and wins is paid at once; earlier winners claim.
            if (won && !game.rewardPaid && pool.overturned && pool.pending == 0) {
                reward = _takeReward(id, game, pool, params.challenger);
            }
            stakeManager.releaseBond(params.challenger, params.bond + reward);
        }
    }

    /// @dev Marks a winner paid and returns its part: `amount / winners`, the last paid taking the remainder.
    function _takeReward(
        bytes32 id,
        GameState storage game,
        RewardPool storage pool,
        address challenger
    ) private returns (uint256 part) {
        uint256 winners = pool.winners;
        uint24 paid = pool.paid + 1;
        part = pool.amount / winners;
        if (paid == winners) part = pool.amount - part * (winners - 1);
        pool.paid = paid;
        game.rewardPaid = true;
        emit RewardPaid(id, challenger, part);
    }

    /// @dev Fraud shown by shape: a malformed committed input, or a model row that cannot be evaluated.
    function _proveStructural(bytes32 id, GameState storage game, DisputeParams calldata params, uint16 layer) private {
        emit FraudProven(id, layer, STRUCTURAL_FRAUD, 0, 0);
        _resolve(id, game, params, Outcome.ChallengerWon, true);
    }

    /// @dev Whether a leaf game's whole batch is overturned (by a failed disclosure, not by this contract).
    function _batchOverturned(DisputeParams calldata params) private view returns (bool) {
        return params.isLeaf && ledger.recordOf(params.target).flags.has(RecordFlags.OVERTURNED);
    }

    function _targetKey(DisputeParams calldata params) private pure returns (bytes32) {
        return
            params.isLeaf ? Commitments.leafId(params.target, Commitments.leafHash(params.inference)) : params.target;
    }

    function _providerMoves(Phase phase) private pure returns (bool) {
        return phase == Phase.AwaitingInput || phase == Phase.AwaitingTrace || phase == Phase.AwaitingLayerReveal;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IEnvironmentRegistry} from "../interfaces/IEnvironmentRegistry.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {DenseInt8} from "../libraries/DenseInt8.sol";
import {GasBounds} from "../libraries/GasBounds.sol";
import {PolicyBounds} from "../libraries/PolicyBounds.sol";
import {LayerSpec} from "../types/LayerSpec.sol";
import {EnvironmentStatus, TeeMode} from "../types/Environment.sol";
import {
    CommitTerms,
    DisputeTerms,
    ModelPolicy,
    ModelSpec,
    ModelStatus,
    ProofTerms,
    TeeTerms,
    VerifierInfo
} from "../types/Model.sol";

/// @title ModelRegistry
/// @notice Publisher-bound model versions with a lifecycle, a policy and (for `dense-int8-v1`) their
/// validated layer graph.
/// @dev Every lifecycle change is mirrored into the ledger's admission cache in the same transaction.
contract ModelRegistry is IModelRegistry, AccessControl {
    using EnumerableSet for EnumerableSet.Bytes32Set;

    /// @notice May revoke any model (for example a malicious publisher's) and set the reference gas price.
    bytes32 public constant GOVERNOR_ROLE = keccak256("verity.role.governor");

    /// @notice The ledger whose admission cache this registry writes.
    IInferenceLedger public immutable ledger;

    /// @inheritdoc IModelRegistry
    uint256 public referenceGasPrice;

    /// @dev Storage layout of a model version, arranged for its hot readers: a dispute opening reads
    /// slot 1 (`disputeTermsOf`); a neuron proof reads one layer and `weightsRoot`.
    struct StoredModel {
        // slot 0: 160 + 48 + 48
        address publisher;
        uint48 registeredAt;
        uint48 acceptsUntil;
        // slot 1: 8 + 32 + 96 + 96 + 16 = 248 (the DisputeTerms and the status)
        ModelStatus status;
        uint32 responseWindow;
        uint96 challengerBond;
        uint96 slashAmount;
        uint16 numLayers;
        // slot 2: 32 + 96 + 32 + 32 + 16 + 8 + 32 + 8 = 256
        uint32 challengeWindow;
        uint96 minStake;
        uint32 version;
        uint32 inputDim;
        uint16 maxBatchLeaves;
        TeeMode teeMode;
        uint32 teeWindow;
        bool proofAccepted;
        bytes32 weightsRoot;
        bytes32 graphHash;
        bytes32 engineId;
        bytes32 predecessor;
        bytes32 successor;
        string metadataURI;
    }

    mapping(bytes32 modelId => StoredModel) private _models;
    mapping(bytes32 modelId => LayerSpec[]) private _layers;
    mapping(bytes32 modelId => EnumerableSet.Bytes32Set) private _environments;
    /// @dev The model's approved verifier, or its last revoked one until another is approved.
    mapping(bytes32 modelId => address) private _verifierOf;
    mapping(address verifier => VerifierInfo) private _verifiers;
    mapping(uint24 serial => address) private _verifierBySerial;
    /// @dev Serials handed out so far (the last one).
    uint24 private _verifierCount;

    /// @notice Most environments one model may allow at a time (bounds `environmentsOf`).
    uint256 public constant MAX_ENVIRONMENTS_PER_MODEL = 32;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE (use a timelock in production).
    /// @param ledger_ The inference ledger; it must bind this registry with `bindSources`.
    /// @param referenceGasPrice_ Token base units one unit of gas is worth (bonds are checked against it).
    constructor(address admin, IInferenceLedger ledger_, uint256 referenceGasPrice_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        ledger = ledger_;
        _setReferenceGasPrice(referenceGasPrice_);
    }

    /// @inheritdoc IModelRegistry
    function registerModel(ModelSpec calldata spec, ModelPolicy calldata policy) external returns (bytes32 modelId) {
        return _register(bytes32(0), 1, spec, policy);
    }

    /// @inheritdoc IModelRegistry
    function registerVersion(
        bytes32 predecessor,
        ModelSpec calldata spec,
        ModelPolicy calldata policy
    ) external returns (bytes32 modelId) {
        StoredModel storage previous = _existing(predecessor);
        if (previous.publisher != msg.sender) revert ModelRegistryNotPublisher(predecessor, msg.sender);
        // INVARIANT: a version chain is a list, never a tree: `latestVersion` is unambiguous.
        if (previous.successor != bytes32(0)) revert ModelRegistryAlreadySucceeded(predecessor, previous.successor);
        modelId = _register(predecessor, previous.version + 1, spec, policy);
        previous.successor = modelId;
    }

    /// @inheritdoc IModelRegistry
    function deprecateModel(bytes32 modelId, uint32 gracePeriod) external {
        StoredModel storage model = _existing(modelId);
        if (model.publisher != msg.sender) revert ModelRegistryNotPublisher(modelId, msg.sender);
        if (model.status == ModelStatus.Revoked) revert ModelRegistryModelRevoked(modelId);
        if (model.status == ModelStatus.Deprecated) revert ModelRegistryAlreadyDeprecated(modelId);
        if (gracePeriod > PolicyBounds.MAX_DEPRECATION_GRACE) {
            revert ModelRegistryInvalidGracePeriod(gracePeriod, PolicyBounds.MAX_DEPRECATION_GRACE);
        }
        uint48 acceptsUntil = uint48(block.timestamp) + gracePeriod;
        model.status = ModelStatus.Deprecated;
        model.acceptsUntil = acceptsUntil;
        emit ModelDeprecated(modelId, acceptsUntil);
        _sync(modelId, model);
    }

    /// @inheritdoc IModelRegistry
    function revokeModel(bytes32 modelId) external {
        StoredModel storage model = _existing(modelId);
        if (model.publisher != msg.sender && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert ModelRegistryNotPublisher(modelId, msg.sender);
        }
        if (model.status == ModelStatus.Revoked) revert ModelRegistryModelRevoked(modelId);
        model.status = ModelStatus.Revoked;
        model.acceptsUntil = uint48(block.timestamp);
        emit ModelRevoked(modelId, msg.sender);
        _sync(modelId, model);
    }

    /// @inheritdoc IModelRegistry
    function allowEnvironment(bytes32 modelId, bytes32 environment) external {
        StoredModel storage model = _governed(modelId);
        if (model.teeMode == TeeMode.None) revert ModelRegistryTeeNotAccepted(modelId);
        address environments = ledger.environments();
        if (environments == address(0)) revert ModelRegistryNoEnvironmentRegistry();
        if (IEnvironmentRegistry(environments).environmentOf(environment).status != EnvironmentStatus.Approved) {
            revert ModelRegistryEnvironmentNotApproved(environment);
        }
        EnumerableSet.Bytes32Set storage set = _environments[modelId];
        if (set.length() >= MAX_ENVIRONMENTS_PER_MODEL) {
            revert ModelRegistryTooManyEnvironments(modelId, MAX_ENVIRONMENTS_PER_MODEL);
        }
        if (!set.add(environment)) revert ModelRegistryEnvironmentAllowed(modelId, environment);
        emit EnvironmentAllowed(modelId, environment, msg.sender);
        ledger.syncTeeTerms(modelId, environment, TeeTerms({mode: model.teeMode, window: model.teeWindow}));
    }

    /// @inheritdoc IModelRegistry
    function disallowEnvironment(bytes32 modelId, bytes32 environment) external {
        _governed(modelId);
        if (!_environments[modelId].remove(environment))
            revert ModelRegistryEnvironmentNotAllowed(modelId, environment);
        emit EnvironmentDisallowed(modelId, environment, msg.sender);
        ledger.syncTeeTerms(modelId, environment, TeeTerms({mode: TeeMode.None, window: 0}));
    }

    /// @inheritdoc IModelRegistry
    function approveVerifier(bytes32 modelId, address verifier) external onlyRole(GOVERNOR_ROLE) {
        StoredModel storage model = _existing(modelId);
        if (!model.proofAccepted) revert ModelRegistryProofNotAccepted(modelId);
        if (model.status == ModelStatus.Revoked) revert ModelRegistryModelRevoked(modelId);
        // INVARIANT: a serial names one verifier for good, so a proven record's serial never changes meaning.
        if (_verifiers[verifier].serial != 0) revert ModelRegistryVerifierKnown(verifier);
        address current = _verifierOf[modelId];
        if (current != address(0) && _verifiers[current].revokedAt == 0) {
            revert ModelRegistryVerifierPaired(modelId, current);
        }
        if (verifier.code.length == 0) revert ModelRegistryNotVerifier(verifier);
        bytes32 served;
        try IInferenceVerifier(verifier).modelId() returns (bytes32 id) {
            served = id;
        } catch {
            revert ModelRegistryNotVerifier(verifier);
        }
        if (served != modelId) revert ModelRegistryVerifierModelMismatch(verifier, modelId, served);
        uint24 serial = ++_verifierCount;
        _verifiers[verifier] = VerifierInfo({
            modelId: modelId,
            serial: serial,
            approvedAt: uint48(block.timestamp),
            revokedAt: 0
        });
        _verifierBySerial[serial] = verifier;
        _verifierOf[modelId] = verifier;
        emit VerifierApproved(modelId, verifier, serial);
        ledger.syncProofTerms(modelId, ProofTerms({verifier: verifier, serial: serial, accepted: true, revokedAt: 0}));
    }

    /// @inheritdoc IModelRegistry
    function revokeVerifier(address verifier) external onlyRole(GOVERNOR_ROLE) {
        VerifierInfo storage info = _verifiers[verifier];
        if (info.serial == 0) revert ModelRegistryUnknownVerifier(verifier);
        if (info.revokedAt != 0) revert ModelRegistryVerifierAlreadyRevoked(verifier, info.revokedAt);
        info.revokedAt = uint48(block.timestamp);
        emit VerifierRevoked(info.modelId, verifier, info.serial);
        // Pending uses stop at once: the ledger's next commitVerified of the model finds the verifier revoked.
        ledger.syncProofTerms(
            info.modelId,
            ProofTerms({verifier: verifier, serial: info.serial, accepted: true, revokedAt: info.revokedAt})
        );
    }

    /// @inheritdoc IModelRegistry
    function verifierOf(bytes32 modelId) external view returns (address verifier, VerifierInfo memory info) {
        verifier = _verifierOf[modelId];
        info = _verifiers[verifier];
    }

    /// @inheritdoc IModelRegistry
    function verifierInfoOf(address verifier) external view returns (VerifierInfo memory) {
        return _verifiers[verifier];
    }

    /// @inheritdoc IModelRegistry
    function verifierBySerial(uint24 serial) external view returns (address verifier, VerifierInfo memory info) {
        verifier = _verifierBySerial[serial];
        info = _verifiers[verifier];
    }

    /// @inheritdoc IModelRegistry
    function setReferenceGasPrice(uint256 price) external onlyRole(GOVERNOR_ROLE) {
        _setReferenceGasPrice(price);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IModelRegistry
    function getModel(bytes32 modelId) external view returns (Model memory) {
        StoredModel storage m = _existing(modelId);
        return
            Model({
                publisher: m.publisher,
                registeredAt: m.registeredAt,
                acceptsUntil: m.acceptsUntil,
                status: m.status,
                version: m.version,
                contentHash: computeContentHash(m.weightsRoot, m.graphHash, m.engineId),
                weightsRoot: m.weightsRoot,
                graphHash: m.graphHash,
                engineId: m.engineId,
                predecessor: m.predecessor,
                successor: m.successor,
                optimistic: m.numLayers != 0,
                maxBatchLeaves: m.maxBatchLeaves,
                policy: _policy(m),
                metadataURI: m.metadataURI
            });
    }

    /// @inheritdoc IModelRegistry
    function environmentsOf(bytes32 modelId) external view returns (bytes32[] memory) {
        return _environments[modelId].values();
    }

    /// @inheritdoc IModelRegistry
    function isEnvironmentAllowed(bytes32 modelId, bytes32 environment) external view returns (bool) {
        return _environments[modelId].contains(environment);
    }

    /// @inheritdoc IModelRegistry
    function policyOf(bytes32 modelId) external view returns (ModelPolicy memory) {
        return _policy(_existing(modelId));
    }

    /// @inheritdoc IModelRegistry
    function layersOf(bytes32 modelId) external view returns (LayerSpec[] memory) {
        _existing(modelId);
        return _layers[modelId];
    }

    /// @inheritdoc IModelRegistry
    function layerOf(
        bytes32 modelId,
        uint256 layer
    ) external view returns (LayerSpec memory spec, bytes32 weightsRoot) {
        LayerSpec[] storage layers = _layers[modelId];
        if (layer == 0 || layer > layers.length) revert ModelRegistryUnknownLayer(modelId, layer);
        return (layers[layer - 1], _models[modelId].weightsRoot);
    }

    /// @inheritdoc IModelRegistry
    function disputeTermsOf(bytes32 modelId) external view returns (DisputeTerms memory) {
        StoredModel storage m = _existing(modelId);
        return DisputeTerms(m.responseWindow, m.challengerBond, m.slashAmount, m.numLayers);
    }

    /// @inheritdoc IModelRegistry
    function gasBoundsOf(
        bytes32 modelId
    ) external view returns (uint256 worstHonestMove, uint256 providerGame, uint256 challengerGame) {
        _existing(modelId);
        LayerSpec[] memory layers = _layers[modelId];
        if (layers.length == 0) return (0, 0, 0);
        return GasBounds.ofModel(layers);
    }

    /// @inheritdoc IModelRegistry
    function statusOf(bytes32 modelId) external view returns (ModelStatus) {
        return _models[modelId].status;
    }

    /// @inheritdoc IModelRegistry
    function acceptsCommitments(bytes32 modelId) external view returns (bool) {
        StoredModel storage m = _models[modelId];
        return m.numLayers != 0 && block.timestamp < m.acceptsUntil;
    }

    /// @inheritdoc IModelRegistry
    function latestVersion(bytes32 modelId) external view returns (bytes32 latest) {
        latest = modelId;
        _existing(latest);
        for (bytes32 next = _models[latest].successor; next != bytes32(0); next = _models[latest].successor) {
            latest = next;
        }
    }

    /// @inheritdoc IModelRegistry
    function computeContentHash(
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(weightsRoot, graphHash, engineId));
    }

    /// @inheritdoc IModelRegistry
    function computeModelId(address publisher, bytes32 contentHash) public pure returns (bytes32) {
        return keccak256(abi.encode(publisher, contentHash));
    }

    // ------------------------------------------------------------------ internals

    function _register(
        bytes32 predecessor,
        uint32 version,
        ModelSpec calldata spec,
        ModelPolicy calldata policy
    ) private returns (bytes32 modelId) {
        if (spec.weightsRoot == bytes32(0) || spec.engineId == bytes32(0)) revert ModelRegistryZeroHash();
        bool dense = spec.engineId == DenseInt8.ENGINE_ID;
        bytes32 graphHash = _graphHash(spec, dense);
        _checkPolicy(policy);
        // Bounds that make every game on the model playable and worth playing (docs/protocol.md, "Policy").
        uint16 maxBatchLeaves = uint16(PolicyBounds.MAX_BATCH_LEAVES);
        if (dense) maxBatchLeaves = _checkGame(spec.layers, policy.challengerBond);

        bytes32 contentHash = computeContentHash(spec.weightsRoot, graphHash, spec.engineId);
        modelId = computeModelId(msg.sender, contentHash);
        StoredModel storage model = _models[modelId];
        if (model.status != ModelStatus.None) revert ModelRegistryAlreadyRegistered(modelId);

        model.publisher = msg.sender;
        model.registeredAt = uint48(block.timestamp);
        model.acceptsUntil = type(uint48).max;
        model.status = ModelStatus.Active;
        model.version = version;
        model.weightsRoot = spec.weightsRoot;
        model.graphHash = graphHash;
        model.engineId = spec.engineId;
        model.predecessor = predecessor;
        model.challengeWindow = policy.challengeWindow;
        model.responseWindow = policy.responseWindow;
        model.minStake = policy.minStake;
        model.slashAmount = policy.slashAmount;
        model.challengerBond = policy.challengerBond;
        model.teeMode = policy.teeMode;
        model.teeWindow = policy.teeWindow;
        model.proofAccepted = policy.proofAccepted;
        model.maxBatchLeaves = maxBatchLeaves;
        model.metadataURI = spec.metadataURI;
        if (dense) {
            model.numLayers = uint16(spec.layers.length);
            model.inputDim = spec.layers[0].inDim;
            LayerSpec[] storage stored = _layers[modelId];
            for (uint256 i; i < spec.layers.length; ++i) stored.push(spec.layers[i]);
        }

        // The ledger names a refusal without calling back: it must know whether the policy accepts proofs.
        if (policy.proofAccepted) {
            ledger.syncProofTerms(modelId, ProofTerms({verifier: address(0), serial: 0, accepted: true, revokedAt: 0}));
        }
        emit ModelRegistered(
            modelId,
            msg.sender,
            contentHash,
            predecessor,
            version,
            spec.weightsRoot,
            graphHash,
            spec.engineId,
            policy,
            spec.metadataURI
        );
        _sync(modelId, model);
    }

    /// @dev `dense-int8-v1`: validates the layers (count, bounds, chaining) and returns their hash; a given
    /// graph hash must match it. Other engines: no layers, a non-zero opaque graph hash.
    function _graphHash(ModelSpec calldata spec, bool dense) private pure returns (bytes32 graphHash) {
        if (!dense) {
            if (spec.layers.length != 0) revert ModelRegistryLayersForOpaqueEngine(spec.engineId);
            if (spec.graphHash == bytes32(0)) revert ModelRegistryZeroHash();
            return spec.graphHash;
        }
        DenseInt8.validateGraph(spec.layers);
        graphHash = DenseInt8.graphHash(spec.layers);
        if (spec.graphHash != bytes32(0) && spec.graphHash != graphHash) {
            revert ModelRegistryGraphHashMismatch(spec.graphHash, graphHash);
        }
    }

    /// @dev Checks the gas bound of every honest move and that the bond pays for either side's game at
    /// the reference gas price; returns the model's batch limit.
    function _checkGame(LayerSpec[] calldata layers, uint96 bond) private view returns (uint16) {
        (uint256 worst, uint256 providerGame, uint256 challengerGame) = GasBounds.ofModel(layers);
        if (worst > PolicyBounds.MAX_HONEST_MOVE_GAS) {
            revert ModelRegistryGasBoundExceeded(worst, PolicyBounds.MAX_HONEST_MOVE_GAS);
        }
        uint256 minBond = (providerGame > challengerGame ? providerGame : challengerGame) * referenceGasPrice;
        if (bond < minBond) revert ModelRegistryBondBelowGasCost(bond, minBond);
        return uint16(GasBounds.maxBatchLeaves(layers[0].inDim));
    }

    /// @dev Writes the ledger's admission cache; the ledger only accepts it from this registry. A model
    /// no game can settle is cached with `acceptsUntil = 0`: the ledger's hot path refuses it by that alone.
    function _sync(bytes32 modelId, StoredModel storage model) private {
        // Times past the year 36812 are clamped (the registry's "never" is type(uint48).max).
        uint40 acceptsUntil = model.acceptsUntil > type(uint40).max ? type(uint40).max : uint40(model.acceptsUntil);
        ledger.syncCommitTerms(
            modelId,
            CommitTerms({
                minStake: model.minStake,
                challengeWindow: model.challengeWindow,
                optimisticUntil: model.numLayers != 0 ? acceptsUntil : 0,
                acceptsUntil: acceptsUntil,
                status: model.status,
                inputDim: uint24(model.inputDim),
                maxBatchLeaves: model.maxBatchLeaves
            })
        );
    }

    function _policy(StoredModel storage m) private view returns (ModelPolicy memory) {
        return
            ModelPolicy(
                m.challengeWindow,
                m.responseWindow,
                m.minStake,
                m.slashAmount,
                m.challengerBond,
                m.teeMode,
                m.teeWindow,
                m.proofAccepted
            );
    }

    /// @dev A model its publisher or a governor may change the environment set of.
    function _governed(bytes32 modelId) private view returns (StoredModel storage model) {
        model = _existing(modelId);
        if (model.publisher != msg.sender && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert ModelRegistryNotPublisher(modelId, msg.sender);
        }
    }

    function _existing(bytes32 modelId) private view returns (StoredModel storage model) {
        model = _models[modelId];
        if (model.status == ModelStatus.None) revert ModelRegistryUnknownModel(modelId);
    }

    function _setReferenceGasPrice(uint256 price) private {
        if (price == 0) revert ModelRegistryInvalidGasPrice();
        referenceGasPrice = price;
        emit ReferenceGasPriceUpdated(price);
    }

    function _checkPolicy(ModelPolicy calldata policy) private pure {
        if (
            policy.challengeWindow < PolicyBounds.MIN_CHALLENGE_WINDOW ||
            policy.challengeWindow > PolicyBounds.MAX_CHALLENGE_WINDOW
        ) {
            revert ModelRegistryInvalidChallengeWindow(
                policy.challengeWindow,
                PolicyBounds.MIN_CHALLENGE_WINDOW,
                PolicyBounds.MAX_CHALLENGE_WINDOW
            );
        }
        if (
            policy.responseWindow < PolicyBounds.MIN_RESPONSE_WINDOW ||
            policy.responseWindow > PolicyBounds.MAX_RESPONSE_WINDOW
        ) {
            revert ModelRegistryInvalidResponseWindow(
                policy.responseWindow,
                PolicyBounds.MIN_RESPONSE_WINDOW,
                PolicyBounds.MAX_RESPONSE_WINDOW
            );
        }
        if (policy.minStake == 0) revert ModelRegistryInvalidMinStake(0);
        // INVARIANT: one slash never exceeds what a provider needed to stake to commit.
        if (policy.slashAmount == 0 || policy.slashAmount > policy.minStake) {
            revert ModelRegistryInvalidSlashAmount(policy.slashAmount, policy.minStake);
        }
        if (policy.challengerBond == 0) revert ModelRegistryInvalidChallengerBond(0);
        // INVARIANT: at any share governance may set, a challenger that alone overturns a commitment is paid
        // at least its bond on top of it (sybil co-winners split the share: docs/protocol.md, "Policy").
        uint256 minReward = (uint256(policy.slashAmount) * PolicyBounds.MIN_CHALLENGER_SHARE_BPS) / PolicyBounds.BPS;
        if (policy.challengerBond > minReward) revert ModelRegistryBondAboveReward(policy.challengerBond, minReward);
        _checkTeePolicy(policy);
    }

    /// @dev `None`: no TEE window. `Window`: a shortened window of at least `MIN_TEE_WINDOW`, below the
    /// challenge window. `Instant`: an accountability period of at most `MAX_CHALLENGE_WINDOW` (so the
    /// unbonding delay still covers every dispute it allows).
    function _checkTeePolicy(ModelPolicy calldata policy) private pure {
        (uint256 min, uint256 max) = (0, 0);
        if (policy.teeMode == TeeMode.Window) (min, max) = (PolicyBounds.MIN_TEE_WINDOW, policy.challengeWindow - 1);
        else if (policy.teeMode == TeeMode.Instant) max = PolicyBounds.MAX_CHALLENGE_WINDOW;
        if (policy.teeWindow < min || policy.teeWindow > max) {
            revert ModelRegistryInvalidTeeWindow(policy.teeMode, policy.teeWindow, min, max);
        }
    }
}

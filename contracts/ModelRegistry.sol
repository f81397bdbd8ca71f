// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IInferenceLedger} from "./interfaces/IInferenceLedger.sol";
import {PolicyBounds} from "./libraries/PolicyBounds.sol";
import {CommitTerms, DisputeTerms, ModelPolicy, ModelStatus} from "./types/Model.sol";

/// @title ModelRegistry
/// @notice Content-addressed model versions with a lifecycle and a policy each.
/// @dev Every lifecycle change is mirrored into the ledger's admission cache in the same transaction.
contract ModelRegistry is IModelRegistry, AccessControl {
    /// @notice May revoke any model (for example a malicious publisher's).
    bytes32 public constant GOVERNOR_ROLE = keccak256("verity.role.governor");

    /// @notice The ledger whose admission cache this registry writes.
    IInferenceLedger public immutable ledger;

    /// @dev Storage layout of a model version, arranged for its hot reader: `disputeTermsOf` (a dispute
    /// opening) reads slot 1 and `engineId` only. The ledger reads nothing here (it has its own cache).
    struct StoredModel {
        // slot 0: 160 + 48 + 48
        address publisher;
        uint48 registeredAt;
        uint48 acceptsUntil;
        // slot 1: 8 + 32 + 96 + 96 = 232
        ModelStatus status;
        uint32 responseWindow;
        uint96 challengerBond;
        uint96 slashAmount;
        // slot 2: 32 + 96 + 32 = 160
        uint32 challengeWindow;
        uint96 minStake;
        uint32 version;
        bytes32 weightsRoot;
        bytes32 graphHash;
        bytes32 engineId;
        bytes32 predecessor;
        bytes32 successor;
        string metadataURI;
    }

    mapping(bytes32 modelId => StoredModel) private _models;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE (use a timelock in production).
    /// @param ledger_ The inference ledger; it must bind this registry with `bindSources`.
    constructor(address admin, IInferenceLedger ledger_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        ledger = ledger_;
    }

    /// @inheritdoc IModelRegistry
    function registerModel(
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId,
        string calldata metadataURI,
        ModelPolicy calldata policy
    ) external returns (bytes32 modelId) {
        return _register(bytes32(0), 1, weightsRoot, graphHash, engineId, metadataURI, policy);
    }

    /// @inheritdoc IModelRegistry
    function registerVersion(
        bytes32 predecessor,
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId,
        string calldata metadataURI,
        ModelPolicy calldata policy
    ) external returns (bytes32 modelId) {
        StoredModel storage previous = _existing(predecessor);
        if (previous.publisher != msg.sender) revert ModelRegistryNotPublisher(predecessor, msg.sender);
        // INVARIANT: a version chain is a list, never a tree: `latestVersion` is unambiguous.
        if (previous.successor != bytes32(0)) revert ModelRegistryAlreadySucceeded(predecessor, previous.successor);
        modelId = _register(predecessor, previous.version + 1, weightsRoot, graphHash, engineId, metadataURI, policy);
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
    function getModel(bytes32 modelId) external view returns (Model memory) {
        StoredModel storage m = _existing(modelId);
        return
            Model({
                publisher: m.publisher,
                registeredAt: m.registeredAt,
                acceptsUntil: m.acceptsUntil,
                status: m.status,
                version: m.version,
                weightsRoot: m.weightsRoot,
                graphHash: m.graphHash,
                engineId: m.engineId,
                predecessor: m.predecessor,
                successor: m.successor,
                policy: _policy(m),
                metadataURI: m.metadataURI
            });
    }

    /// @inheritdoc IModelRegistry
    function policyOf(bytes32 modelId) external view returns (ModelPolicy memory) {
        return _policy(_existing(modelId));
    }

    /// @inheritdoc IModelRegistry
    function disputeTermsOf(bytes32 modelId) external view returns (DisputeTerms memory terms, bytes32 engineId) {
        StoredModel storage m = _existing(modelId);
        return (DisputeTerms(m.responseWindow, m.challengerBond, m.slashAmount), m.engineId);
    }

    /// @inheritdoc IModelRegistry
    function statusOf(bytes32 modelId) external view returns (ModelStatus) {
        return _models[modelId].status;
    }

    /// @inheritdoc IModelRegistry
    function acceptsCommitments(bytes32 modelId) external view returns (bool) {
        return block.timestamp < _models[modelId].acceptsUntil;
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
    function computeModelId(bytes32 weightsRoot, bytes32 graphHash, bytes32 engineId) public pure returns (bytes32) {
        return keccak256(abi.encode(weightsRoot, graphHash, engineId));
    }

    function _register(
        bytes32 predecessor,
        uint32 version,
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId,
        string calldata metadataURI,
        ModelPolicy calldata policy
    ) private returns (bytes32 modelId) {
        if (weightsRoot == bytes32(0) || graphHash == bytes32(0) || engineId == bytes32(0)) {
            revert ModelRegistryZeroHash();
        }
        _checkPolicy(policy);
        modelId = computeModelId(weightsRoot, graphHash, engineId);
        StoredModel storage model = _models[modelId];
        if (model.status != ModelStatus.None) revert ModelRegistryAlreadyRegistered(modelId);

        model.publisher = msg.sender;
        model.registeredAt = uint48(block.timestamp);
        model.acceptsUntil = type(uint48).max;
        model.status = ModelStatus.Active;
        model.version = version;
        model.weightsRoot = weightsRoot;
        model.graphHash = graphHash;
        model.engineId = engineId;
        model.predecessor = predecessor;
        model.challengeWindow = policy.challengeWindow;
        model.responseWindow = policy.responseWindow;
        model.minStake = policy.minStake;
        model.slashAmount = policy.slashAmount;
        model.challengerBond = policy.challengerBond;
        model.metadataURI = metadataURI;

        emit ModelRegistered(
            modelId,
            msg.sender,
            predecessor,
            version,
            weightsRoot,
            graphHash,
            engineId,
            policy,
            metadataURI
        );
        _sync(modelId, model);
    }

    /// @dev Writes the ledger's admission cache; the ledger only accepts it from this registry.
    function _sync(bytes32 modelId, StoredModel storage model) private {
        ledger.syncCommitTerms(
            modelId,
            CommitTerms({
                minStake: model.minStake,
                challengeWindow: model.challengeWindow,
                acceptsUntil: model.acceptsUntil,
                status: model.status
            })
        );
    }

    function _policy(StoredModel storage m) private view returns (ModelPolicy memory) {
        return ModelPolicy(m.challengeWindow, m.responseWindow, m.minStake, m.slashAmount, m.challengerBond);
    }

    function _existing(bytes32 modelId) private view returns (StoredModel storage model) {
        model = _models[modelId];
        if (model.status == ModelStatus.None) revert ModelRegistryUnknownModel(modelId);
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
    }
}

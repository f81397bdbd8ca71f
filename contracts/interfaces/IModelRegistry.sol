// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DisputeTerms, ModelPolicy, ModelStatus} from "../types/Model.sol";

/// @title IModelRegistry
/// @notice Content-addressed registry of AI models. A model version is identified by
/// `modelId = keccak256(abi.encode(weightsRoot, graphHash, engineId))`: the Merkle root of its
/// weights, the hash of its layer graph, and the determinism profile it is evaluated with.
/// Publishers register versions (each naming its predecessor), deprecate and revoke them; a
/// governance role can revoke any model. Each version carries a policy fixed at registration.
interface IModelRegistry {
    /// @notice Everything the registry keeps about one model version.
    struct Model {
        address publisher;
        uint48 registeredAt;
        /// New commitments are accepted while `block.timestamp < acceptsUntil`.
        uint48 acceptsUntil;
        ModelStatus status;
        /// 1 for a first version, predecessor's version + 1 otherwise.
        uint32 version;
        bytes32 weightsRoot;
        bytes32 graphHash;
        bytes32 engineId;
        /// Zero for a first version.
        bytes32 predecessor;
        /// Zero until a newer version is registered.
        bytes32 successor;
        ModelPolicy policy;
        string metadataURI;
    }

    /// @notice A weights root, graph hash or engine id was zero.
    error ModelRegistryZeroHash();
    /// @notice A model with this content is already registered.
    error ModelRegistryAlreadyRegistered(bytes32 modelId);
    /// @notice No model with this id is registered.
    error ModelRegistryUnknownModel(bytes32 modelId);
    /// @notice `caller` is not the publisher of `modelId` (nor, for revocation, a governor).
    error ModelRegistryNotPublisher(bytes32 modelId, address caller);
    /// @notice `predecessor` already has a newer version, `successor`: version chains do not fork.
    error ModelRegistryAlreadySucceeded(bytes32 predecessor, bytes32 successor);
    /// @notice The model is revoked; it cannot be deprecated or revoked again. (Its publisher may still
    /// register a successor version, for example a fixed model: the successor has its own status.)
    error ModelRegistryModelRevoked(bytes32 modelId);
    /// @notice The model is already deprecated; a grace time cannot be changed once set.
    error ModelRegistryAlreadyDeprecated(bytes32 modelId);
    /// @notice The challenge window is outside [min, max] seconds.
    error ModelRegistryInvalidChallengeWindow(uint256 value, uint256 min, uint256 max);
    /// @notice The response window is outside [min, max] seconds.
    error ModelRegistryInvalidResponseWindow(uint256 value, uint256 min, uint256 max);
    /// @notice The minimum stake is zero.
    error ModelRegistryInvalidMinStake(uint256 value);
    /// @notice The slash amount is zero or above the minimum stake.
    error ModelRegistryInvalidSlashAmount(uint256 value, uint256 minStake);
    /// @notice The challenger bond is zero (disputes would cost nothing to open).
    error ModelRegistryInvalidChallengerBond(uint256 value);
    /// @notice The deprecation grace time is above the maximum.
    error ModelRegistryInvalidGracePeriod(uint256 value, uint256 max);

    /// @notice A model version was registered.
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed publisher,
        bytes32 indexed predecessor,
        uint32 version,
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId,
        ModelPolicy policy,
        string metadataURI
    );
    /// @notice A model was deprecated; commitments are accepted until `acceptsUntil`.
    event ModelDeprecated(bytes32 indexed modelId, uint48 acceptsUntil);
    /// @notice A model was revoked by its publisher or by a governor.
    event ModelRevoked(bytes32 indexed modelId, address indexed by);

    /// @notice Registers a first model version; the caller becomes its publisher.
    /// @param weightsRoot Merkle root of the weights (see the engine's leaf encoding).
    /// @param graphHash `keccak256(abi.encode(LayerSpec[]))` of the model's layers.
    /// @param engineId Determinism profile, e.g. `keccak256("verity.dense-int8.v1")`.
    /// @param metadataURI Where the model file and its description can be fetched.
    /// @param policy Economic and timing policy, fixed for this version.
    /// @return modelId `keccak256(abi.encode(weightsRoot, graphHash, engineId))`.
    function registerModel(
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId,
        string calldata metadataURI,
        ModelPolicy calldata policy
    ) external returns (bytes32 modelId);

    /// @notice Registers a new version of `predecessor`; only its publisher may, once per predecessor.
    /// @dev The predecessor keeps its own status: deprecate or revoke it separately.
    /// @return modelId Id of the new version.
    function registerVersion(
        bytes32 predecessor,
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId,
        string calldata metadataURI,
        ModelPolicy calldata policy
    ) external returns (bytes32 modelId);

    /// @notice Deprecates a model: new commitments are accepted for `gracePeriod` more seconds.
    /// @dev Publisher only. Existing commitments stay disputable.
    function deprecateModel(bytes32 modelId, uint32 gracePeriod) external;

    /// @notice Revokes a model: new commitments are refused at once.
    /// @dev The publisher or a holder of GOVERNOR_ROLE. Existing commitments stay disputable.
    function revokeModel(bytes32 modelId) external;

    /// @notice The stored record of a model version; reverts if unknown.
    function getModel(bytes32 modelId) external view returns (Model memory);

    /// @notice The policy of a model version; reverts if unknown.
    function policyOf(bytes32 modelId) external view returns (ModelPolicy memory);

    /// @notice What a dispute game needs at opening: the policy and the determinism profile; reverts if unknown.
    function disputeTermsOf(bytes32 modelId) external view returns (DisputeTerms memory terms, bytes32 engineId);

    /// @notice Status of a model version (None if unknown).
    function statusOf(bytes32 modelId) external view returns (ModelStatus);

    /// @notice Whether a commitment of `modelId` would be accepted now (ignoring the provider's stake).
    function acceptsCommitments(bytes32 modelId) external view returns (bool);

    /// @notice The newest version in `modelId`'s chain (itself if it has no successor).
    function latestVersion(bytes32 modelId) external view returns (bytes32);

    /// @notice The content-addressed id for the given hashes.
    function computeModelId(bytes32 weightsRoot, bytes32 graphHash, bytes32 engineId) external pure returns (bytes32);
}

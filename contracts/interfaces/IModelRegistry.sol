// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LayerSpec} from "../types/LayerSpec.sol";
import {DisputeTerms, ModelPolicy, ModelSpec, ModelStatus, VerifierInfo} from "../types/Model.sol";
import {TeeMode} from "../types/Environment.sol";

/// @title IModelRegistry
/// @notice Registry of AI model versions, bound to their publishers. A model's content is
/// `contentHash = keccak256(abi.encode(weightsRoot, graphHash, engineId))`: the Merkle root of its weights,
/// the hash of its layer graph, and the determinism profile it is evaluated with. Its id is
/// `modelId = keccak256(abi.encode(publisher, contentHash))`, so nobody can squat on a model another
/// publisher published; readers find every registration of one content by `contentHash` (an indexed
/// topic of `ModelRegistered`). Publishers register versions (each naming its predecessor), deprecate and
/// revoke them; a governance role can revoke any model. Each version carries a policy fixed at
/// registration, checked so that a dispute is always worth playing for an honest challenger.
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
        bytes32 contentHash;
        bytes32 weightsRoot;
        bytes32 graphHash;
        bytes32 engineId;
        /// Zero for a first version.
        bytes32 predecessor;
        /// Zero until a newer version is registered.
        bytes32 successor;
        /// Whether a dispute game can settle this model's commitments (`dense-int8-v1`).
        bool optimistic;
        /// Most leaves one batch of this model may hold.
        uint16 maxBatchLeaves;
        ModelPolicy policy;
        string metadataURI;
    }

    /// @notice A weights root, engine id or (for an opaque engine) graph hash was zero.
    error ModelRegistryZeroHash();
    /// @notice The given graph hash is not the hash of the given `dense-int8-v1` layers.
    error ModelRegistryGraphHashMismatch(bytes32 given, bytes32 computed);
    /// @notice Layers were given for an engine other than `dense-int8-v1` (they would not be checked).
    error ModelRegistryLayersForOpaqueEngine(bytes32 engineId);
    /// @notice This publisher already registered a model with this content.
    error ModelRegistryAlreadyRegistered(bytes32 modelId);
    /// @notice No model with this id is registered.
    error ModelRegistryUnknownModel(bytes32 modelId);
    /// @notice The layer number is not in 1..L for this model.
    error ModelRegistryUnknownLayer(bytes32 modelId, uint256 layer);
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
    /// @notice The bond is above the reward an honest challenger gets at the lowest share governance may
    /// set (`slash * MIN_CHALLENGER_SHARE_BPS / 10,000`): a dispute would not be worth its bond.
    error ModelRegistryBondAboveReward(uint256 bond, uint256 minReward);
    /// @notice The bond does not pay for one side's gas in a full game at the reference gas price.
    error ModelRegistryBondBelowGasCost(uint256 bond, uint256 minBond);
    /// @notice Some honest move of a game on this model could need more than `max` gas.
    error ModelRegistryGasBoundExceeded(uint256 gas, uint256 max);
    /// @notice The deprecation grace time is above the maximum.
    error ModelRegistryInvalidGracePeriod(uint256 value, uint256 max);
    /// @notice The reference gas price must be non-zero.
    error ModelRegistryInvalidGasPrice();
    /// @notice The TEE window is outside [min, max] seconds for the policy's TEE mode (zero for `None`;
    /// below the challenge window for `Window`; at most the longest challenge window for `Instant`).
    error ModelRegistryInvalidTeeWindow(TeeMode mode, uint256 value, uint256 min, uint256 max);
    /// @notice The model's policy accepts no TEE signatures, so no environment can be allowed for it.
    error ModelRegistryTeeNotAccepted(bytes32 modelId);
    /// @notice The environment is not approved in the environment registry.
    error ModelRegistryEnvironmentNotApproved(bytes32 environment);
    /// @notice The environment is already allowed for the model.
    error ModelRegistryEnvironmentAllowed(bytes32 modelId, bytes32 environment);
    /// @notice The environment is not allowed for the model.
    error ModelRegistryEnvironmentNotAllowed(bytes32 modelId, bytes32 environment);
    /// @notice The model already allows the most environments one model may (`max`).
    error ModelRegistryTooManyEnvironments(bytes32 modelId, uint256 max);
    /// @notice The ledger has no environment registry bound yet.
    error ModelRegistryNoEnvironmentRegistry();
    /// @notice The model's policy accepts no proof-settled commitments, so no verifier can be approved for it.
    error ModelRegistryProofNotAccepted(bytes32 modelId);
    /// @notice `verifier` has no code or its `modelId()` call failed: it is not an `IInferenceVerifier`.
    error ModelRegistryNotVerifier(address verifier);
    /// @notice `verifier` serves `served` (its `modelId()`), not `modelId`.
    error ModelRegistryVerifierModelMismatch(address verifier, bytes32 modelId, bytes32 served);
    /// @notice `verifier` was already approved once (a revoked verifier is never approved again).
    error ModelRegistryVerifierKnown(address verifier);
    /// @notice The model already has an approved verifier, `current`: revoke it first.
    error ModelRegistryVerifierPaired(bytes32 modelId, address current);
    /// @notice `verifier` was never approved.
    error ModelRegistryUnknownVerifier(address verifier);
    /// @notice `verifier` was already revoked at `revokedAt`.
    error ModelRegistryVerifierAlreadyRevoked(address verifier, uint48 revokedAt);

    /// @notice A model version was registered.
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed publisher,
        bytes32 indexed contentHash,
        bytes32 predecessor,
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
    /// @notice Governance set the token price of one unit of gas that bonds are checked against.
    event ReferenceGasPriceUpdated(uint256 price);
    /// @notice `environment` may now serve `modelId` (its TEE-signed commitments are accepted).
    event EnvironmentAllowed(bytes32 indexed modelId, bytes32 indexed environment, address indexed by);
    /// @notice `environment` may no longer serve `modelId` (existing commitments are unaffected).
    event EnvironmentDisallowed(bytes32 indexed modelId, bytes32 indexed environment, address indexed by);

    /// @notice Governance approved `verifier` (serial `serial`) to settle `modelId`'s commitments by proof.
    event VerifierApproved(bytes32 indexed modelId, address indexed verifier, uint24 serial);
    /// @notice Governance revoked `verifier`: the model's later proofs are refused until another verifier is
    /// approved; commitments it already proved stay Final (`InferenceLedger.proofRecordOf` reports the revocation).
    event VerifierRevoked(bytes32 indexed modelId, address indexed verifier, uint24 serial);

    /// @notice Registers a first model version; the caller becomes its publisher.
    /// @param spec The model's content (for `dense-int8-v1`, its layers) and metadata URI.
    /// @param policy Economic and timing policy, fixed for this version.
    /// @return modelId `keccak256(abi.encode(msg.sender, contentHash))`.
    function registerModel(ModelSpec calldata spec, ModelPolicy calldata policy) external returns (bytes32 modelId);

    /// @notice Registers a new version of `predecessor`; only its publisher may, once per predecessor.
    /// @dev The predecessor keeps its own status: deprecate or revoke it separately.
    /// @return modelId Id of the new version.
    function registerVersion(
        bytes32 predecessor,
        ModelSpec calldata spec,
        ModelPolicy calldata policy
    ) external returns (bytes32 modelId);

    /// @notice Deprecates a model: new commitments are accepted for `gracePeriod` more seconds.
    /// @dev Publisher only. Existing commitments stay disputable.
    function deprecateModel(bytes32 modelId, uint32 gracePeriod) external;

    /// @notice Revokes a model: new commitments are refused at once.
    /// @dev The publisher or a holder of GOVERNOR_ROLE. Existing commitments stay disputable.
    function revokeModel(bytes32 modelId) external;

    /// @notice Allows an approved environment to serve a model whose policy accepts TEE signatures, so a
    /// patched enclave (a new measurement) can serve without re-registering the weights. The publisher or
    /// a holder of GOVERNOR_ROLE; at most `MAX_ENVIRONMENTS_PER_MODEL` at a time.
    function allowEnvironment(bytes32 modelId, bytes32 environment) external;

    /// @notice Removes an environment from a model's set: its later TEE commitments of the model are
    /// refused. The publisher or a holder of GOVERNOR_ROLE.
    function disallowEnvironment(bytes32 modelId, bytes32 environment) external;

    /// @notice Pairs `verifier` with `modelId`: proofs it accepts settle the model's commitments at once
    /// (`InferenceLedger.commitVerified`). GOVERNOR_ROLE only. The policy must accept proofs, the model
    /// must not be revoked, `verifier.modelId()` must be `modelId`, the model must have no approved
    /// verifier, and `verifier` must never have been approved before.
    function approveVerifier(bytes32 modelId, address verifier) external;

    /// @notice Revokes an approved verifier: the ledger refuses its proofs from now on; records it already
    /// proved stay Final. GOVERNOR_ROLE only; for good.
    function revokeVerifier(address verifier) external;

    /// @notice The verifier approved for `modelId` (zero if none) and what the registry keeps about it. After a
    /// revocation, until another approval, it returns the revoked verifier (its `revokedAt` set).
    function verifierOf(bytes32 modelId) external view returns (address verifier, VerifierInfo memory info);

    /// @notice What the registry keeps about `verifier` (all zero if it was never approved).
    function verifierInfoOf(address verifier) external view returns (VerifierInfo memory);

    /// @notice The verifier with serial `serial` and its info (zero if none).
    function verifierBySerial(uint24 serial) external view returns (address verifier, VerifierInfo memory info);

    /// @notice The environments allowed to serve `modelId`, in no particular order.
    function environmentsOf(bytes32 modelId) external view returns (bytes32[] memory);

    /// @notice Whether `environment` may serve `modelId`.
    function isEnvironmentAllowed(bytes32 modelId, bytes32 environment) external view returns (bool);

    /// @notice Sets the token price of one unit of gas (token base units per gas) that bonds are sized
    /// against. GOVERNOR_ROLE only; applies to later registrations and disclosure demands.
    function setReferenceGasPrice(uint256 price) external;

    /// @notice The token price of one unit of gas, in token base units.
    function referenceGasPrice() external view returns (uint256);

    /// @notice The stored record of a model version; reverts if unknown.
    function getModel(bytes32 modelId) external view returns (Model memory);

    /// @notice The policy of a model version; reverts if unknown.
    function policyOf(bytes32 modelId) external view returns (ModelPolicy memory);

    /// @notice The layers of a `dense-int8-v1` model (empty for opaque engines); reverts if unknown.
    function layersOf(bytes32 modelId) external view returns (LayerSpec[] memory);

    /// @notice Layer `layer` (1-based) of a `dense-int8-v1` model and the model's weights root: what a
    /// neuron proof checks against.
    function layerOf(bytes32 modelId, uint256 layer) external view returns (LayerSpec memory spec, bytes32 weightsRoot);

    /// @notice What a dispute game needs at opening (one slot): the policy's dispute terms and the
    /// number of layers (zero if no game can settle the model); reverts if unknown.
    function disputeTermsOf(bytes32 modelId) external view returns (DisputeTerms memory);

    /// @notice Gas bounds of games on this model: the largest honest transaction, and what the provider
    /// and a challenger spend in one full game (all zero for opaque engines).
    function gasBoundsOf(
        bytes32 modelId
    ) external view returns (uint256 worstHonestMove, uint256 providerGame, uint256 challengerGame);

    /// @notice Status of a model version (None if unknown).
    function statusOf(bytes32 modelId) external view returns (ModelStatus);

    /// @notice Whether an optimistic commitment of `modelId` would be accepted now (ignoring the provider's
    /// stake): the model is optimistic and inside its acceptance time.
    function acceptsCommitments(bytes32 modelId) external view returns (bool);

    /// @notice The newest version in `modelId`'s chain (itself if it has no successor).
    function latestVersion(bytes32 modelId) external view returns (bytes32);

    /// @notice `keccak256(abi.encode(weightsRoot, graphHash, engineId))`.
    function computeContentHash(
        bytes32 weightsRoot,
        bytes32 graphHash,
        bytes32 engineId
    ) external pure returns (bytes32);

    /// @notice `keccak256(abi.encode(publisher, contentHash))`.
    function computeModelId(address publisher, bytes32 contentHash) external pure returns (bytes32);
}

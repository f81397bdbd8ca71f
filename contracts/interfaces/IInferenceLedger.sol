// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommitTerms} from "../types/Model.sol";
import {
    BatchHeader,
    CommitmentKey,
    CommitmentStatus,
    Finality,
    Inference,
    LeafRecord,
    Record
} from "../types/Commitment.sol";

/// @title IInferenceLedger
/// @notice Staked providers commit inferences here, one at a time or as a Merkle batch. A commitment
/// is Pending during its model's challenge window, then Final unless a dispute is open (Disputed) or
/// fraud was proven (Overturned). dApps read `status`/`isFinal`, or `finalityOf` to learn how a Final
/// commitment became final; only dispute contracts (DISPUTE_ROLE) move a commitment between these states.
/// @dev Admission cache: to keep `commit` at two cold storage reads, the ledger holds a copy of each
/// model's `CommitTerms` and each provider's active stake. Only the registry and the stake manager,
/// bound once by `bindSources`, write them, in the same transaction as the change they mirror.
interface IInferenceLedger {
    /// @notice A hash that must be non-zero was zero.
    error InferenceLedgerZeroHash();
    /// @notice No model with this id is registered.
    error InferenceLedgerUnknownModel(bytes32 modelId);
    /// @notice The model is revoked.
    error InferenceLedgerModelRevoked(bytes32 modelId);
    /// @notice The model is deprecated and its grace time ended at `acceptsUntil`.
    error InferenceLedgerModelDeprecated(bytes32 modelId, uint48 acceptsUntil);
    /// @notice No dispute game can settle this model's commitments (its engine is not `dense-int8-v1`).
    error InferenceLedgerNotOptimistic(bytes32 modelId);
    /// @notice The provider's active stake is below the model's minimum.
    error InferenceLedgerInsufficientStake(address provider, uint256 active, uint256 required);
    /// @notice `inputData` is neither the input (`inputDim` bytes hashing to the input hash) nor a URI of
    /// at most `maxURI` bytes.
    error InferenceLedgerInvalidInputData(uint256 length, uint256 inputDim, uint256 maxURI);
    /// @notice A batch's data URI is longer than `max` bytes.
    error InferenceLedgerDataURITooLong(uint256 length, uint256 max);
    /// @notice A batch holds more leaves than the model allows.
    error InferenceLedgerBatchTooLarge(uint256 count, uint256 max);
    /// @notice This exact commitment or batch already exists.
    error InferenceLedgerDuplicate(bytes32 id);
    /// @notice A batch must hold at least one inference.
    error InferenceLedgerEmptyBatch();
    /// @notice No commitment or batch of the expected kind has this id.
    error InferenceLedgerUnknownRecord(bytes32 id);
    /// @notice The leaf is not in the batch.
    error InferenceLedgerLeafNotInBatch(bytes32 batchId, bytes32 leafHash);
    /// @notice The challenge window closed at `deadline`.
    error InferenceLedgerChallengeWindowClosed(bytes32 id, uint48 deadline);
    /// @notice The commitment, leaf or batch is already overturned.
    error InferenceLedgerAlreadyOverturned(bytes32 id);
    /// @notice Closing a dispute that is not open.
    error InferenceLedgerNoOpenDispute(bytes32 id);
    /// @notice The batch was already disclosed on-chain.
    error InferenceLedgerAlreadyDisclosed(bytes32 batchId);
    /// @notice A disclosure demand on the batch is already open.
    error InferenceLedgerDisclosureOpen(bytes32 batchId);
    /// @notice No disclosure demand on the batch is open.
    error InferenceLedgerNoOpenDisclosure(bytes32 batchId);
    /// @notice Only the bound registry or stake manager may write the admission cache.
    error InferenceLedgerUnauthorizedSource(address caller);
    /// @notice The sources were already bound, or a source is the zero address.
    error InferenceLedgerInvalidBinding();

    /// @notice One inference was committed. Watchers re-execute `inputData` (the input bytes, or a URI
    /// of at most 256 bytes) with the model and compare.
    event InferenceCommitted(
        bytes32 indexed id,
        bytes32 indexed modelId,
        address provider,
        bytes32 inputHash,
        bytes32 outputHash,
        bytes32 traceRoot,
        bytes inputData
    );
    /// @notice A batch of `count` inferences with Merkle `root` was committed; `dataURI` holds the leaves
    /// and inputs.
    event BatchCommitted(
        bytes32 indexed batchId,
        bytes32 indexed modelId,
        address indexed provider,
        bytes32 root,
        uint32 count,
        string dataURI
    );
    /// @notice A dispute opened on a commitment or batch leaf (`leafHash` zero for a single commitment).
    event DisputeMarked(bytes32 indexed id, bytes32 indexed leafHash, uint24 openDisputes);
    /// @notice A dispute closed on a commitment or batch leaf.
    event DisputeCleared(bytes32 indexed id, bytes32 indexed leafHash, uint24 openDisputes);
    /// @notice Fraud was proven; the commitment or batch leaf (`leafHash` zero: the whole batch) is
    /// overturned for good.
    event Overturned(bytes32 indexed id, bytes32 indexed leafHash);
    /// @notice A disclosure of the batch was demanded.
    event DisclosureMarked(bytes32 indexed batchId);
    /// @notice The batch was disclosed; its leaves are disputable until `challengeDeadline`.
    event BatchDisclosed(bytes32 indexed batchId, uint48 challengeDeadline);
    /// @notice The admission cache was bound to its two writers.
    event SourcesBound(address registry, address stakeManager);
    /// @notice The registry updated a model's terms in the admission cache.
    event CommitTermsSynced(bytes32 indexed modelId, CommitTerms terms);
    /// @notice The stake manager updated a provider's active stake in the admission cache.
    event ProviderStakeSynced(address indexed provider, uint96 activeStake);

    /// @notice Commits one inference of `modelId` by the caller, who must hold the model's minimum stake.
    /// @param inputData Either the input itself (exactly `inDim(1)` bytes that hash to `inputHash`: the
    /// record then says the input is public and no input demand is ever needed) or a URI of at most 256
    /// bytes; anything else is refused. Emitted, not stored.
    /// @return id `keccak256(abi.encode(CommitmentKey(msg.sender, modelId, inference, 0)))`.
    function commit(
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 outputHash,
        bytes32 traceRoot,
        bytes calldata inputData
    ) external returns (bytes32 id);

    /// @notice Commits a batch: `root` is the OpenZeppelin standard Merkle tree root over distinct leaves
    /// `(bytes32 inputHash, bytes32 outputHash, bytes32 traceRoot)`; at most the model's `maxBatchLeaves`.
    /// @param dataURI Where the leaves and inputs are served; at most 256 bytes.
    /// @return batchId `keccak256(abi.encode(BatchHeader(msg.sender, modelId, root, count, 0)))`.
    function commitBatch(
        bytes32 modelId,
        bytes32 root,
        uint32 count,
        string calldata dataURI
    ) external returns (bytes32 batchId);

    /// @notice Marks a dispute opened on a single commitment. DISPUTE_ROLE only.
    /// @return provider The commitment's provider. @return flags Its `RecordFlags`.
    function markDisputeOpened(bytes32 id) external returns (address provider, uint8 flags);

    /// @notice Marks a dispute opened on one leaf of a batch, after checking its inclusion.
    /// DISPUTE_ROLE only.
    /// @return batchId The batch id. @return leafHash The leaf's hash. @return flags The batch's `RecordFlags`.
    function markLeafDisputeOpened(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) external returns (bytes32 batchId, bytes32 leafHash, uint8 flags);

    /// @notice Marks a dispute on a single commitment closed; overturns it if `fraudProven`.
    /// DISPUTE_ROLE only.
    /// @return newlyOverturned True only for the first proven fraud: the caller slashes exactly then.
    /// @return stillOpen Disputes still open on the commitment.
    function markDisputeClosed(bytes32 id, bool fraudProven) external returns (bool newlyOverturned, uint24 stillOpen);

    /// @notice Marks a dispute on a batch leaf closed; overturns the leaf if `fraudProven`.
    /// DISPUTE_ROLE only.
    /// @return newlyOverturned True only for the first proven fraud on this leaf.
    /// @return stillOpen Disputes still open on the leaf.
    function markLeafDisputeClosed(
        bytes32 batchId,
        bytes32 leafHash,
        bool fraudProven
    ) external returns (bool newlyOverturned, uint24 stillOpen);

    /// @notice Marks a disclosure demand opened on a batch inside its window (one at a time, never after
    /// the batch was disclosed). The batch counts as Disputed while it is open. DISPUTE_ROLE only.
    /// @return batchId The batch id.
    function markDisclosureOpened(BatchHeader calldata header) external returns (bytes32 batchId);

    /// @notice Closes a batch's disclosure demand. Disclosed: every leaf stays disputable for a full
    /// challenge window from now. Not disclosed: the whole batch is overturned. DISPUTE_ROLE only.
    /// @return newlyOverturned True when this call overturned the batch: the caller slashes exactly then.
    function markDisclosureClosed(BatchHeader calldata header, bool disclosed) external returns (bool newlyOverturned);

    /// @notice Binds the registry and stake manager that write the admission cache; once only.
    /// DEFAULT_ADMIN_ROLE only.
    function bindSources(address registry, address stakeManager) external;

    /// @notice Admission cache write: a model's commit terms. Bound registry only.
    function syncCommitTerms(bytes32 modelId, CommitTerms calldata terms) external;

    /// @notice Admission cache write: a provider's active stake. Bound stake manager only.
    function syncProviderStake(address provider, uint96 activeStake) external;

    /// @notice The stored record of a commitment or batch (kind None if unknown).
    function recordOf(bytes32 id) external view returns (Record memory);

    /// @notice The dispute state of one batch leaf (zero until the leaf is first disputed).
    function leafRecordOf(bytes32 batchId, bytes32 leafHash) external view returns (LeafRecord memory);

    /// @notice Status of a single commitment or of a whole batch (Overturned once any leaf is).
    function status(bytes32 id) external view returns (CommitmentStatus);

    /// @notice Status of a single commitment or whole batch, and how it became final (None unless Final).
    function finalityOf(bytes32 id) external view returns (CommitmentStatus status, Finality finality);

    /// @notice Whether a single commitment (or a whole batch) is Final.
    function isFinal(bytes32 id) external view returns (bool);

    /// @notice Status of one batch leaf; reverts if the leaf is not in the batch.
    function leafStatus(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) external view returns (CommitmentStatus);

    /// @notice Whether one batch leaf is Final; reverts if the leaf is not in the batch.
    function isLeafFinal(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) external view returns (bool);

    /// @notice Whether `leaf` is in the tree with `root` (OpenZeppelin standard leaf encoding).
    function verifyLeaf(bytes32 root, bytes32[] calldata proof, Inference calldata leaf) external pure returns (bool);

    /// @notice The id of a single commitment.
    function commitmentIdOf(CommitmentKey calldata key) external pure returns (bytes32);

    /// @notice The id of a batch.
    function batchIdOf(BatchHeader calldata header) external pure returns (bytes32);

    /// @notice The cached commit terms of a model.
    function commitTermsOf(bytes32 modelId) external view returns (CommitTerms memory);

    /// @notice The cached active stake of a provider.
    function providerStakeOf(address provider) external view returns (uint96);

    /// @notice The bound registry (zero until bound).
    function registry() external view returns (address);

    /// @notice The bound stake manager (zero until bound).
    function stakeManager() external view returns (address);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommitTerms, ProofTerms, TeeTerms} from "../types/Model.sol";
import {EnclaveTerms, EnvironmentTerms, TeeMode} from "../types/Environment.sol";
import {
    BatchHeader,
    CommitmentKey,
    CommitmentStatus,
    Finality,
    Inference,
    LeafRecord,
    ProofRecord,
    Record,
    TeeRecord,
    TeeSeal
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
    error InferenceLedgerModelDeprecated(bytes32 modelId, uint40 acceptsUntil);
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
    /// @notice The TEE signature's deadline passed.
    error InferenceLedgerSealExpired(uint64 deadline);
    /// @notice The model's policy accepts no TEE signatures.
    error InferenceLedgerTeeNotAccepted(bytes32 modelId);
    /// @notice The environment is not in the set allowed to serve the model.
    error InferenceLedgerEnvironmentNotAllowed(bytes32 modelId, bytes32 environment);
    /// @notice No enclave key with this address is registered.
    error InferenceLedgerUnknownEnclave(address enclaveKey);
    /// @notice The enclave key belongs to `operator`, not to the caller.
    error InferenceLedgerEnclaveOfOtherOperator(address enclaveKey, address operator, address caller);
    /// @notice The enclave key was revoked at `revokedAt`.
    error InferenceLedgerEnclaveRevoked(address enclaveKey, uint48 revokedAt);
    /// @notice The enclave key expired at `expiresAt`.
    error InferenceLedgerEnclaveExpired(address enclaveKey, uint48 expiresAt);
    /// @notice The enclave key does not run the environment the signature names.
    error InferenceLedgerEnvironmentMismatch(address enclaveKey, bytes32 environment);
    /// @notice The environment is revoked: none of its keys is valid.
    error InferenceLedgerEnvironmentRevoked(bytes32 environment);
    /// @notice The signature's `s` is in the upper half of the curve order (a malleable twin).
    error InferenceLedgerMalleableSignature(bytes32 s);
    /// @notice The signature is not a valid secp256k1 signature.
    error InferenceLedgerInvalidSignature();
    /// @notice The signature recovers to `recovered`, not to the enclave key: it was made for another
    /// message, chain or ledger, or by another key.
    error InferenceLedgerSignerMismatch(address enclaveKey, address recovered);
    /// @notice This signature was already used: the commitment it makes exists.
    error InferenceLedgerSealReplayed(bytes32 id);

    /// @notice A commitment for an oracle request names no request.
    error InferenceLedgerZeroRequest();

    /// @notice The model's policy accepts no proof-settled commitments.
    error InferenceLedgerProofNotAccepted(bytes32 modelId);
    /// @notice The model accepts proofs but governance approved no verifier for it (yet).
    error InferenceLedgerNoVerifier(bytes32 modelId);
    /// @notice The model's verifier was revoked at `revokedAt` and no other is approved.
    error InferenceLedgerVerifierRevoked(bytes32 modelId, address verifier, uint48 revokedAt);
    /// @notice `keccak256(output)` is `computed`, not the inference's `outputHash`.
    error InferenceLedgerOutputMismatch(bytes32 outputHash, bytes32 computed);
    /// @notice The commitment was settled by a proof: Final for good, never disputable.
    error InferenceLedgerProven(bytes32 id);

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
    /// @notice One TEE-signed inference was committed. Its id binds `binding`, the EIP-712 digest the
    /// enclave key signed: `CommitmentKey(provider, modelId, inference, binding)`.
    event TeeInferenceCommitted(
        bytes32 indexed id,
        bytes32 indexed modelId,
        address provider,
        Inference inference,
        bytes32 binding,
        address enclaveKey,
        bytes32 environment,
        TeeMode mode,
        bytes inputData
    );
    /// @notice A TEE-signed batch was committed; its id is `BatchHeader(provider, modelId, root, count,
    /// binding)` with `binding` the signed EIP-712 digest.
    event TeeBatchCommitted(
        bytes32 indexed batchId,
        bytes32 indexed modelId,
        address indexed provider,
        bytes32 root,
        uint32 count,
        bytes32 binding,
        address enclaveKey,
        bytes32 environment,
        TeeMode mode,
        string dataURI
    );
    /// @notice A dispute opened on a commitment or batch leaf (`leafHash` zero for a single commitment).
    /// @notice A provider answered an oracle request (`commitForRequest`, `commitSealedForRequest`): the
    /// commitment's key is `CommitmentKey(provider, modelId, inference, binding)` with `binding = requestId`,
    /// or, TEE-signed, `binding = keccak256(abi.encode(digest, requestId))`. Its input is in the oracle's
    /// `InferenceRequested` event (the record is flagged INPUT_PUBLIC); `enclaveKey` is zero unless TEE-signed.
    event RequestCommitted(
        bytes32 indexed id,
        bytes32 indexed modelId,
        address indexed provider,
        bytes32 requestId,
        Inference inference,
        bytes32 binding,
        address enclaveKey
    );

    /// @notice A proof settled one inference (`commitVerified`): the commitment is Final at once. Its key is
    /// `CommitmentKey(provider, modelId, inference, binding)` with `binding = bytes32(uint256(uint160(verifier)))`.
    /// `output` is the model's output (its keccak is `inference.outputHash`); the input is in the proof.
    event ProofCommitted(
        bytes32 indexed id,
        bytes32 indexed modelId,
        address indexed provider,
        Inference inference,
        address verifier,
        bytes output
    );
    /// @notice The registry updated a model's proof terms in the proof admission cache.
    event ProofTermsSynced(bytes32 indexed modelId, ProofTerms terms);

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
    /// @notice The environment registry was bound.
    event EnvironmentsBound(address environments);
    /// @notice The registry allowed (non-zero terms) or disallowed an environment for a model.
    event TeeTermsSynced(bytes32 indexed modelId, bytes32 indexed environment, TeeTerms terms);
    /// @notice The environment registry updated an enclave key in the TEE admission cache.
    event EnclaveSynced(address indexed enclaveKey, EnclaveTerms terms);
    /// @notice The environment registry updated an environment in the TEE admission cache.
    event EnvironmentSynced(bytes32 indexed environment, EnvironmentTerms terms);

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

    /// @notice Records `provider`'s answer to an oracle request, for the oracle (ORACLE_ROLE), which checked
    /// the request's model, input and the provider's call. Admission as for `commit`, with `provider`'s stake.
    /// @param requestId The oracle's request id: the commitment's binding, so that one question asked twice
    /// gets two commitments.
    /// @return id `keccak256(abi.encode(CommitmentKey(provider, modelId, inference, requestId)))`.
    function commitForRequest(
        address provider,
        bytes32 modelId,
        Inference calldata inference,
        bytes32 requestId
    ) external returns (bytes32 id);

    /// @notice Records `provider`'s TEE-signed answer to an oracle request (ORACLE_ROLE). Admission and seal
    /// checks as for `commitTee`, with `provider` as the key's operator.
    /// @return id `keccak256(abi.encode(CommitmentKey(provider, modelId, inference, binding)))`.
    /// @return binding `keccak256(abi.encode(digest, requestId))`: one signature answers a request at most once.
    function commitSealedForRequest(
        address provider,
        bytes32 modelId,
        Inference calldata inference,
        TeeSeal calldata seal,
        bytes32 requestId
    ) external returns (bytes32 id, bytes32 binding);

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

    /// @notice Commits one inference signed by an enclave key the caller operates (EIP-712 `TeeCommitment`
    /// over the ledger's domain: chain id and this contract). The model's policy must accept TEE
    /// signatures and allow `seal.environment`; the key must be valid and run that environment. Under the
    /// policy's `Window` mode the commitment is Pending for the shortened window, open to fraud proofs;
    /// under `Instant` it is Final at once, and a fraud proof within the accountability period slashes
    /// without changing its status. `inputData` as for `commit`.
    /// @return id `keccak256(abi.encode(CommitmentKey(msg.sender, modelId, inference, digest)))`, with
    /// `digest` the signed EIP-712 digest: the same signature never makes two commitments.
    function commitTee(
        bytes32 modelId,
        Inference calldata inference,
        bytes calldata inputData,
        TeeSeal calldata seal
    ) external returns (bytes32 id);

    /// @notice Commits a batch signed by an enclave key (EIP-712 `TeeBatch`); otherwise as `commitBatch`
    /// and `commitTee`.
    /// @return batchId `keccak256(abi.encode(BatchHeader(msg.sender, modelId, root, count, digest)))`.
    function commitTeeBatch(
        bytes32 modelId,
        bytes32 root,
        uint32 count,
        string calldata dataURI,
        TeeSeal calldata seal
    ) external returns (bytes32 batchId);

    /// @notice Commits one inference of `modelId` by the caller, settled at once by a proof that the
    /// verifier governance approved for the model accepts (`IInferenceVerifier.verifyInference`). The model
    /// must accept commitments (not revoked, inside its grace time) and proofs (`policy.proofAccepted`). No
    /// stake is required: a proven record is never disputable, so there is nothing to slash.
    /// @param inference `inputHash` is `keccak256(input)` of the input inside `proof`; `outputHash` must be
    /// `keccak256(output)`; `traceRoot` is not checked by the proof (pass the engine's trace root or zero).
    /// @param output The model's output bytes (emitted).
    /// @param proof `abi.encode(bytes input, address prover, bytes systemProof)` with `prover = msg.sender`: the
    /// ledger passes `inputCommitment = keccak256(abi.encode(inference.inputHash, msg.sender))`.
    /// @return id `keccak256(abi.encode(CommitmentKey(msg.sender, modelId, inference, binding)))` with
    /// `binding = bytes32(uint256(uint160(verifier)))`; `finalityOf(id)` is `(Final, Proof)` from then on.
    function commitVerified(
        bytes32 modelId,
        Inference calldata inference,
        bytes calldata output,
        bytes calldata proof
    ) external returns (bytes32 id);

    /// @notice Marks a dispute opened on a single commitment (never a proven one). DISPUTE_ROLE only.
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

    /// @notice Marks a dispute on a single commitment closed; overturns it if `fraudProven` (the challenger
    /// won), `byProof` saying whether by a proof rather than by the provider's silence. An overturned
    /// TEE-signed record revokes its enclave key; a proof also flags the key's environment as compromised.
    /// DISPUTE_ROLE only.
    /// @return newlyOverturned True only for the first proven fraud: the caller slashes exactly then.
    /// @return stillOpen Disputes still open on the commitment.
    function markDisputeClosed(
        bytes32 id,
        bool fraudProven,
        bool byProof
    ) external returns (bool newlyOverturned, uint24 stillOpen);

    /// @notice Marks a dispute on a batch leaf closed; overturns the leaf if `fraudProven`.
    /// DISPUTE_ROLE only.
    /// @return newlyOverturned True only for the first proven fraud on this leaf.
    /// @return stillOpen Disputes still open on the leaf.
    function markLeafDisputeClosed(
        bytes32 batchId,
        bytes32 leafHash,
        bool fraudProven,
        bool byProof
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

    /// @notice Binds the environment registry that writes the enclave and environment caches; once only.
    /// DEFAULT_ADMIN_ROLE only.
    function bindEnvironments(address environments) external;

    /// @notice TEE admission cache write: how `environment` may serve `modelId` (zero: not allowed).
    /// Bound registry only.
    function syncTeeTerms(bytes32 modelId, bytes32 environment, TeeTerms calldata terms) external;

    /// @notice TEE admission cache write: an enclave key. Bound environment registry only.
    function syncEnclaveTerms(address enclaveKey, EnclaveTerms calldata terms) external;

    /// @notice TEE admission cache write: an environment. Bound environment registry only.
    function syncEnvironmentTerms(bytes32 environment, EnvironmentTerms calldata terms) external;

    /// @notice Proof admission cache write: whether a model accepts proofs, its verifier and the verifier's
    /// revocation. Bound registry only.
    function syncProofTerms(bytes32 modelId, ProofTerms calldata terms) external;

    /// @notice Admission cache write: a model's commit terms. Bound registry only.
    function syncCommitTerms(bytes32 modelId, CommitTerms calldata terms) external;

    /// @notice Admission cache write: a provider's active stake. Bound stake manager only.
    function syncProviderStake(address provider, uint96 activeStake) external;

    /// @notice The record of a commitment or batch (kind None if unknown). For a TEE-signed record the
    /// provider is resolved to the key's operator and the deadline and finality are the ones in force
    /// (after a fallback to the full window, if the key lost trust in time).
    function recordOf(bytes32 id) external view returns (Record memory);

    /// @notice What the ledger knows of a TEE-signed commitment or batch (all zero for other records): its
    /// key, operator and environment, mode, deadlines, when its key lost trust (revoked later, for an
    /// instant-final record) and whether fraud was proven against it (after finality, for an instant one).
    function teeRecordOf(bytes32 id) external view returns (TeeRecord memory);

    /// @notice What the ledger knows of a proven commitment (all zero for other records): the verifier that
    /// proved it, when, and whether governance revoked that verifier since (the record stays Final).
    function proofRecordOf(bytes32 id) external view returns (ProofRecord memory);

    /// @notice The cached proof terms of a model.
    function proofTermsOf(bytes32 modelId) external view returns (ProofTerms memory);

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

    /// @notice The bound environment registry (zero until bound).
    function environments() external view returns (address);

    /// @notice The cached TEE terms of a (model, environment) pair.
    function teeTermsOf(bytes32 modelId, bytes32 environment) external view returns (TeeTerms memory);

    /// @notice The cached terms of an enclave key.
    function enclaveTermsOf(address enclaveKey) external view returns (EnclaveTerms memory);

    /// @notice The cached terms of an environment.
    function environmentTermsOf(bytes32 environment) external view returns (EnvironmentTerms memory);

    /// @notice The EIP-712 digest an enclave key signs for `commitTee` (the seal's v, r, s are ignored).
    function teeCommitmentDigest(
        bytes32 modelId,
        Inference calldata inference,
        TeeSeal calldata seal
    ) external view returns (bytes32);
}

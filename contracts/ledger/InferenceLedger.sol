// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IEnvironmentRegistry} from "../interfaces/IEnvironmentRegistry.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {RecordFlags} from "../libraries/RecordFlags.sol";
import {CommitTerms, ModelStatus, ProofTerms, TeeTerms, VerifierInfo} from "../types/Model.sol";
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
    RecordKind,
    TeeRecord,
    TeeSeal
} from "../types/Commitment.sol";

/// @title InferenceLedger
/// @notice Commitments of AI inferences by staked providers, and their dispute status.
/// @dev Gas budget of `commit`: one fresh slot (the record), two cold slots (the model's terms and the
/// provider's stake in the admission cache), one log. Nothing else is read or written. `commitTee` adds
/// three cold slots (the (model, environment) pair, the enclave key, the environment), the EIP-712 hash
/// and one `ecrecover`; its replay protection is the record's own id, which binds the signed digest.
/// The viaIR dispatcher compares selectors one by one in ascending order, so every external function whose
/// selector sorts below `commit`'s (0x2c7580bd) costs each commit about 20 gas: functions added later are
/// named so that theirs sort above it (hence `syncEnclaveTerms`, `syncEnvironmentTerms`, `commitVerified`
/// 0x96a93bce, `syncProofTerms` 0x9f591dd1, `proofTermsOf` 0xc1bd4728, `proofRecordOf` 0xda616161).
contract InferenceLedger is IInferenceLedger, AccessControl, EIP712 {
    using RecordFlags for uint8;

    /// @notice Dispute contracts: mark disputes and disclosure demands opened and closed, overturn.
    bytes32 public constant DISPUTE_ROLE = keccak256("verity.role.dispute");
    /// @dev Oracles: record providers' answers to their requests (`commitForRequest`, `commitSealedForRequest`).
    /// `keccak256("verity.role.oracle")`; not a public getter, whose selector would sort below `commit`'s.
    bytes32 private constant ORACLE_ROLE = keccak256("verity.role.oracle");

    /// @notice Longest `inputData` URI of a single commitment and longest batch `dataURI`, in bytes.
    uint256 public constant MAX_URI_BYTES = 256;

    /// @dev EIP-712 type of a TEE-signed commitment (docs/protocol.md, "TEE-signed commitments"). Not a public
    /// getter: every getter deepens the selector dispatch that `commit` pays for.
    bytes32 private constant TEE_COMMITMENT_TYPEHASH = keccak256(
        "TeeCommitment(bytes32 modelId,bytes32 inputHash,bytes32 outputHash,bytes32 traceRoot,"
        "bytes32 environment,address enclaveKey,uint64 nonce,uint64 deadline)"
    );
    /// @dev EIP-712 type of a TEE-signed batch.
    bytes32 private constant TEE_BATCH_TYPEHASH = keccak256(
        "TeeBatch(bytes32 modelId,bytes32 root,uint32 count,"
        "bytes32 environment,address enclaveKey,uint64 nonce,uint64 deadline)"
    );

    /// @dev Selectors of the errors `commit` raises in assembly.
    uint256 private constant SELECTOR_ZERO_HASH = 0x3086c1f7;
    uint256 private constant SELECTOR_INVALID_INPUT_DATA = 0x8479216a;

    /// @inheritdoc IInferenceLedger
    address public registry;
    /// @inheritdoc IInferenceLedger
    address public stakeManager;
    /// @inheritdoc IInferenceLedger
    address public environments;

    mapping(bytes32 id => Record) private _records;
    mapping(bytes32 leafId => LeafRecord) private _leaves;
    mapping(bytes32 modelId => CommitTerms) private _terms;
    mapping(address provider => uint96) private _providerStake;
    mapping(bytes32 pair => TeeTerms) private _teeTerms;
    mapping(address enclaveKey => EnclaveTerms) private _enclaves;
    mapping(bytes32 environment => EnvironmentTerms) private _environmentTerms;
    mapping(bytes32 modelId => ProofTerms) private _proofTerms;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (binds the sources once, grants DISPUTE_ROLE).
    constructor(address admin) EIP712("Verity Inference Ledger", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ commitments

    /// @inheritdoc IInferenceLedger
    function commit(
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 outputHash,
        bytes32 traceRoot,
        bytes calldata inputData
    ) external returns (bytes32 id) {
        assembly ("memory-safe") {
            if or(or(iszero(inputHash), iszero(outputHash)), iszero(traceRoot)) {
                mstore(0, SELECTOR_ZERO_HASH) // InferenceLedgerZeroHash()
                revert(0x1c, 0x04)
            }
        }
        (uint48 deadline, uint256 inputDim, ) = _admit(modelId);
        uint256 length = inputData.length;
        uint256 flags;
        bytes32 topic = InferenceCommitted.selector;
        uint256 p;
        assembly ("memory-safe") {
            p := mload(0x40)
            // id = keccak256(abi.encode(caller, modelId, inputHash, outputHash, traceRoot, bytes32(0)))
            mstore(p, caller())
            mstore(add(p, 0x20), modelId)
            mstore(add(p, 0x40), inputHash)
            mstore(add(p, 0x60), outputHash)
            mstore(add(p, 0x80), traceRoot)
            mstore(add(p, 0xa0), 0)
            id := keccak256(p, 0xc0)
            // The same memory then holds the log of `InferenceCommitted(id, modelId, msg.sender, inputHash,
            // outputHash, traceRoot, inputData)`, encoded by hand (the ABI encoder's copy loop costs ~300
            // gas on the hottest path): five head words, then the bytes.
            mstore(add(p, 0x20), inputHash)
            mstore(add(p, 0x40), outputHash)
            mstore(add(p, 0x60), traceRoot)
            mstore(add(p, 0x80), 0xa0) // offset of `inputData`: after the five head words
            mstore(add(p, 0xa0), length)
            calldatacopy(add(p, 0xc0), inputData.offset, length)
            mstore(add(add(p, 0xc0), length), 0) // zero the padding of the last word
            // The input is public when the event carries exactly the model's input.
            if eq(length, inputDim) {
                flags := mul(eq(keccak256(add(p, 0xc0), length), inputHash), 4) // RecordFlags.INPUT_PUBLIC
            }
            // INVARIANT: no game ever has to re-send an input longer than the model's input or a short URI.
            if and(iszero(flags), gt(length, 256)) {
                // InferenceLedgerInvalidInputData(length, inputDim, MAX_URI_BYTES)
                mstore(p, SELECTOR_INVALID_INPUT_DATA)
                mstore(add(p, 0x20), length)
                mstore(add(p, 0x40), inputDim)
                mstore(add(p, 0x60), 256) // MAX_URI_BYTES
                revert(add(p, 0x1c), 0x64)
            }
        }
        // `_create` allocates no memory: the log's data past the free memory pointer stays intact.
        _create(id, deadline, RecordKind.Single, uint8(flags));
        assembly ("memory-safe") {
            log3(p, add(0xc0, and(add(length, 31), not(31))), topic, id, modelId)
        }
    }

    /// @inheritdoc IInferenceLedger
    function commitBatch(
        bytes32 modelId,
        bytes32 root,
        uint32 count,
        string calldata dataURI
    ) external returns (bytes32 batchId) {
        if (root == bytes32(0)) revert InferenceLedgerZeroHash();
        if (count == 0) revert InferenceLedgerEmptyBatch();
        if (bytes(dataURI).length > MAX_URI_BYTES) {
            revert InferenceLedgerDataURITooLong(bytes(dataURI).length, MAX_URI_BYTES);
        }
        (uint48 deadline, , uint16 maxLeaves) = _admit(modelId);
        if (count > maxLeaves) revert InferenceLedgerBatchTooLarge(count, maxLeaves);
        batchId = keccak256(abi.encode(msg.sender, modelId, root, count, bytes32(0)));
        _create(batchId, deadline, RecordKind.Batch, 0);
        emit BatchCommitted(batchId, modelId, msg.sender, root, count, dataURI);
    }

    // ------------------------------------------------------------------ TEE-signed commitments

    /// @inheritdoc IInferenceLedger
    function commitTee(
        bytes32 modelId,
        Inference calldata inference,
        bytes calldata inputData,
        TeeSeal calldata seal
    ) external returns (bytes32 id) {
        if (inference.inputHash == 0 || inference.outputHash == 0 || inference.traceRoot == 0) {
            revert InferenceLedgerZeroHash();
        }
        (CommitTerms memory terms, TeeTerms memory tee, uint32 serial) = _admitTee(modelId, seal, msg.sender);
        bytes32 digest = _teeCommitmentDigest(modelId, inference, seal);
        _checkSeal(digest, seal);
        uint256 length = inputData.length;
        uint8 flags;
        if (length == terms.inputDim && keccak256(inputData) == inference.inputHash) flags = RecordFlags.INPUT_PUBLIC;
        else if (length > MAX_URI_BYTES) revert InferenceLedgerInvalidInputData(length, terms.inputDim, MAX_URI_BYTES);
        // INVARIANT: the id binds the signed digest, so one signature makes at most one commitment.
        id = keccak256(abi.encode(msg.sender, modelId, inference, digest));
        _createTee(id, RecordKind.Single, flags, terms.challengeWindow, tee, serial);
        emit TeeInferenceCommitted(
            id,
            modelId,
            msg.sender,
            inference,
            digest,
            seal.enclaveKey,
            seal.environment,
            tee.mode,
            inputData
        );
    }

    /// @inheritdoc IInferenceLedger
    function commitTeeBatch(
        bytes32 modelId,
        bytes32 root,
        uint32 count,
        string calldata dataURI,
        TeeSeal calldata seal
    ) external returns (bytes32 batchId) {
        if (root == bytes32(0)) revert InferenceLedgerZeroHash();
        if (count == 0) revert InferenceLedgerEmptyBatch();
        if (bytes(dataURI).length > MAX_URI_BYTES) {
            revert InferenceLedgerDataURITooLong(bytes(dataURI).length, MAX_URI_BYTES);
        }
        (CommitTerms memory terms, TeeTerms memory tee, uint32 serial) = _admitTee(modelId, seal, msg.sender);
        if (count > terms.maxBatchLeaves) revert InferenceLedgerBatchTooLarge(count, terms.maxBatchLeaves);
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    TEE_BATCH_TYPEHASH,
                    modelId,
                    root,
                    count,
                    seal.environment,
                    seal.enclaveKey,
                    seal.nonce,
                    seal.deadline
                )
            )
        );
        _checkSeal(digest, seal);
        batchId = keccak256(abi.encode(msg.sender, modelId, root, count, digest));
        _createTee(batchId, RecordKind.Batch, 0, terms.challengeWindow, tee, serial);
        emit TeeBatchCommitted(
            batchId,
            modelId,
            msg.sender,
            root,
            count,
            digest,
            seal.enclaveKey,
            seal.environment,
            tee.mode,
            dataURI
        );
    }

    // ------------------------------------------------------------------ proof-settled commitments

    /// @inheritdoc IInferenceLedger
    function commitVerified(
        bytes32 modelId,
        Inference calldata inference,
        bytes calldata output,
        bytes calldata proof
    ) external returns (bytes32 id) {
        CommitTerms memory terms = _terms[modelId];
        // The model's lifecycle applies as to TEE commitments (no dispute game is involved).
        if (block.timestamp >= terms.acceptsUntil) _refuseTee(modelId, terms);
        ProofTerms memory proofTerms = _proofTerms[modelId];
        address verifier = proofTerms.verifier;
        if (verifier == address(0) || proofTerms.revokedAt != 0) _refuseProof(modelId, proofTerms);
        bytes32 outputHash = keccak256(output);
        if (outputHash != inference.outputHash) revert InferenceLedgerOutputMismatch(inference.outputHash, outputHash);
        // INVARIANT: the proof is bound to the caller: a proof copied from the mempool fails for anyone else.
        bytes32 inputCommitment = keccak256(abi.encode(inference.inputHash, msg.sender));
        // The binding is the verifier: one verifier proves one inference once; another verifier makes another
        // record (so a record's binding names the verifier whose revocation a dApp may care about).
        id = keccak256(abi.encode(msg.sender, modelId, inference, bytes32(uint256(uint160(verifier)))));
        // Effects before the call: a verifier that re-enters finds the record (InferenceLedgerDuplicate).
        _createProven(id, proofTerms.serial);
        IInferenceVerifier(verifier).verifyInference(modelId, inputCommitment, output, proof);
        emit ProofCommitted(id, modelId, msg.sender, inference, verifier, output);
    }

    // ------------------------------------------------------------------ oracle requests

    /// @inheritdoc IInferenceLedger
    function commitForRequest(
        address provider,
        bytes32 modelId,
        Inference calldata inference,
        bytes32 requestId
    ) external onlyRole(ORACLE_ROLE) returns (bytes32 id) {
        _checkRequested(inference, requestId);
        (uint48 deadline, , ) = _admitFor(modelId, provider);
        id = keccak256(abi.encode(provider, modelId, inference, requestId));
        // The oracle's request event carries the input, so no game ever demands it.
        _createFor(id, provider, deadline, RecordFlags.INPUT_PUBLIC | RecordFlags.REQUESTED);
        emit RequestCommitted(id, modelId, provider, requestId, inference, requestId, address(0));
    }

    /// @inheritdoc IInferenceLedger
    function commitSealedForRequest(
        address provider,
        bytes32 modelId,
        Inference calldata inference,
        TeeSeal calldata seal,
        bytes32 requestId
    ) external onlyRole(ORACLE_ROLE) returns (bytes32 id, bytes32 binding) {
        _checkRequested(inference, requestId);
        (CommitTerms memory terms, TeeTerms memory tee, uint32 serial) = _admitTee(modelId, seal, provider);
        bytes32 digest = _teeCommitmentDigest(modelId, inference, seal);
        _checkSeal(digest, seal);
        binding = keccak256(abi.encode(digest, requestId));
        id = keccak256(abi.encode(provider, modelId, inference, binding));
        _createTee(
            id,
            RecordKind.Single,
            RecordFlags.INPUT_PUBLIC | RecordFlags.REQUESTED,
            terms.challengeWindow,
            tee,
            serial
        );
        emit RequestCommitted(id, modelId, provider, requestId, inference, binding, seal.enclaveKey);
    }

    // ------------------------------------------------------------------ disputes

    /// @inheritdoc IInferenceLedger
    function markDisputeOpened(bytes32 id) external onlyRole(DISPUTE_ROLE) returns (address provider, uint8 flags) {
        Record storage stored = _unproven(id);
        flags = stored.flags;
        _checkDisputable(id, stored, flags.has(RecordFlags.OVERTURNED));
        uint24 open = stored.openDisputes + 1;
        stored.openDisputes = open;
        emit DisputeMarked(id, bytes32(0), open);
        return (_providerOf(stored, flags), flags);
    }

    /// @inheritdoc IInferenceLedger
    function markLeafDisputeOpened(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) external onlyRole(DISPUTE_ROLE) returns (bytes32 batchId, bytes32 leafHash, uint8 flags) {
        batchId = Commitments.batchId(header);
        Record storage batch = _record(batchId, RecordKind.Batch);
        leafHash = _includedLeaf(batchId, header.root, proof, leaf);
        LeafRecord storage stored = _leaves[Commitments.leafId(batchId, leafHash)];
        flags = batch.flags;
        if (flags.has(RecordFlags.OVERTURNED)) revert InferenceLedgerAlreadyOverturned(batchId);
        _checkDisputable(batchId, batch, stored.overturned);
        uint24 open = stored.openDisputes + 1;
        stored.openDisputes = open;
        batch.openDisputes += 1;
        emit DisputeMarked(batchId, leafHash, open);
    }

    /// @inheritdoc IInferenceLedger
    function markDisputeClosed(
        bytes32 id,
        bool fraudProven,
        bool byProof
    ) external onlyRole(DISPUTE_ROLE) returns (bool newlyOverturned, uint24 stillOpen) {
        Record storage stored = _unproven(id);
        uint24 open = stored.openDisputes;
        if (open == 0) revert InferenceLedgerNoOpenDispute(id);
        stillOpen = open - 1;
        stored.openDisputes = stillOpen;
        emit DisputeCleared(id, bytes32(0), stillOpen);
        // INVARIANT: a commitment is overturned at most once, so its provider is slashed at most once.
        uint8 flags = stored.flags;
        if (fraudProven && !flags.has(RecordFlags.OVERTURNED)) {
            stored.flags = flags | RecordFlags.OVERTURNED;
            emit Overturned(id, bytes32(0));
            newlyOverturned = true;
            if (flags.has(RecordFlags.TEE)) _reportFraud(stored, id, byProof);
        }
    }

    /// @inheritdoc IInferenceLedger
    function markLeafDisputeClosed(
        bytes32 batchId,
        bytes32 leafHash,
        bool fraudProven,
        bool byProof
    ) external onlyRole(DISPUTE_ROLE) returns (bool newlyOverturned, uint24 stillOpen) {
        Record storage batch = _record(batchId, RecordKind.Batch);
        LeafRecord storage stored = _leaves[Commitments.leafId(batchId, leafHash)];
        uint24 open = stored.openDisputes;
        if (open == 0) revert InferenceLedgerNoOpenDispute(batchId);
        stillOpen = open - 1;
        stored.openDisputes = stillOpen;
        batch.openDisputes -= 1;
        emit DisputeCleared(batchId, leafHash, stillOpen);
        // INVARIANT: a leaf is overturned at most once, so its provider is slashed at most once for it.
        if (fraudProven && !stored.overturned) {
            stored.overturned = true;
            uint8 flags = batch.flags;
            batch.flags = flags | RecordFlags.LEAF_OVERTURNED;
            emit Overturned(batchId, leafHash);
            newlyOverturned = true;
            if (flags.has(RecordFlags.TEE)) _reportFraud(batch, batchId, byProof);
        }
    }

    /// @inheritdoc IInferenceLedger
    function markDisclosureOpened(
        BatchHeader calldata header
    ) external onlyRole(DISPUTE_ROLE) returns (bytes32 batchId) {
        batchId = Commitments.batchId(header);
        Record storage batch = _record(batchId, RecordKind.Batch);
        uint8 flags = batch.flags;
        if (flags.has(RecordFlags.DISCLOSED)) revert InferenceLedgerAlreadyDisclosed(batchId);
        if (flags.has(RecordFlags.DISCLOSURE_OPEN)) revert InferenceLedgerDisclosureOpen(batchId);
        _checkDisputable(batchId, batch, flags.has(RecordFlags.OVERTURNED));
        batch.flags = flags | RecordFlags.DISCLOSURE_OPEN;
        batch.openDisputes += 1;
        emit DisclosureMarked(batchId);
    }

    /// @inheritdoc IInferenceLedger
    function markDisclosureClosed(
        BatchHeader calldata header,
        bool disclosed
    ) external onlyRole(DISPUTE_ROLE) returns (bool newlyOverturned) {
        bytes32 batchId = Commitments.batchId(header);
        Record storage batch = _record(batchId, RecordKind.Batch);
        uint8 flags = batch.flags;
        if (!flags.has(RecordFlags.DISCLOSURE_OPEN)) revert InferenceLedgerNoOpenDisclosure(batchId);
        flags &= ~RecordFlags.DISCLOSURE_OPEN;
        batch.openDisputes -= 1;
        if (disclosed) {
            // INVARIANT: once its data is on-chain, every leaf stays disputable for a full window.
            uint48 reopened = uint48(block.timestamp) + _terms[header.modelId].challengeWindow;
            if (reopened > batch.challengeDeadline) batch.challengeDeadline = reopened;
            batch.flags = flags | RecordFlags.DISCLOSED;
            emit BatchDisclosed(batchId, batch.challengeDeadline);
        } else if (!flags.has(RecordFlags.OVERTURNED)) {
            batch.flags = flags | RecordFlags.OVERTURNED;
            emit Overturned(batchId, bytes32(0));
            newlyOverturned = true;
        } else {
            batch.flags = flags;
        }
    }

    // ------------------------------------------------------------------ admission cache

    /// @inheritdoc IInferenceLedger
    function bindSources(address registry_, address stakeManager_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // INVARIANT: the cache has exactly two writers for the ledger's whole life.
        if (registry != address(0) || registry_ == address(0) || stakeManager_ == address(0)) {
            revert InferenceLedgerInvalidBinding();
        }
        registry = registry_;
        stakeManager = stakeManager_;
        emit SourcesBound(registry_, stakeManager_);
    }

    /// @inheritdoc IInferenceLedger
    function bindEnvironments(address environments_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // INVARIANT: the TEE admission cache has one writer of keys and environments for the ledger's life.
        if (environments != address(0) || environments_ == address(0)) revert InferenceLedgerInvalidBinding();
        environments = environments_;
        emit EnvironmentsBound(environments_);
    }

    /// @inheritdoc IInferenceLedger
    function syncTeeTerms(bytes32 modelId, bytes32 environment, TeeTerms calldata terms) external {
        if (msg.sender != registry) revert InferenceLedgerUnauthorizedSource(msg.sender);
        _teeTerms[_pair(modelId, environment)] = terms;
        emit TeeTermsSynced(modelId, environment, terms);
    }

    /// @inheritdoc IInferenceLedger
    function syncEnclaveTerms(address enclaveKey, EnclaveTerms calldata terms) external {
        if (msg.sender != environments) revert InferenceLedgerUnauthorizedSource(msg.sender);
        _enclaves[enclaveKey] = terms;
        emit EnclaveSynced(enclaveKey, terms);
    }

    /// @inheritdoc IInferenceLedger
    function syncEnvironmentTerms(bytes32 environment, EnvironmentTerms calldata terms) external {
        if (msg.sender != environments) revert InferenceLedgerUnauthorizedSource(msg.sender);
        _environmentTerms[environment] = terms;
        emit EnvironmentSynced(environment, terms);
    }

    /// @inheritdoc IInferenceLedger
    function syncProofTerms(bytes32 modelId, ProofTerms calldata terms) external {
        if (msg.sender != registry) revert InferenceLedgerUnauthorizedSource(msg.sender);
        _proofTerms[modelId] = terms;
        emit ProofTermsSynced(modelId, terms);
    }

    /// @inheritdoc IInferenceLedger
    function syncCommitTerms(bytes32 modelId, CommitTerms calldata terms) external {
        if (msg.sender != registry) revert InferenceLedgerUnauthorizedSource(msg.sender);
        _terms[modelId] = terms;
        emit CommitTermsSynced(modelId, terms);
    }

    /// @inheritdoc IInferenceLedger
    function syncProviderStake(address provider, uint96 activeStake) external {
        if (msg.sender != stakeManager) revert InferenceLedgerUnauthorizedSource(msg.sender);
        _providerStake[provider] = activeStake;
        emit ProviderStakeSynced(provider, activeStake);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IInferenceLedger
    function recordOf(bytes32 id) external view returns (Record memory record) {
        Record storage stored = _records[id];
        record = stored;
        // A proven record's dispute counter holds its verifier's serial (proofRecordOf).
        if (record.finality == Finality.Proof) record.openDisputes = 0;
        if (record.flags.has(RecordFlags.TEE)) {
            record.provider = _providerOf(stored, record.flags);
            (record.challengeDeadline, record.finality) = _deadlineOf(stored);
        }
    }

    /// @inheritdoc IInferenceLedger
    function teeRecordOf(bytes32 id) external view returns (TeeRecord memory tee) {
        Record storage stored = _records[id];
        uint8 flags = stored.flags;
        if (!flags.has(RecordFlags.TEE)) return tee;
        (uint32 serial, uint48 fallbackDeadline) = _teeRef(stored);
        (tee.enclaveKey, tee.operator, tee.environment, tee.trustLostAt) = IEnvironmentRegistry(environments)
            .enclaveBySerial(serial);
        tee.mode = flags.has(RecordFlags.TEE_INSTANT) ? TeeMode.Instant : TeeMode.Window;
        tee.teeDeadline = stored.challengeDeadline;
        tee.fallbackDeadline = fallbackDeadline;
        // A batch is proven wrong by a lost leaf game; a whole batch overturned by a failed disclosure had its
        // data withheld, which says nothing about the enclave.
        if (stored.kind == RecordKind.Batch) {
            tee.provenWrong = flags.has(RecordFlags.LEAF_OVERTURNED);
            tee.withheld = flags.has(RecordFlags.OVERTURNED);
        } else {
            tee.provenWrong = flags.has(RecordFlags.OVERTURNED);
        }
    }

    /// @inheritdoc IInferenceLedger
    function proofRecordOf(bytes32 id) external view returns (ProofRecord memory proven) {
        Record storage stored = _records[id];
        if (stored.finality != Finality.Proof) return proven;
        proven.serial = stored.openDisputes;
        proven.provenAt = stored.challengeDeadline;
        VerifierInfo memory info;
        (proven.verifier, info) = IModelRegistry(registry).verifierBySerial(proven.serial);
        proven.verifierRevokedAt = info.revokedAt;
    }

    /// @inheritdoc IInferenceLedger
    function proofTermsOf(bytes32 modelId) external view returns (ProofTerms memory) {
        return _proofTerms[modelId];
    }

    /// @inheritdoc IInferenceLedger
    function leafRecordOf(bytes32 batchId, bytes32 leafHash) external view returns (LeafRecord memory) {
        return _leaves[Commitments.leafId(batchId, leafHash)];
    }

    /// @inheritdoc IInferenceLedger
    function status(bytes32 id) public view returns (CommitmentStatus status_) {
        (status_, ) = finalityOf(id);
    }

    /// @inheritdoc IInferenceLedger
    function finalityOf(bytes32 id) public view returns (CommitmentStatus status_, Finality finality) {
        Record storage stored = _records[id];
        if (stored.kind == RecordKind.None) return (CommitmentStatus.None, Finality.None);
        uint8 flags = stored.flags;
        // INVARIANT: a proven commitment is Final from its commit on, whatever happens later (even if its
        // verifier is revoked: proofRecordOf says so).
        if (stored.finality == Finality.Proof) return (CommitmentStatus.Final, Finality.Proof);
        // INVARIANT: an instant TEE commitment is Final from its commit on, whatever happens later.
        if (flags.has(RecordFlags.TEE_INSTANT)) return (CommitmentStatus.Final, Finality.Tee);
        bool overturned = flags.has(RecordFlags.OVERTURNED) || flags.has(RecordFlags.LEAF_OVERTURNED);
        (uint48 deadline, Finality settles) = _deadlineOf(stored);
        status_ = _status(deadline, stored.openDisputes != 0, overturned);
        if (status_ == CommitmentStatus.Final) finality = settles;
    }

    /// @inheritdoc IInferenceLedger
    function isFinal(bytes32 id) external view returns (bool) {
        return status(id) == CommitmentStatus.Final;
    }

    /// @inheritdoc IInferenceLedger
    function leafStatus(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) public view returns (CommitmentStatus) {
        bytes32 batchId = Commitments.batchId(header);
        Record storage batch = _record(batchId, RecordKind.Batch);
        bytes32 leafHash = _includedLeaf(batchId, header.root, proof, leaf);
        LeafRecord storage stored = _leaves[Commitments.leafId(batchId, leafHash)];
        uint8 flags = batch.flags;
        if (flags.has(RecordFlags.TEE_INSTANT)) return CommitmentStatus.Final;
        (uint48 deadline, ) = _deadlineOf(batch);
        // A leaf is overturned with its whole batch, and disputed while the batch's disclosure is open.
        return
            _status(
                deadline,
                stored.openDisputes != 0 || flags.has(RecordFlags.DISCLOSURE_OPEN),
                stored.overturned || flags.has(RecordFlags.OVERTURNED)
            );
    }

    /// @inheritdoc IInferenceLedger
    function isLeafFinal(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) external view returns (bool) {
        return leafStatus(header, proof, leaf) == CommitmentStatus.Final;
    }

    /// @inheritdoc IInferenceLedger
    function verifyLeaf(bytes32 root, bytes32[] calldata proof, Inference calldata leaf) external pure returns (bool) {
        return Commitments.includes(root, proof, Commitments.leafHash(leaf));
    }

    /// @inheritdoc IInferenceLedger
    function commitmentIdOf(CommitmentKey calldata key) external pure returns (bytes32) {
        return Commitments.commitmentId(key);
    }

    /// @inheritdoc IInferenceLedger
    function batchIdOf(BatchHeader calldata header) external pure returns (bytes32) {
        return Commitments.batchId(header);
    }

    /// @inheritdoc IInferenceLedger
    function commitTermsOf(bytes32 modelId) external view returns (CommitTerms memory) {
        return _terms[modelId];
    }

    /// @inheritdoc IInferenceLedger
    function providerStakeOf(address provider) external view returns (uint96) {
        return _providerStake[provider];
    }

    /// @inheritdoc IInferenceLedger
    function teeTermsOf(bytes32 modelId, bytes32 environment) external view returns (TeeTerms memory) {
        return _teeTerms[_pair(modelId, environment)];
    }

    /// @inheritdoc IInferenceLedger
    function enclaveTermsOf(address enclaveKey) external view returns (EnclaveTerms memory) {
        return _enclaves[enclaveKey];
    }

    /// @inheritdoc IInferenceLedger
    function environmentTermsOf(bytes32 environment) external view returns (EnvironmentTerms memory) {
        return _environmentTerms[environment];
    }

    /// @inheritdoc IInferenceLedger
    function teeCommitmentDigest(
        bytes32 modelId,
        Inference calldata inference,
        TeeSeal calldata seal
    ) external view returns (bytes32) {
        return _teeCommitmentDigest(modelId, inference, seal);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Checks that the model accepts optimistic commitments and the caller holds its minimum stake;
    /// returns the new commitment's challenge deadline, the model's input length and batch limit. Two
    /// cold slot reads. `commit`'s hottest path: it reads the caller itself (passing it costs ~40 gas per
    /// commit in the viaIR build), so the oracle's path has its own copy, `_admitFor`.
    function _admit(bytes32 modelId) private view returns (uint48 deadline, uint256 inputDim, uint16 maxLeaves) {
        CommitTerms storage terms = _terms[modelId];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(terms.slot)
        }
        if (block.timestamp >= uint40(word >> 128)) _refuse(modelId, terms);
        uint96 minStake = uint96(word);
        uint96 active = _providerStake[msg.sender];
        if (active < minStake) revert InferenceLedgerInsufficientStake(msg.sender, active, minStake);
        unchecked {
            deadline = uint48(block.timestamp + uint32(word >> 96));
        }
        return (deadline, uint24(word >> 216), uint16(word >> 240));
    }

    /// @dev `_admit` for `provider` (an oracle's answer): the same checks, the same layout.
    function _admitFor(
        bytes32 modelId,
        address provider
    ) private view returns (uint48 deadline, uint256 inputDim, uint16 maxLeaves) {
        CommitTerms storage terms = _terms[modelId];
        // One SLOAD, decoded by hand (layout in types/Model.sol: minStake 0-95, challengeWindow 96-127,
        // optimisticUntil 128-167, acceptsUntil 168-207, status 208-215, inputDim 216-239, maxBatchLeaves
        // 240-255).
        uint256 word;
        assembly ("memory-safe") {
            word := sload(terms.slot)
        }
        // The registry caches optimisticUntil = 0 for a model no game can settle: refused here, named in _refuse.
        if (block.timestamp >= uint40(word >> 128)) _refuse(modelId, terms);
        uint96 minStake = uint96(word);
        uint96 active = _providerStake[provider];
        if (active < minStake) revert InferenceLedgerInsufficientStake(provider, active, minStake);
        // No overflow before the year 8.9 million: timestamp < 2^48 - 2^32 and window < 2^32.
        unchecked {
            deadline = uint48(block.timestamp + uint32(word >> 96));
        }
        return (deadline, uint24(word >> 216), uint16(word >> 240));
    }

    function _checkRequested(Inference calldata inference, bytes32 requestId) private pure {
        if (inference.inputHash == 0 || inference.outputHash == 0 || inference.traceRoot == 0) {
            revert InferenceLedgerZeroHash();
        }
        if (requestId == 0) revert InferenceLedgerZeroRequest();
    }

    function _refuse(bytes32 modelId, CommitTerms storage terms) private view {
        if (terms.status == ModelStatus.None) revert InferenceLedgerUnknownModel(modelId);
        // Only models of opaque engines have no input length: no dispute game can recompute them.
        if (terms.inputDim == 0) revert InferenceLedgerNotOptimistic(modelId);
        if (terms.status == ModelStatus.Revoked) revert InferenceLedgerModelRevoked(modelId);
        revert InferenceLedgerModelDeprecated(modelId, terms.acceptsUntil);
    }

    /// @dev The admission of a TEE-signed commitment: the model accepts commitments and TEE signatures
    /// from this environment, `provider` holds its stake and operates the key, the key is valid and runs
    /// that environment, and the environment is approved. Five cold slot reads, no external call.
    function _admitTee(
        bytes32 modelId,
        TeeSeal calldata seal,
        address provider
    ) private view returns (CommitTerms memory terms, TeeTerms memory tee, uint32 serial) {
        if (block.timestamp > seal.deadline) revert InferenceLedgerSealExpired(seal.deadline);
        terms = _terms[modelId];
        if (block.timestamp >= terms.acceptsUntil) _refuseTee(modelId, terms);
        uint96 active = _providerStake[provider];
        if (active < terms.minStake) revert InferenceLedgerInsufficientStake(provider, active, terms.minStake);
        bytes32 environment = seal.environment;
        tee = _teeTerms[_pair(modelId, environment)];
        if (tee.mode == TeeMode.None) _refuseEnvironment(modelId, environment);
        address key = seal.enclaveKey;
        EnclaveTerms memory enclave = _enclaves[key];
        if (enclave.operator != provider) {
            if (enclave.operator == address(0)) revert InferenceLedgerUnknownEnclave(key);
            revert InferenceLedgerEnclaveOfOtherOperator(key, enclave.operator, provider);
        }
        if (block.timestamp >= enclave.validUntil) _refuseEnclave(key);
        EnvironmentTerms memory env = _environmentTerms[environment];
        if (env.serial != enclave.environmentSerial) revert InferenceLedgerEnvironmentMismatch(key, environment);
        if (!env.approved) revert InferenceLedgerEnvironmentRevoked(environment);
        serial = enclave.serial;
    }

    function _refuseTee(bytes32 modelId, CommitTerms memory terms) private pure {
        if (terms.status == ModelStatus.None) revert InferenceLedgerUnknownModel(modelId);
        if (terms.status == ModelStatus.Revoked) revert InferenceLedgerModelRevoked(modelId);
        revert InferenceLedgerModelDeprecated(modelId, terms.acceptsUntil);
    }

    function _refuseProof(bytes32 modelId, ProofTerms memory terms) private pure {
        if (!terms.accepted) revert InferenceLedgerProofNotAccepted(modelId);
        if (terms.revokedAt != 0) revert InferenceLedgerVerifierRevoked(modelId, terms.verifier, terms.revokedAt);
        revert InferenceLedgerNoVerifier(modelId);
    }

    function _refuseEnvironment(bytes32 modelId, bytes32 environment) private view {
        if (IModelRegistry(registry).policyOf(modelId).teeMode == TeeMode.None) {
            revert InferenceLedgerTeeNotAccepted(modelId);
        }
        revert InferenceLedgerEnvironmentNotAllowed(modelId, environment);
    }

    function _refuseEnclave(address key) private view {
        IEnvironmentRegistry.Enclave memory enclave = IEnvironmentRegistry(environments).enclaveOf(key);
        if (enclave.revokedAt != 0) revert InferenceLedgerEnclaveRevoked(key, enclave.revokedAt);
        revert InferenceLedgerEnclaveExpired(key, enclave.expiresAt);
    }

    /// @dev Checks that `seal` is the enclave key's signature of `digest`, with `s` in the lower half order.
    function _checkSeal(bytes32 digest, TeeSeal calldata seal) private pure {
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, seal.v, seal.r, seal.s);
        if (err == ECDSA.RecoverError.InvalidSignatureS) revert InferenceLedgerMalleableSignature(seal.s);
        if (err != ECDSA.RecoverError.NoError) revert InferenceLedgerInvalidSignature();
        // A signature for another chain, ledger or message recovers to another address.
        if (signer != seal.enclaveKey) revert InferenceLedgerSignerMismatch(seal.enclaveKey, signer);
    }

    /// @dev Writes a fresh TEE record (layout in types/Commitment.sol): the key's serial and, under a
    /// shortened window, the fallback deadline in the provider bits; finality `Tee`.
    function _createTee(
        bytes32 id,
        RecordKind kind,
        uint8 flags,
        uint32 challengeWindow,
        TeeTerms memory tee,
        uint32 serial
    ) private {
        Record storage stored = _records[id];
        if (stored.kind != RecordKind.None) revert InferenceLedgerSealReplayed(id);
        uint256 ref = serial;
        uint256 deadline = block.timestamp + tee.window;
        uint256 allFlags = flags | RecordFlags.TEE;
        if (tee.mode == TeeMode.Instant) allFlags |= RecordFlags.TEE_INSTANT;
        else ref |= (block.timestamp + challengeWindow) << 32;
        uint256 finality = uint256(Finality.Tee);
        assembly ("memory-safe") {
            sstore(
                stored.slot,
                or(or(ref, shl(160, deadline)), or(shl(232, kind), or(shl(240, allFlags), shl(248, finality))))
            )
        }
    }

    /// @dev The EIP-712 digest of `TeeCommitment` (docs/protocol.md, "TEE-signed commitments").
    function _teeCommitmentDigest(
        bytes32 modelId,
        Inference calldata inference,
        TeeSeal calldata seal
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        TEE_COMMITMENT_TYPEHASH,
                        modelId,
                        inference.inputHash,
                        inference.outputHash,
                        inference.traceRoot,
                        seal.environment,
                        seal.enclaveKey,
                        seal.nonce,
                        seal.deadline
                    )
                )
            );
    }

    /// @dev The serial of the key that signed a TEE record and its fallback deadline.
    function _teeRef(Record storage stored) private view returns (uint32 serial, uint48 fallbackDeadline) {
        uint160 ref = uint160(stored.provider);
        return (uint32(ref), uint48(ref >> 32));
    }

    /// @dev The provider of a record: stored, or for a TEE record the operator of its key.
    function _providerOf(Record storage stored, uint8 flags) private view returns (address operator) {
        if (!flags.has(RecordFlags.TEE)) return stored.provider;
        (uint32 serial, ) = _teeRef(stored);
        (, operator, , ) = IEnvironmentRegistry(environments).enclaveBySerial(serial);
    }

    /// @dev The deadline that decides a record's status and disputes, and how it settles by then. A TEE
    /// record under a shortened window falls back to the model's full window when its key or environment
    /// lost trust before the shortened window ended (revocation is O(1): read here, never written per record).
    function _deadlineOf(Record storage stored) private view returns (uint48 deadline, Finality settles) {
        deadline = stored.challengeDeadline;
        uint8 flags = stored.flags;
        if (!flags.has(RecordFlags.TEE)) return (deadline, Finality.ChallengeWindow);
        if (flags.has(RecordFlags.TEE_INSTANT)) return (deadline, Finality.Tee);
        (uint32 serial, uint48 fallbackDeadline) = _teeRef(stored);
        (, , , uint48 trustLostAt) = IEnvironmentRegistry(environments).enclaveBySerial(serial);
        // INVARIANT: trust lost after the shortened window changes nothing (Final never flips back).
        if (trustLostAt != 0 && trustLostAt <= deadline) {
            return (fallbackDeadline > deadline ? fallbackDeadline : deadline, Finality.ChallengeWindow);
        }
        return (deadline, Finality.Tee);
    }

    /// @dev An overturned TEE-signed record ends its key's trust; a fraud proof against it is also evidence
    /// against its enclave, so the registry flags the environment (a lost game by silence is not).
    function _reportFraud(Record storage stored, bytes32 id, bool byProof) private {
        (uint32 serial, ) = _teeRef(stored);
        IEnvironmentRegistry(environments).reportFraud(serial, id, byProof);
    }

    function _pair(bytes32 modelId, bytes32 environment) private pure returns (bytes32 pair) {
        assembly ("memory-safe") {
            mstore(0x00, modelId)
            mstore(0x20, environment)
            pair := keccak256(0x00, 0x40)
        }
    }

    /// @dev Writes a fresh `Record {provider: msg.sender, challengeDeadline: deadline, openDisputes: 0,
    /// kind, flags, finality: ChallengeWindow}` with one SLOAD and one SSTORE (layout in types/Commitment.sol).
    /// `commit`'s hottest path: the caller is read here (CALLER), not passed in.
    function _create(bytes32 id, uint48 deadline, RecordKind kind, uint8 flags) private {
        Record storage stored = _records[id];
        uint256 finality = uint256(Finality.ChallengeWindow);
        bool exists;
        // A record is never all zero (its kind is non-zero), so a non-zero slot is an existing record.
        assembly ("memory-safe") {
            let slot := stored.slot
            exists := iszero(iszero(sload(slot)))
            if iszero(exists) {
                sstore(
                    slot,
                    or(or(caller(), shl(160, deadline)), or(shl(232, kind), or(shl(240, flags), shl(248, finality))))
                )
            }
        }
        if (exists) revert InferenceLedgerDuplicate(id);
    }

    /// @dev A fresh single record of `provider` (an oracle's answer), as `_create` writes one.
    function _createFor(bytes32 id, address provider, uint48 deadline, uint8 flags) private {
        Record storage stored = _records[id];
        if (stored.kind != RecordKind.None) revert InferenceLedgerDuplicate(id);
        _records[id] = Record({
            provider: provider,
            challengeDeadline: deadline,
            openDisputes: 0,
            kind: RecordKind.Single,
            flags: flags,
            finality: Finality.ChallengeWindow
        });
    }

    /// @dev Writes a fresh proven record (layout in types/Commitment.sol): proven now, the verifier's serial
    /// in the dispute counter bits, finality `Proof`.
    function _createProven(bytes32 id, uint24 serial) private {
        Record storage stored = _records[id];
        if (stored.kind != RecordKind.None) revert InferenceLedgerDuplicate(id);
        uint256 packed =
            uint256(uint160(msg.sender)) |
                (block.timestamp << 160) |
                (uint256(serial) << 208) |
                (uint256(RecordKind.Single) << 232) |
                (uint256(Finality.Proof) << 248);
        assembly ("memory-safe") {
            sstore(stored.slot, packed)
        }
    }

    /// @dev A single commitment that a dispute may touch: never a proven one.
    function _unproven(bytes32 id) private view returns (Record storage stored) {
        stored = _record(id, RecordKind.Single);
        if (stored.finality == Finality.Proof) revert InferenceLedgerProven(id);
    }

    function _record(bytes32 id, RecordKind kind) private view returns (Record storage stored) {
        stored = _records[id];
        if (stored.kind != kind) revert InferenceLedgerUnknownRecord(id);
    }

    function _includedLeaf(
        bytes32 batchId,
        bytes32 root,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) private pure returns (bytes32 leafHash) {
        leafHash = Commitments.leafHash(leaf);
        if (!Commitments.includes(root, proof, leafHash)) revert InferenceLedgerLeafNotInBatch(batchId, leafHash);
    }

    /// @dev Disputes open only inside the window (for an instant TEE record: the accountability period)
    /// and never on an overturned commitment or leaf.
    function _checkDisputable(bytes32 id, Record storage stored, bool overturned) private view {
        if (overturned) revert InferenceLedgerAlreadyOverturned(id);
        (uint48 deadline, ) = _deadlineOf(stored);
        if (block.timestamp > deadline) revert InferenceLedgerChallengeWindowClosed(id, deadline);
    }

    function _status(uint48 deadline, bool disputed, bool overturned) private view returns (CommitmentStatus) {
        if (overturned) return CommitmentStatus.Overturned;
        if (disputed) return CommitmentStatus.Disputed;
        if (block.timestamp <= deadline) return CommitmentStatus.Pending;
        return CommitmentStatus.Final;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {RecordFlags} from "../libraries/RecordFlags.sol";
import {CommitTerms, ModelStatus} from "../types/Model.sol";
import {
    BatchHeader,
    CommitmentKey,
    CommitmentStatus,
    Finality,
    Inference,
    LeafRecord,
    Record,
    RecordKind
} from "../types/Commitment.sol";

/// @title InferenceLedger
/// @notice Commitments of AI inferences by staked providers, and their dispute status.
/// @dev Gas budget of `commit`: one fresh slot (the record), two cold slots (the model's terms and the
/// provider's stake in the admission cache), one log. Nothing else is read or written.
contract InferenceLedger is IInferenceLedger, AccessControl {
    using RecordFlags for uint8;

    /// @notice Dispute contracts: mark disputes and disclosure demands opened and closed, overturn.
    bytes32 public constant DISPUTE_ROLE = keccak256("verity.role.dispute");

    /// @notice Longest `inputData` URI of a single commitment and longest batch `dataURI`, in bytes.
    uint256 public constant MAX_URI_BYTES = 256;

    /// @dev Selectors of the errors `commit` raises in assembly.
    uint256 private constant SELECTOR_ZERO_HASH = 0x3086c1f7;
    uint256 private constant SELECTOR_INVALID_INPUT_DATA = 0x8479216a;

    /// @inheritdoc IInferenceLedger
    address public registry;
    /// @inheritdoc IInferenceLedger
    address public stakeManager;

    mapping(bytes32 id => Record) private _records;
    mapping(bytes32 leafId => LeafRecord) private _leaves;
    mapping(bytes32 modelId => CommitTerms) private _terms;
    mapping(address provider => uint96) private _providerStake;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (binds the sources once, grants DISPUTE_ROLE).
    constructor(address admin) {
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

    // ------------------------------------------------------------------ disputes

    /// @inheritdoc IInferenceLedger
    function markDisputeOpened(bytes32 id) external onlyRole(DISPUTE_ROLE) returns (address provider, uint8 flags) {
        Record storage stored = _record(id, RecordKind.Single);
        flags = stored.flags;
        _checkDisputable(id, stored, flags.has(RecordFlags.OVERTURNED));
        uint24 open = stored.openDisputes + 1;
        stored.openDisputes = open;
        emit DisputeMarked(id, bytes32(0), open);
        return (stored.provider, flags);
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
        bool fraudProven
    ) external onlyRole(DISPUTE_ROLE) returns (bool newlyOverturned, uint24 stillOpen) {
        Record storage stored = _record(id, RecordKind.Single);
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
        }
    }

    /// @inheritdoc IInferenceLedger
    function markLeafDisputeClosed(
        bytes32 batchId,
        bytes32 leafHash,
        bool fraudProven
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
            batch.flags |= RecordFlags.LEAF_OVERTURNED;
            emit Overturned(batchId, leafHash);
            newlyOverturned = true;
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
    function recordOf(bytes32 id) external view returns (Record memory) {
        return _records[id];
    }

    /// @inheritdoc IInferenceLedger
    function leafRecordOf(bytes32 batchId, bytes32 leafHash) external view returns (LeafRecord memory) {
        return _leaves[Commitments.leafId(batchId, leafHash)];
    }

    /// @inheritdoc IInferenceLedger
    function status(bytes32 id) public view returns (CommitmentStatus) {
        Record storage stored = _records[id];
        if (stored.kind == RecordKind.None) return CommitmentStatus.None;
        uint8 flags = stored.flags;
        bool overturned = flags.has(RecordFlags.OVERTURNED) || flags.has(RecordFlags.LEAF_OVERTURNED);
        return _status(stored.challengeDeadline, stored.openDisputes != 0, overturned);
    }

    /// @inheritdoc IInferenceLedger
    function finalityOf(bytes32 id) external view returns (CommitmentStatus status_, Finality finality) {
        status_ = status(id);
        if (status_ == CommitmentStatus.Final) finality = _records[id].finality;
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
        // A leaf is overturned with its whole batch, and disputed while the batch's disclosure is open.
        return
            _status(
                batch.challengeDeadline,
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

    // ------------------------------------------------------------------ internals

    /// @dev Checks that the model accepts optimistic commitments and the caller holds its minimum stake;
    /// returns the new commitment's challenge deadline, the model's input length and batch limit. Two
    /// cold slot reads.
    function _admit(bytes32 modelId) private view returns (uint48 deadline, uint256 inputDim, uint16 maxLeaves) {
        CommitTerms storage terms = _terms[modelId];
        // One SLOAD, decoded by hand (layout in types/Model.sol: minStake 0-95, challengeWindow 96-127,
        // acceptsUntil 128-175, status 176-183, inputDim 184-215, maxBatchLeaves 216-231, optimistic 232-239).
        uint256 word;
        assembly ("memory-safe") {
            word := sload(terms.slot)
        }
        // The registry caches acceptsUntil = 0 for a model no game can settle: refused here, named in _refuse.
        if (block.timestamp >= uint48(word >> 128)) _refuse(modelId, terms);
        uint96 minStake = uint96(word);
        uint96 active = _providerStake[msg.sender];
        if (active < minStake) revert InferenceLedgerInsufficientStake(msg.sender, active, minStake);
        // No overflow before the year 8.9 million: timestamp < 2^48 - 2^32 and window < 2^32.
        unchecked {
            deadline = uint48(block.timestamp + uint32(word >> 96));
        }
        return (deadline, uint32(word >> 184), uint16(word >> 216));
    }

    function _refuse(bytes32 modelId, CommitTerms storage terms) private view {
        if (terms.status == ModelStatus.None) revert InferenceLedgerUnknownModel(modelId);
        if (!terms.optimistic) revert InferenceLedgerNotOptimistic(modelId);
        if (terms.status == ModelStatus.Revoked) revert InferenceLedgerModelRevoked(modelId);
        revert InferenceLedgerModelDeprecated(modelId, terms.acceptsUntil);
    }

    /// @dev Writes a fresh `Record {provider: msg.sender, challengeDeadline: deadline, openDisputes: 0,
    /// kind, flags, finality: ChallengeWindow}` with one SLOAD and one SSTORE (layout in types/Commitment.sol).
    function _create(bytes32 id, uint48 deadline, RecordKind kind, uint8 flags) private {
        Record storage stored = _records[id];
        if (stored.kind != RecordKind.None) revert InferenceLedgerDuplicate(id);
        uint256 finality = uint256(Finality.ChallengeWindow);
        assembly ("memory-safe") {
            sstore(
                stored.slot,
                or(or(caller(), shl(160, deadline)), or(shl(232, kind), or(shl(240, flags), shl(248, finality))))
            )
        }
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

    /// @dev Disputes open only inside the window and never on an overturned commitment or leaf.
    function _checkDisputable(bytes32 id, Record storage stored, bool overturned) private view {
        if (overturned) revert InferenceLedgerAlreadyOverturned(id);
        if (block.timestamp > stored.challengeDeadline) {
            revert InferenceLedgerChallengeWindowClosed(id, stored.challengeDeadline);
        }
    }

    function _status(uint48 deadline, bool disputed, bool overturned) private view returns (CommitmentStatus) {
        if (overturned) return CommitmentStatus.Overturned;
        if (disputed) return CommitmentStatus.Disputed;
        if (block.timestamp <= deadline) return CommitmentStatus.Pending;
        return CommitmentStatus.Final;
    }
}

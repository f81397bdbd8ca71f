// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IInferenceLedger} from "./interfaces/IInferenceLedger.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {CommitTerms, ModelStatus} from "./types/Model.sol";
import {BatchHeader, CommitmentStatus, Inference, LeafRecord, Record, RecordKind} from "./types/Commitment.sol";

/// @title InferenceLedger
/// @notice Commitments of AI inferences by staked providers, and their dispute status.
/// @dev Gas budget of `commit`: one fresh slot (the record), two cold slots (the model's terms and the
/// provider's stake in the admission cache), one log. Nothing else is read or written.
contract InferenceLedger is IInferenceLedger, AccessControl {
    /// @notice Dispute contracts: mark disputes opened and closed, overturn.
    bytes32 public constant DISPUTE_ROLE = keccak256("verity.role.dispute");

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
        if (inputHash == bytes32(0) || outputHash == bytes32(0) || traceRoot == bytes32(0)) {
            revert InferenceLedgerZeroHash();
        }
        uint48 deadline = _admit(modelId);
        id = Commitments.commitmentId(msg.sender, modelId, inputHash, outputHash, traceRoot);
        _create(id, deadline, RecordKind.Single);
        // Same log as `emit InferenceCommitted(id, modelId, msg.sender, inputHash, outputHash, traceRoot,
        // inputData)`, encoded by hand: the ABI encoder's copy loop costs ~300 gas on the hottest path.
        bytes32 topic = InferenceCommitted.selector;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, caller())
            mstore(add(p, 0x20), inputHash)
            mstore(add(p, 0x40), outputHash)
            mstore(add(p, 0x60), traceRoot)
            mstore(add(p, 0x80), 0xa0) // offset of `inputData`: after the five head words
            mstore(add(p, 0xa0), inputData.length)
            calldatacopy(add(p, 0xc0), inputData.offset, inputData.length)
            mstore(add(add(p, 0xc0), inputData.length), 0) // zero the padding of the last word
            log3(p, add(0xc0, and(add(inputData.length, 31), not(31))), topic, id, modelId)
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
        uint48 deadline = _admit(modelId);
        batchId = keccak256(abi.encode(msg.sender, modelId, root, count));
        _create(batchId, deadline, RecordKind.Batch);
        emit BatchCommitted(batchId, modelId, msg.sender, root, count, dataURI);
    }

    // ------------------------------------------------------------------ disputes

    /// @inheritdoc IInferenceLedger
    function markDisputeOpened(bytes32 id) external onlyRole(DISPUTE_ROLE) returns (address provider) {
        Record storage stored = _record(id, RecordKind.Single);
        _checkDisputable(id, stored, stored.overturned);
        uint24 open = stored.openDisputes + 1;
        stored.openDisputes = open;
        emit DisputeMarked(id, bytes32(0), open);
        return stored.provider;
    }

    /// @inheritdoc IInferenceLedger
    function markLeafDisputeOpened(
        BatchHeader calldata header,
        bytes32[] calldata proof,
        Inference calldata leaf
    ) external onlyRole(DISPUTE_ROLE) returns (bytes32 batchId, bytes32 leafHash) {
        batchId = Commitments.batchId(header);
        Record storage batch = _record(batchId, RecordKind.Batch);
        leafHash = _includedLeaf(batchId, header.root, proof, leaf);
        LeafRecord storage stored = _leaves[Commitments.leafId(batchId, leafHash)];
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
    ) external onlyRole(DISPUTE_ROLE) returns (bool newlyOverturned) {
        Record storage stored = _record(id, RecordKind.Single);
        uint24 open = stored.openDisputes;
        if (open == 0) revert InferenceLedgerNoOpenDispute(id);
        stored.openDisputes = open - 1;
        emit DisputeCleared(id, bytes32(0), open - 1);
        // INVARIANT: a commitment is overturned at most once, so its provider is slashed at most once.
        if (fraudProven && !stored.overturned) {
            stored.overturned = true;
            emit Overturned(id, bytes32(0));
            return true;
        }
    }

    /// @inheritdoc IInferenceLedger
    function markLeafDisputeClosed(
        bytes32 batchId,
        bytes32 leafHash,
        bool fraudProven
    ) external onlyRole(DISPUTE_ROLE) returns (bool newlyOverturned) {
        Record storage batch = _record(batchId, RecordKind.Batch);
        LeafRecord storage stored = _leaves[Commitments.leafId(batchId, leafHash)];
        uint24 open = stored.openDisputes;
        if (open == 0) revert InferenceLedgerNoOpenDispute(batchId);
        stored.openDisputes = open - 1;
        batch.openDisputes -= 1;
        emit DisputeCleared(batchId, leafHash, open - 1);
        // INVARIANT: a leaf is overturned at most once, so its provider is slashed at most once for it.
        if (fraudProven && !stored.overturned) {
            stored.overturned = true;
            batch.overturned = true;
            emit Overturned(batchId, leafHash);
            return true;
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
        return _status(stored.challengeDeadline, stored.openDisputes, stored.overturned);
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
        return _status(batch.challengeDeadline, stored.openDisputes, stored.overturned);
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
    function commitTermsOf(bytes32 modelId) external view returns (CommitTerms memory) {
        return _terms[modelId];
    }

    /// @inheritdoc IInferenceLedger
    function providerStakeOf(address provider) external view returns (uint96) {
        return _providerStake[provider];
    }

    // ------------------------------------------------------------------ internals

    /// @dev Checks that the model accepts commitments and the caller holds its minimum stake;
    /// returns the new commitment's challenge deadline. Two cold slot reads.
    function _admit(bytes32 modelId) private view returns (uint48 deadline) {
        CommitTerms storage terms = _terms[modelId];
        (uint96 minStake, uint32 window, uint48 acceptsUntil) = (
            terms.minStake,
            terms.challengeWindow,
            terms.acceptsUntil
        );
        if (block.timestamp >= acceptsUntil) _refuse(modelId, terms);
        uint96 active = _providerStake[msg.sender];
        if (active < minStake) revert InferenceLedgerInsufficientStake(msg.sender, active, minStake);
        // No overflow before the year 8.9 million: timestamp < 2^48 - 2^32 and window < 2^32.
        unchecked {
            return uint48(block.timestamp + window);
        }
    }

    function _refuse(bytes32 modelId, CommitTerms storage terms) private view {
        if (terms.status == ModelStatus.None) revert InferenceLedgerUnknownModel(modelId);
        if (terms.status == ModelStatus.Revoked) revert InferenceLedgerModelRevoked(modelId);
        revert InferenceLedgerModelDeprecated(modelId, terms.acceptsUntil);
    }

    /// @dev Writes a fresh `Record {provider: msg.sender, challengeDeadline: deadline, openDisputes: 0,
    /// kind, overturned: false}` with one SLOAD and one SSTORE (the packing is in types/Commitment.sol).
    function _create(bytes32 id, uint48 deadline, RecordKind kind) private {
        Record storage stored = _records[id];
        if (stored.kind != RecordKind.None) revert InferenceLedgerDuplicate(id);
        assembly ("memory-safe") {
            sstore(stored.slot, or(caller(), or(shl(160, deadline), shl(232, kind))))
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

    function _status(uint48 deadline, uint24 openDisputes, bool overturned) private view returns (CommitmentStatus) {
        if (overturned) return CommitmentStatus.Overturned;
        if (openDisputes != 0) return CommitmentStatus.Disputed;
        if (block.timestamp <= deadline) return CommitmentStatus.Pending;
        return CommitmentStatus.Final;
    }
}

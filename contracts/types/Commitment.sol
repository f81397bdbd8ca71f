// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice What a dApp asks of a commitment or of one leaf of a batch.
/// @dev Pending: inside the challenge window, no open dispute. Final: window passed, no open dispute,
/// not overturned. Disputed: at least one dispute is open (even after the window). Overturned: fraud was
/// proven; this state is terminal.
enum CommitmentStatus {
    None,
    Pending,
    Final,
    Disputed,
    Overturned
}

/// @notice Kind of a ledger record.
enum RecordKind {
    None,
    Single,
    Batch
}

/// @notice The three hashes that identify one inference (docs/protocol.md, "Trace").
struct Inference {
    bytes32 inputHash;
    bytes32 outputHash;
    bytes32 traceRoot;
}

/// @notice Everything a batch id commits to. `batchId = keccak256(abi.encode(header))`.
struct BatchHeader {
    address provider;
    bytes32 modelId;
    bytes32 root;
    uint32 count;
}

/// @notice Ledger state of one commitment or batch: exactly one storage slot.
/// @dev 160 + 48 + 24 + 8 + 8 = 248 bits. The hashes are not stored: they are bound by the id and
/// travel in the event. `openDisputes` is uint24 so that griefing it to overflow would need 16.7M
/// bonded disputes. For a batch, `openDisputes` counts the open disputes of all its leaves and
/// `overturned` is set once any leaf is overturned.
struct Record {
    address provider;
    uint48 challengeDeadline;
    uint24 openDisputes;
    RecordKind kind;
    bool overturned;
}

/// @notice Dispute state of one batch leaf; it exists only once the leaf has been disputed.
struct LeafRecord {
    uint24 openDisputes;
    bool overturned;
}

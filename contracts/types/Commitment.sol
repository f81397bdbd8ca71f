// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice What a dApp asks of a commitment or of one leaf of a batch.
/// @dev Pending: inside the challenge window, no open dispute. Final: window passed, no open dispute,
/// not overturned. Disputed: at least one dispute (or a batch's disclosure demand) is open, even after
/// the window. Overturned: fraud was proven (or a batch was not disclosed on demand); terminal.
enum CommitmentStatus {
    None,
    Pending,
    Final,
    Disputed,
    Overturned
}

/// @notice How a Final commitment became final. Only `ChallengeWindow` exists in protocol version 1;
/// the TEE and proof settlement paths add `Tee` and `Proof` without changing the record layout.
enum Finality {
    None,
    ChallengeWindow,
    Tee,
    Proof
}

/// @notice Kind of a ledger record.
enum RecordKind {
    None,
    Single,
    Batch
}

/// @notice The three hashes that identify one inference (docs/protocol.md, "Trace"). Also the leaf of a batch.
struct Inference {
    bytes32 inputHash;
    bytes32 outputHash;
    bytes32 traceRoot;
}

/// @notice Everything a single commitment's id commits to: `id = keccak256(abi.encode(key))`, i.e.
/// `keccak256(abi.encode(provider, modelId, inputHash, outputHash, traceRoot, binding))`.
/// @dev `binding` is zero for `InferenceLedger.commit`; settlement paths that bind a commitment to
/// something else (an enclave nonce, an oracle request) put its hash here, so one question asked twice
/// gets two commitments.
struct CommitmentKey {
    address provider;
    bytes32 modelId;
    Inference inference;
    bytes32 binding;
}

/// @notice Everything a batch id commits to: `batchId = keccak256(abi.encode(header))`.
/// @dev `binding` is zero for `InferenceLedger.commitBatch` (see `CommitmentKey`).
struct BatchHeader {
    address provider;
    bytes32 modelId;
    bytes32 root;
    uint32 count;
    bytes32 binding;
}

/// @notice Ledger state of one commitment or batch: exactly one storage slot.
/// @dev 160 + 48 + 24 + 8 + 8 + 8 = 256 bits. The hashes are not stored: they are bound by the id and
/// travel in the event. `openDisputes` is uint24 so that griefing it to overflow would need 16.7M
/// bonded disputes. For a batch it counts the open disputes of all its leaves plus an open disclosure
/// demand. `flags` are the `RecordFlags` bits; `finality` is how the record settles (protocol version 1:
/// always `ChallengeWindow`).
struct Record {
    address provider;
    uint48 challengeDeadline;
    uint24 openDisputes;
    RecordKind kind;
    uint8 flags;
    Finality finality;
}

/// @notice Dispute state of one batch leaf; it exists only once the leaf has been disputed.
struct LeafRecord {
    uint24 openDisputes;
    bool overturned;
}

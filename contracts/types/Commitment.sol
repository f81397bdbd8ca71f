// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TeeMode} from "./Environment.sol";

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

/// @notice How a Final commitment became final: its challenge window passed (`ChallengeWindow`), a
/// valid enclave key signed it (`Tee`: its shortened window passed, or at once under instant settlement),
/// or a proof verified it (`Proof`: `InferenceLedger.commitVerified`, Final at once and for good).
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
/// travel in the event. A TEE-signed record (flag `TEE`) holds in its 160 `provider` bits the enclave
/// key's serial (bits 0-31) and, under a shortened window, its fallback deadline (bits 32-79: the model's
/// full window from the commit); its provider is bound by the id and is the key's operator, and
/// `recordOf` resolves it. `challengeDeadline` is then the end of the shortened window or of the
/// accountability period. `openDisputes` is uint24 so that griefing it to overflow would need 16.7M
/// bonded disputes. For a batch it counts the open disputes of all its leaves plus an open disclosure
/// demand. `flags` are the `RecordFlags` bits; `finality` is how the record settles when nothing
/// intervenes (`ChallengeWindow` or `Tee`), or `Proof` for a proven record: it has no challenge window and
/// no disputes, so its `challengeDeadline` bits hold the time it was proven and its `openDisputes` bits
/// the serial of the verifier that proved it (`InferenceLedger.proofRecordOf` resolves both; `recordOf`
/// reports zero open disputes).
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

/// @notice What the ledger knows of a TEE-signed commitment or batch (`InferenceLedger.teeRecordOf`).
struct TeeRecord {
    /// The enclave key that signed it, its operator (the provider) and the key's environment.
    address enclaveKey;
    address operator;
    bytes32 environment;
    /// `Window` or `Instant` (the model's policy when it was committed).
    TeeMode mode;
    /// End of the shortened window (`Window`) or of the accountability period (`Instant`).
    uint48 teeDeadline;
    /// `Window`: end of the model's full challenge window, which applies instead when trust is lost
    /// before `teeDeadline`. Zero under `Instant`.
    uint48 fallbackDeadline;
    /// When the key or its environment was revoked (the earlier of the two), zero while both are valid.
    uint48 trustLostAt;
    /// It was overturned by a lost dispute game: the single commitment, or (for a batch) at least one leaf.
    /// For an instant-final record this is "proven wrong after finality": its status stays Final.
    bool provenWrong;
    /// A batch whose disclosure was demanded and not given: its data was withheld (status Overturned, or for
    /// an instant batch still Final).
    bool withheld;
}

/// @notice What the ledger knows of a proven commitment (`InferenceLedger.proofRecordOf`).
struct ProofRecord {
    /// The verifier that checked the proof (zero for a record that is not proven).
    address verifier;
    /// Its serial in the model registry.
    uint24 serial;
    /// When the commitment was proven (and became Final).
    uint48 provenAt;
    /// When governance revoked the verifier, zero while it is approved. Always after `provenAt`: the record
    /// stays Final, but a dApp may choose to stop trusting proofs of a verifier found broken.
    uint48 verifierRevokedAt;
}

/// @notice An enclave key's EIP-712 signature over a commitment (`TeeCommitment`) or a batch (`TeeBatch`),
/// with the fields it signs besides the inference (docs/protocol.md, "TEE-signed commitments").
/// @dev `(v, r, s)` as ethers' `Signature.from(signTypedData(...))` gives them; `s` must be in the lower
/// half of the curve order (no malleable twin).
struct TeeSeal {
    /// The environment (measurement id) the key runs; it must be allowed for the model.
    bytes32 environment;
    address enclaveKey;
    /// Chosen by the enclave; a new nonce makes a new commitment of the same inference.
    uint64 nonce;
    /// Last second at which the signature may be submitted.
    uint64 deadline;
    uint8 v;
    bytes32 r;
    bytes32 s;
}

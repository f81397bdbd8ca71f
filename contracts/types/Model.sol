// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TeeMode} from "./Environment.sol";
import {LayerSpec} from "./LayerSpec.sol";

/// @notice Lifecycle of a registered model version.
/// @dev Deprecated: new commitments are accepted until `acceptsUntil` (the grace time), then refused.
/// Revoked: new commitments are refused at once. Existing commitments stay disputable in both cases.
enum ModelStatus {
    None,
    Active,
    Deprecated,
    Revoked
}

/// @notice What a publisher registers: the model's content (docs/protocol.md, "Model identity").
/// @dev `contentHash = keccak256(abi.encode(weightsRoot, graphHash, engineId))` and
/// `modelId = keccak256(abi.encode(publisher, contentHash))`. For `dense-int8-v1` the layers are given,
/// validated and stored, and `graphHash = keccak256(abi.encode(layers))` is computed (pass zero). Other
/// engines give an opaque `graphHash` and no layers: such models cannot be settled optimistically (no
/// dispute game can recompute them), and the ledger refuses their optimistic commitments.
struct ModelSpec {
    bytes32 engineId;
    bytes32 weightsRoot;
    LayerSpec[] layers;
    bytes32 graphHash;
    string metadataURI;
}

/// @notice Economic and timing policy of one model version, fixed when that version is registered.
/// @dev Bit budget: 3 x uint32 seconds (136 years) + 3 x uint96 token amounts (7.9e28 base units).
/// Bounds are in `PolicyBounds` and docs/protocol.md, "Policy".
struct ModelPolicy {
    /// Seconds after a commitment during which anyone may open a dispute on it.
    uint32 challengeWindow;
    /// Seconds each party has for each move of a dispute game.
    uint32 responseWindow;
    /// Minimum active stake a provider needs to commit inferences of this model.
    uint96 minStake;
    /// Amount slashed from a provider whose commitment is overturned (<= minStake).
    uint96 slashAmount;
    /// Bond a challenger posts to open a dispute.
    uint96 challengerBond;
    /// How a TEE signature settles this model's commitments (`TeeMode.None`: TEE commits are refused).
    TeeMode teeMode;
    /// `Window`: the shortened challenge window of a TEE-signed commitment (below `challengeWindow`).
    /// `Instant`: the accountability period during which a fraud proof still slashes. `None`: zero.
    uint32 teeWindow;
    /// Whether commitments settled by a proof (`InferenceLedger.commitVerified`, through the verifier
    /// governance approved for the model) are accepted.
    bool proofAccepted;
}

/// @notice What `InferenceLedger.commit` needs to know about a model: one storage slot.
/// @dev Written by the registry into the ledger's admission cache whenever it changes.
/// 96 + 32 + 40 + 40 + 8 + 24 + 16 = 256 bits.
struct CommitTerms {
    uint96 minStake;
    uint32 challengeWindow;
    /// Optimistic commitments (`commit`, `commitBatch`) are accepted while `block.timestamp < optimisticUntil`:
    /// `acceptsUntil` for models a dispute game can settle, zero for the others.
    uint40 optimisticUntil;
    /// TEE-signed commitments are accepted while `block.timestamp < acceptsUntil` (type(uint40).max while
    /// active).
    uint40 acceptsUntil;
    ModelStatus status;
    /// Length in bytes of the model's input (`inDim` of layer 1); zero for opaque engines.
    uint24 inputDim;
    /// Most leaves a batch of this model may hold (a full disclosure must fit one response window).
    uint16 maxBatchLeaves;
}

/// @notice How one environment may serve one model: the ledger's TEE admission cache, one slot per
/// (model, environment) pair, zero when the pair is not allowed.
/// @dev Copied from the model's immutable policy when the publisher (or governance) allows the
/// environment, so that `commitTee` reads one slot for the set membership and the mode.
struct TeeTerms {
    TeeMode mode;
    uint32 window;
}

/// @notice The ledger's proof admission cache, one slot per model: whether its policy accepts proofs, the
/// verifier governance approved for it last, that verifier's serial in the registry and when it was revoked.
/// @dev Written by the registry at registration (for a policy that accepts proofs), on `approveVerifier` and on
/// `revokeVerifier`, so that the ledger names every refusal without calling the registry.
/// 160 + 24 + 48 + 8 = 240 bits (this field order keeps `syncProofTerms`' selector, 0x9f591dd1, above
/// `commit`'s). Proofs are accepted when `verifier != 0 && revokedAt == 0`.
struct ProofTerms {
    address verifier;
    uint24 serial;
    uint48 revokedAt;
    bool accepted;
}

/// @notice What the registry keeps about one approved verifier (`ModelRegistry.verifierInfoOf`).
struct VerifierInfo {
    /// The model it serves (its `modelId()`, checked at approval).
    bytes32 modelId;
    /// 1, 2, ... in approval order; a proven record holds it (types/Commitment.sol).
    uint24 serial;
    uint48 approvedAt;
    /// When governance revoked it; zero while it is approved. A revoked verifier is never approved again.
    uint48 revokedAt;
}

/// @notice What a dispute game snapshots from a model's policy when a dispute opens (one storage slot).
/// @dev 32 + 96 + 96 + 16 = 240 bits. `numLayers` is zero for models no game can recompute.
struct DisputeTerms {
    uint32 responseWindow;
    uint96 challengerBond;
    uint96 slashAmount;
    uint16 numLayers;
}

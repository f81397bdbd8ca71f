// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Lifecycle of a registered model version.
/// @dev Deprecated: new commitments are accepted until `acceptsUntil` (the grace time), then refused.
/// Revoked: new commitments are refused at once. Existing commitments stay disputable in both cases.
enum ModelStatus {
    None,
    Active,
    Deprecated,
    Revoked
}

/// @notice Economic and timing policy of one model version, fixed when that version is registered.
/// @dev Bit budget: 2 x uint32 seconds (136 years) + 3 x uint96 token amounts (7.9e28 base units).
/// Bounds are in `PolicyBounds`.
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
}

/// @notice What `InferenceLedger.commit` needs to know about a model: one storage slot.
/// @dev Written by the registry into the ledger's admission cache whenever it changes.
/// 96 + 32 + 48 + 8 = 184 bits.
struct CommitTerms {
    uint96 minStake;
    uint32 challengeWindow;
    /// Commitments are accepted while `block.timestamp < acceptsUntil` (type(uint48).max while active).
    uint48 acceptsUntil;
    ModelStatus status;
}

/// @notice What a dispute game snapshots from a model's policy when a dispute opens (one storage slot).
struct DisputeTerms {
    uint32 responseWindow;
    uint96 challengerBond;
    uint96 slashAmount;
}

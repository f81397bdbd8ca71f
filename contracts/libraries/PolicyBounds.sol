// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title PolicyBounds
/// @notice Protocol-wide bounds on model policies, shares, batches and the unbonding delay they imply.
/// @dev Constants, not governance parameters: the unbonding delay of the stake manager is checked
/// against them at deployment, so no later change can let stake leave before it can be punished.
library PolicyBounds {
    /// @notice Shortest challenge window a model may set.
    uint32 internal constant MIN_CHALLENGE_WINDOW = 5 minutes;
    /// @notice Longest challenge window a model may set.
    uint32 internal constant MAX_CHALLENGE_WINDOW = 30 days;
    /// @notice Shortest shortened window of a TEE-signed commitment (`TeeMode.Window`): time for a watcher
    /// to open a fraud proof on a re-executable model.
    uint32 internal constant MIN_TEE_WINDOW = 1 minutes;
    /// @notice Shortest time a party may be given for one dispute move.
    uint32 internal constant MIN_RESPONSE_WINDOW = 10 minutes;
    /// @notice Longest time a party may be given for one dispute move.
    uint32 internal constant MAX_RESPONSE_WINDOW = 7 days;
    /// @notice Longest grace time between deprecation and refusal of new commitments.
    uint32 internal constant MAX_DEPRECATION_GRACE = 90 days;
    /// @notice Upper bound on the sequential moves of one dispute after it opens (input demand and
    /// answer, trace, layer selection, layer reveal, neuron proof), each within one response window.
    uint32 internal constant MAX_DISPUTE_MOVES = 6;
    /// @notice Longest time a dispute can stay open.
    uint32 internal constant MAX_DISPUTE_DURATION = MAX_DISPUTE_MOVES * MAX_RESPONSE_WINDOW;
    /// @notice Latest a batch leaf can still be disputed, after its commitment: the challenge window, a
    /// disclosure demanded at its end and answered within one response window, then a full window again.
    uint32 internal constant MAX_DISPUTABLE_AFTER_COMMIT = 2 * MAX_CHALLENGE_WINDOW + MAX_RESPONSE_WINDOW;
    /// @notice The unbonding delay must exceed this: the latest dispute opening plus the longest dispute.
    uint32 internal constant MIN_UNBONDING_DELAY = MAX_DISPUTABLE_AFTER_COMMIT + MAX_DISPUTE_DURATION;

    /// @notice Lowest challenger share of a slash governance may set, in basis points. Policies are
    /// checked against it: at this share the reward still covers the challenger's bond.
    uint16 internal constant MIN_CHALLENGER_SHARE_BPS = 2_000;
    /// @notice Highest challenger share of a slash governance may set, in basis points: proven fraud
    /// always costs the provider at least `(1 - MAX_CHALLENGER_SHARE_BPS) * slash`, however many sybil
    /// challengers it runs to recover the share.
    uint16 internal constant MAX_CHALLENGER_SHARE_BPS = 5_000;
    /// @notice Highest share of a slash governance may give the requester of an overturned oracle answer,
    /// in basis points. It comes out of the treasury's part: a provider that cheats on its own request,
    /// through its own challenger, still loses at least `1 - MAX_CHALLENGER_SHARE_BPS - MAX_HARMED_SHARE_BPS`
    /// (30%) of the slash, and on anyone else's at least half.
    uint16 internal constant MAX_HARMED_SHARE_BPS = 2_000;
    /// @notice The requester's share at deployment, in basis points.
    uint16 internal constant DEFAULT_HARMED_SHARE_BPS = 2_000;
    /// @notice Basis points in one.
    uint16 internal constant BPS = 10_000;

    /// @notice Most leaves any batch may hold.
    uint256 internal constant MAX_BATCH_LEAVES = 1_024;
    /// @notice Most gas a full disclosure of one batch may need (all chunks and the final check), so that
    /// it fits one response window on a chain of at least this gas per ten minutes.
    uint256 internal constant MAX_DISCLOSURE_GAS = 64_000_000;
    /// @notice Most gas any honest move of any game may need, calldata floor included: half of EIP-7825's
    /// per-transaction cap of 2^24 gas.
    uint256 internal constant MAX_HONEST_MOVE_GAS = 8_000_000;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title PolicyBounds
/// @notice Protocol-wide bounds on model policies and the unbonding delay they imply.
/// @dev Constants, not governance parameters: the unbonding delay of the stake manager is checked
/// against them at deployment, so no later change can let stake leave before it can be punished.
library PolicyBounds {
    /// @notice Shortest challenge window a model may set.
    uint32 internal constant MIN_CHALLENGE_WINDOW = 5 minutes;
    /// @notice Longest challenge window a model may set.
    uint32 internal constant MAX_CHALLENGE_WINDOW = 30 days;
    /// @notice Shortest time a party may be given for one dispute move.
    uint32 internal constant MIN_RESPONSE_WINDOW = 10 minutes;
    /// @notice Longest time a party may be given for one dispute move.
    uint32 internal constant MAX_RESPONSE_WINDOW = 7 days;
    /// @notice Longest grace time between deprecation and refusal of new commitments.
    uint32 internal constant MAX_DEPRECATION_GRACE = 90 days;
    /// @notice Upper bound on the sequential moves of one dispute after it opens (trace, layer
    /// selection, layer reveal, neuron proof, input-reveal demand and answer), each within one
    /// response window.
    uint32 internal constant MAX_DISPUTE_MOVES = 6;
    /// @notice Longest time a dispute can stay open.
    uint32 internal constant MAX_DISPUTE_DURATION = MAX_DISPUTE_MOVES * MAX_RESPONSE_WINDOW;
    /// @notice The unbonding delay must exceed this: the longest window plus the longest dispute.
    uint32 internal constant MIN_UNBONDING_DELAY = MAX_CHALLENGE_WINDOW + MAX_DISPUTE_DURATION;
}

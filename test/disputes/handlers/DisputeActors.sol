// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The accounts of the dispute invariant campaign.
library DisputeActors {
    /// @notice Commits correct inferences and answers every move in time.
    address internal constant HONEST_PROVIDER = address(0xA11CE);
    /// @notice Commits wrong inferences and answers only what it can, when it feels like it.
    address internal constant CHEATER = address(0xBAD);
    /// @notice The cheater's second address: opens games on the cheater's own wrong commitments to win back
    /// the challengers' share (it races to prove the fraud, lets its game lapse, or is let win by timeout).
    address internal constant CHEATER_SYBIL = address(0xBAD2);
    /// @notice The honest watcher: disputes every wrong commitment inside its window and plays correctly,
    /// in time; it never disputes a correct one and never gives up a game.
    address internal constant HONEST_CHALLENGER = address(0xC0DE);
    /// @notice Disputes only correct commitments and plays at random.
    address internal constant LIAR = address(0x11A5);
    /// @notice Calls timeouts and reward claims (anyone), and meddles in games that are not its own.
    address internal constant KEEPER = address(0x4EE9);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The accounts of the dispute invariant campaign.
library DisputeActors {
    /// @notice Commits correct inferences and answers every move in time.
    address internal constant HONEST_PROVIDER = address(0xA11CE);
    /// @notice Commits wrong inferences and answers only what it can, when it feels like it.
    address internal constant CHEATER = address(0xBAD);
    /// @notice Disputes only wrong commitments and plays them correctly, in time.
    address internal constant HONEST_CHALLENGER = address(0xC0DE);
    /// @notice Disputes only correct commitments and plays at random.
    address internal constant LIAR = address(0x11A5);
    /// @notice Calls timeouts and closes: anyone.
    address internal constant KEEPER = address(0x4EE9);
    /// @notice Credited with the non-challenger part of slashes.
    address internal constant TREASURY = address(0x7EA5);
}

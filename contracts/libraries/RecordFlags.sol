// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title RecordFlags
/// @notice The bits of `Record.flags` (docs/protocol.md, "Record layout").
library RecordFlags {
    /// @notice Single: fraud proven. Batch: the whole batch is overturned (its disclosure failed).
    uint8 internal constant OVERTURNED = 1 << 0;
    /// @notice Batch: at least one leaf is overturned.
    uint8 internal constant LEAF_OVERTURNED = 1 << 1;
    /// @notice Single: the commitment's event carries its input (exactly `inDim(1)` bytes hashing to
    /// `inputHash`), so no input demand is ever needed.
    uint8 internal constant INPUT_PUBLIC = 1 << 2;
    /// @notice Batch: a disclosure demand is open.
    uint8 internal constant DISCLOSURE_OPEN = 1 << 3;
    /// @notice Batch: every leaf and input was disclosed on-chain.
    uint8 internal constant DISCLOSED = 1 << 4;

    /// @notice Signed by an enclave key (`commitTee`, `commitTeeBatch`): the `provider` bits hold the
    /// key's serial and fallback deadline (types/Commitment.sol).
    uint8 internal constant TEE = 1 << 5;
    /// @notice TEE-signed under instant settlement: Final at once and for good; the deadline ends the
    /// accountability period, during which a proven fraud slashes but does not change the status.
    uint8 internal constant TEE_INSTANT = 1 << 6;

    /// @notice Single: an answer to an oracle request (`commitForRequest`, `commitSealedForRequest`); a
    /// share of its provider's slash, if it is overturned, is held for the requester.
    uint8 internal constant REQUESTED = 1 << 7;

    /// @notice Whether `flags` has every bit of `bit`.
    function has(uint8 flags, uint8 bit) internal pure returns (bool) {
        return flags & bit == bit;
    }
}

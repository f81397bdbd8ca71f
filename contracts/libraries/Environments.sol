// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TeeType} from "../types/Environment.sol";

/// @title Environments
/// @notice Identifiers and report data of TEE environments (docs/protocol.md, "Environments"). Every
/// verifier, the registry and the SDK derive the same values from these definitions.
library Environments {
    /// @notice Canonical measurement length of `teeType` in bytes, zero for `None` and unknown kinds.
    /// @dev TDX: MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3 (5 x 48). SGX: MRENCLAVE ‖ MRSIGNER (2 x 32).
    /// Nitro: PCR0 ‖ PCR1 ‖ PCR2 (3 x 48, SHA-384).
    function measurementLength(TeeType teeType) internal pure returns (uint256) {
        if (teeType == TeeType.IntelTdx) return 240;
        if (teeType == TeeType.IntelSgx) return 64;
        if (teeType == TeeType.AwsNitro) return 144;
        return 0;
    }

    /// @notice `keccak256(bytes.concat(bytes1(uint8(teeType)), measurement))`.
    function environmentId(TeeType teeType, bytes memory measurement) internal pure returns (bytes32) {
        return keccak256(bytes.concat(bytes1(uint8(teeType)), measurement));
    }

    /// @notice What the report data binds besides the key:
    /// `keccak256(abi.encode(chainId, registry, enclaveKey, nonce))`.
    function binding(
        uint256 chainId,
        address registry,
        address enclaveKey,
        bytes32 nonce
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(chainId, registry, enclaveKey, nonce));
    }

    /// @notice The 64 bytes of report data: the key (20 bytes), 12 zero bytes, the binding (32 bytes).
    function reportData(address enclaveKey, bytes32 binding_) internal pure returns (bytes memory) {
        return bytes.concat(bytes20(enclaveKey), bytes12(0), binding_);
    }
}

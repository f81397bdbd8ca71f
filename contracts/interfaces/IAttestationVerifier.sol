// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Attestation} from "../types/Environment.sol";

/// @title IAttestationVerifier
/// @notice Checks one piece of TEE attestation evidence (a DCAP quote, a service's signed statement, ...)
/// and says what it proves. The environment registry calls it once per enclave key registration; it
/// then checks the measurement, the report data binding, the TCB status and freshness itself.
/// @dev Implementations revert with a named error when the evidence does not verify; they never return
/// an attestation they did not check. Not `view`: on-chain quote verifiers may write caches.
interface IAttestationVerifier {
    /// @notice Verifies `evidence` and returns what it attests.
    function verifyAttestation(bytes calldata evidence) external returns (Attestation memory);

    /// @notice A stable name of the verifier kind and version, e.g. `keccak256("verity.verifier.automata-dcap.v1")`.
    function verifierKind() external view returns (bytes32);
}

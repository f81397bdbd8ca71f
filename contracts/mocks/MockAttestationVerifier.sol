// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {Attestation} from "../types/Environment.sol";

/// @title MockAttestationVerifier
/// @notice Test double: returns the attestation `evidence` encodes (`abi.encode(Attestation)`), checking
/// nothing. Lets Solidity tests register enclave keys without building quotes or service signatures.
contract MockAttestationVerifier is IAttestationVerifier {
    /// @inheritdoc IAttestationVerifier
    function verifyAttestation(bytes calldata evidence) external pure returns (Attestation memory) {
        return abi.decode(evidence, (Attestation));
    }

    /// @inheritdoc IAttestationVerifier
    function verifierKind() external pure returns (bytes32) {
        return keccak256("verity.verifier.mock");
    }
}

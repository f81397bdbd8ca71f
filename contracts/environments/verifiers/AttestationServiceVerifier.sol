// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {IAttestationVerifier} from "../../interfaces/IAttestationVerifier.sol";
import {Environments} from "../../libraries/Environments.sol";
import {Attestation, TcbStatus, TeeType} from "../../types/Environment.sol";

/// @notice What an attestation service vouches for after it verified a TEE quote off-chain.
/// @dev Signed as the EIP-712 struct `ServiceStatement(uint8 teeType,bytes measurement,address enclaveKey,
/// bytes32 binding,uint8 tcbStatus,uint64 expiry,bytes32 signerId)`: `measurement` enters the digest as its
/// keccak256 (EIP-712 `bytes`), and the signer id is part of the signed data, so that a statement signed
/// by one key can never be presented under another.
struct ServiceStatement {
    TeeType teeType;
    /// The measurement in the canonical layout of `teeType` (contracts/types/Environment.sol).
    bytes measurement;
    /// The secp256k1 address of the key generated inside the enclave (report data bytes 0..19).
    address enclaveKey;
    /// The report data binding (bytes 32..63), checked by the environment registry.
    bytes32 binding;
    TcbStatus tcbStatus;
    /// The statement is valid while `block.timestamp < expiry`; it becomes the attestation's `notAfter`.
    uint64 expiry;
}

/// @notice The kind of a service signing key.
enum ServiceKeyKind {
    None,
    /// NIST P-256 (secp256r1), the curve of HSMs, cloud KMS and WebCrypto.
    P256,
    /// secp256k1, identified by its Ethereum address.
    Secp256k1
}

/// @notice Lifecycle of a service signing key. Revoked is terminal.
enum ServiceSignerStatus {
    None,
    Approved,
    Revoked
}

/// @notice A service signing key as governance approved it.
struct ServiceSigner {
    ServiceKeyKind kind;
    ServiceSignerStatus status;
    /// The key's address (secp256k1 only).
    address account;
    /// The public key's affine coordinates (P-256 only).
    bytes32 qx;
    bytes32 qy;
}

/// @title AttestationServiceVerifier
/// @notice Accepts TEE attestations that a governance-approved attestation service verified off-chain
/// and signed. The only registration path of enclaves whose evidence has no on-chain verifier (AWS
/// Nitro); usable for Intel TDX and SGX as well.
/// @dev Evidence is `abi.encode(ServiceStatement statement, bytes32 signerId, bytes signature)`.
/// A secp256k1 key signs the EIP-712 digest itself (65 bytes r ‖ s ‖ v, as `eth_signTypedData_v4`).
/// A P-256 key signs the 32-byte EIP-712 digest as an ES256 message, i.e. ECDSA over
/// `sha256(digest)` (64 bytes r ‖ s): that is what HSMs, cloud KMS and WebCrypto produce, none of which
/// sign a caller-supplied hash. Both kinds reject high-s signatures, so no signature is malleable.
/// This contract checks the signature, the signer, the expiry and the measurement's length; the
/// environment registry checks the measurement, the binding and the TCB status.
contract AttestationServiceVerifier is IAttestationVerifier, AccessControl, EIP712 {
    /// @notice Approves and revokes service signing keys.
    bytes32 public constant GOVERNOR_ROLE = keccak256("verity.role.governor");

    /// @notice The value of `verifierKind()`.
    bytes32 public constant VERIFIER_KIND = keccak256("verity.verifier.attestation-service.v1");

    /// @notice EIP-712 type hash of `ServiceStatement` (with the signer id appended).
    bytes32 public constant STATEMENT_TYPEHASH = keccak256(
        "ServiceStatement(uint8 teeType,bytes measurement,address enclaveKey,bytes32 binding,"
        "uint8 tcbStatus,uint64 expiry,bytes32 signerId)"
    );

    uint256 private constant P256_SIGNATURE_BYTES = 64;
    uint256 private constant SECP256K1_SIGNATURE_BYTES = 65;

    mapping(bytes32 signerId => ServiceSigner) private _signers;

    /// @notice A P-256 signing key was approved.
    event P256SignerApproved(bytes32 indexed signerId, bytes32 qx, bytes32 qy);
    /// @notice A secp256k1 signing key was approved.
    event Secp256k1SignerApproved(bytes32 indexed signerId, address indexed account);
    /// @notice A signing key was revoked: statements it signed are refused from now on.
    event SignerRevoked(bytes32 indexed signerId);

    /// @notice The evidence does not decode as `(ServiceStatement, bytes32, bytes)`.
    error AttestationServiceVerifierMalformedEvidence(uint256 length);
    /// @notice No key was ever approved under `signerId`.
    error AttestationServiceVerifierUnknownSigner(bytes32 signerId);
    /// @notice The key `signerId` was revoked.
    error AttestationServiceVerifierRevokedSigner(bytes32 signerId);
    /// @notice A key is already known under `signerId` (approved, or revoked for good).
    error AttestationServiceVerifierSignerExists(bytes32 signerId, ServiceSignerStatus status);
    /// @notice `(qx, qy)` is not a point of P-256.
    error AttestationServiceVerifierInvalidP256Key(bytes32 qx, bytes32 qy);
    /// @notice The zero address is no signing key.
    error AttestationServiceVerifierZeroAccount();
    /// @notice The signature of `signerId`'s kind has `expected` bytes, not `length`.
    error AttestationServiceVerifierBadSignatureLength(bytes32 signerId, uint256 length, uint256 expected);
    /// @notice The signature is not `signerId`'s over `digest` (or is high-s).
    error AttestationServiceVerifierBadSignature(bytes32 signerId, bytes32 digest);
    /// @notice The statement expired at `expiry`; it is now `nowTime`.
    error AttestationServiceVerifierExpiredStatement(uint64 expiry, uint256 nowTime);
    /// @notice `teeType` has no measurement layout.
    error AttestationServiceVerifierUnsupportedTeeType(TeeType teeType);
    /// @notice A measurement of `teeType` has `expected` bytes, not `length`.
    error AttestationServiceVerifierBadMeasurementLength(TeeType teeType, uint256 length, uint256 expected);
    /// @notice The statement names no enclave key.
    error AttestationServiceVerifierZeroEnclaveKey();

    /// @param admin Receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE.
    constructor(address admin) EIP712("Verity Attestation Service", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Approves the P-256 public key `(qx, qy)`. GOVERNOR_ROLE only.
    /// @param qx The key's affine x coordinate.
    /// @param qy The key's affine y coordinate.
    /// @return signerId `p256SignerId(qx, qy)`.
    function approveP256Signer(bytes32 qx, bytes32 qy) external onlyRole(GOVERNOR_ROLE) returns (bytes32 signerId) {
        // An off-curve key could make the Solidity fallback accept forged signatures.
        if (!P256.isValidPublicKey(qx, qy)) revert AttestationServiceVerifierInvalidP256Key(qx, qy);
        signerId = p256SignerId(qx, qy);
        _approve(signerId, ServiceSigner(ServiceKeyKind.P256, ServiceSignerStatus.Approved, address(0), qx, qy));
        emit P256SignerApproved(signerId, qx, qy);
    }

    /// @notice Approves the secp256k1 key of `account`. GOVERNOR_ROLE only.
    /// @param account The key's Ethereum address.
    /// @return signerId `secp256k1SignerId(account)`.
    function approveSecp256k1Signer(address account) external onlyRole(GOVERNOR_ROLE) returns (bytes32 signerId) {
        if (account == address(0)) revert AttestationServiceVerifierZeroAccount();
        signerId = secp256k1SignerId(account);
        _approve(
            signerId,
            ServiceSigner(ServiceKeyKind.Secp256k1, ServiceSignerStatus.Approved, account, bytes32(0), bytes32(0))
        );
        emit Secp256k1SignerApproved(signerId, account);
    }

    /// @notice Revokes the key `signerId` for good. GOVERNOR_ROLE only.
    /// @dev Enclave keys already registered through it stay registered: revoking those is the registry's job.
    /// @param signerId The key to revoke.
    function revokeSigner(bytes32 signerId) external onlyRole(GOVERNOR_ROLE) {
        _requireApproved(signerId);
        _signers[signerId].status = ServiceSignerStatus.Revoked;
        emit SignerRevoked(signerId);
    }

    // ------------------------------------------------------------------ verification

    /// @inheritdoc IAttestationVerifier
    /// @dev Reverts with `AttestationServiceVerifier...` errors, in this order: malformed evidence,
    /// unknown or revoked signer, bad signature length, bad signature, expired statement, unsupported
    /// TEE type, bad measurement length, zero enclave key.
    function verifyAttestation(bytes calldata evidence) external view returns (Attestation memory) {
        ServiceStatement memory statement;
        bytes32 signerId;
        bytes memory signature;
        // The ABI decoder reverts without data on malformed input: decoding in a call turns that into a
        // named error. The call is to this contract's own pure function.
        try this.decodeEvidence(evidence) returns (ServiceStatement memory s, bytes32 id, bytes memory sig) {
            (statement, signerId, signature) = (s, id, sig);
        } catch {
            revert AttestationServiceVerifierMalformedEvidence(evidence.length);
        }

        ServiceSigner memory signer = _requireApproved(signerId);
        bytes32 digest = hashStatement(statement, signerId);
        _checkSignature(signer, signerId, digest, signature);

        if (statement.expiry <= block.timestamp) {
            revert AttestationServiceVerifierExpiredStatement(statement.expiry, block.timestamp);
        }
        uint256 expected = measurementLength(statement.teeType);
        if (statement.measurement.length != expected) {
            revert AttestationServiceVerifierBadMeasurementLength(
                statement.teeType,
                statement.measurement.length,
                expected
            );
        }
        if (statement.enclaveKey == address(0)) revert AttestationServiceVerifierZeroEnclaveKey();

        return
            Attestation({
                teeType: statement.teeType,
                measurement: statement.measurement,
                enclaveKey: statement.enclaveKey,
                binding: statement.binding,
                tcbStatus: statement.tcbStatus,
                notAfter: statement.expiry
            });
    }

    /// @inheritdoc IAttestationVerifier
    function verifierKind() external pure returns (bytes32) {
        return VERIFIER_KIND;
    }

    /// @notice Decodes `evidence` as `(ServiceStatement, bytes32 signerId, bytes signature)`.
    /// @dev Reverts without data when it does not decode (out-of-range enums, bad offsets, short data).
    /// @param evidence The evidence given to `verifyAttestation`.
    /// @return statement The signed statement.
    /// @return signerId The signing key.
    /// @return signature The signature over `hashStatement(statement, signerId)`.
    function decodeEvidence(
        bytes calldata evidence
    ) external pure returns (ServiceStatement memory statement, bytes32 signerId, bytes memory signature) {
        return abi.decode(evidence, (ServiceStatement, bytes32, bytes));
    }

    // ------------------------------------------------------------------ views

    /// @notice The EIP-712 digest of `statement` signed by `signerId`, in this verifier's domain.
    /// @param statement The statement.
    /// @param signerId The signing key.
    /// @return The digest a secp256k1 key signs; a P-256 key signs it as an ES256 message.
    function hashStatement(ServiceStatement memory statement, bytes32 signerId) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        STATEMENT_TYPEHASH,
                        uint8(statement.teeType),
                        keccak256(statement.measurement),
                        statement.enclaveKey,
                        statement.binding,
                        uint8(statement.tcbStatus),
                        statement.expiry,
                        signerId
                    )
                )
            );
    }

    /// @notice The signer id of the P-256 key `(qx, qy)`: `keccak256(abi.encode(ServiceKeyKind.P256, qx, qy))`.
    /// @param qx The key's affine x coordinate.
    /// @param qy The key's affine y coordinate.
    /// @return The signer id.
    function p256SignerId(bytes32 qx, bytes32 qy) public pure returns (bytes32) {
        return keccak256(abi.encode(ServiceKeyKind.P256, qx, qy));
    }

    /// @notice The signer id of the secp256k1 key of `account`:
    /// `keccak256(abi.encode(ServiceKeyKind.Secp256k1, account))`.
    /// @param account The key's Ethereum address.
    /// @return The signer id.
    function secp256k1SignerId(address account) public pure returns (bytes32) {
        return keccak256(abi.encode(ServiceKeyKind.Secp256k1, account));
    }

    /// @notice The key known under `signerId` (all zero when none).
    /// @param signerId The signer id.
    /// @return The key, its kind and status.
    function signerOf(bytes32 signerId) external view returns (ServiceSigner memory) {
        return _signers[signerId];
    }

    /// @notice Byte length of a measurement of `teeType` in its canonical layout.
    /// @dev Reverts for `TeeType.None`, which has no layout.
    /// @param teeType The TEE type.
    /// @return The length in bytes.
    function measurementLength(TeeType teeType) public pure returns (uint256) {
        uint256 length = Environments.measurementLength(teeType);
        if (length == 0) revert AttestationServiceVerifierUnsupportedTeeType(teeType);
        return length;
    }

    // ------------------------------------------------------------------ internals

    function _approve(bytes32 signerId, ServiceSigner memory signer) private {
        ServiceSignerStatus status = _signers[signerId].status;
        // Approving twice would hide a mistake; re-approving a revoked key would undo a revocation.
        if (status != ServiceSignerStatus.None) revert AttestationServiceVerifierSignerExists(signerId, status);
        _signers[signerId] = signer;
    }

    function _requireApproved(bytes32 signerId) private view returns (ServiceSigner memory signer) {
        signer = _signers[signerId];
        if (signer.status == ServiceSignerStatus.None) revert AttestationServiceVerifierUnknownSigner(signerId);
        if (signer.status == ServiceSignerStatus.Revoked) revert AttestationServiceVerifierRevokedSigner(signerId);
    }

    function _checkSignature(
        ServiceSigner memory signer,
        bytes32 signerId,
        bytes32 digest,
        bytes memory signature
    ) private view {
        bool valid;
        if (signer.kind == ServiceKeyKind.P256) {
            if (signature.length != P256_SIGNATURE_BYTES) {
                revert AttestationServiceVerifierBadSignatureLength(signerId, signature.length, P256_SIGNATURE_BYTES);
            }
            bytes32 r;
            bytes32 s;
            assembly ("memory-safe") {
                r := mload(add(signature, 0x20))
                s := mload(add(signature, 0x40))
            }
            // `P256.verify` refuses s > n/2.
            valid = P256.verify(sha256(abi.encodePacked(digest)), r, s, signer.qx, signer.qy);
        } else {
            if (signature.length != SECP256K1_SIGNATURE_BYTES) {
                revert AttestationServiceVerifierBadSignatureLength(
                    signerId,
                    signature.length,
                    SECP256K1_SIGNATURE_BYTES
                );
            }
            // `tryRecover` refuses s > n/2 and v other than 27/28.
            (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signature);
            valid = err == ECDSA.RecoverError.NoError && recovered == signer.account;
        }
        if (!valid) revert AttestationServiceVerifierBadSignature(signerId, digest);
    }
}

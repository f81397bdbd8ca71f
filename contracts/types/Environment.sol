// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Kind of trusted execution environment. New kinds are appended; values never change meaning.
/// @dev The measurement layout of each kind is fixed in docs/protocol.md, "Environments".
enum TeeType {
    None,
    /// Intel TDX: MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3, 5 x 48 = 240 bytes.
    IntelTdx,
    /// Intel SGX: MRENCLAVE ‖ MRSIGNER, 2 x 32 = 64 bytes.
    IntelSgx,
    /// AWS Nitro Enclaves: PCR0 ‖ PCR1 ‖ PCR2 (SHA-384), 3 x 48 = 144 bytes.
    AwsNitro
}

/// @notice Intel's TCB status of an attested platform, as a collateral-checking verifier reports it.
/// @dev Zero is `Unrecognized` so that an unset value is never an accepted one. `Revoked` is never
/// accepted, whatever governance allows.
enum TcbStatus {
    Unrecognized,
    UpToDate,
    SwHardeningNeeded,
    ConfigurationAndSwHardeningNeeded,
    ConfigurationNeeded,
    OutOfDate,
    OutOfDateConfigurationNeeded,
    Revoked
}

/// @notice What an attestation verifier vouches for after checking one piece of evidence.
/// @dev `enclaveKey` and `binding` come from the 64 bytes of report data the enclave chose
/// (docs/protocol.md, "Report data"): bytes 0..19 the key, 20..31 zero, 32..63 the binding
/// `keccak256(abi.encode(chainId, environmentRegistry, enclaveKey, nonce))`.
struct Attestation {
    TeeType teeType;
    /// The measurement in the canonical layout of `teeType`.
    bytes measurement;
    /// The secp256k1 address of the key generated inside the enclave.
    address enclaveKey;
    /// Freshness and destination: binds the chain, the registry and a registry-issued nonce.
    bytes32 binding;
    TcbStatus tcbStatus;
    /// Latest time the verifier vouches for the evidence (`type(uint64).max` when it sets no limit).
    uint64 notAfter;
}

/// @notice How a model's TEE-signed commitments settle (fixed at registration, in `ModelPolicy`).
enum TeeMode {
    /// TEE signatures are not accepted for this model.
    None,
    /// A TEE-signed commitment is Pending for the policy's shorter `teeWindow`, open to fraud proofs
    /// (for re-executable models), then Final with finality `Tee`.
    Window,
    /// A TEE-signed commitment is Final at once; for `teeWindow` seconds (the accountability period) a
    /// fraud proof still slashes its operator and marks it proven wrong, without changing its status.
    Instant
}

/// @notice Lifecycle of an environment (a measurement). Revoked is terminal.
enum EnvironmentStatus {
    None,
    Approved,
    Revoked
}

/// @notice The ledger's cache of one enclave key, read by `commitTee`: one slot, keyed by the key.
/// @dev 160 + 40 + 32 + 24 = 256 bits. `validUntil` is the key's expiry, or its revocation time once
/// revoked (the registry says which). Written by the environment registry only.
struct EnclaveTerms {
    address operator;
    uint40 validUntil;
    uint32 serial;
    uint24 environmentSerial;
}

/// @notice The ledger's cache of one environment, read by `commitTee`: one slot, keyed by its id.
struct EnvironmentTerms {
    uint24 serial;
    bool approved;
}

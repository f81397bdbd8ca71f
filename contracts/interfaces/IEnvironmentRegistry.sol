// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAttestationVerifier} from "./IAttestationVerifier.sol";
import {EnvironmentStatus, TcbStatus, TeeType} from "../types/Environment.sol";

/// @title IEnvironmentRegistry
/// @notice Which execution environments may run models, and which enclave keys run them. An environment
/// is a TEE measurement, `environmentId = keccak256(bytes.concat(bytes1(uint8(teeType)), measurement))`,
/// approved and revoked by governance. An enclave key (a secp256k1 address generated inside an enclave)
/// is registered once, by its operator (a staked provider), with attestation evidence checked by a
/// governance-approved `IAttestationVerifier`: the measurement must be approved, the report data must bind
/// this key, this chain, this registry and a nonce this registry issued to the operator less than
/// `NONCE_LIFETIME` ago, and the TCB status must be accepted. After that each inference is checked with
/// `ecrecover` by the ledger. A key is valid while it is neither expired nor revoked and its environment is
/// approved: revoking an environment disables all its keys at once, with no loop.
/// @dev The registry mirrors every key and environment into the ledger's TEE admission cache, in the same
/// transaction as the change.
interface IEnvironmentRegistry {
    /// @notice Everything the registry keeps about one environment.
    struct Environment {
        TeeType teeType;
        EnvironmentStatus status;
        /// A fraud proof was won against a commitment signed by one of its keys.
        bool compromised;
        uint24 serial;
        uint48 approvedAt;
        /// Zero while approved.
        uint48 revokedAt;
        /// The measurement in the canonical layout of `teeType`.
        bytes measurement;
        /// Where the environment is described (build recipe, release notes); informational.
        string metadataURI;
    }

    /// @notice Everything the registry keeps about one enclave key.
    struct Enclave {
        address operator;
        uint48 registeredAt;
        uint48 expiresAt;
        /// Zero until revoked.
        uint48 revokedAt;
        uint32 serial;
        TcbStatus tcbStatus;
        /// Revoked because a fraud proof was won against a commitment it signed.
        bool revokedForFraud;
        IAttestationVerifier verifier;
        bytes32 environment;
    }

    /// @notice The measurement's length is not the canonical length of its TEE type.
    error EnvironmentRegistryInvalidMeasurement(TeeType teeType, uint256 length, uint256 expected);
    /// @notice The environment was already approved (or is revoked: revocation is final).
    error EnvironmentRegistryEnvironmentExists(bytes32 environment, EnvironmentStatus status);
    /// @notice No environment with this id was ever approved.
    error EnvironmentRegistryUnknownEnvironment(bytes32 environment);
    /// @notice The environment is not approved (it was revoked at `revokedAt`).
    error EnvironmentRegistryEnvironmentRevoked(bytes32 environment, uint48 revokedAt);
    /// @notice The verifier is not approved by governance (or was revoked).
    error EnvironmentRegistryVerifierNotApproved(address verifier);
    /// @notice The verifier is already approved.
    error EnvironmentRegistryVerifierAlreadyApproved(address verifier);
    /// @notice This registry did not issue `nonce`, or issued it to another operator.
    error EnvironmentRegistryUnknownNonce(bytes32 nonce, address caller);
    /// @notice The nonce was issued at `issuedAt` and expired at `issuedAt + NONCE_LIFETIME`.
    error EnvironmentRegistryStaleNonce(bytes32 nonce, uint48 issuedAt, uint48 expiredAt);
    /// @notice The nonce was already used by a registration.
    error EnvironmentRegistryNonceUsed(bytes32 nonce);
    /// @notice The report data does not bind this key, chain, registry and nonce.
    error EnvironmentRegistryReportDataMismatch(bytes32 binding, bytes32 expected);
    /// @notice The key in the report data is the zero address.
    error EnvironmentRegistryZeroKey();
    /// @notice The platform's TCB status is not accepted by governance.
    error EnvironmentRegistryTcbStatusRejected(TcbStatus status);
    /// @notice The accepted TCB statuses must include `UpToDate` and may never include `Unrecognized`
    /// or `Revoked`.
    error EnvironmentRegistryInvalidTcbPolicy(uint256 mask);
    /// @notice The key is already registered (keys are registered once; a new enclave makes a new key).
    error EnvironmentRegistryEnclaveExists(address enclaveKey);
    /// @notice No such enclave key is registered.
    error EnvironmentRegistryUnknownEnclave(address enclaveKey);
    /// @notice The key is already revoked.
    error EnvironmentRegistryEnclaveRevoked(address enclaveKey, uint48 revokedAt);
    /// @notice The requested expiry is in the past, beyond `now + MAX_KEY_LIFETIME`, or beyond the
    /// verifier's `notAfter`.
    error EnvironmentRegistryInvalidExpiry(uint256 expiresAt, uint256 latest);
    /// @notice The caller holds no active stake: only staked providers operate enclaves.
    error EnvironmentRegistryOperatorNotStaked(address operator);
    /// @notice Only the key's operator or a governor may revoke it.
    error EnvironmentRegistryNotOperator(address enclaveKey, address caller);
    /// @notice Only the bound ledger reports fraud.
    error EnvironmentRegistryNotLedger(address caller);

    /// @notice Governance approved an environment.
    event EnvironmentApproved(
        bytes32 indexed environment,
        TeeType teeType,
        uint24 serial,
        bytes measurement,
        string metadataURI
    );
    /// @notice An environment was revoked: every key running it is invalid from now on.
    event EnvironmentRevoked(bytes32 indexed environment, bool forFraud);
    /// @notice A fraud proof was won against a commitment signed in this environment: its enclave may be
    /// broken. Governance should investigate (and revoke it, unless `revokeOnFraud` already did).
    event EnvironmentCompromised(bytes32 indexed environment, address indexed enclaveKey, bytes32 commitmentId);
    /// @notice Governance approved or revoked an attestation verifier.
    event VerifierApproved(address indexed verifier, bytes32 kind);
    event VerifierRevoked(address indexed verifier);
    /// @notice Governance changed the accepted TCB statuses (bit `1 << uint8(status)` per status).
    event TcbPolicyUpdated(uint256 acceptedMask);
    /// @notice Governance changed whether a fraud proof revokes the environment too.
    event RevokeOnFraudUpdated(bool revokeOnFraud);
    /// @notice A nonce was issued to `operator`; it is valid for `NONCE_LIFETIME`.
    event NonceIssued(bytes32 indexed nonce, address indexed operator, uint48 issuedAt);
    /// @notice An enclave key was registered.
    event EnclaveRegistered(
        address indexed enclaveKey,
        address indexed operator,
        bytes32 indexed environment,
        uint32 serial,
        address verifier,
        TcbStatus tcbStatus,
        uint48 expiresAt
    );
    /// @notice An enclave key was revoked by `by` (its operator, a governor, or the ledger for fraud).
    event EnclaveRevoked(address indexed enclaveKey, address indexed by, bool forFraud);

    /// @notice Longest an issued nonce stays usable: the freshness of attestation evidence.
    function NONCE_LIFETIME() external view returns (uint48);

    /// @notice Longest lifetime of an enclave key.
    function MAX_KEY_LIFETIME() external view returns (uint48);

    /// @notice Approves an environment. GOVERNOR_ROLE only.
    /// @return environment Its id.
    function approveEnvironment(
        TeeType teeType,
        bytes calldata measurement,
        string calldata metadataURI
    ) external returns (bytes32 environment);

    /// @notice Revokes an environment for good: all its keys stop being valid at once, and their pending
    /// TEE commitments fall back to their models' full challenge windows. GOVERNOR_ROLE only.
    function revokeEnvironment(bytes32 environment) external;

    /// @notice Approves an attestation verifier. GOVERNOR_ROLE only.
    function approveVerifier(IAttestationVerifier verifier) external;

    /// @notice Revokes an attestation verifier: no key registers through it any more (keys it already
    /// attested stay until they expire or are revoked). GOVERNOR_ROLE only.
    function revokeVerifier(IAttestationVerifier verifier) external;

    /// @notice Sets the accepted TCB statuses as a bit mask (`1 << uint8(status)`). GOVERNOR_ROLE only.
    function setAcceptedTcbStatuses(uint256 mask) external;

    /// @notice Sets whether a fraud proof against a TEE-signed commitment also revokes its environment
    /// (the key is always revoked). GOVERNOR_ROLE only.
    function setRevokeOnFraud(bool revokeOnFraud) external;

    /// @notice Issues a fresh nonce to the caller, to put into an enclave's report data.
    function issueNonce() external returns (bytes32 nonce);

    /// @notice Registers the enclave key attested by `evidence` for the caller (its operator).
    /// @param verifier An approved attestation verifier. @param evidence What it checks.
    /// @param nonce A nonce issued to the caller by `issueNonce`, bound in the report data.
    /// @param expiresAt When the key expires: in the future, at most `MAX_KEY_LIFETIME` ahead and not
    /// after the verifier's `notAfter`.
    /// @return enclaveKey The registered key.
    function registerEnclave(
        IAttestationVerifier verifier,
        bytes calldata evidence,
        bytes32 nonce,
        uint48 expiresAt
    ) external returns (address enclaveKey);

    /// @notice Revokes an enclave key: its operator or a governor. Its pending TEE commitments fall back to
    /// their models' full challenge windows; its instant-final ones stay Final.
    function revokeEnclave(address enclaveKey) external;

    /// @notice Called by the ledger when a commitment the key signed is overturned: revokes the key at once.
    /// When fraud was proven (`byProof`, not a game lost by the operator's silence, which an operator could
    /// stage on purpose) it also marks the environment compromised and, if `revokeOnFraud`, revokes it.
    function reportFraud(uint32 serial, bytes32 commitmentId, bool byProof) external;

    /// @notice The 64 bytes of report data an enclave puts into its attestation to register `enclaveKey`
    /// here with `nonce` (docs/protocol.md, "Report data").
    function reportDataOf(address enclaveKey, bytes32 nonce) external view returns (bytes memory);

    /// @notice `keccak256(bytes.concat(bytes1(uint8(teeType)), measurement))`.
    function environmentIdOf(TeeType teeType, bytes calldata measurement) external pure returns (bytes32);

    /// @notice The environment `environment`.
    function environmentOf(bytes32 environment) external view returns (Environment memory);

    /// @notice The enclave key `enclaveKey`.
    function enclaveOf(address enclaveKey) external view returns (Enclave memory);

    /// @notice Whether `enclaveKey` may sign commitments now: registered, not expired, not revoked, and its
    /// environment approved.
    function isValidEnclave(address enclaveKey) external view returns (bool);

    /// @notice The key with serial `serial`, its operator and environment, and when trust in it was lost:
    /// the earlier of its revocation and its environment's (zero while both stand). Expiry is not a loss of
    /// trust. Read by the ledger to settle TEE records.
    function enclaveBySerial(
        uint32 serial
    ) external view returns (address enclaveKey, address operator, bytes32 environment, uint48 trustLostAt);

    /// @notice The accepted TCB statuses, as a bit mask.
    function acceptedTcbStatuses() external view returns (uint256);

    /// @notice Whether a fraud proof also revokes the environment.
    function revokeOnFraud() external view returns (bool);

    /// @notice Whether `verifier` is approved.
    function isApprovedVerifier(address verifier) external view returns (bool);
}

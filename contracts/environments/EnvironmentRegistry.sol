// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {IEnvironmentRegistry} from "../interfaces/IEnvironmentRegistry.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {Environments} from "../libraries/Environments.sol";
import {
    Attestation,
    EnclaveTerms,
    EnvironmentStatus,
    EnvironmentTerms,
    TcbStatus,
    TeeType
} from "../types/Environment.sol";

/// @title EnvironmentRegistry
/// @notice TEE measurements approved by governance, and the enclave keys attested to run them.
/// @dev Attestation is verified once, at registration; the ledger then checks each TEE-signed commitment
/// with `ecrecover` against its cache of keys and environments, which this contract writes.
contract EnvironmentRegistry is IEnvironmentRegistry, AccessControl {
    /// @notice Approves and revokes environments, verifiers and keys; sets the TCB policy.
    bytes32 public constant GOVERNOR_ROLE = keccak256("verity.role.governor");

    /// @inheritdoc IEnvironmentRegistry
    uint48 public constant NONCE_LIFETIME = 1 hours;
    /// @inheritdoc IEnvironmentRegistry
    uint48 public constant MAX_KEY_LIFETIME = 30 days;

    /// @notice The ledger whose TEE admission cache this registry writes, and which reports fraud.
    IInferenceLedger public immutable ledger;

    /// @inheritdoc IEnvironmentRegistry
    uint256 public acceptedTcbStatuses = 1 << uint8(TcbStatus.UpToDate);
    /// @inheritdoc IEnvironmentRegistry
    bool public revokeOnFraud;

    struct IssuedNonce {
        address operator;
        uint48 issuedAt;
        bool used;
    }

    uint24 private _environmentCount;
    uint32 private _enclaveCount;
    uint64 private _nonceCount;

    mapping(bytes32 environment => Environment) private _environments;
    mapping(uint24 serial => bytes32 environment) private _environmentOfSerial;
    mapping(address enclaveKey => Enclave) private _enclaves;
    mapping(uint32 serial => address enclaveKey) private _enclaveOfSerial;
    mapping(address verifier => bool) private _verifiers;
    mapping(bytes32 nonce => IssuedNonce) private _nonces;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE (use a timelock in production).
    /// @param ledger_ The ledger; it must bind this registry with `bindEnvironments`.
    constructor(address admin, IInferenceLedger ledger_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        ledger = ledger_;
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IEnvironmentRegistry
    function approveEnvironment(
        TeeType teeType,
        bytes calldata measurement,
        string calldata metadataURI
    ) external onlyRole(GOVERNOR_ROLE) returns (bytes32 environment) {
        uint256 expected = Environments.measurementLength(teeType);
        if (expected == 0 || measurement.length != expected) {
            revert EnvironmentRegistryInvalidMeasurement(teeType, measurement.length, expected);
        }
        environment = Environments.environmentId(teeType, measurement);
        Environment storage env = _environments[environment];
        if (env.status != EnvironmentStatus.None) revert EnvironmentRegistryEnvironmentExists(environment, env.status);
        uint24 serial = ++_environmentCount;
        env.teeType = teeType;
        env.status = EnvironmentStatus.Approved;
        env.serial = serial;
        env.approvedAt = uint48(block.timestamp);
        env.measurement = measurement;
        env.metadataURI = metadataURI;
        _environmentOfSerial[serial] = environment;
        emit EnvironmentApproved(environment, teeType, serial, measurement, metadataURI);
        ledger.syncEnvironmentTerms(environment, EnvironmentTerms({serial: serial, approved: true}));
    }

    /// @inheritdoc IEnvironmentRegistry
    function revokeEnvironment(bytes32 environment) external onlyRole(GOVERNOR_ROLE) {
        _revokeEnvironment(environment, _approved(environment), false);
    }

    /// @inheritdoc IEnvironmentRegistry
    function approveVerifier(IAttestationVerifier verifier) external onlyRole(GOVERNOR_ROLE) {
        if (_verifiers[address(verifier)]) revert EnvironmentRegistryVerifierAlreadyApproved(address(verifier));
        // A verifier names its kind; calling it here also checks that the address is one.
        bytes32 kind = verifier.verifierKind();
        _verifiers[address(verifier)] = true;
        emit VerifierApproved(address(verifier), kind);
    }

    /// @inheritdoc IEnvironmentRegistry
    function revokeVerifier(IAttestationVerifier verifier) external onlyRole(GOVERNOR_ROLE) {
        if (!_verifiers[address(verifier)]) revert EnvironmentRegistryVerifierNotApproved(address(verifier));
        _verifiers[address(verifier)] = false;
        emit VerifierRevoked(address(verifier));
    }

    /// @inheritdoc IEnvironmentRegistry
    function setAcceptedTcbStatuses(uint256 mask) external onlyRole(GOVERNOR_ROLE) {
        // INVARIANT: an up-to-date platform is always accepted; an unknown or revoked TCB never is.
        uint256 never = (1 << uint8(TcbStatus.Unrecognized)) | (1 << uint8(TcbStatus.Revoked));
        if (
            mask & never != 0 ||
            mask & (1 << uint8(TcbStatus.UpToDate)) == 0 ||
            mask >> (uint8(type(TcbStatus).max) + 1) != 0
        ) {
            revert EnvironmentRegistryInvalidTcbPolicy(mask);
        }
        acceptedTcbStatuses = mask;
        emit TcbPolicyUpdated(mask);
    }

    /// @inheritdoc IEnvironmentRegistry
    function setRevokeOnFraud(bool revokeOnFraud_) external onlyRole(GOVERNOR_ROLE) {
        revokeOnFraud = revokeOnFraud_;
        emit RevokeOnFraudUpdated(revokeOnFraud_);
    }

    // ------------------------------------------------------------------ enclave keys

    /// @inheritdoc IEnvironmentRegistry
    function issueNonce() external returns (bytes32 nonce) {
        // Unique (a counter) and unknown before this block (the previous block's hash): evidence that binds
        // it was made after it was issued, so its age is the nonce's.
        nonce = keccak256(
            abi.encode(block.chainid, address(this), msg.sender, ++_nonceCount, blockhash(block.number - 1))
        );
        _nonces[nonce] = IssuedNonce({operator: msg.sender, issuedAt: uint48(block.timestamp), used: false});
        emit NonceIssued(nonce, msg.sender, uint48(block.timestamp));
    }

    /// @inheritdoc IEnvironmentRegistry
    function registerEnclave(
        IAttestationVerifier verifier,
        bytes calldata evidence,
        bytes32 nonce,
        uint48 expiresAt
    ) external returns (address enclaveKey) {
        if (!_verifiers[address(verifier)]) revert EnvironmentRegistryVerifierNotApproved(address(verifier));
        if (ledger.providerStakeOf(msg.sender) == 0) revert EnvironmentRegistryOperatorNotStaked(msg.sender);
        _useNonce(nonce);
        Attestation memory att = verifier.verifyAttestation(evidence);

        enclaveKey = att.enclaveKey;
        if (enclaveKey == address(0)) revert EnvironmentRegistryZeroKey();
        bytes32 expected = Environments.binding(block.chainid, address(this), enclaveKey, nonce);
        if (att.binding != expected) revert EnvironmentRegistryReportDataMismatch(att.binding, expected);
        bytes32 environment = Environments.environmentId(att.teeType, att.measurement);
        Environment storage env = _approved(environment);
        if (acceptedTcbStatuses & (1 << uint8(att.tcbStatus)) == 0) {
            revert EnvironmentRegistryTcbStatusRejected(att.tcbStatus);
        }
        uint256 latest = block.timestamp + MAX_KEY_LIFETIME;
        if (att.notAfter < latest) latest = att.notAfter;
        if (expiresAt <= block.timestamp || expiresAt > latest)
            revert EnvironmentRegistryInvalidExpiry(expiresAt, latest);
        Enclave storage enclave = _enclaves[enclaveKey];
        if (enclave.operator != address(0)) revert EnvironmentRegistryEnclaveExists(enclaveKey);

        uint32 serial = ++_enclaveCount;
        enclave.operator = msg.sender;
        enclave.registeredAt = uint48(block.timestamp);
        enclave.expiresAt = expiresAt;
        enclave.serial = serial;
        enclave.tcbStatus = att.tcbStatus;
        enclave.verifier = verifier;
        enclave.environment = environment;
        _enclaveOfSerial[serial] = enclaveKey;
        emit EnclaveRegistered(
            enclaveKey,
            msg.sender,
            environment,
            serial,
            address(verifier),
            att.tcbStatus,
            expiresAt
        );
        _syncEnclave(enclaveKey, enclave, env.serial, expiresAt);
    }

    /// @inheritdoc IEnvironmentRegistry
    function revokeEnclave(address enclaveKey) external {
        Enclave storage enclave = _enclaves[enclaveKey];
        if (enclave.operator == address(0)) revert EnvironmentRegistryUnknownEnclave(enclaveKey);
        if (msg.sender != enclave.operator && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert EnvironmentRegistryNotOperator(enclaveKey, msg.sender);
        }
        if (enclave.revokedAt != 0) revert EnvironmentRegistryEnclaveRevoked(enclaveKey, enclave.revokedAt);
        _revokeEnclave(enclaveKey, enclave, false);
    }

    /// @inheritdoc IEnvironmentRegistry
    function reportFraud(uint32 serial, bytes32 commitmentId, bool byProof) external {
        if (msg.sender != address(ledger)) revert EnvironmentRegistryNotLedger(msg.sender);
        address enclaveKey = _enclaveOfSerial[serial];
        Enclave storage enclave = _enclaves[enclaveKey];
        // INVARIANT: an overturned TEE commitment ends its key's trust at once, whoever revoked it first.
        if (enclave.revokedAt == 0) _revokeEnclave(enclaveKey, enclave, byProof);
        else if (byProof) enclave.revokedForFraud = true;
        // A game lost by silence costs the operator its key and a slash but says nothing about the enclave:
        // with `revokeOnFraud`, an operator could otherwise revoke a measurement others share.
        if (!byProof) return;
        Environment storage env = _environments[enclave.environment];
        env.compromised = true;
        emit EnvironmentCompromised(enclave.environment, enclaveKey, commitmentId);
        if (revokeOnFraud && env.status == EnvironmentStatus.Approved) {
            _revokeEnvironment(enclave.environment, env, true);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IEnvironmentRegistry
    function reportDataOf(address enclaveKey, bytes32 nonce) external view returns (bytes memory) {
        return
            Environments.reportData(enclaveKey, Environments.binding(block.chainid, address(this), enclaveKey, nonce));
    }

    /// @inheritdoc IEnvironmentRegistry
    function environmentIdOf(TeeType teeType, bytes calldata measurement) external pure returns (bytes32) {
        return Environments.environmentId(teeType, measurement);
    }

    /// @inheritdoc IEnvironmentRegistry
    function environmentOf(bytes32 environment) external view returns (Environment memory) {
        return _environments[environment];
    }

    /// @inheritdoc IEnvironmentRegistry
    function enclaveOf(address enclaveKey) external view returns (Enclave memory) {
        return _enclaves[enclaveKey];
    }

    /// @inheritdoc IEnvironmentRegistry
    function isValidEnclave(address enclaveKey) external view returns (bool) {
        Enclave storage enclave = _enclaves[enclaveKey];
        return
            enclave.operator != address(0) &&
            enclave.revokedAt == 0 &&
            block.timestamp < enclave.expiresAt &&
            _environments[enclave.environment].status == EnvironmentStatus.Approved;
    }

    /// @inheritdoc IEnvironmentRegistry
    function enclaveBySerial(
        uint32 serial
    ) external view returns (address enclaveKey, address operator, bytes32 environment, uint48 trustLostAt) {
        enclaveKey = _enclaveOfSerial[serial];
        Enclave storage enclave = _enclaves[enclaveKey];
        operator = enclave.operator;
        environment = enclave.environment;
        trustLostAt = enclave.revokedAt;
        uint48 envRevokedAt = _environments[environment].revokedAt;
        if (envRevokedAt != 0 && (trustLostAt == 0 || envRevokedAt < trustLostAt)) trustLostAt = envRevokedAt;
    }

    /// @inheritdoc IEnvironmentRegistry
    function isApprovedVerifier(address verifier) external view returns (bool) {
        return _verifiers[verifier];
    }

    // ------------------------------------------------------------------ internals

    function _approved(bytes32 environment) private view returns (Environment storage env) {
        env = _environments[environment];
        if (env.status == EnvironmentStatus.None) revert EnvironmentRegistryUnknownEnvironment(environment);
        if (env.status == EnvironmentStatus.Revoked) {
            revert EnvironmentRegistryEnvironmentRevoked(environment, env.revokedAt);
        }
    }

    function _useNonce(bytes32 nonce) private {
        IssuedNonce storage issued = _nonces[nonce];
        if (issued.operator != msg.sender) revert EnvironmentRegistryUnknownNonce(nonce, msg.sender);
        if (issued.used) revert EnvironmentRegistryNonceUsed(nonce);
        uint48 expiredAt = issued.issuedAt + NONCE_LIFETIME;
        if (block.timestamp >= expiredAt) revert EnvironmentRegistryStaleNonce(nonce, issued.issuedAt, expiredAt);
        issued.used = true;
    }

    function _revokeEnvironment(bytes32 environment, Environment storage env, bool forFraud) private {
        env.status = EnvironmentStatus.Revoked;
        env.revokedAt = uint48(block.timestamp);
        emit EnvironmentRevoked(environment, forFraud);
        // O(1): the ledger checks a key's environment with every commitment, so this one write disables
        // every key that runs it.
        ledger.syncEnvironmentTerms(environment, EnvironmentTerms({serial: env.serial, approved: false}));
    }

    function _revokeEnclave(address enclaveKey, Enclave storage enclave, bool forFraud) private {
        enclave.revokedAt = uint48(block.timestamp);
        enclave.revokedForFraud = forFraud;
        emit EnclaveRevoked(enclaveKey, msg.sender, forFraud);
        _syncEnclave(enclaveKey, enclave, _environments[enclave.environment].serial, uint48(block.timestamp));
    }

    function _syncEnclave(address enclaveKey, Enclave storage enclave, uint24 envSerial, uint48 validUntil) private {
        ledger.syncEnclaveTerms(
            enclaveKey,
            EnclaveTerms({
                operator: enclave.operator,
                validUntil: uint40(validUntil),
                serial: enclave.serial,
                environmentSerial: envSerial
            })
        );
    }
}

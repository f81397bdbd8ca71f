// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Bytes} from "@openzeppelin/contracts/utils/Bytes.sol";
import {IAutomataDcapAttestation} from "../interfaces/IAutomataDcapAttestation.sol";

/// @title MockAutomataDcapAttestation
/// @notice Test double of Automata's `AutomataDcapAttestationFee` (automata-network/automata-dcap-attestation,
/// tag v1.1.4) with the real ABI, the real checks of the quote's structure and the real output encoding, byte
/// for byte; the cryptography and collateral are replaced by settings.
/// @dev NOT A VERIFIER. It checks no signature (ECDSA attestation signature, QE report signature, QE report
/// data hash), no PCK certificate chain or CRL, no QE identity and no TCB info: the TCB status, FMSPC and
/// advisory IDs it reports are whatever was set, and a failure of any of those checks is simulated with
/// `setFailure`. What it does reproduce, in the real order and with the real reason strings:
/// - AttestationEntrypointBase: "Quote length is less than Header length" (< 48 bytes), "Unsupported quote
///   version" (versions other than 3 and 4; the real deployment also registers 5, this mock does not), then
///   the `AttestationSubmitted` event;
/// - QuoteVerifierBase.validateHeader: QHS (< 1020 bytes), QHATTF (key type not ECDSA-256-with-P-256),
///   TEE (v3: SGX only; v4: SGX or TDX), QEVEN (not Intel's QE vendor ID);
/// - the V3/V4 verifiers: ADS (signature data longer than what follows), ADF (QE report certification type
///   not 6 in v4, PCK certification type not 5, v4 certification size inconsistent); like the real contract,
///   signature data too short for its own fields reverts (a calldata slice out of bounds);
/// - a revoked TCB (status 6) is reported as the real verifiers do: `(false, "TCBR")` for TDX and, through a
///   quirk of their SGX paths, `(true, "TCBR")` for SGX;
/// - the output: `abi.encodePacked(uint16 version, uint16 bodyType, uint8 tcbStatus, bytes6 fmspc, body,
///   advisoryIDs.length > 0 ? abi.encode(advisoryIDs) : "")`, with no advisory IDs for v3 (the V3 verifier
///   always passes an empty list). No fee is charged and no value refunded.
contract MockAutomataDcapAttestation is IAutomataDcapAttestation {
    uint256 private constant HEADER_LENGTH = 48;
    uint256 private constant MINIMUM_QUOTE_LENGTH = 1020;
    uint256 private constant SGX_REPORT_LENGTH = 384;
    uint256 private constant TD10_REPORT_LENGTH = 584;
    /// @dev Header fields kept in their little-endian byte order, as Automata compares them.
    bytes2 private constant ECDSA_P256_KEY_TYPE = 0x0200;
    bytes4 private constant SGX_TEE = 0x00000000;
    bytes4 private constant TDX_TEE = 0x81000000;
    bytes16 private constant INTEL_QE_VENDOR_ID = 0x939a7233f79c4ca9940a0db3957f0607;
    uint8 private constant TCB_REVOKED = 6;

    /// @notice Automata `TCBStatus` value reported for every quote that passes (0 = OK).
    uint8 public tcbStatus;
    /// @notice FMSPC reported (the real one reads it from the PCK certificate).
    bytes6 public fmspc;
    /// @notice When non-empty, every structurally valid quote fails with this reason (e.g. "ATTVE", "X509VE").
    string public failure;
    string[] private _advisoryIds;

    /// @notice Emitted as Automata's entrypoint does; `verifierType` 0 is `ZkCoProcessorType.None`.
    event AttestationSubmitted(bool success, uint8 verifierType, bytes output);

    /// @notice Sets the Automata `TCBStatus` value to report.
    function setTcbStatus(uint8 status) external {
        tcbStatus = status;
    }

    /// @notice Sets the FMSPC to report.
    function setFmspc(bytes6 value) external {
        fmspc = value;
    }

    /// @notice Sets the advisory IDs of the matched TCB level (reported for v4 quotes only).
    function setAdvisoryIds(string[] calldata ids) external {
        _advisoryIds = ids;
    }

    /// @notice Makes verification fail with `reason` ("" to pass again).
    function setFailure(string calldata reason) external {
        failure = reason;
    }

    /// @inheritdoc IAutomataDcapAttestation
    function verifyAndAttestOnChain(
        bytes calldata rawQuote
    ) external payable returns (bool success, bytes memory output) {
        if (rawQuote.length < HEADER_LENGTH) return (false, bytes("Quote length is less than Header length"));
        uint16 version = _le16(rawQuote[0:2]);
        if (version != 3 && version != 4) return (false, bytes("Unsupported quote version"));
        (success, output) = _verify(version, rawQuote);
        emit AttestationSubmitted(success, 0, output);
    }

    function _verify(uint16 version, bytes calldata quote) private view returns (bool, bytes memory) {
        if (quote.length < MINIMUM_QUOTE_LENGTH) return (false, bytes("QHS"));
        if (bytes2(quote[2:4]) != ECDSA_P256_KEY_TYPE) return (false, bytes("QHATTF"));
        bytes4 tee = bytes4(quote[4:8]);
        if (tee != SGX_TEE && (version == 3 || tee != TDX_TEE)) return (false, bytes("TEE"));
        if (bytes16(quote[12:28]) != INTEL_QE_VENDOR_ID) return (false, bytes("QEVEN"));

        uint256 bodyEnd = HEADER_LENGTH + (tee == SGX_TEE ? SGX_REPORT_LENGTH : TD10_REPORT_LENGTH);
        // The minimum length covers the header, either body and the size field: the real V4 check for a short
        // body (QBS) cannot fire, so it is not repeated here.
        uint256 authDataSize = _le32(quote[bodyEnd:bodyEnd + 4]);
        uint256 authData = bodyEnd + 4;
        // Trailing bytes after the announced signature data are ignored, as the real verifiers do.
        if (quote.length - authData < authDataSize) return (false, bytes("ADS"));
        bytes calldata signatureData = quote[authData:authData + authDataSize];
        if (!(version == 3 ? _v3SignatureDataShaped(signatureData) : _v4SignatureDataShaped(signatureData))) {
            return (false, bytes("ADF"));
        }

        if (bytes(failure).length != 0) return (false, bytes(failure));
        if (tcbStatus == TCB_REVOKED) return (tee == SGX_TEE, bytes("TCBR"));

        uint16 bodyType = tee == SGX_TEE ? 1 : 2;
        bytes memory advisories = version == 4 && _advisoryIds.length > 0 ? abi.encode(_advisoryIds) : bytes("");
        return (true, abi.encodePacked(version, bodyType, tcbStatus, fmspc, quote[HEADER_LENGTH:bodyEnd], advisories));
    }

    /// @dev v3 signature data: signature (64) ‖ attestation key (64) ‖ QE report (384) ‖ QE report signature
    /// (64) ‖ QE auth data size Y (u16 LE) ‖ QE auth data (Y) ‖ certification type (u16 LE, 5 = PCK chain) ‖
    /// certification size Z (u32 LE) ‖ certification data (Z).
    function _v3SignatureDataShaped(bytes calldata data) private pure returns (bool) {
        uint256 offset = 578 + _le16(data[576:578]);
        if (_le16(data[offset:offset + 2]) != 5) return false;
        _end(data, offset + 6, _le32(data[offset + 2:offset + 6]));
        return true;
    }

    /// @dev v4 signature data: signature (64) ‖ attestation key (64) ‖ certification type (u16 LE, 6 = QE report
    /// certification data) ‖ size X (u32 LE) ‖ then X bytes: QE report (384) ‖ QE report signature (64) ‖ QE auth
    /// data size Y (u16 LE) ‖ QE auth data (Y) ‖ certification type (u16 LE, 5) ‖ size Z (u32 LE) ‖ data (Z).
    function _v4SignatureDataShaped(bytes calldata data) private pure returns (bool) {
        if (_le16(data[128:130]) != 6) return false;
        uint256 qeCertSize = _le32(data[130:134]);
        uint256 offset = 584 + _le16(data[582:584]);
        if (_le16(data[offset:offset + 2]) != 5) return false;
        uint256 end = _end(data, offset + 6, _le32(data[offset + 2:offset + 6]));
        return end - 134 == qeCertSize;
    }

    /// @dev End of the `size` bytes of `data` from `start`; reverts when they are not all there, as the real
    /// verifier's calldata slice of the certification data does.
    function _end(bytes calldata data, uint256 start, uint256 size) private pure returns (uint256) {
        bytes calldata present = data[start:start + size];
        return start + present.length;
    }

    function _le16(bytes calldata b) private pure returns (uint16) {
        return uint16(Bytes.reverseBytes2(bytes2(b)));
    }

    function _le32(bytes calldata b) private pure returns (uint32) {
        return uint32(Bytes.reverseBytes4(bytes4(b)));
    }
}

/// @title MockAutomataDcapRawResult
/// @notice Returns a preset `(success, output)` pair verbatim from `verifyAndAttestOnChain`, to feed the adapter
/// outputs the quote-parsing mock cannot produce: later quote versions, TD 1.5 bodies, statuses it never
/// reports, malformed outputs.
contract MockAutomataDcapRawResult is IAutomataDcapAttestation {
    bool private _success;
    bytes private _output;

    /// @notice Sets the pair every call returns.
    function setResult(bool success, bytes calldata output) external {
        _success = success;
        _output = output;
    }

    /// @inheritdoc IAutomataDcapAttestation
    function verifyAndAttestOnChain(bytes calldata) external payable returns (bool success, bytes memory output) {
        return (_success, _output);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Bytes} from "@openzeppelin/contracts/utils/Bytes.sol";
import {IAttestationVerifier} from "../../interfaces/IAttestationVerifier.sol";
import {IAutomataDcapAttestation} from "../../interfaces/IAutomataDcapAttestation.sol";
import {Attestation, TcbStatus, TeeType} from "../../types/Environment.sol";

/// @title AutomataDcapAdapter
/// @notice Attestation verifier for Intel TDX and SGX DCAP quotes, checked by Automata's on-chain DCAP verifier.
/// Automata checks the quote (signatures, PCK chain, CRLs, QE identity, TCB info); this adapter reads what
/// it vouches for and puts it in Verity's terms: the measurement in its canonical layout, the enclave key and
/// binding from the report data, and the TCB status.
/// @dev Written against automata-network/automata-dcap-attestation, tag v1.1.4 (commit 894876a5):
/// `Output` in evm/contracts/types/CommonStruct.sol, `serializeOutput` in evm/contracts/bases/QuoteVerifierBase.sol,
/// the V3 and V4 verifiers in evm/contracts/verifiers/, and the `TCBStatus` enum of automata-on-chain-pccs
/// (src/helpers/FmspcTcbHelper.sol). Accepted: quote version 3 with an SGX enclave report, and quote version 4 with
/// an SGX enclave report or a TD 1.0 report. Version 5 outputs (TD 1.5 bodies, "relaunch advised" statuses) are
/// refused until their measurement rules are settled.
///
/// Output layout (`abi.encodePacked`): [0:2] quote version, [2:4] quote body type, [4] TCB status, [5:11]
/// FMSPC, [11:11+n] quote body, then optionally `abi.encode(string[] advisoryIDs)`, which this adapter ignores.
///
/// Debug-mode enclaves and TDs are refused here: Automata does not check the DEBUG attribute, and the canonical
/// measurement does not contain it (a debug build measures the same as the production one).
///
/// The verifier is called without value, so its fee must be zero basis points; a non-zero fee makes every
/// verification revert with Automata's `Insufficient_Funds()`. A DCAP quote carries no time: `notAfter` is
/// unbounded and freshness comes from the registry nonce inside `binding`.
contract AutomataDcapAdapter is IAttestationVerifier {
    /// @notice The verifier kind this adapter reports.
    bytes32 public constant VERIFIER_KIND = keccak256("verity.verifier.automata-dcap.v1");

    /// @dev Automata `Output` prefix: quoteVersion (2) + quoteBodyType (2) + tcbStatus (1) + FMSPC (6).
    uint256 private constant BODY_OFFSET = 11;

    /// @dev Automata `quoteBodyType` values (CommonStruct.sol, `Output`).
    uint16 private constant BODY_SGX_ENCLAVE_REPORT = 1;
    uint16 private constant BODY_TD10_REPORT = 2;

    /// @dev Body lengths (Constants.sol: ENCLAVE_REPORT_LENGTH, TD_REPORT10_LENGTH).
    uint256 private constant SGX_REPORT_LENGTH = 384;
    uint256 private constant TD10_REPORT_LENGTH = 584;

    /// @dev Field offsets inside the SGX enclave report body (Intel SGX ECDSA Quote Library API, A.4, Table 5).
    uint256 private constant SGX_ATTRIBUTES = 48;
    uint256 private constant SGX_MRENCLAVE = 64;
    uint256 private constant SGX_MRSIGNER = 128;
    uint256 private constant SGX_REPORT_DATA = 320;

    /// @dev Field offsets inside the TD 1.0 report body (Intel TDX DCAP Quoting Library API, A.3.2). RTMR0..3
    /// follow each other, so RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3 is the one range [TD_RTMR0, TD_REPORT_DATA).
    uint256 private constant TD_ATTRIBUTES = 120;
    uint256 private constant TD_MRTD = 136;
    uint256 private constant TD_MRTD_END = 184;
    uint256 private constant TD_RTMR0 = 328;
    uint256 private constant TD_REPORT_DATA = 520;

    /// @dev DEBUG flags, in the first (least significant) byte of the little-endian attribute fields: SGX
    /// ATTRIBUTES.FLAGS bit 1 (SGX_FLAGS_DEBUG), TDX TDATTRIBUTES bit 0 (TUD.DEBUG).
    uint8 private constant SGX_FLAG_DEBUG = 0x02;
    uint8 private constant TD_ATTRIBUTE_DEBUG = 0x01;

    /// @dev Automata's `TCBStatus` values (automata-on-chain-pccs FmspcTcbHelper.sol).
    uint8 private constant AUTOMATA_OK = 0;
    uint8 private constant AUTOMATA_SW_HARDENING_NEEDED = 1;
    uint8 private constant AUTOMATA_CONFIGURATION_AND_SW_HARDENING_NEEDED = 2;
    uint8 private constant AUTOMATA_CONFIGURATION_NEEDED = 3;
    uint8 private constant AUTOMATA_OUT_OF_DATE = 4;
    uint8 private constant AUTOMATA_OUT_OF_DATE_CONFIGURATION_NEEDED = 5;
    uint8 private constant AUTOMATA_REVOKED = 6;

    /// @notice Automata's DCAP attestation entrypoint.
    IAutomataDcapAttestation public immutable automata;

    /// @notice The verifier address given to the constructor is zero.
    error AutomataDcapAdapterZeroVerifier();
    /// @notice Automata refused the quote; `reason` is its output, a UTF-8 string such as "TEE" or "QHS".
    error AutomataDcapAdapterVerificationFailed(bytes reason);
    /// @notice Automata's output is `length` bytes, shorter than the `required` bytes its header announces.
    /// @dev Also how a revoked SGX platform surfaces: Automata's V3 and V4 SGX paths return
    /// `(true, "TCBR")` for a revoked TCB level, a 4-byte output.
    error AutomataDcapAdapterOutputTruncated(uint256 length, uint256 required);
    /// @notice Automata verified a quote of a version this adapter does not decode.
    error AutomataDcapAdapterUnsupportedQuoteVersion(uint16 quoteVersion);
    /// @notice Automata verified a quote body type (TEE) this adapter does not decode for that quote version.
    error AutomataDcapAdapterUnsupportedTeeType(uint16 quoteVersion, uint16 quoteBodyType);
    /// @notice Report data bytes 20..31 are not zero (they must be, between the key and the binding).
    error AutomataDcapAdapterReportDataPadding(bytes12 padding);
    /// @notice The enclave or TD runs in debug mode: the host can read its memory, hence its key. Its
    /// measurement is the same as in production, so only this flag tells them apart.
    error AutomataDcapAdapterDebugMode(TeeType teeType);

    /// @param automata_ Automata's `AutomataDcapAttestationFee` deployment (fee set to zero basis points).
    constructor(address automata_) {
        if (automata_ == address(0)) revert AutomataDcapAdapterZeroVerifier();
        automata = IAutomataDcapAttestation(automata_);
    }

    /// @inheritdoc IAttestationVerifier
    /// @param evidence A raw Intel DCAP quote: v3 SGX, v4 SGX or v4 TDX.
    function verifyAttestation(bytes calldata evidence) external returns (Attestation memory attestation) {
        (bool success, bytes memory output) = automata.verifyAndAttestOnChain(evidence);
        if (!success) revert AutomataDcapAdapterVerificationFailed(output);
        return _decode(output);
    }

    /// @inheritdoc IAttestationVerifier
    function verifierKind() external pure returns (bytes32) {
        return VERIFIER_KIND;
    }

    /// @dev Reads a verified Automata `Output` (layout in the contract's NatSpec).
    function _decode(bytes memory output) private pure returns (Attestation memory attestation) {
        if (output.length < BODY_OFFSET) revert AutomataDcapAdapterOutputTruncated(output.length, BODY_OFFSET);
        bytes32 head = _word(output, 0);
        uint16 quoteVersion = uint16(bytes2(head));
        uint16 quoteBodyType = uint16(bytes2(head << 16));
        uint8 automataStatus = uint8(head[4]);
        if (quoteVersion != 3 && quoteVersion != 4) revert AutomataDcapAdapterUnsupportedQuoteVersion(quoteVersion);

        uint256 reportData;
        if (quoteBodyType == BODY_SGX_ENCLAVE_REPORT) {
            _requireLength(output, BODY_OFFSET + SGX_REPORT_LENGTH);
            if (uint8(output[BODY_OFFSET + SGX_ATTRIBUTES]) & SGX_FLAG_DEBUG != 0) {
                revert AutomataDcapAdapterDebugMode(TeeType.IntelSgx);
            }
            attestation.teeType = TeeType.IntelSgx;
            attestation.measurement = abi.encodePacked(
                _word(output, BODY_OFFSET + SGX_MRENCLAVE),
                _word(output, BODY_OFFSET + SGX_MRSIGNER)
            );
            reportData = BODY_OFFSET + SGX_REPORT_DATA;
        } else if (quoteBodyType == BODY_TD10_REPORT && quoteVersion == 4) {
            _requireLength(output, BODY_OFFSET + TD10_REPORT_LENGTH);
            if (uint8(output[BODY_OFFSET + TD_ATTRIBUTES]) & TD_ATTRIBUTE_DEBUG != 0) {
                revert AutomataDcapAdapterDebugMode(TeeType.IntelTdx);
            }
            attestation.teeType = TeeType.IntelTdx;
            attestation.measurement = bytes.concat(
                Bytes.slice(output, BODY_OFFSET + TD_MRTD, BODY_OFFSET + TD_MRTD_END),
                Bytes.slice(output, BODY_OFFSET + TD_RTMR0, BODY_OFFSET + TD_REPORT_DATA)
            );
            reportData = BODY_OFFSET + TD_REPORT_DATA;
        } else {
            revert AutomataDcapAdapterUnsupportedTeeType(quoteVersion, quoteBodyType);
        }

        // Report data (docs/protocol.md, "Report data"): key (20 bytes) ‖ zero (12 bytes) ‖ binding (32 bytes).
        bytes32 keyWord = _word(output, reportData);
        bytes12 padding = bytes12(keyWord << 160);
        if (padding != bytes12(0)) revert AutomataDcapAdapterReportDataPadding(padding);
        attestation.enclaveKey = address(bytes20(keyWord));
        attestation.binding = _word(output, reportData + 32);
        attestation.tcbStatus = _tcbStatus(automataStatus);
        attestation.notAfter = type(uint64).max;
    }

    /// @dev Automata's `TCBStatus` to Verity's. Automata's TCB_UNRECOGNIZED (7), the TD relaunch statuses of
    /// version 5 (8, 9) and anything else are `Unrecognized`, which the registry never accepts.
    function _tcbStatus(uint8 automataStatus) private pure returns (TcbStatus) {
        if (automataStatus == AUTOMATA_OK) return TcbStatus.UpToDate;
        if (automataStatus == AUTOMATA_SW_HARDENING_NEEDED) return TcbStatus.SwHardeningNeeded;
        if (automataStatus == AUTOMATA_CONFIGURATION_AND_SW_HARDENING_NEEDED) {
            return TcbStatus.ConfigurationAndSwHardeningNeeded;
        }
        if (automataStatus == AUTOMATA_CONFIGURATION_NEEDED) return TcbStatus.ConfigurationNeeded;
        if (automataStatus == AUTOMATA_OUT_OF_DATE) return TcbStatus.OutOfDate;
        if (automataStatus == AUTOMATA_OUT_OF_DATE_CONFIGURATION_NEEDED) return TcbStatus.OutOfDateConfigurationNeeded;
        if (automataStatus == AUTOMATA_REVOKED) return TcbStatus.Revoked;
        return TcbStatus.Unrecognized;
    }

    function _requireLength(bytes memory output, uint256 required) private pure {
        if (output.length < required) revert AutomataDcapAdapterOutputTruncated(output.length, required);
    }

    /// @dev The 32 bytes of `buffer` from `offset`. Reading past the end is harmless (memory is only read) but
    /// meaningless: callers check the length first and use only bytes inside the buffer (the 5 header bytes
    /// of the first word; whole words of the body after `_requireLength`).
    function _word(bytes memory buffer, uint256 offset) private pure returns (bytes32 value) {
        assembly ("memory-safe") {
            value := mload(add(add(buffer, 0x20), offset))
        }
    }
}

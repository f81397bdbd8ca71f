// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IAutomataDcapAttestation
/// @notice The part of Automata's on-chain DCAP quote verifier (`AutomataDcapAttestationFee`) that Verity calls.
/// @dev Declared from automata-network/automata-dcap-attestation, tag v1.1.4 (commit 894876a5),
/// evm/contracts/AutomataDcapAttestationFee.sol and evm/contracts/AttestationEntrypointBase.sol.
/// The call is `payable` behind a `collectFee` modifier: with a fee of zero basis points (`getBp() == 0`) no
/// value is needed; otherwise a call without enough value reverts with `Insufficient_Funds()`.
interface IAutomataDcapAttestation {
    /// @notice Verifies an Intel DCAP quote fully on chain (signatures, certificate chain, collateral, TCB).
    /// @param rawQuote The quote as the Intel quoting library produces it.
    /// @return success Whether the quote verified.
    /// @return output On success, the serialized `Output` (QuoteVerifierBase.serializeOutput): quote version
    /// (uint16 BE), quote body type (uint16 BE: 1 SGX enclave report, 2 TD 1.0 report, 3 TD 1.5 report), TCB
    /// status (uint8), FMSPC (6 bytes), the raw quote body, then `abi.encode(string[] advisoryIDs)` only when
    /// there are advisories. On failure, a UTF-8 reason such as "TEE", "QHS" or "Unsupported quote version".
    function verifyAndAttestOnChain(
        bytes calldata rawQuote
    ) external payable returns (bool success, bytes memory output);
}

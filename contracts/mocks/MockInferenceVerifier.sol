// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IInferenceLedger} from "../interfaces/IInferenceLedger.sol";
import {Inference} from "../types/Commitment.sol";

/// @notice Test verifier: accepts a proof `abi.encode(input, prover, systemProof)` whose commitment matches and
/// whose system proof is `"ok"`; reverts `MockVerifierRejected` otherwise. Can be set to re-enter the ledger.
contract MockInferenceVerifier is IInferenceVerifier {
    error MockVerifierRejected();
    error MockVerifierCommitmentMismatch(bytes32 given, bytes32 computed);

    bytes32 private immutable _modelId;
    /// @notice When set, `verifyInference` calls `commitVerified` on it again with the same arguments.
    IInferenceLedger public reenter;
    Inference private _inference;

    constructor(bytes32 modelId_) {
        _modelId = modelId_;
    }

    function setReenter(IInferenceLedger ledger, Inference calldata inference) external {
        reenter = ledger;
        _inference = inference;
    }

    function modelId() external view returns (bytes32) {
        return _modelId;
    }

    function verifyInference(
        bytes32 modelId_,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external {
        if (modelId_ != _modelId) revert MockVerifierRejected();
        (bytes memory input, address prover, bytes memory systemProof) = abi.decode(proof, (bytes, address, bytes));
        bytes32 computed = keccak256(abi.encode(keccak256(input), prover));
        if (computed != inputCommitment) revert MockVerifierCommitmentMismatch(inputCommitment, computed);
        if (keccak256(systemProof) != keccak256("ok")) revert MockVerifierRejected();
        if (address(reenter) != address(0)) reenter.commitVerified(modelId_, _inference, output, proof);
        emit InferenceVerified(modelId_, inputCommitment, prover, keccak256(output));
    }
}

/// @notice A contract whose `modelId()` reverts: not a verifier.
contract BrokenVerifier {
    /// @notice What `modelId()` always reverts with.
    error BrokenVerifierNoModel();

    function modelId() external pure returns (bytes32) {
        revert BrokenVerifierNoModel();
    }
}

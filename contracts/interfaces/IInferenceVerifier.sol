// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IInferenceVerifier
/// @notice ERC-7992-shaped verifier: reverts on any failure, emits InferenceVerified on success.
/// @dev One verifier serves one model (in the weights-as-constants design the verifying key is the model's
///      commitment); the model registry records which verifier belongs to which model id, and the ledger's
///      `commitVerified` calls it. A verifier is stateless: calling it twice with the same arguments has the same
///      outcome, so it never needs to know its caller. The caller binds the prover: it computes
///      `inputCommitment` with its own `msg.sender`, so a proof copied from the mempool fails for anyone else.
interface IInferenceVerifier {
    /// @notice Emitted once per successful verification.
    /// @param modelId The model the inference ran on (this verifier's `modelId()`).
    /// @param inputCommitment `keccak256(abi.encode(inputHash, prover))`, as passed in.
    /// @param prover The address the proof is bound to.
    /// @param outputHash `keccak256(output)`: the outputHash of the corresponding commitment.
    event InferenceVerified(
        bytes32 indexed modelId,
        bytes32 indexed inputCommitment,
        address indexed prover,
        bytes32 outputHash
    );

    /// @notice Verifies that running `modelId` on the committed input gives `output`, for the committed prover.
    /// @dev Reverts (with the implementation's named errors) on a wrong model, a commitment that does not match
    ///      the input and prover inside `proof`, wrong lengths, or an invalid proof.
    /// @param modelId The model id; must equal `modelId()`.
    /// @param inputCommitment keccak256(abi.encode(inputHash, prover)) with inputHash = keccak256(input bytes)
    /// @param output the model's output bytes exactly as the engine defines them
    ///        (their keccak is the outputHash of a commitment)
    /// @param proof abi.encode(bytes input, address prover, bytes systemProof)
    function verifyInference(
        bytes32 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external;

    /// @notice The model this verifier serves (one verifier per model in the weights-as-constants design).
    /// @return The model id.
    function modelId() external view returns (bytes32);
}

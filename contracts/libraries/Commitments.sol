// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {BatchHeader, Inference} from "../types/Commitment.sol";

/// @title Commitments
/// @notice Ids and Merkle leaves of inference commitments (docs/protocol.md, "Identifiers").
/// @dev Every off-chain party derives the same ids: the SDK mirrors these functions.
library Commitments {
    /// @notice Id of a single commitment:
    /// `keccak256(abi.encode(provider, modelId, inputHash, outputHash, traceRoot))`.
    function commitmentId(
        address provider,
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 outputHash,
        bytes32 traceRoot
    ) internal pure returns (bytes32 id) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, provider)
            mstore(add(p, 0x20), modelId)
            mstore(add(p, 0x40), inputHash)
            mstore(add(p, 0x60), outputHash)
            mstore(add(p, 0x80), traceRoot)
            id := keccak256(p, 0xa0)
        }
    }

    /// @notice Id of a batch: `keccak256(abi.encode(provider, modelId, root, count))`.
    function batchId(BatchHeader calldata header) internal pure returns (bytes32) {
        return keccak256(abi.encode(header.provider, header.modelId, header.root, header.count));
    }

    /// @notice The OpenZeppelin standard Merkle tree leaf of `(bytes32, bytes32, bytes32)`:
    /// `keccak256(bytes.concat(keccak256(abi.encode(inputHash, outputHash, traceRoot))))`.
    function leafHash(Inference calldata leaf) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(leaf.inputHash, leaf.outputHash, leaf.traceRoot))));
    }

    /// @notice Key of a leaf's dispute state: `keccak256(abi.encode(batchId, leafHash))`.
    function leafId(bytes32 batch, bytes32 leaf) internal pure returns (bytes32) {
        return keccak256(abi.encode(batch, leaf));
    }

    /// @notice Whether `leaf` (already hashed) is in the tree with `root`.
    function includes(bytes32 root, bytes32[] calldata proof, bytes32 leaf) internal pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }
}

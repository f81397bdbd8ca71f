// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {BatchHeader, CommitmentKey, Inference} from "../types/Commitment.sol";

/// @title Commitments
/// @notice Ids and Merkle leaves of inference commitments (docs/protocol.md, "Identifiers").
/// @dev Every off-chain party derives the same ids: the SDK mirrors these functions.
library Commitments {
    /// @notice Id of a single commitment: `keccak256(abi.encode(key))`, i.e.
    /// `keccak256(abi.encode(provider, modelId, inputHash, outputHash, traceRoot, binding))`.
    function commitmentId(CommitmentKey calldata key) internal pure returns (bytes32) {
        return keccak256(abi.encode(key));
    }

    /// @notice Id of a batch: `keccak256(abi.encode(header))`, i.e.
    /// `keccak256(abi.encode(provider, modelId, root, count, binding))`.
    function batchId(BatchHeader calldata header) internal pure returns (bytes32) {
        return keccak256(abi.encode(header));
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

    /// @notice Root of the OpenZeppelin standard Merkle tree over `leaves`, which must be sorted strictly
    /// ascending (as the tree sorts them, and distinct). The tree is the array `t` of `2n - 1` nodes with
    /// leaf `i` at `t[2n - 2 - i]` and `t[k] = hashPair(t[2k + 1], t[2k + 2])`; the root is `t[0]`.
    /// @dev Returns false as `sorted` when the leaves are not strictly ascending. Linear memory: `2n - 1` words.
    function rootOfSorted(bytes32[] calldata leaves) internal pure returns (bytes32 root, bool sorted) {
        uint256 n = leaves.length;
        if (n == 0) return (bytes32(0), false);
        for (uint256 i = 1; i < n; ++i) {
            if (leaves[i] <= leaves[i - 1]) return (bytes32(0), false);
        }
        bytes32[] memory tree = new bytes32[](2 * n - 1);
        uint256 last = 2 * n - 2;
        for (uint256 i; i < n; ++i) tree[last - i] = leaves[i];
        for (uint256 k = n - 1; k > 0; --k) {
            tree[k - 1] = Hashes.commutativeKeccak256(tree[2 * k - 1], tree[2 * k]);
        }
        return (tree[0], true);
    }
}

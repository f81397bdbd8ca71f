// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

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

    /// @notice One link of a disclosure chain: `keccak256(abi.encode(previous, leafHash))`, hashed in scratch
    /// space so that a long chain does not grow memory.
    function link(bytes32 previous, bytes32 leaf) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, previous)
            mstore(0x20, leaf)
            h := keccak256(0x00, 0x40)
        }
    }

    /// @notice The disclosure chain over `leaves` from `start`: `h = link(h, leaves[i])` for each i in order.
    function chain(bytes32 start, bytes32[] calldata leaves) internal pure returns (bytes32 h) {
        h = start;
        for (uint256 i; i < leaves.length; ++i) h = link(h, leaves[i]);
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
        // The tree array t[0 .. 2n-2] in memory, one word per node, filled without bounds checks: leaf i at
        // t[2n-2-i], then t[k] = hashPair(t[2k+1], t[2k+2]) for k = n-2 down to 0.
        assembly ("memory-safe") {
            let t := mload(0x40)
            let last := sub(shl(1, n), 2)
            for {
                let i := 0
            } lt(i, n) {
                i := add(i, 1)
            } {
                mstore(add(t, shl(5, sub(last, i))), calldataload(add(leaves.offset, shl(5, i))))
            }
            for {
                let k := sub(n, 1)
            } gt(k, 0) {
                k := sub(k, 1)
            } {
                let a := mload(add(t, shl(5, sub(shl(1, k), 1))))
                let b := mload(add(t, shl(5, shl(1, k))))
                if gt(a, b) {
                    let c := a
                    a := b
                    b := c
                }
                mstore(0x00, a)
                mstore(0x20, b)
                mstore(add(t, shl(5, sub(k, 1))), keccak256(0x00, 0x40))
            }
            root := mload(t)
        }
        sorted = true;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {DenseInt8} from "../libraries/DenseInt8.sol";
import {NeuronProof} from "../types/Dispute.sol";
import {LayerSpec} from "../types/LayerSpec.sol";

/// @notice A two-layer `dense-int8-v1` model small enough to evaluate in Solidity tests: layer 1 maps two
/// inputs to one neuron, layer 2 maps it to one output. Its weights tree has two leaves (one per neuron),
/// so each row's Merkle proof is the other leaf. Gives the honest trace and neuron proofs for any input.
contract DisputeTinyModel {
    /// @notice Number of layers.
    uint16 public constant NUM_LAYERS = 2;

    /// @notice Layer `layer`'s spec: 2 -> 1 (multiplier 1, shift 1, no ReLU), then 1 -> 1 (3, 2, ReLU).
    function spec(uint32 layer) public pure returns (LayerSpec memory) {
        if (layer == 1) return LayerSpec({inDim: 2, outDim: 1, multiplier: 1, shift: 1, relu: false});
        return LayerSpec({inDim: 1, outDim: 1, multiplier: 3, shift: 2, relu: true});
    }

    /// @notice The graph, layer 1 first.
    function graph() public pure returns (LayerSpec[] memory g) {
        g = new LayerSpec[](2);
        g[0] = spec(1);
        g[1] = spec(2);
    }

    /// @notice The weight row of the single neuron of `layer`.
    function row(uint32 layer) public pure returns (bytes memory) {
        return layer == 1 ? bytes(hex"03fe") : bytes(hex"05");
    }

    /// @notice The bias of the single neuron of `layer`.
    function bias(uint32 layer) public pure returns (int32) {
        return layer == 1 ? int32(7) : int32(-4);
    }

    /// @notice The weights-tree leaf of `layer`'s neuron (OpenZeppelin StandardMerkleTree encoding).
    function leaf(uint32 layer) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(layer, uint32(0), bias(layer), row(layer)))));
    }

    /// @notice The weights root: the commutative hash of the two leaves.
    function weightsRoot() public pure returns (bytes32) {
        return Hashes.commutativeKeccak256(leaf(1), leaf(2));
    }

    /// @notice The Merkle proof of `layer`'s row: the other leaf.
    function rowProof(uint32 layer) public pure returns (bytes32[] memory proof) {
        proof = new bytes32[](1);
        proof[0] = leaf(layer == 1 ? 2 : 1);
    }

    /// @notice `keccak256(abi.encode(graph))`.
    function graphHash() public pure returns (bytes32) {
        return keccak256(abi.encode(graph()));
    }

    /// @notice The content hash under the `dense-int8-v1` engine id.
    function contentHash() public pure returns (bytes32) {
        return DenseInt8.contentHash(weightsRoot(), graphHash());
    }

    /// @notice The model id when `publisher` registers it.
    function modelIdOf(address publisher) external pure returns (bytes32) {
        return keccak256(abi.encode(publisher, contentHash()));
    }

    /// @notice `DenseInt8.neuron` (the library wants calldata).
    function evaluate(
        bytes calldata x,
        bytes calldata row_,
        int32 bias_,
        LayerSpec calldata spec_
    ) external pure returns (int8) {
        return DenseInt8.neuron(x, row_, bias_, spec_);
    }

    /// @notice The output vector of `layer` on input `x` (one neuron, so one byte).
    function layerOutput(uint32 layer, bytes calldata x) external view returns (bytes memory) {
        return abi.encodePacked(this.evaluate(x, row(layer), bias(layer), spec(layer)));
    }

    /// @notice The honest run on the two-byte input `x0`: activations, layer hashes and trace root.
    function trace(
        bytes calldata x0
    ) external view returns (bytes[] memory activations, bytes32[] memory layerHashes, bytes32 root) {
        activations = new bytes[](3);
        activations[0] = x0;
        for (uint32 layer = 1; layer <= NUM_LAYERS; ++layer) {
            int8 y = this.evaluate(activations[layer - 1], row(layer), bias(layer), spec(layer));
            activations[layer] = abi.encodePacked(y);
        }
        layerHashes = new bytes32[](3);
        for (uint256 i; i < 3; ++i) layerHashes[i] = keccak256(activations[i]);
        root = traceRootOf(layerHashes);
    }

    /// @notice `keccak256(abi.encodePacked(s_0, ..., s_L))`.
    function traceRootOf(bytes32[] memory layerHashes) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(layerHashes));
    }

    /// @notice The challenger's proof that neuron 0 of `layer` is wrong, from the revealed vectors.
    function neuronProof(
        uint16 layer,
        bytes calldata input,
        bytes calldata output
    ) external pure returns (NeuronProof memory) {
        return
            NeuronProof({
                input: input,
                output: output,
                neuron: 0,
                bias: bias(layer),
                row: row(layer),
                rowProof: rowProof(layer)
            });
    }
}

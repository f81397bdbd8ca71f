// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DenseInt8} from "../libraries/DenseInt8.sol";
import {LayerSpec} from "../types/LayerSpec.sol";

/// @notice Exposes the internal `DenseInt8` library to tests and the bench (not deployed in production).
contract DenseInt8Harness {
    /// @notice One neuron evaluation: an input, a weight row, a bias and the layer spec.
    struct NeuronCase {
        bytes x;
        bytes row;
        int32 bias;
        LayerSpec spec;
    }

    /// @notice One weights-tree membership claim with its proof.
    struct RowClaim {
        uint32 layer;
        uint32 neuron;
        int32 bias;
        bytes row;
        bytes32[] proof;
    }

    /// @notice The profile's engine id.
    /// @return `DenseInt8.ENGINE_ID`.
    function engineId() external pure returns (bytes32) {
        return DenseInt8.ENGINE_ID;
    }

    /// @notice `DenseInt8.neuron`.
    /// @param x Input vector.
    /// @param row Weight row.
    /// @param bias Bias.
    /// @param spec Layer spec.
    /// @return The neuron output.
    function neuron(
        bytes calldata x,
        bytes calldata row,
        int32 bias,
        LayerSpec calldata spec
    ) external pure returns (int8) {
        return DenseInt8.neuron(x, row, bias, spec);
    }

    /// @notice Evaluates many neurons in one call (for differential testing).
    /// @param cases The neuron cases.
    /// @return outputs `outputs[i] = neuron(cases[i])`.
    function neuronBatch(NeuronCase[] calldata cases) external pure returns (int8[] memory outputs) {
        outputs = new int8[](cases.length);
        for (uint256 i; i < cases.length; ++i) {
            NeuronCase calldata c = cases[i];
            outputs[i] = DenseInt8.neuron(c.x, c.row, c.bias, c.spec);
        }
    }

    /// @notice Execution gas of one `DenseInt8.neuron` call, measured with `gasleft()` around it.
    /// @dev The spec is copied to memory before the measurement starts, so only the neuron is counted.
    /// @param x Input vector.
    /// @param row Weight row.
    /// @param bias Bias.
    /// @param spec Layer spec.
    /// @return y The neuron output.
    /// @return gasUsed Gas spent inside the library call.
    function neuronGas(
        bytes calldata x,
        bytes calldata row,
        int32 bias,
        LayerSpec calldata spec
    ) external view returns (int8 y, uint256 gasUsed) {
        LayerSpec memory s = spec;
        uint256 before = gasleft();
        y = DenseInt8.neuron(x, row, bias, s);
        gasUsed = before - gasleft();
    }

    /// @notice `DenseInt8.dot`.
    /// @param x First vector.
    /// @param row Second vector (at least as long as `x`).
    /// @return The exact dot product.
    function dot(bytes calldata x, bytes calldata row) external pure returns (int256) {
        return DenseInt8.dot(x, row);
    }

    /// @notice `DenseInt8.requantize`.
    /// @param acc Accumulator.
    /// @param multiplier Multiplier.
    /// @param shift Shift.
    /// @param relu ReLU flag.
    /// @return The int8 output.
    function requantize(int256 acc, uint32 multiplier, uint8 shift, bool relu) external pure returns (int8) {
        return DenseInt8.requantize(acc, multiplier, shift, relu);
    }

    /// @notice `DenseInt8.layer`.
    /// @param x Input vector.
    /// @param weights Row-major weights.
    /// @param biases Biases.
    /// @param spec Layer spec.
    /// @return The layer output.
    function layer(
        bytes calldata x,
        bytes calldata weights,
        int32[] calldata biases,
        LayerSpec calldata spec
    ) external pure returns (bytes memory) {
        return DenseInt8.layer(x, weights, biases, spec);
    }

    /// @notice `DenseInt8.at`.
    /// @param v Vector.
    /// @param i Index.
    /// @return Element `i`.
    function at(bytes calldata v, uint256 i) external pure returns (int8) {
        return DenseInt8.at(v, i);
    }

    /// @notice `DenseInt8.checkSpec`.
    /// @param spec Spec to check.
    function checkSpec(LayerSpec calldata spec) external pure {
        DenseInt8.checkSpec(spec);
    }

    /// @notice `DenseInt8.validateGraph`.
    /// @param graph Graph to check.
    function validateGraph(LayerSpec[] calldata graph) external pure {
        DenseInt8.validateGraph(graph);
    }

    /// @notice `DenseInt8.hashVector`.
    /// @param v Vector.
    /// @return Its hash.
    function hashVector(bytes calldata v) external pure returns (bytes32) {
        return DenseInt8.hashVector(v);
    }

    /// @notice `DenseInt8.graphHash`.
    /// @param graph Graph.
    /// @return Its hash.
    function graphHash(LayerSpec[] calldata graph) external pure returns (bytes32) {
        return DenseInt8.graphHash(graph);
    }

    /// @notice `DenseInt8.traceRoot`.
    /// @param layerHashes `s_0 .. s_L`.
    /// @return The trace root.
    function traceRoot(bytes32[] calldata layerHashes) external pure returns (bytes32) {
        return DenseInt8.traceRoot(layerHashes);
    }

    /// @notice `DenseInt8.contentHash`.
    /// @param weightsRoot Weights root.
    /// @param graphHash_ Graph hash.
    /// @return The content hash.
    function contentHash(bytes32 weightsRoot, bytes32 graphHash_) external pure returns (bytes32) {
        return DenseInt8.contentHash(weightsRoot, graphHash_);
    }

    /// @notice `DenseInt8.weightLeaf`.
    /// @param layer_ 1-based layer.
    /// @param neuron_ 0-based neuron.
    /// @param bias Bias.
    /// @param row Weight row.
    /// @return The leaf hash.
    function weightLeaf(uint32 layer_, uint32 neuron_, int32 bias, bytes calldata row) external pure returns (bytes32) {
        return DenseInt8.weightLeaf(layer_, neuron_, bias, row);
    }

    /// @notice `DenseInt8.verifyRow`.
    /// @param proof Merkle proof.
    /// @param weightsRoot Weights root.
    /// @param layer_ 1-based layer.
    /// @param neuron_ 0-based neuron.
    /// @param bias Bias.
    /// @param row Weight row.
    /// @return Whether the row is in the tree.
    function verifyRow(
        bytes32[] calldata proof,
        bytes32 weightsRoot,
        uint32 layer_,
        uint32 neuron_,
        int32 bias,
        bytes calldata row
    ) external pure returns (bool) {
        return DenseInt8.verifyRow(proof, weightsRoot, layer_, neuron_, bias, row);
    }

    /// @notice `DenseInt8.verifyRow` over many claims in one call.
    /// @param weightsRoot Weights root.
    /// @param claims The rows and their proofs.
    /// @return valid `valid[i]` is whether `claims[i]` verifies.
    function verifyRows(bytes32 weightsRoot, RowClaim[] calldata claims) external pure returns (bool[] memory valid) {
        valid = new bool[](claims.length);
        for (uint256 i; i < claims.length; ++i) {
            RowClaim calldata c = claims[i];
            valid[i] = DenseInt8.verifyRow(c.proof, weightsRoot, c.layer, c.neuron, c.bias, c.row);
        }
    }
}

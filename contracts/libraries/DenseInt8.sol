// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {LayerSpec} from "../types/LayerSpec.sol";

/// @title DenseInt8
/// @notice On-chain arithmetic of the `dense-int8-v1` inference profile (docs/protocol.md, part 8): one neuron,
/// one small layer, vector and graph hashes, the weights-tree leaf and its Merkle proof.
/// @dev Bit-exact with the TypeScript engine in src/engine. Every intermediate of a neuron fits in int64
/// (see the overflow analysis in the profile); this library computes in int256, so it never overflows.
/// Vectors are `bytes`, one two's-complement int8 per byte.
library DenseInt8 {
    /// @notice Identifier of this profile: `keccak256("verity.dense-int8.v1")`.
    bytes32 internal constant ENGINE_ID = keccak256("verity.dense-int8.v1");

    /// @notice Largest `inDim` / `outDim` the profile allows.
    uint32 internal constant MAX_DIM = 65_536;

    /// @notice Most layers a graph may have (the dispute game keeps layer numbers in 16 bits).
    uint256 internal constant MAX_LAYERS = 256;

    /// @notice Largest `multiplier` the profile allows (`2^31 - 1`).
    uint32 internal constant MAX_MULTIPLIER = 2 ** 31 - 1;

    /// @notice Largest `shift` the profile allows.
    uint8 internal constant MAX_SHIFT = 62;

    /// @notice The input vector and the weight row of a neuron have different lengths.
    /// @param inputLength Length of the input vector in bytes.
    /// @param rowLength Length of the weight row in bytes.
    error DenseInt8LengthMismatch(uint256 inputLength, uint256 rowLength);

    /// @notice A vector does not have the length the layer spec requires.
    /// @param expected Length required by the spec (`inDim` for an input, `inDim * outDim` for weights,
    /// `outDim` for biases).
    /// @param actual Length supplied.
    error DenseInt8DimensionMismatch(uint256 expected, uint256 actual);

    /// @notice A layer spec is outside the profile bounds (dimensions 1..65,536, multiplier 1..2^31-1,
    /// shift 0..62).
    error DenseInt8InvalidSpec(uint32 inDim, uint32 outDim, uint32 multiplier, uint8 shift);

    /// @notice A graph has no layers.
    error DenseInt8EmptyGraph();

    /// @notice A graph has more than `max` layers.
    error DenseInt8TooManyLayers(uint256 count, uint256 max);

    /// @notice Layer `layer` (1-based) does not consume what the previous layer produces.
    /// @param layer 1-based index of the offending layer.
    /// @param inDim Its `inDim`.
    /// @param previousOutDim The previous layer's `outDim`.
    error DenseInt8GraphNotChained(uint256 layer, uint32 inDim, uint32 previousOutDim);

    // ---------------------------------------------------------------- arithmetic

    /// @notice Output of neuron `row` of a layer for input `x`:
    /// `clamp(requantize(bias + sum_k row[k] * x[k]))`.
    /// @dev Reverts with `DenseInt8InvalidSpec` on an out-of-bounds spec, `DenseInt8LengthMismatch` when
    /// `x` and `row` differ in length and `DenseInt8DimensionMismatch` when they are not `spec.inDim` long.
    /// @param x Input vector (`spec.inDim` int8 values).
    /// @param row Weight row of the neuron (`spec.inDim` int8 values).
    /// @param bias Bias of the neuron.
    /// @param spec The layer's spec.
    /// @return The neuron's int8 output.
    function neuron(
        bytes calldata x,
        bytes calldata row,
        int32 bias,
        LayerSpec memory spec
    ) internal pure returns (int8) {
        checkSpec(spec);
        // INVARIANT: a neuron consumes exactly one weight per input element.
        if (x.length != row.length) revert DenseInt8LengthMismatch(x.length, row.length);
        if (x.length != spec.inDim) revert DenseInt8DimensionMismatch(spec.inDim, x.length);
        return requantize(dot(x, row) + bias, spec.multiplier, spec.shift, spec.relu);
    }

    /// @notice Every output of a (small) layer: `y[j] = neuron(x, weights[j * inDim:(j + 1) * inDim], biases[j])`.
    /// @dev Gas grows with `inDim * outDim`; meant for small layers and tests. A dispute narrows to one neuron.
    /// @param x Input vector (`spec.inDim` int8 values).
    /// @param weights Row-major weight matrix (`spec.outDim * spec.inDim` int8 values).
    /// @param biases One bias per output neuron (`spec.outDim` values).
    /// @param spec The layer's spec.
    /// @return y The layer's output vector (`spec.outDim` int8 values).
    function layer(
        bytes calldata x,
        bytes calldata weights,
        int32[] calldata biases,
        LayerSpec memory spec
    ) internal pure returns (bytes memory y) {
        checkSpec(spec);
        uint256 inDim = spec.inDim;
        uint256 outDim = spec.outDim;
        if (x.length != inDim) revert DenseInt8DimensionMismatch(inDim, x.length);
        if (weights.length != inDim * outDim) revert DenseInt8DimensionMismatch(inDim * outDim, weights.length);
        if (biases.length != outDim) revert DenseInt8DimensionMismatch(outDim, biases.length);
        y = new bytes(outDim);
        for (uint256 j; j < outDim; ++j) {
            int256 acc = dot(x, weights[j * inDim:(j + 1) * inDim]) + biases[j];
            y[j] = bytes1(uint8(requantize(acc, spec.multiplier, spec.shift, spec.relu)));
        }
    }

    /// @notice Exact integer dot product `sum_k x[k] * row[k]` of two int8 vectors.
    /// @dev Reads 32 elements of each vector per `calldataload`. Whole words use offset binary: flipping the
    /// top bit of every byte (one `xor` per word) turns int8 `x` into the unsigned byte `u = x + 128`, and
    /// `x * w = u * v - 128 * (u + v) + 16384`. The products `u * v` take one `byte` per operand and no sign
    /// extension; `sum (u + v)` is added in 16-bit lanes (at most 4 * 255 per lane per word) and reduced by one
    /// multiplication with 0x0001...0001 (the top lane receives the sum of all lanes, at most 16,320 < 2^16).
    /// The tail (length mod 32) is read element by element with sign extension, so bytes past either vector
    /// are never used. Reads `x.length` elements of both vectors: the caller checks that `row` is as long as
    /// `x`. |result| <= 65,536 * 128 * 128 = 2^30 within the profile bounds.
    /// @param x First vector.
    /// @param row Second vector, at least `x.length` long.
    /// @return sum The dot product.
    function dot(bytes calldata x, bytes calldata row) internal pure returns (int256 sum) {
        assembly ("memory-safe") {
            let xp := x.offset
            let rp := row.offset
            let n := x.length
            let whole := and(n, not(31))
            let uv := 0 // sum of u * v over whole words
            let uPlusV := 0 // sum of u + v over whole words
            let flip := 0x8080808080808080808080808080808080808080808080808080808080808080
            let lowBytes := 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
            let ones := 0x0001000100010001000100010001000100010001000100010001000100010001
            for {
                let end := add(xp, whole)
            } lt(xp, end) {
                xp := add(xp, 32)
                rp := add(rp, 32)
            } {
                let a := xor(calldataload(xp), flip)
                let b := xor(calldataload(rp), flip)
                let lanes := add(
                    add(and(a, lowBytes), and(shr(8, a), lowBytes)),
                    add(and(b, lowBytes), and(shr(8, b), lowBytes))
                )
                uPlusV := add(uPlusV, shr(240, mul(lanes, ones)))
                uv := add(uv, mul(byte(0, a), byte(0, b)))
                uv := add(uv, mul(byte(1, a), byte(1, b)))
                uv := add(uv, mul(byte(2, a), byte(2, b)))
                uv := add(uv, mul(byte(3, a), byte(3, b)))
                uv := add(uv, mul(byte(4, a), byte(4, b)))
                uv := add(uv, mul(byte(5, a), byte(5, b)))
                uv := add(uv, mul(byte(6, a), byte(6, b)))
                uv := add(uv, mul(byte(7, a), byte(7, b)))
                uv := add(uv, mul(byte(8, a), byte(8, b)))
                uv := add(uv, mul(byte(9, a), byte(9, b)))
                uv := add(uv, mul(byte(10, a), byte(10, b)))
                uv := add(uv, mul(byte(11, a), byte(11, b)))
                uv := add(uv, mul(byte(12, a), byte(12, b)))
                uv := add(uv, mul(byte(13, a), byte(13, b)))
                uv := add(uv, mul(byte(14, a), byte(14, b)))
                uv := add(uv, mul(byte(15, a), byte(15, b)))
                uv := add(uv, mul(byte(16, a), byte(16, b)))
                uv := add(uv, mul(byte(17, a), byte(17, b)))
                uv := add(uv, mul(byte(18, a), byte(18, b)))
                uv := add(uv, mul(byte(19, a), byte(19, b)))
                uv := add(uv, mul(byte(20, a), byte(20, b)))
                uv := add(uv, mul(byte(21, a), byte(21, b)))
                uv := add(uv, mul(byte(22, a), byte(22, b)))
                uv := add(uv, mul(byte(23, a), byte(23, b)))
                uv := add(uv, mul(byte(24, a), byte(24, b)))
                uv := add(uv, mul(byte(25, a), byte(25, b)))
                uv := add(uv, mul(byte(26, a), byte(26, b)))
                uv := add(uv, mul(byte(27, a), byte(27, b)))
                uv := add(uv, mul(byte(28, a), byte(28, b)))
                uv := add(uv, mul(byte(29, a), byte(29, b)))
                uv := add(uv, mul(byte(30, a), byte(30, b)))
                uv := add(uv, mul(byte(31, a), byte(31, b)))
            }
            // sum over whole words of (u - 128)(v - 128); fits easily in int256, two's complement `sub`.
            sum := sub(add(uv, mul(whole, 16384)), mul(uPlusV, 128))
            let rem := and(n, 31)
            if rem {
                let a := calldataload(xp)
                let b := calldataload(rp)
                for {
                    let k := 0
                } lt(k, rem) {
                    k := add(k, 1)
                } {
                    sum := add(sum, mul(signextend(0, byte(k, a)), signextend(0, byte(k, b))))
                }
            }
        }
    }

    /// @notice Requantizes an accumulator to int8: `v = acc * multiplier` if `shift == 0`, else
    /// `v = floor((acc * multiplier + 2^(shift-1)) / 2^shift)`; then `clamp(v, relu ? 0 : -128, 127)`.
    /// @dev Rounds half toward plus infinity (`>>` on a signed integer is an arithmetic shift). Exact:
    /// |acc * multiplier| < 2^63 within the profile bounds and int256 holds far more. Does not check
    /// the bounds of `multiplier` and `shift` (see `checkSpec`).
    /// @param acc `bias + dot(x, row)`.
    /// @param multiplier Fixed-point multiplier of the layer.
    /// @param shift Right shift of the layer.
    /// @param relu Whether negative outputs clamp to zero.
    /// @return The int8 output.
    function requantize(int256 acc, uint32 multiplier, uint8 shift, bool relu) internal pure returns (int8) {
        int256 v = acc * int256(uint256(multiplier));
        if (shift != 0) v = (v + (int256(1) << (shift - 1))) >> shift;
        int256 lo = relu ? int256(0) : int256(-128);
        if (v < lo) return int8(lo);
        if (v > 127) return 127;
        return int8(v);
    }

    /// @notice Element `i` of an int8 vector.
    /// @param v The vector.
    /// @param i Index (reverts with a panic when out of range).
    /// @return The element as int8.
    function at(bytes calldata v, uint256 i) internal pure returns (int8) {
        return int8(uint8(v[i]));
    }

    // ---------------------------------------------------------------- specs and graphs

    /// @notice Reverts with `DenseInt8InvalidSpec` unless `spec` is within the profile bounds.
    /// @param spec The layer spec to check.
    function checkSpec(LayerSpec memory spec) internal pure {
        // INVARIANT: every spec the arithmetic sees keeps |acc * multiplier + 2^(shift-1)| < 2^63.
        if (!isValidSpec(spec)) revert DenseInt8InvalidSpec(spec.inDim, spec.outDim, spec.multiplier, spec.shift);
    }

    /// @notice Whether `spec` is within the profile bounds (dimensions 1..65,536, multiplier 1..2^31-1,
    /// shift 0..62).
    /// @param spec The layer spec to check.
    /// @return True when in bounds.
    function isValidSpec(LayerSpec memory spec) internal pure returns (bool) {
        return
            spec.inDim != 0 &&
            spec.inDim <= MAX_DIM &&
            spec.outDim != 0 &&
            spec.outDim <= MAX_DIM &&
            spec.multiplier != 0 &&
            spec.multiplier <= MAX_MULTIPLIER &&
            spec.shift <= MAX_SHIFT;
    }

    /// @notice Reverts unless `graph` is a valid `dense-int8-v1` graph: 1..MAX_LAYERS layers, every spec
    /// in bounds, and `inDim(l) == outDim(l-1)`.
    /// @param graph The layer specs, layer 1 first.
    function validateGraph(LayerSpec[] calldata graph) internal pure {
        if (graph.length == 0) revert DenseInt8EmptyGraph();
        if (graph.length > MAX_LAYERS) revert DenseInt8TooManyLayers(graph.length, MAX_LAYERS);
        for (uint256 i; i < graph.length; ++i) {
            checkSpec(graph[i]);
            if (i != 0 && graph[i].inDim != graph[i - 1].outDim) {
                revert DenseInt8GraphNotChained(i + 1, graph[i].inDim, graph[i - 1].outDim);
            }
        }
    }

    // ---------------------------------------------------------------- hashes and commitments

    /// @notice Hash of an int8 vector: keccak256 of its bytes.
    /// @param v The vector.
    /// @return The hash.
    function hashVector(bytes calldata v) internal pure returns (bytes32) {
        return keccak256(v);
    }

    /// @notice Hash of a graph: `keccak256(abi.encode(graph))`.
    /// @param graph The layer specs, layer 1 first.
    /// @return The graph hash.
    function graphHash(LayerSpec[] calldata graph) internal pure returns (bytes32) {
        return keccak256(abi.encode(graph));
    }

    /// @notice Root of an inference trace: `keccak256(abi.encodePacked(s_0, s_1, ..., s_L))` where
    /// `s_0` hashes the input and `s_l` the output of layer `l`.
    /// @param layerHashes `s_0 .. s_L`.
    /// @return The trace root.
    function traceRoot(bytes32[] calldata layerHashes) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(layerHashes));
    }

    /// @notice Content hash of a model: `keccak256(abi.encode(weightsRoot, graphHash, ENGINE_ID))` (its id also
    /// binds the publisher: see `ModelRegistry`).
    /// @param weightsRoot Root of the weights tree.
    /// @param graphHash_ Hash of the graph.
    /// @return The content hash.
    function contentHash(bytes32 weightsRoot, bytes32 graphHash_) internal pure returns (bytes32) {
        return keccak256(abi.encode(weightsRoot, graphHash_, ENGINE_ID));
    }

    /// @notice Leaf of the weights tree for one neuron, as OpenZeppelin's StandardMerkleTree computes it
    /// with leaf encoding `["uint32", "uint32", "int32", "bytes"]`.
    /// @param layer_ 1-based layer number.
    /// @param neuron_ 0-based neuron index within the layer.
    /// @param bias The neuron's bias.
    /// @param row The neuron's weight row.
    /// @return The leaf hash `keccak256(bytes.concat(keccak256(abi.encode(layer, neuron, bias, row))))`.
    function weightLeaf(uint32 layer_, uint32 neuron_, int32 bias, bytes calldata row) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(layer_, neuron_, bias, row))));
    }

    /// @notice Whether `(layer, neuron, bias, row)` is a leaf of the weights tree with root `weightsRoot`.
    /// @param proof OpenZeppelin Merkle proof of the leaf.
    /// @param weightsRoot Root of the weights tree.
    /// @param layer_ 1-based layer number.
    /// @param neuron_ 0-based neuron index within the layer.
    /// @param bias The neuron's bias.
    /// @param row The neuron's weight row.
    /// @return True when the proof is valid.
    function verifyRow(
        bytes32[] calldata proof,
        bytes32 weightsRoot,
        uint32 layer_,
        uint32 neuron_,
        int32 bias,
        bytes calldata row
    ) internal pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, weightsRoot, weightLeaf(layer_, neuron_, bias, row));
    }
}

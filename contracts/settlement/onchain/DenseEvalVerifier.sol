// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceVerifier} from "../../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {DenseInt8} from "../../libraries/DenseInt8.sol";
import {LayerSpec} from "../../types/LayerSpec.sol";

/// @title DenseEvalVerifier
/// @notice An `IInferenceVerifier` that proves a `dense-int8-v1` inference by running the whole model in the
/// transaction (docs/protocol.md, "15. Proof settlement"). Concrete verifiers say where the weights come from.
/// @dev The weights travel as one byte stream, the *blob*: for each layer 1..L, for each neuron 0..outDim-1, its
/// row (`inDim` int8 bytes) then its bias (int32, 4 bytes big-endian two's complement). The arithmetic is the
/// profile's (`DenseInt8.requantize`; the dot product is `DenseInt8.dot`'s offset-binary method over memory, since
/// activations after layer 1 live in memory). The verifier is stateless: everything it trusts is immutable.
abstract contract DenseEvalVerifier is IInferenceVerifier {
    /// @notice Most neurons a model may have here (the leaf order is packed in 16 bits per leaf).
    uint256 public constant MAX_NEURONS = 65_536;

    /// @notice The call names `given`, not the model this verifier serves.
    error OnchainEvalWrongModel(bytes32 given, bytes32 served);
    /// @notice The proof or system proof is not the ABI encoding this verifier reads.
    error OnchainEvalMalformedProof();
    /// @notice `keccak256(abi.encode(keccak256(input), prover))` is `computed`, not the `inputCommitment` given.
    error OnchainEvalCommitmentMismatch(bytes32 given, bytes32 computed);
    /// @notice The layers in the system proof hash to `given`, not to the registered graph hash.
    error OnchainEvalGraphMismatch(bytes32 given, bytes32 registered);
    /// @notice The input is `length` bytes; layer 1 takes `inDim`.
    error OnchainEvalInputLength(uint256 length, uint256 inDim);
    /// @notice The weights blob is `length` bytes; the layers need `expected`.
    error OnchainEvalWeightsLength(uint256 length, uint256 expected);
    /// @notice The leaf order is `length` bytes; the model's `neurons` need two bytes each.
    error OnchainEvalOrderLength(uint256 length, uint256 neurons);
    /// @notice The leaf order is not the permutation that sorts the leaf hashes (at sorted position `position`).
    error OnchainEvalLeafOrder(uint256 position);
    /// @notice The weights rebuild the root `computed`, not the registered weights root.
    error OnchainEvalWeightsMismatch(bytes32 computed, bytes32 registered);
    /// @notice The model's output on this input hashes to `computed`, not to `keccak256(output)` = `outputHash`.
    error OnchainEvalWrongOutput(bytes32 outputHash, bytes32 computed);
    /// @notice The model is not a `dense-int8-v1` model (engine `engineId`).
    error OnchainEvalNotDense(bytes32 modelId, bytes32 engineId);
    /// @notice The model has `neurons` neurons, more than `MAX_NEURONS`.
    error OnchainEvalTooManyNeurons(uint256 neurons);

    bytes32 private immutable _modelId;
    /// @notice The registered `keccak256(abi.encode(layers))`.
    bytes32 public immutable graphHash;
    /// @notice The registered root of the weights tree.
    bytes32 public immutable weightsRoot;

    /// @param registry Where the model is registered (read once, here).
    /// @param modelId_ The model to serve; its engine must be `dense-int8-v1`.
    constructor(IModelRegistry registry, bytes32 modelId_) {
        IModelRegistry.Model memory model = registry.getModel(modelId_);
        if (model.engineId != DenseInt8.ENGINE_ID) revert OnchainEvalNotDense(modelId_, model.engineId);
        _modelId = modelId_;
        graphHash = model.graphHash;
        weightsRoot = model.weightsRoot;
    }

    /// @inheritdoc IInferenceVerifier
    function modelId() external view returns (bytes32) {
        return _modelId;
    }

    /// @inheritdoc IInferenceVerifier
    function verifyInference(
        bytes32 modelId_,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external {
        if (modelId_ != _modelId) revert OnchainEvalWrongModel(modelId_, _modelId);
        bytes calldata input = _bytesField(proof, 0);
        if (proof.length < 64 || uint256(bytes32(proof[32:64])) >> 160 != 0) revert OnchainEvalMalformedProof();
        address prover = address(uint160(uint256(bytes32(proof[32:64]))));
        bytes32 computed = keccak256(abi.encode(keccak256(input), prover));
        if (computed != inputCommitment) revert OnchainEvalCommitmentMismatch(inputCommitment, computed);
        bytes memory y = _prove(input, _bytesField(proof, 2));
        bytes32 outputHash = keccak256(output);
        if (keccak256(y) != outputHash) revert OnchainEvalWrongOutput(outputHash, keccak256(y));
        emit InferenceVerified(modelId_, inputCommitment, prover, outputHash);
    }

    /// @dev Runs the model on `input` with the weights `systemProof` points at, checking them; returns the output.
    function _prove(bytes calldata input, bytes calldata systemProof) internal view virtual returns (bytes memory);

    /// @dev Copies `length` bytes of the blob from `offset` to memory at `dest`; `source` is what the concrete
    /// verifier needs to find the blob (a calldata offset).
    function _load(uint256 source, uint256 offset, uint256 dest, uint256 length) internal view virtual;

    // ------------------------------------------------------------------ decoding

    /// @dev The `bytes` at head word `index` of an ABI encoding held in `data`, as a calldata slice.
    function _bytesField(bytes calldata data, uint256 index) internal pure returns (bytes calldata field) {
        (uint256 start, uint256 length) = _tail(data, index, 1);
        field = data[start:start + length];
    }

    /// @dev Start and length of the dynamic value at head word `index` of `data`, whose elements are `unit`
    /// bytes each; reverts unless it lies inside `data`.
    function _tail(bytes calldata data, uint256 index, uint256 unit) internal pure returns (uint256, uint256) {
        uint256 head = 32 * index;
        if (data.length < head + 32) revert OnchainEvalMalformedProof();
        uint256 offset = uint256(bytes32(data[head:head + 32]));
        if (offset > data.length || data.length - offset < 32) revert OnchainEvalMalformedProof();
        uint256 length = uint256(bytes32(data[offset:offset + 32]));
        if (length > (data.length - offset - 32) / unit) revert OnchainEvalMalformedProof();
        return (offset + 32, length);
    }

    /// @dev The layers at head word 0 of `systemProof`, checked against the registered graph hash.
    function _layers(bytes calldata systemProof) internal view returns (LayerSpec[] memory) {
        (uint256 start, uint256 count) = _tail(systemProof, 0, 160);
        // abi.encode(LayerSpec[]) is the offset word, the count and five words per layer.
        bytes memory encoded = abi.encodePacked(uint256(32), systemProof[start - 32:start + 160 * count]);
        bytes32 given = keccak256(encoded);
        if (given != graphHash) revert OnchainEvalGraphMismatch(given, graphHash);
        return abi.decode(encoded, (LayerSpec[]));
    }

    /// @dev Length of the blob the layers need, and their number of neurons.
    function _blobLength(LayerSpec[] memory layers) internal pure returns (uint256 length, uint256 neurons) {
        for (uint256 l; l < layers.length; ++l) {
            length += uint256(layers[l].outDim) * (uint256(layers[l].inDim) + 4);
            neurons += layers[l].outDim;
        }
    }

    // ------------------------------------------------------------------ evaluation

    /// @dev Where a walk over the blob is: the blob's source, the next blob offset, the scratch buffer (five head
    /// words of `abi.encode(uint32 layer, uint32 neuron, int32 bias, bytes row)`, the row, room for its padding),
    /// and the leaves found so far.
    struct Walk {
        uint256 source;
        uint256 cursor;
        uint256 buf;
        bool evaluating;
        bool hashing;
        uint256 leaf;
        bytes32[] leaves;
    }

    /// @dev Walks the blob neuron by neuron: with `input` non-empty, computes every layer and returns the output;
    /// with `hashing`, returns every neuron's weights-tree leaf in natural order (layer by layer).
    function _run(
        LayerSpec[] memory layers,
        bytes memory input,
        uint256 source,
        bool hashing,
        uint256 neurons
    ) internal view returns (bytes memory x, bytes32[] memory leaves) {
        uint256 maxIn;
        for (uint256 l; l < layers.length; ++l) if (layers[l].inDim > maxIn) maxIn = layers[l].inDim;
        bytes memory scratch = new bytes(160 + maxIn + 64);
        Walk memory w;
        assembly ("memory-safe") {
            mstore(add(w, 64), add(scratch, 32)) // w.buf
        }
        w.source = source;
        w.evaluating = input.length != 0;
        w.hashing = hashing;
        if (hashing) w.leaves = new bytes32[](neurons);
        x = input;
        for (uint256 l; l < layers.length; ++l) x = _layerStep(w, layers[l], l + 1, x);
        leaves = w.leaves;
    }

    /// @dev One layer of the walk: returns its output (empty when not evaluating).
    function _layerStep(
        Walk memory w,
        LayerSpec memory spec,
        uint256 layerNumber,
        bytes memory x
    ) private view returns (bytes memory y) {
        if (w.evaluating) y = new bytes(spec.outDim);
        uint256 buf = w.buf;
        uint256 inDim = spec.inDim;
        assembly ("memory-safe") {
            mstore(buf, layerNumber)
            mstore(add(buf, 96), 0x80)
            mstore(add(buf, 128), inDim)
        }
        for (uint256 j; j < spec.outDim; ++j) _neuronStep(w, spec, x, y, j);
    }

    /// @dev One neuron of the walk: loads its row and bias, computes its output into `y[j]` and its leaf.
    function _neuronStep(Walk memory w, LayerSpec memory spec, bytes memory x, bytes memory y, uint256 j) private view {
        uint256 buf = w.buf;
        uint256 inDim = spec.inDim;
        _load(w.source, w.cursor, buf + 160, inDim + 4);
        w.cursor += inDim + 4;
        int256 bias;
        assembly ("memory-safe") {
            let rowEnd := add(add(buf, 160), inDim)
            bias := signextend(3, shr(224, mload(rowEnd)))
            mstore(rowEnd, 0) // the row's zero padding, for the leaf encoding
        }
        if (w.evaluating) {
            int8 out = DenseInt8.requantize(_dot(x, buf + 160, inDim) + bias, spec.multiplier, spec.shift, spec.relu);
            assembly ("memory-safe") {
                mstore8(add(add(y, 32), j), out)
            }
        }
        if (w.hashing) w.leaves[w.leaf++] = _leafHash(buf, j, bias, inDim);
    }

    /// @dev The weights-tree leaf of the neuron whose row is in the buffer (`DenseInt8.weightLeaf`).
    function _leafHash(uint256 buf, uint256 neuron, int256 bias, uint256 inDim) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(add(buf, 32), neuron)
            mstore(add(buf, 64), bias)
            mstore(0, keccak256(buf, add(160, and(add(inDim, 31), not(31)))))
            h := keccak256(0, 32)
        }
    }

    /// @dev `sum_k x[k] * row[k]` over `n` int8 elements, `x` in memory, the row at memory `rowPtr` (see
    /// `DenseInt8.dot`: offset binary on whole words, element by element on the tail).
    function _dot(bytes memory x, uint256 rowPtr, uint256 n) private pure returns (int256 sum) {
        // Few assembly variables: this is inlined into the neuron loop, whose stack is already deep.
        assembly ("memory-safe") {
            let xp := add(x, 32)
            let d := sub(rowPtr, xp) // the row's distance from x
            let end := add(xp, and(n, not(31)))
            let uPlusV := 0
            for {} lt(xp, end) {
                xp := add(xp, 32)
            } {
                let a := xor(mload(xp), 0x8080808080808080808080808080808080808080808080808080808080808080)
                let b := xor(mload(add(xp, d)), 0x8080808080808080808080808080808080808080808080808080808080808080)
                uPlusV := add(
                    uPlusV,
                    shr(
                        240,
                        mul(
                            add(
                                add(
                                    and(a, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff),
                                    and(shr(8, a), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                                ),
                                add(
                                    and(b, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff),
                                    and(shr(8, b), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                                )
                            ),
                            0x0001000100010001000100010001000100010001000100010001000100010001
                        )
                    )
                )
                // Unrolled with constant byte indices: a loop over them costs twice as much in stack moves.
                sum := add(
                    add(add(sum, mul(byte(0, a), byte(0, b))), mul(byte(1, a), byte(1, b))),
                    add(mul(byte(2, a), byte(2, b)), mul(byte(3, a), byte(3, b)))
                )
                sum := add(
                    add(add(sum, mul(byte(4, a), byte(4, b))), mul(byte(5, a), byte(5, b))),
                    add(mul(byte(6, a), byte(6, b)), mul(byte(7, a), byte(7, b)))
                )
                sum := add(
                    add(add(sum, mul(byte(8, a), byte(8, b))), mul(byte(9, a), byte(9, b))),
                    add(mul(byte(10, a), byte(10, b)), mul(byte(11, a), byte(11, b)))
                )
                sum := add(
                    add(add(sum, mul(byte(12, a), byte(12, b))), mul(byte(13, a), byte(13, b))),
                    add(mul(byte(14, a), byte(14, b)), mul(byte(15, a), byte(15, b)))
                )
                sum := add(
                    add(add(sum, mul(byte(16, a), byte(16, b))), mul(byte(17, a), byte(17, b))),
                    add(mul(byte(18, a), byte(18, b)), mul(byte(19, a), byte(19, b)))
                )
                sum := add(
                    add(add(sum, mul(byte(20, a), byte(20, b))), mul(byte(21, a), byte(21, b))),
                    add(mul(byte(22, a), byte(22, b)), mul(byte(23, a), byte(23, b)))
                )
                sum := add(
                    add(add(sum, mul(byte(24, a), byte(24, b))), mul(byte(25, a), byte(25, b))),
                    add(mul(byte(26, a), byte(26, b)), mul(byte(27, a), byte(27, b)))
                )
                sum := add(
                    add(add(sum, mul(byte(28, a), byte(28, b))), mul(byte(29, a), byte(29, b))),
                    add(mul(byte(30, a), byte(30, b)), mul(byte(31, a), byte(31, b)))
                )
            }
            // sum holds sum(u * v) over whole words; sum((u - 128)(v - 128)) = sum(uv) - 128 sum(u + v) + 16384 n.
            sum := sub(add(sum, mul(and(n, not(31)), 16384)), mul(uPlusV, 128))
            end := add(add(x, 32), n)
            for {} lt(xp, end) {
                xp := add(xp, 1)
            } {
                sum := add(sum, mul(signextend(0, byte(0, mload(xp))), signextend(0, byte(0, mload(add(xp, d))))))
            }
        }
    }

    /// @dev The OpenZeppelin StandardMerkleTree root over `leaves`: `order[i]` (two bytes, big-endian) is the
    /// natural index of the i-th smallest leaf. Strictly increasing hashes make `order` the sorting permutation
    /// (no index twice), so the tree is exactly the one `StandardMerkleTree.of` builds: leaf i at heap index
    /// `2n - 2 - i`, node k = commutative keccak of nodes 2k+1 and 2k+2.
    function _root(bytes32[] memory leaves, bytes memory order) internal pure returns (bytes32 root) {
        uint256 n = leaves.length;
        if (order.length != 2 * n) revert OnchainEvalOrderLength(order.length, n);
        bytes32[] memory tree = new bytes32[](2 * n - 1);
        uint256 previous;
        for (uint256 i; i < n; ++i) {
            uint256 k = (uint256(uint8(order[2 * i])) << 8) | uint8(order[2 * i + 1]);
            if (k >= n) revert OnchainEvalLeafOrder(i);
            bytes32 h = leaves[k];
            if (i != 0 && uint256(h) <= previous) revert OnchainEvalLeafOrder(i);
            previous = uint256(h);
            tree[2 * n - 2 - i] = h;
        }
        assembly ("memory-safe") {
            let base := add(tree, 32)
            for {
                let k := sub(n, 1)
            } k {} {
                k := sub(k, 1)
                let a := mload(add(base, shl(5, add(shl(1, k), 1))))
                let b := mload(add(base, shl(5, add(shl(1, k), 2))))
                if gt(a, b) {
                    let t := a
                    a := b
                    b := t
                }
                mstore(0, a)
                mstore(32, b)
                mstore(add(base, shl(5, k)), keccak256(0, 64))
            }
            root := mload(base)
        }
    }

    /// @dev Reverts unless the model has at most `MAX_NEURONS` neurons.
    function _checkNeurons(uint256 neurons) internal pure {
        if (neurons > MAX_NEURONS) revert OnchainEvalTooManyNeurons(neurons);
    }
}

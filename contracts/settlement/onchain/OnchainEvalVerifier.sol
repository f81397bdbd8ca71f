// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {LayerSpec} from "../../types/LayerSpec.sol";
import {DenseEvalVerifier} from "./DenseEvalVerifier.sol";

/// @title OnchainEvalVerifier
/// @notice Proves a `dense-int8-v1` inference by running the whole model on-chain with the weights in calldata,
/// checked against the registered weights root by rebuilding the whole weights tree from them.
/// @dev `systemProof = abi.encode(LayerSpec[] layers, bytes blob, bytes order)`: the registered layers, every
/// weight and bias (`DenseEvalVerifier`'s blob) and the sorting permutation of the leaves (two bytes per leaf).
/// Rebuilding the root costs two hashes per leaf plus one per node, and no proof data; checking each row's
/// Merkle proof instead would cost `log2(n)` hashes per leaf and 32 calldata bytes per sibling. Nothing is
/// deployed besides this contract; `StoredWeightsVerifier` trades a registration cost for cheaper inferences.
contract OnchainEvalVerifier is DenseEvalVerifier {
    /// @param registry Where the model is registered. @param modelId_ The model to serve.
    constructor(IModelRegistry registry, bytes32 modelId_) DenseEvalVerifier(registry, modelId_) {}

    function _prove(bytes calldata input, bytes calldata systemProof) internal view override returns (bytes memory y) {
        LayerSpec[] memory layers = _layers(systemProof);
        if (input.length != layers[0].inDim) revert OnchainEvalInputLength(input.length, layers[0].inDim);
        (uint256 blobStart, uint256 blobLength) = _tail(systemProof, 1, 1);
        (uint256 expected, uint256 neurons) = _blobLength(layers);
        if (blobLength != expected) revert OnchainEvalWeightsLength(blobLength, expected);
        _checkNeurons(neurons);
        uint256 source;
        assembly ("memory-safe") {
            source := add(systemProof.offset, blobStart)
        }
        bytes32[] memory leaves;
        (y, leaves) = _run(layers, input, source, true, neurons);
        bytes32 root = _root(leaves, _bytesField(systemProof, 2));
        if (root != weightsRoot) revert OnchainEvalWeightsMismatch(root, weightsRoot);
    }

    function _load(uint256 source, uint256 offset, uint256 dest, uint256 length) internal pure override {
        assembly ("memory-safe") {
            calldatacopy(dest, add(source, offset), length)
        }
    }
}

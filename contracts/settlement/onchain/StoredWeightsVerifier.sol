// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {LayerSpec} from "../../types/LayerSpec.sol";
import {DenseEvalVerifier} from "./DenseEvalVerifier.sol";

/// @title StoredWeightsVerifier
/// @notice Proves a `dense-int8-v1` inference by running the whole model on-chain with the weights read from
/// SSTORE2-style data contracts, checked once against the registered weights root when this verifier is deployed.
/// @dev The blob (`DenseEvalVerifier`) is split into chunks of `CHUNK` bytes, each the runtime code of a data
/// contract after a leading STOP byte (so calling one does nothing). The constructor reads them all, rebuilds the
/// weights tree and stores only the hash of the chunk list. `systemProof = abi.encode(LayerSpec[] layers,
/// address[] chunks)`: both are checked against immutables, so an inference reads no storage.
contract StoredWeightsVerifier is DenseEvalVerifier {
    /// @notice Blob bytes per data contract: the most runtime code one contract may hold (EIP-170) minus the STOP.
    uint256 public constant CHUNK = 24_575;

    /// @notice The chunk list is not the one this verifier checked at deployment (`keccak256(abi.encode(chunks))`).
    error StoredWeightsChunksMismatch(bytes32 given, bytes32 stored);
    /// @notice The data contracts hold `length` blob bytes; the layers need `expected`.
    error StoredWeightsLength(uint256 length, uint256 expected);

    /// @notice `keccak256(abi.encode(chunks))` of the data contracts checked at deployment.
    bytes32 public immutable chunksHash;

    /// @param registry Where the model is registered. @param modelId_ The model to serve.
    /// @param chunks The data contracts holding the blob, in order (every one full but the last).
    /// @param order The sorting permutation of the weights-tree leaves (two bytes per leaf).
    constructor(
        IModelRegistry registry,
        bytes32 modelId_,
        address[] memory chunks,
        bytes memory order
    ) DenseEvalVerifier(registry, modelId_) {
        LayerSpec[] memory layers = registry.layersOf(modelId_);
        (uint256 expected, uint256 neurons) = _blobLength(layers);
        _checkNeurons(neurons);
        uint256 length;
        for (uint256 i; i < chunks.length; ++i) {
            uint256 size = chunks[i].code.length;
            // Every chunk but the last is full, so a blob offset maps to (offset / CHUNK, offset % CHUNK).
            if (size == 0 || (i + 1 < chunks.length && size != CHUNK + 1)) revert StoredWeightsLength(length, expected);
            length += size - 1;
        }
        if (length != expected) revert StoredWeightsLength(length, expected);
        bytes memory encoded = abi.encode(chunks);
        // _load reads the list from the memory copy's elements while the constructor runs (source = its offset).
        uint256 source;
        assembly ("memory-safe") {
            source := add(encoded, 96) // length word, offset word, count word
        }
        (, bytes32[] memory leaves) = _run(layers, "", source | CONSTRUCTING, true, neurons);
        bytes32 root = _root(leaves, order);
        if (root != weightsRoot) revert OnchainEvalWeightsMismatch(root, weightsRoot);
        chunksHash = keccak256(encoded);
    }

    /// @dev Flag in `source`: the chunk list is in memory (constructor), not in calldata.
    uint256 private constant CONSTRUCTING = 1 << 255;

    function _prove(bytes calldata input, bytes calldata systemProof) internal view override returns (bytes memory y) {
        LayerSpec[] memory layers = _layers(systemProof);
        if (input.length != layers[0].inDim) revert OnchainEvalInputLength(input.length, layers[0].inDim);
        (uint256 start, uint256 count) = _tail(systemProof, 1, 32);
        bytes32 given = keccak256(abi.encodePacked(uint256(32), systemProof[start - 32:start + 32 * count]));
        if (given != chunksHash) revert StoredWeightsChunksMismatch(given, chunksHash);
        uint256 source;
        assembly ("memory-safe") {
            source := add(systemProof.offset, start)
        }
        (y, ) = _run(layers, input, source, false, 0);
    }

    /// @dev Copies blob bytes from the data contracts; a range may span two (or more) of them.
    function _load(uint256 source, uint256 offset, uint256 dest, uint256 length) internal view override {
        bool constructing = source & CONSTRUCTING != 0;
        uint256 list = source & ~CONSTRUCTING;
        while (length != 0) {
            uint256 index = offset / CHUNK;
            uint256 within = offset % CHUNK;
            uint256 take = CHUNK - within;
            if (take > length) take = length;
            assembly ("memory-safe") {
                let entry := add(list, shl(5, index))
                let chunk := 0
                switch constructing
                case 0 {
                    chunk := calldataload(entry)
                }
                default {
                    chunk := mload(entry)
                }
                extcodecopy(chunk, dest, add(within, 1), take)
            }
            offset += take;
            dest += take;
            length -= take;
        }
    }
}

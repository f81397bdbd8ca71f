// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GasBounds} from "../libraries/GasBounds.sol";
import {LayerSpec} from "../types/LayerSpec.sol";

/// @notice Exposes `GasBounds` to tests and the bench, which compare every measured move with its bound.
contract GasBoundsHarness {
    /// @notice `GasBounds.txGas`.
    function txGas(uint256 bytes_, uint256 exec) external pure returns (uint256) {
        return GasBounds.txGas(bytes_, exec);
    }

    /// @notice `GasBounds.fixedMove`.
    function fixedMove() external pure returns (uint256) {
        return GasBounds.fixedMove();
    }

    /// @notice `GasBounds.revealInput`.
    function revealInput(uint256 inDim) external pure returns (uint256) {
        return GasBounds.revealInput(inDim);
    }

    /// @notice `GasBounds.revealTrace`.
    function revealTrace(uint256 numLayers) external pure returns (uint256) {
        return GasBounds.revealTrace(numLayers);
    }

    /// @notice `GasBounds.revealLayer`.
    function revealLayer(uint256 numLayers, uint256 outDim) external pure returns (uint256) {
        return GasBounds.revealLayer(numLayers, outDim);
    }

    /// @notice `GasBounds.proveNeuron`.
    function proveNeuron(uint256 inDim, uint256 outDim, uint256 depth) external pure returns (uint256) {
        return GasBounds.proveNeuron(inDim, outDim, depth);
    }

    /// @notice `GasBounds.leavesPerChunk`.
    function leavesPerChunk(uint256 inDim) external pure returns (uint256) {
        return GasBounds.leavesPerChunk(inDim);
    }

    /// @notice `GasBounds.discloseChunk`.
    function discloseChunk(uint256 count, uint256 inDim) external pure returns (uint256) {
        return GasBounds.discloseChunk(count, inDim);
    }

    /// @notice `GasBounds.finishDisclosure`.
    function finishDisclosure(uint256 count) external pure returns (uint256) {
        return GasBounds.finishDisclosure(count);
    }

    /// @notice `GasBounds.disclosure`.
    function disclosure(uint256 count, uint256 inDim) external pure returns (uint256) {
        return GasBounds.disclosure(count, inDim);
    }

    /// @notice `GasBounds.maxBatchLeaves`.
    function maxBatchLeaves(uint256 inDim) external pure returns (uint256) {
        return GasBounds.maxBatchLeaves(inDim);
    }

    /// @notice `GasBounds.ofModel`.
    function ofModel(
        LayerSpec[] calldata layers
    ) external pure returns (uint256 worst, uint256 providerGame, uint256 challengerGame) {
        return GasBounds.ofModel(layers);
    }
}

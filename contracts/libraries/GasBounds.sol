// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LayerSpec} from "../types/LayerSpec.sol";
import {PolicyBounds} from "./PolicyBounds.sol";

/// @title GasBounds
/// @notice Upper bounds on the gas of every honest move of the dispute game and the batch disclosure,
/// as functions of a model's dimensions (docs/protocol.md, "Gas bounds").
/// @dev A transaction with `B` calldata bytes and execution gas `E` uses at most
/// `21,000 + max(16 * B + E, 40 * B)` gas: EIP-2028 charges 16 per non-zero byte, and EIP-7623's floor
/// charges 40 per non-zero byte when that is more. Each bound counts every byte as non-zero and takes
/// `B` from the exact ABI encoding of the move's arguments; `E` is a measured upper bound with margin
/// (the tests check every move against its bound). The registry refuses models whose worst move is
/// above `PolicyBounds.MAX_HONEST_MOVE_GAS`.
library GasBounds {
    uint256 internal constant TX_BASE = 21_000;
    uint256 internal constant STANDARD_PER_BYTE = 16;
    uint256 internal constant FLOOR_PER_BYTE = 40;

    /// @dev ABI size of a selector plus `DisputeParams` (14 static words).
    uint256 internal constant PARAMS_BYTES = 4 + 14 * 32;

    /// @dev Execution bounds (gas), measured with margin.
    uint256 internal constant EXEC_OPEN = 220_000;
    uint256 internal constant EXEC_MOVE = 60_000;
    uint256 internal constant EXEC_RESOLVE = 260_000;
    uint256 internal constant EXEC_REVEAL_LAYER = 110_000;
    uint256 internal constant EXEC_PER_HASH = 400;
    uint256 internal constant EXEC_PER_BYTE = 12;
    uint256 internal constant EXEC_PER_MAC = 70;
    uint256 internal constant EXEC_PER_PROOF_NODE = 300;
    uint256 internal constant EXEC_REGISTRY_CALL = 20_000;
    uint256 internal constant EXEC_DISCLOSE_CHUNK = 80_000;
    uint256 internal constant EXEC_DISCLOSE_LEAF = 3_000;
    uint256 internal constant EXEC_FINISH = 200_000;
    uint256 internal constant EXEC_FINISH_PER_LEAF = 1_000;

    /// @notice Gas of a transaction with `bytes_` calldata bytes and `exec` execution gas, at most.
    function txGas(uint256 bytes_, uint256 exec) internal pure returns (uint256) {
        uint256 standard = STANDARD_PER_BYTE * bytes_ + exec;
        uint256 floor = FLOOR_PER_BYTE * bytes_;
        return TX_BASE + (standard > floor ? standard : floor);
    }

    /// @notice Worst gas of the honest moves whose size does not depend on the model: opening a game
    /// (a leaf with a proof into a batch of at most `MAX_BATCH_LEAVES`), selecting a layer, continuing,
    /// timing out, withdrawing, claiming a reward, demanding a disclosure.
    function fixedMove() internal pure returns (uint256) {
        uint256 open = txGas(4 + 5 * 32 + 32 + 3 * 32 + 2 * 32 + 32 + 32 * 11, EXEC_OPEN);
        uint256 resolve = txGas(PARAMS_BYTES + 32, EXEC_RESOLVE);
        return open > resolve ? open : resolve;
    }

    /// @notice `revealInput(params, input)` with an input of `inDim` bytes.
    function revealInput(uint256 inDim) internal pure returns (uint256) {
        uint256 padded = _pad(inDim);
        return
            txGas(
                PARAMS_BYTES + 64 + padded,
                EXEC_MOVE + EXEC_REGISTRY_CALL + EXEC_PER_BYTE * padded + _memory(padded)
            );
    }

    /// @notice `revealTrace(params, s)` of a model with `numLayers` layers.
    function revealTrace(uint256 numLayers) internal pure returns (uint256) {
        uint256 hashes = numLayers + 1;
        return txGas(PARAMS_BYTES + 64 + 32 * hashes, EXEC_MOVE + EXEC_PER_HASH * hashes + _memory(32 * hashes));
    }

    /// @notice `revealLayer(params, l, s, y)` of a layer with `outDim` outputs in a `numLayers`-layer model.
    function revealLayer(uint256 numLayers, uint256 outDim) internal pure returns (uint256) {
        uint256 hashes = numLayers + 1;
        uint256 padded = _pad(outDim);
        uint256 size = PARAMS_BYTES + 32 + 128 + 32 * hashes + padded;
        uint256 exec =
            EXEC_REVEAL_LAYER + EXEC_PER_HASH * hashes + EXEC_PER_BYTE * padded + _memory(32 * hashes + padded);
        return txGas(size, exec);
    }

    /// @notice `proveNeuron(params, proof)` in a layer `inDim -> outDim` of a weights tree of `depth`.
    function proveNeuron(uint256 inDim, uint256 outDim, uint256 depth) internal pure returns (uint256) {
        uint256 vectors = 2 * _pad(inDim) + _pad(outDim);
        uint256 size = PARAMS_BYTES + 32 + 6 * 32 + 4 * 32 + vectors + 32 * depth;
        uint256 exec =
            EXEC_RESOLVE +
                EXEC_REGISTRY_CALL +
                EXEC_PER_MAC * inDim +
                EXEC_PER_BYTE * vectors +
                EXEC_PER_PROOF_NODE * depth +
                _memory(vectors + 256);
        return txGas(size, exec);
    }

    /// @notice Largest number of leaves one `discloseLeaves` transaction may carry within
    /// `MAX_HONEST_MOVE_GAS`, for inputs of `inDim` bytes (zero if not even one fits).
    function leavesPerChunk(uint256 inDim) internal pure returns (uint256) {
        (uint256 fixedGas, uint256 perLeaf) = _chunkCosts(inDim);
        if (fixedGas + perLeaf > PolicyBounds.MAX_HONEST_MOVE_GAS) return 0;
        return (PolicyBounds.MAX_HONEST_MOVE_GAS - fixedGas) / perLeaf;
    }

    /// @notice `discloseLeaves(header, leaves)` with `count` leaves of `inDim`-byte inputs.
    function discloseChunk(uint256 count, uint256 inDim) internal pure returns (uint256) {
        (uint256 fixedGas, uint256 perLeaf) = _chunkCosts(inDim);
        return fixedGas + count * perLeaf;
    }

    /// @notice `finishDisclosure(header, leafHashes)` of a batch of `count` leaves.
    function finishDisclosure(uint256 count) internal pure returns (uint256) {
        uint256 size = 4 + 5 * 32 + 64 + 32 * count;
        // The tree is built in memory: 2 * count - 1 words.
        return txGas(size, EXEC_FINISH + EXEC_FINISH_PER_LEAF * count + _memory(64 * count));
    }

    /// @notice Gas of a full disclosure of `count` leaves in the largest chunks that fit, plus the final
    /// check: what a disclosure demand's bond pays for at the reference gas price.
    function disclosure(uint256 count, uint256 inDim) internal pure returns (uint256) {
        uint256 perChunk = leavesPerChunk(inDim);
        if (perChunk == 0) return type(uint256).max;
        uint256 full = count / perChunk;
        uint256 rest = count % perChunk;
        uint256 gas = full * discloseChunk(perChunk, inDim) + finishDisclosure(count);
        if (rest != 0) gas += discloseChunk(rest, inDim);
        return gas;
    }

    /// @notice Most leaves a batch of inputs of `inDim` bytes may hold: its full disclosure stays within
    /// `MAX_DISCLOSURE_GAS`, and at most `MAX_BATCH_LEAVES`.
    function maxBatchLeaves(uint256 inDim) internal pure returns (uint256) {
        if (leavesPerChunk(inDim) == 0) return 0;
        // disclosure() is increasing in count: the largest count within the budget, by bisection.
        uint256 lo;
        uint256 hi = PolicyBounds.MAX_BATCH_LEAVES;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            if (disclosure(mid, inDim) <= PolicyBounds.MAX_DISCLOSURE_GAS) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// @notice Worst honest move of any game on a model with these layers (the provider's and the
    /// challenger's, disclosure included), and the gas each side spends in a full game.
    /// @return worst The largest single transaction.
    /// @return providerGame What the provider spends answering one full game (input, trace, layer).
    /// @return challengerGame What a challenger spends on one full game (open, continue, select, prove).
    function ofModel(
        LayerSpec[] memory layers
    ) internal pure returns (uint256 worst, uint256 providerGame, uint256 challengerGame) {
        uint256 numLayers = layers.length;
        uint256 neurons;
        for (uint256 i; i < numLayers; ++i) neurons += layers[i].outDim;
        uint256 depth = _ceilLog2(neurons);

        uint256 fixedGas = fixedMove();
        uint256 input = revealInput(layers[0].inDim);
        uint256 trace = revealTrace(numLayers);
        uint256 maxReveal;
        uint256 maxProve;
        for (uint256 i; i < numLayers; ++i) {
            maxReveal = _max(maxReveal, revealLayer(numLayers, layers[i].outDim));
            maxProve = _max(maxProve, proveNeuron(layers[i].inDim, layers[i].outDim, depth));
        }
        uint256 inDim = layers[0].inDim;
        uint256 disclose = _max(discloseChunk(1, inDim), finishDisclosure(_max(1, maxBatchLeaves(inDim))));

        worst = _max(_max(fixedGas, input), _max(_max(trace, maxReveal), _max(maxProve, disclose)));
        providerGame = input + trace + maxReveal + fixedGas;
        challengerGame = 3 * fixedGas + maxProve;
    }

    /// @dev Each leaf is checked and logged from one scratch area, so memory does not grow with the
    /// chunk: the cost is linear in the number of leaves (`txGas` is at most `21,000 + 40 * B + E`).
    function _chunkCosts(uint256 inDim) private pure returns (uint256 fixedGas, uint256 perLeaf) {
        uint256 padded = _pad(inDim);
        uint256 leafBytes = 32 + 96 + 64 + padded;
        fixedGas = TX_BASE + FLOOR_PER_BYTE * (4 + 5 * 32 + 64) + EXEC_DISCLOSE_CHUNK + _memory(padded + 256);
        perLeaf = FLOOR_PER_BYTE * leafBytes + EXEC_DISCLOSE_LEAF + EXEC_PER_BYTE * padded;
    }

    /// @dev Memory expansion cost of `bytes_` bytes: 3 per word plus words^2 / 512.
    function _memory(uint256 bytes_) private pure returns (uint256) {
        uint256 words = (bytes_ + 31) / 32;
        return 3 * words + (words * words) / 512;
    }

    function _pad(uint256 n) private pure returns (uint256) {
        return ((n + 31) / 32) * 32;
    }

    function _ceilLog2(uint256 n) private pure returns (uint256 r) {
        while ((uint256(1) << r) < n) ++r;
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }
}

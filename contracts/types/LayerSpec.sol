// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice One dense layer of a `dense-int8-v1` model (docs/protocol.md, "Determinism profile").
/// @dev `graphHash = keccak256(abi.encode(LayerSpec[] graph))`. Layers are numbered 1..L.
/// Bounds: 1 <= inDim, outDim <= 65,536; inDim(l) == outDim(l-1); 1 <= multiplier < 2^31; shift <= 62.
struct LayerSpec {
    uint32 inDim;
    uint32 outDim;
    uint32 multiplier;
    uint8 shift;
    bool relu;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../utils/Test.sol";
import {DenseInt8} from "../../contracts/libraries/DenseInt8.sol";
import {DenseInt8Harness} from "../../contracts/mocks/DenseInt8Harness.sol";
import {LayerSpec} from "../../contracts/types/LayerSpec.sol";

/// @notice Property tests of `DenseInt8` against a plain int256 reference written from the profile text.
contract DenseInt8Test is Test {
    /// @dev Accumulator range of the profile: int32 bias plus at most 65,536 products of int8 pairs.
    int256 internal constant ACC_MIN = -2_147_483_648 - 65_536 * 128 * 127;
    int256 internal constant ACC_MAX = 2_147_483_647 + 65_536 * 128 * 128;

    DenseInt8Harness internal harness;

    function setUp() public {
        harness = new DenseInt8Harness();
    }

    // ---------------------------------------------------------------- reference

    /// @dev Signed `bound`. Test.sol's `bound(int256, ...)` overflows (checked) on `uint256(min) + offset`
    /// whenever `min` is negative, so the signed cases here use this unchecked version instead.
    function _boundSigned(int256 x, int256 min, int256 max) internal pure returns (int256) {
        if (x >= min && x <= max) return x;
        unchecked {
            uint256 size = uint256(max - min) + 1;
            return int256(uint256(min) + (uint256(x) % size));
        }
    }

    /// @dev floor(n / d) for d > 0, written with truncating division so it does not reuse `>>`.
    function _floorDiv(int256 n, int256 d) internal pure returns (int256 q) {
        q = n / d;
        if (n % d != 0 && n < 0) q -= 1;
    }

    function _refRequantize(int256 acc, uint32 multiplier, uint8 shift, bool relu) internal pure returns (int8) {
        int256 p = acc * int256(uint256(multiplier));
        int256 v = shift == 0 ? p : _floorDiv(p + int256(2 ** (uint256(shift) - 1)), int256(2 ** uint256(shift)));
        int256 lo = relu ? int256(0) : int256(-128);
        if (v < lo) v = lo;
        if (v > 127) v = 127;
        return int8(v);
    }

    function _refDot(bytes memory x, bytes memory row) internal pure returns (int256 s) {
        for (uint256 k; k < x.length; ++k) s += int256(int8(uint8(x[k]))) * int256(int8(uint8(row[k])));
    }

    /// @dev A pseudo-random int8 vector; `mode` 0 random, 1 all -128, 2 all 127, 3 alternating extremes.
    function _vector(bytes32 seed, uint256 dim, uint256 mode) internal pure returns (bytes memory v) {
        v = new bytes(dim);
        for (uint256 k; k < dim; ++k) {
            if (mode == 1) v[k] = 0x80;
            else if (mode == 2) v[k] = 0x7f;
            else if (mode == 3) v[k] = k % 2 == 0 ? bytes1(0x80) : bytes1(0x7f);
            else v[k] = keccak256(abi.encode(seed, k))[0];
        }
    }

    function _spec(uint256 dim, uint32 multiplier, uint8 shift, bool relu) internal pure returns (LayerSpec memory) {
        return LayerSpec({inDim: uint32(dim), outDim: 1, multiplier: multiplier, shift: shift, relu: relu});
    }

    // ---------------------------------------------------------------- neuron

    function testFuzz_neuron_matchesReference(
        bytes32 seed,
        uint256 dim,
        uint256 xMode,
        uint256 wMode,
        int32 bias,
        uint32 multiplier,
        uint8 shift,
        bool relu
    ) public view {
        dim = bound(dim, 1, 300);
        bytes memory x = _vector(seed, dim, bound(xMode, 0, 3));
        bytes memory row = _vector(keccak256(abi.encode(seed)), dim, bound(wMode, 0, 3));
        multiplier = uint32(bound(multiplier, 1, DenseInt8.MAX_MULTIPLIER));
        shift = uint8(bound(shift, 0, DenseInt8.MAX_SHIFT));
        int8 expected = _refRequantize(_refDot(x, row) + bias, multiplier, shift, relu);
        assertEq(harness.neuron(x, row, bias, _spec(dim, multiplier, shift, relu)), expected, "neuron");
    }

    /// @dev Chooses the multiplier so the exact result is near the int8 range, where rounding matters.
    function testFuzz_neuron_unclampedMatchesReference(
        bytes32 seed,
        uint256 dim,
        int32 bias,
        uint8 shift,
        uint256 target,
        bool relu
    ) public view {
        dim = bound(dim, 1, 200);
        shift = uint8(bound(shift, 1, 62));
        bytes memory x = _vector(seed, dim, 0);
        bytes memory row = _vector(keccak256(abi.encode(seed)), dim, 0);
        int256 acc = _refDot(x, row) + bias;
        uint256 absAcc = uint256(acc < 0 ? -acc : acc);
        vm.assume(absAcc != 0);
        uint256 m = (bound(target, 0, 140) << shift) / absAcc;
        uint32 multiplier = uint32(bound(m, 1, DenseInt8.MAX_MULTIPLIER));
        int8 expected = _refRequantize(acc, multiplier, shift, relu);
        assertEq(harness.neuron(x, row, bias, _spec(dim, multiplier, shift, relu)), expected, "neuron");
    }

    function testFuzz_dot_matchesReference(bytes32 seed, uint256 dim, uint256 mode) public view {
        dim = bound(dim, 0, 520);
        bytes memory x = _vector(seed, dim, bound(mode, 0, 3));
        bytes memory row = _vector(bytes32(uint256(seed) + 1), dim, 0);
        assertEq(harness.dot(x, row), _refDot(x, row), "dot");
    }

    // ---------------------------------------------------------------- requantize

    function testFuzz_requantize_matchesReference(int256 acc, uint32 multiplier, uint8 shift, bool relu) public view {
        acc = _boundSigned(acc, ACC_MIN, ACC_MAX);
        multiplier = uint32(bound(multiplier, 1, DenseInt8.MAX_MULTIPLIER));
        shift = uint8(bound(shift, 0, DenseInt8.MAX_SHIFT));
        assertEq(harness.requantize(acc, multiplier, shift, relu), _refRequantize(acc, multiplier, shift, relu), "rq");
    }

    function testFuzz_requantize_staysInBounds(int256 acc, uint32 multiplier, uint8 shift, bool relu) public view {
        acc = _boundSigned(acc, ACC_MIN, ACC_MAX);
        multiplier = uint32(bound(multiplier, 1, DenseInt8.MAX_MULTIPLIER));
        shift = uint8(bound(shift, 0, DenseInt8.MAX_SHIFT));
        int8 y = harness.requantize(acc, multiplier, shift, relu);
        assertTrue(y >= (relu ? int8(0) : int8(-128)), "lower clamp");
        assertTrue(y <= 127, "upper clamp");
    }

    function testFuzz_requantize_isMonotonic(
        int256 a,
        int256 b,
        uint32 multiplier,
        uint8 shift,
        bool relu
    ) public view {
        a = _boundSigned(a, ACC_MIN, ACC_MAX);
        b = _boundSigned(b, a, ACC_MAX);
        multiplier = uint32(bound(multiplier, 1, DenseInt8.MAX_MULTIPLIER));
        shift = uint8(bound(shift, 0, DenseInt8.MAX_SHIFT));
        assertTrue(
            harness.requantize(a, multiplier, shift, relu) <= harness.requantize(b, multiplier, shift, relu),
            "monotonic"
        );
    }

    function testFuzz_relu_isMaxWithZero(int256 acc, uint32 multiplier, uint8 shift) public view {
        acc = _boundSigned(acc, ACC_MIN, ACC_MAX);
        multiplier = uint32(bound(multiplier, 1, DenseInt8.MAX_MULTIPLIER));
        shift = uint8(bound(shift, 0, DenseInt8.MAX_SHIFT));
        int8 plain = harness.requantize(acc, multiplier, shift, false);
        assertEq(harness.requantize(acc, multiplier, shift, true), plain < 0 ? int8(0) : plain, "relu");
    }

    function testFuzz_shiftZero_isClampedProduct(int256 acc, uint32 multiplier) public view {
        acc = _boundSigned(acc, -300, 300);
        multiplier = uint32(bound(multiplier, 1, 300));
        int256 p = acc * int256(uint256(multiplier));
        int256 expected =
            p < -128
                ? int256(-128)
                : p > 127
                    ? int256(127)
                    : p;
        assertEq(harness.requantize(acc, multiplier, 0, false), expected, "shift 0");
    }

    /// @dev `(k + 1/2) * 2^shift` is an exact tie; it must round up to `k + 1` for negative `k` too.
    function testFuzz_ties_roundTowardPlusInfinity(int256 k, uint8 shift) public view {
        k = _boundSigned(k, -129, 127);
        shift = uint8(bound(shift, 1, 30));
        int256 acc = k * int256(2 ** uint256(shift)) + int256(2 ** (uint256(shift) - 1));
        int256 expected =
            k + 1 > 127
                ? int256(127)
                : k + 1 < -128
                    ? int256(-128)
                    : k + 1;
        assertEq(harness.requantize(acc, 1, shift, false), expected, "tie");
    }

    function test_requantize_extremes() public view {
        assertEq(harness.requantize(ACC_MAX, DenseInt8.MAX_MULTIPLIER, 0, false), 127, "max, shift 0");
        assertEq(harness.requantize(ACC_MIN, DenseInt8.MAX_MULTIPLIER, 0, false), -128, "min, shift 0");
        assertEq(harness.requantize(ACC_MAX, DenseInt8.MAX_MULTIPLIER, 62, false), 1, "max, shift 62");
        assertEq(harness.requantize(ACC_MIN, DenseInt8.MAX_MULTIPLIER, 62, false), -1, "min, shift 62");
        assertEq(harness.requantize(ACC_MIN, DenseInt8.MAX_MULTIPLIER, 62, true), 0, "min, shift 62, relu");
    }

    // ---------------------------------------------------------------- golden neurons

    function test_neuron_goldenCases() public view {
        // acc = 10 + 3*5 - 2*7 = 11; 11 * 3 = 33; (33 + 2) >> 2 = 8.
        assertEq(harness.neuron(hex"03fe", hex"0507", 10, _spec(2, 3, 2, false)), 8, "worked example");
        assertEq(harness.neuron(hex"01", hex"05", 0, _spec(1, 1, 1, false)), 3, "2.5 -> 3");
        assertEq(harness.neuron(hex"01", hex"fb", 0, _spec(1, 1, 1, false)), -2, "-2.5 -> -2");
        assertEq(harness.neuron(hex"9c", hex"64", 0, _spec(1, 1, 7, true)), 0, "relu");
        assertEq(harness.neuron(hex"9c", hex"64", 0, _spec(1, 1, 7, false)), -78, "-78.125 -> -78");
        assertEq(harness.neuron(hex"80", hex"80", 0, _spec(1, 1, 0, false)), 127, "16384 clamps");
        assertEq(
            harness.neuron(hex"00", hex"00", type(int32).max, _spec(1, DenseInt8.MAX_MULTIPLIER, 62, false)),
            1,
            "int32 max bias, shift 62"
        );
    }

    // ---------------------------------------------------------------- errors

    function test_neuron_lengthMismatch_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(DenseInt8.DenseInt8LengthMismatch.selector, 2, 1));
        harness.neuron(hex"0102", hex"01", 0, _spec(2, 1, 0, false));
    }

    function test_neuron_wrongInDim_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(DenseInt8.DenseInt8DimensionMismatch.selector, 3, 2));
        harness.neuron(hex"0102", hex"0304", 0, _spec(3, 1, 0, false));
    }

    function testFuzz_checkSpec_rejectsOutOfBounds(uint32 inDim, uint32 outDim, uint32 multiplier, uint8 shift) public {
        bool valid =
            inDim >= 1 &&
                inDim <= 65_536 &&
                outDim >= 1 &&
                outDim <= 65_536 &&
                multiplier >= 1 &&
                multiplier < 2 ** 31 &&
                shift <= 62;
        LayerSpec memory s = LayerSpec(inDim, outDim, multiplier, shift, false);
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(DenseInt8.DenseInt8InvalidSpec.selector, inDim, outDim, multiplier, shift)
            );
        }
        harness.checkSpec(s);
    }

    // ---------------------------------------------------------------- commitments

    function testFuzz_commitments_matchTheirDefinitions(
        uint32 layer,
        uint32 neuronIndex,
        int32 bias,
        bytes calldata row
    ) public view {
        assertEq(harness.hashVector(row), keccak256(row), "hashVector");
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(layer, neuronIndex, bias, row))));
        assertEq(harness.weightLeaf(layer, neuronIndex, bias, row), leaf, "weightLeaf");
        bytes32[] memory noProof = new bytes32[](0);
        assertTrue(harness.verifyRow(noProof, leaf, layer, neuronIndex, bias, row), "single-leaf tree");
        assertFalse(harness.verifyRow(noProof, leaf, layer, neuronIndex, bias ^ 1, row), "other bias");
        assertEq(harness.engineId(), keccak256("verity.dense-int8.v1"), "engine id");
        assertEq(
            harness.contentHash(leaf, keccak256(row)),
            keccak256(abi.encode(leaf, keccak256(row), keccak256("verity.dense-int8.v1"))),
            "contentHash"
        );
    }

    function testFuzz_graphHash_isAbiEncodeHash(uint32 a, uint32 b, uint32 m, uint8 s, bool relu) public view {
        LayerSpec[] memory graph = new LayerSpec[](2);
        graph[0] = LayerSpec(a, b, m, s, relu);
        graph[1] = LayerSpec(b, a, m ^ 1, s ^ 1, !relu);
        assertEq(harness.graphHash(graph), keccak256(abi.encode(graph)), "graphHash");
    }
}

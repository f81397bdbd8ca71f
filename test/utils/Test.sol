// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The subset of the standard cheatcode interface that EDR implements and these tests use.
/// @dev Declared here because the npm `forge-std` package is unusable with Hardhat 3 (see docs/testing).
// solhint-disable-next-line interface-starts-with-i
interface Vm {
    function warp(uint256 newTimestamp) external;
    /// @dev `block.timestamp` as the chain sees it now. Read it after a `warp`: with viaIR the optimizer may
    /// reuse an earlier `block.timestamp` of the same function (it is constant within a real transaction).
    function getBlockTimestamp() external view returns (uint256);
    function roll(uint256 newHeight) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address account, uint256 newBalance) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;
    function assume(bool condition) external pure;
}

/// @notice Minimal test base: cheatcodes, `bound`, assertions and invariant-target registration.
/// @dev Assertions revert with a message naming the values, so a failing fuzz case is readable.
abstract contract Test {
    error TestBoundInvalidRange(int256 min, int256 max);

    // solhint-disable-next-line const-name-snakecase
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address[] private _targetContracts;
    address[] private _targetSenders;

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    FuzzSelector[] private _targetSelectors;

    // ---------------------------------------------------------------- invariant targets

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSender(address sender) internal {
        _targetSenders.push(sender);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetSelectors.push(selector);
    }

    /// @dev Read by the invariant runner.
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    /// @dev Read by the invariant runner.
    function targetSenders() public view returns (address[] memory) {
        return _targetSenders;
    }

    /// @dev Read by the invariant runner.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    // ---------------------------------------------------------------- bounding

    /// @dev Maps `x` into [min, max] without discarding runs (same contract as forge-std's `bound`).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (min > max) revert TestBoundInvalidRange(int256(min), int256(max));
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x; // full range
        return min + (x % size);
    }

    function bound(int256 x, int256 min, int256 max) internal pure returns (int256) {
        if (min > max) revert TestBoundInvalidRange(min, max);
        if (x >= min && x <= max) return x;
        // Two's-complement arithmetic: wrapping is the intent here.
        unchecked {
            uint256 size = uint256(max - min) + 1;
            uint256 offset = uint256(x) % size;
            return int256(uint256(min) + offset);
        }
    }

    // ---------------------------------------------------------------- assertions

    function fail(string memory reason) internal pure {
        revert(string.concat("assertion failed: ", reason));
    }

    function assertTrue(bool condition, string memory reason) internal pure {
        if (!condition) fail(reason);
    }

    function assertFalse(bool condition, string memory reason) internal pure {
        if (condition) fail(reason);
    }

    function assertEq(uint256 a, uint256 b, string memory reason) internal pure {
        if (a != b) fail(string.concat(reason, ": ", _vmTestUintToString(a), " != ", _vmTestUintToString(b)));
    }

    function assertEq(int256 a, int256 b, string memory reason) internal pure {
        if (a != b) fail(string.concat(reason, ": ", _vmTestIntToString(a), " != ", _vmTestIntToString(b)));
    }

    function assertEq(bytes32 a, bytes32 b, string memory reason) internal pure {
        if (a != b) fail(string.concat(reason, ": bytes32 differ"));
    }

    function assertEq(address a, address b, string memory reason) internal pure {
        if (a != b) fail(string.concat(reason, ": addresses differ"));
    }

    function assertEq(bool a, bool b, string memory reason) internal pure {
        if (a != b) fail(string.concat(reason, ": bools differ"));
    }

    function assertLe(uint256 a, uint256 b, string memory reason) internal pure {
        if (a > b) fail(string.concat(reason, ": ", _vmTestUintToString(a), " > ", _vmTestUintToString(b)));
    }

    function assertGe(uint256 a, uint256 b, string memory reason) internal pure {
        if (a < b) fail(string.concat(reason, ": ", _vmTestUintToString(a), " < ", _vmTestUintToString(b)));
    }

    function _vmTestUintToString(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) ++len;
        bytes memory out = new bytes(len);
        for (; v != 0; v /= 10) out[--len] = bytes1(uint8(48 + (v % 10)));
        return string(out);
    }

    function _vmTestIntToString(int256 v) private pure returns (string memory) {
        if (v >= 0) return _vmTestUintToString(uint256(v));
        return
            string.concat(
                "-",
                _vmTestUintToString(v == type(int256).min ? uint256(type(int256).max) + 1 : uint256(-v))
            );
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;
import {Test} from "./Test.sol";
contract TestBaseTest is Test {
    function testFuzz_bound(uint256 x) public pure {
        uint256 y = bound(x, 3, 9);
        assertTrue(y >= 3 && y <= 9, "bound");
    }
    function test_warp() public {
        vm.warp(1000);
        assertEq(block.timestamp, 1000, "warp");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VerityBase} from "../utils/VerityBase.sol";
import {GasBurnerConsumer, RecordingConsumer, RevertingConsumer} from "../../contracts/mocks/OracleConsumers.sol";
import {InferenceOracle} from "../../contracts/oracle/InferenceOracle.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {OracleHandler} from "./handlers/OracleHandler.sol";

/// @notice The oracle handler as deployed by the invariant test (declared here so that Hardhat writes its
/// artifact when this file runs alone; see test/core/StakeInvariant.t.sol).
contract OracleHandlerTarget is OracleHandler {
    constructor(
        InferenceOracle oracle_,
        MockERC20 token_,
        bytes32 modelId_,
        address[] memory requesters_,
        address[] memory providers_,
        address[] memory consumers_
    ) OracleHandler(oracle_, token_, modelId_, requesters_, providers_, consumers_) {}
}

/// @notice Invariants of the oracle under random sequences of requests (with hostile and absent consumers),
/// answers, settlements, refunds, withdrawals and time: its token balance is exactly what it owes, and what it
/// owes is the fees of live requests plus every credit.
contract OracleInvariantTest is VerityBase {
    OracleHandler private handler;

    function setUp() public {
        deployVerity();
        bytes32 modelId = registerTiny(tinyPolicy());
        address[] memory requesters = new address[](2);
        requesters[0] = address(0xA001);
        requesters[1] = address(0xA002);
        address[] memory providers = new address[](2);
        providers[0] = address(0xB001);
        providers[1] = address(0xB002);
        for (uint256 i; i < providers.length; ++i) stakeProvider(providers[i], 100e18);
        address[] memory consumers = new address[](4);
        consumers[1] = address(new RecordingConsumer());
        consumers[2] = address(new RevertingConsumer());
        consumers[3] = address(new GasBurnerConsumer());
        handler = new OracleHandlerTarget(oracle, token, modelId, requesters, providers, consumers);
        vm.warp(1_700_000_000);
        targetContract(address(handler));
    }

    /// @notice The handler reaches every path (so the invariants are not vacuous): a settlement with each
    /// consumer, a refund, and withdrawals, with the invariants holding after each step.
    function test_handlerReachesEveryPath() public {
        for (uint256 c; c < 4; ++c) {
            handler.request(c, 1e18 + c, c, 100_000, 2 days);
            handler.fulfill(2 * c, c, uint8(c));
            handler.request(c + 1, 2e18, c, 50_000, 1 hours);
        }
        invariant_balanceEqualsOwed();
        handler.warp(1 days);
        handler.warp(1 days);
        for (uint256 i; i < 8; ++i) handler.settle(i);
        for (uint256 i; i < 8; ++i) handler.refund(i);
        invariant_balanceEqualsOwed();
        for (uint256 w; w < 4; ++w) handler.withdraw(w);
        assertEq(handler.settles(), 4, "settled");
        assertEq(handler.refunds(), 4, "refunded");
        assertGe(handler.withdrawals(), 1, "withdrawn");
        invariant_balanceEqualsOwed();
        invariant_noUnexpectedRevert();
    }

    /// @notice The oracle's token balance equals `totalOwed()`, which equals live fees plus credits.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 48
    function invariant_balanceEqualsOwed() public view {
        uint256 owed = oracle.totalOwed();
        assertEq(token.balanceOf(address(oracle)), owed, "balance == totalOwed");
        address[] memory accounts = handler.accounts();
        uint256 credits;
        for (uint256 i; i < accounts.length; ++i) {
            assertEq(oracle.creditOf(accounts[i]), handler.ghostCredits(accounts[i]), "credit == model");
            credits += handler.ghostCredits(accounts[i]);
        }
        assertEq(handler.ghostEscrowed() + credits, owed, "escrow + credits == totalOwed");
    }

    /// @notice Every call the model says must succeed did (no callback, refund or settlement was blocked).
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 48
    function invariant_noUnexpectedRevert() public view {
        assertEq(handler.unexpectedReverts(), 0, "unexpected reverts");
    }
}

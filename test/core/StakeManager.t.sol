// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {VerityBase} from "../utils/VerityBase.sol";
import {IStakeManager} from "../../contracts/interfaces/IStakeManager.sol";
import {StakeManager} from "../../contracts/staking/StakeManager.sol";
import {PolicyBounds} from "../../contracts/libraries/PolicyBounds.sol";

/// @notice Fuzz tests of the stake manager's arithmetic: deposits, unbonding, withdrawals, slashes and
/// their split (the challengers' share held, the rest to the treasury), bonds and credits, the 96-bit
/// bound, and the ledger's copy of each active stake.
/// @dev This contract plays a dispute contract (it holds DISPUTE_ROLE besides the deployed game).
contract StakeManagerTest is VerityBase {
    uint256 private constant _BPS = 10_000;
    uint16 private constant _SHARE_BPS = DEFAULT_SHARE_BPS;
    uint256 private constant _DELAY = DEFAULT_UNBONDING_DELAY;
    uint256 private constant _MAX96 = type(uint96).max;

    address private constant _ALICE = address(0xA11CE);
    address private constant _BOB = address(0xB0B);
    address private constant _CHALLENGER = address(0xC4A1);
    address private constant _TREASURY = TREASURY;

    function setUp() public {
        deployVerity();
        stake.grantRole(stake.DISPUTE_ROLE(), address(this));
        vm.warp(1_700_000_000);
    }

    // ------------------------------------------------------------------ deposit / unbond / withdraw

    /// @notice Two deposits and a partial unbond: every field, total and balance is exact.
    function testFuzz_deposit_thenUnbond_conservesFunds(uint256 first, uint256 second, uint256 unbond) public {
        first = bound(first, 1, _MAX96 - 1);
        second = bound(second, 1, _MAX96 - first);
        unbond = bound(unbond, 1, first + second);

        _deposit(_ALICE, first);
        _deposit(_ALICE, second);
        assertEq(token.balanceOf(_ALICE), 0, "provider keeps tokens");
        _checkStake(_ALICE, first + second, 0, 0, 0);

        vm.prank(_ALICE);
        stake.requestUnbond(unbond);
        _checkStake(_ALICE, first + second - unbond, unbond, block.timestamp + _DELAY, 0);
        assertEq(stake.totalActive(), first + second - unbond, "totalActive");
        assertEq(stake.totalUnbonding(), unbond, "totalUnbonding");
        _checkConservation();
    }

    /// @notice A fuzzed sequence of deposits, unbonds and waits, then a withdrawal: each unbond restarts
    /// the clock for all unbonding stake, the withdrawal pays exactly the unbonding stake, and the
    /// provider ends with deposits - active.
    /// hardhat-config: fuzz.runs = 512
    function testFuzz_depositUnbondWithdraw_sequence_paysExactlyUnbonded(
        uint64[4] calldata deposits,
        uint64[4] calldata unbonds,
        uint32[4] calldata waits
    ) public {
        uint256 active;
        uint256 unbonding;
        uint256 deposited;
        uint256 readyAt;
        for (uint256 i; i < 4; ++i) {
            uint256 amount = bound(deposits[i], 1, type(uint64).max);
            _deposit(_ALICE, amount);
            active += amount;
            deposited += amount;

            uint256 out = bound(unbonds[i], 0, active);
            if (out != 0) {
                vm.prank(_ALICE);
                stake.requestUnbond(out);
                active -= out;
                unbonding += out;
                readyAt = vm.getBlockTimestamp() + _DELAY;
            }
            _checkStake(_ALICE, active, unbonding, readyAt, 0);
            vm.warp(vm.getBlockTimestamp() + bound(waits[i], 0, _DELAY * 2));
        }
        _checkConservation();
        if (unbonding == 0) return;

        if (vm.getBlockTimestamp() < readyAt) {
            vm.prank(_ALICE);
            vm.expectRevert(
                abi.encodeWithSelector(IStakeManager.StakeManagerStillUnbonding.selector, _ALICE, uint40(readyAt))
            );
            stake.withdraw();
            vm.warp(readyAt);
        }
        vm.prank(_ALICE);
        assertEq(stake.withdraw(), unbonding, "withdrawn amount");
        assertEq(token.balanceOf(_ALICE), unbonding, "tokens received");
        assertEq(token.balanceOf(_ALICE) + stake.stakeOf(_ALICE).active, deposited, "provider's funds");
        _checkStake(_ALICE, active, 0, 0, 0);
        _checkConservation();

        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerNothingUnbonding.selector, _ALICE));
        stake.withdraw();
    }

    /// @notice Withdrawing one second before readyAt reverts at any fuzzed time; at readyAt it succeeds.
    function testFuzz_withdraw_beforeReadyAt_reverts(uint256 amount, uint256 early) public {
        amount = bound(amount, 1, _MAX96);
        _deposit(_ALICE, amount);
        vm.prank(_ALICE);
        stake.requestUnbond(amount);
        uint40 readyAt = uint40(block.timestamp + _DELAY);

        vm.warp(readyAt - bound(early, 1, _DELAY));
        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerStillUnbonding.selector, _ALICE, readyAt));
        stake.withdraw();

        vm.warp(readyAt);
        vm.prank(_ALICE);
        assertEq(stake.withdraw(), amount, "withdrawn at readyAt");
        assertEq(token.balanceOf(_ALICE), amount, "tokens received");
        _checkConservation();
    }

    /// @notice A new unbond request restarts the clock of all unbonding stake.
    function testFuzz_requestUnbond_restartsClock(uint256 amount, uint256 gap) public {
        amount = bound(amount, 2, _MAX96);
        gap = bound(gap, 1, _DELAY);
        _deposit(_ALICE, amount);
        vm.prank(_ALICE);
        stake.requestUnbond(1);
        uint40 firstReadyAt = uint40(block.timestamp + _DELAY);

        vm.warp(block.timestamp + gap);
        vm.prank(_ALICE);
        stake.requestUnbond(amount - 1);
        // Not `block.timestamp`: viaIR may reuse the value read before the warp (it did: readyAt came out
        // as the first request's).
        uint40 readyAt = uint40(vm.getBlockTimestamp() + _DELAY);
        assertEq(readyAt, firstReadyAt + gap, "the clock restarted at the second request");
        _checkStake(_ALICE, 0, amount, readyAt, 0);

        vm.warp(firstReadyAt);
        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerStillUnbonding.selector, _ALICE, readyAt));
        stake.withdraw();
    }

    /// @notice No withdrawal while any dispute is open, however long the wait; the last unlock frees it.
    function testFuzz_withdraw_withOpenDisputes_reverts(uint256 amount, uint256 locks, uint256 wait) public {
        amount = bound(amount, 1, _MAX96);
        locks = bound(locks, 1, 8);
        _deposit(_ALICE, amount);
        vm.prank(_ALICE);
        stake.requestUnbond(amount);
        for (uint256 i; i < locks; ++i) _openDispute(_ALICE, 1);
        vm.warp(block.timestamp + bound(wait, _DELAY, 100 * 365 days));

        for (uint256 open = locks; open != 0; --open) {
            assertEq(stake.stakeOf(_ALICE).openDisputes, open, "openDisputes");
            vm.prank(_ALICE);
            vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerOpenDisputes.selector, _ALICE, open));
            stake.withdraw();
            stake.unlockStake(_ALICE);
        }
        vm.prank(_ALICE);
        assertEq(stake.withdraw(), amount, "withdrawn after the last unlock");
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerNoLockedDispute.selector, _ALICE));
        stake.unlockStake(_ALICE);
    }

    function testFuzz_requestUnbond_aboveActive_reverts(uint256 active, uint256 amount) public {
        active = bound(active, 0, _MAX96);
        amount = bound(amount, active + 1, type(uint256).max);
        if (active != 0) _deposit(_ALICE, active);
        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerInsufficientStake.selector, amount, active));
        stake.requestUnbond(amount);
    }

    function test_zeroAmounts_revert() public {
        vm.startPrank(_ALICE);
        vm.expectRevert(IStakeManager.StakeManagerZeroAmount.selector);
        stake.deposit(0);
        vm.expectRevert(IStakeManager.StakeManagerZeroAmount.selector);
        stake.requestUnbond(0);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerNothingUnbonding.selector, _ALICE));
        stake.withdraw();
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerNoCredit.selector, _ALICE));
        stake.claim();
        vm.stopPrank();
        // A dispute without a bond is refused, and its lock is rolled back with it.
        vm.expectRevert(IStakeManager.StakeManagerZeroAmount.selector);
        stake.openDisputeStake(_ALICE, _CHALLENGER, 0);
        assertEq(stake.stakeOf(_ALICE).openDisputes, 0, "no lock without a bond");
    }

    // ------------------------------------------------------------------ the 96-bit bound

    /// @notice A deposit that would take the active stake past type(uint96).max is rejected with
    /// StakeManagerAmountTooLarge(amount) and changes nothing. Amounts are kept below
    /// 2^256 - active; see `testFuzz_deposit_nearUint256Max_revertsAmountTooLarge` for the rest.
    function testFuzz_deposit_aboveUint96_revertsAmountTooLarge(uint256 existing, uint256 amount) public {
        existing = bound(existing, 0, _MAX96);
        amount = bound(amount, _MAX96 - existing + 1, type(uint256).max - existing);
        if (existing != 0) _deposit(_ALICE, existing);
        token.mint(_ALICE, amount);
        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerAmountTooLarge.selector, amount));
        stake.deposit(amount);
        _checkStake(_ALICE, existing, 0, 0, 0);
        _checkConservation();
    }

    /// @notice With a non-zero active stake, a deposit above 2^256 - 1 - active reverts with
    /// StakeManagerAmountTooLarge. (Regression: the old check `stake.active + amount` overflowed with Panic(0x11).)
    function testFuzz_deposit_nearUint256Max_revertsAmountTooLarge(uint256 existing, uint256 amount) public {
        existing = bound(existing, 1, _MAX96);
        amount = bound(amount, type(uint256).max - existing + 1, type(uint256).max);
        _deposit(_ALICE, existing);
        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerAmountTooLarge.selector, amount));
        stake.deposit(amount);
    }

    /// @notice Active and unbonding stake are separate 96-bit fields: moving stake into an unbonding
    /// field that cannot hold it reverts and never wraps.
    function testFuzz_requestUnbond_unbondingPastUint96_revertsWithoutWrapping(uint256 extra) public {
        extra = bound(extra, 1, _MAX96);
        _deposit(_ALICE, _MAX96);
        vm.prank(_ALICE);
        stake.requestUnbond(_MAX96);
        _deposit(_ALICE, extra);
        uint256 readyAt = block.timestamp + _DELAY;

        vm.warp(block.timestamp + 1);
        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerAmountTooLarge.selector, extra));
        stake.requestUnbond(extra);
        _checkStake(_ALICE, extra, _MAX96, readyAt, 0);
        _checkConservation();
    }

    /// @notice The revert above is StakeManagerAmountTooLarge, the error documented for amounts that do not
    /// fit the 96-bit fields. (Regression: it was Panic(0x11) from `stake.unbonding += uint96(amount)`.)
    function test_requestUnbond_unbondingPastUint96_revertsAmountTooLarge() public {
        _deposit(_ALICE, _MAX96);
        vm.prank(_ALICE);
        stake.requestUnbond(_MAX96);
        _deposit(_ALICE, 1);
        vm.prank(_ALICE);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerAmountTooLarge.selector, uint256(1)));
        stake.requestUnbond(1);
    }

    /// @notice The active stake may reach exactly type(uint96).max.
    function testFuzz_deposit_upToUint96Max_succeeds(uint256 existing) public {
        existing = bound(existing, 1, _MAX96 - 1);
        _deposit(_ALICE, existing);
        _deposit(_ALICE, _MAX96 - existing);
        _checkStake(_ALICE, _MAX96, 0, 0, 0);
        _checkConservation();
    }

    // ------------------------------------------------------------------ slashing

    /// @notice A slash takes from active stake first, then from unbonding stake, never more than both;
    /// floor(slashed * bps / 10000) stays held for the dispute contract (in totalBonds), the treasury is
    /// credited exactly the rest, and `slash` returns both.
    /// hardhat-config: fuzz.runs = 1024
    function testFuzz_slash_activeFirstThenUnbonding_splitExact(
        uint256 deposit,
        uint256 unbond,
        uint256 amount,
        uint16 bps
    ) public {
        deposit = bound(deposit, 0, _MAX96);
        unbond = bound(unbond, 0, deposit);
        bps = _validShare(bps);
        if (deposit != 0) _deposit(_ALICE, deposit);
        if (unbond != 0) {
            vm.prank(_ALICE);
            stake.requestUnbond(unbond);
        }
        uint256 active = deposit - unbond;
        uint256 readyAt = unbond == 0 ? 0 : block.timestamp + _DELAY;

        uint256 fromActive = amount < active ? amount : active;
        uint256 fromUnbonding = amount - fromActive < unbond ? amount - fromActive : unbond;
        uint256 expected = fromActive + fromUnbonding;
        uint256 expectedHeld = (expected * bps) / _BPS;

        (uint256 slashed, uint256 held) = stake.slash(_ALICE, amount, bps);

        assertEq(slashed, expected, "slashed");
        assertEq(held, expectedHeld, "held");
        assertLe(slashed, amount, "slashed more than asked");
        assertLe(slashed, deposit, "slashed more than staked");
        _checkStake(_ALICE, active - fromActive, unbond - fromUnbonding, readyAt, 0);
        assertEq(stake.totalBonds(), held, "the share is held");
        assertEq(stake.creditOf(_TREASURY), slashed - held, "treasury credit");
        assertEq(stake.totalCredits(), slashed - held, "totalCredits");
        assertEq(stake.totalActive(), active - fromActive, "totalActive");
        assertEq(stake.totalUnbonding(), unbond - fromUnbonding, "totalUnbonding");
        assertEq(token.balanceOf(address(stake)), deposit, "no token moved");
        _checkConservation();
    }

    /// @notice The split is floor division: the held share is never above its fraction and short of it by
    /// less than one unit; releasing it to a challenger and claiming pays each party exactly.
    function testFuzz_slash_split_thenReleaseAndClaim_paysExactly(uint256 amount, uint16 bps) public {
        amount = bound(amount, 1, _MAX96);
        bps = _validShare(bps);
        _deposit(_ALICE, amount);
        (uint256 slashed, uint256 held) = stake.slash(_ALICE, amount, bps);

        assertEq(slashed, amount, "slashed");
        assertLe(held * _BPS, slashed * bps, "held above the share");
        assertGe((held + 1) * _BPS, slashed * bps + 1, "held short by a unit or more");
        // Half the slash at most is ever held for challengers: the provider loses at least the rest.
        assertLe(held * 2, slashed, "held above half the slash");

        stake.releaseBond(_CHALLENGER, held);
        assertEq(stake.totalBonds(), 0, "nothing held after the release");
        if (held != 0) {
            vm.prank(_CHALLENGER);
            assertEq(stake.claim(), held, "challenger claim");
        }
        vm.prank(_TREASURY);
        assertEq(stake.claim(), slashed - held, "treasury claim");
        assertEq(token.balanceOf(_CHALLENGER) + token.balanceOf(_TREASURY), slashed, "paid out");
        assertEq(token.balanceOf(address(stake)), 0, "left in the vault");
        assertEq(stake.totalOwed(), 0, "still owed");
    }

    /// @notice What a slash holds can only leave through `releaseBond`, never above what is held: the
    /// treasury credit is the unheld part only.
    function testFuzz_slash_held_cannotBeReleasedTwice(uint256 amount, uint16 bps) public {
        amount = bound(amount, 1, _MAX96);
        bps = _validShare(bps);
        _deposit(_ALICE, amount);
        (, uint256 held) = stake.slash(_ALICE, amount, bps);
        stake.releaseBond(_CHALLENGER, held);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeManagerInsufficientBonds.selector, uint256(1), 0));
        stake.releaseBond(_CHALLENGER, 1);
        assertEq(stake.creditOf(_CHALLENGER), held, "challenger credit");
        _checkConservation();
    }

    /// @notice Slashing one provider never touches another's stake.
    function testFuzz_slash_onlyTouchesTheProvider(uint256 alice, uint256 bob, uint256 amount) public {
        alice = bound(alice, 1, _MAX96);
        bob = bound(bob, 1, _MAX96);
        _deposit(_ALICE, alice);
        _deposit(_BOB, bob);
        stake.slash(_ALICE, amount, _SHARE_BPS);
        _checkStake(_BOB, bob, 0, 0, 0);
        _checkConservation();
    }

    function testFuzz_slash_nothingToTake_returnsZero(uint256 amount, uint16 bps) public {
        bps = _validShare(bps);
        (uint256 slashed, uint256 held) = stake.slash(_ALICE, amount, bps);
        assertEq(slashed, 0, "slashed from nothing");
        assertEq(held, 0, "held from nothing");
        assertEq(stake.totalCredits(), 0, "credited from nothing");
        assertEq(stake.totalBonds(), 0, "held from nothing");
    }

    /// @notice A share outside [MIN_CHALLENGER_SHARE_BPS, MAX_CHALLENGER_SHARE_BPS] is refused with its
    /// bounds, even when there is nothing to slash, and changes nothing.
    function testFuzz_slash_invalidShare_reverts(uint16 bps, bool staked) public {
        bps = _invalidShare(bps);
        if (staked) _deposit(_ALICE, 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakeManager.StakeManagerInvalidShare.selector,
                uint256(bps),
                uint256(PolicyBounds.MIN_CHALLENGER_SHARE_BPS),
                uint256(PolicyBounds.MAX_CHALLENGER_SHARE_BPS)
            )
        );
        stake.slash(_ALICE, 1e18, bps);
        _checkStake(_ALICE, staked ? 1e18 : 0, 0, 0, 0);
        assertEq(stake.totalCredits(), 0, "credited");
        _checkConservation();
    }

    /// @notice Only DISPUTE_ROLE opens dispute stakes, unlocks, slashes and releases bonds.
    function testFuzz_disputeFunctions_withoutRole_revert(address caller) public {
        vm.assume(
            caller != address(this) && caller != address(vm) && caller != address(game) && caller != address(disclosure)
        );
        bytes32 role = stake.DISPUTE_ROLE();
        bytes memory unauthorized = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector,
            caller,
            role
        );
        vm.startPrank(caller);
        vm.expectRevert(unauthorized);
        stake.openDisputeStake(_ALICE, caller, 1);
        vm.expectRevert(unauthorized);
        stake.unlockStake(_ALICE);
        vm.expectRevert(unauthorized);
        stake.slash(_ALICE, 1, _SHARE_BPS);
        vm.expectRevert(unauthorized);
        stake.releaseBond(caller, 0);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ bonds

    /// @notice A dispute stake locks the provider, takes the bond into totalBonds and returns the current
    /// share; bonds leave only as credits, never above what is held.
    function testFuzz_bonds_postThenRelease_creditsExactly(uint256 posted, uint256 released, uint256 excess) public {
        posted = bound(posted, 1, _MAX96);
        released = bound(released, 0, posted);
        token.mint(_CHALLENGER, posted);
        vm.prank(_CHALLENGER);
        token.approve(address(stake), posted);
        assertEq(stake.openDisputeStake(_ALICE, _CHALLENGER, posted), _SHARE_BPS, "share snapshot");
        assertEq(stake.stakeOf(_ALICE).openDisputes, 1, "locked");
        assertEq(stake.totalBonds(), posted, "totalBonds after post");
        assertEq(token.balanceOf(_CHALLENGER), 0, "payer keeps the bond");

        stake.releaseBond(_ALICE, released);
        assertEq(stake.totalBonds(), posted - released, "totalBonds after release");
        assertEq(stake.creditOf(_ALICE), released, "released credit");
        _checkConservation();

        excess = bound(excess, posted - released + 1, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IStakeManager.StakeManagerInsufficientBonds.selector, excess, posted - released)
        );
        stake.releaseBond(_CHALLENGER, excess);
    }

    // ------------------------------------------------------------------ the ledger's cache

    /// @notice Through a fuzzed sequence of deposits, unbonds, slashes, waits and withdrawals, the
    /// ledger's cached stake equals stakeOf(p).active after every step, for both providers.
    /// hardhat-config: fuzz.runs = 512
    function testFuzz_ledgerCache_tracksActiveStake(uint8[16] calldata ops, uint64[16] calldata amounts) public {
        for (uint256 i; i < 16; ++i) {
            address provider = ops[i] & 0x80 == 0 ? _ALICE : _BOB;
            IStakeManager.Stake memory s = stake.stakeOf(provider);
            uint256 op = ops[i] % 5;
            uint256 amount = uint256(amounts[i]) + 1;
            if (op == 0) {
                _deposit(provider, amount);
            } else if (op == 1 && s.active != 0) {
                vm.prank(provider);
                stake.requestUnbond(bound(amount, 1, s.active));
            } else if (op == 2) {
                stake.slash(provider, amount, _SHARE_BPS);
            } else if (op == 3) {
                vm.warp(vm.getBlockTimestamp() + bound(amount, 1 hours, _DELAY));
            } else if (op == 4 && s.unbonding != 0 && vm.getBlockTimestamp() >= s.unbondingReadyAt) {
                vm.prank(provider);
                stake.withdraw();
            }
            assertEq(ledger.providerStakeOf(_ALICE), stake.stakeOf(_ALICE).active, "cache: alice");
            assertEq(ledger.providerStakeOf(_BOB), stake.stakeOf(_BOB).active, "cache: bob");
            _checkConservation();
        }
    }

    // ------------------------------------------------------------------ construction

    function testFuzz_constructor_unbondingDelayMustExceedMinimum(uint256 delay) public {
        delay = bound(delay, 0, PolicyBounds.MIN_UNBONDING_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakeManager.StakeManagerUnbondingDelayTooShort.selector,
                delay,
                uint256(PolicyBounds.MIN_UNBONDING_DELAY)
            )
        );
        new StakeManager(token, ledger, address(this), _TREASURY, _SHARE_BPS, delay);
        assertEq(PolicyBounds.MIN_UNBONDING_DELAY, 109 days, "2 * 30 d + 7 d + 6 * 7 d");
        StakeManager ok = new StakeManager(
            token,
            ledger,
            address(this),
            _TREASURY,
            _SHARE_BPS,
            PolicyBounds.MIN_UNBONDING_DELAY + 1
        );
        assertEq(ok.unbondingDelay(), PolicyBounds.MIN_UNBONDING_DELAY + 1, "shortest delay");
    }

    // ------------------------------------------------------------------ helpers

    /// @dev A dispute contract opens a dispute on `provider` with a `bond` minted to the challenger.
    function _openDispute(address provider, uint256 bond) private {
        fund(_CHALLENGER, bond);
        assertEq(stake.openDisputeStake(provider, _CHALLENGER, bond), _SHARE_BPS, "share snapshot");
    }

    function _validShare(uint16 bps) private pure returns (uint16) {
        return uint16(bound(bps, PolicyBounds.MIN_CHALLENGER_SHARE_BPS, PolicyBounds.MAX_CHALLENGER_SHARE_BPS));
    }

    function _invalidShare(uint16 bps) private pure returns (uint16) {
        if (bps % 2 == 0) return uint16(bound(bps, 0, PolicyBounds.MIN_CHALLENGER_SHARE_BPS - 1));
        return uint16(bound(bps, PolicyBounds.MAX_CHALLENGER_SHARE_BPS + 1, type(uint16).max));
    }

    function _deposit(address provider, uint256 amount) private {
        token.mint(provider, amount);
        vm.startPrank(provider);
        token.approve(address(stake), amount);
        stake.deposit(amount);
        vm.stopPrank();
    }

    function _checkStake(
        address provider,
        uint256 active,
        uint256 unbonding,
        uint256 readyAt,
        uint256 openDisputes
    ) private view {
        IStakeManager.Stake memory s = stake.stakeOf(provider);
        assertEq(s.active, active, "active");
        assertEq(s.unbonding, unbonding, "unbonding");
        assertEq(s.unbondingReadyAt, readyAt, "unbondingReadyAt");
        assertEq(s.openDisputes, openDisputes, "openDisputes");
        assertEq(ledger.providerStakeOf(provider), active, "ledger cache");
    }

    function _checkConservation() private view {
        uint256 owed = stake.totalActive() + stake.totalUnbonding() + stake.totalBonds() + stake.totalCredits();
        assertEq(token.balanceOf(address(stake)), owed, "balance vs sum of totals");
        assertEq(stake.totalOwed(), owed, "totalOwed");
    }
}

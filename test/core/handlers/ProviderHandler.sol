// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../../utils/Test.sol";
import {IStakeManager} from "../../../contracts/interfaces/IStakeManager.sol";
import {StakeManager} from "../../../contracts/staking/StakeManager.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {StakeGhosts} from "./StakeGhosts.sol";

/// @notice Plays the providers (deposit, unbond, withdraw), every account that claims credit, and the
/// clock. Inputs are bounded to valid ranges and actors are chosen so that calls mostly succeed; each
/// call is checked against the ghost model and any discrepancy is recorded in `ghosts` (a handler
/// never reverts on its own: with failOnRevert off, a revert would be silently dropped).
contract ProviderHandler is Test {
    /// @notice Largest single deposit: 32 calls of it stay far below type(uint96).max.
    uint256 public constant MAX_DEPOSIT = 1e27;

    StakeManager public immutable stake;
    MockERC20 public immutable token;
    StakeGhosts public immutable ghosts;

    uint256 public depositCalls;
    uint256 public unbondCalls;
    uint256 public withdrawCalls;
    /// @notice Withdrawals the model says must fail, which failed with the expected error.
    uint256 public withdrawRefusals;
    uint256 public claimCalls;
    uint256 public warpCalls;
    /// @notice Calls that found nothing to do (no stake to unbond, no credit to claim).
    uint256 public skippedCalls;

    constructor(StakeManager stake_, MockERC20 token_, StakeGhosts ghosts_) {
        stake = stake_;
        token = token_;
        ghosts = ghosts_;
    }

    /// @notice A provider deposits a bounded amount it has just been minted.
    function deposit(uint256 providerSeed, uint256 amount) external {
        address provider = ghosts.providerAt(providerSeed);
        StakeGhosts.ProviderModel memory m = ghosts.modelOf(provider);
        // Keep active + unbonding inside 96 bits, so that any later unbond fits too.
        uint256 room = type(uint96).max - m.active - m.unbonding;
        if (room == 0) {
            ++skippedCalls;
            return;
        }
        amount = bound(amount, 1, room < MAX_DEPOSIT ? room : MAX_DEPOSIT);
        token.mint(provider, amount);
        uint256 balance = token.balanceOf(address(stake));
        vm.prank(provider);
        try stake.deposit(amount) {
            if (token.balanceOf(address(stake)) != balance + amount) ghosts.recordWrongPayout();
            ghosts.onDeposit(provider, amount);
            ++depositCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }

    /// @notice A provider with active stake unbonds part or all of it.
    function requestUnbond(uint256 providerSeed, uint256 amount) external {
        (address provider, bool found) = _providerWith(providerSeed, _hasActive);
        if (!found) {
            ++skippedCalls;
            return;
        }
        uint256 active = ghosts.modelOf(provider).active;
        // One time in four, unbond everything.
        amount = amount % 4 == 0 ? active : bound(amount >> 2, 1, active);
        vm.prank(provider);
        try stake.requestUnbond(amount) {
            ghosts.onUnbond(provider, amount, block.timestamp + stake.unbondingDelay());
            ++unbondCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }

    /// @notice Usually a provider whose unbonding stake is free withdraws it, after waiting for its
    /// readyAt if only time is missing; one time in four, the seeded provider tries at once whatever its
    /// state, so early, locked and empty withdrawals are attempted too. A success the model forbids, a
    /// wrong payout, or a refusal with the wrong error is recorded.
    function withdraw(uint256 providerSeed) external {
        address provider = ghosts.providerAt(providerSeed);
        if (providerSeed % 4 != 0) {
            (address ready, bool found) = _providerWith(providerSeed, _canWithdraw);
            if (!found) {
                (ready, found) = _providerWith(providerSeed, _unlockedUnbonding);
                if (found) vm.warp(ghosts.modelOf(ready).readyAt);
            }
            if (found) provider = ready;
        }
        StakeGhosts.ProviderModel memory m = ghosts.modelOf(provider);
        bytes memory refusal = _withdrawRefusal(provider, m);
        uint256 balance = token.balanceOf(provider);

        vm.prank(provider);
        try stake.withdraw() returns (uint256 amount) {
            if (refusal.length != 0) ghosts.recordEarlyWithdrawal();
            if (amount != m.unbonding || token.balanceOf(provider) != balance + amount) ghosts.recordWrongPayout();
            ghosts.onWithdraw(provider, amount);
            ++withdrawCalls;
        } catch (bytes memory reason) {
            if (keccak256(reason) != keccak256(refusal)) ghosts.recordUnexpectedRevert(reason);
            ++withdrawRefusals;
        }
    }

    /// @notice An account with credit (a provider, a challenger or the treasury) claims it.
    function claim(uint256 actorSeed) external {
        uint256 n = ghosts.actorCount();
        for (uint256 i; i < n; ++i) {
            address account = ghosts.actorAt((actorSeed % n) + i);
            uint256 owed = ghosts.credited(account) - ghosts.claimed(account);
            if (owed == 0) continue;
            uint256 balance = token.balanceOf(account);
            vm.prank(account);
            try stake.claim() returns (uint256 amount) {
                if (amount != owed || token.balanceOf(account) != balance + amount) ghosts.recordWrongPayout();
                ghosts.onClaim(account, amount);
                ++claimCalls;
            } catch (bytes memory reason) {
                ghosts.recordUnexpectedRevert(reason);
            }
            return;
        }
        ++skippedCalls;
    }

    /// @notice Time passes: one time in four exactly up to the next unbonding readyAt, one time in four to
    /// one second before it (so withdrawals are tried on both sides of the boundary), otherwise between a
    /// minute and 15 days.
    function warp(uint256 seed) external {
        uint256 next = type(uint256).max;
        if (seed % 4 < 2) {
            uint256 n = ghosts.providerCount();
            for (uint256 i; i < n; ++i) {
                uint256 readyAt = ghosts.modelOf(ghosts.providerAt(i)).readyAt;
                if (readyAt > block.timestamp && readyAt < next) next = readyAt;
            }
            if (next != type(uint256).max && seed % 4 == 1 && next - 1 > block.timestamp) next -= 1;
        }
        if (next == type(uint256).max) next = block.timestamp + bound(seed >> 2, 1 minutes, 15 days);
        vm.warp(next);
        ++warpCalls;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The exact error a withdrawal must fail with under the model, in the contract's check order
    /// (empty when it must succeed).
    function _withdrawRefusal(
        address provider,
        StakeGhosts.ProviderModel memory m
    ) private view returns (bytes memory) {
        if (m.unbonding == 0) {
            return abi.encodeWithSelector(IStakeManager.StakeManagerNothingUnbonding.selector, provider);
        }
        if (vm.getBlockTimestamp() < m.readyAt) {
            return abi.encodeWithSelector(IStakeManager.StakeManagerStillUnbonding.selector, provider, m.readyAt);
        }
        if (m.locks != 0) {
            return abi.encodeWithSelector(IStakeManager.StakeManagerOpenDisputes.selector, provider, m.locks);
        }
        return "";
    }

    function _hasActive(StakeGhosts.ProviderModel memory m) private pure returns (bool) {
        return m.active != 0;
    }

    function _canWithdraw(StakeGhosts.ProviderModel memory m) private view returns (bool) {
        return m.unbonding != 0 && block.timestamp >= m.readyAt && m.locks == 0;
    }

    /// @dev Unbonding, unlocked, and still waiting for readyAt (the model's readyAt is in the future).
    function _unlockedUnbonding(StakeGhosts.ProviderModel memory m) private view returns (bool) {
        return m.unbonding != 0 && m.locks == 0 && block.timestamp < m.readyAt;
    }

    /// @dev The first provider from `seed` on whose model satisfies `wanted`.
    function _providerWith(
        uint256 seed,
        function(StakeGhosts.ProviderModel memory) view returns (bool) wanted
    ) private view returns (address provider, bool found) {
        uint256 n = ghosts.providerCount();
        for (uint256 i; i < n; ++i) {
            provider = ghosts.providerAt((seed % n) + i);
            if (wanted(ghosts.modelOf(provider))) return (provider, true);
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../../utils/Test.sol";
import {IStakeManager} from "../../../contracts/interfaces/IStakeManager.sol";
import {StakeManager} from "../../../contracts/staking/StakeManager.sol";
import {PolicyBounds} from "../../../contracts/libraries/PolicyBounds.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {StakeGhosts} from "./StakeGhosts.sol";

/// @notice Plays a dispute contract: it holds DISPUTE_ROLE and opens dispute stakes (a lock and a bond),
/// unlocks, slashes (the challengers' share stays held) and releases what is held; it also holds
/// DEFAULT_ADMIN_ROLE and sets the challenger share. It never slashes the first provider (the honest one).
/// Inputs are bounded to valid ranges, except for a fraction of shares drawn outside the protocol's bounds,
/// which must be refused with the exact error and change nothing; every call is checked against the ghost
/// model and discrepancies are recorded in `ghosts`.
contract DisputeHandler is Test {
    uint256 private constant _BPS = 10_000;
    /// @notice Most dispute locks held on one provider at a time, so that withdrawals stay reachable.
    uint256 public constant MAX_LOCKS = 2;
    /// @notice Largest bond a challenger posts.
    uint256 public constant MAX_BOND = 1e24;

    StakeManager public immutable stake;
    MockERC20 public immutable token;
    StakeGhosts public immutable ghosts;

    uint256 public openCalls;
    uint256 public unlockCalls;
    /// @notice Slashes that took a non-zero amount.
    uint256 public slashCalls;
    /// @notice Slashes of a provider with nothing left (they must return (0, 0) and move nothing).
    uint256 public emptySlashCalls;
    uint256 public releaseBondCalls;
    uint256 public shareCalls;
    /// @notice Slashes and share updates with a share outside the bounds, refused as expected.
    uint256 public shareRefusals;
    /// @notice Calls that found nothing to do (nothing locked, nothing held).
    uint256 public skippedCalls;

    constructor(StakeManager stake_, MockERC20 token_, StakeGhosts ghosts_) {
        stake = stake_;
        token = token_;
        ghosts = ghosts_;
    }

    /// @notice A dispute opens against a provider (the honest one included: disputes may be frivolous): its
    /// stake is locked and a challenger's bond, just minted, is taken; the share returned is the current one.
    /// At MAX_LOCKS one of its disputes resolves instead, so that locks do not pile up.
    function openDispute(uint256 providerSeed, uint256 challengerSeed, uint256 bond) external {
        address provider = ghosts.providerAt(providerSeed);
        if (ghosts.modelOf(provider).locks >= MAX_LOCKS) {
            _unlock(provider);
            return;
        }
        address challenger = ghosts.challengerAt(challengerSeed);
        bond = bound(bond, 1, MAX_BOND);
        token.mint(challenger, bond);
        uint256 balance = token.balanceOf(address(stake));
        try stake.openDisputeStake(provider, challenger, bond) returns (uint16 share) {
            if (share != ghosts.shareBps() || token.balanceOf(address(stake)) != balance + bond) {
                ghosts.recordWrongPayout();
            }
            ghosts.onLock(provider);
            ghosts.onBondPosted(bond);
            ++openCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }

    /// @notice A dispute on a locked provider resolves.
    function unlockStake(uint256 providerSeed) external {
        uint256 n = ghosts.providerCount();
        for (uint256 i; i < n; ++i) {
            address provider = ghosts.providerAt((providerSeed % n) + i);
            if (ghosts.modelOf(provider).locks == 0) continue;
            _unlock(provider);
            return;
        }
        ++skippedCalls;
    }

    /// @notice Fraud is proven against a dishonest provider (never the first one): slash up to one and a
    /// half times what it holds, at a fuzzed share (one time in eight outside the bounds: refused). The
    /// taking order and the split are checked against the model before it is updated.
    function slash(uint256 providerSeed, uint256 amount, uint256 bps) external {
        // The first provider is honest: only the others are slashed, preferably one with stake left.
        uint256 n = ghosts.providerCount() - 1;
        address provider = ghosts.providerAt(1 + (providerSeed % n));
        for (uint256 i; i < n; ++i) {
            address candidate = ghosts.providerAt(1 + (((providerSeed % n) + i) % n));
            StakeGhosts.ProviderModel memory c = ghosts.modelOf(candidate);
            if (c.active + c.unbonding != 0) {
                provider = candidate;
                break;
            }
        }
        StakeGhosts.ProviderModel memory m = ghosts.modelOf(provider);
        uint256 total = m.active + m.unbonding;
        amount = bound(amount, 1, total + total / 2 + 1);
        bool invalid = bps % 8 == 0;
        uint16 share = invalid ? _invalidShare(bps >> 3) : _validShare(bps >> 3);

        uint256 fromActive = amount < m.active ? amount : m.active;
        uint256 fromUnbonding = amount - fromActive < m.unbonding ? amount - fromActive : m.unbonding;
        uint256 expectedHeld = ((fromActive + fromUnbonding) * share) / _BPS;
        uint256 treasuryCredit = stake.creditOf(ghosts.treasury());
        uint256 bonds = stake.totalBonds();

        try stake.slash(provider, amount, share) returns (uint256 slashed, uint256 held) {
            IStakeManager.Stake memory after_ = stake.stakeOf(provider);
            if (
                invalid ||
                slashed != fromActive + fromUnbonding ||
                held != expectedHeld ||
                after_.active != m.active - fromActive ||
                after_.unbonding != m.unbonding - fromUnbonding ||
                stake.totalBonds() != bonds + held ||
                stake.creditOf(ghosts.treasury()) != treasuryCredit + slashed - held
            ) ghosts.recordWrongSlash();
            ghosts.onSlash(provider, fromActive, fromUnbonding, held);
            if (slashed == 0) ++emptySlashCalls;
            else ++slashCalls;
        } catch (bytes memory reason) {
            if (!invalid || keccak256(reason) != keccak256(_shareError(share))) {
                ghosts.recordUnexpectedRevert(reason);
            } else {
                ++shareRefusals;
            }
        }
    }

    /// @notice Part or all of what is held (bonds and slashed shares) is released as credit to any
    /// account (back to a challenger, a reward, or to a provider who won).
    function releaseBond(uint256 actorSeed, uint256 amount) external {
        uint256 held = ghosts.held();
        if (held == 0) {
            ++skippedCalls;
            return;
        }
        address to = ghosts.actorAt(actorSeed);
        amount = amount % 4 == 0 ? held : bound(amount >> 2, 1, held);
        try stake.releaseBond(to, amount) {
            ghosts.onBondReleased(to, amount);
            ++releaseBondCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }

    /// @notice Governance sets the challenger share (one time in four outside the bounds: refused).
    function setShare(uint256 bps) external {
        bool invalid = bps % 4 == 0;
        uint16 share = invalid ? _invalidShare(bps >> 2) : _validShare(bps >> 2);
        try stake.setChallengerShareBps(share) {
            if (invalid || stake.challengerShareBps() != share) ghosts.recordWrongPayout();
            ghosts.onShare(share);
            ++shareCalls;
        } catch (bytes memory reason) {
            if (!invalid || keccak256(reason) != keccak256(_shareError(share))) {
                ghosts.recordUnexpectedRevert(reason);
            } else {
                ++shareRefusals;
            }
        }
    }

    function _unlock(address provider) private {
        try stake.unlockStake(provider) {
            ghosts.onUnlock(provider);
            ++unlockCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }

    function _validShare(uint256 seed) private pure returns (uint16) {
        return uint16(bound(seed, PolicyBounds.MIN_CHALLENGER_SHARE_BPS, PolicyBounds.MAX_CHALLENGER_SHARE_BPS));
    }

    function _invalidShare(uint256 seed) private pure returns (uint16) {
        if (seed % 2 == 0) return uint16(bound(seed >> 1, 0, PolicyBounds.MIN_CHALLENGER_SHARE_BPS - 1));
        return uint16(bound(seed >> 1, PolicyBounds.MAX_CHALLENGER_SHARE_BPS + 1, type(uint16).max));
    }

    function _shareError(uint16 share) private pure returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IStakeManager.StakeManagerInvalidShare.selector,
                uint256(share),
                uint256(PolicyBounds.MIN_CHALLENGER_SHARE_BPS),
                uint256(PolicyBounds.MAX_CHALLENGER_SHARE_BPS)
            );
    }
}

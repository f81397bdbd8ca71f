// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../../utils/Test.sol";
import {IStakeManager} from "../../../contracts/interfaces/IStakeManager.sol";
import {StakeManager} from "../../../contracts/StakeManager.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {StakeGhosts} from "./StakeGhosts.sol";

/// @notice Plays the dispute contract: it holds DISPUTE_ROLE and locks, unlocks, slashes, and takes and
/// releases bonds. It never slashes the first provider (the honest one). Inputs are bounded to valid
/// ranges; every call is checked against the ghost model and discrepancies are recorded in `ghosts`.
contract DisputeHandler is Test {
    uint256 private constant _BPS = 10_000;
    /// @notice Most dispute locks held on one provider at a time, so that withdrawals stay reachable.
    uint256 public constant MAX_LOCKS = 2;
    /// @notice Largest bond a challenger posts.
    uint256 public constant MAX_BOND = 1e24;

    StakeManager public immutable stake;
    MockERC20 public immutable token;
    StakeGhosts public immutable ghosts;

    uint256 public lockCalls;
    uint256 public unlockCalls;
    /// @notice Slashes that took a non-zero amount.
    uint256 public slashCalls;
    /// @notice Slashes of a provider with nothing left (they must return 0 and move nothing).
    uint256 public emptySlashCalls;
    uint256 public postBondCalls;
    uint256 public releaseBondCalls;
    /// @notice Calls that found nothing to do (nothing locked, no bonds held).
    uint256 public skippedCalls;

    constructor(StakeManager stake_, MockERC20 token_, StakeGhosts ghosts_) {
        stake = stake_;
        token = token_;
        ghosts = ghosts_;
    }

    /// @notice A dispute opens against a provider (the honest one included: disputes may be frivolous).
    /// At MAX_LOCKS one of its disputes resolves instead, so that locks do not pile up.
    function lockStake(uint256 providerSeed) external {
        address provider = ghosts.providerAt(providerSeed);
        if (ghosts.modelOf(provider).locks >= MAX_LOCKS) {
            _unlock(provider);
            return;
        }
        try stake.lockStake(provider) {
            ghosts.onLock(provider);
            ++lockCalls;
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
    /// half times what it holds, at a fuzzed challenger share. The taking order and the split are checked
    /// against the model before it is updated.
    function slash(uint256 providerSeed, uint256 amount, uint256 challengerSeed, uint256 bps) external {
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
        address challenger = ghosts.challengerAt(challengerSeed);
        StakeGhosts.ProviderModel memory m = ghosts.modelOf(provider);
        uint256 held = m.active + m.unbonding;
        amount = bound(amount, 1, held + held / 2 + 1);
        bps = bound(bps, 0, _BPS);

        uint256 fromActive = amount < m.active ? amount : m.active;
        uint256 fromUnbonding = amount - fromActive < m.unbonding ? amount - fromActive : m.unbonding;
        uint256 toChallenger = ((fromActive + fromUnbonding) * bps) / _BPS;
        uint256 challengerCredit = stake.creditOf(challenger);
        uint256 treasuryCredit = stake.creditOf(ghosts.treasury());

        try stake.slash(provider, amount, challenger, uint16(bps)) returns (uint256 slashed) {
            IStakeManager.Stake memory after_ = stake.stakeOf(provider);
            if (
                slashed != fromActive + fromUnbonding ||
                after_.active != m.active - fromActive ||
                after_.unbonding != m.unbonding - fromUnbonding ||
                stake.creditOf(challenger) != challengerCredit + toChallenger ||
                stake.creditOf(ghosts.treasury()) != treasuryCredit + slashed - toChallenger
            ) ghosts.recordWrongSlash();
            ghosts.onSlash(provider, fromActive, fromUnbonding, challenger, toChallenger);
            if (slashed == 0) ++emptySlashCalls;
            else ++slashCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }

    /// @notice A challenger posts a bond it has just been minted (it approved the stake manager).
    function postBond(uint256 challengerSeed, uint256 amount) external {
        address payer = ghosts.challengerAt(challengerSeed);
        amount = bound(amount, 1, MAX_BOND);
        token.mint(payer, amount);
        try stake.postBond(payer, amount) {
            ghosts.onBondPosted(amount);
            ++postBondCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }

    /// @notice Part or all of the held bonds are released as credit to any account (back to a
    /// challenger, or to a provider who won).
    function releaseBond(uint256 actorSeed, uint256 amount) external {
        uint256 held = ghosts.bondsPosted() - ghosts.bondsReleased();
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

    function _unlock(address provider) private {
        try stake.unlockStake(provider) {
            ghosts.onUnlock(provider);
            ++unlockCalls;
        } catch (bytes memory reason) {
            ghosts.recordUnexpectedRevert(reason);
        }
    }
}

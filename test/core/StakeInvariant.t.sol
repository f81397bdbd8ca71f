// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VerityBase} from "../utils/VerityBase.sol";
import {IStakeManager} from "../../contracts/interfaces/IStakeManager.sol";
import {StakeManager} from "../../contracts/staking/StakeManager.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {DisputeHandler} from "./handlers/DisputeHandler.sol";
import {ProviderHandler} from "./handlers/ProviderHandler.sol";
import {StakeGhosts} from "./handlers/StakeGhosts.sol";

/// @notice The provider handler as deployed by the invariant test.
/// @dev Declared here, not used directly from handlers/: Hardhat writes artifacts only for the contracts of
/// the test files it is asked to run, and the invariant runner needs each target's artifact, so running
/// this file alone would otherwise fail with "address does not have an associated contract".
contract ProviderHandlerTarget is ProviderHandler {
    constructor(StakeManager stake_, MockERC20 token_, StakeGhosts ghosts_) ProviderHandler(stake_, token_, ghosts_) {}
}

/// @notice The dispute handler as deployed by the invariant test (see `ProviderHandlerTarget`).
contract DisputeHandlerTarget is DisputeHandler {
    constructor(StakeManager stake_, MockERC20 token_, StakeGhosts ghosts_) DisputeHandler(stake_, token_, ghosts_) {}
}

/// @notice Invariants of the stake manager under random sequences of deposits, unbonds, withdrawals,
/// claims, time, dispute stakes (locks and bonds), slashes (the challengers' share held), releases and
/// share changes by three providers (the first one honest: never slashed), two challengers and a treasury.
/// `ProviderHandler` plays the accounts and the clock, `DisputeHandler` plays a dispute contract
/// (DISPUTE_ROLE) and governance (DEFAULT_ADMIN_ROLE); `StakeGhosts` holds their model.
contract StakeInvariantTest is VerityBase {
    StakeGhosts private ghosts;
    ProviderHandler private providerHandler;
    DisputeHandler private disputeHandler;

    address[] private _providers;
    address[] private _challengers;
    address private constant _TREASURY = TREASURY;

    function setUp() public {
        deployVerity();

        _providers = [address(0x1001), address(0x1002), address(0x1003)];
        _challengers = [address(0xC001), address(0xC002)];
        ghosts = new StakeGhosts(_providers, _challengers, _TREASURY, stake.challengerShareBps());
        providerHandler = new ProviderHandlerTarget(stake, token, ghosts);
        disputeHandler = new DisputeHandlerTarget(stake, token, ghosts);
        ghosts.setHandlers(address(providerHandler), address(disputeHandler));
        stake.grantRole(stake.DISPUTE_ROLE(), address(disputeHandler));
        stake.grantRole(stake.DEFAULT_ADMIN_ROLE(), address(disputeHandler));

        address[] memory actors = ghosts.actors();
        for (uint256 i; i < actors.length; ++i) {
            vm.prank(actors[i]);
            token.approve(address(stake), type(uint256).max);
        }
        vm.warp(1_700_000_000);

        bytes4[] memory providerSelectors = new bytes4[](5);
        providerSelectors[0] = ProviderHandler.deposit.selector;
        providerSelectors[1] = ProviderHandler.requestUnbond.selector;
        providerSelectors[2] = ProviderHandler.withdraw.selector;
        providerSelectors[3] = ProviderHandler.claim.selector;
        providerSelectors[4] = ProviderHandler.warp.selector;
        bytes4[] memory disputeSelectors = new bytes4[](5);
        disputeSelectors[0] = DisputeHandler.openDispute.selector;
        disputeSelectors[1] = DisputeHandler.unlockStake.selector;
        disputeSelectors[2] = DisputeHandler.slash.selector;
        disputeSelectors[3] = DisputeHandler.releaseBond.selector;
        disputeSelectors[4] = DisputeHandler.setShare.selector;
        targetContract(address(providerHandler));
        targetContract(address(disputeHandler));
        targetSelector(FuzzSelector({addr: address(providerHandler), selectors: providerSelectors}));
        targetSelector(FuzzSelector({addr: address(disputeHandler), selectors: disputeSelectors}));
    }

    // ------------------------------------------------------------------ invariants

    /// @notice Every token the vault holds is owed to someone, and it owes no more than it holds.
    /// hardhat-config: invariant.runs = 128
    /// hardhat-config: invariant.depth = 64
    function invariant_fundsConserved() public view {
        _checkFundsConserved();
    }

    /// @notice The running totals equal the sums over all actors, and the bonds the model says are held.
    /// hardhat-config: invariant.runs = 128
    /// hardhat-config: invariant.depth = 64
    function invariant_totalsMatchSums() public view {
        _checkTotalsMatchSums();
    }

    /// @notice The ledger's admission cache holds every provider's active stake.
    /// hardhat-config: invariant.runs = 128
    /// hardhat-config: invariant.depth = 64
    function invariant_cacheMirrorsStake() public view {
        _checkCacheMirrorsStake();
    }

    /// @notice No withdrawal ever succeeded before readyAt, with a dispute open, or with nothing to
    /// withdraw; none paid other than the unbonding stake.
    /// hardhat-config: invariant.runs = 128
    /// hardhat-config: invariant.depth = 64
    function invariant_noStakeLeavesEarly() public view {
        _checkNoStakeLeavesEarly();
    }

    /// @notice The provider the dispute handler never slashes keeps all it deposited.
    /// hardhat-config: invariant.runs = 128
    /// hardhat-config: invariant.depth = 64
    function invariant_honestProviderNeverLoses() public view {
        _checkHonestProviderNeverLoses();
    }

    /// @notice Every stake record and credit equals the handlers' independent model; every slash took
    /// and split exactly; every call that must succeed did, and every refusal had the right error.
    /// hardhat-config: invariant.runs = 128
    /// hardhat-config: invariant.depth = 64
    function invariant_stateMatchesModel() public view {
        _checkStateMatchesModel();
    }

    /// @notice Fails a run in which the handlers mostly did nothing; the message carries its call counts.
    function afterInvariant() public view {
        // Observed over 1,500 runs: 30% or more of a run's calls succeed; an eighth leaves room for bad luck.
        assertGe(_successfulCalls() * 8, _allCalls(), string.concat("handlers mostly idle: ", callSummary()));
    }

    /// @notice The calls of the current run, per handler function and outcome.
    function callSummary() public view returns (string memory) {
        return
            string.concat(
                string.concat(
                    "calls: deposit ",
                    _dec(providerHandler.depositCalls()),
                    " unbond ",
                    _dec(providerHandler.unbondCalls()),
                    " withdraw ",
                    _dec(providerHandler.withdrawCalls()),
                    " withdrawRefused ",
                    _dec(providerHandler.withdrawRefusals()),
                    " claim ",
                    _dec(providerHandler.claimCalls()),
                    " warp ",
                    _dec(providerHandler.warpCalls())
                ),
                string.concat(
                    " open ",
                    _dec(disputeHandler.openCalls()),
                    " unlock ",
                    _dec(disputeHandler.unlockCalls()),
                    " slash ",
                    _dec(disputeHandler.slashCalls()),
                    " emptySlash ",
                    _dec(disputeHandler.emptySlashCalls()),
                    " releaseBond ",
                    _dec(disputeHandler.releaseBondCalls()),
                    " share ",
                    _dec(disputeHandler.shareCalls()),
                    " shareRefused ",
                    _dec(disputeHandler.shareRefusals()),
                    " skipped ",
                    _dec(providerHandler.skippedCalls() + disputeHandler.skippedCalls())
                )
            );
    }

    // ------------------------------------------------------------------ the handlers do real work

    /// @notice A scripted campaign through every handler function: each one's success path is reachable
    /// (so the invariant campaign is not vacuous), the refusal paths report the right errors, and every
    /// invariant holds at the end with exact expected balances.
    function test_handlers_scriptedCampaign_doesRealWork() public {
        address honest = _providers[0];
        providerHandler.deposit(0, 100e18);
        providerHandler.deposit(1, 200e18);
        providerHandler.deposit(2, 300e18);
        providerHandler.requestUnbond(0, 0); // seed 0 -> the honest provider; amount % 4 == 0 -> all of it
        disputeHandler.openDispute(0, 0, 10e18); // locks the honest provider; challenger 0 posts 10e18
        providerHandler.warp(1); // to one second before the honest provider's readyAt
        assertEq(vm.getBlockTimestamp() + 1, ghosts.modelOf(honest).readyAt, "warped to readyAt - 1");
        providerHandler.withdraw(0); // too early (and locked): StillUnbonding comes first
        providerHandler.warp(0); // exactly to the honest provider's readyAt
        assertEq(vm.getBlockTimestamp(), ghosts.modelOf(honest).readyAt, "warped to readyAt");
        providerHandler.withdraw(1); // nobody can withdraw: provider 1 has nothing unbonding
        providerHandler.withdraw(0); // the honest provider is locked
        assertEq(providerHandler.withdrawRefusals(), 3, "refusals");
        disputeHandler.unlockStake(0);
        providerHandler.withdraw(1); // finds the honest provider, now free
        // Provider 2, 100e18 (bounded to [1, 451e18]), share (40_001 >> 3) = 5000: 50e18 held.
        disputeHandler.slash(1, 100e18, 40_001);
        // Provider 1 asked more than its 200e18: takes all, share 2500: 50e18 held.
        disputeHandler.slash(0, 250e18, 20_001);
        // 8000 % 8 == 0: a share outside the bounds (500 bps), refused; nothing moves.
        disputeHandler.slash(0, 1, 8000);
        disputeHandler.setShare(12_001); // 3000 bps
        disputeHandler.openDispute(1, 1, 5e18); // provider 1 locked; challenger 1 posts 5e18; share 3000
        assertEq(stake.totalBonds(), 115e18, "held: two bonds and two shares");
        disputeHandler.releaseBond(3, (25e18 << 2) + 1); // 25e18 to challenger 0 (a reward)
        disputeHandler.releaseBond(0, 0); // amount % 4 == 0 -> all the rest, 90e18, to the honest provider
        disputeHandler.releaseBond(0, 0); // nothing held: skipped
        disputeHandler.unlockStake(1); // provider 1's dispute resolves
        providerHandler.claim(0); // the honest provider's credit
        providerHandler.claim(3); // challenger 0's reward
        providerHandler.claim(5); // the treasury
        providerHandler.claim(5); // nobody has credit left: skipped

        assertEq(providerHandler.depositCalls(), 3, "deposits");
        assertEq(providerHandler.unbondCalls(), 1, "unbonds");
        assertEq(providerHandler.withdrawCalls(), 1, "withdrawals");
        assertEq(providerHandler.claimCalls(), 3, "claims");
        assertEq(providerHandler.warpCalls(), 2, "warps");
        assertEq(providerHandler.skippedCalls(), 1, "provider skips");
        assertEq(disputeHandler.openCalls(), 2, "dispute stakes opened");
        assertEq(disputeHandler.unlockCalls(), 2, "unlocks");
        assertEq(disputeHandler.slashCalls(), 2, "slashes");
        assertEq(disputeHandler.shareRefusals(), 1, "share refused");
        assertEq(disputeHandler.shareCalls(), 1, "share set");
        assertEq(disputeHandler.releaseBondCalls(), 2, "releases");
        assertEq(disputeHandler.skippedCalls(), 1, "dispute skips");
        assertEq(_allCalls(), 25, "each of the 25 calls counted once");

        assertEq(stake.challengerShareBps(), 3000, "share");
        assertEq(token.balanceOf(honest), 190e18, "honest: stake back and 90e18 released to it");
        assertEq(token.balanceOf(_challengers[0]), 25e18, "challenger 0: its 10e18 bond went elsewhere, 25e18 in");
        assertEq(token.balanceOf(_challengers[1]), 0, "challenger 1: its bond went elsewhere");
        assertEq(token.balanceOf(_TREASURY), 200e18, "treasury: 50e18 + 150e18, the unheld parts");
        assertEq(token.balanceOf(address(stake)), 200e18, "vault: provider 2's remaining stake");
        _checkAll();
    }

    // ------------------------------------------------------------------ checks

    function _checkAll() private view {
        _checkFundsConserved();
        _checkTotalsMatchSums();
        _checkCacheMirrorsStake();
        _checkNoStakeLeavesEarly();
        _checkHonestProviderNeverLoses();
        _checkStateMatchesModel();
    }

    function _checkFundsConserved() private view {
        uint256 sum = stake.totalActive() + stake.totalUnbonding() + stake.totalBonds() + stake.totalCredits();
        assertEq(token.balanceOf(address(stake)), sum, "balance != active + unbonding + bonds + credits");
        assertEq(stake.totalOwed(), sum, "totalOwed != active + unbonding + bonds + credits");
    }

    function _checkTotalsMatchSums() private view {
        uint256 active;
        uint256 unbonding;
        for (uint256 i; i < _providers.length; ++i) {
            IStakeManager.Stake memory s = stake.stakeOf(_providers[i]);
            active += s.active;
            unbonding += s.unbonding;
        }
        uint256 credits;
        address[] memory actors = ghosts.actors();
        for (uint256 i; i < actors.length; ++i) credits += stake.creditOf(actors[i]);
        assertEq(stake.totalActive(), active, "totalActive != sum of active stakes");
        assertEq(stake.totalUnbonding(), unbonding, "totalUnbonding != sum of unbonding stakes");
        assertEq(stake.totalCredits(), credits, "totalCredits != sum of credits");
        assertEq(stake.totalBonds(), ghosts.held(), "totalBonds != bonds posted + shares held - released");
    }

    function _checkCacheMirrorsStake() private view {
        for (uint256 i; i < _providers.length; ++i) {
            address provider = _providers[i];
            assertEq(ledger.providerStakeOf(provider), stake.stakeOf(provider).active, "cache != active stake");
        }
    }

    function _checkNoStakeLeavesEarly() private view {
        assertEq(ghosts.earlyWithdrawals(), 0, "a withdrawal succeeded early, locked or empty");
        assertEq(ghosts.wrongPayouts(), 0, "a withdrawal, claim or deposit moved a wrong amount");
    }

    function _checkHonestProviderNeverLoses() private view {
        address honest = _providers[0];
        StakeGhosts.ProviderModel memory m = ghosts.modelOf(honest);
        IStakeManager.Stake memory s = stake.stakeOf(honest);
        assertEq(m.slashed, 0, "the honest provider was slashed");
        assertEq(m.deposited - m.withdrawn, uint256(s.active) + s.unbonding, "honest: deposited - withdrawn");
        assertEq(token.balanceOf(honest), m.withdrawn + ghosts.claimed(honest), "honest: tokens received");
        assertEq(stake.creditOf(honest) + ghosts.claimed(honest), ghosts.credited(honest), "honest: bonds won");
    }

    function _checkStateMatchesModel() private view {
        for (uint256 i; i < _providers.length; ++i) {
            address provider = _providers[i];
            StakeGhosts.ProviderModel memory m = ghosts.modelOf(provider);
            IStakeManager.Stake memory s = stake.stakeOf(provider);
            assertEq(s.active, m.active, "active != model");
            assertEq(s.unbonding, m.unbonding, "unbonding != model");
            assertEq(s.unbondingReadyAt, m.readyAt, "readyAt != model");
            assertEq(s.openDisputes, m.locks, "openDisputes != model");
            assertEq(m.deposited - m.withdrawn - m.slashed, m.active + m.unbonding, "model: provider's stake");
        }
        address[] memory actors = ghosts.actors();
        for (uint256 i; i < actors.length; ++i) {
            address account = actors[i];
            assertEq(stake.creditOf(account), ghosts.credited(account) - ghosts.claimed(account), "credit != model");
        }
        assertEq(ghosts.wrongSlashes(), 0, "a slash took or split a wrong amount");
        assertEq(
            ghosts.unexpectedReverts(),
            0,
            string.concat("unexpected revert: ", _hex(ghosts.lastUnexpectedRevert()))
        );
    }

    function _successfulCalls() private view returns (uint256) {
        return
            providerHandler.depositCalls() +
            providerHandler.unbondCalls() +
            providerHandler.withdrawCalls() +
            providerHandler.claimCalls() +
            disputeHandler.openCalls() +
            disputeHandler.unlockCalls() +
            disputeHandler.slashCalls() +
            disputeHandler.releaseBondCalls() +
            disputeHandler.shareCalls();
    }

    /// @dev Every handler call increments exactly one counter, or records an unexpected revert.
    function _allCalls() private view returns (uint256) {
        return
            _successfulCalls() +
            providerHandler.withdrawRefusals() +
            providerHandler.warpCalls() +
            providerHandler.skippedCalls() +
            disputeHandler.emptySlashCalls() +
            disputeHandler.shareRefusals() +
            disputeHandler.skippedCalls() +
            ghosts.unexpectedReverts();
    }

    function _dec(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) ++len;
        bytes memory out = new bytes(len);
        for (; v != 0; v /= 10) out[--len] = bytes1(uint8(48 + (v % 10)));
        return string(out);
    }

    function _hex(bytes memory data) private pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i; i < data.length; ++i) {
            out[2 + 2 * i] = digits[uint8(data[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(data[i]) & 0x0f];
        }
        return string(out);
    }
}

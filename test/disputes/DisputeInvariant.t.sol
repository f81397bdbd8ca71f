// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line no-console
import {console} from "hardhat/console.sol";
import {VerityBase} from "../utils/VerityBase.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {InferenceLedger} from "../../contracts/ledger/InferenceLedger.sol";
import {DenseInt8} from "../../contracts/libraries/DenseInt8.sol";
import {StakeManager} from "../../contracts/staking/StakeManager.sol";
import {DisputeTinyModel} from "../../contracts/mocks/DisputeTinyModel.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {CommitmentStatus} from "../../contracts/types/Commitment.sol";
import {GameState, Outcome, Phase, RewardPool} from "../../contracts/types/Dispute.sol";
import {LayerSpec} from "../../contracts/types/LayerSpec.sol";
import {ModelPolicy, ModelSpec, ModelStatus} from "../../contracts/types/Model.sol";
import {DisputeActors} from "./handlers/DisputeActors.sol";
import {DisputeGameHandler} from "./handlers/DisputeGameHandler.sol";
import {DisputeGhosts} from "./handlers/DisputeGhosts.sol";
import {DisputeProviders} from "./handlers/DisputeProviders.sol";

/// @notice The providers' handler as deployed by the invariant test.
/// @dev Declared here, not used directly from handlers/: Hardhat writes artifacts only for the contracts of
/// the test files it runs, and the invariant runner needs each target's artifact (else "address does not
/// have an associated contract").
contract DisputeProvidersTarget is DisputeProviders {
    constructor(
        InferenceLedger ledger_,
        StakeManager stake_,
        MockERC20 token_,
        DisputeTinyModel model_,
        DisputeGhosts ghosts_,
        bytes32 modelId_,
        uint256 minStake_
    ) DisputeProviders(ledger_, stake_, token_, model_, ghosts_, modelId_, minStake_) {}
}

/// @notice The challengers', clock's and keeper's handler as deployed by the invariant test (see above).
contract DisputeGameTarget is DisputeGameHandler {
    constructor(
        DisputeGame game_,
        InferenceLedger ledger_,
        StakeManager stake_,
        MockERC20 token_,
        DisputeTinyModel model_,
        DisputeProviders providers_,
        DisputeGhosts ghosts_,
        ModelPolicy memory policy_
    ) DisputeGameHandler(game_, ledger_, stake_, token_, model_, providers_, ghosts_, policy_) {}
}

/// @notice Invariants of the dispute game on a two-layer model small enough to evaluate in Solidity, under
/// random sequences of commitments, disputes, moves, clock steps, timeouts, closes and claims by an honest
/// provider, a cheating provider and its sybil challenger, an honest watcher and a lying challenger (see
/// `DisputeGameHandler`): no fraudulent commitment is ever Final, no honest party ever loses a token,
/// funds are conserved, and every honest challenger open at an overturn is paid a reward.
contract DisputeInvariantTest is VerityBase {
    uint256 private constant _STAKE = 1000e18;
    uint256 private constant _FUNDS = 1e24;
    address private constant _HONEST_PROVIDER = DisputeActors.HONEST_PROVIDER;
    address private constant _CHEATER = DisputeActors.CHEATER;
    address private constant _SYBIL = DisputeActors.CHEATER_SYBIL;
    address private constant _WATCHER = DisputeActors.HONEST_CHALLENGER;
    address private constant _LIAR = DisputeActors.LIAR;

    DisputeProviders private providers;
    DisputeGameHandler private handler;
    DisputeGhosts private ghosts;
    ModelPolicy private policy;
    bytes32 private modelId;

    function setUp() public {
        deployVerity();
        policy = tinyPolicy();
        modelId = registerTiny(policy);

        address[5] memory actors = [_HONEST_PROVIDER, _CHEATER, _SYBIL, _WATCHER, _LIAR];
        for (uint256 i; i < actors.length; ++i) fund(actors[i], _FUNDS);
        vm.prank(_HONEST_PROVIDER);
        stake.deposit(_STAKE);
        vm.prank(_CHEATER);
        stake.deposit(_STAKE);

        ghosts = new DisputeGhosts(game, ledger, stake, token, policy.slashAmount, stake.challengerShareBps());
        providers = new DisputeProvidersTarget(ledger, stake, token, tiny, ghosts, modelId, policy.minStake);
        handler = new DisputeGameTarget(game, ledger, stake, token, tiny, providers, ghosts, policy);
        ghosts.setWriters(address(handler), address(providers));
        vm.warp(1_700_000_000);

        bytes4[] memory providerSelectors = new bytes4[](2);
        providerSelectors[0] = DisputeProviders.commitHonest.selector;
        providerSelectors[1] = DisputeProviders.commitCheating.selector;
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = DisputeGameHandler.watch.selector;
        selectors[1] = DisputeGameHandler.openSybil.selector;
        selectors[2] = DisputeGameHandler.openLying.selector;
        selectors[3] = DisputeGameHandler.move.selector;
        selectors[4] = DisputeGameHandler.move.selector; // moves twice as often as anything else
        selectors[5] = DisputeGameHandler.warp.selector;
        selectors[6] = DisputeGameHandler.timeout.selector;
        selectors[7] = DisputeGameHandler.closeOverturned.selector;
        selectors[8] = DisputeGameHandler.claimReward.selector;
        selectors[9] = DisputeGameHandler.claim.selector;
        targetContract(address(providers));
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(providers), selectors: providerSelectors}));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    // ------------------------------------------------------------------ invariants

    /// @notice No fraudulent commitment is ever Final: the honest watcher disputed each in its window (or
    /// another game had already overturned it), and no correct commitment is ever Overturned.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 64
    function invariant_noFraudulentCommitmentFinal() public view {
        _checkNoFraudFinal();
    }

    /// @notice No honest party's tokens (wallet + credit + stake or locked bonds) ever decrease; the honest
    /// provider never loses a game or its stake, the watcher never loses a game.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 64
    function invariant_honestPartiesNeverLose() public view {
        _checkHonestParties();
    }

    /// @notice The vault holds exactly what it owes; what it holds for the game is exactly the bonds of the
    /// open games plus the unpaid escrowed rewards; the treasury got exactly the unheld part of every slash,
    /// and the cheater with its sybil lost at least that part.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 64
    function invariant_fundsConserved() public view {
        _checkFundsConserved();
    }

    /// @notice Slashes only at a first overturn, by min(slash, stake); phases only forward; outcomes set once;
    /// locks match the open games; no game lapsed unresolved; no move met an unexpected answer.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 64
    function invariant_gamesAccountedFor() public view {
        _checkGames();
    }

    /// @notice Ends every game of the run, claims every reward, and checks the end state: everything
    /// resolved and paid, every fraudulent commitment overturned, every honest challenger open at an
    /// overturn rewarded; then logs the work.
    function afterInvariant() public {
        handler.drain();
        _checkAll();
        _checkAllResolved();
        _checkRewards();
        _log();
        assertGe(handler.successfulCalls(), 1, "a run made no successful call");
    }

    // ------------------------------------------------------------------ graphs

    /// @notice A graph whose layer l does not consume what layer l-1 produces is never registered: the
    /// registry reports the first such layer, whatever else the graph holds, and keeps no trace of it.
    function testFuzz_registerModel_unchainedGraph_reverts(uint256 seed, uint8 count, uint8 brokenAt) public {
        uint256 n = bound(count, 2, 6);
        LayerSpec[] memory layers = new LayerSpec[](n);
        for (uint256 i; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            layers[i] = LayerSpec({
                inDim: uint32(bound(s, 1, 16)),
                outDim: uint32(bound(s >> 32, 1, 16)),
                multiplier: uint32(bound(s >> 64, 1, DenseInt8.MAX_MULTIPLIER)),
                shift: uint8(bound(s >> 96, 0, DenseInt8.MAX_SHIFT)),
                relu: (s >> 128) % 2 == 0
            });
        }
        uint256 first = n;
        for (uint256 i = 1; i < n && first == n; ++i) if (layers[i].inDim != layers[i - 1].outDim) first = i;
        if (first == n) {
            // Chained by chance: break one link.
            first = bound(brokenAt, 1, n - 1);
            layers[first].inDim = layers[first - 1].outDim + 1;
        }
        ModelSpec memory spec = denseSpec(keccak256(abi.encode(seed)), layers);
        bytes32 id = registry.computeModelId(
            PUBLISHER,
            registry.computeContentHash(spec.weightsRoot, keccak256(abi.encode(layers)), DenseInt8.ENGINE_ID)
        );
        vm.prank(PUBLISHER);
        vm.expectRevert(
            abi.encodeWithSelector(
                DenseInt8.DenseInt8GraphNotChained.selector,
                first + 1,
                layers[first].inDim,
                layers[first - 1].outDim
            )
        );
        registry.registerModel(spec, policy);
        assertEq(uint8(registry.statusOf(id)), uint8(ModelStatus.None), "an unchained graph left a trace");
    }

    /// @notice The registered tiny model is chained and stored as the mock's graph; with its second layer
    /// taking two inputs (the first gives one) it is refused.
    function test_setUp_tinyModelChained_unchainedRefused() public {
        LayerSpec[] memory layers = registry.layersOf(modelId);
        assertEq(layers.length, 2, "two layers");
        assertEq(layers[1].inDim, layers[0].outDim, "chained");
        assertEq(registry.getModel(modelId).graphHash, tiny.graphHash(), "graph hash");
        layers[1].inDim = 2;
        ModelSpec memory spec = denseSpec(bytes32("other weights"), layers);
        vm.expectRevert(abi.encodeWithSelector(DenseInt8.DenseInt8GraphNotChained.selector, 2, uint32(2), uint32(1)));
        registry.registerModel(spec, policy);
    }

    // ------------------------------------------------------------------ the handlers do real work

    /// @notice A fraud proven at layer 2 by the watcher, and a lie beaten by the honest provider.
    function test_handlers_shortSequence_resolvesGames() public {
        _commitCheating(1, 1); // wrong at layer 2
        handler.watch(1); // odd seed: no input demand
        _commitHonest(2);
        handler.openLying(257); // (257 >> 8) is odd: no input demand; nonce 257 % 2 = 1
        assertEq(ghosts.gameCount(), 2, "two games");
        _playUntilResolved();
        _expectOutcome(0, Outcome.ChallengerWon);
        assertEq(stake.stakeOf(_CHEATER).active, _STAKE - 50e18, "cheater slashed once");
        assertEq(stake.creditOf(_WATCHER), 10e18 + 25e18, "watcher: bond + half the slash");
        assertEq(stake.creditOf(TREASURY), 25e18, "treasury: the other half");
        DisputeGhosts.Tracked memory liar = ghosts.gameAt(1);
        assertTrue(liar.lastOutcome != Outcome.ChallengerWon, "the liar never wins");
        assertEq(stake.stakeOf(_HONEST_PROVIDER).active, _STAKE, "honest stake intact");
        _checkAll();
    }

    /// @notice The sybil races the watcher on every kind of fraud: the reward is split between the games open
    /// at the overturn, the watcher's part is positive, and the cheater loses at least half of each slash.
    function test_handlers_sybilRace_sharesReward() public {
        for (uint256 kind; kind < providers.KINDS(); ++kind) _commitCheating(10 + kind, kind);
        // Picks of 0 mod 3 (Race) that are k mod 5: the sybil races on commitment k.
        uint256[5] memory picks = [uint256(0), 6, 12, 3, 9];
        for (uint256 k; k < 5; ++k) {
            handler.openSybil(picks[k]);
            handler.watch(k);
        }
        assertEq(ghosts.gameCount(), 10, "ten games");
        _playUntilResolved();
        for (uint256 g; g < 10; ++g) _expectOutcome(g, Outcome.ChallengerWon);
        assertEq(stake.stakeOf(_CHEATER).active, _STAKE - 5 * 50e18, "five slashes");
        _checkAll();
        _checkAllResolved();
        _checkRewards();
        // Two winners per target: the watcher's part is half of the 25e18 share each time.
        assertEq(token.balanceOf(_WATCHER) + stake.creditOf(_WATCHER), _FUNDS + 5 * 12.5e18, "watcher's rewards");
    }

    /// @notice A sybil that lets its own game lapse, a cheater that lets its sybil win by timeout, and a liar
    /// that lets an answered input demand lapse: none of them costs an honest party anything.
    function test_handlers_lapsesAndTimeouts() public {
        _commitCheating(20, 0);
        handler.openSybil(1); // Lapse
        handler.openSybil(2); // Silent (on the same commitment, a fresh nonce)
        handler.watch(2);
        _commitHonest(21);
        _playUntilResolved();
        _checkAll();
        _checkAllResolved();
        _checkRewards();
        assertEq(ghosts.overturns(), 1, "one overturn");
        assertGe(token.balanceOf(_WATCHER) + stake.creditOf(_WATCHER), _FUNDS + 1, "the watcher earned something");
    }

    /// @notice Every cheating kind loses to the watcher, with and without the input demanded, even with the
    /// cheater trying wrong-length reveals first.
    function test_handlers_everyKind_loses() public {
        for (uint256 kind; kind < providers.KINDS(); ++kind) _commitCheating(30 + kind, kind);
        for (uint256 k; k < providers.KINDS(); ++k) handler.watch(k);
        for (uint256 step; step < 12; ++step) handler.move(step, step * 7 + 1);
        _playUntilResolved();
        for (uint256 g; g < providers.KINDS(); ++g) _expectOutcome(g, Outcome.ChallengerWon);
        _checkAll();
        _checkAllResolved();
        _checkRewards();
    }

    // ------------------------------------------------------------------ checks

    function _checkAll() private view {
        _checkNoFraudFinal();
        _checkHonestParties();
        _checkFundsConserved();
        _checkGames();
    }

    function _checkNoFraudFinal() private view {
        uint256 n = providers.claimCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = providers.idOf(i);
            CommitmentStatus status = ledger.status(id);
            if (providers.isHonest(i)) {
                assertTrue(status != CommitmentStatus.Overturned, "a correct commitment was overturned");
                continue;
            }
            assertTrue(status != CommitmentStatus.Final, "a fraudulent commitment is Final");
            if (vm.getBlockTimestamp() > providers.windowEndOf(i)) {
                assertTrue(
                    ghosts.infoOf(id).watched || status == CommitmentStatus.Overturned,
                    "a fraudulent commitment's window passed with no honest game on it"
                );
            }
        }
    }

    function _checkHonestParties() private view {
        assertEq(ghosts.honestProviderLosses(), 0, "the honest provider lost a game, a commitment or tokens");
        assertEq(ghosts.honestChallengerLosses(), 0, "the watcher lost tokens or a game");
        assertEq(ghosts.wrongCommitmentsSurvived(), 0, "a fraudulent commitment survived the watcher's game");
        assertEq(stake.stakeOf(_HONEST_PROVIDER).active, _STAKE, "honest stake");
        assertGe(ghosts.honestProviderWealth(), _FUNDS, "honest provider's tokens");
        assertGe(ghosts.watcherWealth(), _FUNDS, "watcher's tokens");
    }

    function _checkFundsConserved() private view {
        uint256 sum = stake.totalActive() + stake.totalUnbonding() + stake.totalBonds() + stake.totalCredits();
        assertEq(token.balanceOf(address(stake)), sum, "balance != active + unbonding + bonds + credits");
        assertEq(stake.totalOwed(), sum, "totalOwed != sum");

        uint256 openBonds;
        uint256 games = ghosts.gameCount();
        for (uint256 g; g < games; ++g) {
            DisputeGhosts.Tracked memory t = ghosts.gameAt(g);
            if (game.gameOf(t.id).phase != Phase.Resolved) openBonds += t.bond;
        }
        uint256 unpaid;
        uint256 n = providers.claimCount();
        for (uint256 i; i < n; ++i) unpaid += _unpaid(game.rewardPoolOf(providers.idOf(i)));
        assertEq(stake.totalBonds(), openBonds + unpaid, "bonds held != open games' bonds + unpaid rewards");

        uint256 unheld = ghosts.totalSlashed() - ghosts.totalHeld();
        assertEq(token.balanceOf(TREASURY) + stake.creditOf(TREASURY), unheld, "treasury != unheld part of slashes");
        assertLe(ghosts.totalHeld() * 2, ghosts.totalSlashed(), "more than half of a slash held");
        assertLe(
            ghosts.coalitionWealth() + unheld,
            2 * _FUNDS + ghosts.toppedUp(),
            "the cheater and its sybil recovered more than the challengers' share"
        );
    }

    function _checkGames() private view {
        assertLe(ghosts.maxSlashesPerTarget(), 1, "a commitment was slashed twice");
        assertEq(ghosts.slashesWithoutResolution(), 0, "a stake fell without a game resolving");
        assertEq(ghosts.ambiguousSteps(), 0, "a step resolved two games");
        assertEq(ghosts.wrongSlashes(), 0, "a slash without a first overturn, or of a wrong amount");
        assertEq(ghosts.phaseRegressions(), 0, "a phase moved backward");
        assertEq(ghosts.outcomeChanges(), 0, "an outcome changed");
        assertEq(handler.unexpectedReverts(), 0, string(handler.lastUnexpectedRevert()));
        assertEq(providers.unexpectedReverts(), 0, string(providers.lastUnexpectedRevert()));

        uint256 open;
        uint256 honestLocks;
        uint256 n = ghosts.gameCount();
        for (uint256 g; g < n; ++g) {
            DisputeGhosts.Tracked memory t = ghosts.gameAt(g);
            GameState memory s = game.gameOf(t.id);
            if (s.phase == Phase.Resolved) continue;
            ++open;
            assertLe(vm.getBlockTimestamp(), uint256(s.deadline) + handler.MAX_WARP(), "a game lapsed unresolved");
            if (ledger.recordOf(t.target).provider == _HONEST_PROVIDER) ++honestLocks;
        }
        assertEq(open, ghosts.openGames(), "open games != ghost");
        assertEq(stake.stakeOf(_HONEST_PROVIDER).openDisputes, honestLocks, "honest locks");
        assertEq(stake.stakeOf(_CHEATER).openDisputes, open - honestLocks, "cheater locks != its open games");
    }

    function _checkAllResolved() private view {
        assertEq(ghosts.openGames(), 0, "a game is still open after every deadline passed");
        assertEq(stake.totalBonds(), 0, "bonds or rewards still held");
        assertEq(stake.stakeOf(_HONEST_PROVIDER).openDisputes, 0, "honest provider still locked");
        assertEq(stake.stakeOf(_CHEATER).openDisputes, 0, "cheater still locked");
        uint256 n = providers.claimCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = providers.idOf(i);
            assertEq(ledger.recordOf(id).openDisputes, 0, "a commitment still has open disputes");
            CommitmentStatus expected = providers.isHonest(i) ? CommitmentStatus.Final : CommitmentStatus.Overturned;
            assertEq(uint256(ledger.status(id)), uint256(expected), "end status (honest Final, fraud Overturned)");
        }
        assertEq(
            ghosts.challengerWins() + ghosts.providerWins() + ghosts.refunds(),
            ghosts.gameCount(),
            "resolutions != games"
        );
    }

    /// @dev After every game ended and every reward was claimed: each game was paid exactly its bond back
    /// (won or refunded) or nothing (lost), the rewards of each target add up to its escrowed share, and
    /// every honest challenger open at an overturn got a reward > 0 unless the slash was 0.
    function _checkRewards() private view {
        uint256 n = ghosts.gameCount();
        for (uint256 g; g < n; ++g) {
            DisputeGhosts.Tracked memory t = ghosts.gameAt(g);
            GameState memory s = game.gameOf(t.id);
            DisputeGhosts.Target memory info = ghosts.infoOf(t.target);
            if (s.outcome == Outcome.ProviderWon) {
                assertEq(t.paidOut, 0, "a lost game paid its challenger");
                continue;
            }
            assertGe(t.paidOut, t.bond, "a won or refunded game did not return its bond");
            uint256 reward = t.paidOut - t.bond;
            if (s.outcome == Outcome.Refunded) assertEq(reward, 0, "a refunded game was rewarded");
            if (s.outcome == Outcome.ChallengerWon) assertTrue(s.rewardPaid, "a winner was left unpaid");
            if (t.role == DisputeGhosts.Role.Watcher && t.openAtOverturn && info.slashed != 0) {
                assertGe(reward, 1, "an honest challenger open at the overturn got no reward");
            }
        }
        uint256 targets = ghosts.targetCount();
        for (uint256 i; i < targets; ++i) {
            (bytes32 id, DisputeGhosts.Target memory info) = ghosts.targetAt(i);
            uint256 rewards;
            for (uint256 g; g < n; ++g) {
                DisputeGhosts.Tracked memory t = ghosts.gameAt(g);
                if (t.target == id && t.paidOut > t.bond) rewards += t.paidOut - t.bond;
            }
            assertEq(rewards, info.held, "a target's rewards != its escrowed share");
        }
    }

    /// @dev What is still escrowed in a pool: its amount less the parts paid (all equal but the last).
    function _unpaid(RewardPool memory pool) private pure returns (uint256) {
        if (!pool.overturned || pool.paid == pool.winners) return 0;
        return pool.amount - pool.paid * (pool.amount / pool.winners);
    }

    function _expectOutcome(uint256 g, Outcome outcome) private view {
        GameState memory s = game.gameOf(ghosts.gameAt(g).id);
        assertEq(uint256(s.phase), uint256(Phase.Resolved), "game not resolved");
        assertEq(uint256(s.outcome), uint256(outcome), "outcome");
    }

    function _commitHonest(uint256 seed) private {
        assertTrue(providers.commitHonest(seed), "honest commit");
    }

    function _commitCheating(uint256 seed, uint256 kind) private {
        assertTrue(providers.commitCheating(seed, kind), "cheating commit");
    }

    /// @dev Plays every game to its end as the handlers' strategies say (the drain of a campaign).
    function _playUntilResolved() private {
        handler.drain();
        assertEq(ghosts.openGames(), 0, "games still open");
    }

    function _log() private view {
        // solhint-disable-next-line no-console
        console.log(_summary());
    }

    function _summary() private view returns (string memory) {
        return
            string.concat(
                string.concat(
                    "commits ",
                    _dec(providers.honestCommits() + providers.cheatingCommits()),
                    " opens w/s/l ",
                    _dec(handler.watcherOpens() + handler.lateOpens()),
                    "/",
                    _dec(handler.sybilOpens()),
                    "/",
                    _dec(handler.lyingOpens()),
                    " moves ",
                    _dec(handler.movesMade()),
                    " refused ",
                    _dec(handler.movesRefused()),
                    " badLength ",
                    _dec(handler.badLengthRefusals())
                ),
                string.concat(
                    " warps ",
                    _dec(handler.warps()),
                    " timeouts ",
                    _dec(handler.timeouts()),
                    " closes ",
                    _dec(handler.closes()),
                    " rewardClaims ",
                    _dec(handler.rewardClaims()),
                    " overturns ",
                    _dec(ghosts.overturns()),
                    " won/lost/refunded ",
                    _dec(ghosts.challengerWins()),
                    "/",
                    _dec(ghosts.providerWins()),
                    "/",
                    _dec(ghosts.refunds())
                )
            );
    }

    function _dec(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) ++len;
        bytes memory out = new bytes(len);
        for (; v != 0; v /= 10) out[--len] = bytes1(uint8(48 + (v % 10)));
        return string(out);
    }
}

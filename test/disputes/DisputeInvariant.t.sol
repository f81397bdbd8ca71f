// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line no-console
import {console} from "hardhat/console.sol";
import {Test} from "../utils/Test.sol";
import {DisputeGame} from "../../contracts/DisputeGame.sol";
import {InferenceLedger} from "../../contracts/InferenceLedger.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {StakeManager} from "../../contracts/StakeManager.sol";
import {DenseInt8} from "../../contracts/libraries/DenseInt8.sol";
import {PolicyBounds} from "../../contracts/libraries/PolicyBounds.sol";
import {DisputeTinyModel} from "../../contracts/mocks/DisputeTinyModel.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {GameState, Outcome, Phase} from "../../contracts/types/Dispute.sol";
import {ModelPolicy} from "../../contracts/types/Model.sol";
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
        uint256 minStake_
    ) DisputeProviders(ledger_, stake_, token_, model_, ghosts_, minStake_) {}
}

/// @notice The challengers', clock's and keeper's handler as deployed by the invariant test (see above).
contract DisputeGameTarget is DisputeGameHandler {
    constructor(
        DisputeGame game_,
        InferenceLedger ledger_,
        StakeManager stake_,
        DisputeTinyModel model_,
        DisputeProviders providers_,
        DisputeGhosts ghosts_,
        ModelPolicy memory policy_
    ) DisputeGameHandler(game_, ledger_, stake_, model_, providers_, ghosts_, policy_) {}
}

/// @notice Invariants of the dispute game on a two-layer model small enough to evaluate in Solidity,
/// under random sequences of commitments, disputes, moves, clock steps, timeouts, closes and claims by
/// an honest provider, a cheating provider, an honest challenger and a lying challenger
/// (see `DisputeGameHandler`).
contract DisputeInvariantTest is Test {
    uint16 private constant _SHARE_BPS = 5000;
    uint256 private constant _STAKE = 1000e18;
    uint256 private constant _FUNDS = 1e24;
    address private constant _TREASURY = DisputeActors.TREASURY;
    address private constant _HONEST_PROVIDER = DisputeActors.HONEST_PROVIDER;
    address private constant _CHEATER = DisputeActors.CHEATER;
    address private constant _HONEST_CHALLENGER = DisputeActors.HONEST_CHALLENGER;
    address private constant _LIAR = DisputeActors.LIAR;

    MockERC20 private token;
    InferenceLedger private ledger;
    StakeManager private stake;
    DisputeGame private game;
    DisputeTinyModel private model;
    DisputeProviders private providers;
    DisputeGameHandler private handler;
    DisputeGhosts private ghosts;
    ModelPolicy private policy;

    function setUp() public {
        token = new MockERC20("Verity Test Token", "VTT");
        ledger = new InferenceLedger(address(this));
        ModelRegistry registry = new ModelRegistry(address(this), ledger);
        stake = new StakeManager(
            token,
            ledger,
            address(this),
            _TREASURY,
            _SHARE_BPS,
            PolicyBounds.MIN_UNBONDING_DELAY + 1 days
        );
        ledger.bindSources(address(registry), address(stake));
        game = new DisputeGame(address(this), registry, ledger, stake);
        ledger.grantRole(ledger.DISPUTE_ROLE(), address(game));
        stake.grantRole(stake.DISPUTE_ROLE(), address(game));

        model = new DisputeTinyModel();
        policy = ModelPolicy({
            challengeWindow: 1 hours,
            responseWindow: 1 hours,
            minStake: 100e18,
            slashAmount: 50e18,
            challengerBond: 10e18
        });
        bytes32 modelId = registry.registerModel(
            model.weightsRoot(),
            model.graphHash(),
            DenseInt8.ENGINE_ID,
            "tiny",
            policy
        );
        assertEq(modelId, model.modelId(), "tiny model id");

        address[4] memory actors = [_HONEST_PROVIDER, _CHEATER, _HONEST_CHALLENGER, _LIAR];
        for (uint256 i; i < actors.length; ++i) {
            token.mint(actors[i], _FUNDS);
            vm.prank(actors[i]);
            token.approve(address(stake), type(uint256).max);
        }
        vm.prank(_HONEST_PROVIDER);
        stake.deposit(_STAKE);
        vm.prank(_CHEATER);
        stake.deposit(_STAKE);

        ghosts = new DisputeGhosts(game, ledger, stake, policy.slashAmount);
        providers = new DisputeProvidersTarget(ledger, stake, token, model, ghosts, policy.minStake);
        handler = new DisputeGameTarget(game, ledger, stake, model, providers, ghosts, policy);
        ghosts.setWriters(address(handler), address(providers));
        vm.warp(1_700_000_000);

        bytes4[] memory providerSelectors = new bytes4[](2);
        providerSelectors[0] = DisputeProviders.commitHonest.selector;
        providerSelectors[1] = DisputeProviders.commitCheating.selector;
        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = DisputeGameHandler.openHonest.selector;
        selectors[1] = DisputeGameHandler.openLying.selector;
        selectors[2] = DisputeGameHandler.move.selector;
        selectors[3] = DisputeGameHandler.warp.selector;
        selectors[4] = DisputeGameHandler.timeout.selector;
        selectors[5] = DisputeGameHandler.closeOverturned.selector;
        selectors[6] = DisputeGameHandler.claim.selector;
        targetContract(address(providers));
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(providers), selectors: providerSelectors}));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    // ------------------------------------------------------------------ invariants

    /// @notice Every token the vault holds is owed, and the bonds held are exactly those of open games.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 50
    function invariant_fundsConserved() public view {
        _checkFundsConserved();
    }

    /// @notice A commitment is slashed at most once, only when first overturned, by min(slash, stake).
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 50
    function invariant_noDoubleSlash() public view {
        _checkNoDoubleSlash();
    }

    /// @notice No open game lapsed longer than one clock step ago; locks match the open games.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 50
    function invariant_gamesEndByTheirDeadlines() public view {
        _checkDeadlinesAndLocks();
    }

    /// @notice The honest provider never loses a game, a token of stake or a bond it won.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 50
    function invariant_honestProviderNeverLoses() public view {
        _checkHonestProvider();
    }

    /// @notice The honest challenger never loses a game or its bond, and no wrong commitment it disputes survives.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 50
    function invariant_honestChallengerNeverLoses() public view {
        _checkHonestChallenger();
    }

    /// @notice Phases only move forward, outcomes are set once, and no move failed in an unexpected way.
    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 50
    function invariant_statesOnlyMoveForward() public view {
        _checkForwardOnly();
    }

    /// @notice Ends every game of the run and checks that all of them reached an end state, then logs the work.
    function afterInvariant() public {
        handler.drain();
        _checkAll();
        _checkAllResolved();
        _log();
        assertGe(handler.successfulCalls(), 1, "a run made no successful call");
    }

    // ------------------------------------------------------------------ the handlers do real work

    /// @notice A fraud proven at layer 2 by the honest challenger, and a lie beaten by the honest provider.
    function test_handlers_shortSequence_resolvesGames() public {
        providers.commitCheating(1, 1); // wrong at layer 2
        handler.openHonest(0);
        providers.commitHonest(2);
        handler.openLying(0);
        assertEq(ghosts.gameCount(), 2, "two games");
        handler.move(0, 1); // the cheater reveals its trace
        handler.move(1, 1); // the honest provider reveals its trace
        handler.move(0, 1); // the honest challenger selects layer 2
        handler.move(0, 1); // the cheater reveals layer 2
        handler.move(0, 1); // the honest challenger proves neuron 0: fraud
        handler.move(1, 1); // the liar selects layer 1
        handler.move(1, 1); // the honest provider reveals layer 1
        handler.move(1, 2); // the liar's proof is refused: the neuron matches
        handler.move(1, 3); // the liar's proof with another layer's row is refused
        handler.timeout(1); // too early: refused
        handler.warp(2 hours);
        handler.timeout(1); // the liar lapsed

        _expectOutcome(0, Outcome.ChallengerWon);
        _expectOutcome(1, Outcome.ProviderWon);
        assertEq(handler.movesMade(), 7, "moves made");
        assertEq(handler.movesRefused(), 3, "moves refused");
        assertEq(handler.timeouts(), 1, "timeouts");
        assertEq(ghosts.challengerWins() + ghosts.providerWins(), 2, "games resolved");
        assertEq(stake.creditOf(_HONEST_CHALLENGER), 10e18 + 25e18, "challenger: bond + half the slash");
        assertEq(stake.creditOf(_HONEST_PROVIDER), 10e18, "provider: the liar's bond");
        assertEq(stake.creditOf(_TREASURY), 25e18, "treasury: the other half");
        assertEq(stake.stakeOf(_CHEATER).active, _STAKE - 50e18, "cheater slashed once");
        assertEq(token.balanceOf(_LIAR), _FUNDS - 10e18, "the liar lost its bond");
        _checkAll();
    }

    /// @notice Each of the four ways to cheat loses to the honest challenger, who is paid for each; a second
    /// game on an overturned commitment is closed with a refund.
    function test_handlers_everyCheatingKind_loses() public {
        for (uint256 kind; kind < 4; ++kind) {
            providers.commitCheating(10 + kind, kind);
            handler.openHonest(kind);
        }
        vm.roll(block.number + 1); // the nonce is the block: a new block for a second game of the same challenger
        handler.openHonest(0); // a second game on the first commitment
        assertEq(handler.playCount(), 5, "five games");
        for (uint256 i; i < 5; ++i) handler.move(i, 1); // kinds 0, 1, 3 reveal their traces; kind 2 cannot
        assertEq(handler.movesRefused(), 1, "kind 2 could not reveal a trace");
        handler.warp(2 hours); // the honest challenger selects its layers; then the cheater goes silent
        handler.warp(1); // the keeper times out four games and closes the fifth
        for (uint256 i; i < 4; ++i) _expectOutcome(i, Outcome.ChallengerWon);
        _expectOutcome(4, Outcome.Refunded);
        assertEq(handler.timeouts(), 4, "four timeouts");
        assertEq(handler.closes(), 1, "one close");
        assertEq(ghosts.maxSlashesPerTarget(), 1, "one slash per commitment");
        assertEq(stake.stakeOf(_CHEATER).active, _STAKE - 4 * 50e18, "four slashes");
        assertEq(stake.creditOf(_HONEST_CHALLENGER), 5 * 10e18 + 4 * 25e18, "five bonds back and four shares");
        _checkAll();
        _checkAllResolved();
    }

    /// @notice A game whose target another game overturned is closed with a refund; a lapsed one times out.
    function test_handlers_closeAndTimeout_resolveGames() public {
        providers.commitCheating(20, 0); // wrong at layer 1
        handler.openHonest(0);
        handler.openHonest(0); // same challenger, target and block: refused as a duplicate
        assertEq(handler.movesRefused(), 1, "duplicate refused");
        vm.roll(block.number + 1);
        handler.openHonest(0);
        handler.closeOverturned(0); // nothing overturned yet: refused
        assertEq(handler.movesRefused(), 2, "close refused");
        handler.move(0, 1); // the cheater reveals its trace in game 0
        handler.move(0, 1); // the honest challenger selects layer 1
        handler.move(0, 1); // the cheater reveals layer 1
        handler.move(0, 1); // the honest challenger proves neuron 0: overturned
        handler.closeOverturned(1);
        _expectOutcome(0, Outcome.ChallengerWon);
        _expectOutcome(1, Outcome.Refunded);
        assertEq(handler.closes(), 1, "one close");

        providers.commitCheating(21, 2); // a wrong output under the honest trace root
        handler.openHonest(1);
        assertEq(ghosts.gameCount(), 3, "three games");
        handler.move(2, 1); // the cheater tries the honest trace: refused
        handler.timeout(2); // too early: refused
        assertEq(handler.movesRefused(), 4, "trace and timeout refused");
        handler.warp(2 hours);
        handler.warp(1); // the keeper times the lapsed game out
        _expectOutcome(2, Outcome.ChallengerWon);
        assertEq(handler.timeouts(), 1, "one timeout");
        assertEq(stake.stakeOf(_CHEATER).active, _STAKE - 2 * 50e18, "two slashes");
        assertEq(stake.creditOf(_HONEST_CHALLENGER), 3 * 10e18 + 2 * 25e18, "three bonds and two shares");
        assertEq(ghosts.refunds(), 1, "one refund");
        _checkAll();
        _checkAllResolved();
    }

    // ------------------------------------------------------------------ checks

    function _checkAll() private view {
        _checkFundsConserved();
        _checkNoDoubleSlash();
        _checkDeadlinesAndLocks();
        _checkHonestProvider();
        _checkHonestChallenger();
        _checkForwardOnly();
    }

    function _checkFundsConserved() private view {
        uint256 sum = stake.totalActive() + stake.totalUnbonding() + stake.totalBonds() + stake.totalCredits();
        assertEq(token.balanceOf(address(stake)), sum, "balance != active + unbonding + bonds + credits");
        assertEq(stake.totalOwed(), sum, "totalOwed != sum");
        assertEq(stake.totalBonds(), ghosts.openGames() * policy.challengerBond, "bonds != open games * bond");
    }

    function _checkNoDoubleSlash() private view {
        assertLe(ghosts.maxSlashesPerTarget(), 1, "a commitment was slashed twice");
        assertEq(ghosts.slashesWithoutResolution(), 0, "a stake fell without a game resolving");
        assertEq(ghosts.ambiguousSteps(), 0, "a step resolved two games");
        assertEq(ghosts.wrongSlashes(), 0, "a slash without a first overturn, or of a wrong amount");
    }

    function _checkDeadlinesAndLocks() private view {
        uint256 open;
        uint256 honestLocks;
        uint256 n = ghosts.gameCount();
        for (uint256 i; i < n; ++i) {
            (bytes32 id, bytes32 target, ) = ghosts.gameAt(i);
            GameState memory s = game.gameOf(id);
            if (s.phase == Phase.Resolved) continue;
            ++open;
            assertLe(block.timestamp, uint256(s.deadline) + handler.MAX_WARP(), "a game lapsed unresolved");
            if (ledger.recordOf(target).provider == _HONEST_PROVIDER) ++honestLocks;
        }
        assertEq(open, ghosts.openGames(), "open games != ghost");
        assertEq(stake.stakeOf(_HONEST_PROVIDER).openDisputes, honestLocks, "honest locks");
        assertEq(stake.stakeOf(_CHEATER).openDisputes, open - honestLocks, "cheater locks != its open games");
    }

    function _checkHonestProvider() private view {
        address honest = _HONEST_PROVIDER;
        assertEq(ghosts.honestProviderLosses(), 0, "the honest provider lost a game or stake");
        assertEq(stake.stakeOf(honest).active, _STAKE, "honest stake");
        assertEq(
            token.balanceOf(honest) + stake.creditOf(honest),
            _FUNDS - _STAKE + ghosts.honestProviderBondsWon(),
            "honest provider's tokens"
        );
    }

    function _checkHonestChallenger() private view {
        address honest = _HONEST_CHALLENGER;
        assertEq(ghosts.honestChallengerLosses(), 0, "the honest challenger lost a game");
        assertEq(ghosts.wrongCommitmentsSurvived(), 0, "a wrong commitment survived the honest challenger");
        uint256 locked;
        uint256 n = ghosts.gameCount();
        for (uint256 i; i < n; ++i) {
            (bytes32 id, , bool byHonest) = ghosts.gameAt(i);
            if (byHonest && game.gameOf(id).phase != Phase.Resolved) locked += policy.challengerBond;
        }
        assertEq(
            token.balanceOf(honest) + stake.creditOf(honest) + locked,
            _FUNDS + ghosts.honestChallengerShares(),
            "honest challenger's tokens"
        );
    }

    function _checkForwardOnly() private view {
        assertEq(ghosts.phaseRegressions(), 0, "a phase moved backward");
        assertEq(ghosts.outcomeChanges(), 0, "an outcome changed");
        assertEq(handler.unexpectedReverts(), 0, string(handler.lastUnexpectedRevert()));
        assertEq(providers.unexpectedReverts(), 0, string(providers.lastUnexpectedRevert()));
    }

    function _checkAllResolved() private view {
        assertEq(ghosts.openGames(), 0, "a game is still open after every deadline passed");
        assertEq(stake.totalBonds(), 0, "bonds still held");
        assertEq(stake.stakeOf(_HONEST_PROVIDER).openDisputes, 0, "honest provider still locked");
        assertEq(stake.stakeOf(_CHEATER).openDisputes, 0, "cheater still locked");
        uint256 n = providers.claimCount();
        for (uint256 i; i < n; ++i) {
            assertEq(ledger.recordOf(providers.claimOf(i).id).openDisputes, 0, "a commitment still has open disputes");
        }
        assertEq(
            ghosts.challengerWins() + ghosts.providerWins() + ghosts.refunds(),
            ghosts.gameCount(),
            "resolutions != games"
        );
    }

    function _expectOutcome(uint256 i, Outcome outcome) private view {
        (bytes32 id, , ) = ghosts.gameAt(i);
        GameState memory s = game.gameOf(id);
        assertEq(uint256(s.phase), uint256(Phase.Resolved), "game not resolved");
        assertEq(uint256(s.outcome), uint256(outcome), "outcome");
    }

    function _log() private view {
        // solhint-disable-next-line no-console
        console.log(_summary());
    }

    function _summary() private view returns (string memory) {
        return (
            string.concat(
                "commits ",
                _dec(providers.honestCommits() + providers.cheatingCommits()),
                " opens ",
                _dec(handler.honestOpens() + handler.lyingOpens()),
                " moves ",
                _dec(handler.movesMade()),
                " refused ",
                _dec(handler.movesRefused()),
                " warps ",
                _dec(handler.warps()),
                " timeouts ",
                _dec(handler.timeouts()),
                " closes ",
                _dec(handler.closes()),
                " claims ",
                _dec(handler.claims()),
                " won/lost/refunded ",
                string.concat(
                    _dec(ghosts.challengerWins()),
                    "/",
                    _dec(ghosts.providerWins()),
                    "/",
                    _dec(ghosts.refunds())
                )
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

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DisputeGame} from "../../../contracts/disputes/DisputeGame.sol";
import {IStakeManager} from "../../../contracts/interfaces/IStakeManager.sol";
import {InferenceLedger} from "../../../contracts/ledger/InferenceLedger.sol";
import {StakeManager} from "../../../contracts/staking/StakeManager.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {CommitmentStatus} from "../../../contracts/types/Commitment.sol";
import {GameState, Outcome, Phase} from "../../../contracts/types/Dispute.sol";
import {DisputeActors} from "./DisputeActors.sol";

/// @notice Ghost state of the dispute invariant campaign. It knows which commitments are fraudulent, every
/// game with its challenger's role and what the game paid that challenger, and after every step of the
/// handlers it compares the games, the stakes and the honest parties' wealth with what it saw last: phases
/// only move forward, outcomes are set once, a stake falls only while a game resolves with the first
/// overturn of its target and by exactly min(slashAmount, stake), no honest party's wealth ever falls, and
/// the games open on a target when it is overturned are marked (each honest one must earn a reward).
// solhint-disable-next-line max-states-count
contract DisputeGhosts {
    /// @notice Who opened a game.
    enum Role {
        Watcher,
        Sybil,
        Liar
    }

    /// @notice What the ghosts know of one game.
    struct Tracked {
        bytes32 id;
        bytes32 target;
        Role role;
        uint96 bond;
        Phase lastPhase;
        Outcome lastOutcome;
        /// Credited to the game's challenger by the game's resolution and reward claim.
        uint256 paidOut;
        /// The game was open when another game (or itself) overturned its target.
        bool openAtOverturn;
    }

    /// @notice What the ghosts know of one commitment.
    struct Target {
        bool known;
        bool fraudulent;
        /// The honest watcher opened a game on it.
        bool watched;
        bool overturned;
        uint256 slashed;
        /// The challengers' share of the slash, escrowed for the games open at the overturn.
        uint256 held;
        uint256 slashes;
    }

    error DisputeGhostsNotWriter(address caller);

    uint256 private constant _BPS = 10_000;

    DisputeGame public game;
    InferenceLedger public ledger;
    StakeManager public stake;
    MockERC20 public token;
    uint256 public slashAmount;
    uint16 public shareBps;
    address private _owner;
    address public handler;
    address public providers;

    Tracked[] private _games;
    bytes32[] private _targets;
    mapping(bytes32 target => Target) private _info;

    uint256 public phaseRegressions;
    uint256 public outcomeChanges;
    /// @notice A provider's stake fell while no game resolved: a slash outside any game's resolution.
    uint256 public slashesWithoutResolution;
    /// @notice A slash that was not a target's first overturn, or took other than min(slashAmount, stake),
    /// or an overturn without a challenger win.
    uint256 public wrongSlashes;
    uint256 public maxSlashesPerTarget;
    /// @notice Steps that resolved more than one game (the handler checkpoints after each resolution).
    uint256 public ambiguousSteps;
    /// @notice The honest provider lost a game, a commitment or wealth.
    uint256 public honestProviderLosses;
    /// @notice The honest watcher lost wealth, or a game of its ended other than ChallengerWon.
    uint256 public honestChallengerLosses;
    /// @notice Games of the honest watcher that ended with the wrong commitment not overturned.
    uint256 public wrongCommitmentsSurvived;
    uint256 public openGames;
    uint256 public challengerWins;
    uint256 public providerWins;
    uint256 public refunds;
    uint256 public overturns;
    /// @notice Everything slashed from the cheater, and the part of it escrowed for challengers.
    uint256 public totalSlashed;
    uint256 public totalHeld;
    /// @notice Tokens minted to the cheater to stay staked (they enter the coalition's wealth).
    uint256 public toppedUp;

    uint256 private _lastStakeHonest;
    uint256 private _lastStakeCheater;
    uint256 private _lastHonestProviderWealth;
    uint256 private _lastWatcherWealth;

    modifier onlyWriter() {
        if (msg.sender != handler && msg.sender != providers) revert DisputeGhostsNotWriter(msg.sender);
        _;
    }

    constructor(
        DisputeGame game_,
        InferenceLedger ledger_,
        StakeManager stake_,
        MockERC20 token_,
        uint256 slashAmount_,
        uint16 shareBps_
    ) {
        game = game_;
        ledger = ledger_;
        stake = stake_;
        token = token_;
        slashAmount = slashAmount_;
        shareBps = shareBps_;
        _owner = msg.sender;
        _lastStakeHonest = _stakeOf(DisputeActors.HONEST_PROVIDER);
        _lastStakeCheater = _stakeOf(DisputeActors.CHEATER);
        _lastHonestProviderWealth = honestProviderWealth();
        _lastWatcherWealth = watcherWealth();
    }

    /// @notice Names the two handlers allowed to write (once, by the deployer).
    function setWriters(address handler_, address providers_) external {
        if (msg.sender != _owner || handler != address(0)) revert DisputeGhostsNotWriter(msg.sender);
        handler = handler_;
        providers = providers_;
    }

    // ------------------------------------------------------------------ bookings

    /// @notice A commitment was made; `fraudulent` is what the provider knows of it.
    function onCommit(bytes32 id, bool fraudulent) external onlyWriter {
        _info[id].known = true;
        _info[id].fraudulent = fraudulent;
        _targets.push(id);
    }

    /// @notice The cheater was minted and staked `amount` (not by a game).
    function onTopUp(uint256 amount) external onlyWriter {
        _lastStakeCheater += amount;
        toppedUp += amount;
    }

    /// @notice A game opened.
    function onOpen(bytes32 id, bytes32 target, Role role, uint96 bond, Phase first) external onlyWriter {
        _games.push(
            Tracked({
                id: id,
                target: target,
                role: role,
                bond: bond,
                lastPhase: first,
                lastOutcome: Outcome.None,
                paidOut: 0,
                openAtOverturn: false
            })
        );
        if (role == Role.Watcher) _info[target].watched = true;
        ++openGames;
    }

    /// @notice A call on game `g` credited its challenger `amount`.
    function onPaid(uint256 g, uint256 amount) external onlyWriter {
        _games[g].paidOut += amount;
    }

    /// @notice Compares every game, both stakes and the honest parties' wealth with the last checkpoint and
    /// books what changed.
    function checkpoint() external onlyWriter {
        uint256 honestWealth = honestProviderWealth();
        if (honestWealth < _lastHonestProviderWealth) ++honestProviderLosses;
        _lastHonestProviderWealth = honestWealth;

        uint256 honestStake = _stakeOf(DisputeActors.HONEST_PROVIDER);
        uint256 cheaterStake = _stakeOf(DisputeActors.CHEATER);
        if (honestStake != _lastStakeHonest) ++honestProviderLosses;
        uint256 stakeBefore = _lastStakeCheater;
        uint256 slashed = stakeBefore > cheaterStake ? stakeBefore - cheaterStake : 0;
        _lastStakeHonest = honestStake;
        _lastStakeCheater = cheaterStake;

        uint256 n = _games.length;
        GameState[] memory states = new GameState[](n);
        for (uint256 g; g < n; ++g) {
            Tracked storage t = _games[g];
            states[g] = game.gameOf(t.id);
            if (uint8(states[g].phase) < uint8(t.lastPhase)) ++phaseRegressions;
            if (t.lastOutcome != Outcome.None && states[g].outcome != t.lastOutcome) ++outcomeChanges;
        }
        bool resolvedOne;
        for (uint256 g; g < n; ++g) {
            if (_games[g].lastPhase != Phase.Resolved && states[g].phase == Phase.Resolved) {
                // A step resolves at most one game: a slash in it belongs to that game.
                if (resolvedOne) ++ambiguousSteps;
                resolvedOne = true;
                _book(g, states[g].outcome, slashed, stakeBefore);
            }
        }
        for (uint256 g; g < n; ++g) {
            _games[g].lastPhase = states[g].phase;
            _games[g].lastOutcome = states[g].outcome;
        }
        if (slashed != 0 && !resolvedOne) ++slashesWithoutResolution;

        // Measured after the games are booked: the watcher's locked bonds are those of its open games.
        uint256 watcher = watcherWealth();
        if (watcher < _lastWatcherWealth) ++honestChallengerLosses;
        _lastWatcherWealth = watcher;
    }

    // ------------------------------------------------------------------ views

    function gameCount() external view returns (uint256) {
        return _games.length;
    }

    function gameAt(uint256 i) external view returns (Tracked memory) {
        return _games[i];
    }

    function targetCount() external view returns (uint256) {
        return _targets.length;
    }

    function targetAt(uint256 i) external view returns (bytes32 id, Target memory info) {
        id = _targets[i];
        info = _info[id];
    }

    function infoOf(bytes32 target) external view returns (Target memory) {
        return _info[target];
    }

    /// @notice The honest provider's wallet, credit and stake.
    function honestProviderWealth() public view returns (uint256) {
        address a = DisputeActors.HONEST_PROVIDER;
        return token.balanceOf(a) + stake.creditOf(a) + _stakeOf(a);
    }

    /// @notice The honest watcher's wallet, credit and the bonds of its open games.
    function watcherWealth() public view returns (uint256 w) {
        address a = DisputeActors.HONEST_CHALLENGER;
        w = token.balanceOf(a) + stake.creditOf(a);
        for (uint256 g; g < _games.length; ++g) {
            Tracked storage t = _games[g];
            if (t.role == Role.Watcher && game.gameOf(t.id).phase != Phase.Resolved) w += t.bond;
        }
    }

    /// @notice The cheater's and its sybil's wallets, credits, the cheater's stake and the sybil's locked bonds.
    function coalitionWealth() external view returns (uint256 w) {
        address cheater = DisputeActors.CHEATER;
        address sybil = DisputeActors.CHEATER_SYBIL;
        w = token.balanceOf(cheater) + stake.creditOf(cheater) + _stakeOf(cheater);
        w += token.balanceOf(sybil) + stake.creditOf(sybil);
        for (uint256 g; g < _games.length; ++g) {
            Tracked storage t = _games[g];
            if (t.role == Role.Sybil && game.gameOf(t.id).phase != Phase.Resolved) w += t.bond;
        }
    }

    // ------------------------------------------------------------------ internals

    function _book(uint256 g, Outcome outcome, uint256 slashed, uint256 stakeBefore) private {
        Tracked storage t = _games[g];
        Target storage info = _info[t.target];
        --openGames;
        if (outcome == Outcome.ChallengerWon) ++challengerWins;
        else if (outcome == Outcome.ProviderWon) ++providerWins;
        else ++refunds;
        if (!info.fraudulent && outcome == Outcome.ChallengerWon) ++honestProviderLosses;
        if (t.role == Role.Watcher && outcome != Outcome.ChallengerWon) ++honestChallengerLosses;

        bool overturned = ledger.status(t.target) == CommitmentStatus.Overturned;
        bool newlyOverturned = overturned && !info.overturned;
        if (t.role == Role.Watcher && !overturned) ++wrongCommitmentsSurvived;
        if (overturned && !info.fraudulent) ++honestProviderLosses;
        if (newlyOverturned) {
            if (outcome != Outcome.ChallengerWon) ++wrongSlashes;
            info.overturned = true;
            ++overturns;
            // Every game still open on the target before this step (this one included) shares the reward.
            for (uint256 h; h < _games.length; ++h) {
                Tracked storage o = _games[h];
                if (o.target == t.target && o.lastPhase != Phase.Resolved) o.openAtOverturn = true;
            }
            uint256 expected = stakeBefore < slashAmount ? stakeBefore : slashAmount;
            if (slashed != expected) ++wrongSlashes;
            info.slashed = slashed;
            info.held = (slashed * shareBps) / _BPS;
            totalSlashed += slashed;
            totalHeld += info.held;
        } else if (slashed != 0) {
            ++wrongSlashes; // a stake fell without a first overturn
        }
        if (slashed != 0) {
            uint256 count = ++info.slashes;
            if (count > maxSlashesPerTarget) maxSlashesPerTarget = count;
        }
    }

    function _stakeOf(address provider) private view returns (uint256) {
        IStakeManager.Stake memory s = stake.stakeOf(provider);
        return uint256(s.active) + s.unbonding;
    }
}

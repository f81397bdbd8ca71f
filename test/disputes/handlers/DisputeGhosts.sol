// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DisputeGame} from "../../../contracts/DisputeGame.sol";
import {InferenceLedger} from "../../../contracts/InferenceLedger.sol";
import {IStakeManager} from "../../../contracts/interfaces/IStakeManager.sol";
import {StakeManager} from "../../../contracts/StakeManager.sol";
import {GameState, Outcome, Phase} from "../../../contracts/types/Dispute.sol";
import {DisputeActors} from "./DisputeActors.sol";

/// @notice Ghost state of the dispute invariant campaign. After every step of the handler, `checkpoint`
/// compares every game and both providers' stakes with what it saw last: phases only move forward,
/// outcomes are set once, a stake falls only while a game resolves with the first overturn of its
/// target and by exactly min(slashAmount, stake), and each resolution is booked for the honest actors.
// solhint-disable-next-line max-states-count
contract DisputeGhosts {
    /// @notice What the ghosts know of one game.
    struct Tracked {
        bytes32 id;
        bytes32 target;
        bool honestClaim;
        bool honestChallenger;
        uint96 bond;
        uint16 shareBps;
        Phase lastPhase;
        Outcome lastOutcome;
    }

    error DisputeGhostsNotWriter(address caller);

    uint256 private constant _BPS = 10_000;

    DisputeGame public game;
    InferenceLedger public ledger;
    StakeManager public stake;
    uint256 public slashAmount;
    address private _owner;
    address public handler;
    address public providers;

    Tracked[] private _games;
    mapping(bytes32 target => bool) private _overturnedSeen;
    mapping(bytes32 target => uint256) public slashesOf;

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
    uint256 public honestProviderLosses;
    uint256 public honestChallengerLosses;
    /// @notice Games of the honest challenger that ended with the wrong commitment not overturned.
    uint256 public wrongCommitmentsSurvived;
    uint256 public honestProviderBondsWon;
    uint256 public honestChallengerShares;
    uint256 public openGames;
    uint256 public challengerWins;
    uint256 public providerWins;
    uint256 public refunds;

    uint256 private _lastStakeHonest;
    uint256 private _lastStakeCheater;

    modifier onlyWriter() {
        if (msg.sender != handler && msg.sender != providers) revert DisputeGhostsNotWriter(msg.sender);
        _;
    }

    constructor(DisputeGame game_, InferenceLedger ledger_, StakeManager stake_, uint256 slashAmount_) {
        game = game_;
        ledger = ledger_;
        stake = stake_;
        slashAmount = slashAmount_;
        _owner = msg.sender;
        _lastStakeHonest = _stakeOf(DisputeActors.HONEST_PROVIDER);
        _lastStakeCheater = _stakeOf(DisputeActors.CHEATER);
    }

    /// @notice Names the two handlers allowed to write (once, by the deployer).
    function setWriters(address handler_, address providers_) external {
        if (msg.sender != _owner || handler != address(0)) revert DisputeGhostsNotWriter(msg.sender);
        handler = handler_;
        providers = providers_;
    }

    /// @notice The providers' stakes moved up by deposits (not by games).
    function onDeposit(address provider, uint256 amount) external onlyWriter {
        if (provider == DisputeActors.HONEST_PROVIDER) _lastStakeHonest += amount;
        else _lastStakeCheater += amount;
    }

    /// @notice A game opened.
    function onOpen(
        bytes32 id,
        bytes32 target,
        bool honestClaim,
        bool honestChallenger,
        uint96 bond,
        uint16 shareBps
    ) external onlyWriter {
        _games.push(
            Tracked({
                id: id,
                target: target,
                honestClaim: honestClaim,
                honestChallenger: honestChallenger,
                bond: bond,
                shareBps: shareBps,
                lastPhase: Phase.AwaitingTrace,
                lastOutcome: Outcome.None
            })
        );
        ++openGames;
    }

    /// @notice Compares every game and both stakes with the last checkpoint and books what changed.
    function checkpoint() external onlyWriter {
        uint256 honestStake = _stakeOf(DisputeActors.HONEST_PROVIDER);
        uint256 cheaterStake = _stakeOf(DisputeActors.CHEATER);
        if (honestStake != _lastStakeHonest) ++honestProviderLosses;
        uint256 stakeBefore = _lastStakeCheater;
        uint256 slashed = stakeBefore > cheaterStake ? stakeBefore - cheaterStake : 0;
        _lastStakeHonest = honestStake;
        _lastStakeCheater = cheaterStake;
        bool resolvedOne;
        for (uint256 g; g < _games.length; ++g) {
            Tracked storage t = _games[g];
            GameState memory s = game.gameOf(t.id);
            if (uint8(s.phase) < uint8(t.lastPhase)) ++phaseRegressions;
            if (t.lastOutcome != Outcome.None && s.outcome != t.lastOutcome) ++outcomeChanges;
            if (t.lastPhase != Phase.Resolved && s.phase == Phase.Resolved) {
                // A step resolves at most one game: a slash in it belongs to that game.
                if (resolvedOne) ++ambiguousSteps;
                resolvedOne = true;
                _book(t, s.outcome, slashed, stakeBefore);
            }
            t.lastPhase = s.phase;
            t.lastOutcome = s.outcome;
        }
        if (slashed != 0 && !resolvedOne) ++slashesWithoutResolution;
    }

    // ------------------------------------------------------------------ views

    function gameCount() external view returns (uint256) {
        return _games.length;
    }

    function gameAt(uint256 i) external view returns (bytes32 id, bytes32 target, bool honestChallenger) {
        Tracked storage t = _games[i];
        return (t.id, t.target, t.honestChallenger);
    }

    // ------------------------------------------------------------------ internals

    function _book(Tracked storage t, Outcome outcome, uint256 slashed, uint256 stakeBefore) private {
        --openGames;
        if (outcome == Outcome.ChallengerWon) ++challengerWins;
        else if (outcome == Outcome.ProviderWon) ++providerWins;
        else ++refunds;
        if (t.honestClaim && outcome != Outcome.ProviderWon) ++honestProviderLosses;
        if (t.honestClaim && outcome == Outcome.ProviderWon) honestProviderBondsWon += t.bond;
        if (t.honestChallenger && outcome == Outcome.ProviderWon) ++honestChallengerLosses;

        bool overturned = ledger.recordOf(t.target).overturned;
        bool newlyOverturned = overturned && !_overturnedSeen[t.target];
        _overturnedSeen[t.target] = overturned;
        if (t.honestChallenger && !overturned) ++wrongCommitmentsSurvived;
        if (newlyOverturned && outcome != Outcome.ChallengerWon) ++wrongSlashes;
        if (slashed == 0) return;
        // A stake fell while this game resolved: it must be its target's first overturn, by the policy.
        uint256 count = ++slashesOf[t.target];
        if (count > maxSlashesPerTarget) maxSlashesPerTarget = count;
        uint256 expected = stakeBefore < slashAmount ? stakeBefore : slashAmount;
        if (!newlyOverturned || slashed != expected) ++wrongSlashes;
        if (t.honestChallenger) honestChallengerShares += (slashed * t.shareBps) / _BPS;
    }

    function _stakeOf(address provider) private view returns (uint256) {
        IStakeManager.Stake memory s = stake.stakeOf(provider);
        return uint256(s.active) + s.unbonding;
    }
}

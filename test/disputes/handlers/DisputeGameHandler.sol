// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../../utils/Test.sol";
import {DisputeGame} from "../../../contracts/disputes/DisputeGame.sol";
import {IDisputeGame} from "../../../contracts/interfaces/IDisputeGame.sol";
import {InferenceLedger} from "../../../contracts/ledger/InferenceLedger.sol";
import {StakeManager} from "../../../contracts/staking/StakeManager.sol";
import {DisputeTinyModel} from "../../../contracts/mocks/DisputeTinyModel.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {CommitmentKey, CommitmentStatus} from "../../../contracts/types/Commitment.sol";
import {DisputeParams, GameState, NeuronProof, Outcome, Phase, RewardPool} from "../../../contracts/types/Dispute.sol";
import {ModelPolicy} from "../../../contracts/types/Model.sol";
import {DisputeActors} from "./DisputeActors.sol";
import {DisputeGhosts} from "./DisputeGhosts.sol";
import {DisputeProviders} from "./DisputeProviders.sol";

/// @notice Plays dispute games over the commitments of `DisputeProviders`.
/// - The honest watcher disputes every wrong commitment inside its window (lazily: at the latest before
///   time passes its window, or earlier when `watch` says so), plays correctly and never gives up a game,
///   even after another game overturned its target.
/// - The cheater's sybil disputes the cheater's own wrong commitments with one of three strategies: it races
///   (both sides play at once, to overturn first and take the share), it lets its own game lapse, or the
///   cheater lets the sybil win by timeout. It may demand an input and let the answered demand lapse.
/// - The liar disputes only correct commitments (demanding inputs, even public ones) and plays at random.
/// - Each provider answers as its strategy says: the honest one correctly, the cheater only what it can,
///   not always, and a third of the time it first tries a reveal of the wrong length (an input, a trace or
///   an activation of the wrong width, or another layer's number), which must be refused.
/// The honest actors are online: before time moves they make every move that is theirs, and a keeper times
/// out every lapsed game and claims every reward due. Every call to the game goes through `_act`, which
/// checks that a refusal happens exactly when the strategy expects one, with exactly the expected revert
/// data, that a refused call leaves the game as it was, and books what the call paid the game's challenger.
/// After every state change `DisputeGhosts.checkpoint` updates the ghosts the invariants read.
// solhint-disable-next-line max-states-count
contract DisputeGameHandler is Test {
    /// @notice A sybil's plan for its game.
    enum Strategy {
        /// Both sides play at once, correctly: the sybil proves the cheater's fraud.
        Race,
        /// The sybil never moves: its game lapses on its side.
        Lapse,
        /// The cheater never answers: the sybil wins by timeout.
        Silent
    }

    /// @notice One game: its params (passed with every move) and the commitment it is about.
    struct Play {
        DisputeParams params;
        bytes32 id;
        uint256 claim;
        DisputeGhosts.Role role;
        Strategy strategy;
    }

    /// @notice Largest clock step of `warp`: a lapsed game is never older than this past its deadline.
    uint256 public constant MAX_WARP = 2 hours;

    DisputeGame public game;
    InferenceLedger public ledger;
    StakeManager public stake;
    MockERC20 public token;
    DisputeTinyModel public model;
    DisputeProviders public providers;
    DisputeGhosts public ghosts;
    bytes32 public modelId;
    uint96 public bond;
    uint96 public slashAmount;
    uint32 public responseWindow;
    uint16 public numLayers;

    Play[] private _plays;
    uint64 private _nonce;

    uint256 public watcherOpens;
    /// @notice Openings by the lazy watcher just before a window would close.
    uint256 public lateOpens;
    uint256 public sybilOpens;
    uint256 public lyingOpens;
    uint256 public movesMade;
    /// @notice Moves refused exactly as the mover's strategy expected (a liar's proof, a cheater's forgery).
    uint256 public movesRefused;
    /// @notice Of those, the cheater's reveals of the wrong length or width.
    uint256 public badLengthRefusals;
    uint256 public warps;
    uint256 public timeouts;
    uint256 public closes;
    uint256 public rewardClaims;
    uint256 public claims;
    /// @notice Calls that found nothing to do.
    uint256 public skipped;
    uint256 public unexpectedReverts;
    bytes public lastUnexpectedRevert;

    constructor(
        DisputeGame game_,
        InferenceLedger ledger_,
        StakeManager stake_,
        MockERC20 token_,
        DisputeTinyModel model_,
        DisputeProviders providers_,
        DisputeGhosts ghosts_,
        ModelPolicy memory policy
    ) {
        game = game_;
        ledger = ledger_;
        stake = stake_;
        token = token_;
        model = model_;
        providers = providers_;
        ghosts = ghosts_;
        modelId = providers_.modelId();
        bond = policy.challengerBond;
        slashAmount = policy.slashAmount;
        responseWindow = policy.responseWindow;
        numLayers = model_.NUM_LAYERS();
    }

    // ------------------------------------------------------------------ actions (fuzzed)

    /// @notice The honest watcher disputes a wrong commitment it has not disputed yet, early.
    function watch(uint256 pick) public {
        uint256 n = providers.claimCount();
        for (uint256 k; k < n; ++k) {
            uint256 i = ((pick % n) + k) % n;
            if (_watchable(i)) {
                _open(i, DisputeActors.HONEST_CHALLENGER, DisputeGhosts.Role.Watcher, Strategy.Race, pick >> 8);
                ++watcherOpens;
                return;
            }
        }
        ++skipped;
    }

    /// @notice The cheater's sybil disputes one of the cheater's wrong commitments (after the cheater commits
    /// one if none is disputable) with strategy `pick % 3`.
    function openSybil(uint256 pick) public {
        (bool found, uint256 i) = providers.disputable(pick, false);
        if (!found) {
            providers.commitCheating(pick, pick >> 16);
            (found, i) = providers.disputable(pick, false);
        }
        if (!found) {
            ++skipped;
            return;
        }
        if (_open(i, DisputeActors.CHEATER_SYBIL, DisputeGhosts.Role.Sybil, Strategy(pick % 3), pick >> 8)) {
            ++sybilOpens;
        }
    }

    /// @notice The lying challenger disputes a correct commitment in its window (after committing one if none
    /// is), with a nonce of 0 or 1 (a repeat is refused as a duplicate) and sometimes an input demand (refused
    /// when the input is public).
    function openLying(uint256 pick) public {
        (bool found, uint256 i) = providers.disputable(pick, true);
        if (!found) {
            providers.commitHonest(pick);
            (found, i) = providers.disputable(pick, true);
        }
        if (!found) {
            ++skipped;
            return;
        }
        DisputeProviders.Claim memory c = providers.claimOf(i);
        bool demand = (pick >> 8) % 2 == 0;
        _openWith(c, i, DisputeActors.LIAR, DisputeGhosts.Role.Liar, Strategy.Race, demand, uint64(pick % 2));
    }

    /// @notice The party to move in an open game plays its strategy.
    function move(uint256 pick, uint256 seed) public {
        (bool found, uint256 g) = _openGame(pick);
        if (found) _play(g, seed);
        else ++skipped;
    }

    /// @notice The honest actors (and racing coalitions) make their due moves, the keeper times out every
    /// lapsed game and claims every reward due, the watcher disputes every wrong commitment whose window the
    /// step would close, then time moves.
    function warp(uint256 secs) public {
        uint256 next = _now() + bound(secs, 1, MAX_WARP);
        _honestMoves();
        _sweep();
        _watchDue(next);
        vm.warp(next);
        vm.roll(next); // blocks are not used for anything but a moving chain
        ++warps;
        ghosts.checkpoint();
    }

    /// @notice The keeper times a game out (refused before its deadline).
    function timeout(uint256 pick) public {
        (bool found, uint256 g) = _openGame(pick);
        if (found) _timeout(g);
        else ++skipped;
    }

    /// @notice A game's own challenger (a sybil or the liar; the watcher never gives up) or the keeper (not
    /// its challenger: refused) tries to close a game whose target may be overturned.
    function closeOverturned(uint256 pick, bool bySelf) public {
        (bool found, uint256 g) = _openGame(pick);
        if (!found || (bySelf && _plays[g].role == DisputeGhosts.Role.Watcher)) {
            ++skipped;
            return;
        }
        _close(g, bySelf ? _plays[g].params.challenger : DisputeActors.KEEPER);
    }

    /// @notice The keeper claims a game's reward (refused unless it won and its pool is settled).
    function claimReward(uint256 pick) public {
        uint256 n = _plays.length;
        if (n == 0) {
            ++skipped;
            return;
        }
        _claimReward(pick % n);
    }

    /// @notice An actor claims its credit.
    function claim(uint256 who) public {
        address[6] memory actors = [
            DisputeActors.HONEST_PROVIDER,
            DisputeActors.CHEATER,
            DisputeActors.CHEATER_SYBIL,
            DisputeActors.HONEST_CHALLENGER,
            DisputeActors.LIAR,
            stake.treasury()
        ];
        address account = actors[who % 6];
        if (stake.creditOf(account) == 0) {
            ++skipped;
            return;
        }
        vm.prank(account);
        try stake.claim() {
            ++claims;
        } catch (bytes memory err) {
            _record(err);
        }
        ghosts.checkpoint();
    }

    /// @notice Ends every game: for a few rounds every actor plays its strategy in every game (so games run
    /// to their proofs), the watcher disputes what is left, time passes and the keeper times out what lapsed;
    /// then every reward due is claimed.
    function drain() external {
        for (uint256 round; round < 8 && (round == 0 || ghosts.openGames() != 0); ++round) {
            for (uint256 step; step < 4; ++step) {
                for (uint256 g; g < _plays.length; ++g) {
                    if (game.gameOf(_plays[g].id).phase == Phase.Resolved) continue;
                    _play(g, uint256(keccak256(abi.encode(round, step, g))));
                }
            }
            _honestMoves();
            uint256 next = _now() + responseWindow + 1;
            _watchDue(next);
            vm.warp(next);
            vm.roll(next);
            _sweep();
        }
        _sweep();
        ghosts.checkpoint();
    }

    // ------------------------------------------------------------------ views

    function playCount() external view returns (uint256) {
        return _plays.length;
    }

    function playAt(uint256 g) external view returns (Play memory) {
        return _plays[g];
    }

    function successfulCalls() external view returns (uint256) {
        return
            providers.honestCommits() +
            providers.cheatingCommits() +
            watcherOpens +
            sybilOpens +
            lyingOpens +
            movesMade +
            warps +
            timeouts +
            closes +
            rewardClaims +
            claims;
    }

    // ------------------------------------------------------------------ openings

    /// @dev A wrong commitment the watcher has not disputed, inside its window and not overturned.
    function _watchable(uint256 i) private view returns (bool) {
        if (providers.isHonest(i)) return false;
        bytes32 id = providers.idOf(i);
        if (ghosts.infoOf(id).watched || _now() > providers.windowEndOf(i)) return false;
        return ledger.status(id) != CommitmentStatus.Overturned;
    }

    /// @dev The lazy watcher: disputes every wrong commitment whose window closes before `next`.
    function _watchDue(uint256 next) private {
        uint256 n = providers.claimCount();
        for (uint256 i; i < n; ++i) {
            if (providers.windowEndOf(i) >= next || !_watchable(i)) continue;
            _open(i, DisputeActors.HONEST_CHALLENGER, DisputeGhosts.Role.Watcher, Strategy.Race, i);
            ++lateOpens;
        }
    }

    /// @dev Opens a game of `challenger` on claim `i` with a fresh nonce, demanding the input when it is not
    /// public and `seed` says so.
    function _open(
        uint256 i,
        address challenger,
        DisputeGhosts.Role role,
        Strategy strategy,
        uint256 seed
    ) private returns (bool) {
        DisputeProviders.Claim memory c = providers.claimOf(i);
        bool demand = !c.inputPublic && seed % 2 == 0;
        return _openWith(c, i, challenger, role, strategy, demand, ++_nonce + 1_000);
    }

    function _openWith(
        DisputeProviders.Claim memory c,
        uint256 i,
        address challenger,
        DisputeGhosts.Role role,
        Strategy strategy,
        bool demand,
        uint64 nonce
    ) private returns (bool ok) {
        DisputeParams memory p = DisputeParams({
            target: c.id,
            isLeaf: false,
            modelId: modelId,
            provider: c.provider,
            challenger: challenger,
            inference: c.inference,
            bond: bond,
            slashAmount: slashAmount,
            responseWindow: responseWindow,
            challengerShareBps: stake.challengerShareBps(),
            numLayers: numLayers,
            nonce: nonce
        });
        bytes32 id = keccak256(abi.encode(p));
        // In the game's check order: the ledger (window, overturn: never picked here), the public input, then
        // the duplicate.
        bytes memory refusal;
        if (demand && c.inputPublic) {
            refusal = abi.encodeWithSelector(IDisputeGame.DisputeGameInputAlreadyPublic.selector, c.id);
        } else if (game.gameOf(id).phase != Phase.None) {
            refusal = abi.encodeWithSelector(IDisputeGame.DisputeGameDuplicate.selector, id);
        }
        CommitmentKey memory key = CommitmentKey(c.provider, modelId, c.inference, bytes32(0));
        vm.prank(challenger);
        try game.openDispute(key, demand, nonce) returns (bytes32 disputeId) {
            if (refusal.length != 0) _record("an opening that must be refused was accepted");
            if (disputeId != id) _record("the dispute id is not the params hash");
            _plays.push(Play({params: p, id: disputeId, claim: i, role: role, strategy: strategy}));
            ghosts.onOpen(disputeId, c.id, role, p.bond, demand ? Phase.AwaitingInput : Phase.AwaitingTrace);
            if (role == DisputeGhosts.Role.Liar) ++lyingOpens;
            ok = true;
            ghosts.checkpoint();
        } catch (bytes memory err) {
            if (refusal.length != 0 && keccak256(err) == keccak256(refusal)) ++movesRefused;
            else _record(err);
        }
    }

    // ------------------------------------------------------------------ moves

    /// @dev The strategy of whoever is to move in game `g`; honest actors always move correctly.
    function _play(uint256 g, uint256 seed) private {
        Play storage play = _plays[g];
        GameState memory s = game.gameOf(play.id);
        if (_now() > s.deadline) {
            ++skipped; // lapsed: only the timeout decides now
            return;
        }
        DisputeProviders.Claim memory c = providers.claimOf(play.claim);
        if (_providerMoves(s.phase)) {
            if (c.honest) {
                _providerMove(g, c, s, false, seed);
            } else if (play.role == DisputeGhosts.Role.Sybil && play.strategy == Strategy.Silent) {
                ++skipped; // the cheater lets its sybil win
            } else if (play.role == DisputeGhosts.Role.Sybil && play.strategy == Strategy.Race) {
                _providerMove(g, c, s, false, seed); // racing: no stalling, no tricks
            } else if (seed % 4 == 0) {
                ++skipped; // a quarter of the time the cheater stays silent
            } else {
                _providerMove(g, c, s, (seed >> 2) % 3 == 0, seed >> 4);
            }
        } else if (play.role == DisputeGhosts.Role.Watcher) {
            _honestChallengerMove(g, c, s);
        } else if (play.role == DisputeGhosts.Role.Sybil) {
            if (play.strategy == Strategy.Lapse) ++skipped;
            else _honestChallengerMove(g, c, s);
        } else {
            _liarMove(g, c, s, seed);
        }
    }

    /// @dev A provider reveals what it committed. Where the cheater has nothing that fits (kind 2's trace, kind
    /// 3's layer 1, kind 4's input) it tries what it has and must be refused. With `badLength` the cheater
    /// first tries a reveal of the wrong length, which must be refused and leave the game as it was.
    function _providerMove(
        uint256 g,
        DisputeProviders.Claim memory c,
        GameState memory s,
        bool badLength,
        uint256 seed
    ) private {
        DisputeParams memory p = _plays[g].params;
        bytes memory data;
        bytes memory refusal;
        if (badLength) {
            (data, refusal) = _badReveal(p, c, s, seed);
            if (_act(c.provider, data, refusal, g)) return;
            ++badLengthRefusals;
            return;
        }
        if (s.phase == Phase.AwaitingInput) {
            data = abi.encodeCall(game.revealInput, (p, c.input));
            if (c.input.length != 2) {
                refusal = abi.encodeWithSelector(
                    IDisputeGame.DisputeGameInputLengthMismatch.selector,
                    uint256(2),
                    c.input.length
                );
            }
        } else if (s.phase == Phase.AwaitingTrace) {
            data = abi.encodeCall(game.revealTrace, (p, c.hashes));
            if (!c.honest && c.kind == 2) {
                refusal = abi.encodeWithSelector(
                    IDisputeGame.DisputeGameTraceOutputMismatch.selector,
                    c.inference.outputHash,
                    c.hashes[2]
                );
            }
        } else {
            bytes memory act = c.acts[s.layer];
            if (act.length == 0) {
                act = c.honestActs[s.layer];
                refusal = abi.encodeWithSelector(
                    IDisputeGame.DisputeGameActivationMismatch.selector,
                    uint256(s.layer),
                    c.hashes[s.layer],
                    keccak256(act)
                );
            }
            data = abi.encodeCall(game.revealLayer, (p, s.layer, c.hashes, act));
        }
        if (_act(c.provider, data, refusal, g)) ++movesMade;
    }

    /// @dev A reveal of the wrong length for the current phase, and the exact error it must meet.
    function _badReveal(
        DisputeParams memory p,
        DisputeProviders.Claim memory c,
        GameState memory s,
        uint256 seed
    ) private view returns (bytes memory data, bytes memory refusal) {
        if (s.phase == Phase.AwaitingInput) {
            uint256[5] memory lengths = [uint256(0), 1, 3, 33, 257];
            uint256 length = lengths[seed % 5];
            bytes memory input = new bytes(length);
            if (length >= 2) {
                input[0] = c.input[0];
                input[1] = c.input[1]; // the real input with bytes appended: still the wrong length
            }
            data = abi.encodeCall(game.revealInput, (p, input));
            refusal = abi.encodeWithSelector(IDisputeGame.DisputeGameInputLengthMismatch.selector, uint256(2), length);
        } else if (s.phase == Phase.AwaitingTrace) {
            uint256[6] memory lengths = [uint256(0), 1, 2, 4, 5, 9];
            uint256 length = lengths[seed % 6];
            bytes32[] memory hashes = new bytes32[](length);
            for (uint256 i; i < length && i < 3; ++i) hashes[i] = c.hashes[i];
            data = abi.encodeCall(game.revealTrace, (p, hashes));
            refusal = abi.encodeWithSelector(
                IDisputeGame.DisputeGameInvalidTraceLength.selector,
                length,
                uint256(numLayers) + 1
            );
        } else if (seed % 6 == 5) {
            // The other layer's number.
            uint16 other = s.layer == 1 ? 2 : 1;
            data = abi.encodeCall(game.revealLayer, (p, other, c.hashes, c.honestActs[other]));
            refusal = abi.encodeWithSelector(
                IDisputeGame.DisputeGameUnexpectedLayer.selector,
                uint256(other),
                uint256(s.layer)
            );
        } else {
            uint256[5] memory widths = [uint256(0), 2, 3, 32, 65];
            uint256 width = widths[seed % 5];
            bytes memory act = new bytes(width);
            if (width != 0 && c.acts[s.layer].length != 0) act[0] = c.acts[s.layer][0];
            data = abi.encodeCall(game.revealLayer, (p, s.layer, c.hashes, act));
            refusal = abi.encodeWithSelector(
                IDisputeGame.DisputeGameActivationLengthMismatch.selector,
                uint256(s.layer),
                uint256(1),
                width
            );
        }
    }

    /// @dev Continues after an input, selects the first layer that differs from the honest run, then proves
    /// its neuron (the watcher, and a racing sybil, which knows the truth too).
    function _honestChallengerMove(uint256 g, DisputeProviders.Claim memory c, GameState memory s) private {
        DisputeParams memory p = _plays[g].params;
        bytes memory data;
        if (s.phase == Phase.InputRevealed) {
            data = abi.encodeCall(game.continueDispute, (p));
        } else if (s.phase == Phase.AwaitingLayerSelection) {
            data = abi.encodeCall(game.selectLayer, (p, c.fraudLayer));
        } else {
            NeuronProof memory proof = model.neuronProof(s.layer, c.honestActs[s.layer - 1], c.acts[s.layer]);
            data = abi.encodeCall(game.proveNeuron, (p, proof));
        }
        if (_act(p.challenger, data, "", g)) ++movesMade;
    }

    /// @dev Continues after an input or lets the demand lapse; selects any layer (sometimes an invalid one);
    /// then tries to prove a neuron that is right: with its own row (NeuronMatches), another layer's row
    /// (InvalidRowProof, refused before any arithmetic) or a vector the game did not record (VectorsMismatch).
    function _liarMove(uint256 g, DisputeProviders.Claim memory c, GameState memory s, uint256 seed) private {
        DisputeParams memory p = _plays[g].params;
        bytes memory data;
        bytes memory refusal;
        if (s.phase == Phase.InputRevealed) {
            if (seed % 2 == 1) {
                ++skipped; // the liar saw the input and lets the demand lapse: refunded at the timeout
                return;
            }
            data = abi.encodeCall(game.continueDispute, (p));
        } else if (s.phase == Phase.AwaitingLayerSelection) {
            uint16 layer = uint16(seed % 4); // 0 and 3 are outside 1..2
            if (layer == 0 || layer == 3) {
                refusal = abi.encodeWithSelector(
                    IDisputeGame.DisputeGameInvalidLayer.selector,
                    uint256(layer),
                    uint256(numLayers)
                );
            }
            data = abi.encodeCall(game.selectLayer, (p, layer));
        } else {
            NeuronProof memory proof = model.neuronProof(s.layer, c.acts[s.layer - 1], c.acts[s.layer]);
            refusal = abi.encodeWithSelector(
                IDisputeGame.DisputeGameNeuronMatches.selector,
                uint32(0),
                int8(uint8(c.acts[s.layer][0]))
            );
            if (seed % 3 == 1) {
                uint32 other = s.layer == 1 ? 2 : 1;
                proof.bias = model.bias(other);
                proof.row = model.row(other);
                proof.rowProof = model.rowProof(other);
                refusal = abi.encodeWithSelector(
                    IDisputeGame.DisputeGameInvalidRowProof.selector,
                    uint32(s.layer),
                    uint32(0)
                );
            } else if (seed % 3 == 2) {
                bytes32 stored = keccak256(abi.encode(keccak256(proof.input), keccak256(proof.output)));
                proof.output = abi.encodePacked(proof.output[0] ^ 0x01);
                bytes32 given = keccak256(abi.encode(keccak256(proof.input), keccak256(proof.output)));
                refusal = abi.encodeWithSelector(IDisputeGame.DisputeGameVectorsMismatch.selector, stored, given);
            }
            data = abi.encodeCall(game.proveNeuron, (p, proof));
        }
        if (_act(DisputeActors.LIAR, data, refusal, g)) ++movesMade;
    }

    /// @dev The online actors make every move that is theirs and still in time: the honest provider, the
    /// watcher, and both sides of a racing sybil game.
    function _honestMoves() private {
        for (uint256 g; g < _plays.length; ++g) {
            Play storage play = _plays[g];
            GameState memory s = game.gameOf(play.id);
            if (s.phase == Phase.Resolved || _now() > s.deadline) continue;
            bool providerMoves = _providerMoves(s.phase);
            DisputeProviders.Claim memory c = providers.claimOf(play.claim);
            bool racing = play.role == DisputeGhosts.Role.Sybil && play.strategy == Strategy.Race;
            if (providerMoves && (c.honest || racing)) _providerMove(g, c, s, false, 0);
            else if (!providerMoves && (play.role == DisputeGhosts.Role.Watcher || racing)) {
                _honestChallengerMove(g, c, s);
            }
        }
    }

    /// @dev The keeper times out every lapsed game, a lapsing sybil closes its game once another overturned
    /// the target, and the keeper claims every reward due.
    function _sweep() private {
        for (uint256 g; g < _plays.length; ++g) {
            Play storage play = _plays[g];
            GameState memory s = game.gameOf(play.id);
            if (s.phase == Phase.Resolved) {
                if (s.outcome == Outcome.ChallengerWon && !s.rewardPaid) {
                    if (game.rewardPoolOf(play.params.target).pending == 0) _claimReward(g);
                }
                continue;
            }
            if (_now() > s.deadline) {
                _timeout(g);
            } else if (
                play.role == DisputeGhosts.Role.Sybil &&
                play.strategy == Strategy.Lapse &&
                game.rewardPoolOf(play.params.target).overturned
            ) {
                _close(g, play.params.challenger);
            }
        }
    }

    function _timeout(uint256 g) private {
        GameState memory s = game.gameOf(_plays[g].id);
        bytes memory refusal;
        if (_now() <= s.deadline) {
            refusal = abi.encodeWithSelector(
                IDisputeGame.DisputeGameDeadlineNotPassed.selector,
                _plays[g].id,
                uint256(s.deadline)
            );
        }
        if (_act(DisputeActors.KEEPER, abi.encodeCall(game.timeout, (_plays[g].params)), refusal, g)) ++timeouts;
    }

    function _close(uint256 g, address caller) private {
        Play storage play = _plays[g];
        bytes memory refusal;
        if (caller != play.params.challenger) {
            refusal = abi.encodeWithSelector(
                IDisputeGame.DisputeGameWrongParty.selector,
                play.id,
                caller,
                play.params.challenger
            );
        } else if (!game.rewardPoolOf(play.params.target).overturned) {
            refusal = abi.encodeWithSelector(IDisputeGame.DisputeGameTargetNotOverturned.selector, play.id);
        }
        if (_act(caller, abi.encodeCall(game.closeOverturned, (play.params)), refusal, g)) ++closes;
    }

    function _claimReward(uint256 g) private {
        Play storage play = _plays[g];
        GameState memory s = game.gameOf(play.id);
        RewardPool memory pool = game.rewardPoolOf(play.params.target);
        bytes memory refusal;
        if (s.outcome != Outcome.ChallengerWon || s.rewardPaid) {
            refusal = abi.encodeWithSelector(IDisputeGame.DisputeGameNoReward.selector, play.id);
        } else if (pool.pending != 0) {
            refusal = abi.encodeWithSelector(
                IDisputeGame.DisputeGameRewardPending.selector,
                play.id,
                uint256(pool.pending)
            );
        }
        if (_act(DisputeActors.KEEPER, abi.encodeCall(game.claimReward, (play.params)), refusal, g)) {
            ++rewardClaims;
        }
    }

    function _openGame(uint256 pick) private view returns (bool, uint256) {
        uint256 n = _plays.length;
        for (uint256 k; k < n; ++k) {
            uint256 g = ((pick % n) + k) % n;
            if (game.gameOf(_plays[g].id).phase != Phase.Resolved) return (true, g);
        }
        return (false, 0);
    }

    /// @dev Sends `data` to the game as `actor`, about game `g`. A refusal is fine only when one was expected,
    /// with exactly the expected revert data, and must leave the game as it was; a success where a refusal was
    /// expected, or any other refusal, is recorded. What a success credits the game's challenger is booked.
    function _act(address actor, bytes memory data, bytes memory refusal, uint256 g) private returns (bool ok) {
        Play storage play = _plays[g];
        address payee = play.params.challenger;
        uint256 before = _wealthOf(payee);
        bytes32 stateBefore = keccak256(abi.encode(game.gameOf(play.id)));
        bytes memory ret;
        vm.prank(actor);
        // solhint-disable-next-line avoid-low-level-calls
        (ok, ret) = address(game).call(data);
        if (ok) {
            if (refusal.length != 0) _record("a move that must be refused was accepted");
            uint256 after_ = _wealthOf(payee);
            if (after_ < before) _record("a call took from the game's challenger");
            else if (after_ > before) ghosts.onPaid(g, after_ - before);
            ghosts.checkpoint();
            return true;
        }
        if (refusal.length != 0 && keccak256(ret) == keccak256(refusal)) {
            ++movesRefused;
            if (keccak256(abi.encode(game.gameOf(play.id))) != stateBefore) _record("a refused move changed the game");
        } else {
            _record(ret);
        }
    }

    function _wealthOf(address account) private view returns (uint256) {
        return token.balanceOf(account) + stake.creditOf(account);
    }

    function _providerMoves(Phase phase) private pure returns (bool) {
        return phase == Phase.AwaitingInput || phase == Phase.AwaitingTrace || phase == Phase.AwaitingLayerReveal;
    }

    /// @dev The chain's time: `block.timestamp` may be stale after a `warp` in the same function (viaIR).
    function _now() private view returns (uint256) {
        return vm.getBlockTimestamp();
    }

    function _record(bytes memory err) private {
        ++unexpectedReverts;
        lastUnexpectedRevert = err;
    }
}

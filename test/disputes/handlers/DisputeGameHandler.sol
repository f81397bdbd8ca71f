// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../../utils/Test.sol";
import {DisputeGame} from "../../../contracts/DisputeGame.sol";
import {IDisputeGame} from "../../../contracts/interfaces/IDisputeGame.sol";
import {InferenceLedger} from "../../../contracts/InferenceLedger.sol";
import {StakeManager} from "../../../contracts/StakeManager.sol";
import {DisputeTinyModel} from "../../../contracts/mocks/DisputeTinyModel.sol";
import {DisputeParams, GameState, NeuronProof, Phase} from "../../../contracts/types/Dispute.sol";
import {ModelPolicy} from "../../../contracts/types/Model.sol";
import {DisputeActors} from "./DisputeActors.sol";
import {DisputeGhosts} from "./DisputeGhosts.sol";
import {DisputeProviders} from "./DisputeProviders.sol";

/// @notice Plays dispute games over the commitments of `DisputeProviders`: the honest challenger disputes
/// only wrong commitments and plays correctly; the lying challenger disputes only correct ones and plays
/// at random; each provider answers as its strategy says (the cheater only what it can, and not always).
/// The honest actors are online: before time moves they make every move that is theirs, and a keeper
/// times out every lapsed game. Every call to the game goes through `_act`, which checks that a refusal
/// happens exactly when the strategy expects one, with the expected error. After every step
/// `DisputeGhosts.checkpoint` updates the ghosts the invariants read.
// solhint-disable-next-line max-states-count
contract DisputeGameHandler is Test {
    /// @notice One game: its params (passed with every move) and the commitment it is about.
    struct Play {
        DisputeParams params;
        bytes32 id;
        uint256 claim;
        bool honestChallenger;
    }

    /// @notice Largest clock step of `warp`: a lapsed game is never older than this past its deadline.
    uint256 public constant MAX_WARP = 2 hours;

    DisputeGame public game;
    InferenceLedger public ledger;
    StakeManager public stake;
    DisputeTinyModel public model;
    DisputeProviders public providers;
    DisputeGhosts public ghosts;
    bytes32 public modelId;
    uint96 public bond;
    uint96 public slashAmount;
    uint32 public responseWindow;

    Play[] private _plays;

    uint256 public honestOpens;
    uint256 public lyingOpens;
    uint256 public movesMade;
    /// @notice Moves refused exactly as the mover's strategy expected (a liar's proof, a cheater's forgery).
    uint256 public movesRefused;
    uint256 public warps;
    uint256 public timeouts;
    uint256 public closes;
    uint256 public claims;
    /// @notice Calls that found nothing to do.
    uint256 public skipped;
    uint256 public unexpectedReverts;
    bytes public lastUnexpectedRevert;

    constructor(
        DisputeGame game_,
        InferenceLedger ledger_,
        StakeManager stake_,
        DisputeTinyModel model_,
        DisputeProviders providers_,
        DisputeGhosts ghosts_,
        ModelPolicy memory policy
    ) {
        game = game_;
        ledger = ledger_;
        stake = stake_;
        model = model_;
        providers = providers_;
        ghosts = ghosts_;
        modelId = model_.modelId();
        bond = policy.challengerBond;
        slashAmount = policy.slashAmount;
        responseWindow = policy.responseWindow;
    }

    // ------------------------------------------------------------------ actions (fuzzed)

    /// @notice The honest challenger disputes a wrong commitment in its window (after committing one if none is).
    function openHonest(uint256 pick) public {
        _openOn(pick, false, DisputeActors.HONEST_CHALLENGER);
    }

    /// @notice The lying challenger disputes a correct commitment in its window (after committing one if none is).
    function openLying(uint256 pick) public {
        _openOn(pick, true, DisputeActors.LIAR);
    }

    /// @notice The party to move in an open game plays its strategy.
    function move(uint256 pick, uint256 seed) public {
        (bool found, uint256 g) = _openGame(pick);
        if (found) _play(g, seed);
        else ++skipped;
        ghosts.checkpoint();
    }

    /// @notice The honest actors make their due moves, the keeper times out every lapsed game, then time moves.
    function warp(uint256 secs) public {
        _honestMoves();
        _sweep();
        vm.warp(block.timestamp + bound(secs, 1, MAX_WARP));
        vm.roll(block.number + 1);
        ++warps;
        ghosts.checkpoint();
    }

    /// @notice Anyone times a game out (refused before its deadline).
    function timeout(uint256 pick) public {
        (bool found, uint256 g) = _openGame(pick);
        if (found) _timeout(g);
        else ++skipped;
        ghosts.checkpoint();
    }

    /// @notice Anyone closes a game whose target is overturned (refused otherwise).
    function closeOverturned(uint256 pick) public {
        (bool found, uint256 g) = _openGame(pick);
        if (found) {
            bool overturned = ledger.recordOf(_plays[g].params.target).overturned;
            bytes4 refusal = overturned ? bytes4(0) : IDisputeGame.DisputeGameTargetNotOverturned.selector;
            if (_act(DisputeActors.KEEPER, abi.encodeCall(game.closeOverturned, (_plays[g].params)), refusal)) {
                ++closes;
            }
        } else {
            ++skipped;
        }
        ghosts.checkpoint();
    }

    /// @notice An actor claims its credit.
    function claim(uint256 who) public {
        address[4] memory actors = [
            DisputeActors.HONEST_PROVIDER,
            DisputeActors.CHEATER,
            DisputeActors.HONEST_CHALLENGER,
            DisputeActors.LIAR
        ];
        address account = actors[who % 4];
        if (stake.creditOf(account) == 0) {
            ++skipped;
        } else {
            vm.prank(account);
            try stake.claim() {
                ++claims;
            } catch (bytes memory err) {
                _record(err);
            }
        }
        ghosts.checkpoint();
    }

    /// @notice Ends every game: for a few rounds every actor plays its strategy in every game (so games
    /// run to their proofs), then time passes and the keeper closes or times out what is left.
    function drain() external {
        for (uint256 round; round < 6 && ghosts.openGames() != 0; ++round) {
            for (uint256 step; step < 4; ++step) {
                for (uint256 g; g < _plays.length; ++g) {
                    if (game.gameOf(_plays[g].id).phase == Phase.Resolved) continue;
                    _play(g, uint256(keccak256(abi.encode(round, step, g))));
                    ghosts.checkpoint();
                }
            }
            _honestMoves();
            vm.warp(block.timestamp + responseWindow + 1);
            vm.roll(block.number + 1);
            _sweep();
        }
        ghosts.checkpoint();
    }

    // ------------------------------------------------------------------ views

    function playCount() external view returns (uint256) {
        return _plays.length;
    }

    function successfulCalls() external view returns (uint256) {
        return
            providers.honestCommits() +
            providers.cheatingCommits() +
            honestOpens +
            lyingOpens +
            movesMade +
            warps +
            timeouts +
            closes +
            claims;
    }

    // ------------------------------------------------------------------ games

    function _openOn(uint256 pick, bool honestClaim, address challenger) private {
        // Most openings land in a new block; a quarter share the block, where a second game of the same
        // challenger on the same target is refused as a duplicate (the nonce is the block number).
        if (pick % 4 != 0) vm.roll(block.number + 1);
        (bool found, uint256 i) = providers.disputable(pick, honestClaim);
        if (!found) {
            if (honestClaim) providers.commitHonest(pick);
            else providers.commitCheating(pick, pick);
            (found, i) = providers.disputable(pick, honestClaim);
        }
        if (found) _open(i, challenger);
        else ++skipped;
        ghosts.checkpoint();
    }

    function _open(uint256 i, address challenger) private {
        DisputeProviders.Claim memory c = providers.claimOf(i);
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
            nonce: uint64(block.number)
        });
        // The nonce is the block number: a second game of one challenger on one target in a block is refused.
        bool duplicate = game.gameOf(keccak256(abi.encode(p))).phase != Phase.None;
        vm.prank(challenger);
        try game.openDispute(c.id, modelId, c.inference) returns (bytes32 disputeId) {
            if (duplicate) _record("a duplicate game was opened");
            if (disputeId != keccak256(abi.encode(p))) _record("the dispute id is not the params hash");
            bool honest = challenger == DisputeActors.HONEST_CHALLENGER;
            _plays.push(Play({params: p, id: disputeId, claim: i, honestChallenger: honest}));
            ghosts.onOpen(disputeId, c.id, c.honest, honest, p.bond, p.challengerShareBps);
            if (honest) ++honestOpens;
            else ++lyingOpens;
        } catch (bytes memory err) {
            if (duplicate && _selectorOf(err) == IDisputeGame.DisputeGameDuplicate.selector) ++movesRefused;
            else _record(err);
        }
    }

    /// @dev The strategy of whoever is to move in game `g`; honest actors always move correctly.
    function _play(uint256 g, uint256 seed) private {
        Play storage play = _plays[g];
        GameState memory s = game.gameOf(play.id);
        if (block.timestamp > s.deadline) {
            ++skipped; // lapsed: only the timeout decides now
            return;
        }
        DisputeProviders.Claim memory c = providers.claimOf(play.claim);
        if (s.phase == Phase.AwaitingTrace || s.phase == Phase.AwaitingLayerReveal) {
            if (c.honest || seed % 4 != 0) _providerMove(play, c, s);
            else ++skipped; // a quarter of the time the cheater stays silent
        } else if (play.honestChallenger) {
            _honestChallengerMove(play, c, s);
        } else {
            _liarMove(play, c, s, seed);
        }
    }

    /// @dev A provider reveals what it committed. Where the cheater has nothing that fits (kind 2's trace,
    /// kind 3's layer 1) it tries the honest values and must be refused.
    function _providerMove(Play storage play, DisputeProviders.Claim memory c, GameState memory s) private {
        bytes memory data;
        bytes4 refusal;
        if (s.phase == Phase.AwaitingTrace) {
            data = abi.encodeCall(game.revealTrace, (play.params, c.hashes));
            if (!c.honest && c.kind == 2) refusal = IDisputeGame.DisputeGameTraceOutputMismatch.selector;
        } else {
            bytes memory act = c.acts[s.layer];
            if (act.length == 0) {
                act = c.honestActs[s.layer];
                refusal = IDisputeGame.DisputeGameActivationMismatch.selector;
            }
            data = abi.encodeCall(game.revealLayer, (play.params, s.layer, c.hashes, act));
        }
        if (_act(c.provider, data, refusal)) ++movesMade;
    }

    /// @dev Selects the first layer whose hash differs from the honest run's, then proves its neuron.
    function _honestChallengerMove(Play storage play, DisputeProviders.Claim memory c, GameState memory s) private {
        bytes memory data;
        if (s.phase == Phase.AwaitingLayerSelection) {
            uint16 layer = c.hashes[1] != c.honestHashes[1] ? 1 : 2;
            data = abi.encodeCall(game.selectLayer, (play.params, layer));
        } else {
            NeuronProof memory proof = model.neuronProof(c.hashes, s.layer, c.honestActs[s.layer - 1], c.acts[s.layer]);
            data = abi.encodeCall(game.proveNeuron, (play.params, proof));
        }
        if (_act(DisputeActors.HONEST_CHALLENGER, data, bytes4(0))) ++movesMade;
    }

    /// @dev Selects any layer (sometimes an invalid one), then tries to prove a neuron that is right, with
    /// its own row (NeuronMatches) or another layer's (InvalidRowProof, refused before any arithmetic).
    function _liarMove(Play storage play, DisputeProviders.Claim memory c, GameState memory s, uint256 seed) private {
        bytes memory data;
        bytes4 refusal;
        if (s.phase == Phase.AwaitingLayerSelection) {
            uint16 layer = uint16(seed % 4); // 0 and 3 are outside 1..2
            if (layer == 0 || layer == 3) refusal = IDisputeGame.DisputeGameInvalidLayer.selector;
            data = abi.encodeCall(game.selectLayer, (play.params, layer));
        } else {
            NeuronProof memory proof = model.neuronProof(c.hashes, s.layer, c.acts[s.layer - 1], c.acts[s.layer]);
            refusal = IDisputeGame.DisputeGameNeuronMatches.selector;
            if (seed % 2 == 1) {
                uint32 other = s.layer == 1 ? 2 : 1;
                proof.bias = model.bias(other);
                proof.row = model.row(other);
                proof.rowProof = model.rowProof(other);
                refusal = IDisputeGame.DisputeGameInvalidRowProof.selector;
            }
            data = abi.encodeCall(game.proveNeuron, (play.params, proof));
        }
        if (_act(DisputeActors.LIAR, data, refusal)) ++movesMade;
    }

    /// @dev The online honest actors make every move that is theirs and still in time.
    function _honestMoves() private {
        for (uint256 g; g < _plays.length; ++g) {
            Play storage play = _plays[g];
            GameState memory s = game.gameOf(play.id);
            if (s.phase == Phase.Resolved || block.timestamp > s.deadline) continue;
            bool providerMoves = s.phase == Phase.AwaitingTrace || s.phase == Phase.AwaitingLayerReveal;
            DisputeProviders.Claim memory c = providers.claimOf(play.claim);
            if (providerMoves && c.honest) _providerMove(play, c, s);
            else if (!providerMoves && play.honestChallenger) _honestChallengerMove(play, c, s);
            ghosts.checkpoint();
        }
    }

    /// @dev The keeper closes every game whose target is overturned and times out every other lapsed one,
    /// one checkpoint per game so that slashes are attributed.
    function _sweep() private {
        for (uint256 g; g < _plays.length; ++g) {
            GameState memory s = game.gameOf(_plays[g].id);
            if (s.phase == Phase.Resolved) continue;
            if (ledger.recordOf(_plays[g].params.target).overturned) {
                bytes memory data = abi.encodeCall(game.closeOverturned, (_plays[g].params));
                if (_act(DisputeActors.KEEPER, data, bytes4(0))) ++closes;
            } else if (block.timestamp > s.deadline) {
                _timeout(g);
            }
            ghosts.checkpoint();
        }
    }

    function _timeout(uint256 g) private {
        bool due = block.timestamp > game.gameOf(_plays[g].id).deadline;
        bytes4 refusal = due ? bytes4(0) : IDisputeGame.DisputeGameDeadlineNotPassed.selector;
        if (_act(DisputeActors.KEEPER, abi.encodeCall(game.timeout, (_plays[g].params)), refusal)) ++timeouts;
    }

    function _openGame(uint256 pick) private view returns (bool, uint256) {
        uint256 n = _plays.length;
        for (uint256 k; k < n; ++k) {
            uint256 g = ((pick % n) + k) % n;
            if (game.gameOf(_plays[g].id).phase != Phase.Resolved) return (true, g);
        }
        return (false, 0);
    }

    /// @dev Sends `data` to the game as `actor`. A refusal is fine only when one was expected, with exactly
    /// the expected error; a success where a refusal was expected, or any other refusal, is recorded.
    function _act(address actor, bytes memory data, bytes4 refusal) private returns (bool ok) {
        bytes memory ret;
        vm.prank(actor);
        // solhint-disable-next-line avoid-low-level-calls
        (ok, ret) = address(game).call(data);
        if (ok) {
            if (refusal != bytes4(0)) _record("a move that must be refused was accepted");
            return true;
        }
        if (refusal != bytes4(0) && _selectorOf(ret) == refusal) ++movesRefused;
        else _record(ret);
    }

    function _selectorOf(bytes memory err) private pure returns (bytes4 selector) {
        if (err.length >= 4) {
            assembly ("memory-safe") {
                selector := mload(add(err, 32))
            }
        }
    }

    function _record(bytes memory err) private {
        ++unexpectedReverts;
        lastUnexpectedRevert = err;
    }
}

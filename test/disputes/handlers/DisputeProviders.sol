// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../../utils/Test.sol";
import {InferenceLedger} from "../../../contracts/ledger/InferenceLedger.sol";
import {StakeManager} from "../../../contracts/staking/StakeManager.sol";
import {DisputeTinyModel} from "../../../contracts/mocks/DisputeTinyModel.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {CommitmentKey, CommitmentStatus, Inference} from "../../../contracts/types/Commitment.sol";
import {DisputeActors} from "./DisputeActors.sol";
import {DisputeGhosts} from "./DisputeGhosts.sol";

/// @notice The two provider actors' commitments on the tiny model: the honest provider commits the honest
/// run of an input; the cheating provider commits a wrong claim of one of five kinds. Either posts the input
/// itself (public) or a URI (the input can then be demanded in a game). Each commitment is kept with the
/// provider's claimed vectors and the honest run, which an honest re-executor also knows; the ghosts are
/// told which commitments are fraudulent.
contract DisputeProviders is Test {
    /// @notice Number of cheating kinds.
    uint8 public constant KINDS = 5;

    /// @notice One commitment and everything its provider and an honest re-executor know about it.
    struct Claim {
        bytes32 id;
        address provider;
        bool honest;
        /// Cheating kind: 0 wrong layer 1, 1 wrong layer 2, 2 wrong output under the honest trace root,
        /// 3 a layer-1 hash with no known preimage, 4 a malformed (3-byte) input.
        uint8 kind;
        /// The first layer an honest challenger disputes (1 or 2).
        uint16 fraudLayer;
        /// The commitment's event carries the input: no input demand is possible.
        bool inputPublic;
        uint48 windowEnd;
        Inference inference;
        /// The committed input (3 bytes for kind 4).
        bytes input;
        bytes32[] hashes;
        bytes[] acts;
        bytes[] honestActs;
    }

    InferenceLedger public ledger;
    StakeManager public stake;
    MockERC20 public token;
    DisputeTinyModel public model;
    DisputeGhosts public ghosts;
    bytes32 public modelId;
    uint256 public minStake;

    Claim[] private _claims;

    uint256 public honestCommits;
    uint256 public cheatingCommits;
    /// @notice Commitments not made because the same inference was already committed.
    uint256 public duplicates;
    uint256 public unexpectedReverts;
    bytes public lastUnexpectedRevert;

    constructor(
        InferenceLedger ledger_,
        StakeManager stake_,
        MockERC20 token_,
        DisputeTinyModel model_,
        DisputeGhosts ghosts_,
        bytes32 modelId_,
        uint256 minStake_
    ) {
        ledger = ledger_;
        stake = stake_;
        token = token_;
        model = model_;
        ghosts = ghosts_;
        modelId = modelId_;
        minStake = minStake_;
    }

    // ------------------------------------------------------------------ actions (fuzzed)

    /// @notice The honest provider commits the honest run of an input derived from `seed`.
    function commitHonest(uint256 seed) public returns (bool) {
        return _commit(seed, true, 0);
    }

    /// @notice The cheating provider commits a wrong claim of kind `kind % KINDS`.
    function commitCheating(uint256 seed, uint256 kind) public returns (bool) {
        return _commit(seed, false, uint8(kind % KINDS));
    }

    // ------------------------------------------------------------------ views

    function claimCount() external view returns (uint256) {
        return _claims.length;
    }

    function claimOf(uint256 i) external view returns (Claim memory) {
        return _claims[i];
    }

    function idOf(uint256 i) external view returns (bytes32) {
        return _claims[i].id;
    }

    function isHonest(uint256 i) external view returns (bool) {
        return _claims[i].honest;
    }

    function windowEndOf(uint256 i) external view returns (uint48) {
        return _claims[i].windowEnd;
    }

    /// @notice The first commitment from `pick` on, by the honest (or cheating) provider, still inside its
    /// window and not overturned.
    function disputable(uint256 pick, bool honest) external view returns (bool, uint256) {
        uint256 n = _claims.length;
        for (uint256 k; k < n; ++k) {
            uint256 i = ((pick % n) + k) % n;
            Claim storage c = _claims[i];
            if (c.honest != honest || block.timestamp > c.windowEnd) continue;
            if (ledger.status(c.id) == CommitmentStatus.Overturned) continue;
            return (true, i);
        }
        return (false, 0);
    }

    // ------------------------------------------------------------------ internals

    function _commit(uint256 seed, bool honest, uint8 kind) private returns (bool ok) {
        uint256 salt = uint256(keccak256(abi.encode(seed, _claims.length)));
        bytes memory x0 = abi.encodePacked(bytes2(uint16(salt)));
        (bytes[] memory acts, bytes32[] memory hashes, bytes32 root) = model.trace(x0);
        Claim storage c = _claims.push();
        c.provider = honest ? DisputeActors.HONEST_PROVIDER : DisputeActors.CHEATER;
        c.honest = honest;
        c.kind = kind;
        c.fraudLayer = 2;
        c.input = x0;
        c.honestActs = acts;
        c.inference = Inference({inputHash: hashes[0], outputHash: hashes[2], traceRoot: root});
        if (honest) {
            c.acts = acts;
            c.hashes = hashes;
        } else {
            _cheat(c, kind, salt);
        }
        // A third of the commitments post a URI: their input may be demanded in a game.
        bool uri = (salt >> 32) % 3 == 0;
        bytes memory data = uri ? bytes("ipfs://input") : c.input;
        c.inputPublic = !uri && c.input.length == 2;

        Inference memory inf = c.inference;
        address provider = c.provider;
        bytes32 id = keccak256(abi.encode(CommitmentKey(provider, modelId, inf, bytes32(0))));
        if (ledger.recordOf(id).provider != address(0)) {
            _claims.pop(); // the same inference again: the ledger would refuse a duplicate
            ++duplicates;
            return false;
        }
        if (!honest) _topUp();
        vm.prank(provider);
        try ledger.commit(modelId, inf.inputHash, inf.outputHash, inf.traceRoot, data) returns (bytes32 committed) {
            if (committed != id) _record("commitment id differs");
            c.id = committed;
            c.windowEnd = ledger.recordOf(committed).challengeDeadline;
            if (honest) ++honestCommits;
            else ++cheatingCommits;
            ghosts.onCommit(committed, !honest);
            ok = true;
        } catch (bytes memory err) {
            _claims.pop();
            _record(err);
        }
    }

    /// @dev Writes the cheating provider's claim of kind `kind` over the honest run already in `c`.
    function _cheat(Claim storage c, uint8 kind, uint256 salt) private {
        bytes[] memory acts = new bytes[](3);
        acts[0] = c.honestActs[0];
        acts[1] = c.honestActs[1];
        acts[2] = _flip(c.honestActs[2]);
        if (kind == 0) {
            acts[1] = _flip(c.honestActs[1]);
            acts[2] = model.layerOutput(2, acts[1]); // consistent from the wrong layer on
            c.fraudLayer = 1;
        } else if (kind == 3) {
            acts[1] = ""; // no preimage known, not even to the provider
            c.fraudLayer = 1;
        } else if (kind == 4) {
            // A 3-byte input where the model takes 2: the run is consistent from it on, but no input of the
            // model's width hashes to it. An honest challenger proves it at layer 1 with the input itself.
            acts[0] = abi.encodePacked(c.input, bytes1(uint8(salt >> 64)));
            acts[1] = abi.encodePacked(bytes1(uint8(salt >> 72)));
            acts[2] = model.layerOutput(2, acts[1]);
            c.input = acts[0];
            c.honestActs = acts; // what an honest re-executor proves with
            c.fraudLayer = 1;
        }
        bytes32[] memory hashes = new bytes32[](3);
        hashes[0] = keccak256(acts[0]);
        hashes[1] = kind == 3 ? keccak256(abi.encode("junk", salt)) : keccak256(acts[1]);
        hashes[2] = keccak256(acts[2]);
        c.acts = acts;
        if (kind == 2) {
            // The honest trace root with a wrong output hash: no trace fits both.
            bytes32[] memory honestHashes = new bytes32[](3);
            for (uint256 i; i < 3; ++i) honestHashes[i] = keccak256(c.honestActs[i]);
            c.hashes = honestHashes;
            c.inference.outputHash = hashes[2];
        } else {
            c.hashes = hashes;
            c.inference = Inference({
                inputHash: hashes[0],
                outputHash: hashes[2],
                traceRoot: model.traceRootOf(hashes)
            });
        }
    }

    /// @dev Keeps the cheater able to commit after slashes.
    function _topUp() private {
        uint256 active = stake.stakeOf(DisputeActors.CHEATER).active;
        if (active >= minStake) return;
        uint256 amount = minStake - active;
        token.mint(DisputeActors.CHEATER, amount);
        vm.prank(DisputeActors.CHEATER);
        stake.deposit(amount);
        ghosts.onTopUp(amount);
    }

    function _flip(bytes memory v) private pure returns (bytes memory w) {
        w = bytes.concat(v);
        w[0] = w[0] ^ bytes1(0x01);
    }

    function _record(bytes memory err) private {
        ++unexpectedReverts;
        lastUnexpectedRevert = err;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VerityBase} from "../utils/VerityBase.sol";
import {IDisputeGame} from "../../contracts/interfaces/IDisputeGame.sol";
import {CommitmentKey, CommitmentStatus, Inference} from "../../contracts/types/Commitment.sol";
import {DisputeParams, GameState, NeuronProof, Outcome, Phase} from "../../contracts/types/Dispute.sol";
import {ModelPolicy} from "../../contracts/types/Model.sol";

/// @notice Dispute game properties on the tiny two-layer model, fuzzed over every input: opener-chosen
/// nonces, the exact length of every reveal (each refused reveal leaves the game as it was), input
/// demands, structural fraud, and the fraud proofs themselves.
contract DisputeGameTest is VerityBase {
    address private constant _PROVIDER = address(0xA11CE);
    address private constant _CHALLENGER = address(0xC0DE);

    ModelPolicy private policy;
    bytes32 private modelId;

    function setUp() public {
        deployVerity();
        policy = tinyPolicy();
        modelId = registerTiny(policy);
        stakeProvider(_PROVIDER, 1000e18);
        fund(_CHALLENGER, 1e24);
    }

    // ------------------------------------------------------------------ opening

    /// @notice The opener's nonce makes the id: the same nonce twice is a duplicate (refused, nothing
    /// locked or taken), another nonce in the same block opens a second game.
    /// (The old id used the block number: a reorg that moved the opening changed the game's id.)
    function testFuzz_openDispute_sameNonce_revertsDuplicate(uint64 nonce, uint64 other) public {
        vm.assume(nonce != other);
        (DisputeParams memory p, bytes32 id, ) = _commitAndOpen(hex"0102", 0, false, nonce);
        CommitmentKey memory key = keyOf(_PROVIDER, modelId, p.inference);
        uint256 bonds = stake.totalBonds();
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.DisputeGameDuplicate.selector, id));
        vm.prank(_CHALLENGER);
        game.openDispute(key, false, nonce);
        assertEq(stake.totalBonds(), bonds, "no second bond");
        assertEq(stake.stakeOf(_PROVIDER).openDisputes, 1, "one lock");
        assertEq(ledger.recordOf(p.target).openDisputes, 1, "one open dispute");

        vm.prank(_CHALLENGER);
        bytes32 second = game.openDispute(key, false, other);
        p.nonce = other;
        assertEq(second, keccak256(abi.encode(p)), "the nonce is in the id");
        assertTrue(second != id, "another nonce, another game");
        assertEq(stake.stakeOf(_PROVIDER).openDisputes, 2, "two locks");
    }

    /// @notice An input demand on a commitment whose event carries its input is refused; nothing changes.
    function test_openDispute_demandOnPublicInput_reverts() public {
        (Inference memory inf, , ) = tinyRun(hex"0102", 0);
        bytes32 target = commitAs(_PROVIDER, modelId, inf, hex"0102");
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.DisputeGameInputAlreadyPublic.selector, target));
        vm.prank(_CHALLENGER);
        game.openDispute(keyOf(_PROVIDER, modelId, inf), true, 0);
        assertEq(ledger.recordOf(target).openDisputes, 0, "no dispute");
        assertEq(stake.totalBonds(), 0, "no bond");
        assertEq(stake.stakeOf(_PROVIDER).openDisputes, 0, "no lock");
    }

    // ------------------------------------------------------------------ reveal lengths

    /// @notice A trace of any length but L + 1 = 3 is refused with both lengths, and the game stays as it was.
    /// (The old game accepted any length up to 65,536: an honest challenger could be made to pay for the
    /// calldata of a trace far longer than the model.)
    function testFuzz_revealTrace_wrongLength_reverts(uint256 length) public {
        length = bound(length, 0, 64);
        if (length == 3) length = 4;
        (DisputeParams memory p, bytes32 id, ) = _commitAndOpen(hex"0102", 0, false, 0);
        GameState memory before = game.gameOf(id);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeGame.DisputeGameInvalidTraceLength.selector, length, uint256(3))
        );
        vm.prank(_PROVIDER);
        game.revealTrace(p, new bytes32[](length));
        _assertUnchanged(id, before);
    }

    /// @notice An activation of any width but outDim(l) = 1 is refused with the layer and both widths,
    /// even when it hashes to the committed layer hash; the game stays as it was.
    function testFuzz_revealLayer_wrongWidth_reverts(bytes2 input, uint256 width, bool second) public {
        width = bound(width, 0, 100);
        if (width == 1) width = 0;
        // The provider commits a layer hash of a vector of the wrong width: the length check is what refuses it.
        (Inference memory inf, bytes[] memory acts, bytes32[] memory hashes) = tinyRun(abi.encodePacked(input), 0);
        uint16 layer = second ? 2 : 1;
        acts[layer] = new bytes(width);
        hashes[layer] = keccak256(acts[layer]);
        if (layer == 2) inf.outputHash = hashes[2];
        inf.traceRoot = tiny.traceRootOf(hashes);
        (DisputeParams memory p, bytes32 id) = _open(inf, abi.encodePacked(input), false, 7);
        vm.prank(_PROVIDER);
        game.revealTrace(p, hashes);
        vm.prank(_CHALLENGER);
        game.selectLayer(p, layer);
        GameState memory before = game.gameOf(id);

        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeGame.DisputeGameActivationLengthMismatch.selector,
                uint256(layer),
                uint256(1),
                width
            )
        );
        vm.prank(_PROVIDER);
        game.revealLayer(p, layer, hashes, acts[layer]);
        _assertUnchanged(id, before);

        // Unable to reveal what it committed, the provider loses at the deadline.
        vm.warp(block.timestamp + policy.responseWindow + 1);
        game.timeout(p);
        assertEq(uint256(game.gameOf(id).outcome), uint256(Outcome.ChallengerWon), "challenger won");
    }

    /// @notice A demanded input must be exactly inDim(1) = 2 bytes hashing to the input hash; anything else
    /// is refused with the exact error and leaves the game as it was; the right input moves it on.
    function testFuzz_revealInput_wrongLengthOrBytes_reverts(bytes2 input, uint256 length, bytes2 other) public {
        length = bound(length, 0, 300);
        if (length == 2) length = 3;
        vm.assume(other != input);
        (Inference memory inf, , ) = tinyRun(abi.encodePacked(input), 0);
        (DisputeParams memory p, bytes32 id) = _open(inf, "ipfs://input", true, 0);
        GameState memory before = game.gameOf(id);
        assertEq(uint256(before.phase), uint256(Phase.AwaitingInput), "input demanded");

        vm.expectRevert(
            abi.encodeWithSelector(IDisputeGame.DisputeGameInputLengthMismatch.selector, uint256(2), length)
        );
        vm.prank(_PROVIDER);
        game.revealInput(p, new bytes(length));
        _assertUnchanged(id, before);

        bytes memory wrong = abi.encodePacked(other);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeGame.DisputeGameInputHashMismatch.selector, inf.inputHash, keccak256(wrong))
        );
        vm.prank(_PROVIDER);
        game.revealInput(p, wrong);
        _assertUnchanged(id, before);

        vm.prank(_PROVIDER);
        game.revealInput(p, abi.encodePacked(input));
        assertEq(uint256(game.gameOf(id).phase), uint256(Phase.InputRevealed), "input revealed");
    }

    /// @notice A challenger that saw the demanded input and lets the game lapse gets its bond back; the
    /// provider, who answered, loses nothing.
    function test_inputDemand_lapsedByChallenger_refunds() public {
        (Inference memory inf, , ) = tinyRun(hex"0102", 0);
        (DisputeParams memory p, bytes32 id) = _open(inf, "ipfs://input", true, 0);
        vm.prank(_PROVIDER);
        game.revealInput(p, hex"0102");
        vm.warp(block.timestamp + policy.responseWindow + 1);
        game.timeout(p);
        assertEq(uint256(game.gameOf(id).outcome), uint256(Outcome.Refunded), "refunded");
        assertEq(stake.creditOf(_CHALLENGER), policy.challengerBond, "bond back");
        assertEq(stake.stakeOf(_PROVIDER).active, 1000e18, "not slashed");
        assertEq(uint256(ledger.status(p.target)), uint256(CommitmentStatus.Final), "final after its window");
    }

    // ------------------------------------------------------------------ fuzzed games

    /// @notice For every input and every wrong value of layer 2, the honest challenger proves the fraud.
    function testFuzz_proveNeuron_wrongOutput_alwaysSlashes(bytes2 input, uint8 delta) public {
        delta = uint8(bound(delta, 1, 255));
        (DisputeParams memory p, bytes32 id, bytes[] memory claimed) = _commitAndOpen(
            abi.encodePacked(input),
            delta,
            false,
            1
        );
        _play(p, _hashes(claimed), 2, claimed[2]);
        (bytes[] memory honest, , ) = tiny.trace(abi.encodePacked(input));
        NeuronProof memory proof = tiny.neuronProof(2, honest[1], claimed[2]);
        vm.prank(_CHALLENGER);
        game.proveNeuron(p, proof);
        assertEq(uint256(game.gameOf(id).outcome), uint256(Outcome.ChallengerWon), "challenger won");
        assertTrue(game.gameOf(id).rewardPaid, "the only game is paid at once");
        assertEq(stake.stakeOf(_PROVIDER).active, 1000e18 - 50e18, "slashed");
        assertEq(stake.creditOf(_CHALLENGER), 10e18 + 25e18, "bond and share");
        assertEq(stake.creditOf(TREASURY), 25e18, "treasury: the rest");
        assertEq(stake.totalBonds(), 0, "nothing held");
        assertEq(uint256(ledger.status(p.target)), uint256(CommitmentStatus.Overturned), "overturned");
        assertEq(token.balanceOf(address(stake)), stake.totalOwed(), "funds conserved");
    }

    /// @notice For every input and either layer, a correct provider's neuron cannot be proven wrong.
    function testFuzz_proveNeuron_correctNeuron_neverSlashes(bytes2 input, bool second) public {
        (DisputeParams memory p, bytes32 id, bytes[] memory claimed) = _commitAndOpen(
            abi.encodePacked(input),
            0,
            false,
            2
        );
        uint16 layer = second ? 2 : 1;
        _play(p, _hashes(claimed), layer, claimed[layer]);
        NeuronProof memory proof = tiny.neuronProof(layer, claimed[layer - 1], claimed[layer]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeGame.DisputeGameNeuronMatches.selector,
                uint32(0),
                int8(uint8(claimed[layer][0]))
            )
        );
        vm.prank(_CHALLENGER);
        game.proveNeuron(p, proof);
        assertEq(uint256(game.gameOf(id).phase), uint256(Phase.AwaitingNeuronProof), "still the challenger's move");
        vm.warp(block.timestamp + policy.responseWindow + 1);
        game.timeout(p);
        assertEq(uint256(game.gameOf(id).outcome), uint256(Outcome.ProviderWon), "provider won");
        assertEq(stake.stakeOf(_PROVIDER).active, 1000e18, "not slashed");
        assertEq(stake.creditOf(_PROVIDER), 10e18, "the bond");
    }

    /// @notice A committed input of the wrong length (here 3 bytes, posted as the commitment's data) is
    /// structural fraud at layer 1: the challenger proves it with the input itself.
    function testFuzz_proveNeuron_malformedInput_isStructuralFraud(bytes3 input, int8 claimed) public {
        bytes memory x0 = abi.encodePacked(input);
        bytes[] memory acts = new bytes[](3);
        acts[0] = x0;
        acts[1] = abi.encodePacked(claimed);
        acts[2] = tiny.layerOutput(2, acts[1]);
        bytes32[] memory hashes = _hashes(acts);
        Inference memory inf = Inference(hashes[0], hashes[2], tiny.traceRootOf(hashes));
        (DisputeParams memory p, bytes32 id) = _open(inf, x0, false, 3);
        _play(p, hashes, 1, acts[1]);
        NeuronProof memory proof = tiny.neuronProof(1, x0, acts[1]);
        vm.prank(_CHALLENGER);
        game.proveNeuron(p, proof);
        assertEq(uint256(game.gameOf(id).outcome), uint256(Outcome.ChallengerWon), "structural fraud");
        assertEq(stake.stakeOf(_PROVIDER).active, 1000e18 - 50e18, "slashed");
    }

    // ------------------------------------------------------------------ sybil co-winners

    /// @notice GAP (reported): the provider's sybil opens three more games on its own wrong commitment and
    /// wins them all (it knows the fraud). The share is split among the four winners: the honest challenger
    /// gets 25e18 / 4 = 6.25e18, less than its 10e18 bond, although the registry's bound `bond <= 20% of the
    /// slash` is documented as "an honest challenger's reward covers its bond". The provider still loses
    /// more than half of the slash (the 50% cap holds), and the honest challenger loses nothing, but its
    /// reward falls as 1 / (sybil games + 1) at the cost of the sybil's gas only.
    function test_gap_sybilCoWinners_diluteHonestRewardBelowBond() public {
        address sybil = address(0x5B11);
        fund(sybil, 1e24);
        (DisputeParams memory p, bytes32 id, bytes[] memory claimed) = _commitAndOpen(hex"0102", 1, false, 0);
        (bytes[] memory honest, , ) = tiny.trace(hex"0102");
        CommitmentKey memory key = keyOf(_PROVIDER, modelId, p.inference);
        DisputeParams[] memory games = new DisputeParams[](4);
        games[0] = p;
        for (uint64 k = 1; k < 4; ++k) {
            vm.prank(sybil);
            game.openDispute(key, false, k);
            games[k] = abi.decode(abi.encode(p), (DisputeParams)); // a copy: memory structs alias
            games[k].challenger = sybil;
            games[k].nonce = k;
        }
        bytes32[] memory hashes = _hashes(claimed);
        NeuronProof memory proof = tiny.neuronProof(2, honest[1], claimed[2]);
        // The sybil games go first (the provider answers them at once); the honest one ends last.
        for (uint256 k = 4; k > 0; --k) {
            DisputeParams memory q = games[k - 1];
            vm.prank(_PROVIDER);
            game.revealTrace(q, hashes);
            vm.prank(q.challenger);
            game.selectLayer(q, 2);
            vm.prank(_PROVIDER);
            game.revealLayer(q, 2, hashes, claimed[2]);
            vm.prank(q.challenger);
            game.proveNeuron(q, proof);
        }
        assertTrue(game.gameOf(id).rewardPaid, "the honest game, last to end, is paid at once");
        for (uint256 k = 1; k < 4; ++k) game.claimReward(games[k]);

        uint256 honestReward = stake.creditOf(_CHALLENGER) - policy.challengerBond;
        assertEq(honestReward, 6.25e18, "the honest challenger's part: a quarter of the share");
        assertLe(honestReward, policy.challengerBond - 1, "below the bond the policy bound promises to cover");
        assertEq(stake.creditOf(sybil), 3 * (policy.challengerBond + 6.25e18), "the sybil: three bonds and parts");
        // The provider's loss: the slash less what its sybil won back, still at least half of the slash.
        uint256 recovered = stake.creditOf(sybil) - 3 * policy.challengerBond;
        assertGe(policy.slashAmount - recovered, policy.slashAmount / 2, "the 50% cap holds");
        assertEq(stake.totalBonds(), 0, "everything paid");
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Commits the run on `x0` with its output xor `delta` (0: honest), posting the input, and opens a
    /// dispute with `nonce`.
    function _commitAndOpen(
        bytes memory x0,
        uint8 delta,
        bool demandInput,
        uint64 nonce
    ) private returns (DisputeParams memory p, bytes32 id, bytes[] memory acts) {
        Inference memory inf;
        (inf, acts, ) = tinyRun(x0, delta);
        (p, id) = _open(inf, x0, demandInput, nonce);
    }

    /// @dev The provider commits `inf` with `inputData`; the challenger opens a dispute on it.
    function _open(
        Inference memory inf,
        bytes memory inputData,
        bool demandInput,
        uint64 nonce
    ) private returns (DisputeParams memory p, bytes32 id) {
        bytes32 target = commitAs(_PROVIDER, modelId, inf, inputData);
        p = DisputeParams({
            target: target,
            isLeaf: false,
            modelId: modelId,
            provider: _PROVIDER,
            challenger: _CHALLENGER,
            inference: inf,
            bond: policy.challengerBond,
            slashAmount: policy.slashAmount,
            responseWindow: policy.responseWindow,
            challengerShareBps: DEFAULT_SHARE_BPS,
            numLayers: 2,
            nonce: nonce
        });
        CommitmentKey memory key = keyOf(_PROVIDER, modelId, inf);
        vm.prank(_CHALLENGER);
        id = game.openDispute(key, demandInput, nonce);
        assertEq(id, keccak256(abi.encode(p)), "dispute id");
    }

    /// @dev The provider reveals the trace, the challenger selects `layer`, the provider reveals `activation`.
    function _play(DisputeParams memory p, bytes32[] memory hashes, uint16 layer, bytes memory activation) private {
        vm.prank(_PROVIDER);
        game.revealTrace(p, hashes);
        vm.prank(_CHALLENGER);
        game.selectLayer(p, layer);
        vm.prank(_PROVIDER);
        game.revealLayer(p, layer, hashes, activation);
    }

    function _assertUnchanged(bytes32 id, GameState memory before) private view {
        assertEq(keccak256(abi.encode(game.gameOf(id))), keccak256(abi.encode(before)), "the game changed");
    }

    function _hashes(bytes[] memory acts) private pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](acts.length);
        for (uint256 i; i < acts.length; ++i) hashes[i] = keccak256(acts[i]);
    }
}

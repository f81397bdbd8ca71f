// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../utils/Test.sol";
import {DisputeGame} from "../../contracts/DisputeGame.sol";
import {IDisputeGame} from "../../contracts/interfaces/IDisputeGame.sol";
import {InferenceLedger} from "../../contracts/InferenceLedger.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {StakeManager} from "../../contracts/StakeManager.sol";
import {DenseInt8} from "../../contracts/libraries/DenseInt8.sol";
import {PolicyBounds} from "../../contracts/libraries/PolicyBounds.sol";
import {DisputeTinyModel} from "../../contracts/mocks/DisputeTinyModel.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {Inference} from "../../contracts/types/Commitment.sol";
import {DisputeParams, NeuronProof, Outcome, Phase} from "../../contracts/types/Dispute.sol";
import {ModelPolicy} from "../../contracts/types/Model.sol";

/// @notice Dispute game properties on the tiny two-layer model, fuzzed over every input, and the trace
/// length bound, which no transaction can reach on chains with the 2^24 gas cap (2 MB of calldata).
contract DisputeGameTest is Test {
    address private constant _PROVIDER = address(0xA11CE);
    address private constant _CHALLENGER = address(0xC0DE);
    address private constant _TREASURY = address(0x7EA5);

    MockERC20 private token;
    InferenceLedger private ledger;
    StakeManager private stake;
    DisputeGame private game;
    DisputeTinyModel private model;
    ModelPolicy private policy;
    bytes32 private modelId;

    function setUp() public {
        token = new MockERC20("Verity Test Token", "VTT");
        ledger = new InferenceLedger(address(this));
        ModelRegistry registry = new ModelRegistry(address(this), ledger);
        stake = new StakeManager(token, ledger, address(this), _TREASURY, 5000, PolicyBounds.MIN_UNBONDING_DELAY + 1);
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
        modelId = registry.registerModel(model.weightsRoot(), model.graphHash(), DenseInt8.ENGINE_ID, "tiny", policy);
        address[2] memory actors = [_PROVIDER, _CHALLENGER];
        for (uint256 i; i < 2; ++i) {
            token.mint(actors[i], 1e24);
            vm.prank(actors[i]);
            token.approve(address(stake), type(uint256).max);
        }
        vm.prank(_PROVIDER);
        stake.deposit(1000e18);
    }

    // ------------------------------------------------------------------ opening

    function test_openDispute_twiceInOneBlock_revertsDuplicate() public {
        (DisputeParams memory p, bytes32 id, ) = _commitAndOpen(hex"0102", 0);
        uint256 bonds = stake.totalBonds();
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.DisputeGameDuplicate.selector, id));
        vm.prank(_CHALLENGER);
        game.openDispute(p.target, modelId, p.inference);
        assertEq(stake.totalBonds(), bonds, "no second bond");
        assertEq(stake.stakeOf(_PROVIDER).openDisputes, 1, "one lock");
        vm.roll(block.number + 1);
        vm.prank(_CHALLENGER);
        bytes32 second = game.openDispute(p.target, modelId, p.inference);
        assertTrue(second != id, "a new block, a new game");
        assertEq(stake.stakeOf(_PROVIDER).openDisputes, 2, "two locks");
    }

    // ------------------------------------------------------------------ trace length

    function test_revealTrace_moreThan65536Hashes_reverts() public {
        (DisputeParams memory p, , ) = _commitAndOpen(hex"0102", 0);
        bytes32[] memory hashes = new bytes32[](65_537);
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.DisputeGameInvalidTraceLength.selector, 65_537));
        vm.prank(_PROVIDER);
        game.revealTrace(p, hashes);
    }

    function test_revealTrace_65536Hashes_passesTheLengthCheck() public {
        (DisputeParams memory p, , ) = _commitAndOpen(hex"0102", 0);
        bytes32[] memory hashes = new bytes32[](65_536);
        bytes memory expected = abi.encodeWithSelector(
            IDisputeGame.DisputeGameTraceRootMismatch.selector,
            p.inference.traceRoot,
            keccak256(abi.encodePacked(hashes))
        );
        vm.expectRevert(expected);
        vm.prank(_PROVIDER);
        game.revealTrace(p, hashes);
    }

    // ------------------------------------------------------------------ fuzzed games

    /// @notice For every input and every wrong value of layer 2, the honest challenger proves the fraud.
    function testFuzz_proveNeuron_wrongOutput_alwaysSlashes(bytes2 input, uint8 delta) public {
        delta = uint8(bound(delta, 1, 255));
        (DisputeParams memory p, bytes32 id, bytes[] memory claimed) = _commitAndOpen(abi.encodePacked(input), delta);
        bytes32[] memory hashes = _hashes(claimed);
        _play(p, hashes, 2, claimed[2]);
        (bytes[] memory honest, , ) = model.trace(abi.encodePacked(input));
        NeuronProof memory proof = model.neuronProof(hashes, 2, honest[1], claimed[2]);
        vm.prank(_CHALLENGER);
        game.proveNeuron(p, proof);
        assertEq(uint256(game.gameOf(id).outcome), uint256(Outcome.ChallengerWon), "challenger won");
        assertEq(stake.stakeOf(_PROVIDER).active, 1000e18 - 50e18, "slashed");
        assertEq(stake.creditOf(_CHALLENGER), 10e18 + 25e18, "bond and share");
        assertEq(token.balanceOf(address(stake)), stake.totalOwed(), "funds conserved");
    }

    /// @notice For every input and either layer, a correct provider's neuron cannot be proven wrong.
    function testFuzz_proveNeuron_correctNeuron_neverSlashes(bytes2 input, bool second) public {
        (DisputeParams memory p, bytes32 id, bytes[] memory claimed) = _commitAndOpen(abi.encodePacked(input), 0);
        uint16 layer = second ? 2 : 1;
        bytes32[] memory hashes = _hashes(claimed);
        _play(p, hashes, layer, claimed[layer]);
        NeuronProof memory proof = model.neuronProof(hashes, layer, claimed[layer - 1], claimed[layer]);
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

    // ------------------------------------------------------------------ helpers

    /// @dev Commits the run on `x0` with its output xor `delta` (0: honest) and opens a dispute.
    function _commitAndOpen(
        bytes memory x0,
        uint8 delta
    ) private returns (DisputeParams memory p, bytes32 id, bytes[] memory acts) {
        (acts, , ) = model.trace(x0);
        acts[2] = abi.encodePacked(acts[2][0] ^ bytes1(delta));
        bytes32[] memory hashes = _hashes(acts);
        Inference memory inf = Inference(hashes[0], hashes[2], model.traceRootOf(hashes));
        vm.prank(_PROVIDER);
        bytes32 target = ledger.commit(modelId, inf.inputHash, inf.outputHash, inf.traceRoot, x0);
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
            challengerShareBps: 5000,
            nonce: uint64(block.number)
        });
        vm.prank(_CHALLENGER);
        id = game.openDispute(target, modelId, inf);
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

    function _hashes(bytes[] memory acts) private pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](acts.length);
        for (uint256 i; i < acts.length; ++i) hashes[i] = keccak256(acts[i]);
    }
}

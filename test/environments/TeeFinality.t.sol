// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VerityBase} from "../utils/VerityBase.sol";
import {CommitmentStatus, Finality, Inference, TeeSeal} from "../../contracts/types/Commitment.sol";
import {TeeMode} from "../../contracts/types/Environment.sol";
import {ModelPolicy, ModelSpec} from "../../contracts/types/Model.sol";

/// @notice Settlement of TEE-signed commitments against revocations at any time: a Final answer never flips
/// back, and the fallback to the full window applies exactly when trust was lost by the TEE deadline.
contract TeeFinalityTest is VerityBase {
    uint256 private constant KEY = 0xA11CE;
    address private constant PROVIDER = address(0x9001);
    uint32 private constant TEE_WINDOW = 10 minutes;
    uint32 private constant FULL_WINDOW = 1 hours;
    uint256 private constant STEP = 5 minutes;

    bytes32 private windowModel;
    bytes32 private instantModel;
    bytes32 private environment;
    address private key;

    function setUp() public {
        deployVerity();
        ModelPolicy memory policy = tinyPolicy();
        policy.teeMode = TeeMode.Window;
        policy.teeWindow = TEE_WINDOW;
        windowModel = registerTiny(policy);
        stakeProvider(PROVIDER, 1_000e18);
        environment = approveSgx(1);
        vm.prank(PUBLISHER);
        registry.allowEnvironment(windowModel, environment);
        key = registerKey(PROVIDER, KEY, 1, 30 days);
    }

    function _commit(bytes32 modelId, uint64 nonce) private returns (bytes32 id) {
        Inference memory inference = Inference(keccak256("input"), keccak256("output"), keccak256("trace"));
        TeeSeal memory seal = sealOf(KEY, modelId, inference, environment, nonce);
        vm.prank(PROVIDER);
        id = ledger.commitTee(modelId, inference, "ipfs://input", seal);
    }

    function _revoke(bool wholeEnvironment) private {
        if (wholeEnvironment) {
            environments.revokeEnvironment(environment);
        } else {
            vm.prank(PROVIDER);
            environments.revokeEnclave(key);
        }
    }

    /// @notice Window mode: walking time in 5-minute steps with one revocation (of the key or of its
    /// environment) at a fuzzed moment, the status is Pending then Final for good, with the deadline and
    /// finality the fallback rule gives.
    function testFuzz_windowMode_neverFlipsBack(uint32 revokeAfter, bool wholeEnvironment, bool revoke) public {
        revokeAfter = uint32(bound(revokeAfter, 0, 2 hours));
        uint256 t0 = vm.getBlockTimestamp();
        bytes32 id = _commit(windowModel, 1);
        bool lostInTime = revoke && revokeAfter <= TEE_WINDOW;
        uint256 deadline = t0 + (lostInTime ? FULL_WINDOW : TEE_WINDOW);
        Finality settles = lostInTime ? Finality.ChallengeWindow : Finality.Tee;

        bool revoked;
        bool wasFinal;
        for (uint256 t = t0; t <= t0 + 2 hours + STEP; t += STEP) {
            if (revoke && !revoked && t >= t0 + revokeAfter) {
                vm.warp(t0 + revokeAfter);
                _revoke(wholeEnvironment);
                revoked = true;
            }
            vm.warp(t);
            (CommitmentStatus status, Finality finality) = ledger.finalityOf(id);
            if (wasFinal) assertEq(uint8(status), uint8(CommitmentStatus.Final), "Final flipped back");
            if (t > deadline) {
                assertEq(uint8(status), uint8(CommitmentStatus.Final), "final after the deadline in force");
                assertEq(uint8(finality), uint8(settles), "finality kind");
                wasFinal = true;
            } else {
                assertEq(uint8(status), uint8(CommitmentStatus.Pending), "pending until the deadline in force");
            }
        }
        assertTrue(wasFinal, "became final");
    }

    /// @notice The boundary: trust lost at the TEE deadline itself (the commitment was still Pending) falls
    /// back; one second later it is Final for good.
    function test_windowMode_keyRevokedAtTheDeadline_fallsBack() public {
        testFuzz_windowMode_neverFlipsBack(TEE_WINDOW, false, true);
    }

    function test_windowMode_environmentRevokedAtTheDeadline_fallsBack() public {
        testFuzz_windowMode_neverFlipsBack(TEE_WINDOW, true, true);
    }

    /// @notice One second after the TEE deadline the commitment is Final with finality Tee, for good.
    function test_windowMode_revocationJustAfterTheDeadline_staysTee() public {
        testFuzz_windowMode_neverFlipsBack(TEE_WINDOW + 1, false, true);
    }

    /// @notice Instant mode: Final with finality Tee from the commit on, whenever trust is lost.
    function testFuzz_instantMode_finalAtOnceAndForGood(uint32 revokeAfter, bool wholeEnvironment) public {
        ModelPolicy memory policy = tinyPolicy();
        policy.teeMode = TeeMode.Instant;
        policy.teeWindow = 1 days;
        ModelSpec memory spec = tinySpecV2(); // before the prank: it calls the mock
        vm.prank(PUBLISHER);
        bytes32 modelId = registry.registerVersion(windowModel, spec, policy);
        vm.prank(PUBLISHER);
        registry.allowEnvironment(modelId, environment);

        revokeAfter = uint32(bound(revokeAfter, 0, 2 days));
        uint256 t0 = vm.getBlockTimestamp();
        bytes32 id = _commit(modelId, 2);
        for (uint256 t = t0; t <= t0 + 3 days; t += 6 hours) {
            if (t >= t0 + revokeAfter && t < t0 + revokeAfter + 6 hours) _revoke(wholeEnvironment);
            vm.warp(t);
            (CommitmentStatus status, Finality finality) = ledger.finalityOf(id);
            assertEq(uint8(status), uint8(CommitmentStatus.Final), "instant: Final");
            assertEq(uint8(finality), uint8(Finality.Tee), "instant: finality Tee");
        }
    }

    /// @notice The tiny model's spec under another weights root (a new version with its own policy).
    function tinySpecV2() private view returns (ModelSpec memory) {
        ModelSpec memory spec = tinySpec();
        spec.weightsRoot = keccak256("weights v2");
        return spec;
    }
}

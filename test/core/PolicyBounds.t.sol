// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../utils/Test.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {InferenceLedger} from "../../contracts/InferenceLedger.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {StakeManager} from "../../contracts/StakeManager.sol";
import {PolicyBounds} from "../../contracts/libraries/PolicyBounds.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {CommitTerms, ModelPolicy, ModelStatus} from "../../contracts/types/Model.sol";

/// @notice Fuzz tests of the model policy bounds (`ModelRegistry._checkPolicy`), the deprecation grace
/// bound, and the ledger's admission-cache copy of each model's `CommitTerms`.
contract PolicyBoundsTest is Test {
    uint256 private constant _CHALLENGE_WINDOW = 0;
    uint256 private constant _RESPONSE_WINDOW = 1;
    uint256 private constant _MIN_STAKE = 2;
    uint256 private constant _SLASH_AMOUNT = 3;
    uint256 private constant _CHALLENGER_BOND = 4;
    /// @dev One bit per policy field, in the order the registry checks them.
    uint256 private constant _FIELDS = 5;

    address private constant _PUBLISHER = address(0xB0B);
    address private constant _STRANGER = address(0xBAD);
    address private constant _TREASURY = address(0x7EA5);

    InferenceLedger private ledger;
    ModelRegistry private registry;
    StakeManager private stake;

    function setUp() public {
        MockERC20 token = new MockERC20("Verity Test Token", "VTT");
        ledger = new InferenceLedger(address(this));
        registry = new ModelRegistry(address(this), ledger);
        stake = new StakeManager(
            token,
            ledger,
            address(this),
            _TREASURY,
            5000,
            PolicyBounds.MIN_UNBONDING_DELAY + 1 days
        );
        ledger.bindSources(address(registry), address(stake));
        vm.warp(1_700_000_000);
    }

    // ------------------------------------------------------------------ registerModel: the bounds

    /// @notice Each field is drawn inside or outside its bound as `faults` says (bit i = field i, in
    /// check order). Registration succeeds iff no bit is set, and otherwise reverts with exactly the
    /// error, and arguments, of the lowest set bit; a failed registration leaves no trace.
    /// hardhat-config: fuzz.runs = 1024
    function testFuzz_registerModel_succeedsIffPolicyInBounds(
        uint8 faults,
        uint256 cwSeed,
        uint256 rwSeed,
        uint256 minStakeSeed,
        uint256 slashSeed,
        uint256 bondSeed,
        bytes32 salt
    ) public {
        faults = uint8(bound(faults, 0, (1 << _FIELDS) - 1));
        ModelPolicy memory policy = _policyWithFaults(faults, [cwSeed, rwSeed, minStakeSeed, slashSeed, bondSeed]);

        bytes memory expected = _errorForField(_lowestBit(faults), policy);
        assertEq(expected.length == 0, faults == 0, "test setup: a fault must map to an error");
        assertEq(_expectedRevert(policy), expected, "reference model disagrees with the injected fault");
        _registerAndCheck(policy, salt, expected);
    }

    /// @notice Unconstrained policies (the fuzzer favours edge values such as 0 and type(uintN).max):
    /// the outcome equals an independent reference of the bounds, in the registry's check order.
    /// hardhat-config: fuzz.runs = 1024
    function testFuzz_registerModel_rawPolicy_matchesReference(
        uint32 challengeWindow,
        uint32 responseWindow,
        uint96 minStake,
        uint96 slashAmount,
        uint96 challengerBond,
        bytes32 salt
    ) public {
        ModelPolicy memory policy = ModelPolicy(challengeWindow, responseWindow, minStake, slashAmount, challengerBond);
        _registerAndCheck(policy, salt, _expectedRevert(policy));
    }

    /// @notice Every bound is inclusive: any combination of the extreme valid values registers.
    function testFuzz_registerModel_atInclusiveBounds_succeeds(uint8 corners, uint96 minStake, bytes32 salt) public {
        minStake = uint96(bound(minStake, 1, type(uint96).max));
        ModelPolicy memory policy = ModelPolicy({
            challengeWindow: corners & 1 == 0 ? PolicyBounds.MIN_CHALLENGE_WINDOW : PolicyBounds.MAX_CHALLENGE_WINDOW,
            responseWindow: corners & 2 == 0 ? PolicyBounds.MIN_RESPONSE_WINDOW : PolicyBounds.MAX_RESPONSE_WINDOW,
            minStake: minStake,
            slashAmount: corners & 4 == 0 ? 1 : minStake,
            challengerBond: corners & 8 == 0 ? 1 : type(uint96).max
        });
        _registerAndCheck(policy, salt, "");
    }

    function test_registerModel_challengeWindowJustOutside_reverts() public {
        ModelPolicy memory policy = _validPolicy();
        policy.challengeWindow = PolicyBounds.MIN_CHALLENGE_WINDOW - 1;
        _registerAndCheck(policy, "below", _challengeWindowError(policy.challengeWindow));
        policy.challengeWindow = PolicyBounds.MAX_CHALLENGE_WINDOW + 1;
        _registerAndCheck(policy, "above", _challengeWindowError(policy.challengeWindow));
    }

    function test_registerModel_responseWindowJustOutside_reverts() public {
        ModelPolicy memory policy = _validPolicy();
        policy.responseWindow = PolicyBounds.MIN_RESPONSE_WINDOW - 1;
        _registerAndCheck(policy, "below", _responseWindowError(policy.responseWindow));
        policy.responseWindow = PolicyBounds.MAX_RESPONSE_WINDOW + 1;
        _registerAndCheck(policy, "above", _responseWindowError(policy.responseWindow));
    }

    function test_registerModel_slashOneAboveMinStake_reverts() public {
        ModelPolicy memory policy = _validPolicy();
        policy.slashAmount = policy.minStake + 1;
        bytes memory expected = abi.encodeWithSelector(
            IModelRegistry.ModelRegistryInvalidSlashAmount.selector,
            policy.slashAmount,
            policy.minStake
        );
        _registerAndCheck(policy, "slash", expected);
    }

    /// @notice The zero-hash check precedes the policy checks, whatever the policy.
    function testFuzz_registerModel_zeroHash_precedesPolicyChecks(
        uint8 zeroes,
        uint32 challengeWindow,
        uint96 minStake
    ) public {
        zeroes = uint8(bound(zeroes, 1, 7));
        ModelPolicy memory policy = _validPolicy();
        policy.challengeWindow = challengeWindow;
        policy.minStake = minStake;
        bytes32 weightsRoot = zeroes & 1 == 0 ? bytes32("w") : bytes32(0);
        bytes32 graphHash = zeroes & 2 == 0 ? bytes32("g") : bytes32(0);
        bytes32 engineId = zeroes & 4 == 0 ? bytes32("e") : bytes32(0);

        vm.prank(_PUBLISHER);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryZeroHash.selector));
        registry.registerModel(weightsRoot, graphHash, engineId, "ipfs://m", policy);
    }

    /// @notice The policy is checked before the duplicate check: re-registering known content with a
    /// bad policy reports the policy, with a good one reports the duplicate.
    function testFuzz_registerModel_duplicate_policyCheckedFirst(uint32 responseWindow, bytes32 salt) public {
        ModelPolicy memory policy = _validPolicy();
        bytes32 modelId = _registerOk(policy, salt);

        policy.responseWindow = responseWindow;
        bytes memory expected = _expectedRevert(policy);
        if (expected.length == 0) {
            expected = abi.encodeWithSelector(IModelRegistry.ModelRegistryAlreadyRegistered.selector, modelId);
        }
        (bool ok, bytes memory ret) = _tryRegister(policy, salt);
        assertFalse(ok, "a duplicate registered");
        assertEq(ret, expected, "duplicate revert");
        assertEq(registry.policyOf(modelId).responseWindow, _validPolicy().responseWindow, "policy overwritten");
    }

    /// @notice A new version is held to the same bounds as a first version.
    /// hardhat-config: fuzz.runs = 512
    function testFuzz_registerVersion_enforcesSameBounds(
        uint8 faults,
        uint256 cwSeed,
        uint256 rwSeed,
        uint256 minStakeSeed,
        uint256 slashSeed,
        uint256 bondSeed
    ) public {
        faults = uint8(bound(faults, 0, (1 << _FIELDS) - 1));
        bytes32 predecessor = _registerOk(_validPolicy(), "v1");
        ModelPolicy memory policy = _policyWithFaults(faults, [cwSeed, rwSeed, minStakeSeed, slashSeed, bondSeed]);
        bytes memory expected = _errorForField(_lowestBit(faults), policy);
        bytes32 modelId = registry.computeModelId(_hash("v2", "w"), _hash("v2", "g"), _hash("v2", "e"));

        vm.prank(_PUBLISHER);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(registry).call(
            abi.encodeCall(
                registry.registerVersion,
                (predecessor, _hash("v2", "w"), _hash("v2", "g"), _hash("v2", "e"), "ipfs://v2", policy)
            )
        );
        assertEq(ok, faults == 0, "registerVersion outcome");
        if (ok) {
            assertEq(registry.latestVersion(predecessor), modelId, "latest version");
            assertEq(registry.getModel(modelId).version, 2, "version number");
            _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);
        } else {
            assertEq(ret, expected, "registerVersion revert");
            assertEq(registry.latestVersion(predecessor), predecessor, "failed version linked");
            _assertNoTrace(modelId);
        }
    }

    // ------------------------------------------------------------------ deprecateModel: the grace bound

    /// @notice A grace time up to MAX_DEPRECATION_GRACE deprecates the model until exactly now + grace;
    /// above it the call reverts and the model stays Active, in the registry and in the ledger's cache.
    /// hardhat-config: fuzz.runs = 512
    function testFuzz_deprecateModel_graceBound(uint32 grace, uint256 elapsed, bytes32 salt) public {
        ModelPolicy memory policy = _validPolicy();
        bytes32 modelId = _registerOk(policy, salt);
        vm.warp(block.timestamp + bound(elapsed, 0, 100 * 365 days));
        uint48 now_ = uint48(block.timestamp);

        vm.prank(_PUBLISHER);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.deprecateModel, (modelId, grace)));

        if (grace > PolicyBounds.MAX_DEPRECATION_GRACE) {
            assertFalse(ok, "grace above the maximum accepted");
            bytes memory expected = abi.encodeWithSelector(
                IModelRegistry.ModelRegistryInvalidGracePeriod.selector,
                uint256(grace),
                uint256(PolicyBounds.MAX_DEPRECATION_GRACE)
            );
            assertEq(ret, expected, "grace revert");
            assertEq(uint8(registry.statusOf(modelId)), uint8(ModelStatus.Active), "status after failed deprecate");
            _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);
            assertTrue(registry.acceptsCommitments(modelId), "still accepts");
            return;
        }

        assertTrue(ok, "grace within the maximum refused");
        uint48 acceptsUntil = now_ + grace;
        _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, acceptsUntil, ModelStatus.Deprecated);
        assertEq(registry.acceptsCommitments(modelId), grace != 0, "accepts right after deprecation");
        if (grace != 0) {
            vm.warp(acceptsUntil - 1);
            assertTrue(registry.acceptsCommitments(modelId), "accepts until the last second of grace");
        }
        vm.warp(acceptsUntil);
        assertFalse(registry.acceptsCommitments(modelId), "accepts after the grace time");
    }

    function test_deprecateModel_graceAtMaximum_succeeds_andOneAbove_reverts() public {
        bytes32 a = _registerOk(_validPolicy(), "a");
        bytes32 b = _registerOk(_validPolicy(), "b");
        vm.startPrank(_PUBLISHER);
        registry.deprecateModel(a, PolicyBounds.MAX_DEPRECATION_GRACE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistryInvalidGracePeriod.selector,
                uint256(PolicyBounds.MAX_DEPRECATION_GRACE) + 1,
                uint256(PolicyBounds.MAX_DEPRECATION_GRACE)
            )
        );
        registry.deprecateModel(b, PolicyBounds.MAX_DEPRECATION_GRACE + 1);
        vm.stopPrank();
        assertEq(
            registry.getModel(a).acceptsUntil,
            block.timestamp + PolicyBounds.MAX_DEPRECATION_GRACE,
            "acceptsUntil at maximum grace"
        );
    }

    /// @notice The lifecycle checks come before the grace check: a stranger, a revoked model and an
    /// already deprecated model are reported as such even with an out-of-bounds grace time.
    function testFuzz_deprecateModel_lifecycleChecksPrecedeGrace(uint32 grace) public {
        bytes32 modelId = _registerOk(_validPolicy(), "m");

        vm.prank(_STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryNotPublisher.selector, modelId, _STRANGER));
        registry.deprecateModel(modelId, grace);

        vm.prank(_PUBLISHER);
        registry.deprecateModel(modelId, 1 days);
        vm.prank(_PUBLISHER);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryAlreadyDeprecated.selector, modelId));
        registry.deprecateModel(modelId, grace);

        registry.revokeModel(modelId); // as governor
        vm.prank(_PUBLISHER);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryModelRevoked.selector, modelId));
        registry.deprecateModel(modelId, grace);
    }

    // ------------------------------------------------------------------ the ledger's cache mirrors the registry

    /// @notice Through register, deprecate (fuzzed grace and times) and revoke (by the publisher or a
    /// governor), the ledger's cached terms equal the registry's model and the expected absolute
    /// values after every step; a second, untouched model's terms never move.
    /// hardhat-config: fuzz.runs = 512
    function testFuzz_commitTerms_mirrorRegistry_throughLifecycle(
        uint256 policySeed,
        uint8 path,
        uint32 grace,
        uint32 dtDeprecate,
        uint32 dtRevoke,
        bool byGovernor
    ) public {
        ModelPolicy memory policy = _policyWithFaults(
            0,
            [policySeed, policySeed >> 32, policySeed >> 64, ~policySeed, policySeed >> 128]
        );
        ModelPolicy memory otherPolicy = _validPolicy();
        bytes32 other = _registerOk(otherPolicy, "other");
        // Hashed: a raw seed could equal the "other" salt (the fuzzer draws from the bytecode's constants).
        bytes32 modelId = _registerOk(policy, keccak256(abi.encode(policySeed)));
        _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);

        if (path & 1 != 0) {
            grace = uint32(bound(grace, 0, PolicyBounds.MAX_DEPRECATION_GRACE));
            vm.warp(block.timestamp + dtDeprecate);
            vm.prank(_PUBLISHER);
            registry.deprecateModel(modelId, grace);
            uint48 until = uint48(block.timestamp) + grace;
            _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, until, ModelStatus.Deprecated);
        }
        if (path & 2 != 0) {
            vm.warp(block.timestamp + dtRevoke);
            vm.prank(byGovernor ? address(this) : _PUBLISHER);
            registry.revokeModel(modelId);
            _assertTermsMirror(
                modelId,
                policy.minStake,
                policy.challengeWindow,
                uint48(block.timestamp),
                ModelStatus.Revoked
            );
            assertFalse(registry.acceptsCommitments(modelId), "revoked model accepts");

            vm.prank(_PUBLISHER);
            vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryModelRevoked.selector, modelId));
            registry.revokeModel(modelId);
        }
        _assertTermsMirror(
            other,
            otherPolicy.minStake,
            otherPolicy.challengeWindow,
            type(uint48).max,
            ModelStatus.Active
        );
    }

    /// @notice Only the publisher or a governor revokes; a stranger's attempt changes nothing.
    function testFuzz_revokeModel_byStranger_reverts(address caller) public {
        vm.assume(caller != _PUBLISHER && caller != address(this) && caller != address(vm));
        ModelPolicy memory policy = _validPolicy();
        bytes32 modelId = _registerOk(policy, "m");
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryNotPublisher.selector, modelId, caller));
        registry.revokeModel(modelId);
        _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);
    }

    // ------------------------------------------------------------------ helpers: policies

    function _validPolicy() private pure returns (ModelPolicy memory) {
        return
            ModelPolicy({
                challengeWindow: 1 hours,
                responseWindow: 1 hours,
                minStake: 1_000e18,
                slashAmount: 100e18,
                challengerBond: 10e18
            });
    }

    /// @dev Draws each field inside its bound, or outside it when its bit in `faults` is set.
    function _policyWithFaults(uint8 faults, uint256[5] memory seeds) private pure returns (ModelPolicy memory policy) {
        policy.challengeWindow = uint32(
            _drawWindow(
                faults & (1 << _CHALLENGE_WINDOW) != 0,
                seeds[0],
                PolicyBounds.MIN_CHALLENGE_WINDOW,
                PolicyBounds.MAX_CHALLENGE_WINDOW
            )
        );
        policy.responseWindow = uint32(
            _drawWindow(
                faults & (1 << _RESPONSE_WINDOW) != 0,
                seeds[1],
                PolicyBounds.MIN_RESPONSE_WINDOW,
                PolicyBounds.MAX_RESPONSE_WINDOW
            )
        );
        policy.minStake = faults & (1 << _MIN_STAKE) != 0 ? 0 : uint96(bound(seeds[2], 1, type(uint96).max));

        bool badSlash = faults & (1 << _SLASH_AMOUNT) != 0;
        if (!badSlash) {
            // With a zero minimum stake no slash is valid; any positive one will do (minStake is reported).
            policy.slashAmount = uint96(bound(seeds[3], 1, policy.minStake == 0 ? type(uint96).max : policy.minStake));
        } else if (policy.minStake == type(uint96).max || seeds[3] % 2 == 0) {
            policy.slashAmount = 0;
        } else {
            policy.slashAmount = uint96(bound(seeds[3] >> 1, uint256(policy.minStake) + 1, type(uint96).max));
        }

        policy.challengerBond =
            faults & (1 << _CHALLENGER_BOND) != 0 ? 0 : uint96(bound(seeds[4], 1, type(uint96).max));
    }

    function _drawWindow(bool outside, uint256 seed, uint256 min, uint256 max) private pure returns (uint256) {
        if (!outside) return bound(seed, min, max);
        if (seed % 2 == 0) return bound(seed >> 1, 0, min - 1);
        return bound(seed >> 1, max + 1, type(uint32).max);
    }

    function _lowestBit(uint8 faults) private pure returns (uint256 field) {
        if (faults == 0) return _FIELDS;
        while (faults & (1 << field) == 0) ++field;
    }

    /// @dev The revert data for a violation of `field`; empty for `_FIELDS` (no violation).
    function _errorForField(uint256 field, ModelPolicy memory p) private pure returns (bytes memory) {
        if (field == _CHALLENGE_WINDOW) return _challengeWindowError(p.challengeWindow);
        if (field == _RESPONSE_WINDOW) return _responseWindowError(p.responseWindow);
        if (field == _MIN_STAKE)
            return abi.encodeWithSelector(IModelRegistry.ModelRegistryInvalidMinStake.selector, uint256(0));
        if (field == _SLASH_AMOUNT) {
            return
                abi.encodeWithSelector(
                    IModelRegistry.ModelRegistryInvalidSlashAmount.selector,
                    p.slashAmount,
                    p.minStake
                );
        }
        if (field == _CHALLENGER_BOND)
            return abi.encodeWithSelector(IModelRegistry.ModelRegistryInvalidChallengerBond.selector, uint256(0));
        return "";
    }

    /// @dev Reference of the bounds, written from the spec (not from the registry's code).
    function _expectedRevert(ModelPolicy memory p) private pure returns (bytes memory) {
        bool[_FIELDS] memory violated = [
            p.challengeWindow < PolicyBounds.MIN_CHALLENGE_WINDOW ||
                p.challengeWindow > PolicyBounds.MAX_CHALLENGE_WINDOW,
            p.responseWindow < PolicyBounds.MIN_RESPONSE_WINDOW || p.responseWindow > PolicyBounds.MAX_RESPONSE_WINDOW,
            p.minStake == 0,
            p.slashAmount == 0 || p.slashAmount > p.minStake,
            p.challengerBond == 0
        ];
        for (uint256 field; field < _FIELDS; ++field) {
            if (violated[field]) return _errorForField(field, p);
        }
        return "";
    }

    function _challengeWindowError(uint256 value) private pure returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistryInvalidChallengeWindow.selector,
                value,
                uint256(PolicyBounds.MIN_CHALLENGE_WINDOW),
                uint256(PolicyBounds.MAX_CHALLENGE_WINDOW)
            );
    }

    function _responseWindowError(uint256 value) private pure returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistryInvalidResponseWindow.selector,
                value,
                uint256(PolicyBounds.MIN_RESPONSE_WINDOW),
                uint256(PolicyBounds.MAX_RESPONSE_WINDOW)
            );
    }

    // ------------------------------------------------------------------ helpers: registration and checks

    function _hash(bytes32 salt, bytes1 tag) private pure returns (bytes32) {
        return keccak256(abi.encode(salt, tag));
    }

    function _tryRegister(ModelPolicy memory policy, bytes32 salt) private returns (bool ok, bytes memory ret) {
        vm.prank(_PUBLISHER);
        // solhint-disable-next-line avoid-low-level-calls
        (ok, ret) = address(registry).call(
            abi.encodeCall(
                registry.registerModel,
                (_hash(salt, "w"), _hash(salt, "g"), _hash(salt, "e"), "ipfs://model", policy)
            )
        );
    }

    function _registerOk(ModelPolicy memory policy, bytes32 salt) private returns (bytes32 modelId) {
        vm.prank(_PUBLISHER);
        modelId = registry.registerModel(_hash(salt, "w"), _hash(salt, "g"), _hash(salt, "e"), "ipfs://model", policy);
    }

    /// @dev Registers and checks the outcome: `expected` empty means success with the policy stored and
    /// mirrored; otherwise exactly that revert data and no trace in the registry or the ledger.
    function _registerAndCheck(ModelPolicy memory policy, bytes32 salt, bytes memory expected) private {
        bytes32 modelId = registry.computeModelId(_hash(salt, "w"), _hash(salt, "g"), _hash(salt, "e"));
        (bool ok, bytes memory ret) = _tryRegister(policy, salt);

        if (expected.length != 0) {
            assertFalse(ok, "out-of-bounds policy registered");
            assertEq(ret, expected, "revert data");
            _assertNoTrace(modelId);
            return;
        }
        assertTrue(ok, string.concat("in-bounds policy refused: ", _hex(ret)));
        assertEq(abi.decode(ret, (bytes32)), modelId, "returned id");
        IModelRegistry.Model memory model = registry.getModel(modelId);
        assertEq(model.publisher, _PUBLISHER, "publisher");
        assertEq(uint8(model.status), uint8(ModelStatus.Active), "status");
        assertEq(model.registeredAt, block.timestamp, "registeredAt");
        assertEq(keccak256(abi.encode(model.policy)), keccak256(abi.encode(policy)), "stored policy");
        _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);
    }

    function _assertNoTrace(bytes32 modelId) private view {
        assertEq(uint8(registry.statusOf(modelId)), uint8(ModelStatus.None), "status after failed registration");
        assertFalse(registry.acceptsCommitments(modelId), "failed registration accepts commitments");
        CommitTerms memory terms = ledger.commitTermsOf(modelId);
        assertEq(keccak256(abi.encode(terms)), keccak256(abi.encode(CommitTerms(0, 0, 0, ModelStatus.None))), "terms");
    }

    /// @dev The ledger's cached terms equal both the registry's record and the expected values.
    function _assertTermsMirror(
        bytes32 modelId,
        uint96 minStake,
        uint32 challengeWindow,
        uint48 acceptsUntil,
        ModelStatus status
    ) private view {
        CommitTerms memory cached = ledger.commitTermsOf(modelId);
        IModelRegistry.Model memory model = registry.getModel(modelId);
        assertEq(cached.minStake, model.policy.minStake, "cache vs registry: minStake");
        assertEq(cached.challengeWindow, model.policy.challengeWindow, "cache vs registry: challengeWindow");
        assertEq(cached.acceptsUntil, model.acceptsUntil, "cache vs registry: acceptsUntil");
        assertEq(uint8(cached.status), uint8(model.status), "cache vs registry: status");
        assertEq(cached.minStake, minStake, "cached minStake");
        assertEq(cached.challengeWindow, challengeWindow, "cached challengeWindow");
        assertEq(cached.acceptsUntil, acceptsUntil, "cached acceptsUntil");
        assertEq(uint8(cached.status), uint8(status), "cached status");
    }

    function assertEq(bytes memory a, bytes memory b, string memory reason) internal pure {
        if (keccak256(a) != keccak256(b)) fail(string.concat(reason, ": ", _hex(a), " != ", _hex(b)));
    }

    function _hex(bytes memory data) private pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i; i < data.length; ++i) {
            out[2 + 2 * i] = digits[uint8(data[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(data[i]) & 0x0f];
        }
        return string(out);
    }
}

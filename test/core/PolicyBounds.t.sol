// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {VerityBase} from "../utils/VerityBase.sol";
import {IInferenceLedger} from "../../contracts/interfaces/IInferenceLedger.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IStakeManager} from "../../contracts/interfaces/IStakeManager.sol";
import {DenseInt8} from "../../contracts/libraries/DenseInt8.sol";
import {GasBounds} from "../../contracts/libraries/GasBounds.sol";
import {PolicyBounds} from "../../contracts/libraries/PolicyBounds.sol";
import {ModelRegistry} from "../../contracts/registry/ModelRegistry.sol";
import {StakeManager} from "../../contracts/staking/StakeManager.sol";
import {LayerSpec} from "../../contracts/types/LayerSpec.sol";
import {CommitTerms, ModelPolicy, ModelSpec, ModelStatus} from "../../contracts/types/Model.sol";
import {TeeMode} from "../../contracts/types/Environment.sol";

/// @notice Fuzz tests of the model policy bounds (`ModelRegistry._checkPolicy` and the gas checks of
/// `_checkGame`), the gas bound of honest moves (`GasBounds.ofModel`), the challenger share bounds, the
/// unbonding delay bound, the deprecation grace bound, and the ledger's admission-cache copy of each
/// model's `CommitTerms`.
contract PolicyBoundsTest is VerityBase {
    uint256 private constant _CHALLENGE_WINDOW = 0;
    uint256 private constant _RESPONSE_WINDOW = 1;
    uint256 private constant _MIN_STAKE = 2;
    uint256 private constant _SLASH_AMOUNT = 3;
    uint256 private constant _CHALLENGER_BOND = 4;
    uint256 private constant _BOND_ABOVE_REWARD = 5;
    uint256 private constant _BOND_BELOW_GAS_COST = 6;
    /// @dev One bit per policy check, in the order the registry makes them.
    uint256 private constant _FIELDS = 7;

    address private constant _PUBLISHER = PUBLISHER;
    address private constant _STRANGER = address(0xBAD);

    /// @dev The tiny model's gas cost of one side's full game at the default reference price.
    uint256 private _minBond;
    /// @dev The smallest slash (and minimum stake) for which some bond is valid: 5 * _minBond.
    uint256 private _minSlash;

    function setUp() public {
        deployVerity();
        _minBond = _gasCostOf(tiny.graph()) * DEFAULT_REFERENCE_GAS_PRICE;
        _minSlash =
            (_minBond * PolicyBounds.BPS + PolicyBounds.MIN_CHALLENGER_SHARE_BPS - 1) /
            PolicyBounds.MIN_CHALLENGER_SHARE_BPS;
        vm.warp(1_700_000_000);
    }

    // ------------------------------------------------------------------ registerModel: the policy bounds

    /// @notice Each check is drawn inside or outside its bound as `faults` says (bit i = check i, in
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
        ModelPolicy memory policy = ModelPolicy(
            challengeWindow,
            responseWindow,
            minStake,
            slashAmount,
            challengerBond,
            TeeMode.None,
            0,
            false
        );
        _registerAndCheck(policy, salt, _expectedRevert(policy));
    }

    /// @notice Every bound is inclusive: any combination of the extreme valid values registers (the bond
    /// at exactly the gas cost or at exactly 20% of the slash).
    function testFuzz_registerModel_atInclusiveBounds_succeeds(uint8 corners, uint96 minStake, bytes32 salt) public {
        minStake = uint96(bound(minStake, _minSlash, type(uint96).max));
        uint96 slash = corners & 4 == 0 ? uint96(_minSlash) : minStake;
        ModelPolicy memory policy = ModelPolicy({
            challengeWindow: corners & 1 == 0 ? PolicyBounds.MIN_CHALLENGE_WINDOW : PolicyBounds.MAX_CHALLENGE_WINDOW,
            responseWindow: corners & 2 == 0 ? PolicyBounds.MIN_RESPONSE_WINDOW : PolicyBounds.MAX_RESPONSE_WINDOW,
            minStake: minStake,
            slashAmount: slash,
            challengerBond: corners & 8 == 0 ? uint96(_minBond) : uint96(_minReward(slash)),
            teeMode: TeeMode.None,
            teeWindow: 0,
            proofAccepted: false
        });
        _registerAndCheck(policy, salt, "");
    }

    function test_registerModel_challengeWindowJustOutside_reverts() public {
        ModelPolicy memory policy = tinyPolicy();
        policy.challengeWindow = PolicyBounds.MIN_CHALLENGE_WINDOW - 1;
        _registerAndCheck(policy, "below", _challengeWindowError(policy.challengeWindow));
        policy.challengeWindow = PolicyBounds.MAX_CHALLENGE_WINDOW + 1;
        _registerAndCheck(policy, "above", _challengeWindowError(policy.challengeWindow));
    }

    function test_registerModel_responseWindowJustOutside_reverts() public {
        ModelPolicy memory policy = tinyPolicy();
        policy.responseWindow = PolicyBounds.MIN_RESPONSE_WINDOW - 1;
        _registerAndCheck(policy, "below", _responseWindowError(policy.responseWindow));
        policy.responseWindow = PolicyBounds.MAX_RESPONSE_WINDOW + 1;
        _registerAndCheck(policy, "above", _responseWindowError(policy.responseWindow));
    }

    function test_registerModel_slashOneAboveMinStake_reverts() public {
        ModelPolicy memory policy = tinyPolicy();
        policy.slashAmount = policy.minStake + 1;
        bytes memory expected = abi.encodeWithSelector(
            IModelRegistry.ModelRegistryInvalidSlashAmount.selector,
            policy.slashAmount,
            policy.minStake
        );
        _registerAndCheck(policy, "slash", expected);
    }

    /// @notice The default policy's bond is exactly 20% of its slash: one more base unit is refused.
    /// (The old registry accepted any bond: a dispute could cost more than an honest challenger earns.)
    function test_registerModel_bondOneAboveReward_reverts() public {
        ModelPolicy memory policy = tinyPolicy();
        _registerAndCheck(policy, "at", "");
        policy.challengerBond += 1;
        bytes memory expected = abi.encodeWithSelector(
            IModelRegistry.ModelRegistryBondAboveReward.selector,
            uint256(policy.challengerBond),
            uint256(10e18)
        );
        _registerAndCheck(policy, "above", expected);
    }

    /// @notice `bond <= slash * 2000 / 10000` for every slash and bond (floor division, as the registry).
    function testFuzz_registerModel_bondVsReward(uint96 slash, uint96 bond, bytes32 salt) public {
        slash = uint96(bound(slash, _minSlash, type(uint96).max));
        uint256 minReward = _minReward(slash);
        bond = uint96(bound(bond, _minBond, type(uint96).max));
        ModelPolicy memory policy = tinyPolicy();
        policy.minStake = slash;
        policy.slashAmount = slash;
        policy.challengerBond = bond;
        bytes memory expected =
            bond > minReward
                ? abi.encodeWithSelector(IModelRegistry.ModelRegistryBondAboveReward.selector, uint256(bond), minReward)
                : bytes("");
        _registerAndCheck(policy, salt, expected);
    }

    /// @notice `bond >= max(providerGame, challengerGame) * referenceGasPrice` at any reference price
    /// governance sets: one base unit below is refused with the exact minimum, the minimum registers.
    /// (The old registry had no gas price: a bond could be worth less than the gas of the game it pays for.)
    function testFuzz_registerModel_bondVsGasCost(uint256 price, uint256 below, bytes32 salt) public {
        price = bound(price, 1, 1e12);
        registry.setReferenceGasPrice(price);
        assertEq(registry.referenceGasPrice(), price, "price");
        uint256 minBond = _gasCostOf(tiny.graph()) * price;
        below = bound(below, 1, minBond);

        ModelPolicy memory policy = tinyPolicy();
        policy.challengerBond = uint96(minBond - below);
        policy.slashAmount = uint96(minBond * 5);
        policy.minStake = policy.slashAmount;
        bytes memory expected =
            policy.challengerBond == 0
                ? abi.encodeWithSelector(IModelRegistry.ModelRegistryInvalidChallengerBond.selector, uint256(0))
                : abi.encodeWithSelector(
                    IModelRegistry.ModelRegistryBondBelowGasCost.selector,
                    uint256(policy.challengerBond),
                    minBond
                );
        _registerAndCheck(policy, salt, expected);
        policy.challengerBond = uint96(minBond);
        _registerAndCheck(policy, salt, "");
    }

    /// @notice The reference gas price is non-zero and set by a governor only; a refused change keeps it.
    function testFuzz_setReferenceGasPrice_governorOnly_nonZero(address caller, uint256 price) public {
        vm.assume(caller != address(this) && caller != address(vm));
        price = bound(price, 1, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryInvalidGasPrice.selector));
        registry.setReferenceGasPrice(0);
        bytes32 governor = registry.GOVERNOR_ROLE();
        vm.prank(caller);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, governor)
        );
        registry.setReferenceGasPrice(price);
        assertEq(registry.referenceGasPrice(), DEFAULT_REFERENCE_GAS_PRICE, "price after refusals");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryInvalidGasPrice.selector));
        new ModelRegistry(address(this), ledger, 0);
    }

    /// @notice The hash checks precede the graph and policy checks, whatever the policy: a zero weights
    /// root or engine id, or an opaque engine's zero graph hash; an opaque engine given layers is refused.
    function testFuzz_registerModel_hashChecks_precedePolicyChecks(
        uint8 zeroes,
        uint32 challengeWindow,
        uint96 minStake
    ) public {
        zeroes = uint8(bound(zeroes, 1, 7));
        ModelPolicy memory policy = tinyPolicy();
        policy.challengeWindow = challengeWindow;
        policy.minStake = minStake;
        ModelSpec memory spec = ModelSpec({
            engineId: zeroes & 4 == 0 ? bytes32("opaque") : bytes32(0),
            weightsRoot: zeroes & 1 == 0 ? bytes32("w") : bytes32(0),
            layers: new LayerSpec[](0),
            graphHash: zeroes & 2 == 0 ? bytes32("g") : bytes32(0),
            metadataURI: "ipfs://m"
        });
        vm.prank(_PUBLISHER);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryZeroHash.selector));
        registry.registerModel(spec, policy);

        spec.engineId = "opaque";
        spec.weightsRoot = "w";
        spec.graphHash = "g";
        spec.layers = tiny.graph();
        vm.prank(_PUBLISHER);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.ModelRegistryLayersForOpaqueEngine.selector, bytes32("opaque"))
        );
        registry.registerModel(spec, policy);
    }

    /// @notice The graph checks precede the policy checks: an empty graph, a spec out of bounds or a
    /// wrong given graph hash is reported whatever the policy.
    function testFuzz_registerModel_graphChecks_precedePolicyChecks(uint32 responseWindow, uint8 which) public {
        ModelPolicy memory policy = tinyPolicy();
        policy.responseWindow = responseWindow;
        ModelSpec memory spec = tinySpec();
        bytes memory expected;
        which %= 3;
        if (which == 0) {
            spec.layers = new LayerSpec[](0);
            expected = abi.encodeWithSelector(DenseInt8.DenseInt8EmptyGraph.selector);
        } else if (which == 1) {
            spec.layers[1].shift = 63;
            expected = abi.encodeWithSelector(
                DenseInt8.DenseInt8InvalidSpec.selector,
                uint32(1),
                uint32(1),
                uint32(3),
                uint8(63)
            );
        } else {
            spec.graphHash = bytes32("wrong");
            expected = abi.encodeWithSelector(
                IModelRegistry.ModelRegistryGraphHashMismatch.selector,
                bytes32("wrong"),
                tiny.graphHash()
            );
        }
        vm.prank(_PUBLISHER);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.registerModel, (spec, policy)));
        assertFalse(ok, "a bad graph registered");
        assertEq(ret, expected, "graph revert");
        _assertNoTrace(tiny.modelIdOf(_PUBLISHER));
    }

    /// @notice An opaque engine has no game, so no gas checks apply to its bond (still the policy checks),
    /// and the ledger refuses its optimistic commitments.
    function test_registerModel_opaqueEngine_noGasCheck_notOptimistic() public {
        ModelPolicy memory policy = tinyPolicy();
        policy.challengerBond = 1; // far below any game's gas cost
        policy.minStake = 100;
        policy.slashAmount = 100;
        ModelSpec memory spec = ModelSpec("opaque", "w", new LayerSpec[](0), "g", "ipfs://m");
        vm.prank(_PUBLISHER);
        bytes32 modelId = registry.registerModel(spec, policy);
        IModelRegistry.Model memory m = registry.getModel(modelId);
        assertFalse(m.optimistic, "opaque engines are not optimistic");
        (uint256 worst, uint256 providerGame, uint256 challengerGame) = registry.gasBoundsOf(modelId);
        assertEq(worst + providerGame + challengerGame, 0, "no game, no gas bounds");
        stakeProvider(_STRANGER, 1e18);
        vm.prank(_STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IInferenceLedger.InferenceLedgerNotOptimistic.selector, modelId));
        ledger.commit(modelId, "i", "o", "t", "");
    }

    /// @notice The policy is checked before the duplicate check: re-registering known content with a
    /// bad policy reports the policy, with a good one reports the duplicate.
    function testFuzz_registerModel_duplicate_policyCheckedFirst(uint32 responseWindow, bytes32 salt) public {
        ModelPolicy memory policy = tinyPolicy();
        bytes32 modelId = _registerOk(policy, salt);

        policy.responseWindow = responseWindow;
        bytes memory expected = _expectedRevert(policy);
        if (expected.length == 0) {
            expected = abi.encodeWithSelector(IModelRegistry.ModelRegistryAlreadyRegistered.selector, modelId);
        }
        (bool ok, bytes memory ret) = _tryRegister(policy, salt);
        assertFalse(ok, "a duplicate registered");
        assertEq(ret, expected, "duplicate revert");
        assertEq(registry.policyOf(modelId).responseWindow, tinyPolicy().responseWindow, "policy overwritten");
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
        bytes32 predecessor = _registerOk(tinyPolicy(), "v1");
        ModelPolicy memory policy = _policyWithFaults(faults, [cwSeed, rwSeed, minStakeSeed, slashSeed, bondSeed]);
        bytes memory expected = _errorForField(_lowestBit(faults), policy);
        bytes32 modelId = _modelIdOf("v2");

        ModelSpec memory spec = _specOf("v2");
        vm.prank(_PUBLISHER);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(registry).call(
            abi.encodeCall(registry.registerVersion, (predecessor, spec, policy))
        );
        assertEq(ok, faults == 0, string.concat("registerVersion outcome: ", _hex(ret)));
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

    // ------------------------------------------------------------------ the gas bound of honest moves

    /// @notice For random valid small graphs (1 to 4 layers, dimensions log-uniform in 1..65,536), the
    /// registry accepts iff `GasBounds.ofModel(graph).worst <= 8,000,000`, refusing with the exact bound
    /// otherwise; an accepted model reports the same bounds and the batch limit for its input width.
    /// The bond is exactly the gas cost, so that only the gas bound decides.
    /// hardhat-config: fuzz.runs = 512
    function testFuzz_registerModel_acceptsIffWorstMoveFitsGasBound(
        uint8 layerCount,
        uint256[5] calldata dimSeeds,
        uint32 multiplier,
        uint8 shift,
        bytes32 salt
    ) public {
        uint256 n = bound(layerCount, 1, 4);
        LayerSpec[] memory layers = new LayerSpec[](n);
        uint32 previous = _dim(dimSeeds[0]);
        for (uint256 i; i < n; ++i) {
            uint32 outDim = _dim(dimSeeds[i + 1]);
            layers[i] = LayerSpec({
                inDim: previous,
                outDim: outDim,
                multiplier: uint32(bound(multiplier, 1, DenseInt8.MAX_MULTIPLIER)),
                shift: uint8(bound(shift, 0, DenseInt8.MAX_SHIFT)),
                relu: (i + uint256(salt)) % 2 == 0
            });
            previous = outDim;
        }
        (uint256 worst, uint256 providerGame, uint256 challengerGame) = GasBounds.ofModel(layers);
        uint256 minBond = (providerGame > challengerGame ? providerGame : challengerGame) * DEFAULT_REFERENCE_GAS_PRICE;
        ModelPolicy memory policy = tinyPolicy();
        policy.challengerBond = uint96(minBond);
        policy.slashAmount = uint96(minBond * 5);
        policy.minStake = policy.slashAmount;
        ModelSpec memory spec = denseSpec(_hash(salt, "w"), layers);

        vm.prank(_PUBLISHER);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.registerModel, (spec, policy)));
        bytes32 modelId = registry.computeModelId(
            _PUBLISHER,
            registry.computeContentHash(spec.weightsRoot, keccak256(abi.encode(layers)), DenseInt8.ENGINE_ID)
        );
        if (worst > PolicyBounds.MAX_HONEST_MOVE_GAS) {
            assertFalse(ok, "a model with a move above the gas bound registered");
            bytes memory expected = abi.encodeWithSelector(
                IModelRegistry.ModelRegistryGasBoundExceeded.selector,
                worst,
                PolicyBounds.MAX_HONEST_MOVE_GAS
            );
            assertEq(ret, expected, "gas bound revert");
            _assertNoTrace(modelId);
            return;
        }
        assertTrue(ok, string.concat("a model within the gas bound refused: ", _hex(ret)));
        assertEq(abi.decode(ret, (bytes32)), modelId, "model id");
        (uint256 w, uint256 p, uint256 c) = registry.gasBoundsOf(modelId);
        assertEq(w, worst, "worst move");
        assertEq(p, providerGame, "provider game");
        assertEq(c, challengerGame, "challenger game");
        assertLe(worst, PolicyBounds.MAX_HONEST_MOVE_GAS, "worst move");
        CommitTerms memory terms = ledger.commitTermsOf(modelId);
        assertEq(terms.inputDim, layers[0].inDim, "input length");
        assertEq(terms.maxBatchLeaves, GasBounds.maxBatchLeaves(layers[0].inDim), "batch limit");
        assertEq(registry.layersOf(modelId).length, n, "layers stored");
    }

    // ------------------------------------------------------------------ the challenger share and the unbonding delay

    /// @notice The share is within [MIN_CHALLENGER_SHARE_BPS, MAX_CHALLENGER_SHARE_BPS] = [2000, 5000]
    /// at construction and in every update; a refused update keeps the old share.
    /// (The old stake manager allowed 0 to 10,000: at 100% a provider's sybil recovered the whole slash.)
    function testFuzz_challengerShare_withinBounds(uint16 bps) public {
        bool valid = bps >= 2_000 && bps <= 5_000;
        assertEq(PolicyBounds.MIN_CHALLENGER_SHARE_BPS, 2_000, "min share");
        assertEq(PolicyBounds.MAX_CHALLENGER_SHARE_BPS, 5_000, "max share");
        bytes memory refusal = abi.encodeWithSelector(
            IStakeManager.StakeManagerInvalidShare.selector,
            uint256(bps),
            uint256(2_000),
            uint256(5_000)
        );
        if (!valid) vm.expectRevert(refusal);
        StakeManager built = new StakeManager(token, ledger, address(this), TREASURY, bps, DEFAULT_UNBONDING_DELAY);
        if (valid) assertEq(built.challengerShareBps(), bps, "constructed share");

        if (!valid) vm.expectRevert(refusal);
        stake.setChallengerShareBps(bps);
        assertEq(stake.challengerShareBps(), valid ? bps : DEFAULT_SHARE_BPS, "share after update");
    }

    /// @notice MIN_UNBONDING_DELAY = 2 * 30 d + 7 d + 6 * 7 d = 109 days: the latest a leaf can be disputed
    /// (two windows around a disclosure answer) plus the longest game. The stake manager needs more.
    function testFuzz_unbondingDelay_mustExceed109Days(uint256 delay) public {
        assertEq(PolicyBounds.MIN_UNBONDING_DELAY, 109 days, "109 days");
        assertEq(
            PolicyBounds.MIN_UNBONDING_DELAY,
            2 * PolicyBounds.MAX_CHALLENGE_WINDOW +
                PolicyBounds.MAX_RESPONSE_WINDOW +
                PolicyBounds.MAX_DISPUTE_MOVES * PolicyBounds.MAX_RESPONSE_WINDOW,
            "windows + disclosure + longest game"
        );
        delay = bound(delay, 0, 2 * PolicyBounds.MIN_UNBONDING_DELAY);
        if (delay <= 109 days) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IStakeManager.StakeManagerUnbondingDelayTooShort.selector,
                    delay,
                    uint256(109 days)
                )
            );
        }
        StakeManager built = new StakeManager(token, ledger, address(this), TREASURY, DEFAULT_SHARE_BPS, delay);
        if (delay > 109 days) assertEq(built.unbondingDelay(), delay, "delay");
        assertGe(DEFAULT_UNBONDING_DELAY, PolicyBounds.MIN_UNBONDING_DELAY + 1, "Ignition's default is valid");
    }

    // ------------------------------------------------------------------ deprecateModel: the grace bound

    /// @notice A grace time up to MAX_DEPRECATION_GRACE deprecates the model until exactly now + grace;
    /// above it the call reverts and the model stays Active, in the registry and in the ledger's cache.
    /// hardhat-config: fuzz.runs = 512
    function testFuzz_deprecateModel_graceBound(uint32 grace, uint256 elapsed, bytes32 salt) public {
        ModelPolicy memory policy = tinyPolicy();
        bytes32 modelId = _registerOk(policy, salt);
        vm.warp(block.timestamp + bound(elapsed, 0, 100 * 365 days));
        uint48 now_ = uint48(vm.getBlockTimestamp());

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
        bytes32 a = _registerOk(tinyPolicy(), "a");
        bytes32 b = _registerOk(tinyPolicy(), "b");
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
            vm.getBlockTimestamp() + PolicyBounds.MAX_DEPRECATION_GRACE,
            "acceptsUntil at maximum grace"
        );
    }

    /// @notice The lifecycle checks come before the grace check: a stranger, a revoked model and an
    /// already deprecated model are reported as such even with an out-of-bounds grace time.
    function testFuzz_deprecateModel_lifecycleChecksPrecedeGrace(uint32 grace) public {
        bytes32 modelId = _registerOk(tinyPolicy(), "m");

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
        ModelPolicy memory otherPolicy = tinyPolicy();
        bytes32 other = _registerOk(otherPolicy, "other");
        // Hashed: a raw seed could equal the "other" salt (the fuzzer draws from the bytecode's constants).
        bytes32 modelId = _registerOk(policy, keccak256(abi.encode(policySeed)));
        _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);

        if (path & 1 != 0) {
            grace = uint32(bound(grace, 0, PolicyBounds.MAX_DEPRECATION_GRACE));
            vm.warp(block.timestamp + dtDeprecate);
            vm.prank(_PUBLISHER);
            registry.deprecateModel(modelId, grace);
            uint48 until = uint48(vm.getBlockTimestamp()) + grace;
            _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, until, ModelStatus.Deprecated);
        }
        if (path & 2 != 0) {
            vm.warp(vm.getBlockTimestamp() + dtRevoke);
            vm.prank(byGovernor ? address(this) : _PUBLISHER);
            registry.revokeModel(modelId);
            _assertTermsMirror(
                modelId,
                policy.minStake,
                policy.challengeWindow,
                uint48(vm.getBlockTimestamp()),
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
        ModelPolicy memory policy = tinyPolicy();
        bytes32 modelId = _registerOk(policy, "m");
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryNotPublisher.selector, modelId, caller));
        registry.revokeModel(modelId);
        _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);
    }

    // ------------------------------------------------------------------ helpers: policies

    /// @dev Draws each field inside its bound, or outside it when its bit in `faults` is set. Fields are
    /// valid relative to the earlier ones whenever those are valid (a valid slash allows a valid bond).
    function _policyWithFaults(uint8 faults, uint256[5] memory seeds) private view returns (ModelPolicy memory policy) {
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
        policy.minStake = faults & (1 << _MIN_STAKE) != 0 ? 0 : uint96(bound(seeds[2], _minSlash, type(uint96).max));

        bool badSlash = faults & (1 << _SLASH_AMOUNT) != 0;
        if (!badSlash) {
            // With a zero minimum stake no slash is valid; any positive one will do (minStake is reported).
            policy.slashAmount =
                policy.minStake == 0
                    ? uint96(bound(seeds[3], 1, type(uint96).max))
                    : uint96(bound(seeds[3], _minSlash, policy.minStake));
        } else if (policy.minStake == type(uint96).max || seeds[3] % 2 == 0) {
            policy.slashAmount = 0;
        } else {
            policy.slashAmount = uint96(bound(seeds[3] >> 1, uint256(policy.minStake) + 1, type(uint96).max));
        }

        uint256 minReward = _minReward(policy.slashAmount);
        if (faults & (1 << _CHALLENGER_BOND) != 0) {
            policy.challengerBond = 0;
        } else if (faults & (1 << _BOND_ABOVE_REWARD) != 0) {
            policy.challengerBond = uint96(bound(seeds[4], minReward + 1, type(uint96).max));
        } else if (faults & (1 << _BOND_BELOW_GAS_COST) != 0) {
            uint256 top = _minBond - 1 < minReward || minReward == 0 ? _minBond - 1 : minReward;
            policy.challengerBond = uint96(bound(seeds[4], 1, top));
        } else if (minReward >= _minBond) {
            policy.challengerBond = uint96(bound(seeds[4], _minBond, minReward));
        } else {
            // No valid bond for this slash; an earlier field is at fault (and reported).
            policy.challengerBond = uint96(bound(seeds[4], 1, type(uint96).max));
        }
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

    function _minReward(uint256 slash) private pure returns (uint256) {
        return (slash * PolicyBounds.MIN_CHALLENGER_SHARE_BPS) / PolicyBounds.BPS;
    }

    /// @dev What one side's full game costs in gas on `layers` (the larger side).
    function _gasCostOf(LayerSpec[] memory layers) private pure returns (uint256) {
        (, uint256 providerGame, uint256 challengerGame) = GasBounds.ofModel(layers);
        return providerGame > challengerGame ? providerGame : challengerGame;
    }

    /// @dev A dimension log-uniform in 1..65,536.
    function _dim(uint256 seed) private pure returns (uint32) {
        uint256 bits = seed % 17;
        return uint32(bound(seed >> 8, 1, uint256(1) << bits));
    }

    /// @dev The revert data for a violation of `field`; empty for `_FIELDS` (no violation).
    function _errorForField(uint256 field, ModelPolicy memory p) private view returns (bytes memory) {
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
        if (field == _BOND_ABOVE_REWARD) {
            return
                abi.encodeWithSelector(
                    IModelRegistry.ModelRegistryBondAboveReward.selector,
                    uint256(p.challengerBond),
                    _minReward(p.slashAmount)
                );
        }
        if (field == _BOND_BELOW_GAS_COST) {
            return
                abi.encodeWithSelector(
                    IModelRegistry.ModelRegistryBondBelowGasCost.selector,
                    uint256(p.challengerBond),
                    _minBond
                );
        }
        return "";
    }

    /// @dev Reference of the bounds, written from the spec (not from the registry's code).
    function _expectedRevert(ModelPolicy memory p) private view returns (bytes memory) {
        bool[_FIELDS] memory violated = [
            p.challengeWindow < PolicyBounds.MIN_CHALLENGE_WINDOW ||
                p.challengeWindow > PolicyBounds.MAX_CHALLENGE_WINDOW,
            p.responseWindow < PolicyBounds.MIN_RESPONSE_WINDOW || p.responseWindow > PolicyBounds.MAX_RESPONSE_WINDOW,
            p.minStake == 0,
            p.slashAmount == 0 || p.slashAmount > p.minStake,
            p.challengerBond == 0,
            uint256(p.challengerBond) * 10_000 > uint256(p.slashAmount) * 2_000,
            p.challengerBond < _minBond
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

    /// @dev The tiny model's graph under a weights root of `salt`: distinct content per salt.
    function _specOf(bytes32 salt) private view returns (ModelSpec memory) {
        return denseSpec(_hash(salt, "w"), tiny.graph());
    }

    function _modelIdOf(bytes32 salt) private view returns (bytes32) {
        return
            registry.computeModelId(
                _PUBLISHER,
                registry.computeContentHash(_hash(salt, "w"), tiny.graphHash(), DenseInt8.ENGINE_ID)
            );
    }

    function _tryRegister(ModelPolicy memory policy, bytes32 salt) private returns (bool ok, bytes memory ret) {
        ModelSpec memory spec = _specOf(salt);
        vm.prank(_PUBLISHER);
        // solhint-disable-next-line avoid-low-level-calls
        (ok, ret) = address(registry).call(abi.encodeCall(registry.registerModel, (spec, policy)));
    }

    function _registerOk(ModelPolicy memory policy, bytes32 salt) private returns (bytes32 modelId) {
        ModelSpec memory spec = _specOf(salt);
        vm.prank(_PUBLISHER);
        modelId = registry.registerModel(spec, policy);
    }

    /// @dev Registers and checks the outcome: `expected` empty means success with the policy stored and
    /// mirrored; otherwise exactly that revert data and no trace in the registry or the ledger.
    function _registerAndCheck(ModelPolicy memory policy, bytes32 salt, bytes memory expected) private {
        bytes32 modelId = _modelIdOf(salt);
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
        assertEq(model.graphHash, tiny.graphHash(), "graph hash");
        assertTrue(model.optimistic, "dense models are optimistic");
        assertEq(keccak256(abi.encode(model.policy)), keccak256(abi.encode(policy)), "stored policy");
        _assertTermsMirror(modelId, policy.minStake, policy.challengeWindow, type(uint48).max, ModelStatus.Active);
    }

    function _assertNoTrace(bytes32 modelId) private view {
        assertEq(uint8(registry.statusOf(modelId)), uint8(ModelStatus.None), "status after failed registration");
        assertFalse(registry.acceptsCommitments(modelId), "failed registration accepts commitments");
        CommitTerms memory terms = ledger.commitTermsOf(modelId);
        assertEq(
            keccak256(abi.encode(terms)),
            keccak256(abi.encode(CommitTerms(0, 0, 0, 0, ModelStatus.None, 0, 0))),
            "terms"
        );
    }

    /// @dev The ledger's cached terms equal both the registry's record and the expected values (the tiny
    /// model's input length and batch limit).
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
        // The cache holds times as uint40: the registry's "never" (type(uint48).max) is clamped.
        uint256 clamped = model.acceptsUntil > type(uint40).max ? type(uint40).max : model.acceptsUntil;
        assertEq(cached.acceptsUntil, clamped, "cache vs registry: acceptsUntil");
        assertEq(uint8(cached.status), uint8(model.status), "cache vs registry: status");
        assertEq(cached.maxBatchLeaves, model.maxBatchLeaves, "cache vs registry: maxBatchLeaves");
        assertEq(cached.minStake, minStake, "cached minStake");
        assertEq(cached.challengeWindow, challengeWindow, "cached challengeWindow");
        assertEq(
            cached.acceptsUntil,
            acceptsUntil > type(uint40).max ? type(uint40).max : acceptsUntil,
            "cached acceptsUntil"
        );
        assertEq(uint8(cached.status), uint8(status), "cached status");
        assertEq(cached.inputDim, 2, "cached inputDim");
        assertEq(cached.maxBatchLeaves, GasBounds.maxBatchLeaves(2), "cached maxBatchLeaves");
        assertEq(cached.optimisticUntil, cached.acceptsUntil, "dense models: optimistic commits as long as any");
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

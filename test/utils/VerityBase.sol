// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./Test.sol";
import {BatchDisclosure} from "../../contracts/disputes/BatchDisclosure.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {EnvironmentRegistry} from "../../contracts/environments/EnvironmentRegistry.sol";
import {InferenceLedger} from "../../contracts/ledger/InferenceLedger.sol";
import {InferenceOracle} from "../../contracts/oracle/InferenceOracle.sol";
import {DenseInt8} from "../../contracts/libraries/DenseInt8.sol";
import {DisputeTinyModel} from "../../contracts/mocks/DisputeTinyModel.sol";
import {MockAttestationVerifier} from "../../contracts/mocks/MockAttestationVerifier.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {ModelRegistry} from "../../contracts/registry/ModelRegistry.sol";
import {StakeManager} from "../../contracts/staking/StakeManager.sol";
import {CommitmentKey, Inference} from "../../contracts/types/Commitment.sol";
import {LayerSpec} from "../../contracts/types/LayerSpec.sol";
import {ModelPolicy, ModelSpec} from "../../contracts/types/Model.sol";
import {Attestation, TcbStatus, TeeMode, TeeType} from "../../contracts/types/Environment.sol";
import {TeeSeal} from "../../contracts/types/Commitment.sol";

/// @notice The protocol as ignition/modules/core.ts deploys it, for Solidity tests: a mintable token, the
/// ledger, the registry, the stake manager, the dispute game, the batch disclosure, the environment
/// registry and the inference oracle, with the ledger's sources bound, DISPUTE_ROLE granted to both dispute
/// contracts and ORACLE_ROLE to the oracle on the ledger and the stake manager. Enclave keys register
/// through `MockAttestationVerifier` (approved here). The test contract is the admin (and so a governor of
/// the registry). Helpers register the tiny two-layer model (`DisputeTinyModel`), stake providers and commit.
abstract contract VerityBase is Test {
    /// @notice Ignition's defaults (ignition/modules/core.ts).
    uint16 internal constant DEFAULT_SHARE_BPS = 5_000;
    uint256 internal constant DEFAULT_UNBONDING_DELAY = 110 days;
    uint256 internal constant DEFAULT_REFERENCE_GAS_PRICE = 1e9;
    address internal constant TREASURY = address(0x7EA5);
    address internal constant PUBLISHER = address(0xB0B);
    /// @notice keccak256("verity.role.oracle") (the ledger keeps it private).
    bytes32 internal constant ORACLE_ROLE = keccak256("verity.role.oracle");

    MockERC20 internal token;
    InferenceLedger internal ledger;
    ModelRegistry internal registry;
    StakeManager internal stake;
    DisputeGame internal game;
    BatchDisclosure internal disclosure;
    DisputeTinyModel internal tiny;
    EnvironmentRegistry internal environments;
    MockAttestationVerifier internal attestations;
    InferenceOracle internal oracle;

    // ------------------------------------------------------------------ deployment

    /// @notice Deploys the stack with Ignition's defaults.
    function deployVerity() internal {
        deployVerity(DEFAULT_SHARE_BPS, DEFAULT_UNBONDING_DELAY, DEFAULT_REFERENCE_GAS_PRICE);
    }

    /// @notice Deploys the stack as `buildCore` does, with the given parameters (treasury: `TREASURY`).
    function deployVerity(uint16 shareBps, uint256 unbondingDelay, uint256 referenceGasPrice) internal {
        token = new MockERC20("Verity Test Token", "VTT");
        ledger = new InferenceLedger(address(this));
        registry = new ModelRegistry(address(this), ledger, referenceGasPrice);
        stake = new StakeManager(token, ledger, address(this), TREASURY, shareBps, unbondingDelay);
        ledger.bindSources(address(registry), address(stake));

        game = new DisputeGame(address(this), registry, ledger, stake);
        ledger.grantRole(ledger.DISPUTE_ROLE(), address(game));
        stake.grantRole(stake.DISPUTE_ROLE(), address(game));

        disclosure = new BatchDisclosure(registry, ledger, stake);
        ledger.grantRole(ledger.DISPUTE_ROLE(), address(disclosure));
        stake.grantRole(stake.DISPUTE_ROLE(), address(disclosure));

        environments = new EnvironmentRegistry(address(this), ledger);
        ledger.bindEnvironments(address(environments));
        attestations = new MockAttestationVerifier();
        environments.approveVerifier(attestations);

        oracle = new InferenceOracle(token, ledger, registry, stake);
        ledger.grantRole(ORACLE_ROLE, address(oracle));
        stake.grantRole(stake.ORACLE_ROLE(), address(oracle));

        tiny = new DisputeTinyModel();
    }

    // ------------------------------------------------------------------ environments

    /// @notice Approves the SGX environment with measurement `bytes32(n) ‖ bytes32(n)`; returns its id.
    function approveSgx(uint256 n) internal returns (bytes32 environment) {
        return environments.approveEnvironment(TeeType.IntelSgx, abi.encodePacked(bytes32(n), bytes32(n)), "");
    }

    /// @notice `operator` registers the enclave key of `privateKey` in SGX environment `n` for `lifetime`.
    function registerKey(
        address operator,
        uint256 privateKey,
        uint256 n,
        uint48 lifetime
    ) internal returns (address key) {
        key = vm.addr(privateKey);
        vm.prank(operator);
        bytes32 nonce = environments.issueNonce();
        bytes memory evidence = abi.encode(
            Attestation({
                teeType: TeeType.IntelSgx,
                measurement: abi.encodePacked(bytes32(n), bytes32(n)),
                enclaveKey: key,
                binding: keccak256(abi.encode(block.chainid, address(environments), key, nonce)),
                tcbStatus: TcbStatus.UpToDate,
                notAfter: type(uint64).max
            })
        );
        vm.prank(operator);
        environments.registerEnclave(attestations, evidence, nonce, uint48(vm.getBlockTimestamp()) + lifetime);
    }

    /// @notice The enclave key `privateKey`'s seal over one inference (EIP-712 `TeeCommitment`).
    function sealOf(
        uint256 privateKey,
        bytes32 modelId,
        Inference memory inference,
        bytes32 environment,
        uint64 nonce
    ) internal view returns (TeeSeal memory seal) {
        seal = TeeSeal({
            environment: environment,
            enclaveKey: vm.addr(privateKey),
            nonce: nonce,
            deadline: uint64(vm.getBlockTimestamp() + 1 hours),
            v: 0,
            r: 0,
            s: 0
        });
        (seal.v, seal.r, seal.s) = vm.sign(privateKey, ledger.teeCommitmentDigest(modelId, inference, seal));
    }

    // ------------------------------------------------------------------ models

    /// @notice The default test policy (test/helpers/fixtures.ts): windows 1 h, minStake 100, slash 50,
    /// bond 10 tokens. The bond is exactly 20% of the slash, the most `PolicyBounds` allows.
    function tinyPolicy() internal pure returns (ModelPolicy memory) {
        return
            ModelPolicy({
                challengeWindow: 1 hours,
                responseWindow: 1 hours,
                minStake: 100e18,
                slashAmount: 50e18,
                challengerBond: 10e18,
                teeMode: TeeMode.None,
                teeWindow: 0,
                proofAccepted: false
            });
    }

    /// @notice The tiny model's spec (`dense-int8-v1`, graph hash left for the registry to compute).
    function tinySpec() internal view returns (ModelSpec memory) {
        return denseSpec(tiny.weightsRoot(), tiny.graph());
    }

    /// @notice A `dense-int8-v1` spec of `layers` under `weightsRoot`.
    function denseSpec(bytes32 weightsRoot, LayerSpec[] memory layers) internal pure returns (ModelSpec memory) {
        return
            ModelSpec({
                engineId: DenseInt8.ENGINE_ID,
                weightsRoot: weightsRoot,
                layers: layers,
                graphHash: bytes32(0),
                metadataURI: "ipfs://tiny"
            });
    }

    /// @notice `PUBLISHER` registers the tiny model with `policy`; checks the publisher-bound id.
    function registerTiny(ModelPolicy memory policy) internal returns (bytes32 modelId) {
        ModelSpec memory spec = tinySpec(); // before the prank: it calls the mock
        vm.prank(PUBLISHER);
        modelId = registry.registerModel(spec, policy);
        assertEq(modelId, tiny.modelIdOf(PUBLISHER), "tiny model id");
    }

    // ------------------------------------------------------------------ accounts

    /// @notice Mints `amount` to `account`, which approves the stake manager for everything.
    function fund(address account, uint256 amount) internal {
        token.mint(account, amount);
        vm.prank(account);
        token.approve(address(stake), type(uint256).max);
    }

    /// @notice Mints `amount` to `provider` and stakes it.
    function stakeProvider(address provider, uint256 amount) internal {
        fund(provider, amount);
        vm.prank(provider);
        stake.deposit(amount);
    }

    // ------------------------------------------------------------------ commitments

    /// @notice The key of `provider`'s commitment of `inference` on `modelId` (binding zero, as `commit`).
    function keyOf(
        address provider,
        bytes32 modelId,
        Inference memory inference
    ) internal pure returns (CommitmentKey memory) {
        return CommitmentKey({provider: provider, modelId: modelId, inference: inference, binding: bytes32(0)});
    }

    /// @notice `provider` commits `inference` with `inputData` (the input itself, or a URI); checks the id.
    function commitAs(
        address provider,
        bytes32 modelId,
        Inference memory inference,
        bytes memory inputData
    ) internal returns (bytes32 id) {
        vm.prank(provider);
        id = ledger.commit(modelId, inference.inputHash, inference.outputHash, inference.traceRoot, inputData);
        assertEq(id, keccak256(abi.encode(keyOf(provider, modelId, inference))), "commitment id");
    }

    /// @notice The tiny model's honest run on `x0`, with the output xor `delta` (0: honest), as an inference
    /// and its activations.
    function tinyRun(
        bytes memory x0,
        uint8 delta
    ) internal view returns (Inference memory inference, bytes[] memory acts, bytes32[] memory hashes) {
        (acts, , ) = tiny.trace(x0);
        acts[2] = abi.encodePacked(acts[2][0] ^ bytes1(delta));
        hashes = new bytes32[](acts.length);
        for (uint256 i; i < acts.length; ++i) hashes[i] = keccak256(acts[i]);
        inference = Inference(hashes[0], hashes[2], tiny.traceRootOf(hashes));
    }
}

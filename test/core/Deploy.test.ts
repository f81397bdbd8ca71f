import { expect } from "chai";
import { id, type Interface } from "ethers";
import { readFileSync } from "node:fs";
import { network } from "hardhat";
import Verity from "../../ignition/modules/Verity.js";
import VerityLocal from "../../ignition/modules/VerityLocal.js";
import { DEFAULT_REFERENCE_GAS_PRICE, DEFAULT_UNBONDING_DELAY } from "../../ignition/modules/core.js";
import type {
  InferenceOracle,
  AttestationServiceVerifier,
  BatchDisclosure,
  DisputeGame,
  EnvironmentRegistry,
  InferenceLedger,
  MockERC20,
  ModelRegistry,
  StakeManager,
} from "../../typechain-types/index.js";
import { deployVerity, defaultPolicy } from "../helpers/fixtures.js";
import { Bounds, CommitmentStatus, denseSpec, h, ids, modelIdOfSpec, RecordFlags, ZERO_HASH } from "./coreFixtures.js";

const connection = await network.create();
const { ethers, ignition, networkHelpers } = connection;

type Params = Record<string, Record<string, string | number>>;

function readParams(name: string): Params {
  return JSON.parse(readFileSync(new URL(`../../ignition/parameters/${name}.json`, import.meta.url), "utf8")) as Params;
}

/** Deploys VerityLocal in-process with `parameters` and attaches typed contracts. */
async function deployLocal(parameters: Params = {}) {
  const d = await ignition.deploy(VerityLocal, { parameters });
  const at = async <T>(name: string, c: { getAddress(): Promise<string> }) =>
    (await ethers.getContractAt(name, await c.getAddress())) as unknown as T;
  // Every contract the module returns, by name: a new one must be added to the role expectations below.
  const names = Object.keys(d).sort();
  return {
    token: await at<MockERC20>("MockERC20", d.token),
    ledger: await at<InferenceLedger>("InferenceLedger", d.ledger),
    registry: await at<ModelRegistry>("ModelRegistry", d.registry),
    stakeManager: await at<StakeManager>("StakeManager", d.stakeManager),
    disputeGame: await at<DisputeGame>("DisputeGame", d.disputeGame),
    batchDisclosure: await at<BatchDisclosure>("BatchDisclosure", d.batchDisclosure),
    environmentRegistry: await at<EnvironmentRegistry>("EnvironmentRegistry", d.environmentRegistry),
    attestationService: await at<AttestationServiceVerifier>("AttestationServiceVerifier", d.attestationService),
    oracle: await at<InferenceOracle>("InferenceOracle", d.oracle),
    names,
  };
}

describe("Deploy (Ignition modules)", () => {
  async function defaults() {
    const [deployer, other] = await ethers.getSigners();
    return { ...(await deployLocal()), deployer, other };
  }

  it("deploys the token, ledger, registry, stake manager, dispute game, batch disclosure, environment registry, attestation-service verifier and oracle and wires them to each other", async () => {
    const {
      token,
      ledger,
      registry,
      stakeManager,
      disputeGame,
      batchDisclosure,
      environmentRegistry,
      attestationService,
      oracle,
      names,
    } = await networkHelpers.loadFixture(defaults);
    expect(names).to.deep.equal([
      "attestationService",
      "batchDisclosure",
      "disputeGame",
      "environmentRegistry",
      "ledger",
      "oracle",
      "registry",
      "stakeManager",
      "token",
    ]);
    const [t, l, r, s, g, b, e, a] = await Promise.all(
      [
        token,
        ledger,
        registry,
        stakeManager,
        disputeGame,
        batchDisclosure,
        environmentRegistry,
        attestationService,
      ].map((c) => c.getAddress()),
    );
    expect(new Set([t, l, r, s, g, b, e, a]).size).to.equal(8);
    for (const c of [disputeGame, batchDisclosure]) {
      expect(await c.registry()).to.equal(r);
      expect(await c.ledger()).to.equal(l);
      expect(await c.stakeManager()).to.equal(s);
    }
    expect(await ledger.registry()).to.equal(r);
    expect(await ledger.stakeManager()).to.equal(s);
    expect(await ledger.environments()).to.equal(e);
    expect(await registry.ledger()).to.equal(l);
    expect(await environmentRegistry.ledger()).to.equal(l);
    expect(await stakeManager.ledger()).to.equal(l);
    expect(await stakeManager.token()).to.equal(t);
    expect(await token.name()).to.equal("Verity Stake");
    expect(await token.symbol()).to.equal("VST");
    // The oracle takes fees in the staking token, records answers on the ledger, releases compensation.
    expect(await oracle.token()).to.equal(t);
    expect(await oracle.ledger()).to.equal(l);
    expect(await oracle.registry()).to.equal(r);
    expect(await oracle.stakeManager()).to.equal(s);
    const role = id("verity.role.oracle");
    expect(await ledger.hasRole(role, await oracle.getAddress())).to.equal(true);
    expect(await stakeManager.hasRole(role, await oracle.getAddress())).to.equal(true);
  });

  it("binds the environment registry to the ledger once and approves exactly the attestation-service verifier", async () => {
    const { ledger, environmentRegistry, attestationService, deployer, other } =
      await networkHelpers.loadFixture(defaults);
    const [e, a] = [await environmentRegistry.getAddress(), await attestationService.getAddress()];
    const bound = await ledger.queryFilter(ledger.filters.EnvironmentsBound());
    expect(bound.map((ev) => [...ev.args])).to.deep.equal([[e]]);
    await expect(ledger.connect(deployer).bindEnvironments(deployer.address)).to.be.revertedWithCustomError(
      ledger,
      "InferenceLedgerInvalidBinding",
    );
    expect(await ledger.environments()).to.equal(e);

    const approved = await environmentRegistry.queryFilter(environmentRegistry.filters.VerifierApproved());
    expect(approved.map((ev) => [...ev.args])).to.deep.equal([[a, await attestationService.VERIFIER_KIND()]]);
    expect(await attestationService.verifierKind()).to.equal(ethers.id("verity.verifier.attestation-service.v1"));
    expect(await environmentRegistry.isApprovedVerifier(a)).to.equal(true);
    for (const notVerifier of [await ledger.getAddress(), deployer.address, other.address]) {
      expect(await environmentRegistry.isApprovedVerifier(notVerifier)).to.equal(false);
    }
    // No environment and no service key is approved by the deployment: governance adds them.
    expect(await environmentRegistry.queryFilter(environmentRegistry.filters.EnvironmentApproved())).to.deep.equal([]);
    expect(await environmentRegistry.acceptedTcbStatuses()).to.equal(1n << 1n);
    expect(await environmentRegistry.revokeOnFraud()).to.equal(false);
  });

  it("binds the ledger's sources exactly once, in the deployment", async () => {
    const { ledger, registry, stakeManager, deployer } = await networkHelpers.loadFixture(defaults);
    const events = await ledger.queryFilter(ledger.filters.SourcesBound());
    expect(events.length).to.equal(1);
    expect([...events[0].args]).to.deep.equal([await registry.getAddress(), await stakeManager.getAddress()]);
    await expect(
      ledger.connect(deployer).bindSources(deployer.address, deployer.address),
    ).to.be.revertedWithCustomError(ledger, "InferenceLedgerInvalidBinding");
  });

  it("makes the deployer the admin and the governor of the registries and the verifier, and grants DISPUTE_ROLE only to the dispute game and the batch disclosure", async () => {
    const {
      ledger,
      registry,
      stakeManager,
      disputeGame,
      batchDisclosure,
      environmentRegistry,
      attestationService,
      deployer,
      other,
    } = await networkHelpers.loadFixture(defaults);
    const governor = await registry.GOVERNOR_ROLE();
    const dispute = await ledger.DISPUTE_ROLE();
    for (const c of [ledger, registry, stakeManager, disputeGame, environmentRegistry, attestationService]) {
      expect(await c.hasRole(ZERO_HASH, deployer.address)).to.equal(true);
      expect(await c.hasRole(ZERO_HASH, other.address)).to.equal(false);
    }
    for (const c of [registry, environmentRegistry, attestationService]) {
      expect(await c.GOVERNOR_ROLE()).to.equal(ethers.id("verity.role.governor"));
      expect(await c.hasRole(governor, deployer.address)).to.equal(true);
      expect(await c.hasRole(governor, other.address)).to.equal(false);
    }
    expect(await stakeManager.DISPUTE_ROLE()).to.equal(dispute);
    // Before: only the dispute game. Now the batch disclosure too (it overturns batches and slashes).
    const expected = [await disputeGame.getAddress(), await batchDisclosure.getAddress()];
    for (const c of [ledger, stakeManager]) {
      expect(await c.hasRole(dispute, deployer.address)).to.equal(false);
      const grantees = (await c.queryFilter(c.filters.RoleGranted(dispute))).map((e) => e.args.account);
      // Ignition may send the two grants in either order.
      expect([...grantees].sort()).to.deep.equal([...expected].sort());
      for (const g of expected) expect(await c.hasRole(dispute, g)).to.equal(true);
    }
  });

  it("deploys a dispute game with no pause: no GUARDIAN_ROLE, pause, unpause or paused", async () => {
    // Before: a guardian could pause the game and freeze every open dispute until provider stakes
    // unbonded. Now no role can stop a game.
    const { disputeGame, deployer } = await networkHelpers.loadFixture(defaults);
    const abi: Interface = disputeGame.interface;
    for (const name of ["GUARDIAN_ROLE", "pause", "unpause", "paused"]) {
      expect(abi.getFunction(name), name).to.equal(null);
    }
    const granted = (await disputeGame.queryFilter(disputeGame.filters.RoleGranted())).map((e) => [
      e.args.role,
      e.args.account,
    ]);
    expect(granted).to.deep.equal([[ZERO_HASH, deployer.address]]);
  });

  it("applies the default parameters: treasury = deployer, 5,000 bps, a 110-day unbonding delay, a 1e9 reference gas price", async () => {
    const { stakeManager, registry, deployer } = await networkHelpers.loadFixture(defaults);
    expect(await stakeManager.treasury()).to.equal(deployer.address);
    expect(await stakeManager.challengerShareBps()).to.equal(5_000n);
    expect(DEFAULT_UNBONDING_DELAY).to.equal(110 * 24 * 3600);
    expect(DEFAULT_UNBONDING_DELAY).to.be.greaterThan(Bounds.MIN_UNBONDING_DELAY);
    expect(await stakeManager.unbondingDelay()).to.equal(BigInt(DEFAULT_UNBONDING_DELAY));
    expect(DEFAULT_REFERENCE_GAS_PRICE).to.equal(10n ** 9n);
    expect(await registry.referenceGasPrice()).to.equal(10n ** 9n);
  });

  it("applies custom parameters", async () => {
    const [, other] = await ethers.getSigners();
    const { token, stakeManager, registry } = await deployLocal({
      VerityLocal: {
        treasury: other.address,
        challengerShareBps: 2_345,
        unbondingDelay: Bounds.MIN_UNBONDING_DELAY + 1,
        referenceGasPrice: 7,
        tokenName: "Test Stake",
        tokenSymbol: "TST",
      },
    });
    expect(await stakeManager.treasury()).to.equal(other.address);
    expect(await stakeManager.challengerShareBps()).to.equal(2_345n);
    expect(await stakeManager.unbondingDelay()).to.equal(BigInt(Bounds.MIN_UNBONDING_DELAY + 1));
    expect(await registry.referenceGasPrice()).to.equal(7n);
    expect(await token.name()).to.equal("Test Stake");
    expect(await token.symbol()).to.equal("TST");
  });

  it("deploys with ignition/parameters/localhost.json", async () => {
    const params = readParams("localhost");
    const { stakeManager } = await deployLocal(params);
    expect(await stakeManager.challengerShareBps()).to.equal(BigInt(params.VerityLocal.challengerShareBps));
  });

  async function deployError(parameters: Record<string, string | number>): Promise<string> {
    try {
      await deployLocal({ VerityLocal: parameters });
    } catch (e) {
      expect(e).to.be.instanceOf(Error);
      return String((e as Error).message);
    }
    expect.fail("deployment should fail");
  }

  it("fails to deploy with an unbonding delay of exactly 109 days (PolicyBounds.MIN_UNBONDING_DELAY)", async () => {
    expect(await deployError({ unbondingDelay: Bounds.MIN_UNBONDING_DELAY })).to.match(
      /StakeManagerUnbondingDelayTooShort\(9417600, 9417600\)/,
    );
  });

  it("fails to deploy with a challenger share outside [2,000, 5,000] bps or a zero reference gas price", async () => {
    expect(await deployError({ challengerShareBps: 1_999 })).to.match(/StakeManagerInvalidShare\(1999, 2000, 5000\)/);
    expect(await deployError({ challengerShareBps: 5_001 })).to.match(/StakeManagerInvalidShare\(5001, 2000, 5000\)/);
    expect(await deployError({ referenceGasPrice: 0 })).to.match(/ModelRegistryInvalidGasPrice/);
  });

  it("keeps the sepolia parameters inside the bounds the constructor enforces", () => {
    const { Verity: p } = readParams("sepolia");
    expect(Number(p.unbondingDelay)).to.be.greaterThan(Bounds.MIN_UNBONDING_DELAY);
    expect(Number(p.challengerShareBps)).to.be.within(Bounds.MIN_CHALLENGER_SHARE_BPS, Bounds.MAX_CHALLENGER_SHARE_BPS);
    if (p.referenceGasPrice !== undefined) expect(BigInt(p.referenceGasPrice)).to.be.greaterThan(0n);
  });

  it("the Verity module stakes an existing ERC-20 given by the stakingToken parameter", async () => {
    const [deployer, other] = await ethers.getSigners();
    const existing = await ethers.deployContract("MockERC20", ["Existing", "EXT"]);
    const d = await ignition.deploy(Verity, {
      parameters: { Verity: { stakingToken: await existing.getAddress(), treasury: other.address } },
    });
    const stakeManager = (await ethers.getContractAt(
      "StakeManager",
      await d.stakeManager.getAddress(),
    )) as unknown as StakeManager;
    const ledger = (await ethers.getContractAt(
      "InferenceLedger",
      await d.ledger.getAddress(),
    )) as unknown as InferenceLedger;
    expect(await d.token.getAddress()).to.equal(await existing.getAddress());
    expect(await stakeManager.token()).to.equal(await existing.getAddress());
    expect(await stakeManager.treasury()).to.equal(other.address);
    expect(await ledger.registry()).to.equal(await d.registry.getAddress());
    expect(await ledger.stakeManager()).to.equal(await d.stakeManager.getAddress());
    expect(await ledger.hasRole(ZERO_HASH, deployer.address)).to.equal(true);
  });

  it("deploys a protocol that registers, stakes and commits end to end", async () => {
    async function full() {
      return deployVerity(connection);
    }
    const { ledger, registry, stakeManager, signers } = await networkHelpers.loadFixture(full);
    const [, publisher, provider] = signers;
    const { commitmentId } = ids(ethers);
    const spec = denseSpec(ethers, "deploy");
    const policy = defaultPolicy(ethers);
    await registry.connect(publisher).registerModel(spec, policy);
    const modelId = modelIdOfSpec(publisher.address, spec);
    await stakeManager.connect(provider).deposit(policy.minStake);
    const input = ethers.hexlify(new Uint8Array(784).fill(3));
    const [i, o, t] = [ethers.keccak256(input), h(ethers, "o"), h(ethers, "t")];
    await ledger.connect(provider).commit(modelId, i, o, t, input);
    const id = commitmentId(provider.address, modelId, i, o, t);
    expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
    expect((await ledger.recordOf(id)).flags).to.equal(RecordFlags.INPUT_PUBLIC);
    await networkHelpers.time.increase(policy.challengeWindow + 1);
    expect(await ledger.isFinal(id)).to.equal(true);
  });
});

import { expect } from "chai";
import { readFileSync } from "node:fs";
import { network } from "hardhat";
import Verity from "../../ignition/modules/Verity.js";
import VerityLocal from "../../ignition/modules/VerityLocal.js";
import { DEFAULT_UNBONDING_DELAY } from "../../ignition/modules/core.js";
import type { InferenceLedger, MockERC20, ModelRegistry, StakeManager } from "../../typechain-types/index.js";
import { deployVerity, defaultPolicy, ENGINE_ID_V1 } from "../helpers/fixtures.js";
import { Bounds, CommitmentStatus, h, ids, ZERO_HASH } from "./coreFixtures.js";

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
  // Contracts the module deploys beyond the core (e.g. a dispute game): by name, address.
  const extra: Record<string, string> = {};
  for (const [name, c] of Object.entries(d as Record<string, { getAddress(): Promise<string> }>)) {
    if (!["token", "ledger", "registry", "stakeManager"].includes(name)) extra[name] = await c.getAddress();
  }
  return {
    token: await at<MockERC20>("MockERC20", d.token),
    ledger: await at<InferenceLedger>("InferenceLedger", d.ledger),
    registry: await at<ModelRegistry>("ModelRegistry", d.registry),
    stakeManager: await at<StakeManager>("StakeManager", d.stakeManager),
    extra,
  };
}

describe("Deploy (Ignition modules)", () => {
  async function defaults() {
    const [deployer, other] = await ethers.getSigners();
    return { ...(await deployLocal()), deployer, other };
  }

  it("deploys the token, ledger, registry and stake manager and wires them to each other", async () => {
    const { token, ledger, registry, stakeManager } = await networkHelpers.loadFixture(defaults);
    const [t, l, r, s] = await Promise.all([token, ledger, registry, stakeManager].map((c) => c.getAddress()));
    expect(new Set([t, l, r, s]).size).to.equal(4);
    expect(await ledger.registry()).to.equal(r);
    expect(await ledger.stakeManager()).to.equal(s);
    expect(await registry.ledger()).to.equal(l);
    expect(await stakeManager.ledger()).to.equal(l);
    expect(await stakeManager.token()).to.equal(t);
    expect(await token.name()).to.equal("Verity Stake");
    expect(await token.symbol()).to.equal("VST");
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

  it("makes the deployer the admin of all three contracts and the registry's governor, and grants DISPUTE_ROLE only to the module's dispute game", async () => {
    const { ledger, registry, stakeManager, deployer, other, extra } = await networkHelpers.loadFixture(defaults);
    const governor = await registry.GOVERNOR_ROLE();
    const dispute = await ledger.DISPUTE_ROLE();
    for (const c of [ledger, registry, stakeManager]) {
      expect(await c.hasRole(ZERO_HASH, deployer.address)).to.equal(true);
      expect(await c.hasRole(ZERO_HASH, other.address)).to.equal(false);
    }
    expect(await registry.hasRole(governor, deployer.address)).to.equal(true);
    expect(await registry.hasRole(governor, other.address)).to.equal(false);
    expect(await stakeManager.DISPUTE_ROLE()).to.equal(dispute);
    // The core alone grants DISPUTE_ROLE to no one; a module that also deploys a dispute game grants it
    // to that contract, and to nothing else, on both the ledger and the stake manager.
    const expected = extra.disputeGame === undefined ? [] : [extra.disputeGame];
    for (const c of [ledger, stakeManager]) {
      expect(await c.hasRole(dispute, deployer.address)).to.equal(false);
      const grantees = (await c.queryFilter(c.filters.RoleGranted(dispute))).map((e) => e.args.account);
      expect(grantees).to.deep.equal(expected);
      for (const g of expected) expect(await c.hasRole(dispute, g)).to.equal(true);
    }
  });

  it("applies the default parameters: treasury = deployer, 5,000 bps, a 73-day unbonding delay", async () => {
    const { stakeManager, deployer } = await networkHelpers.loadFixture(defaults);
    expect(await stakeManager.treasury()).to.equal(deployer.address);
    expect(await stakeManager.challengerShareBps()).to.equal(5_000n);
    expect(DEFAULT_UNBONDING_DELAY).to.equal(73 * 24 * 3600);
    expect(DEFAULT_UNBONDING_DELAY).to.be.greaterThan(Bounds.MIN_UNBONDING_DELAY);
    expect(await stakeManager.unbondingDelay()).to.equal(BigInt(DEFAULT_UNBONDING_DELAY));
  });

  it("applies custom parameters", async () => {
    const [, other] = await ethers.getSigners();
    const { token, stakeManager } = await deployLocal({
      VerityLocal: {
        treasury: other.address,
        challengerShareBps: 1_234,
        unbondingDelay: Bounds.MIN_UNBONDING_DELAY + 1,
        tokenName: "Test Stake",
        tokenSymbol: "TST",
      },
    });
    expect(await stakeManager.treasury()).to.equal(other.address);
    expect(await stakeManager.challengerShareBps()).to.equal(1_234n);
    expect(await stakeManager.unbondingDelay()).to.equal(BigInt(Bounds.MIN_UNBONDING_DELAY + 1));
    expect(await token.name()).to.equal("Test Stake");
    expect(await token.symbol()).to.equal("TST");
  });

  it("deploys with ignition/parameters/localhost.json", async () => {
    const params = readParams("localhost");
    const { stakeManager } = await deployLocal(params);
    expect(await stakeManager.challengerShareBps()).to.equal(BigInt(params.VerityLocal.challengerShareBps));
  });

  it("fails to deploy with an unbonding delay at PolicyBounds.MIN_UNBONDING_DELAY", async () => {
    let error: unknown;
    try {
      await deployLocal({ VerityLocal: { unbondingDelay: Bounds.MIN_UNBONDING_DELAY } });
    } catch (e) {
      error = e;
    }
    expect(error, "deployment should fail").to.be.instanceOf(Error);
    expect(String((error as Error).message)).to.match(/StakeManagerUnbondingDelayTooShort/);
  });

  it("keeps the sepolia parameters inside the bounds the constructor enforces", () => {
    const { Verity: p } = readParams("sepolia");
    expect(Number(p.unbondingDelay)).to.be.greaterThan(Bounds.MIN_UNBONDING_DELAY);
    expect(Number(p.challengerShareBps)).to.be.within(0, 10_000);
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
    const { modelId: modelIdOf, commitmentId } = ids(ethers);
    const [w, g] = [h(ethers, "deploy/w"), h(ethers, "deploy/g")];
    const policy = defaultPolicy(ethers);
    await registry.connect(publisher).registerModel(w, g, ENGINE_ID_V1, "", policy);
    const modelId = modelIdOf(w, g, ENGINE_ID_V1);
    await stakeManager.connect(provider).deposit(policy.minStake);
    const [i, o, t] = [h(ethers, "i"), h(ethers, "o"), h(ethers, "t")];
    await ledger.connect(provider).commit(modelId, i, o, t, "0x");
    const id = commitmentId(provider.address, modelId, i, o, t);
    expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
    await networkHelpers.time.increase(policy.challengeWindow + 1);
    expect(await ledger.isFinal(id)).to.equal(true);
  });
});

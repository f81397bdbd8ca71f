import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { network } from "hardhat";
import VerityLocal from "../../ignition/modules/VerityLocal.js";
import {
  BUILD_EVM_VERSION,
  DEPLOYMENT_IDENTITY_FILE,
  DeploymentError,
  chainInstanceOf,
  findDeployment,
  inspectDeployment,
  instanceDeploymentId,
  isMissingOpcodeError,
  planDeployment,
  supportsCancun,
  writeDeploymentIdentity,
  type ChainInstance,
  type ChainReader,
} from "../../src/sdk/deployments.js";

/**
 * Deployment identity: a deployment folder records the chain instance (chain id and genesis block) it
 * belongs to, so that two local nodes with chain id 31337 never share (or silently replace) a deployment,
 * and a deployment whose contracts are not on this node is one line saying what to do.
 */
const connection = await network.create();
const provider = connection.ethers.provider as unknown as ChainReader;
const deployed = await connection.ignition.deploy(VerityLocal);
const ignitionAddresses: Record<string, string> = {
  "VerityLocal#MockERC20": await deployed.token.getAddress(),
  "VerityLocal#ModelRegistry": await deployed.registry.getAddress(),
  "VerityLocal#StakeManager": await deployed.stakeManager.getAddress(),
  "VerityLocal#InferenceLedger": await deployed.ledger.getAddress(),
  "VerityLocal#DisputeGame": await deployed.disputeGame.getAddress(),
  "VerityLocal#BatchDisclosure": await deployed.batchDisclosure.getAddress(),
  "VerityLocal#EnvironmentRegistry": await deployed.environmentRegistry.getAddress(),
  "VerityLocal#AttestationServiceVerifier": await deployed.attestationService.getAddress(),
};
/** The same roles at addresses with no code: what another node's deployment looks like here. */
const elsewhere = Object.fromEntries(
  Object.keys(ignitionAddresses).map((k, i) => [k, `0x${(0xdead00 + i).toString(16).padStart(40, "0")}`]),
);
const other: ChainInstance = { chainId: 31337n, genesisHash: `0x${"ab".repeat(32)}` };

describe("Deployments: which chain instance a deployment belongs to", () => {
  let root: string;
  let here: ChainInstance;

  /** Writes a deployment folder under `root`: its addresses and, unless undefined, its identity. */
  function folder(name: string, addresses: Record<string, string> | undefined, instance?: ChainInstance, at?: string) {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    if (addresses !== undefined) writeFileSync(path.join(dir, "deployed_addresses.json"), JSON.stringify(addresses));
    if (instance !== undefined) {
      writeDeploymentIdentity(dir, instance);
      if (at !== undefined) {
        const file = path.join(dir, DEPLOYMENT_IDENTITY_FILE);
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), deployedAt: at }));
      }
    }
    return dir;
  }

  async function failure(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => expect.fail("did not throw"),
      (e: Error) => e,
    );
    expect(error).to.be.instanceOf(DeploymentError);
    expect(error.message).to.not.include("\n");
    return error.message;
  }

  before(async () => {
    here = await chainInstanceOf(provider);
    expect(here.chainId).to.equal(31337n);
    expect(here.genesisHash).to.match(/^0x[0-9a-f]{64}$/);
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "verity-deployments-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("keys a chain instance by its genesis block", () => {
    expect(instanceDeploymentId(here)).to.equal(`chain-31337-${here.genesisHash.slice(2, 10)}`);
    expect(instanceDeploymentId(other)).to.equal("chain-31337-abababab");
  });

  it("inspects a folder: live, another instance's, gone from this node, unfinished, absent", async () => {
    const live = await inspectDeployment(provider, folder("live", ignitionAddresses, here));
    expect(live.state).to.equal("live");
    expect(live.module).to.equal("VerityLocal");
    expect(live.addresses?.ledger).to.equal(ignitionAddresses["VerityLocal#InferenceLedger"]);
    // The same addresses, recorded for another chain instance: code is there, but it is not this deployment.
    const foreign = await inspectDeployment(provider, folder("foreign", ignitionAddresses, other));
    expect(foreign.state).to.equal("foreign");
    expect(foreign.reason).to.include("genesis 0xabababab");
    const stale = await inspectDeployment(provider, folder("stale", elsewhere));
    expect(stale.state).to.equal("stale");
    expect(stale.missing).to.have.length(8);
    expect(stale.reason).to.match(/^no contract code at token 0x/);
    expect((await inspectDeployment(provider, folder("unfinished", undefined, here))).state).to.equal("incomplete");
    expect((await inspectDeployment(provider, path.join(root, "none"))).state).to.equal("absent");
  });

  it("finds this node's deployment, not the one of another node with the same chain id", async () => {
    folder("chain-31337", ignitionAddresses, other);
    const mine = folder(instanceDeploymentId(here), ignitionAddresses, here);
    const found = await findDeployment(provider, root);
    expect(found.folder).to.equal(mine);
    expect(found.addresses.ledger).to.equal(ignitionAddresses["VerityLocal#InferenceLedger"]);
    expect(found.identity?.genesisHash).to.equal(here.genesisHash);
  });

  it("takes the newest live deployment of this node, and a deployment Verity did not record when it is live", async () => {
    folder("chain-31337", ignitionAddresses, here, "2026-01-01T00:00:00.000Z");
    const newer = folder("chain-31337-x", ignitionAddresses, here, "2026-06-01T00:00:00.000Z");
    expect((await findDeployment(provider, root)).folder).to.equal(newer);
    rmSync(root, { recursive: true });
    const legacy = folder("chain-31337", ignitionAddresses);
    expect((await findDeployment(provider, root)).folder).to.equal(legacy);
  });

  it("says in one line what to do when the deployments are another node's or their contracts are gone", async () => {
    folder("chain-31337", ignitionAddresses, other);
    expect(await failure(findDeployment(provider, root))).to.match(
      /^the deployments for chain 31337 under .* \(chain-31337\) belong to other chain instances, not to this node .*run `verity deploy`.*--deployment/,
    );
    // Given explicitly, too.
    expect(await failure(findDeployment(provider, path.join(root, "chain-31337")))).to.match(
      /is not on this node .*genesis 0xabababab.*run `verity deploy`/,
    );
    rmSync(root, { recursive: true });
    // A folder with no record of its chain whose addresses have no code here (a restarted node).
    folder("chain-31337", elsewhere);
    expect(await failure(findDeployment(provider, root))).to.match(
      /^no Verity contracts on this node \(chain 31337, genesis 0x[0-9a-f]{8}…\) at the addresses in .*chain-31337 \(no contract code at token 0x.*ledger 0x.*\).*run `verity deploy`/,
    );
    expect(await failure(findDeployment(provider, path.join(root, "chain-31337", "deployed_addresses.json")))).to.match(
      /^no Verity contracts on this node/,
    );
    rmSync(root, { recursive: true, force: true });
    expect(await failure(findDeployment(provider, root))).to.match(
      /^no Verity deployment at .* \(no such folder\): check --deployment, or run `verity deploy`$/,
    );
    mkdirSync(root);
    expect(await failure(findDeployment(provider, root))).to.match(
      /^no Verity deployment for chain 31337 under .*: run `verity deploy` first$/,
    );
  });

  it("plans a deployment without ever replacing a live one or another node's", async () => {
    expect(await planDeployment(provider, root)).to.include({ action: "deploy", deploymentId: "chain-31337" });
    // chain-31337 is another node's: it is left alone, and this node's goes next to it.
    const theirs = folder("chain-31337", ignitionAddresses, other);
    const keyed = instanceDeploymentId(here);
    expect(await planDeployment(provider, root)).to.include({ action: "deploy", deploymentId: keyed });
    // A live one of this node is reported, not redeployed; --fresh puts a new one beside it.
    folder(keyed, ignitionAddresses, here);
    const live = await planDeployment(provider, root);
    expect(live).to.include({ action: "live", deploymentId: keyed });
    expect(await planDeployment(provider, root, { fresh: true })).to.include({
      action: "deploy",
      deploymentId: `${keyed}-2`,
    });
    // An explicit id: a live folder is reported, another node's refused, an unfinished one resumed.
    expect(await planDeployment(provider, root, { deploymentId: keyed })).to.include({ action: "live" });
    expect(await failure(planDeployment(provider, root, { deploymentId: "chain-31337" }))).to.match(
      /chain-31337 holds a deployment that is not on this node \(it belongs to another chain instance .*\): choose another --deployment-id/,
    );
    folder("mine", undefined, here);
    expect(await planDeployment(provider, root, { deploymentId: "mine" })).to.include({ action: "resume" });
    expect(await planDeployment(provider, root, { deploymentId: "new-one" })).to.include({ action: "deploy" });
    // Nothing was written to another node's folder.
    expect(JSON.parse(readFileSync(path.join(theirs, DEPLOYMENT_IDENTITY_FILE), "utf8")).genesisHash).to.equal(
      other.genesisHash,
    );
  });

  it("does not resume or reuse a folder of this node whose contracts are gone: the next one gets a new name", async () => {
    folder("chain-31337", elsewhere, here);
    expect(await planDeployment(provider, root)).to.include({
      action: "deploy",
      deploymentId: instanceDeploymentId(here),
    });
  });

  it("tells a chain without Cancun from one with it", async () => {
    expect(BUILD_EVM_VERSION).to.equal(hre.config.solidity.profiles.default.compilers[0].settings.evmVersion);
    expect(await supportsCancun(provider)).to.equal(true);
    const shanghai = await network.create({ override: { hardfork: "shanghai" } });
    try {
      expect(await supportsCancun(shanghai.ethers.provider as unknown as ChainReader)).to.equal(false);
    } finally {
      await shanghai.close();
    }
    expect(isMissingOpcodeError(new Error("EVM error NotActivated"))).to.equal(true); // anvil
    expect(isMissingOpcodeError("execution reverted: InferenceLedgerInsufficientStake")).to.equal(false);
  });
});

/**
 * The CLI against a chain that mines a block every 2 seconds (anvil `--block-time 2`), not one per
 * transaction: every command that sends must wait for its receipt, and nothing may read state that a
 * transaction of its own has not yet been mined into. deploy, token mint, model register, stake deposit
 * (approve, then deposit), single and batch commits and their status, all through bin/verity.js.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import { CommitmentStatus, Verity, loadDeployment } from "../../src/sdk/index.js";
import { rpcCall } from "./helpers/node.js";
import { cliAvailable, deployWithCli, verity, type GlobalFlags } from "./helpers/cli.js";
import { startChain, type ChainNode } from "../helpers/nodes.js";

const MODEL = "models/mnist-784-128-64-10.json";
const BLOCK_TIME = 2;
/** Default accounts 1 and 2 (same mnemonic on anvil and hardhat node). */
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PUBLISHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const TOKEN = 10n ** 18n;

interface Block {
  number: string;
  timestamp: string;
  transactions: string[];
}

describe(`verity CLI on a chain with a block every ${BLOCK_TIME} s (anvil --block-time)`, function () {
  this.timeout(90_000);

  let node: ChainNode | undefined;
  let deploymentDir: string | undefined;
  let work = "";
  let rpc: JsonRpcProvider | undefined;
  let verityClient: Verity | undefined;
  const flags = (account?: number): GlobalFlags => ({ rpc: node!.url, deployment: deploymentDir, account });
  /** Runs `verity --json <command>`, expects exit 0, and parses stdout. */
  const json = async <T = any>(account: number | undefined, command: string[]): Promise<T> =>
    JSON.parse((await verity(flags(account), ["--json", ...command])).stdout) as T;
  /** The block that mined `hash`: its receipt must exist once the command that sent it has returned. */
  const minedIn = async (hash: string): Promise<number> => {
    const receipt = (await rpcCall(node!.url, "eth_getTransactionReceipt", [hash])) as {
      blockNumber: string;
      status: string;
    } | null;
    expect(receipt, `no receipt for ${hash} after the command returned`).to.not.equal(null);
    expect(receipt!.status).to.equal("0x1");
    return Number(receipt!.blockNumber);
  };

  /** The SDK on the same deployment, for reads in this process (no CLI start-up per check). */
  const sdk = (): Verity => verityClient!;
  /** The block holding `from`'s transaction with `nonce`, searched back from block `below` (bounded). */
  const blockOfNonce = async (from: string, nonce: number, below: number): Promise<number | undefined> => {
    for (let n = below; n > Math.max(0, below - 30); n--) {
      const block = (await rpcCall(node!.url, "eth_getBlockByNumber", [`0x${n.toString(16)}`, true])) as {
        transactions: { from: string; nonce: string }[];
      };
      const hit = block.transactions.some(
        (t) => t.from.toLowerCase() === from.toLowerCase() && Number(t.nonce) === nonce,
      );
      if (hit) return n;
    }
    return undefined;
  };

  before(async function () {
    expect(cliAvailable(), "bin/verity.js is missing").to.equal(true);
    node = await startChain("anvil", { blockTimeSeconds: BLOCK_TIME });
    work = mkdtempSync(path.join(os.tmpdir(), "verity-blocktime-"));
  });

  after(async function () {
    rpc?.destroy();
    await node?.stop();
    if (deploymentDir !== undefined) rmSync(deploymentDir, { recursive: true, force: true });
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("runs on anvil with interval mining, not automine", async function () {
    expect(String(await rpcCall(node!.url, "web3_clientVersion"))).to.match(/^anvil\//);
    expect(await rpcCall(node!.url, "anvil_getAutomine")).to.equal(false);
  });

  it("deploys through the CLI, each transaction waited for", async function () {
    deploymentDir = await deployWithCli(node!.url, `blocktime-${randomBytes(6).toString("hex")}`, 85_000);
    rpc = new JsonRpcProvider(node!.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    verityClient = await Verity.connect({ runner: rpc, addresses: loadDeployment(31337n, deploymentDir) });
    // Interval mining: the deployment spans several blocks at least BLOCK_TIME s apart.
    const head = Number(await rpcCall(node!.url, "eth_blockNumber"));
    const blocks: Block[] = [];
    for (let n = 1; n <= head; n++)
      blocks.push((await rpcCall(node!.url, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false])) as Block);
    const withTxs = blocks.filter((b) => b.transactions.length > 0);
    expect(withTxs.length, "the deployment fit in one block: not interval mining").to.be.above(1);
    for (let i = 1; i < withTxs.length; i++) {
      const gap = Number(withTxs[i].timestamp) - Number(withTxs[i - 1].timestamp);
      expect(gap).to.be.at.least(BLOCK_TIME);
    }
  });

  it("mints, registers a model and deposits stake (approve, then deposit, in two blocks)", async function () {
    expect(deploymentDir, "deploy did not run").to.not.equal(undefined);
    const mint = await json(undefined, ["token", "mint", PROVIDER, "1000"]);
    expect(mint.balance).to.equal((1000n * TOKEN).toString());

    const registered = await json(2, ["model", "register", MODEL, "--challenge-window", "600", "--bond", "10"]);
    expect(registered.modelId).to.match(/^0x[0-9a-f]{64}$/);
    const record = await sdk().registry.contract.getModel(registered.modelId);
    expect(record.publisher).to.equal(PUBLISHER);

    const deposit = await json(1, ["stake", "deposit", "200"]);
    expect(deposit.active).to.equal((200n * TOKEN).toString());
    const depositBlock = await minedIn(deposit.tx);
    // The approval (the provider's transaction before the deposit) was mined in an earlier block.
    const { nonce } = (await rpcCall(node!.url, "eth_getTransactionByHash", [deposit.tx])) as { nonce: string };
    const approveBlock = await blockOfNonce(PROVIDER, Number(nonce) - 1, depositBlock);
    expect(approveBlock, "no approval before the deposit").to.not.equal(undefined);
    expect(approveBlock!).to.be.below(depositBlock);
    expect((await sdk().staking.stakeOf(PROVIDER)).active).to.equal(200n * TOKEN);
  });

  it("commits three single inferences in turn and a batch, each on chain when the command returns", async function () {
    expect(deploymentDir, "deploy did not run").to.not.equal(undefined);
    const traces = path.join(work, "traces");
    const singles = await json(1, ["commit", MODEL, "--sample", "0-2", "--trace-dir", traces]);
    expect(singles.kind).to.equal("single");
    expect(singles.commitments).to.have.length(3);
    const ids = singles.commitments.map((c: { id: string }) => c.id);
    expect(new Set(ids).size).to.equal(3);
    for (const id of ids) {
      expect(await sdk().ledger.status(id), id).to.equal(CommitmentStatus.Pending);
      expect(existsSync(path.join(traces, `${id}.json`))).to.equal(true);
    }
    const status = await json(undefined, ["status", ids[2]]);
    expect(status.status).to.equal("Pending");
    expect(status.provider).to.equal(PROVIDER);
    expect(status.traceRoot).to.equal(singles.commitments[2].traceRoot);

    const dataFile = path.join(work, "batch.json");
    const batch = await json(1, [
      "commit",
      MODEL,
      "--sample",
      "3-6",
      "--batch",
      "--data-file",
      dataFile,
      "--trace-dir",
      traces,
    ]);
    expect(batch.kind).to.equal("batch");
    expect(batch.count).to.equal(4);
    const leaf = await json(undefined, ["status", batch.batchId, "--leaf", "2", "--proof-file", dataFile]);
    expect(leaf.kind).to.equal("batch");
    expect(leaf.root).to.equal(batch.root);
    expect(leaf.leaf.status).to.equal("Pending");
  });
});

/**
 * The watchtower end-to-end scenario, run against each node implementation (test/e2e/watchtower.e2e.test.ts
 * on `hardhat node`, test/e2e/anvil.e2e.test.ts on anvil): two providers commit 242 held-out MNIST
 * inferences (210 single commitments and two batches of 16); the cheater alters one neuron in 16 of them
 * at known places. The watchtower runs as its own process through the CLI (`verity watch`), is SIGKILLed
 * in the middle of its scan and restarted; both providers answer their games with the provider daemon.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, MaxUint256, parseEther, type JsonRpcSigner } from "ethers";
import { quantizeInput, readModelFile, type DenseInt8Model } from "../../../src/engine/index.js";
import type { Fault } from "../../../src/protocol/faults.js";
import { ProviderDaemon } from "../../../src/daemons/provider.js";
import type { WatchtowerState } from "../../../src/daemons/watchtower.js";
import {
  CommitmentStatus,
  Outcome,
  ProviderAgent,
  TraceStore,
  Verity,
  batchHeaderOf,
  batchTree,
  leafHashOf,
  loadDeployment,
  toDisputeParams,
  type BatchHeader,
  type InferenceHashes,
} from "../../../src/sdk/index.js";
import { MockERC20__factory } from "../../../typechain-types/index.js";
import { MNIST_INPUT_SCALE, splitMnist } from "../../../src/engine/mnist.js";
import { deployWithCli, spawnWatchtower, type DaemonProcess } from "./cli.js";
import { startChain, type ChainNode, type NodeKind } from "../../helpers/nodes.js";

const NODE_NAMES: Record<NodeKind, string> = { hardhat: "hardhat node", anvil: "anvil" };
const MODEL_FILE = "models/mnist-784-128-64-10.json";
const HONEST_SINGLES = 110;
const CHEATER_SINGLES = 100;
const BATCH_SIZE = 16;
/** The cheater's single commitments with these indices are faulted: 13 of them. */
const faultOfSingle = (i: number): Fault | undefined =>
  i % 8 === 3 ? { layer: 1 + (i % 3), neuron: (i * 7) % 10, delta: 1 + (i % 5) } : undefined;
/** Leaves of the cheater's batch that are faulted: 3 of them. */
const FAULTED_LEAVES = new Map<number, Fault>([
  [2, { layer: 1, neuron: 17, delta: -2 }],
  [7, { layer: 2, neuron: 40, delta: 3 }],
  [13, { layer: 3, neuron: 9, delta: 1 }],
]);
/** The honest batch goes in after this many rounds, the cheater's right after: both mid-range. */
const BATCH_ROUND = 50;

/** Bounded polling: resolves once `check` returns a value, throws after `timeoutMs`. */
async function until<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The node's head now (ethers' `getBlockNumber()` may answer from a cache). */
async function headOf(rpc: JsonRpcProvider): Promise<number> {
  return Number(await rpc.send("eth_blockNumber", []));
}

function readState(dataDir: string): WatchtowerState | undefined {
  const file = path.join(dataDir, "state.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as WatchtowerState;
  } catch {
    return undefined; // never half-written (atomic rename), but be safe
  }
}

function journalIds(dataDir: string): string[] {
  const file = path.join(dataDir, "seen.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[0].toLowerCase());
}

interface Leaf {
  header: BatchHeader;
  proof: string[];
  leaf: InferenceHashes;
  key: string;
}

/** Registers the scenario as a mocha suite against a fresh node of `kind`. */
export function describeWatchtowerEndToEnd(kind: NodeKind): void {
  describe(`Watchtower end to end on ${NODE_NAMES[kind]}: the CLI watchtower, a crash and a restart`, function () {
    this.timeout(240_000);

    let node: ChainNode | undefined;
    let deploymentDir: string | undefined;
    let work: string;
    let rpc: JsonRpcProvider;
    let verity: Verity;
    let model: DenseInt8Model;
    let watcherAddress: string;
    const watcherAccount = 4;
    let watch: DaemonProcess | undefined;
    const stopDaemons = new AbortController();
    let daemonsDone: Promise<void> | undefined;
    let honestDaemon: ProviderDaemon;
    let cheaterDaemon: ProviderDaemon;

    // Ground truth, in chain order.
    const eventIds: string[] = [];
    const faultedSingles: string[] = [];
    const honestSingles: string[] = [];
    const faultedLeaves: Leaf[] = [];
    const honestLeaves: Leaf[] = [];
    let firstCommitBlock = 0;
    let lastCommitBlock = 0;
    let killBlock = 0;
    let atKill: { cursor: number; head: number; journal: number } | undefined;

    before(async function () {
      node = await startChain(kind);
      deploymentDir = await deployWithCli(node.url, `e2e-${randomBytes(6).toString("hex")}`);
      work = mkdtempSync(path.join(os.tmpdir(), "verity-e2e-"));
      rpc = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
      const addresses = loadDeployment(31337n, deploymentDir);
      const signer = (i: number): Promise<JsonRpcSigner> => rpc.getSigner(i);
      const [admin, publisher, honestSigner, cheaterSigner, watcher] = await Promise.all(
        [0, 1, 2, 3, watcherAccount].map(signer),
      );
      watcherAddress = watcher.address;
      verity = await Verity.connect({ runner: admin, addresses });
      model = await readModelFile(path.resolve(MODEL_FILE));

      const token = MockERC20__factory.connect(addresses.token, admin);
      for (const s of [honestSigner, cheaterSigner, watcher])
        await (await token.mint(s.address, parseEther("100000"))).wait();
      await (await token.connect(watcher).approve(addresses.stakeManager, MaxUint256)).wait();
      const modelId = await (
        await verity.connect(publisher).registry.registerModel(model, { metadataURI: MODEL_FILE })
      ).wait();

      const honest = new ProviderAgent(
        verity.connect(honestSigner),
        model,
        new TraceStore(path.join(work, "honest-traces")),
        modelId,
      );
      const cheater = new ProviderAgent(
        verity.connect(cheaterSigner),
        model,
        new TraceStore(path.join(work, "cheater-traces")),
        modelId,
      );
      for (const p of [honest, cheater]) await (await p.verity.staking.deposit(parseEther("5000"))).wait();

      const digits = splitMnist().test;
      const inputs = digits
        .slice(0, HONEST_SINGLES + CHEATER_SINGLES + 2 * BATCH_SIZE)
        .map((d) => quantizeInput(d.pixels, MNIST_INPUT_SCALE));
      const honestInputs = inputs.slice(0, HONEST_SINGLES);
      const cheaterInputs = inputs.slice(HONEST_SINGLES, HONEST_SINGLES + CHEATER_SINGLES);
      const honestBatch = inputs.slice(HONEST_SINGLES + CHEATER_SINGLES, HONEST_SINGLES + CHEATER_SINGLES + BATCH_SIZE);
      const cheaterBatch = inputs.slice(HONEST_SINGLES + CHEATER_SINGLES + BATCH_SIZE);

      firstCommitBlock = (await headOf(rpc)) + 1;
      const commitBatch = async (
        agent: ProviderAgent,
        batchInputs: Int8Array[],
        name: string,
        faults: (Fault | undefined)[],
      ) => {
        const { batchId, results } = await agent.commitBatch(batchInputs, path.join(work, `${name}.json`), faults);
        eventIds.push(batchId.toLowerCase());
        const tree = batchTree(results);
        const header: BatchHeader = batchHeaderOf(
          await (agent.verity.runner as JsonRpcSigner).getAddress(),
          agent.modelId,
          tree.root,
          results.length,
        );
        results.forEach((r, i) => {
          const leaf = { inputHash: r.inputHash, outputHash: r.outputHash, traceRoot: r.traceRoot };
          const entry = { header, proof: tree.getProof(i), leaf, key: `${batchId}-${leafHashOf(leaf)}`.toLowerCase() };
          (faults[i] === undefined ? honestLeaves : faultedLeaves).push(entry);
        });
      };
      for (let i = 0; i < HONEST_SINGLES; i++) {
        if (i === BATCH_ROUND) {
          await commitBatch(honest, honestBatch, "honest-batch", []);
          await commitBatch(
            cheater,
            cheaterBatch,
            "cheater-batch",
            Array.from({ length: BATCH_SIZE }, (_, j) => FAULTED_LEAVES.get(j)),
          );
        }
        const h = await honest.commit(honestInputs[i]);
        eventIds.push(h.id.toLowerCase());
        honestSingles.push(h.id.toLowerCase());
        if (i === Math.floor(HONEST_SINGLES / 3)) killBlock = await headOf(rpc);
        if (i >= CHEATER_SINGLES) continue;
        const fault = faultOfSingle(i);
        const c = await cheater.commit(cheaterInputs[i], fault);
        eventIds.push(c.id.toLowerCase());
        (fault === undefined ? honestSingles : faultedSingles).push(c.id.toLowerCase());
      }
      lastCommitBlock = await headOf(rpc);
      expect(killBlock).to.be.above(firstCommitBlock).and.below(lastCommitBlock);
      expect(eventIds.length).to.equal(HONEST_SINGLES + CHEATER_SINGLES + 2);
      expect(faultedSingles.length).to.equal(13);
      expect(faultedLeaves.length).to.equal(FAULTED_LEAVES.size);

      // Both providers defend their commitments, in-process, for the whole test.
      honestDaemon = new ProviderDaemon({
        agent: honest,
        dataDir: path.join(work, "honest-daemon"),
        fromBlock: firstCommitBlock,
      });
      cheaterDaemon = new ProviderDaemon({
        agent: cheater,
        dataDir: path.join(work, "cheater-daemon"),
        fromBlock: firstCommitBlock,
      });
      await honestDaemon.init();
      await cheaterDaemon.init();
      daemonsDone = Promise.all([
        honestDaemon.run(250, stopDaemons.signal),
        cheaterDaemon.run(250, stopDaemons.signal),
      ]).then(() => undefined);
    });

    after(async function () {
      stopDaemons.abort();
      await watch?.stop("SIGKILL");
      if (daemonsDone !== undefined) await Promise.race([daemonsDone, new Promise((r) => setTimeout(r, 10_000))]);
      rpc?.destroy();
      await node?.stop();
      if (deploymentDir !== undefined) rmSync(deploymentDir, { recursive: true, force: true });
      // E2E_KEEP=1 keeps the node's data folders for a post-mortem.
      if (work !== undefined && process.env.E2E_KEEP === undefined) rmSync(work, { recursive: true, force: true });
    });

    const watchFlags = () => ({ rpc: node!.url, deployment: deploymentDir!, account: watcherAccount });
    const watchOptions = () => ({
      model: MODEL_FILE,
      dataDir: path.join(work, "watchtower"),
      intervalMs: 200,
      fromBlock: firstCommitBlock,
      maxRange: 2,
    });
    const faultCount = () => faultedSingles.length + faultedLeaves.length;

    it("survives a SIGKILL in the middle of its scan and, restarted, finishes every game", async function () {
      const dataDir = watchOptions().dataDir;
      watch = spawnWatchtower(watchFlags(), watchOptions());
      expect(watch.viaCli, "bin/verity.js is missing: the watchtower must run through the CLI").to.equal(true);
      // Kill it once it has committed ranges past a third of the commitments, before it reaches the head.
      const killedAt = await until("the watchtower's cursor to pass the kill block", 60_000, 5, async () => {
        if (watch!.child.exitCode !== null) throw new Error(`watchtower exited early:\n${watch!.output()}`);
        const state = readState(dataDir);
        return state !== undefined && state.cursor >= killBlock ? state : undefined;
      });
      await watch.stop("SIGKILL");
      const state = readState(dataDir)!;
      atKill = { cursor: state.cursor, head: lastCommitBlock, journal: journalIds(dataDir).length };
      expect(killedAt.cursor).to.be.at.least(killBlock);
      expect(state.cursor, "killed after the scan reached the head: not mid-scan").to.be.below(lastCommitBlock);
      expect(atKill.journal, `journal at the kill (cursor ${state.cursor}):\n${watch.output()}`)
        .to.be.above(0)
        .and.below(eventIds.length);

      watch = spawnWatchtower(watchFlags(), watchOptions());
      const ledger = verity.ledger;
      await until("every fraud overturned and every game resolved", 120_000, 500, async () => {
        if (watch!.child.exitCode !== null) throw new Error(`watchtower exited early:\n${watch!.output()}`);
        const s = readState(dataDir);
        if (s === undefined || s.cursor < lastCommitBlock) return undefined;
        const games = Object.values(s.games);
        if (games.length < faultCount() || games.some((g) => !g.resolved)) return undefined;
        for (const id of faultedSingles)
          if ((await ledger.status(id)) !== CommitmentStatus.Overturned) return undefined;
        return true;
      });
      await watch.stop("SIGTERM", 15_000);
      expect(watch.child.signalCode, `the watchtower needed a SIGKILL to stop:\n${watch.output()}`).to.equal(null);
      expect(watch.child.exitCode).to.equal(0);
    });

    it("proves every injected fraud: each faulted commitment and leaf ends Overturned, each game ChallengerWon", async function () {
      for (const id of faultedSingles) expect(await verity.ledger.status(id), id).to.equal(CommitmentStatus.Overturned);
      for (const l of faultedLeaves) {
        expect(await verity.ledger.leafStatus(l.header, l.proof, l.leaf), l.key).to.equal(CommitmentStatus.Overturned);
      }
      const game = verity.disputes.contract;
      const resolved = await game.queryFilter(game.filters.DisputeResolved(), firstCommitBlock);
      expect(resolved.length).to.equal(faultCount());
      expect(resolved.map((e) => Number(e.args.outcome))).to.deep.equal(
        Array(faultCount()).fill(Outcome.ChallengerWon),
      );
      const opened = await game.queryFilter(game.filters.DisputeOpened(), firstCommitBlock);
      expect(new Set(resolved.map((e) => e.args.disputeId))).to.deep.equal(
        new Set(opened.map((e) => e.args.disputeId)),
      );
      expect(cheaterDaemon.snapshot().stats.lost).to.equal(faultCount());
    });

    it("opens exactly one dispute per faulted target and none against a correct commitment", async function () {
      const game = verity.disputes.contract;
      const opened = await game.queryFilter(game.filters.DisputeOpened(), firstCommitBlock);
      const targets = opened.map((e) => {
        const p = toDisputeParams(e.args.params);
        expect(p.challenger.toLowerCase()).to.equal(watcherAddress.toLowerCase());
        return p.isLeaf ? `${p.target}-${leafHashOf(p.inference)}`.toLowerCase() : p.target.toLowerCase();
      });
      const expected = [...faultedSingles, ...faultedLeaves.map((l) => l.key)];
      expect([...targets].sort()).to.deep.equal([...expected].sort());
      for (const id of honestSingles) expect(await verity.ledger.status(id), id).to.equal(CommitmentStatus.Pending);
      for (const l of honestLeaves) {
        expect(await verity.ledger.leafStatus(l.header, l.proof, l.leaf), l.key).to.equal(CommitmentStatus.Pending);
      }
      expect(honestDaemon.snapshot().stats.defended).to.equal(0);
    });

    it("journals every commitment event exactly once across the crash, in chain order", async function () {
      expect(atKill, "the crash test did not run").to.not.equal(undefined);
      const dataDir = watchOptions().dataDir;
      const journal = journalIds(dataDir);
      expect(new Set(journal).size).to.equal(journal.length);
      expect(journal).to.deep.equal(eventIds);
      const scanned = await verity.ledger.scan(firstCommitBlock, lastCommitBlock);
      expect(scanned.map((e) => e.id.toLowerCase())).to.deep.equal(eventIds);
      const state = readState(dataDir)!;
      expect(state.stats.seen).to.equal(eventIds.length);
      expect(state.stats.opened).to.equal(faultCount());
      expect(state.stats.won).to.equal(faultCount());
      expect(state.stats.lost).to.equal(0);
    });
  });
}

/**
 * End to end, adversarial: a real `hardhat node` of its own, the CLI watchtower (`verity watch`) and the CLI
 * provider daemons (`verity provide`) as separate processes, short policy windows, time moved over RPC.
 * Among honest commitments (singles with public inputs and with a URI, a batch), the chain holds:
 *
 *  - a batch whose dataURI is not valid UTF-8 (committed with raw calldata: the SDK refuses such a URI),
 *  - a batch whose data file is written only after the watchtower first tried to read it,
 *  - a batch served over HTTP by a server of this test on 127.0.0.1 (`--allow-private-fetch`),
 *  - a batch never served (its URI 404s), by a provider no daemon runs for,
 *  - a batch whose data file exceeds the watchtower's `--fetch-max-bytes`, by a provider whose daemon
 *    answers the disclosure demand (so a faulted leaf in it is found from the disclosure),
 *  - a single commitment whose URI names 783 bytes (the model is 784 wide) hashing to its inputHash,
 *  - a lying batch file: it lists, for a faulted leaf, an input that does not hash to the leaf's inputHash.
 *
 * The watchtower is SIGKILLed between two of its moves in a game and restarted; a second watchtower on
 * the same data folder is refused. What the old code allowed is said at each check.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { AbiCoder, JsonRpcProvider, concat, keccak256, parseEther, toUtf8Bytes, type JsonRpcSigner } from "ethers";
import {
  hashVector,
  quantizeInput,
  readModelFile,
  run,
  traceRoot,
  vectorBytes,
  vectorToHex,
  type DenseInt8Model,
} from "../../src/engine/index.js";
import type { Fault } from "../../src/protocol/faults.js";
import type { WatchtowerState } from "../../src/daemons/watchtower.js";
import {
  CommitmentStatus,
  DisclosurePhase,
  Outcome,
  Phase,
  ProviderAgent,
  TraceStore,
  Verity,
  batchHeaderOf,
  batchIdOf,
  batchTree,
  leafHashOf,
  loadDeployment,
  toDisputeParams,
  type BatchDataFile,
  type BatchHeader,
  type InferenceHashes,
  type VerityAddresses,
} from "../../src/sdk/index.js";
import { MockERC20__factory, StakeManager__factory } from "../../typechain-types/index.js";
import { MNIST_INPUT_SCALE, splitMnist } from "../../src/engine/mnist.js";
import {
  deployWithCli,
  spawnProvider,
  spawnWatchtower,
  verity as runVerity,
  verityRaw,
  type DaemonProcess,
  type GlobalFlags,
} from "./helpers/cli.js";
import { startNode, type LocalNode } from "./helpers/node.js";

const MODEL_FILE = "models/mnist-784-128-64-10.json";
/** Short policy windows (the registry's minimums are 5 and 10 minutes). */
const CHALLENGE_WINDOW = 3_600;
const RESPONSE_WINDOW = 600;
const SLASH = parseEther("50");
/** The watchtower's `--fetch-max-bytes`: a 4-leaf data file (~7.5 kB) fits, a 12-leaf one (~22 kB) does not. */
const FETCH_MAX_BYTES = 12_000;
const ADMIN = 0;
const PUBLISHER = 1;
const HONEST = 2;
const CHEATER = 3;
const WATCHER = 4;
const WITHHOLDER = 5;

/** Bounded polling: resolves once `check` returns a value, throws after `timeoutMs`. */
async function until<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined>,
  explain: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${explain()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function headOf(rpc: JsonRpcProvider): Promise<number> {
  return Number(await rpc.send("eth_blockNumber", []));
}

function readState(dataDir: string): WatchtowerState | undefined {
  const file = path.join(dataDir, "state.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as WatchtowerState;
  } catch {
    return undefined;
  }
}

/** The 0x ids (32 bytes) a CLI command printed, one a line, in order. */
function idsIn(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^0x[0-9a-fA-F]{64}$/.test(l))
    .map((l) => l.toLowerCase());
}

const bytesOf = (v: Int8Array): Buffer => Buffer.from(vectorBytes(v));

interface Leaf {
  header: BatchHeader;
  proof: string[];
  leaf: InferenceHashes;
  key: string;
}

interface Batch {
  batchId: string;
  header: BatchHeader;
  data: BatchDataFile;
  leaves: Leaf[];
}

function leavesOf(batchId: string, header: BatchHeader, inferences: InferenceHashes[]): Leaf[] {
  const tree = batchTree(inferences);
  return inferences.map((r, i) => {
    const leaf = { inputHash: r.inputHash, outputHash: r.outputHash, traceRoot: r.traceRoot };
    return { header, proof: tree.getProof(i), leaf, key: `${batchId}-${leafHashOf(leaf)}`.toLowerCase() };
  });
}

/**
 * Runs and commits a batch under `dataURI` without writing its data anywhere (the test serves it, late, or
 * never); stores every leaf's trace for the provider daemon. Returns the data file it should serve.
 */
async function commitBatchAt(
  agent: ProviderAgent,
  inputs: Int8Array[],
  faults: (Fault | undefined)[],
  dataURI: string,
): Promise<Batch> {
  const results = inputs.map((x, i) => agent.infer(x, faults[i]));
  const tree = batchTree(results);
  const provider = await (agent.verity.runner as JsonRpcSigner).getAddress();
  const data: BatchDataFile = {
    format: "verity.batch.v1",
    modelId: agent.modelId,
    provider,
    root: tree.root,
    count: results.length,
    leaves: results.map((r, i) => ({
      inputHash: r.inputHash,
      outputHash: r.outputHash,
      traceRoot: r.traceRoot,
      input: vectorToHex(inputs[i]),
    })),
  };
  const batchId = (
    await (
      await agent.verity.ledger.commitBatch({
        modelId: agent.modelId,
        root: tree.root,
        count: results.length,
        dataURI,
        leaves: results,
      })
    ).wait()
  ).toLowerCase();
  for (const r of results) {
    agent.store.put(TraceStore.key(batchId, leafHashOf(r)), {
      modelId: agent.modelId,
      activations: r.activations.map(vectorToHex),
      layerHashes: [...r.layerHashes],
    });
  }
  const header = batchHeaderOf(provider, agent.modelId, tree.root, results.length);
  return { batchId, header, data, leaves: leavesOf(batchId, header, results) };
}

describe("Watchtower end to end, adversarial: unreadable, late, remote, withheld and lying data", function () {
  this.timeout(300_000);

  let node: LocalNode | undefined;
  let deploymentDir: string | undefined;
  let work: string;
  let rpc: JsonRpcProvider;
  let addresses: VerityAddresses;
  let verity: Verity;
  let model: DenseInt8Model;
  let modelId: string;
  let watcherAddress: string;
  let honestAddress: string;
  let watcherStartBalance: bigint;
  let server: http.Server | undefined;
  let httpBase: string;
  const served = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  let watch: DaemonProcess | undefined;
  /** Output of every watchtower process so far (the current one's is added when asked). */
  const pastWatchOutput: string[] = [];
  const providers: DaemonProcess[] = [];
  let honestAgent: ProviderAgent;

  // Ground truth.
  let firstCommitBlock = 0;
  const honestSingles: string[] = [];
  const honestLeaves: Leaf[] = [];
  let malformedId = "";
  let lying: Batch;
  let late: Batch;
  let lateFile = "";
  let remote: Batch;
  let oversized: Batch;
  let neverServed: Batch;
  let nonUtf8: { batchId: string; header: BatchHeader };
  const faultedLeafOf = new Map<string, Leaf>(); // batch name -> its faulted leaf
  let killedDispute = "";
  let oversizedWaited = false;
  let demandedAt = 0;

  const flags = (account: number): GlobalFlags => ({ rpc: node!.url, deployment: deploymentDir!, account });
  const watchDir = () => path.join(work, "watchtower");
  const watchOptions = () => ({
    model: MODEL_FILE,
    dataDir: watchDir(),
    intervalMs: 200,
    fromBlock: firstCommitBlock,
    maxRange: 50,
    extraArgs: ["--allow-private-fetch", "--fetch-max-bytes", String(FETCH_MAX_BYTES)],
  });
  const watchArgs = () => {
    const o = watchOptions();
    return [
      "watch",
      "--model",
      o.model,
      "--data-dir",
      o.dataDir,
      "--interval",
      String(o.intervalMs),
      "--from-block",
      String(o.fromBlock),
      "--max-range",
      String(o.maxRange),
      ...o.extraArgs,
    ];
  };
  const allWatchOutput = () => [...pastWatchOutput, watch?.output() ?? ""].join("\n--- restart ---\n");
  const explain = () => {
    const s = readState(watchDir());
    const daemons = providers.map((p, i) => `--- provider ${i} ---\n${p.output().slice(-4_000)}`).join("\n");
    return `state: ${JSON.stringify(s?.games ?? {}, null, 1).slice(0, 4_000)}\npending batches: ${Object.keys(
      s?.batches ?? {},
    ).join(", ")}\n--- watchtower ---\n${allWatchOutput().slice(-8_000)}\n${daemons}`;
  };
  const aliveOrThrow = () => {
    if (watch!.child.exitCode !== null || watch!.child.signalCode !== null)
      throw new Error(`the watchtower exited (${watch!.child.exitCode ?? watch!.child.signalCode}):\n${explain()}`);
  };
  const increaseTime = async (seconds: number) => {
    await rpc.send("evm_increaseTime", [seconds]);
    await rpc.send("evm_mine", []);
  };
  /** Every game of the watchtower's state resolved, and no finding left to dispute. */
  const settled = (s: WatchtowerState, targets: string[], all = true) => {
    const games = Object.values(s.games);
    const done = new Set(games.filter((g) => g.resolved).map((g) => g.targetKey));
    return (
      targets.every((t) => done.has(t)) &&
      (!all || games.every((g) => g.resolved)) &&
      Object.keys(s.pending).length === 0
    );
  };
  /** Whether no open game waits on the watchtower (moving time on then cannot cost it a game). */
  const noChallengerMoveDue = async (s: WatchtowerState) => {
    for (const [id, g] of Object.entries(s.games)) {
      if (g.resolved) continue;
      const phase = (await verity.disputes.game(id)).phase;
      if (![Phase.AwaitingInput, Phase.AwaitingTrace, Phase.AwaitingLayerReveal].includes(phase)) return false;
    }
    return true;
  };

  before(async function () {
    node = await startNode();
    deploymentDir = await deployWithCli(node.url, `e2e-adv-${randomBytes(6).toString("hex")}`);
    work = mkdtempSync(path.join(os.tmpdir(), "verity-adv-"));
    rpc = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
    addresses = loadDeployment(31337n, deploymentDir);
    const signers = await Promise.all(
      [ADMIN, PUBLISHER, HONEST, CHEATER, WATCHER, WITHHOLDER].map((i) => rpc.getSigner(i)),
    );
    const [admin, , honestSigner, cheaterSigner, watcher, withholderSigner] = signers;
    watcherAddress = watcher.address;
    honestAddress = honestSigner.address;
    verity = await Verity.connect({ runner: admin, addresses });
    model = await readModelFile(path.resolve(MODEL_FILE));

    // The data server: what `served` holds, 404 for the rest.
    server = http.createServer((req, res) => {
      const key = req.url ?? "";
      hits.set(key, (hits.get(key) ?? 0) + 1);
      const body = served.get(key);
      if (body === undefined) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    httpBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // The model, with short windows, registered through the CLI.
    const registered = await runVerity(flags(PUBLISHER), [
      "model",
      "register",
      MODEL_FILE,
      "--challenge-window",
      String(CHALLENGE_WINDOW),
      "--response-window",
      String(RESPONSE_WINDOW),
    ]);
    modelId = idsIn(registered.stdout)[0];
    expect(modelId, registered.stdout).to.match(/^0x[0-9a-f]{64}$/);
    const policy = await verity.registry.contract.policyOf(modelId);
    expect(Number(policy.challengeWindow)).to.equal(CHALLENGE_WINDOW);
    expect(Number(policy.responseWindow)).to.equal(RESPONSE_WINDOW);

    const token = MockERC20__factory.connect(addresses.token, admin);
    for (const s of [honestSigner, cheaterSigner, watcher, withholderSigner])
      await (await token.mint(s.address, parseEther("100000"))).wait();
    for (const s of [honestSigner, cheaterSigner, withholderSigner])
      await (await verity.connect(s).staking.deposit(parseEther("5000"))).wait();
    watcherStartBalance = await token.balanceOf(watcherAddress);

    const traces = (name: string) => path.join(work, `${name}-traces`);
    honestAgent = new ProviderAgent(verity.connect(honestSigner), model, new TraceStore(traces("honest")), modelId);
    const cheater = new ProviderAgent(verity.connect(cheaterSigner), model, new TraceStore(traces("cheater")), modelId);
    const withholder = new ProviderAgent(
      verity.connect(withholderSigner),
      model,
      new TraceStore(traces("withholder")),
      modelId,
    );
    const digits = splitMnist().test;
    const digit = (i: number) => quantizeInput(digits[i].pixels, MNIST_INPUT_SCALE);
    const digitRange = (from: number, n: number) => Array.from({ length: n }, (_, i) => digit(from + i));

    firstCommitBlock = (await headOf(rpc)) + 1;

    // Honest, through the CLI: four singles with public inputs, one with a URI naming its exact input, a batch.
    const honestFlags = flags(HONEST);
    const singles = await runVerity(honestFlags, [
      "commit",
      MODEL_FILE,
      "--sample",
      "0-3",
      "--trace-dir",
      traces("honest"),
    ]);
    honestSingles.push(...idsIn(singles.stdout));
    expect(honestSingles.length, singles.stdout).to.equal(4);
    const honestInputFile = path.join(work, "honest-input.bin");
    writeFileSync(honestInputFile, bytesOf(digit(8)));
    const uriSingle = await runVerity(honestFlags, [
      "commit",
      MODEL_FILE,
      "--sample",
      "8",
      "--input-uri",
      pathToFileURL(honestInputFile).href,
      "--trace-dir",
      traces("honest"),
    ]);
    honestSingles.push(...idsIn(uriSingle.stdout));
    expect(honestSingles.length, uriSingle.stdout).to.equal(5);
    const honestBatchFile = path.join(work, "honest-batch.json");
    const batchOut = await runVerity(honestFlags, [
      "commit",
      MODEL_FILE,
      "--sample",
      "4-7",
      "--batch",
      "--data-file",
      honestBatchFile,
      "--trace-dir",
      traces("honest"),
    ]);
    const honestBatchId = idsIn(batchOut.stdout)[0];
    const honestData = JSON.parse(readFileSync(honestBatchFile, "utf8")) as BatchDataFile;
    const honestHeader = batchHeaderOf(honestAddress, modelId, honestData.root, honestData.count);
    expect(batchIdOf(honestHeader).toLowerCase()).to.equal(honestBatchId);
    honestLeaves.push(...leavesOf(honestBatchId, honestHeader, honestData.leaves));

    // The malformed single: its URI names 783 bytes (one short of the model's input) hashing to its
    // inputHash, with a trace consistent with them, so the provider can play every move but the input.
    const short = digit(20).slice(0, 783);
    const activations = [short, ...run(model, digit(20)).activations.slice(1)];
    const layerHashes = activations.map(hashVector);
    const malformed = {
      inputHash: layerHashes[0],
      outputHash: layerHashes[layerHashes.length - 1],
      traceRoot: traceRoot(layerHashes),
    };
    const malformedFile = path.join(work, "malformed-input.bin");
    writeFileSync(malformedFile, bytesOf(short));
    expect(readFileSync(malformedFile).length).to.equal(783);
    expect(keccak256(readFileSync(malformedFile))).to.equal(malformed.inputHash);
    malformedId = (
      await (
        await cheater.verity.ledger.commit({ modelId, inference: malformed, uri: pathToFileURL(malformedFile).href })
      ).wait()
    ).toLowerCase();
    cheater.store.put(TraceStore.key(malformedId), {
      modelId,
      activations: activations.map(vectorToHex),
      layerHashes: [...layerHashes],
    });

    // The lying batch file: leaf 1 is faulted and the file lists another digit as its input.
    const lyingFile = path.join(work, "lying.json");
    lying = await commitBatchAt(
      cheater,
      digitRange(21, 4),
      [undefined, { layer: 2, neuron: 11, delta: 2 }],
      pathToFileURL(lyingFile).href,
    );
    const lie = structuredClone(lying.data);
    lie.leaves[1].input = vectorToHex(digit(25));
    expect(keccak256(lie.leaves[1].input!)).to.not.equal(lie.leaves[1].inputHash);
    writeFileSync(lyingFile, JSON.stringify(lie));
    faultedLeafOf.set("lying", lying.leaves[1]);

    // The late file: committed now, written once the watchtower has failed to read it.
    lateFile = path.join(work, "late.json");
    late = await commitBatchAt(
      cheater,
      digitRange(26, 4),
      [undefined, undefined, { layer: 1, neuron: 5, delta: -3 }],
      pathToFileURL(lateFile).href,
    );
    faultedLeafOf.set("late", late.leaves[2]);

    // Served over HTTP from 127.0.0.1.
    remote = await commitBatchAt(
      cheater,
      digitRange(30, 4),
      [{ layer: 3, neuron: 2, delta: 1 }],
      `${httpBase}/remote.json`,
    );
    served.set("/remote.json", Buffer.from(JSON.stringify(remote.data)));
    faultedLeafOf.set("remote", remote.leaves[0]);

    // Too large for the watchtower's fetch limit; its provider's daemon discloses it when demanded.
    const oversizedFile = path.join(work, "oversized.json");
    const oversizedFaults: (Fault | undefined)[] = [];
    oversizedFaults[5] = { layer: 2, neuron: 30, delta: -1 };
    oversized = await commitBatchAt(cheater, digitRange(34, 12), oversizedFaults, pathToFileURL(oversizedFile).href);
    writeFileSync(oversizedFile, JSON.stringify(oversized.data));
    expect(readFileSync(oversizedFile).length).to.be.above(FETCH_MAX_BYTES);
    expect(readFileSync(lyingFile).length).to.be.below(FETCH_MAX_BYTES);
    faultedLeafOf.set("oversized", oversized.leaves[5]);

    // Never served (404), by a provider no daemon runs for.
    neverServed = await commitBatchAt(withholder, digitRange(46, 2), [], `${httpBase}/never-served.json`);

    // A dataURI that is not UTF-8: the SDK encodes strings, so the calldata is built by hand (a string and
    // bytes share their ABI encoding).
    const rawLeaves = digitRange(48, 2).map((x) => withholder.infer(x));
    const rawTree = batchTree(rawLeaves);
    const rawURI = concat([
      toUtf8Bytes("file:///tmp/"),
      new Uint8Array([0xff, 0xfe, 0xc3, 0x28]),
      toUtf8Bytes(".json"),
    ]);
    const selector = verity.ledger.contract.interface.getFunction("commitBatch")!.selector;
    const calldata = concat([
      selector,
      AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint32", "bytes"], [modelId, rawTree.root, 2, rawURI]),
    ]);
    await (await withholderSigner.sendTransaction({ to: addresses.ledger, data: calldata })).wait();
    const rawHeader = batchHeaderOf(withholderSigner.address, modelId, rawTree.root, 2);
    nonUtf8 = { batchId: batchIdOf(rawHeader).toLowerCase(), header: rawHeader };
    expect(await verity.ledger.status(nonUtf8.batchId)).to.equal(CommitmentStatus.Pending);

    // Honest leaves of the other batches (the withheld ones end overturned as wholes).
    for (const b of [lying, late, remote, oversized])
      honestLeaves.push(...b.leaves.filter((l) => ![...faultedLeafOf.values()].includes(l)));

    // The provider daemons, as CLI processes: the honest one and the cheater (which answers what it can).
    for (const [account, name] of [
      [HONEST, "honest"],
      [CHEATER, "cheater"],
    ] as const) {
      providers.push(
        spawnProvider(flags(account), {
          model: MODEL_FILE,
          traceDir: traces(name),
          dataDir: path.join(work, `${name}-provider`),
          intervalMs: 200,
          fromBlock: firstCommitBlock,
          maxRange: 50,
        }),
      );
    }
    // Keep the late file away until the watchtower has tried it.
    expect(existsSync(lateFile)).to.equal(false);
  });

  after(async function () {
    await watch?.stop("SIGKILL");
    for (const p of providers) await p.stop("SIGKILL");
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    rpc?.destroy();
    await node?.stop();
    if (deploymentDir !== undefined) rmSync(deploymentDir, { recursive: true, force: true });
    if (work !== undefined && process.env.E2E_KEEP === undefined) rmSync(work, { recursive: true, force: true });
  });

  it("reads late and remote data, and finishes a game it was SIGKILLed in between two of its moves", async function () {
    watch = spawnWatchtower(flags(WATCHER), watchOptions());
    expect(watch.viaCli).to.equal(true);
    // The first read of the late batch fails: only then is its file written.
    await watch.waitForLine(new RegExp(`cannot read the data of batch ${late.batchId} yet`, "i"), 60_000);
    writeFileSync(lateFile, JSON.stringify(late.data));

    // Kill it right after a layer selection: its next move in that game is the neuron proof.
    const line = await watch.waitForLine(/dispute (0x[0-9a-fA-F]{64}): selectLayer/, 90_000);
    await watch.stop("SIGKILL");
    killedDispute = /dispute (0x[0-9a-fA-F]{64})/.exec(line)![1].toLowerCase();
    pastWatchOutput.push(watch.output());
    const atKill = await verity.disputes.game(killedDispute);
    expect(atKill.phase, "the game ended before the kill").to.not.equal(Phase.Resolved);

    watch = spawnWatchtower(flags(WATCHER), watchOptions());
    const expected = [faultedLeafOf.get("late")!.key, faultedLeafOf.get("remote")!.key];
    await until(
      "the games on the late and remote leaves to be resolved (and one on the malformed single opened)",
      120_000,
      500,
      async () => {
        aliveOrThrow();
        const s = readState(watchDir());
        if (s === undefined || !settled(s, expected, false)) return undefined;
        if (!Object.values(s.games).some((g) => g.targetKey === malformedId)) return undefined;
        if (s.batches[late.batchId] !== undefined || s.batches[remote.batchId] !== undefined) return undefined;
        return true;
      },
      explain,
    );
    // The restarted process made the move the killed one had left: the game was finished, not abandoned.
    const game = await verity.disputes.game(killedDispute);
    expect(game.outcome, explain()).to.equal(Outcome.ChallengerWon);
    expect(watch.output(), "the restarted watchtower never proved the neuron").to.match(
      new RegExp(`dispute ${killedDispute}: proveNeuron`, "i"),
    );
    // The late batch was read after a failed attempt; the remote one over HTTP.
    expect(allWatchOutput()).to.match(new RegExp(`read the data of batch ${late.batchId} after \\d+ failed`, "i"));
    expect(hits.get("/remote.json") ?? 0, "the HTTP batch was never fetched (--allow-private-fetch)").to.be.above(0);
    expect(hits.get("/never-served.json") ?? 0, "the 404 URI was never tried").to.be.above(0);
    for (const name of ["late", "remote"]) {
      const l = faultedLeafOf.get(name)!;
      expect(await verity.ledger.leafStatus(l.header, l.proof, l.leaf), name).to.equal(CommitmentStatus.Overturned);
    }
  });

  it("refuses a second watchtower on the same data folder with one clear line, while the first keeps working", async function () {
    aliveOrThrow();
    const second = await verityRaw(flags(WATCHER), watchArgs(), 60_000);
    expect(second.code, `${second.stdout}\n${second.stderr}`).to.not.equal(0);
    const lines = second.stderr.split("\n").filter((l) => l.trim().length > 0);
    expect(lines, second.stderr).to.have.length(1);
    expect(lines[0]).to.match(/^error: .*in use by process (\d+)/);
    expect(lines[0]).to.include(`process ${watch!.child.pid} `);
    // The lock still names the first, which still runs and still journals new commitments.
    const lock = JSON.parse(readFileSync(path.join(watchDir(), "daemon.lock"), "utf8")) as { pid: number };
    expect(lock.pid).to.equal(watch!.child.pid);
    const { id } = await honestAgent.commit(quantizeInput(splitMnist().test[9].pixels, MNIST_INPUT_SCALE));
    honestSingles.push(id.toLowerCase());
    await until(
      "the first watchtower to journal a commitment made after the refusal",
      30_000,
      300,
      async () => {
        aliveOrThrow();
        const journal = path.join(watchDir(), "seen.log");
        return existsSync(journal) && readFileSync(journal, "utf8").toLowerCase().includes(id.toLowerCase())
          ? true
          : undefined;
      },
      explain,
    );
  });

  it("proves the 783-byte input as structural fraud at layer 1 (not merely by a timeout)", async function () {
    // Old code: the URI commitment was disputed with an input demand the provider cannot answer (783 bytes
    // are refused by revealInput), so the game could only end by the provider's timeout, never by proof.
    await until(
      "the game on the malformed single to resolve",
      60_000,
      500,
      async () => {
        const g = Object.values(readState(watchDir())?.games ?? {}).find((x) => x.targetKey === malformedId);
        return g?.resolved ? true : undefined;
      },
      explain,
    );
    expect(await verity.ledger.status(malformedId)).to.equal(CommitmentStatus.Overturned);
    const game = verity.disputes.contract;
    const opened = (await game.queryFilter(game.filters.DisputeOpened(), firstCommitBlock)).filter(
      (e) => toDisputeParams(e.args.params).target.toLowerCase() === malformedId,
    );
    expect(opened).to.have.length(1);
    const disputeId = opened[0].args.disputeId;
    const proven = await game.queryFilter(game.filters.FraudProven(disputeId), firstCommitBlock);
    expect(proven, "no FraudProven: the game did not end by a proof").to.have.length(1);
    expect(Number(proven[0].args.layer)).to.equal(1);
    expect(proven[0].args.neuron).to.equal(0xffffffffn); // STRUCTURAL_FRAUD
    const revealed = await game.queryFilter(game.filters.InputRevealed(disputeId), firstCommitBlock);
    expect(revealed, "an input demand cannot be answered with 783 bytes").to.have.length(0);
  });

  it("demands disclosure at half the window: withheld batches (404, non-UTF-8 URI) end Overturned by timeout, the demander paid", async function () {
    // Old code: unreadable data was only logged ("disclosure demand not available") and the window left
    // to close: a provider could commit anything under a URI nobody can read.
    aliveOrThrow();
    // Time jumps only when no game waits on the watchtower (a stalled provider's may: it loses by timeout).
    const before = await until(
      "no open game waiting on the watchtower",
      30_000,
      500,
      async () => {
        const st = readState(watchDir());
        return st !== undefined && (await noChallengerMoveDue(st)) ? st : undefined;
      },
      explain,
    );
    // Nothing was demanded before half the window.
    const c = verity.disclosure.contract;
    expect(await c.queryFilter(c.filters.DisclosureDemanded(), firstCommitBlock), explain()).to.have.length(0);
    // The watchtower may keep the lying batch for a disclosure demand rather than demand the leaf's input.
    const undisputed = (name: string) =>
      !Object.values(before.games).some((g) => g.targetKey === faultedLeafOf.get(name)!.key);
    // The oversized batch is expected to wait for its disclosure (checked in the next test).
    oversizedWaited = undisputed("oversized");
    const disclosedBatches = [...(oversizedWaited ? [oversized] : []), ...(undisputed("lying") ? [lying] : [])];
    const settledLeaves = disclosedBatches.map((b) => faultedLeafOf.get(b === lying ? "lying" : "oversized")!.key);
    demandedAt = await headOf(rpc);

    // Half the challenge window (and more than a response window) passes.
    await increaseTime(CHALLENGE_WINDOW / 2 + 100);
    const disclosure = verity.disclosure;
    const oversizedLeaf = faultedLeafOf.get("oversized")!;
    await until(
      "the demands, the oversized batch disclosed and its faulted leaf proven",
      120_000,
      500,
      async () => {
        aliveOrThrow();
        for (const id of [nonUtf8.batchId, neverServed.batchId])
          if ((await disclosure.disclosureOf(id)).phase !== DisclosurePhase.Open) return undefined;
        for (const b of disclosedBatches)
          if ((await disclosure.disclosureOf(b.batchId)).phase !== DisclosurePhase.Disclosed) return undefined;
        const s = readState(watchDir());
        if (s === undefined || !settled(s, settledLeaves)) return undefined;
        return true;
      },
      explain,
    );
    const demands = await c.queryFilter(c.filters.DisclosureDemanded(), demandedAt);
    for (const d of demands) expect(d.args.demander).to.equal(watcherAddress);
    expect(new Set(demands.map((d) => d.args.batchId.toLowerCase()))).to.deep.equal(
      new Set([nonUtf8.batchId, neverServed.batchId, ...disclosedBatches.map((b) => b.batchId)]),
    );
    // The response window passes: nobody disclosed the two withheld batches.
    await increaseTime(RESPONSE_WINDOW + 10);
    await until(
      "both withheld batches overturned by timeoutDisclosure",
      60_000,
      500,
      async () => {
        aliveOrThrow();
        for (const id of [nonUtf8.batchId, neverServed.batchId]) {
          if ((await disclosure.disclosureOf(id)).phase !== DisclosurePhase.Failed) return undefined;
          if ((await verity.ledger.status(id)) !== CommitmentStatus.Overturned) return undefined;
        }
        return true;
      },
      explain,
    );
    // The demander takes its bond and the whole challengers' share of the slash.
    const share = BigInt(await StakeManager__factory.connect(addresses.stakeManager, rpc).challengerShareBps());
    const failed = await c.queryFilter(c.filters.DisclosureFailed(), demandedAt);
    expect(failed.map((e) => e.args.batchId.toLowerCase()).sort()).to.deep.equal(
      [nonUtf8.batchId, neverServed.batchId].sort(),
    );
    for (const e of failed) {
      expect(e.args.slashed).to.equal(SLASH);
      expect(e.args.reward).to.equal((SLASH * share) / 10_000n);
    }
  });

  it("keeps a batch over --fetch-max-bytes for a disclosure, answered by its provider's daemon, and proves the faulted leaf from it", async function () {
    // Old code: an unreadable (here: too large) batch was given up at the end of its window; nothing made
    // its provider put the leaves on-chain.
    expect(allWatchOutput(), "the --fetch-max-bytes limit was not applied").to.match(
      new RegExp(`batch ${oversized.batchId}.*larger than ${FETCH_MAX_BYTES} bytes`, "i"),
    );
    expect(oversizedWaited, "the oversized batch was disputed before any disclosure: it was read").to.equal(true);
    const c = verity.disclosure.contract;
    const demanded = await c.queryFilter(c.filters.DisclosureDemanded(oversized.batchId), firstCommitBlock);
    expect(demanded.map((e) => e.args.demander)).to.deep.equal([watcherAddress]);
    const completed = await c.queryFilter(c.filters.DisclosureCompleted(oversized.batchId), firstCommitBlock);
    expect(completed, "the provider daemon did not disclose").to.have.length(1);
    expect(completed[0].args.compensation).to.equal(demanded[0].args.bond);
    const disclosedLeaves = await c.queryFilter(c.filters.LeafDisclosed(oversized.batchId), firstCommitBlock);
    expect(disclosedLeaves).to.have.length(oversized.header.count);
    // The faulted leaf was disputed after the disclosure, and won; the honest ones were not disputed.
    const l = faultedLeafOf.get("oversized")!;
    expect(await verity.ledger.leafStatus(l.header, l.proof, l.leaf)).to.equal(CommitmentStatus.Overturned);
    const game = verity.disputes.contract;
    const opened = (await game.queryFilter(game.filters.DisputeOpened(), firstCommitBlock)).filter(
      (e) => toDisputeParams(e.args.params).target.toLowerCase() === oversized.batchId,
    );
    expect(opened).to.have.length(1);
    expect(opened[0].blockNumber).to.be.above(completed[0].blockNumber);
    expect(leafHashOf(toDisputeParams(opened[0].args.params).inference)).to.equal(leafHashOf(l.leaf));
  });

  it("wins the leaf whose input the batch file misstates (by demand or disclosure), bond kept", async function () {
    // Old code: the file's input was trusted; re-executing another digit "found" fraud, the dispute went
    // without an input demand, and the neuron proof over the wrong input could never match the trace:
    // the challenger lost its bond to a provider that had cheated.
    const l = faultedLeafOf.get("lying")!;
    expect(await verity.ledger.leafStatus(l.header, l.proof, l.leaf)).to.equal(CommitmentStatus.Overturned);
    const game = verity.disputes.contract;
    const opened = (await game.queryFilter(game.filters.DisputeOpened(), firstCommitBlock)).filter((e) => {
      const p = toDisputeParams(e.args.params);
      return p.isLeaf && `${p.target}-${leafHashOf(p.inference)}`.toLowerCase() === l.key;
    });
    expect(opened).to.have.length(1);
    const disputeId = opened[0].args.disputeId;
    const resolved = await game.queryFilter(game.filters.DisputeResolved(disputeId), firstCommitBlock);
    expect(resolved.map((e) => Number(e.args.outcome))).to.deep.equal([Outcome.ChallengerWon]);
    // Either the input was demanded in the game (and revealed: the true one), or the batch was disclosed.
    const revealed = await game.queryFilter(game.filters.InputRevealed(disputeId), firstCommitBlock);
    const disclosure = await verity.disclosure.disclosureOf(lying.batchId);
    if (disclosure.phase !== DisclosurePhase.Disclosed) {
      expect(revealed, "the leaf was disputed over the file's false input").to.have.length(1);
      expect(keccak256(revealed[0].args.input)).to.equal(l.leaf.inputHash);
    }
  });

  it("in the end: every fraud proven, no honest commitment disputed, no bond lost, the vault balanced", async function () {
    aliveOrThrow();
    // Every fraud overturned.
    expect(await verity.ledger.status(malformedId)).to.equal(CommitmentStatus.Overturned);
    for (const [name, l] of faultedLeafOf)
      expect(await verity.ledger.leafStatus(l.header, l.proof, l.leaf), name).to.equal(CommitmentStatus.Overturned);
    for (const id of [nonUtf8.batchId, neverServed.batchId])
      expect(await verity.ledger.status(id)).to.equal(CommitmentStatus.Overturned);

    // Exactly one dispute per fraud, all by the watchtower, all won; none against an honest commitment.
    const game = verity.disputes.contract;
    const opened = await game.queryFilter(game.filters.DisputeOpened(), firstCommitBlock);
    const targets = opened.map((e) => {
      const p = toDisputeParams(e.args.params);
      expect(p.challenger.toLowerCase()).to.equal(watcherAddress.toLowerCase());
      expect(p.provider.toLowerCase(), "a dispute against the honest provider").to.not.equal(
        honestAddress.toLowerCase(),
      );
      return p.isLeaf ? `${p.target}-${leafHashOf(p.inference)}`.toLowerCase() : p.target.toLowerCase();
    });
    const expected = [malformedId, ...[...faultedLeafOf.values()].map((l) => l.key)];
    expect([...targets].sort()).to.deep.equal([...expected].sort());
    const resolved = await game.queryFilter(game.filters.DisputeResolved(), firstCommitBlock);
    expect(resolved.length).to.equal(expected.length);
    expect(resolved.map((e) => Number(e.args.outcome))).to.deep.equal(
      Array(expected.length).fill(Outcome.ChallengerWon),
    );
    for (const id of honestSingles) expect(await verity.ledger.status(id), id).to.equal(CommitmentStatus.Pending);
    for (const l of honestLeaves)
      expect(await verity.ledger.leafStatus(l.header, l.proof, l.leaf), l.key).to.equal(CommitmentStatus.Pending);

    // The watchtower's tokens: its rewards and shares, less the bond of each batch that was disclosed
    // (the one allowed cost); any lost game bond would show as a shortfall here.
    const stakeManager = StakeManager__factory.connect(addresses.stakeManager, rpc);
    const token = MockERC20__factory.connect(addresses.token, rpc);
    await until("the watchtower to claim its credit", 30_000, 300, async () =>
      (await verity.staking.creditOf(watcherAddress)) === 0n ? true : undefined,
    );
    const c = verity.disclosure.contract;
    const mine = new Set(
      (await c.queryFilter(c.filters.DisclosureDemanded(undefined, watcherAddress), firstCommitBlock)).map((e) =>
        e.args.batchId.toLowerCase(),
      ),
    );
    const rewards = (
      await game.queryFilter(game.filters.RewardPaid(undefined, watcherAddress), firstCommitBlock)
    ).reduce((sum, e) => sum + e.args.amount, 0n);
    const shares = (await c.queryFilter(c.filters.DisclosureFailed(), firstCommitBlock))
      .filter((e) => mine.has(e.args.batchId.toLowerCase()))
      .reduce((sum, e) => sum + e.args.reward, 0n);
    const disclosed = await c.queryFilter(c.filters.DisclosureCompleted(), firstCommitBlock);
    const disclosedBonds = disclosed
      .filter((e) => mine.has(e.args.batchId.toLowerCase()))
      .reduce((sum, e) => sum + e.args.compensation, 0n);
    expect(disclosed.map((e) => e.args.batchId.toLowerCase())).to.include(oversized.batchId);
    const net =
      (await token.balanceOf(watcherAddress)) + (await stakeManager.creditOf(watcherAddress)) - watcherStartBalance;
    expect(rewards).to.be.above(0n);
    expect(net, "the watchtower lost tokens beyond the disclosure bonds").to.equal(rewards + shares - disclosedBonds);
    expect(net).to.be.at.least(-disclosedBonds);

    // The vault holds exactly what it owes.
    expect(await token.balanceOf(addresses.stakeManager)).to.equal(await stakeManager.totalOwed());

    // A clean stop.
    await watch!.stop("SIGTERM", 15_000);
    expect(watch!.child.signalCode, `the watchtower needed a SIGKILL:\n${watch!.output()}`).to.equal(null);
    expect(watch!.child.exitCode).to.equal(0);
  });
});

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { isAddress } from "ethers";
import { readModelFile, run } from "../../src/engine/index.js";

/**
 * End-to-end tests of the `verity` command: a real `hardhat node` child process, and the CLI driven as
 * child processes (`node bin/verity.js --rpc ...`), exactly as a user runs it.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "verity.js");
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");
const MODEL = "models/mnist-784-128-64-10.json";

/** Hardhat node's default accounts 1..4 (0 is the deployer and treasury). */
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PUBLISHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const CHALLENGER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A free TCP port on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the node answers `eth_chainId`; rejects after `timeoutMs` or if the node exits. */
async function waitForNode(url: string, node: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.exitCode !== null) throw new Error(`hardhat node exited with ${node.exitCode}: ${output().slice(-2000)}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`hardhat node did not answer within ${timeoutMs} ms: ${output().slice(-2000)}`);
}

/** Asserts the CLI failed with exactly one `error:` line and no stack frames. */
function expectOneLineError(result: CliResult, pattern: string | RegExp): void {
  expect(result.code, result.stderr).to.equal(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^error: /);
  expect(result.stderr).to.not.match(/\n\s+at /);
  if (typeof pattern === "string") expect(lines[0]).to.include(pattern);
  else expect(lines[0]).to.match(pattern);
}

describe("verity CLI", function () {
  let node: ChildProcess;
  let nodeOutput = "";
  let rpc = "";
  const deploymentId = `cli-test-${process.pid}-${Date.now()}`;
  const deploymentDir = path.join(ROOT, "ignition", "deployments", deploymentId);
  let work = "";
  const daemons: ChildProcess[] = [];

  /** Spawns the CLI with the test node and deployment. */
  function start(args: string[]): ChildProcess {
    return spawn(process.execPath, [BIN, "--rpc", rpc, "--deployment", deploymentDir, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: "true", VERITY_PRIVATE_KEY: "", VERITY_DEPLOYMENT: "", VERITY_DEBUG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  /** Runs the CLI to completion (bounded by `timeoutMs`). */
  function cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
    return finish(start(args), timeoutMs);
  }

  /** Collects a CLI child's output until it exits (killed after `timeoutMs`). */
  function finish(child: ChildProcess, timeoutMs = 60_000): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`verity timed out after ${timeoutMs} ms: ${stderr}`));
      }, timeoutMs);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Runs the CLI with `--json`, expects success, and parses stdout. */
  async function cliJson<T = any>(args: string[], timeoutMs?: number): Promise<T> {
    const result = await cli(["--json", ...args], timeoutMs);
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout) as T;
  }

  before(async function () {
    this.timeout(120_000);
    work = mkdtempSync(path.join(os.tmpdir(), "verity-cli-test-"));
    const port = await freePort();
    rpc = `http://127.0.0.1:${port}`;
    node = spawn(HARDHAT, ["node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: ROOT,
      env: {
        ...process.env,
        CI: "true",
        PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d: Buffer) => (nodeOutput = (nodeOutput + d.toString()).slice(-20_000));
    node.stdout!.on("data", keep);
    node.stderr!.on("data", keep);
    await waitForNode(rpc, node, () => nodeOutput, 90_000);
  });

  after(async function () {
    this.timeout(20_000);
    for (const d of daemons) if (d.exitCode === null) d.kill("SIGKILL");
    if (node !== undefined && node.exitCode === null) {
      const exited = new Promise((resolve) => node.once("exit", resolve));
      node.kill("SIGTERM");
      const timer = setTimeout(() => node.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(deploymentDir, { recursive: true, force: true });
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("prints its help and exits 0", async function () {
    const result = await cli(["--help"]);
    expect(result.code).to.equal(0);
    for (const command of [
      "deploy",
      "token",
      "model",
      "stake",
      "infer",
      "commit",
      "watch",
      "provide",
      "status",
      "dispute",
      "disclose",
      "claim",
    ]) {
      expect(result.stdout).to.include(command);
    }
  });

  it("fails with one line on an unknown command, a bad number, a missing file and a missing deployment", async function () {
    expectOneLineError(await cli(["frobnicate"]), "unknown command 'frobnicate'");
    expectOneLineError(await cli(["stake", "deposit", "lots"]), '<amount>: "lots" is not a decimal token amount');
    expectOneLineError(
      await cli(["infer", "models/none.json", "--sample", "0"]),
      "no such model file: models/none.json",
    );
    expectOneLineError(await cli(["stake", "show"]), /no deployment file|no Verity deployment/);
  });

  it("fails with one line when the node is unreachable", async function () {
    const port = await freePort();
    const result = await finish(
      spawn(process.execPath, [BIN, "--rpc", `http://127.0.0.1:${port}`, "stake", "show"], {
        cwd: ROOT,
        env: { ...process.env, CI: "true" },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    expectOneLineError(result, `cannot reach a node at http://127.0.0.1:${port}`);
  });

  it("deploys the protocol with Ignition under the given deployment id", async function () {
    this.timeout(600_000); // a cold compile of the contracts with solcjs takes minutes
    const out = await cliJson(["deploy", "--deployment-id", deploymentId], 590_000);
    expect(out.deploymentId).to.equal(deploymentId);
    expect(out.module).to.equal("VerityLocal");
    expect(out.deployment).to.equal(deploymentDir);
    for (const role of ["token", "registry", "stakeManager", "ledger", "disputeGame", "batchDisclosure"]) {
      expect(isAddress(out.addresses[role]), role).to.equal(true);
    }
    expect(existsSync(path.join(deploymentDir, "deployed_addresses.json"))).to.equal(true);
  });

  it("mints test tokens to the provider and the challenger", async function () {
    const out = await cliJson(["token", "mint", PROVIDER, "1000"]);
    expect(out.balance).to.equal((1000n * 10n ** 18n).toString());
    await cliJson(["token", "mint", CHALLENGER, "100"]);
  });

  it("registers the MNIST model and shows its record", async function () {
    const { modelId } = await cliJson([
      "--account",
      "2",
      "model",
      "register",
      MODEL,
      "--challenge-window",
      "600",
      "--bond",
      "10",
    ]);
    expect(modelId).to.match(/^0x[0-9a-f]{64}$/);
    // The id binds the publisher: `model id --publisher` computes the same id off-chain.
    const ids = await cliJson(["model", "id", MODEL, "--publisher", PUBLISHER]);
    expect(ids.modelId).to.equal(modelId);
    const shown = await cliJson(["model", "show", modelId]);
    expect(shown.contentHash).to.equal(ids.contentHash);
    expect(shown.optimistic).to.equal(true);
    expect(shown.maxBatchLeaves).to.equal(1024);
    expect(shown.publisher).to.equal(PUBLISHER);
    // A model file resolves to its only registration.
    const byFile = await cliJson(["model", "show", MODEL]);
    expect(byFile.modelId).to.equal(modelId);
    expect(shown.status).to.equal("Active");
    expect(shown.policy.challengeWindow).to.equal(600);
    expect(shown.policy.challengerBond).to.equal((10n * 10n ** 18n).toString());
  });

  it("rejects a commitment before staking with the ledger's custom error", async function () {
    const result = await cli([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "0",
      "--trace-dir",
      path.join(work, "traces"),
    ]);
    expectOneLineError(result, `InferenceLedgerInsufficientStake(${PROVIDER}, 0, 100000000000000000000)`);
  });

  it("fails with one line when the Hardhat keystore has no such key", async function () {
    const result = await cli(["--keystore", "VERITY_TEST_NO_SUCH_KEY", "stake", "show"]);
    expectOneLineError(result, /cannot read a private key named VERITY_TEST_NO_SUCH_KEY from the Hardhat keystore/);
  });

  it("deposits stake and shows it", async function () {
    const out = await cliJson(["--account", "1", "stake", "deposit", "200"]);
    expect(out.active).to.equal((200n * 10n ** 18n).toString());
    const shown = await cliJson(["stake", "show", PROVIDER]);
    expect(shown.active).to.equal((200n * 10n ** 18n).toString());
    expect(shown.balance).to.equal((800n * 10n ** 18n).toString());
  });

  it("runs an inference off-chain from an input file and from a held-out digit", async function () {
    const model = await readModelFile(path.join(ROOT, MODEL));
    const input = Array.from({ length: 784 }, (_, i) => ((i * 37) % 256) - 128);
    const file = path.join(work, "input.json");
    writeFileSync(file, JSON.stringify(input));
    const expected = run(model, input);
    const out = await cliJson(["infer", MODEL, file]);
    expect(out.output).to.deep.equal(Array.from(expected.output));
    expect(out.traceRoot).to.equal(expected.traceRoot);
    expect(out.layerHashes).to.deep.equal(expected.layerHashes);

    const digit = await cliJson(["infer", MODEL, "--sample", "0"]);
    expect(digit.argmax).to.equal(digit.label);
  });

  it("commits single inferences and reports their status", async function () {
    const out = await cliJson([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "0-1",
      "--trace-dir",
      path.join(work, "traces"),
    ]);
    expect(out.kind).to.equal("single");
    expect(out.commitments).to.have.length(2);
    expect(out.inputPublic).to.equal(true);
    const status = await cliJson(["status", out.commitments[0].id]);
    expect(status.kind).to.equal("single");
    expect(status.status).to.equal("Pending");
    expect(status.finality).to.equal("None");
    expect(status.inputPublic).to.equal(true);
    expect(status.provider).to.equal(PROVIDER);
    expect(status.traceRoot).to.equal(out.commitments[0].traceRoot);
    expect(existsSync(path.join(work, "traces", `${out.commitments[0].id}.json`))).to.equal(true);
  });

  it("commits a batch and reports the status of one of its leaves", async function () {
    const dataFile = path.join(work, "batch.json");
    const out = await cliJson([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "2-5",
      "--batch",
      "--data-file",
      dataFile,
      "--trace-dir",
      path.join(work, "traces"),
    ]);
    expect(out.kind).to.equal("batch");
    expect(out.count).to.equal(4);
    const batch = await cliJson(["status", out.batchId]);
    expect(batch.kind).to.equal("batch");
    expect(batch.root).to.equal(out.root);
    const leaf = out.leaves[1];
    const byHashes = await cliJson([
      "status",
      out.batchId,
      "--leaf",
      `${leaf.inputHash},${leaf.outputHash},${leaf.traceRoot}`,
      "--proof-file",
      dataFile,
    ]);
    expect(byHashes.leaf.status).to.equal("Pending");
    const byIndex = await cliJson(["status", out.batchId, "--leaf", "1", "--proof-file", dataFile]);
    expect(byIndex.leaf.leafHash).to.equal(byHashes.leaf.leafHash);
  });

  it("catches a faulty commitment: the watchtower and the provider daemon play the dispute to the end", async function () {
    this.timeout(120_000);
    const commit = await cliJson([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "7",
      "--fault",
      "2:5:3",
      "--trace-dir",
      path.join(work, "traces"),
    ]);
    const target = commit.commitments[0].id as string;

    const watchDir = path.join(work, "watchtower");
    const watch = start([
      "--account",
      "3",
      "--json",
      "watch",
      "--model",
      MODEL,
      "--data-dir",
      watchDir,
      "--interval",
      "200",
    ]);
    const provide = start([
      "--account",
      "1",
      "--json",
      "provide",
      "--model",
      MODEL,
      "--trace-dir",
      path.join(work, "traces"),
      "--data-dir",
      path.join(work, "provider"),
      "--interval",
      "200",
    ]);
    daemons.push(watch, provide);
    const watchDone = finish(watch, 110_000);
    const provideDone = finish(provide, 110_000);

    const stateFile = path.join(watchDir, "state.json");
    const providerStateFile = path.join(work, "provider", "provider-state.json");
    const deadline = Date.now() + 90_000;
    let won = false;
    let lost = false;
    // Both daemons see the end of the game in their own ticks: stop them only once each has recorded it.
    while (!(won && lost) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      try {
        won = JSON.parse(readFileSync(stateFile, "utf8")).stats.won >= 1;
        lost = JSON.parse(readFileSync(providerStateFile, "utf8")).stats.lost >= 1;
      } catch {
        // not written yet (or mid-rename)
      }
    }
    watch.kill("SIGINT");
    provide.kill("SIGINT");
    const [w, p] = await Promise.all([watchDone, provideDone]);
    expect(won, w.stderr).to.equal(true);
    expect(w.code, w.stderr).to.equal(0);
    expect(p.code, p.stderr).to.equal(0);
    const summary = JSON.parse(w.stdout);
    expect(summary.stats.won).to.equal(1);
    const game = summary.games.find((g: { target: string }) => g.target === target);
    expect(game.outcome).to.equal("ChallengerWon");
    expect(JSON.parse(p.stdout).stats.lost).to.equal(1);

    const dispute = await cliJson(["dispute", game.disputeId]);
    expect(dispute.phase).to.equal("Resolved");
    expect(dispute.outcome).to.equal("ChallengerWon");
    expect(dispute.numLayers).to.equal(3);
    expect(dispute.rewardPaid).to.equal(true); // the only game on its target: paid at once
    expect(dispute.challenger).to.equal(CHALLENGER);
    const status = await cliJson(["status", target]);
    expect(status.status).to.equal("Overturned");
  });

  it("refuses a URI above 256 bytes with one line, before sending anything", async function () {
    const result = await cli([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "0",
      "--input-uri",
      `ipfs://${"x".repeat(250)}`,
      "--trace-dir",
      path.join(work, "traces"),
    ]);
    expectOneLineError(result, "--input-uri is 257 bytes, the ledger takes at most 256");
  });

  it("demands the disclosure of a batch whose inputs were withheld, and shows its state", async function () {
    const out = await cliJson([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "20-22",
      "--batch",
      "--withhold-inputs",
      "--data-file",
      path.join(work, "withheld.json"),
      "--trace-dir",
      path.join(work, "traces"),
    ]);
    const before = await cliJson(["disclose", "status", out.batchId]);
    expect(before.phase).to.equal("None");
    expect(BigInt(before.bond) > 0n).to.equal(true);
    const demanded = await cliJson(["--account", "3", "disclose", "demand", out.batchId]);
    expect(demanded.bond).to.equal(before.bond);
    const after = await cliJson(["disclose", "status", out.batchId]);
    expect(after.phase).to.equal("Open");
    expect(after.demander).to.equal(CHALLENGER);
    expect(after.disclosed).to.equal(0);
    expect(after.count).to.equal(3);
    const status = await cliJson(["status", out.batchId]);
    expect(status.status).to.equal("Disputed");
    expect(status.disclosureOpen).to.equal(true);
    expectOneLineError(
      await cli(["--account", "3", "disclose", "demand", out.batchId]),
      `InferenceLedgerDisclosureOpen(${out.batchId})`,
    );
  });

  it("claims the treasury's share of the slash", async function () {
    const out = await cliJson(["--account", "0", "claim"]);
    expect(BigInt(out.claimed) > 0n).to.equal(true);
    const again = await cliJson(["--account", "0", "claim"]);
    expect(again.claimed).to.equal("0");
  });

  it("asks for --publisher in one line once two publishers registered the same model file", async function () {
    const second = await cliJson(["--account", "4", "model", "register", MODEL]);
    const listed = await cliJson(["model", "registrations", MODEL]);
    expect(listed.registrations.map((r: { modelId: string }) => r.modelId)).to.include(second.modelId);
    expect(listed.registrations).to.have.length(2);
    expectOneLineError(
      await cli(["--account", "1", "commit", MODEL, "--sample", "9", "--trace-dir", path.join(work, "traces")]),
      /2 publishers registered this model \(content 0x[0-9a-f]{64}\): pass --publisher <address> or --model-id <id>/,
    );
    expectOneLineError(await cli(["model", "show", MODEL]), "pass --publisher <address> or --model-id <id>");
    const out = await cliJson([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "9",
      "--publisher",
      PUBLISHER,
      "--trace-dir",
      path.join(work, "traces"),
    ]);
    const shown = await cliJson(["model", "show", MODEL, "--publisher", PUBLISHER]);
    expect(out.modelId).to.equal(shown.modelId);
    expect(out.modelId).to.not.equal(second.modelId);
  });
});

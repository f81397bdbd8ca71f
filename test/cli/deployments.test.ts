import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runNode, type CommandResult } from "../e2e/helpers/cli.js";
import {
  freePort,
  killTree,
  rpcCall,
  startNode,
  trackChild,
  waitForExit,
  type LocalNode,
} from "../e2e/helpers/node.js";

/**
 * Two chain instances with the same chain id (a `hardhat node` and anvil, both 31337): `verity deploy`
 * never replaces a live deployment or another node's, commands on a node whose recorded contracts are
 * not there say so in one line, a chain without Cancun is one line, and `npm run demo -- --rpc` runs
 * again and again on one node.
 */

const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "verity.js");
const DEPLOYMENTS = path.join(ROOT, "ignition", "deployments");
const ANVIL = path.join(ROOT, "node_modules", ".bin", "anvil");
const TSX = path.join(path.dirname(require.resolve("tsx/package.json")), "dist", "cli.mjs");
const ENV = { ...process.env, CI: "true", VERITY_PRIVATE_KEY: "", VERITY_DEPLOYMENT: "", VERITY_DEBUG: "" };

/** anvil on a free port (hardfork `hardfork` when given); killed by `stop()` or when this process exits. */
async function startAnvil(hardfork?: string): Promise<LocalNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const args = ["--host", "127.0.0.1", "--port", String(port), ...(hardfork ? ["--hardfork", hardfork] : [])];
  const child = trackChild(spawn(ANVIL, args, { stdio: ["ignore", "pipe", "pipe"], detached: true }));
  child.stdout?.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-10_000)));
  child.stderr?.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-10_000)));
  const stop = async () => {
    killTree(child, "SIGKILL");
    await waitForExit(child, 5_000);
  };
  for (const deadline = Date.now() + 30_000; ;) {
    if (child.exitCode !== null) throw new Error(`anvil exited: ${output}`);
    try {
      await rpcCall(url, "eth_chainId", [], 1_000);
      return { url, port, child, output: () => output, stop };
    } catch {
      if (Date.now() > deadline) throw new Error(`anvil did not answer: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function genesisOf(url: string): Promise<string> {
  return ((await rpcCall(url, "eth_getBlockByNumber", ["0x0", false])) as { hash: string }).hash;
}

function cli(rpc: string, args: string[], timeoutMs = 180_000): Promise<CommandResult> {
  return runNode([BIN, "--rpc", rpc, ...args], timeoutMs, ENV);
}

/** Asserts a failure of exactly one `error:` line, no stack. */
function oneLineError(result: CommandResult, pattern: RegExp): string {
  expect(result.code, result.stderr).to.equal(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^error: /);
  expect(lines[0]).to.match(pattern);
  return lines[0];
}

function read(file: string): string {
  return readFileSync(file, "utf8");
}

describe("verity deploy: one deployment per chain instance", function () {
  let hardhat: LocalNode;
  let anvil: LocalNode;
  let shanghai: LocalNode;
  const genesis: string[] = [];
  let work = "";
  /** The folders in ignition/deployments before this test. */
  let existing = new Set<string>();

  before(async function () {
    this.timeout(120_000);
    if (!existsSync(ANVIL)) throw new Error(`${ANVIL} is missing: npm install (devDependency @foundry-rs/anvil)`);
    existing = new Set(existsSync(DEPLOYMENTS) ? readdirSync(DEPLOYMENTS) : []);
    work = mkdtempSync(path.join(os.tmpdir(), "verity-deployments-cli-"));
    [hardhat, anvil, shanghai] = await Promise.all([startNode({ cwd: ROOT }), startAnvil(), startAnvil("shanghai")]);
    for (const node of [hardhat, anvil, shanghai]) genesis.push(await genesisOf(node.url));
    expect(new Set(genesis).size).to.equal(3);
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all([hardhat, anvil, shanghai].map((n) => n?.stop()));
    // Remove the deployments of this test's nodes only (others may be working in ignition/deployments).
    for (const name of existsSync(DEPLOYMENTS) ? readdirSync(DEPLOYMENTS) : []) {
      if (existing.has(name)) continue;
      const identity = path.join(DEPLOYMENTS, name, "verity.json");
      if (!existsSync(identity) || genesis.includes(JSON.parse(read(identity)).genesisHash))
        rmSync(path.join(DEPLOYMENTS, name), { recursive: true, force: true });
    }
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  let onHardhat = "";
  let onAnvil = "";

  it("deploys to one node; the other node (same chain id) gets its own folder; neither is replaced", async function () {
    this.timeout(300_000);
    const first = await cli(hardhat.url, ["--json", "deploy"]);
    expect(first.code, first.stderr).to.equal(0);
    onHardhat = JSON.parse(first.stdout).deployment;
    expect(path.basename(onHardhat)).to.match(/^chain-31337(-[0-9a-f]{8})?$/);
    expect(JSON.parse(read(path.join(onHardhat, "verity.json")))).to.include({
      chainId: "31337",
      genesisHash: genesis[0],
    });
    const addresses = read(path.join(onHardhat, "deployed_addresses.json"));
    const journal = read(path.join(onHardhat, "journal.jsonl"));

    // anvil has no deployment of its own yet: commands say so, and what to do.
    oneLineError(await cli(anvil.url, ["stake", "show"]), /run `verity deploy`/);
    oneLineError(
      await cli(anvil.url, ["--deployment", onHardhat, "stake", "show"]),
      /is not on this node .*it belongs to another chain instance \(chain 31337, genesis 0x[0-9a-f]{8}…\).*run `verity deploy`/,
    );

    // Deploying to the hardhat node again stops: its deployment is live.
    oneLineError(
      await cli(hardhat.url, ["deploy"]),
      /chain 31337 at http:\/\/127\.0\.0\.1:\d+ already has a live Verity deployment in .*chain-31337.*: commands use it; pass --fresh/,
    );

    // Deploying to anvil goes next to it, into anvil's own folder (Ignition gives the same addresses on both
    // nodes: only the genesis block tells the two deployments apart).
    const second = await cli(anvil.url, ["--json", "deploy"]);
    expect(second.code, second.stderr).to.equal(0);
    onAnvil = JSON.parse(second.stdout).deployment;
    expect(onAnvil).to.not.equal(onHardhat);
    expect(path.basename(onAnvil)).to.match(/^chain-31337(-[0-9a-f]{8})?$/);
    expect(JSON.parse(read(path.join(onAnvil, "verity.json"))).genesisHash).to.equal(genesis[1]);
    expect(read(path.join(onHardhat, "deployed_addresses.json"))).to.equal(addresses);
    expect(read(path.join(onHardhat, "journal.jsonl"))).to.equal(journal);

    // Each node's commands find each node's deployment.
    for (const node of [hardhat, anvil]) {
      const shown = await cli(node.url, ["--json", "stake", "show"]);
      expect(shown.code, shown.stderr).to.equal(0);
    }
  });

  it("deploy --fresh puts a second deployment beside the live one", async function () {
    this.timeout(300_000);
    const before = read(path.join(onHardhat, "deployed_addresses.json"));
    const fresh = await cli(hardhat.url, ["--json", "deploy", "--fresh"]);
    expect(fresh.code, fresh.stderr).to.equal(0);
    const folder = JSON.parse(fresh.stdout).deployment;
    expect(folder).to.not.equal(onHardhat);
    expect(read(path.join(folder, "deployed_addresses.json"))).to.not.equal(before);
    expect(read(path.join(onHardhat, "deployed_addresses.json"))).to.equal(before);
  });

  it("commands and daemons on a node whose deployment's contracts are gone fail in one line saying what to do", async function () {
    this.timeout(120_000);
    const ledger = JSON.parse(read(path.join(onAnvil, "deployed_addresses.json")))["VerityLocal#InferenceLedger"];
    await rpcCall(anvil.url, "anvil_setCode", [ledger, "0x"]);
    const gone =
      /no Verity contracts on this node \(chain 31337, genesis 0x[0-9a-f]{8}…\) at the addresses in .*\(no contract code at ledger 0x[0-9a-fA-F]{40}\).*run `verity deploy`.*--deployment/;
    oneLineError(await cli(anvil.url, ["stake", "show"]), gone);
    oneLineError(
      await cli(anvil.url, [
        "watch",
        "--model",
        "models/mnist-784-128-64-10.json",
        "--data-dir",
        path.join(work, "wt"),
        "--once",
      ]),
      gone,
    );
  });

  it("deploy on a chain without Cancun says so in one line, and leaves no folder", async function () {
    this.timeout(120_000);
    oneLineError(
      await cli(shanghai.url, ["deploy"]),
      /^error: chain 31337 at http:\/\/127\.0\.0\.1:\d+ does not support Cancun .*evmVersion "cancun" in hardhat\.config\.ts/,
    );
    for (const name of readdirSync(DEPLOYMENTS)) {
      const identity = path.join(DEPLOYMENTS, name, "verity.json");
      if (existsSync(identity)) expect(JSON.parse(read(identity)).genesisHash).to.not.equal(genesis[2]);
    }
  });

  it("the demo runs on a node whose recorded deployment is gone, and again on the same node", async function () {
    this.timeout(300_000);
    const demo = () => runNode([TSX, "scripts/demo.ts", "--rpc", anvil.url, "--quiet"], 240_000, ENV);
    const first = await demo();
    expect(first.code, `${first.stdout}\n${first.stderr}`).to.equal(0);
    expect(first.stdout).to.match(/deploying into .*chain-31337-[0-9a-f]{8}/);
    expect(first.stdout).to.match(/registered MNIST 784-128-64-10 as 0x/);
    expect(first.stdout).to.match(/caught by the watchtower\s*│\s*5/);
    const second = await demo();
    expect(second.code, `${second.stdout}\n${second.stderr}`).to.equal(0);
    expect(second.stdout).to.match(/using the deployment already live on this node/);
    expect(second.stdout).to.match(/reusing the registration of MNIST 784-128-64-10/);
    expect(second.stdout).to.match(/caught by the watchtower\s*│\s*5/);
    expect(second.stdout).to.match(/proved on-chain \(fraud proofs\)\s*│\s*5/);
    expect(`${first.stderr}${second.stderr}`).to.not.match(/\n\s+at /);
    // On a chain it cannot use: one line.
    const refused = await runNode([TSX, "scripts/demo.ts", "--rpc", shanghai.url, "--quiet"], 120_000, ENV);
    expect(refused.code).to.equal(1);
    expect(refused.stderr.trim().split("\n")).to.have.length(1);
    expect(refused.stderr).to.match(/^error: chain 31337 does not support Cancun/);
  });
});

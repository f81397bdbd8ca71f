/**
 * Starts a local development node of either kind, `hardhat node` or anvil (Foundry's node, installed from
 * npm as `@foundry-rs/anvil`), as a child process on a free loopback port. Both serve the same JSON-RPC
 * on chain id 31337 with the same ten unlocked accounts (mnemonic "test test ... junk"); what differs:
 *
 * - the node-specific RPCs carry the node's prefix (`hardhat_setBalance` vs `anvil_setBalance`); the
 *   `evm_*` ones (`evm_mine`, `evm_increaseTime`, `evm_setAutomine`, `evm_setIntervalMining`) are shared;
 * - anvil mines blocks on a timer with `--block-time`, hardhat node only through `evm_setIntervalMining`;
 * - the genesis block (hash and timestamp) differs between the two, and between two runs of anvil.
 *
 * Every node is killed by its `stop()` and in any case when this process exits (test/e2e/helpers/node.ts).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import {
  freePort,
  killTree,
  rpcCall,
  startNode,
  trackChild,
  waitForExit,
  type LocalNode,
} from "../e2e/helpers/node.js";

const require = createRequire(import.meta.url);

/** The node implementations the end-to-end tests run against. */
export type NodeKind = "hardhat" | "anvil";

/** A running node of a known kind. */
export interface ChainNode extends LocalNode {
  kind: NodeKind;
}

/** Options of `startChain`. */
export interface StartChainOptions {
  /**
   * Mine a block every this many seconds instead of one per transaction (automine, the default). Anvil
   * gets `--block-time`; hardhat node gets `evm_setAutomine false` and `evm_setIntervalMining`.
   */
  blockTimeSeconds?: number;
  /** How long to wait for the node to answer eth_chainId (default 60 s). */
  readyTimeoutMs?: number;
}

/** What each kind answers to web3_clientVersion ("anvil/v1.7.1", "HardhatNetwork/3.x/@nomicfoundation/edr/..."). */
const CLIENT_VERSIONS: Record<NodeKind, RegExp> = { hardhat: /^HardhatNetwork\//, anvil: /^anvil\// };

/** anvil's npm package ships one binary per platform, each in its own optional dependency. */
const ANVIL_PLATFORMS: Record<string, string> = { linux: "linux", darwin: "darwin", win32: "win32" };
const ANVIL_ARCHS: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/**
 * The anvil executable of this platform: the binary in `@foundry-rs/anvil-<platform>-<arch>`, spawned
 * directly so that signals reach the node itself, not a wrapper.
 */
export function anvilBinary(): string {
  const platform = ANVIL_PLATFORMS[process.platform];
  const arch = ANVIL_ARCHS[process.arch];
  const name = `@foundry-rs/anvil-${platform}-${arch}`;
  let dir: string;
  try {
    if (platform === undefined || arch === undefined) throw new Error("unsupported");
    dir = path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(
      `anvil is not installed for ${process.platform}-${process.arch} (${name}): run \`npm install\` ` +
        "(it is an optional dependency of the devDependency @foundry-rs/anvil; --no-optional skips it)",
    );
  }
  const binary = path.join(dir, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
  if (!existsSync(binary)) throw new Error(`${name} holds no ${binary}: reinstall it with \`npm install\``);
  return binary;
}

/** Starts a node of `kind` on a free loopback port and waits, bounded, until it answers. */
export async function startChain(kind: NodeKind, options: StartChainOptions = {}): Promise<ChainNode> {
  const node = kind === "anvil" ? await startAnvil(options) : await startHardhat(options);
  // Make sure the node on that port is the one asked for, on the chain id both use.
  const chainId = BigInt((await rpcCall(node.url, "eth_chainId")) as string);
  const client = String(await rpcCall(node.url, "web3_clientVersion"));
  if (chainId !== 31337n || !CLIENT_VERSIONS[kind].test(client)) {
    await node.stop();
    throw new Error(`the ${kind} node on ${node.url} is ${client} on chain id ${chainId}, not ${kind} on 31337`);
  }
  return { ...node, kind };
}

async function startHardhat(options: StartChainOptions): Promise<LocalNode> {
  const node = await startNode({ readyTimeoutMs: options.readyTimeoutMs });
  if (options.blockTimeSeconds !== undefined) {
    await rpcCall(node.url, "evm_setAutomine", [false]);
    await rpcCall(node.url, "evm_setIntervalMining", [options.blockTimeSeconds * 1_000]);
  }
  return node;
}

async function startAnvil(options: StartChainOptions): Promise<LocalNode> {
  const binary = anvilBinary();
  let lastError: unknown;
  // The port may be taken between freePort() and anvil's bind: then anvil exits and we try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startAnvilOnce(binary, await freePort(), options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startAnvilOnce(binary: string, port: number, options: StartChainOptions): Promise<LocalNode> {
  const url = `http://127.0.0.1:${port}`;
  const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337"];
  if (options.blockTimeSeconds !== undefined) args.push("--block-time", String(options.blockTimeSeconds));
  let output = "";
  const child = trackChild(spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], detached: true }));
  const keep = (chunk: Buffer) => {
    // anvil logs every call it serves; keep only the tail for diagnostics.
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));

  const stop = async () => {
    killTree(child, "SIGTERM");
    if (!(await waitForExit(child, 5_000))) {
      killTree(child, "SIGKILL");
      await waitForExit(child, 5_000);
    }
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    const failed = await Promise.race([spawnError, Promise.resolve(undefined)]);
    if (failed !== undefined) throw new Error(`cannot start ${binary}: ${failed.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`anvil exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`);
    }
    try {
      await rpcCall(url, "eth_chainId", [], 1_000);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`anvil on ${url} did not answer eth_chainId in time:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, port, child, output: () => output, stop };
}

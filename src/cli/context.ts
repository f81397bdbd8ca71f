import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Presets, SingleBar } from "cli-progress";
import type { Command } from "commander";
import { JsonRpcProvider, Network, Wallet, type Signer } from "ethers";
import { DeploymentError, findDeployment, type FoundDeployment } from "../sdk/deployments.js";
import { Verity, type VerityAddresses } from "../sdk/index.js";
import { CliError } from "./errors.js";

/** The repository root (where hardhat.config.ts and ignition/ live), found from this file's location. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The project's Hardhat binary (keystore, Ignition). */
export const HARDHAT_BIN = path.join(REPO_ROOT, "node_modules", ".bin", "hardhat");

/** Where `verity deploy` writes deployments, and where commands look for them. */
export const DEPLOYMENTS_ROOT = path.join(REPO_ROOT, "ignition", "deployments");

/** Default RPC endpoint when neither `--rpc` nor `VERITY_RPC` is given. */
export const DEFAULT_RPC = "http://127.0.0.1:8545";

/** Environment variable holding the default signing key. */
export const DEFAULT_KEY_ENV = "VERITY_PRIVATE_KEY";

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  /** JSON-RPC URL of the node. */
  rpc: string;
  /** An Ignition deployment folder, its deployed_addresses.json, or a deployments root. */
  deployment?: string;
  /** Index of one of the node's unlocked accounts. */
  account?: string;
  /** Name of the environment variable holding a private key. */
  keyEnv?: string;
  /** Name of a key in the Hardhat keystore holding the private key. */
  keystore?: string;
  /** One JSON document on stdout instead of text. */
  json: boolean;
  /** No logs, no progress. */
  quiet: boolean;
}

/** Declares the global options on the root program. */
export function addGlobalOptions(program: Command): Command {
  return program
    .option("--rpc <url>", "JSON-RPC URL of the node (env VERITY_RPC)", process.env.VERITY_RPC ?? DEFAULT_RPC)
    .option(
      "--deployment <path>",
      "Ignition deployment folder or its deployed_addresses.json (env VERITY_DEPLOYMENT; default: the live deployment of this node under ignition/deployments, chain-<chainId> or chain-<chainId>-<genesis>)",
      process.env.VERITY_DEPLOYMENT,
    )
    .option("--account <index>", "sign with the node's n-th unlocked account (hardhat node, anvil)")
    .option(
      "--key-env <var>",
      `sign with the private key in this environment variable (default ${DEFAULT_KEY_ENV} when set)`,
    )
    .option("--keystore <name>", "sign with the private key stored under this name in the Hardhat keystore")
    .option("--json", "print one JSON document on stdout", false)
    .option("--quiet", "no logs or progress bars", false);
}

/**
 * What a command runs with: the parsed global options, a lazily opened connection to the node, the
 * signer those options select, the deployment, and output helpers that honour `--json` and `--quiet`.
 */
export class CliContext {
  private providerPromise?: Promise<JsonRpcProvider>;
  private keystoreValue?: string;
  private signerPromise?: Promise<Signer>;
  private deploymentPromise?: Promise<FoundDeployment>;

  constructor(readonly options: GlobalOptions) {}

  /** The context of the command being run (global options merged in). */
  static of(command: Command): CliContext {
    return new CliContext(command.optsWithGlobals<GlobalOptions>());
  }

  /** Whether human-readable logs and progress may be written to stderr. */
  get chatty(): boolean {
    return !this.options.quiet && !this.options.json;
  }

  /** The node, checked to answer `eth_chainId` before anything else is sent. */
  provider(): Promise<JsonRpcProvider> {
    this.providerPromise ??= connectProvider(this.options.rpc);
    return this.providerPromise;
  }

  /** The chain id of the node. */
  async chainId(): Promise<bigint> {
    return (await (await this.provider()).getNetwork()).chainId;
  }

  /**
   * The signer the options select: `--key-env VAR`, else `--account n`, else `VERITY_PRIVATE_KEY` when
   * set, else the node's first unlocked account.
   */
  signer(): Promise<Signer> {
    this.signerPromise ??= this.openSigner();
    return this.signerPromise;
  }

  /** The address of the selected signer. */
  async address(): Promise<string> {
    return (await this.signer()).getAddress();
  }

  /** The private key the options select, or undefined when signing with an unlocked account. */
  privateKey(): string | undefined {
    const { keyEnv, account, keystore } = this.options;
    if (keystore !== undefined) return this.keystoreKey(keystore);
    if (keyEnv !== undefined) {
      const key = process.env[keyEnv];
      if (key === undefined || key === "") throw new CliError(`environment variable ${keyEnv} is not set`);
      return key;
    }
    if (account !== undefined) return undefined;
    const key = process.env[DEFAULT_KEY_ENV];
    return key === undefined || key === "" ? undefined : key;
  }

  /**
   * Reads a key from the Hardhat keystore with `hardhat keystore get` (which asks for the keystore's
   * password on the terminal). Read once per process.
   */
  private keystoreKey(name: string): string {
    if (this.keystoreValue !== undefined) return this.keystoreValue;
    const result = spawnSync(HARDHAT_BIN, ["keystore", "get", name], {
      cwd: REPO_ROOT,
      stdio: ["inherit", "pipe", "pipe"],
      encoding: "utf8",
    });
    const value = result.stdout?.trim() ?? "";
    if (result.status !== 0 || !/^(0x)?[0-9a-fA-F]{64}$/.test(value)) {
      const reason = (result.stderr || result.stdout || "").trim().split("\n").pop() || `exit code ${result.status}`;
      throw new CliError(`cannot read a private key named ${name} from the Hardhat keystore: ${reason}`);
    }
    this.keystoreValue = value;
    return value;
  }

  /**
   * The deployment for the node: `--deployment`, else the live one of this chain instance under
   * ignition/deployments (see `findDeployment`). Checked to have code at every address and to belong to
   * this chain instance (genesis block), so a deployment of another node is one line saying what to do.
   */
  deployment(): Promise<FoundDeployment> {
    this.deploymentPromise ??= (async () => {
      const source = this.options.deployment || DEPLOYMENTS_ROOT; // VERITY_DEPLOYMENT="" is unset
      try {
        return await findDeployment(await this.provider(), source);
      } catch (error) {
        if (error instanceof DeploymentError) throw new CliError(error.message);
        throw error;
      }
    })();
    return this.deploymentPromise;
  }

  /** The deployment's addresses for the node's chain. */
  async addresses(): Promise<VerityAddresses> {
    return (await this.deployment()).addresses;
  }

  /** A Verity connection through the signer (or read-only through the provider). */
  async verity(options: { readOnly?: boolean } = {}): Promise<Verity> {
    const runner = options.readOnly ? await this.provider() : await this.signer();
    return Verity.connect({ runner, addresses: await this.addresses() });
  }

  /**
   * Prints a command's result: the value as one JSON document with `--json`, otherwise the text lines
   * (nothing with `--quiet` unless `always`).
   */
  emit(value: unknown, text: string | string[], options: { always?: boolean } = {}): void {
    if (this.options.json) {
      process.stdout.write(`${toJson(value)}\n`);
      return;
    }
    if (this.options.quiet && !options.always) return;
    const lines = Array.isArray(text) ? text : [text];
    if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
  }

  /** A log line on stderr (silenced by `--quiet`). */
  log(message: string): void {
    if (!this.options.quiet) process.stderr.write(`${message}\n`);
  }

  /** A progress bar on stderr, or a no-op one when stderr is no terminal or output is quiet or JSON. */
  progress(total: number, label: string): Progress {
    if (!this.chatty || !process.stderr.isTTY || total <= 0) return NO_PROGRESS;
    const bar = new SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (value, newTotal) => {
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update(value);
      },
      increment: () => bar.increment(),
      stop: () => bar.stop(),
    };
  }

  /**
   * A progress bar for a daemon's block scans: `begin(cursor)` before a tick, `onProgress` for the daemon's
   * hook, `end()` after the tick. The bar appears only when a tick has more than one range to scan.
   */
  scanProgress(maxRange: number) {
    let bar: Progress | undefined;
    let start = 0;
    return {
      begin: (cursor: number) => {
        start = cursor + 1;
      },
      onProgress: (cursor: number, head: number) => {
        if (bar === undefined && head - start > maxRange) bar = this.progress(head - start, "scanning blocks");
        bar?.update(cursor - start);
      },
      end: () => {
        bar?.stop();
        bar = undefined;
      },
    };
  }

  private async openSigner(): Promise<Signer> {
    const provider = await this.provider();
    const key = this.privateKey();
    if (key !== undefined) {
      try {
        return new Wallet(key, provider);
      } catch {
        const source =
          this.options.keystore !== undefined
            ? `keystore key ${this.options.keystore}`
            : (this.options.keyEnv ?? DEFAULT_KEY_ENV);
        throw new CliError(`${source} does not hold a valid private key`);
      }
    }
    const index = parseIndex(this.options.account ?? "0", "--account");
    const accounts = (await provider.send("eth_accounts", [])) as string[];
    if (accounts.length === 0) {
      throw new CliError(
        `the node at ${this.options.rpc} has no unlocked accounts: use --key-env <VAR> with a private key`,
      );
    }
    if (index >= accounts.length) {
      throw new CliError(`--account ${index}: the node has only ${accounts.length} unlocked accounts`);
    }
    return provider.getSigner(accounts[index]);
  }
}

/** A progress bar (or a no-op). */
export interface Progress {
  update(value: number, total?: number): void;
  increment(): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => {}, increment: () => {}, stop: () => {} };

/**
 * Opens a JSON-RPC provider after checking that the node answers `eth_chainId` within a few seconds, so
 * an unreachable node is one clear error instead of ethers retrying in the background forever.
 */
export async function connectProvider(url: string, timeoutMs = 5_000): Promise<JsonRpcProvider> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--rpc ${url} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CliError(`--rpc ${url}: only http and https endpoints are supported`);
  }
  let chainId: bigint;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    const body = (await response.json()) as { result?: string };
    if (typeof body.result !== "string") throw new Error(`unexpected answer ${JSON.stringify(body).slice(0, 80)}`);
    chainId = BigInt(body.result);
  } catch (error) {
    throw new CliError(`cannot reach a node at ${url} (${reasonOf(error)})`);
  }
  const network = Network.from(chainId);
  // cacheTimeout -1: ethers otherwise answers identical calls within 250 ms from a cache, so two
  // transactions sent back to back (approve, then deposit) would get the same nonce.
  return new JsonRpcProvider(url, network, { staticNetwork: network, pollingInterval: 250, cacheTimeout: -1 });
}

/** Why a request failed, in a few words (`ECONNREFUSED`, `timed out`, ...). */
function reasonOf(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return "timed out";
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** Resolves a user path against the working directory and checks that it exists. */
export function existingPath(file: string, what = "file"): string {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new CliError(`no such ${what}: ${file}`);
  return resolved;
}

/** Parses a non-negative integer option or argument. */
export function parseIndex(value: string, name: string): number {
  if (!/^\d+$/.test(value.trim())) throw new CliError(`${name}: "${value}" is not a non-negative integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new CliError(`${name}: ${value} is too large`);
  return n;
}

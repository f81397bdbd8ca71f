import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Verity } from "../sdk/verity.js";
import type { Logger } from "./log.js";

/**
 * A condition retrying cannot fix (the data folder belongs to another chain, the contracts are gone): the
 * daemon's loop stops on it instead of logging it every tick.
 */
export class FatalDaemonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FatalDaemonError";
  }
}

/** The chain and deployment a data folder belongs to, as `chain.json` records it. */
export interface ChainIdentity {
  chainId: string;
  genesisHash: string;
  /** Contract addresses of the deployment by name, lowercase. */
  contracts: Record<string, string>;
}

/** Options of `DataDir.open`. */
export interface DataDirOptions {
  dir: string;
  verity: Verity;
  /** Move any existing state aside (into `reset-<time>/` inside the folder) and start over. */
  resetState?: boolean;
  log?: Logger;
}

const LOCK = "daemon.lock";
const IDENTITY = "chain.json";
/** Locks this process holds, with how many daemons of the process hold each. */
const held = new Map<string, number>();
process.on("exit", () => held.forEach((_, file) => removeOwnLock(file)));
/** The folders open in this process. */
const openFolders = new Set<DataDir>();

/**
 * A daemon's data folder, held exclusively: one process per folder (a pid lock file that a dead process
 * cannot keep: a lock whose process is gone is taken over), and bound to one chain and deployment (a
 * mismatch stops the daemon unless `resetState`).
 */
export class DataDir {
  private constructor(
    readonly dir: string,
    private readonly lock: string,
    private readonly verity: Verity,
    private readonly identity: ChainIdentity,
  ) {}

  /** Creates or opens the folder, takes its lock, and checks (or records) the chain it belongs to. */
  static async open(options: DataDirOptions): Promise<DataDir> {
    const dir = path.resolve(options.dir);
    ensureFolder(dir);
    const lock = acquireLock(path.join(dir, LOCK));
    try {
      const identity = await chainIdentity(options.verity);
      await assertDeployed(options.verity);
      const file = path.join(dir, IDENTITY);
      if (options.resetState) {
        const aside = moveAside(dir);
        if (aside !== undefined) options.log?.(`state reset: the previous state is in ${aside}`);
      } else if (existsSync(file)) {
        const differences = compareIdentity(JSON.parse(readFileSync(file, "utf8")) as ChainIdentity, identity);
        if (differences.length > 0)
          throw new FatalDaemonError(
            `${dir} belongs to another chain or deployment (${differences.join("; ")}): ` +
              `use another data folder, or --reset-state to start over (the old state is moved aside)`,
          );
      }
      writeFileSync(file, JSON.stringify(identity, null, 2));
      const folder = new DataDir(dir, lock, options.verity, identity);
      openFolders.add(folder);
      return folder;
    } catch (error) {
      releaseLock(lock);
      throw error;
    }
  }

  /** A file inside the folder. */
  file(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * What a daemon calls when something failed: stops (a `FatalDaemonError`) when the deployment has no code
   * any more or the node now serves another chain (genesis block); a failure to check (node down) is ignored.
   */
  async recheck(): Promise<void> {
    try {
      await assertDeployed(this.verity);
      const differences = compareIdentity(this.identity, await chainIdentity(this.verity));
      if (differences.length > 0)
        throw new FatalDaemonError(
          `the node no longer serves the chain of ${this.dir} (${differences.join("; ")}); stopping`,
        );
    } catch (error) {
      if (error instanceof FatalDaemonError) throw error;
    }
  }

  /** Releases the lock (also released when the process exits). */
  close(): void {
    if (openFolders.delete(this)) releaseLock(this.lock);
  }
}

/**
 * Runs one daemon tick: `work()`, then, when it threw or reported trouble (`troubled()` after it), checks
 * that the deployment behind `folder` still has code (a `FatalDaemonError` if not) before passing the
 * failure on.
 */
export async function checkedTick<T>(
  folder: DataDir | undefined,
  work: () => Promise<T>,
  troubled: () => boolean,
): Promise<T> {
  let report: T;
  try {
    report = await work();
  } catch (error) {
    await folder?.recheck();
    throw error;
  }
  if (troubled()) await folder?.recheck();
  return report;
}

/**
 * `recheck` of every folder open in this process: for a loop whose failures may come from outside the
 * daemons' own ticks (the CLI's `runLoop`).
 */
export async function recheckOpenFolders(): Promise<void> {
  for (const folder of openFolders) await folder.recheck();
}

/** Stops (a `FatalDaemonError`) when the cursor is past the head: the state is from another chain or a reset node. */
export function assertCursorWithin(cursor: number, head: number, dir: string): void {
  if (cursor > head)
    throw new FatalDaemonError(
      `the state in ${dir} has scanned to block ${cursor} but the chain head is ${head}: ` +
        `the node was restarted or this is another chain; use --reset-state to start over (the old state is moved aside)`,
    );
}

/** The identity of the chain and deployment `verity` is connected to. */
async function chainIdentity(verity: Verity): Promise<ChainIdentity> {
  const [network, genesis] = await Promise.all([verity.provider.getNetwork(), verity.provider.getBlock(0)]);
  if (genesis === null || genesis.hash === null) throw new Error("the node has no genesis block");
  const contracts = Object.fromEntries(Object.entries(verity.addresses).map(([k, v]) => [k, v.toLowerCase()]));
  return { chainId: network.chainId.toString(), genesisHash: genesis.hash, contracts };
}

/** Stops (a `FatalDaemonError`) when a contract of the deployment has no code: the deployment is gone. */
async function assertDeployed(verity: Verity): Promise<void> {
  const entries = Object.entries(verity.addresses);
  const codes = await Promise.all(entries.map(([, address]) => verity.provider.getCode(address)));
  const missing = entries.filter((_, i) => codes[i] === "0x").map(([name, address]) => `${name} ${address}`);
  if (missing.length > 0)
    throw new FatalDaemonError(
      `no contract code at ${missing.join(", ")}: the deployment is gone (node restarted or another chain); ` +
        "stopping (run `verity deploy`, or pass --deployment <folder> of a deployment on this node)",
    );
}

function compareIdentity(stored: ChainIdentity, now: ChainIdentity): string[] {
  const differences: string[] = [];
  if (stored.chainId !== now.chainId) differences.push(`chain id ${stored.chainId} recorded, ${now.chainId} now`);
  if (stored.genesisHash !== now.genesisHash)
    differences.push(`genesis block ${stored.genesisHash} recorded, ${now.genesisHash} now`);
  for (const name of new Set([...Object.keys(stored.contracts ?? {}), ...Object.keys(now.contracts)])) {
    const [was, is] = [stored.contracts?.[name], now.contracts[name]];
    if (was !== is) differences.push(`${name} ${was ?? "none"} recorded, ${is ?? "none"} now`);
  }
  return differences;
}

function ensureFolder(dir: string): void {
  const notFolder = () => new FatalDaemonError(`the data folder ${dir} is not a folder (a file has that name)`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw notFolder();
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") throw notFolder();
    throw error;
  }
}

/** The lock's content: who holds it. */
interface LockHolder {
  pid: number;
  host: string;
}

/** Takes the lock file, atomically; a lock left by a dead process (or by this one) is taken over. */
function acquireLock(file: string): string {
  const me: LockHolder = { pid: process.pid, host: os.hostname() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createWith(file, JSON.stringify(me))) {
      held.set(file, 1);
      return file;
    }
    const raw = readIfExists(file);
    if (raw === undefined) continue;
    const holder = parseHolder(raw);
    if (holder !== undefined && holder.host === me.host && holder.pid === me.pid) {
      held.set(file, (held.get(file) ?? 0) + 1);
      return file;
    }
    if (holder !== undefined && (holder.host !== me.host || alive(holder.pid)))
      throw new FatalDaemonError(
        `${path.dirname(file)} is in use by process ${holder.pid} on ${holder.host}: stop it first ` +
          `(or, if no daemon runs there, remove ${file})`,
      );
    // Stale: its process is gone. Remove it unless another starter replaced it meanwhile, and retry.
    if (readIfExists(file) === raw) unlinkSync(file);
  }
  throw new FatalDaemonError(`could not lock ${file}: another daemon is starting in the same folder`);
}

/** Creates `file` holding `content`, atomically (a hard link of a complete temporary file); false if it exists. */
function createWith(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  } finally {
    unlinkSync(tmp);
  }
}

function releaseLock(file: string): void {
  const count = held.get(file) ?? 0;
  if (count > 1) held.set(file, count - 1);
  else if (count === 1) {
    held.delete(file);
    removeOwnLock(file);
  }
}

function removeOwnLock(file: string): void {
  const holder = parseHolder(readIfExists(file) ?? "");
  if (holder?.pid === process.pid && holder.host === os.hostname()) unlinkSync(file);
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(raw) as LockHolder;
    return Number.isSafeInteger(holder.pid) && typeof holder.host === "string" ? holder : undefined;
  } catch {
    return undefined; // not a lock this module wrote: treated as stale
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Moves everything in `dir` but the lock and earlier resets into `dir/reset-<time>/`; returns it (if anything moved). */
function moveAside(dir: string): string | undefined {
  const entries = readdirSync(dir).filter((name) => name !== LOCK && !name.startsWith("reset-"));
  if (entries.length === 0) return undefined;
  const aside = path.join(dir, `reset-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(aside);
  for (const name of entries) renameSync(path.join(dir, name), path.join(aside, name));
  return aside;
}

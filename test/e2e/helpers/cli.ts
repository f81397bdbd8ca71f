/**
 * Runs the `verity` CLI (bin/verity.js) as child processes: one-shot commands and the long-running
 * watchtower. Until bin/verity.js exists, the same commands fall back to stand-ins (`hardhat ignition
 * deploy` for `deploy`, test/e2e/helpers/watch-runner.ts for `watch`) so the suite can be developed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { HARDHAT_CLI, killTree, trackChild, waitForExit } from "./node.js";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, "../../..");

/** The CLI's entry point. */
export const VERITY_BIN = path.join(ROOT, "bin/verity.js");
const TSX_CLI = path.join(path.dirname(require.resolve("tsx/package.json")), "dist/cli.mjs");
const WATCH_RUNNER = path.join(ROOT, "test/e2e/helpers/watch-runner.ts");

/** Whether the real CLI is present. */
export function cliAvailable(): boolean {
  return existsSync(VERITY_BIN);
}

/** Global flags of every CLI command. */
export interface GlobalFlags {
  rpc: string;
  deployment?: string;
  account?: number;
}

function globalArgs(flags: GlobalFlags): string[] {
  return [
    "--rpc",
    flags.rpc,
    ...(flags.deployment === undefined ? [] : ["--deployment", flags.deployment]),
    ...(flags.account === undefined ? [] : ["--account", String(flags.account)]),
  ];
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, CI: "true", HARDHAT_DISABLE_TELEMETRY: "true" });

/** A finished command. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` with the current Node binary and waits for it, bounded by `timeoutMs` (then SIGKILL). */
export async function runNode(argv: string[], timeoutMs: number, env = childEnv()): Promise<CommandResult> {
  const child = trackChild(
    spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true }),
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  if (!(await waitForExit(child, timeoutMs))) {
    killTree(child, "SIGKILL");
    await waitForExit(child, 5_000);
    throw new Error(`node ${argv.join(" ")} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`);
  }
  return { code: child.exitCode, stdout, stderr };
}

/** Runs one CLI command; throws with its output unless it exits 0. */
export async function verity(flags: GlobalFlags, command: string[], timeoutMs = 60_000): Promise<CommandResult> {
  const result = await runNode([VERITY_BIN, ...globalArgs(flags), ...command], timeoutMs);
  if (result.code !== 0)
    throw new Error(`verity ${command.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/**
 * Deploys the local protocol (VerityLocal) to the node at `rpc` as Ignition deployment `deploymentId`;
 * returns the deployment folder (holding deployed_addresses.json).
 */
export async function deployWithCli(rpc: string, deploymentId: string, timeoutMs = 150_000): Promise<string> {
  const folder = path.join(ROOT, "ignition/deployments", deploymentId);
  if (cliAvailable()) {
    await verity({ rpc }, ["deploy", "--deployment-id", deploymentId], timeoutMs);
  } else {
    const args = [HARDHAT_CLI, "ignition", "deploy", "ignition/modules/VerityLocal.ts", "--network", "verity"];
    const result = await runNode([...args, "--deployment-id", deploymentId, "--build-profile", "default"], timeoutMs, {
      ...childEnv(),
      VERITY_RPC_URL: rpc,
    });
    if (result.code !== 0) throw new Error(`ignition deploy exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  if (!existsSync(path.join(folder, "deployed_addresses.json")))
    throw new Error(`deploy wrote no ${folder}/deployed_addresses.json`);
  return folder;
}

/** Options of the `watch` command. */
export interface WatchOptions {
  model: string;
  dataDir: string;
  intervalMs?: number;
  fromBlock?: number;
  maxRange?: number;
  /** More `watch` options, verbatim (e.g. `--allow-private-fetch`). */
  extraArgs?: string[];
}

/** Options of the `provide` command. */
export interface ProvideOptions {
  model: string;
  traceDir: string;
  dataDir: string;
  intervalMs?: number;
  fromBlock?: number;
  maxRange?: number;
}

/** A running daemon process with its stderr split into lines. */
export interface DaemonProcess {
  child: ChildProcess;
  /** Whether it runs the real CLI (false: the stand-in runner). */
  viaCli: boolean;
  /** Lines it wrote to stderr so far. */
  lines(): string[];
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** Waits until some line matches, at most `timeoutMs`; throws otherwise (or when the process exits). */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Sends a signal and waits (bounded) for the exit; SIGKILL if a SIGTERM is not enough. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Spawns `verity watch` (or the stand-in while bin/verity.js is missing) as a separate process. */
export function spawnWatchtower(flags: GlobalFlags, options: WatchOptions): DaemonProcess {
  const watchArgs = [
    "watch",
    "--model",
    options.model,
    "--data-dir",
    options.dataDir,
    ...(options.intervalMs === undefined ? [] : ["--interval", String(options.intervalMs)]),
    ...(options.fromBlock === undefined ? [] : ["--from-block", String(options.fromBlock)]),
    ...(options.maxRange === undefined ? [] : ["--max-range", String(options.maxRange)]),
    ...(options.extraArgs ?? []),
  ];
  const viaCli = cliAvailable();
  const entry = viaCli ? [VERITY_BIN] : [TSX_CLI, WATCH_RUNNER];
  return spawnDaemon([...entry, ...globalArgs(flags), ...watchArgs], viaCli);
}

/** Spawns `verity provide` (the provider daemon) as a separate process; needs bin/verity.js. */
export function spawnProvider(flags: GlobalFlags, options: ProvideOptions): DaemonProcess {
  if (!cliAvailable()) throw new Error("bin/verity.js is missing: `verity provide` has no stand-in");
  const provideArgs = [
    "provide",
    "--model",
    options.model,
    "--trace-dir",
    options.traceDir,
    "--data-dir",
    options.dataDir,
    ...(options.intervalMs === undefined ? [] : ["--interval", String(options.intervalMs)]),
    ...(options.fromBlock === undefined ? [] : ["--from-block", String(options.fromBlock)]),
    ...(options.maxRange === undefined ? [] : ["--max-range", String(options.maxRange)]),
  ];
  return spawnDaemon([VERITY_BIN, ...globalArgs(flags), ...provideArgs], true);
}

/** Runs `verity <command>` and returns its result whatever its exit code (for refusals). */
export async function verityRaw(flags: GlobalFlags, command: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runNode([VERITY_BIN, ...globalArgs(flags), ...command], timeoutMs);
}

function spawnDaemon(argv: string[], viaCli: boolean): DaemonProcess {
  const child = trackChild(
    spawn(process.execPath, argv, { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true }),
  );
  let all = "";
  let pending = "";
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  child.stdout?.on("data", (c: Buffer) => (all += c.toString()));
  child.stderr?.on("data", (c: Buffer) => {
    const text = c.toString();
    all += text;
    pending += text;
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    lines.push(...parts.filter((l) => l.length > 0));
    wake();
  });
  child.once("exit", wake);

  const waitForLine = (pattern: RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find((l) => pattern.test(l));
        if (hit !== undefined) return done(() => resolve(hit));
        if (child.exitCode !== null || child.signalCode !== null) {
          return done(() =>
            reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${all}`)),
          );
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no line matching ${pattern} in ${timeoutMs} ms:\n${all}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000) => {
    killTree(child, signal);
    if (!(await waitForExit(child, timeoutMs))) {
      killTree(child, "SIGKILL");
      await waitForExit(child, 5_000);
    }
  };
  return { child, viaCli, lines: () => [...lines], output: () => all, waitForLine, stop };
}

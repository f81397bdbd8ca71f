import { statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { FatalDaemonError, recheckOpenFolders } from "../daemons/datadir.js";
import { sleep } from "../daemons/retry.js";
import { FETCH_DEFAULTS, type FetchOptions } from "../sdk/fetch.js";
import { parseIndex } from "./context.js";
import type { MeaningContext } from "../sdk/errors.js";
import { CliError, describeError } from "./errors.js";

/** How a daemon command loops. */
export interface LoopOptions {
  /** Token decimals and symbol and the chain's time, so failed ticks read in user units. */
  meaning?: MeaningContext;
  /** Milliseconds between ticks. */
  intervalMs: number;
  /** Run one tick and return (a failing tick then fails the command). */
  once: boolean;
  /** Logs one line (already silenced by `--quiet`). */
  log: (message: string) => void;
}

/**
 * Runs `tick` every `intervalMs` until SIGINT or SIGTERM, which let the current tick finish (a second
 * signal exits at once). A failed tick is logged and retried at the next interval; with `once`, or when
 * it is a `FatalDaemonError` or the deployment of a daemon this process runs is gone (checked on every
 * failure, wherever in the tick it happened: see `DataDir.recheck`), it fails the command instead.
 */
export async function runLoop(options: LoopOptions, tick: () => Promise<void>): Promise<void> {
  const checkedTick = async () => {
    try {
      await tick();
    } catch (error) {
      if (!(error instanceof FatalDaemonError)) await recheckOpenFolders();
      throw error;
    }
  };
  if (options.once) {
    await checkedTick();
    return;
  }
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    options.log(`${signal}: stopping after the current tick`);
    controller.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    while (!controller.signal.aborted) {
      try {
        await checkedTick();
      } catch (error) {
        if (error instanceof FatalDaemonError) throw error;
        options.log(`tick failed: ${describeError(error, options.meaning)}`);
      }
      await sleep(options.intervalMs, controller.signal);
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/** The options every daemon command (`watch`, `provide`) takes. */
export interface DaemonCliOptions {
  dataDir?: string;
  interval: string;
  once: boolean;
  fromBlock: string;
  maxRange: string;
  claim: boolean;
  resetState: boolean;
  allowPrivateFetch: boolean;
  ipfsGateway?: string;
  fetchMaxBytes: string;
  fetchTimeout: string;
  fetchSchemes: string;
}

/** Declares the daemon options on `command`; `dataDirDefault` describes where state goes by default. */
export function withDaemonOptions(command: Command, dataDirDefault: string): Command {
  return command
    .option("--data-dir <dir>", `state folder, created when missing (default ${dataDirDefault})`)
    .option("--interval <ms>", "milliseconds between ticks", "5000")
    .option("--once", "run one tick and exit", false)
    .option("--from-block <n>", "first block to scan when there is no state yet", "0")
    .option("--max-range <n>", "blocks per eth_getLogs", "2000")
    .option("--no-claim", "do not claim credits automatically")
    .option("--reset-state", "move the state folder's contents aside (into reset-<time>/) and start over", false)
    .option(
      "--ipfs-gateway <url>",
      "HTTP(S) gateway serving ipfs://CID/path as <url>/CID/path (default: none, no ipfs://)",
    )
    .option("--fetch-max-bytes <n>", "largest batch data file read", String(FETCH_DEFAULTS.maxBytes))
    .option("--fetch-timeout <ms>", "time limit of one batch data read", String(FETCH_DEFAULTS.timeoutMs))
    .option("--fetch-schemes <list>", "URI schemes batch data may be read from", FETCH_DEFAULTS.schemes.join(","))
    .option("--allow-private-fetch", "let batch data URIs reach private, loopback and link-local addresses", false);
}

/**
 * The daemon's state folder: `--data-dir` when given, else `fallback`, resolved against the working
 * directory. A path that is (or runs through) a file is one clear line here, not the "EEXIST" or
 * "ENOTDIR" of creating it later; a missing folder is created by the daemon.
 */
export function resolveDataDir(dataDir: string | undefined, fallback: string): string {
  const resolved = path.resolve(dataDir ?? fallback);
  const what = dataDir === undefined ? `the default state folder ${fallback}` : `--data-dir ${dataDir}`;
  for (let p = resolved; ; p = path.dirname(p)) {
    const stat = statSync(p, { throwIfNoEntry: false });
    if (stat !== undefined) {
      if (stat.isDirectory()) return resolved;
      throw new CliError(
        p === resolved
          ? `${what} is a file, not a folder: give a folder (created when missing)`
          : `${what}: ${path.relative(process.cwd(), p) || p} is a file, not a folder`,
      );
    }
    if (path.dirname(p) === p) return resolved;
  }
}

/** Parses the daemon options (one clear error line for a bad value). */
export function parseDaemonOptions(options: DaemonCliOptions) {
  return {
    intervalMs: parseIndex(options.interval, "--interval"),
    fromBlock: parseIndex(options.fromBlock, "--from-block"),
    maxRange: Math.max(1, parseIndex(options.maxRange, "--max-range")),
    resetState: options.resetState,
    fetch: parseFetchOptions(options),
  };
}

function parseFetchOptions(options: DaemonCliOptions): FetchOptions {
  const schemes = options.fetchSchemes
    .split(",")
    .map((s) =>
      s
        .trim()
        .toLowerCase()
        .replace(/:(\/\/)?$/, ""),
    )
    .filter(Boolean);
  const unknown = schemes.filter((s) => !(FETCH_DEFAULTS.schemes as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new CliError(
      `--fetch-schemes: unknown scheme ${unknown.join(", ")} (known: ${FETCH_DEFAULTS.schemes.join(", ")})`,
    );
  const gateway = options.ipfsGateway;
  if (gateway !== undefined && !/^https?:\/\/[^/]/.test(gateway))
    throw new CliError(`--ipfs-gateway: "${gateway}" is not an http(s) URL`);
  return {
    schemes,
    ipfsGateway: gateway,
    maxBytes: Math.max(1, parseIndex(options.fetchMaxBytes, "--fetch-max-bytes")),
    timeoutMs: Math.max(1, parseIndex(options.fetchTimeout, "--fetch-timeout")),
    allowPrivate: options.allowPrivateFetch,
  };
}

import type { Command } from "commander";
import { sleep } from "../daemons/retry.js";
import { parseIndex } from "./context.js";
import { describeError } from "./errors.js";

/** How a daemon command loops. */
export interface LoopOptions {
  /** Milliseconds between ticks. */
  intervalMs: number;
  /** Run one tick and return (a failing tick then fails the command). */
  once: boolean;
  /** Logs one line (already silenced by `--quiet`). */
  log: (message: string) => void;
}

/**
 * Runs `tick` every `intervalMs` until SIGINT or SIGTERM, which let the current tick finish (a second
 * signal exits at once). A failed tick is logged and retried at the next interval; with `once`, it fails
 * the command instead.
 */
export async function runLoop(options: LoopOptions, tick: () => Promise<void>): Promise<void> {
  if (options.once) {
    await tick();
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
        await tick();
      } catch (error) {
        options.log(`tick failed: ${describeError(error)}`);
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
}

/** Declares the daemon options on `command`; `dataDirDefault` describes where state goes by default. */
export function withDaemonOptions(command: Command, dataDirDefault: string): Command {
  return command
    .option("--data-dir <dir>", `state folder (default ${dataDirDefault})`)
    .option("--interval <ms>", "milliseconds between ticks", "5000")
    .option("--once", "run one tick and exit", false)
    .option("--from-block <n>", "first block to scan when there is no state yet", "0")
    .option("--max-range <n>", "blocks per eth_getLogs", "2000")
    .option("--no-claim", "do not claim credits automatically");
}

/** Parses the daemon options (one clear error line for a bad number). */
export function parseDaemonOptions(options: DaemonCliOptions) {
  return {
    intervalMs: parseIndex(options.interval, "--interval"),
    fromBlock: parseIndex(options.fromBlock, "--from-block"),
    maxRange: Math.max(1, parseIndex(options.maxRange, "--max-range")),
  };
}

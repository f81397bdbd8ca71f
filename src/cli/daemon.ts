import { sleep } from "../daemons/retry.js";
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

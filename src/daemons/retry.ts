import { VerityRevertError } from "../sdk/errors.js";

/** Backoff policy for RPC calls. */
export interface RetryOptions {
  /** Attempts in all (default 6). */
  attempts?: number;
  /** First delay in ms, doubled on every retry (default 250). */
  baseDelayMs?: number;
  /** Called before each retry. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn`, retrying with exponential backoff on anything but a decoded contract revert (a revert is
 * an answer, not a fault: retrying it would only repeat it).
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  let delay = options.baseDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof VerityRevertError || attempt >= attempts) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
      delay *= 2;
    }
  }
}

/** Resolves after `ms` milliseconds (or at once when `signal` aborts); leaves no listener on `signal`. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** `withRetry` that logs every retry through `log`: what the daemons wrap each RPC call in. */
export function retryingWith(log: (message: string) => void, options: RetryOptions = {}) {
  return <T>(fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, {
      ...options,
      onRetry: (error, attempt, delay) =>
        log(`rpc error (attempt ${attempt}, retrying in ${delay} ms): ${(error as Error).message}`),
    });
}

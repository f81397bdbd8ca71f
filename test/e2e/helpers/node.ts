/**
 * A real `hardhat node` as a child process on a free loopback port, for end-to-end tests and the load
 * bench. Every node started here is killed when its `stop()` runs, and in any case when this process exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";

const require = createRequire(import.meta.url);

/** Absolute path of Hardhat's CLI entry point (run with the current Node binary). */
export const HARDHAT_CLI = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist/src/cli.js");

/** A running node. */
export interface LocalNode {
  /** `http://127.0.0.1:<port>` (the same port also serves WebSocket). */
  url: string;
  port: number;
  /** The child process. */
  child: ChildProcess;
  /** Everything the node printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Kills the node and waits (bounded) for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every child registered here; installed once as a process 'exit' handler (synchronous kill only). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) killTree(child, "SIGKILL");
  });
}

/** Registers a child so that it dies with this process; returns the child. */
export function trackChild<T extends ChildProcess>(child: T): T {
  installExitHook();
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Sends `signal` to the child's process group when it has one (detached), else to the child itself. */
export function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Waits until the child has exited, at most `timeoutMs`; resolves to whether it did. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A free TCP port on 127.0.0.1: listen on port 0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port assigned"));
      server.close(() => resolve(address.port));
    });
  });
}

/** One JSON-RPC call over HTTP (no ethers, so that a dead node costs one failed fetch). */
export async function rpcCall(
  url: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 2_000,
): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** Options of `startNode`. */
export interface StartNodeOptions {
  /** How long to wait for the node to answer eth_chainId (default 60 s). */
  readyTimeoutMs?: number;
  /** Working directory (default: the current one, which must hold hardhat.config.ts). */
  cwd?: string;
}

/**
 * Starts `hardhat node --hostname 127.0.0.1 --port <free port>` and waits, bounded, until it answers
 * eth_chainId. Retries once on another port if the first was taken in between.
 */
export async function startNode(options: StartNodeOptions = {}): Promise<LocalNode> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startNodeOnce(await freePort(), options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startNodeOnce(port: number, options: StartNodeOptions): Promise<LocalNode> {
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child = trackChild(
    spawn(process.execPath, [HARDHAT_CLI, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, CI: "true", HARDHAT_DISABLE_TELEMETRY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    }),
  );
  const keep = (chunk: Buffer) => {
    // The node logs every request; keep only the tail for diagnostics.
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  const stop = async () => {
    killTree(child, "SIGTERM");
    if (!(await waitForExit(child, 5_000))) {
      killTree(child, "SIGKILL");
      await waitForExit(child, 5_000);
    }
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`hardhat node exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`);
    }
    try {
      await rpcCall(url, "eth_chainId", [], 1_000);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`hardhat node on ${url} did not answer eth_chainId in time:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, port, child, output: () => output, stop };
}

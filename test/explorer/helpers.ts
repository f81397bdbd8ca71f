/**
 * Running the explorer as `npm run explorer` runs it (tsx explorer/serve.ts, a child process) and finding
 * the Chromium the browser test drives (Debian's /usr/bin/chromium, through playwright-core).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { killTree, trackChild, waitForExit } from "../e2e/helpers/node.js";

/** The repository root. */
export const ROOT = path.resolve(import.meta.dirname, "../..");

/** Where the browser test leaves its screenshots (git-ignored). */
export const OUTPUT_DIR = path.join(ROOT, "test-output", "explorer");

const SERVE = path.join(ROOT, "explorer", "serve.ts");

/** The Chromium to drive: `CHROMIUM_PATH` when set, else Debian's package; undefined when it is not installed. */
export function chromiumPath(): string | undefined {
  const explicit = process.env.CHROMIUM_PATH;
  const candidates = explicit ? [explicit] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((c) => existsSync(c));
}

/**
 * Headless, no sandbox (the test may run as root in a container), and nothing that reaches the network
 * on its own: no background networking, component updates, sync, default apps, first-run tasks.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-domain-reliability",
  "--disable-client-side-phishing-detection",
  "--disable-breakpad",
  "--metrics-recording-only",
  "--safebrowsing-disable-auto-update",
  "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
];

/** A finished run of the explorer command. */
export interface ExplorerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `npm run explorer`. */
export interface ExplorerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then (bounded) SIGKILL; resolves to the exit code of a clean stop. */
  stop(): Promise<number | null>;
}

function spawnServe(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = trackChild(
    // tsx as a loader in one process (what `tsx explorer/serve.ts` runs, minus its signal-relaying parent),
    // so that a SIGTERM reaches the server itself and the test can check it stops cleanly.
    spawn(process.execPath, ["--import", "tsx", SERVE, ...args], {
      cwd: ROOT,
      env: { ...process.env, VERITY_RPC_URL: "", VERITY_RPC: "", VERITY_DEPLOYMENT: "" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    }),
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  return { child, out: () => stdout, err: () => stderr };
}

/** Runs the explorer command to its end (for the refusals: it exits at once), bounded. */
export async function runExplorer(args: string[], timeoutMs = 30_000): Promise<ExplorerRun> {
  const { child, out, err } = spawnServe(args);
  if (!(await waitForExit(child, timeoutMs))) {
    killTree(child, "SIGKILL");
    await waitForExit(child, 5_000);
    throw new Error(`explorer ${args.join(" ")} did not exit in ${timeoutMs} ms\n${out()}\n${err()}`);
  }
  return { code: child.exitCode, stdout: out(), stderr: err() };
}

/** Starts the explorer command and waits (bounded) for the URL it prints. */
export async function startExplorer(args: string[], timeoutMs = 30_000): Promise<ExplorerProcess> {
  const { child, out, err } = spawnServe(args);
  const output = () => `${out()}\n${err()}`;
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (url === undefined) {
    url = /Verity explorer on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out())?.[1];
    if (url !== undefined) break;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the explorer exited:\n${output()}`);
    if (Date.now() > deadline) {
      killTree(child, "SIGKILL");
      throw new Error(`the explorer printed no URL in ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    output,
    stop: async () => {
      killTree(child, "SIGTERM");
      if (!(await waitForExit(child, 10_000))) {
        killTree(child, "SIGKILL");
        await waitForExit(child, 5_000);
        return null;
      }
      return child.exitCode;
    },
  };
}

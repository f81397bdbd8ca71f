/**
 * `hardhat build` that a new user can follow: the first build (solc's wasm build with viaIR compiles
 * every contract) takes minutes, so it says so before it starts, shows that it is still going when no
 * terminal shows Hardhat's spinner, and says how long it took. Hardhat's cache decides what to compile:
 * an up-to-date build is Hardhat's own "No contracts to compile", in seconds.
 *
 * Usage: tsx scripts/build-progress.ts [hardhat build options, e.g. --no-tests]
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * A cold `hardhat build --no-tests` on the 2-core development machine: 1 min 46 s of CPU, 4 min 17 s of
 * wall time while the machine was busy (load 7); Hardhat runs one solc job at a time on 2 cores.
 */
const COLD_BUILD = "2 to 5 min on 2 cores";

/** Builds slower than this get a closing "built in" line. */
const REPORT_AFTER_MS = 10_000;

/** While no terminal shows Hardhat's spinner, one line this often. */
const HEARTBEAT_MS = 60_000;

/** Whether nothing was built yet (no build info in artifacts/), i.e. this build compiles everything. */
function isFirstBuild(): boolean {
  const dir = path.join(ROOT, "artifacts", "build-info");
  return !existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith(".json"));
}

/** "4 min 52 s", "12.3 s". */
function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function hardhatCli(): string {
  const require = createRequire(path.join(ROOT, "package.json"));
  const manifest = require.resolve("hardhat/package.json");
  const bin = (JSON.parse(readFileSync(manifest, "utf8")) as { bin: Record<string, string> }).bin.hardhat;
  return path.join(path.dirname(manifest), bin);
}

function main(): void {
  const args = process.argv.slice(2);
  const first = isFirstBuild();
  if (first) {
    process.stderr.write(
      `compiling the contracts: the first build takes ${COLD_BUILD}; later builds recompile only what changed\n`,
    );
  }
  const started = Date.now();
  const child = spawn(process.execPath, [hardhatCli(), "build", ...args], { cwd: ROOT, stdio: "inherit" });
  const heartbeat = process.stdout.isTTY
    ? undefined
    : setInterval(
        () => process.stderr.write(`still compiling (${formatElapsed(Date.now() - started)})\n`),
        HEARTBEAT_MS,
      );
  child.on("error", (error) => {
    process.stderr.write(`error: cannot run hardhat build: ${error.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    if (signal !== null) {
      process.kill(process.pid, signal);
      return;
    }
    const elapsed = Date.now() - started;
    if (code === 0 && (first || elapsed >= REPORT_AFTER_MS)) {
      process.stderr.write(`contracts built in ${formatElapsed(elapsed)}\n`);
    }
    process.exit(code ?? 1);
  });
}

main();

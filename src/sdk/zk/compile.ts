import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ZkToolchainError } from "./errors.js";

const require = createRequire(import.meta.url);
const run = promisify(execFile);

/** A compiled circuit: its constraint system and witness generator. */
export interface CompiledCircuit {
  /** The `.r1cs` file's bytes. */
  r1cs: Uint8Array;
  /** The witness generator (`.wasm`) bytes. */
  wasm: Uint8Array;
  /** The `.sym` file's text (signal names to witness indices). */
  sym: string;
  /** Non-linear plus linear constraints circom reports after optimization. */
  constraints: number;
}

/** Options of {@link compileCircuit}. */
export interface CompileOptions {
  /** circom's optimization level: 1 (`--O1`, the default) or 2 (`--O2`). `--O2` substitutes every linear constraint away (about 20% fewer constraints) but did not finish within 13 minutes on the shipped MNIST model (a 784-wide layer), where `--O1` takes 40 s; the circuit of a model must be reproducible by anyone, so one level is used for all. */
  optimize?: 1 | 2;
}

/**
 * Compiles circom source with the npm `circom2` (circom compiled to WebAssembly, run as a child process).
 *
 * circom2 can only open files below its working directory, so the compile runs in a temporary directory
 * holding the source and a copy of circomlib's circuits, which the source includes (relative to itself) as
 * `circomlib/circuits/...`.
 *
 * @param source - circom source (from `generateCircuit`).
 * @param options - Optimization level.
 * @returns The r1cs, wasm and sym outputs.
 * @throws ZkToolchainError when circom fails (its stderr is the detail).
 */
export async function compileCircuit(source: string, options: CompileOptions = {}): Promise<CompiledCircuit> {
  const dir = await mkdtemp(path.join(tmpdir(), "verity-zk-"));
  try {
    const circomlib = path.dirname(require.resolve("circomlib/package.json"));
    // a copy, not a link: the WASI sandbox does not follow symbolic links
    await cp(path.join(circomlib, "circuits"), path.join(dir, "circomlib", "circuits"), { recursive: true });
    await writeFile(path.join(dir, "model.circom"), source);
    const cli = require.resolve("circom2/cli.js");
    const args = [cli, "model.circom", "--r1cs", "--wasm", "--sym", `--O${options.optimize ?? 1}`, "-o", "."];
    let stdout: string;
    try {
      ({ stdout } = await run(process.execPath, args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 }));
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string; message: string };
      throw new ZkToolchainError("circom", lastLines(err.stderr || err.stdout || err.message));
    }
    const nl = /non-linear constraints: (\d+)/.exec(stdout);
    const l = /(?<!non-)linear constraints: (\d+)/.exec(stdout);
    return {
      r1cs: await readFile(path.join(dir, "model.r1cs")),
      wasm: await readFile(path.join(dir, "model_js", "model.wasm")),
      sym: await readFile(path.join(dir, "model.sym"), "utf8"),
      constraints: Number(nl?.[1] ?? 0) + Number(l?.[1] ?? 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ");
}

import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { AbiCoder, keccak256 } from "ethers";
import type { DenseInt8Model } from "../../engine/index.js";
import {
  ZkError,
  beaconZkey,
  compileCircuit,
  compileVerifier,
  contributeZkey,
  exportVerifierSource,
  generateCircuit,
  insecureTestPowersOfTau,
  newZkey,
  proveInference,
  releaseZkWorkers,
  verificationKey,
  verifyProof,
  verifyZkey,
  type CompiledCircuit,
} from "../../sdk/zk/index.js";
import { CliContext, existingPath, toJson } from "../context.js";
import { CliError } from "../errors.js";
import { loadModel, readInputFile } from "../inputs.js";
import { parseAddress } from "../parse.js";

/** Runs a ZK step: ZK-path errors become one CLI line, and snarkjs' worker threads are always released. */
async function zkStep<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ZkError) throw new CliError(error.message);
    throw error;
  } finally {
    await releaseZkWorkers();
  }
}

async function readBytes(file: string, what: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(existingPath(file, what)));
}

/** The model's compiled circuit: from `--circuit <dir>` (written by `verity zk circuit`) or compiled now. */
async function circuitOf(ctx: CliContext, model: DenseInt8Model, dir?: string): Promise<CompiledCircuit> {
  if (dir !== undefined) {
    const generated = generateCircuit(model);
    const source = await readFile(path.join(existingPath(dir, "circuit directory"), "model.circom"), "utf8");
    // a circuit directory of another model (or of another generator version) would prove nothing useful
    if (source !== generated.source) throw new CliError(`${dir}/model.circom is not this model's circuit`);
    return {
      r1cs: await readBytes(path.join(dir, "model.r1cs"), "r1cs file"),
      wasm: await readBytes(path.join(dir, "model.wasm"), "witness generator"),
      sym: await readFile(path.join(dir, "model.sym"), "utf8"),
      constraints: 0,
    };
  }
  ctx.log("compiling the model's circuit (circom2; the shipped MNIST model takes about a minute)...");
  return compileCircuit(generateCircuit(model).source);
}

function entropyFrom(env?: string): string {
  if (env === undefined) return randomBytes(64).toString("hex");
  const value = process.env[env];
  if (value === undefined || value === "") throw new CliError(`environment variable ${env} is not set`);
  return value;
}

/** Registers `verity prove` and `verity zk circuit|export|insecure-ptau|ceremony ...`. */
export function registerZk(program: Command): void {
  program
    .command("prove")
    .description("prove one inference with the model's Groth16 circuit (the ZK settlement path)")
    .argument("<model-file>", "model JSON file")
    .argument("<input-file>", "input: JSON array of int8 values or hex")
    .requiredOption("--zkey <file>", "the circuit's final .zkey (after the ceremony and its beacon)")
    .option("--prover <address>", "the address that will send commitVerified (default: the selected signer)")
    .option("--circuit <dir>", "the circuit directory written by `verity zk circuit` (else compiled now)")
    .option("--out <file>", "write the proof JSON here instead of stdout")
    .addHelpText(
      "after",
      `
Examples:
  $ verity prove model.json input.json --zkey model_final.zkey --prover 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  $ verity prove models/mnist-784-128-64-10.json digit.json --zkey mnist_final.zkey --circuit build/mnist-zk --out proof.json`,
    )
    .action(
      async (
        modelFile: string,
        inputFile: string,
        options: { zkey: string; prover?: string; circuit?: string; out?: string },
        command: Command,
      ) => {
        const ctx = CliContext.of(command);
        const model = await loadModel(modelFile);
        const input = readInputFile(inputFile, model);
        const prover = options.prover !== undefined ? parseAddress(options.prover, "--prover") : await ctx.address();
        const zkey = await readBytes(options.zkey, "zkey file");
        const result = await zkStep(async () => {
          const circuit = await circuitOf(ctx, model, options.circuit);
          const started = Date.now();
          const zk = await proveInference(model, circuit, zkey, new Uint8Array(input.buffer), prover);
          if (!(await verifyProof(await verificationKey(zkey), zk))) {
            throw new CliError("the proof does not verify against the zkey's own verifying key");
          }
          return { zk, seconds: (Date.now() - started) / 1000 };
        });
        const { zk } = result;
        const inputHash = keccak256(zk.input);
        const record = {
          prover: zk.prover,
          input: `0x${Buffer.from(zk.input).toString("hex")}`,
          output: `0x${Buffer.from(zk.output).toString("hex")}`,
          inputHash,
          outputHash: keccak256(zk.output),
          inputCommitment: keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [inputHash, zk.prover])),
          proof: zk.proofBytes,
          publicSignals: zk.publicSignals,
          proveSeconds: result.seconds,
        };
        if (options.out !== undefined) await writeFile(options.out, `${toJson(record)}\n`);
        ctx.emit(record, [
          options.out !== undefined ? `proof written to ${options.out}` : toJson(record),
          ...(ctx.options.quiet ? [] : [`  output ${record.output}, proved in ${result.seconds.toFixed(1)} s`]),
        ]);
      },
    );

  const zk = program.command("zk").description("the ZK settlement path: circuits, Groth16 ceremony, verifiers");

  zk.command("circuit")
    .description("generate and compile a model's circuit (deterministic from the model file)")
    .argument("<model-file>", "model JSON file")
    .requiredOption("--out <dir>", "directory for model.circom, model.r1cs, model.wasm, model.sym")
    .action(async (modelFile: string, options: { out: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const model = await loadModel(modelFile);
      const { generated, compiled } = await zkStep(async () => {
        const g = generateCircuit(model);
        return { generated: g, compiled: await compileCircuit(g.source) };
      });
      await mkdir(options.out, { recursive: true });
      await writeFile(path.join(options.out, "model.circom"), generated.source);
      await writeFile(path.join(options.out, "model.r1cs"), compiled.r1cs);
      await writeFile(path.join(options.out, "model.wasm"), compiled.wasm);
      await writeFile(path.join(options.out, "model.sym"), compiled.sym);
      const value = {
        dir: options.out,
        contentHash: generated.contentHash,
        constraints: compiled.constraints,
        publicSignals: generated.publicSignals,
        inputLength: generated.inputLength,
        outputLength: generated.outputLength,
      };
      ctx.emit(value, [
        `${options.out}: ${compiled.constraints} constraints, ${generated.publicSignals} public signals`,
      ]);
    });

  zk.command("export")
    .description(
      "export and compile the Groth16 verifier of a final .zkey (an artifact for ignition/modules/ZkVerifier.ts)",
    )
    .argument("<zkey>", "the circuit's final .zkey")
    .requiredOption("--out <file>", "artifact JSON to write")
    .action(async (zkeyFile: string, options: { out: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const zkey = await readBytes(zkeyFile, "zkey file");
      const artifact = await zkStep(async () => compileVerifier(await exportVerifierSource(zkey)));
      await writeFile(options.out, `${JSON.stringify(artifact, null, 2)}\n`);
      ctx.emit({ artifact: options.out }, [`verifier artifact written to ${options.out}`]);
    });

  zk.command("insecure-ptau")
    .description("make an INSECURE phase-1 file from a public seed: tests and benchmarks only, never a ceremony")
    .argument("<power>", "power of two of the largest circuit (1..28)")
    .argument("<out>", "file to write")
    .action(async (powerText: string, out: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const power = Number(powerText);
      if (!Number.isInteger(power) || power < 1 || power > 28)
        throw new CliError("<power> must be an integer in 1..28");
      ctx.log("WARNING: this file's secrets are derived from a public seed; anyone can forge proofs with it.");
      await zkStep(() => insecureTestPowersOfTau(out, power));
      ctx.emit({ ptau: out, power, insecure: true }, [`${out}: INSECURE test powers of tau, power ${power}`]);
    });

  const ceremony = zk.command("ceremony").description("the circuit's multi-party phase 2 (snarkjs zkey)");

  ceremony
    .command("new")
    .description("the initial .zkey of a model's circuit from a phase-1 file (no contribution yet)")
    .argument("<model-file>", "model JSON file")
    .requiredOption("--ptau <file>", "phase-2-ready powers of tau (a public ceremony's file in production)")
    .requiredOption("--out <file>", ".zkey to write")
    .option("--circuit <dir>", "the circuit directory written by `verity zk circuit` (else compiled now)")
    .action(async (modelFile: string, options: { ptau: string; out: string; circuit?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const model = await loadModel(modelFile);
      const ptau = existingPath(options.ptau, "ptau file");
      const zkey = await zkStep(async () => newZkey((await circuitOf(ctx, model, options.circuit)).r1cs, ptau));
      await writeFile(options.out, zkey);
      ctx.emit({ zkey: options.out }, [`${options.out}: initial key; now contributions, then a beacon`]);
    });

  ceremony
    .command("contribute")
    .description("add one phase-2 contribution (then destroy your entropy)")
    .argument("<in>", "previous .zkey")
    .argument("<out>", ".zkey to write")
    .requiredOption("--name <name>", "your public name, recorded in the key")
    .option("--entropy-env <VAR>", "read extra entropy from this environment variable (default: 64 random bytes)")
    .action(async (inFile: string, out: string, options: { name: string; entropyEnv?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const zkey = await readBytes(inFile, "zkey file");
      const step = await zkStep(() => contributeZkey(zkey, options.name, entropyFrom(options.entropyEnv)));
      await writeFile(out, step.zkey);
      ctx.emit({ zkey: out, contributionHash: step.contributionHash }, [
        `${out}: contribution of ${options.name}, hash ${step.contributionHash}`,
      ]);
    });

  ceremony
    .command("beacon")
    .description("close the ceremony with a public random beacon (e.g. a future block hash)")
    .argument("<in>", "last contributed .zkey")
    .argument("<out>", "final .zkey to write")
    .requiredOption("--beacon <hex>", "the beacon value, 1 to 255 bytes of hex")
    .option("--iterations <exp>", "2^exp hash iterations (10..63)", "10")
    .option("--name <name>", "name recorded for the beacon", "final beacon")
    .action(
      async (
        inFile: string,
        out: string,
        options: { beacon: string; iterations: string; name: string },
        command: Command,
      ) => {
        const ctx = CliContext.of(command);
        const zkey = await readBytes(inFile, "zkey file");
        const step = await zkStep(() => beaconZkey(zkey, options.name, options.beacon, Number(options.iterations)));
        await writeFile(out, step.zkey);
        ctx.emit({ zkey: out, contributionHash: step.contributionHash }, [
          `${out}: final key (beacon), hash ${step.contributionHash}`,
        ]);
      },
    );

  ceremony
    .command("verify")
    .description("check a .zkey against the model's regenerated circuit and the phase-1 file, every contribution")
    .argument("<model-file>", "model JSON file")
    .argument("<zkey>", ".zkey to check")
    .requiredOption("--ptau <file>", "the phase-1 file the ceremony started from")
    .option("--circuit <dir>", "the circuit directory written by `verity zk circuit` (else compiled now)")
    .action(
      async (modelFile: string, zkeyFile: string, options: { ptau: string; circuit?: string }, command: Command) => {
        const ctx = CliContext.of(command);
        const model = await loadModel(modelFile);
        const zkey = await readBytes(zkeyFile, "zkey file");
        const ptau = existingPath(options.ptau, "ptau file");
        const result = await zkStep(async () =>
          verifyZkey((await circuitOf(ctx, model, options.circuit)).r1cs, ptau, zkey),
        );
        if (!result.ok) throw new CliError(`${zkeyFile} does not verify: ${result.log.slice(-1)[0] ?? "no detail"}`);
        ctx.emit(result, [
          `${zkeyFile}: valid setup of this model's circuit`,
          ...result.log.filter((l) => /hash|contribution|beacon/i.test(l)).map((l) => `  ${l}`),
        ]);
      },
    );
}

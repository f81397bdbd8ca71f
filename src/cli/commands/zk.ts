import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { AbiCoder, getAddress, getBytes, hexlify, isHexString, keccak256 } from "ethers";
import { run, vectorToHex, type DenseInt8Model } from "../../engine/index.js";
import { CommitmentStatus, type Verity } from "../../sdk/index.js";
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
import { loadModel, readInputFile, resolveModelId, type ModelIdOptions } from "../inputs.js";
import { parseAddress } from "../parse.js";

const coder = AbiCoder.defaultAbiCoder();

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

/**
 * One proven inference as `commitVerified` takes it: the inference's hashes (the trace root is the engine's,
 * as `verity commit` records it), the output bytes and the `proof` argument, with the input and prover the
 * proof is bound to.
 */
interface ProvenInference {
  input: string;
  prover: string;
  output: string;
  inputHash: string;
  outputHash: string;
  traceRoot: string;
  proof: string;
}

/** The inference of `input` under `model`, bound to `prover` by `proof`. */
function provenInference(model: DenseInt8Model, input: Uint8Array, prover: string, proof: string): ProvenInference {
  const result = run(model, new Int8Array(input.buffer, input.byteOffset, input.length));
  return {
    input: hexlify(input),
    prover: getAddress(prover),
    output: vectorToHex(result.output),
    inputHash: result.inputHash,
    outputHash: result.outputHash,
    traceRoot: result.traceRoot,
    proof,
  };
}

/**
 * Reads a proof file written by `verity prove --out`. Nothing in it is trusted: the input and prover come
 * from the proof bytes, the output and hashes are recomputed with the engine, and any field the file also
 * states must agree (a proof of another model or input would only revert on-chain).
 */
async function readProofFile(file: string, model: DenseInt8Model): Promise<ProvenInference> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(existingPath(file, "proof file"), "utf8"));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file} is not JSON (write it with \`verity prove --out\`)`);
  }
  const fields = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof fields.proof !== "string" || !isHexString(fields.proof)) {
    throw new CliError(`${file} has no "proof" hex string (write it with \`verity prove --out\`)`);
  }
  let input: Uint8Array;
  let prover: string;
  try {
    const [i, p] = coder.decode(["bytes", "address", "bytes"], fields.proof);
    input = getBytes(i as string);
    prover = p as string;
  } catch {
    throw new CliError(`${file}: "proof" is not abi.encode(bytes input, address prover, bytes systemProof)`);
  }
  const inDim = model.layers[0].spec.inDim;
  if (input.length !== inDim) {
    throw new CliError(`${file}: the proof's input is ${input.length} bytes, the model takes ${inDim}`);
  }
  const proven = provenInference(model, input, prover, fields.proof);
  for (const key of ["prover", "input", "output", "inputHash", "outputHash", "traceRoot"] as const) {
    const stated = fields[key];
    if (stated === undefined) continue;
    if (typeof stated !== "string" || stated.toLowerCase() !== proven[key].toLowerCase()) {
      throw new CliError(
        `${file}: "${key}" is not the ${key === "prover" || key === "input" ? "proof's" : "model's"} ${key} (${proven[key]}): a proof of another model or input?`,
      );
    }
  }
  return proven;
}

/** The proof is bound to its prover: the ledger checks it against the sender, so anyone else's send reverts. */
function checkProver(prover: string, signer: string): void {
  if (getAddress(prover) !== getAddress(signer)) {
    throw new CliError(
      `the proof is bound to ${getAddress(prover)} but the signer is ${getAddress(signer)}: commitVerified binds it to its sender (prove with --prover ${getAddress(signer)}, or sign as the prover)`,
    );
  }
}

/** Refuses before any proving or sending when the model has no verifier to settle with. */
async function checkVerifier(verity: Verity, modelId: string): Promise<void> {
  const v = await verity.registry.verifierOf(modelId);
  if (v.serial === 0) {
    throw new CliError(
      `model ${modelId} has no approved verifier: governance pairs one with approveVerifier (a policy with proofAccepted)`,
    );
  }
  if (v.revokedAt !== 0) {
    throw new CliError(
      `the verifier ${v.verifier} of model ${modelId} was revoked at ${new Date(v.revokedAt * 1000).toISOString()}: it accepts no new proofs`,
    );
  }
}

/** Sends `commitVerified` and reads back what the ledger recorded. */
async function commitProof(verity: Verity, modelId: string, proven: ProvenInference) {
  const sent = await verity.ledger.commitVerified({
    modelId,
    inference: { inputHash: proven.inputHash, outputHash: proven.outputHash, traceRoot: proven.traceRoot },
    output: proven.output,
    proof: proven.proof,
  });
  const id = await sent.wait();
  const [finality, record] = await Promise.all([verity.ledger.finalityOf(id), verity.ledger.proofRecordOf(id)]);
  return {
    id,
    modelId,
    transaction: sent.hash,
    status: CommitmentStatus[finality.status] ?? String(finality.status),
    finality: finality.finality,
    verifier: record?.verifier,
    provenAt: record?.provenAt,
  };
}

/** The signer, the model id and a verifier check of a command that will send `commitVerified`. */
async function commitTarget(ctx: CliContext, model: DenseInt8Model, options: ModelIdOptions) {
  const verity = await ctx.verity();
  const signer = await ctx.address();
  const modelId = await resolveModelId(verity, model, options);
  await checkVerifier(verity, modelId);
  return { verity, signer, modelId };
}

function commitLines(c: Awaited<ReturnType<typeof commitProof>>): string[] {
  return [c.id, `  ${c.status} (${c.finality}) at once, verified by ${c.verifier}, model ${c.modelId}`];
}

interface ProveOptions extends ModelIdOptions {
  zkey: string;
  prover?: string;
  circuit?: string;
  out?: string;
  commit: boolean;
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
    .option("--commit", "then send it: commitVerified from the signer (the prover), Final at once", false)
    .option("--model-id <id>", "with --commit: the registration to commit under (default: the file's only one)")
    .option("--publisher <address>", "with --commit: commit under this publisher's registration of the model")
    .addHelpText(
      "after",
      `
The proof JSON holds everything commitVerified takes but the model id (inputHash, outputHash, traceRoot,
output, proof); send a saved one later with \`verity zk commit <model-file> <proof-file>\`.

Examples:
  $ verity prove model.json input.json --zkey model_final.zkey --prover 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  $ verity prove models/mnist-784-128-64-10.json digit.json --zkey mnist_final.zkey --circuit build/mnist-zk --out proof.json
  $ verity --account 2 prove model.json input.json --zkey model_final.zkey --circuit build/model-zk --commit`,
    )
    .action(async (modelFile: string, inputFile: string, options: ProveOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const model = await loadModel(modelFile);
      const input = readInputFile(inputFile, model);
      if (!options.commit && (options.modelId !== undefined || options.publisher !== undefined)) {
        throw new CliError("--model-id and --publisher apply with --commit only");
      }
      // With --commit, everything that would make the send fail is checked before minutes of proving.
      const target = options.commit ? await commitTarget(ctx, model, options) : undefined;
      const prover =
        options.prover !== undefined
          ? parseAddress(options.prover, "--prover")
          : (target?.signer ?? (await ctx.address()));
      if (target !== undefined) checkProver(prover, target.signer);
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
      const proven = provenInference(model, zk.input, zk.prover, zk.proofBytes);
      const record = {
        ...proven,
        inputCommitment: keccak256(coder.encode(["bytes32", "address"], [proven.inputHash, proven.prover])),
        publicSignals: zk.publicSignals,
        proveSeconds: result.seconds,
      };
      if (options.out !== undefined) await writeFile(options.out, `${toJson(record)}\n`);
      const commitment = target === undefined ? undefined : await commitProof(target.verity, target.modelId, proven);
      ctx.emit(commitment === undefined ? record : { ...record, commitment }, [
        ...(commitment !== undefined
          ? commitLines(commitment)
          : [options.out !== undefined ? `proof written to ${options.out}` : toJson(record)]),
        ...(ctx.options.quiet ? [] : [`  output ${record.output}, proved in ${result.seconds.toFixed(1)} s`]),
      ]);
    });

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

  zk.command("commit")
    .description("send a proof written by `verity prove --out` to the ledger (commitVerified): Final at once")
    .argument("<model-file>", "model JSON file (the proof's output and hashes are recomputed from it)")
    .argument("<proof-file>", "proof JSON written by `verity prove --out`")
    .option("--model-id <id>", "the registration to commit under (default: the model file's only registration)")
    .option("--publisher <address>", "commit under this publisher's registration of the model file")
    .addHelpText(
      "after",
      `
The signer must be the proof's prover (the ledger binds the proof to its sender).

Example:
  $ verity --account 2 zk commit model.json proof.json`,
    )
    .action(async (modelFile: string, proofFile: string, options: ModelIdOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const model = await loadModel(modelFile);
      const proven = await readProofFile(proofFile, model);
      const target = await commitTarget(ctx, model, options);
      checkProver(proven.prover, target.signer);
      const commitment = await commitProof(target.verity, target.modelId, proven);
      ctx.emit({ ...commitment, inputHash: proven.inputHash, outputHash: proven.outputHash }, commitLines(commitment), {
        always: true,
      });
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

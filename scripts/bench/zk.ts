import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { AbiCoder, ContractFactory, getBytes, keccak256 } from "ethers";
import { MNIST_INPUT_SCALE, splitMnist } from "../../src/engine/mnist.js";
import {
  quantizeInput,
  readModelFile,
  run as runModel,
  stringifyModel,
  type DenseInt8Model,
} from "../../src/engine/index.js";
import {
  compileCircuit,
  compileVerifier,
  contributeZkey,
  exportVerifierSource,
  generateCircuit,
  insecureTestPowersOfTau,
  newZkey,
  proveInference,
  ptauInfo,
  releaseZkWorkers,
  requiredPower,
  syntheticModel,
} from "../../src/sdk/zk/index.js";
import { gasOf, type BenchRunner } from "./types.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/**
 * Cache of the INSECURE bench phase-1 files (bench/tmp/ is git-ignored): made here with known secrets by
 * `insecureTestPowersOfTau`, minutes at 2^15, and worthless as a ceremony.
 */
const CACHE = path.join(ROOT, "bench", "tmp", "zk");
const MODEL_PATH = path.join(ROOT, "models", "mnist-784-128-64-10.json");
const run = promisify(execFile);

async function cachedPtau(power: number): Promise<string> {
  const file = path.join(CACHE, `insecure-bench-${power}.ptau`);
  if (existsSync(file)) {
    const info = await ptauInfo(file).catch(() => undefined);
    if (info?.power === power && info.prepared) return file;
  }
  await mkdir(CACHE, { recursive: true });
  await insecureTestPowersOfTau(`${file}.partial`, power);
  await rm(file, { force: true });
  await writeFile(file, await readFile(`${file}.partial`));
  await rm(`${file}.partial`, { force: true });
  return file;
}

/**
 * Child-process mode: proves once from files in `dir` and prints seconds and the process' peak RSS, so the
 * memory figure is the prover's alone (not the bench's chain and compiler).
 */
async function childProve(dir: string): Promise<void> {
  const job = JSON.parse(await readFile(path.join(dir, "job.json"), "utf8")) as { model: string; prover: string };
  const model = await readModelFile(path.join(dir, job.model));
  const wasm = new Uint8Array(await readFile(path.join(dir, "model.wasm")));
  const zkey = new Uint8Array(await readFile(path.join(dir, "final.zkey")));
  const input = new Uint8Array(await readFile(path.join(dir, "input.bin")));
  const started = performance.now();
  const zk = await proveInference(model, { wasm }, zkey, input, job.prover);
  const seconds = (performance.now() - started) / 1000;
  await releaseZkWorkers();
  await writeFile(path.join(dir, "proof.json"), JSON.stringify({ proofBytes: zk.proofBytes, output: [...zk.output] }));
  process.stdout.write(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

interface Case {
  name: string;
  model: DenseInt8Model;
  modelFile?: string;
  input: Uint8Array;
}

/**
 * The ZK settlement path, per model (16-16-4 synthetic, and the shipped MNIST model): circuit constraints and
 * public signals, setup (one contribution) and proving time, the prover's peak memory (a child process), proof
 * size, `verifyInference` gas of the Groth16 adapter called directly, and `commitVerified_groth16_<model>`: the
 * whole `InferenceLedger.commitVerified` transaction through the deployed protocol, the model registered with
 * `proofAccepted` and the adapter approved by governance. The phase-1 file is INSECURE (known secrets), cached
 * under bench/tmp/zk.
 */
export const benchZk: BenchRunner = async (connection) => {
  const { ethers } = connection;
  // imported here, not at the top: the proving child process loads this file and its RSS is the prover's
  const { deployProofCore, registerProofModel } = await import("../../test/proof/proofFixture.js");
  // signers: 0 governor (and deployer of the verifiers), 1 publisher, 2 provider (the prover)
  const core = await deployProofCore(connection);
  const prover = core.provider;
  const digit = splitMnist().test[0];
  const cases: Case[] = [
    { name: "16-16-4", model: syntheticModel([16, 16, 4], 3), input: getBytes(keccak256("0x01")).slice(0, 16) },
    {
      name: "mnist",
      model: await readModelFile(MODEL_PATH),
      modelFile: MODEL_PATH,
      input: new Uint8Array(quantizeInput(digit.pixels, MNIST_INPUT_SCALE).buffer),
    },
  ];
  const gas: Record<string, number> = {};
  const offchain: Record<string, number> = {};
  for (const c of cases) {
    const generated = generateCircuit(c.model);
    let t = performance.now();
    const compiled = await compileCircuit(generated.source);
    offchain[`zk_${c.name}_compileSeconds`] = (performance.now() - t) / 1000;
    offchain[`zk_${c.name}_constraints`] = compiled.constraints;
    offchain[`zk_${c.name}_publicSignals`] = generated.publicSignals;
    const power = await requiredPower(compiled.r1cs);
    const ptau = await cachedPtau(Math.max(power, 11));
    t = performance.now();
    const { zkey } = await contributeZkey(await newZkey(compiled.r1cs, ptau), "bench", "bench entropy");
    offchain[`zk_${c.name}_setupSeconds`] = (performance.now() - t) / 1000;

    const dir = path.join(CACHE, `job-${c.name}`);
    await mkdir(dir, { recursive: true });
    const modelName = "model.json";
    if (c.modelFile) await writeFile(path.join(dir, modelName), await readFile(c.modelFile));
    else await writeFile(path.join(dir, modelName), stringifyModel(c.model));
    await writeFile(path.join(dir, "model.wasm"), compiled.wasm);
    await writeFile(path.join(dir, "final.zkey"), zkey);
    await writeFile(path.join(dir, "input.bin"), c.input);
    await writeFile(path.join(dir, "job.json"), JSON.stringify({ model: modelName, prover: prover.address }));
    const { stdout } = await run(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), dir], {
      cwd: ROOT,
      env: { ...process.env, VERITY_BENCH_ZK_CHILD: "1" },
      maxBuffer: 16 * 1024 * 1024,
    });
    const child = JSON.parse(stdout) as { seconds: number; maxRssMb: number };
    offchain[`zk_${c.name}_proveSeconds`] = child.seconds;
    offchain[`zk_${c.name}_peakRssMb`] = child.maxRssMb;
    const proof = JSON.parse(await readFile(path.join(dir, "proof.json"), "utf8")) as {
      proofBytes: string;
      output: number[];
    };
    offchain[`zk_${c.name}_proofBytes`] = 256; // a Groth16 proof: a (G1), b (G2), c (G1), uncompressed
    offchain[`zk_${c.name}_verifyInferenceProofArgBytes`] = getBytes(proof.proofBytes).length;

    const artifact = compileVerifier(await exportVerifierSource(zkey));
    const verifier = await new ContractFactory(artifact.abi as never, artifact.bytecode, core.admin).deploy();
    await verifier.waitForDeployment();
    const modelId = await registerProofModel(ethers, core, c.model, true, `ipfs://bench/zk-${c.name}`);
    const adapter = await ethers.deployContract("Groth16InferenceVerifier", [
      modelId,
      await verifier.getAddress(),
      generated.inputLength,
      generated.outputLength,
    ]);
    const commitment = keccak256(
      AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [keccak256(c.input), prover.address]),
    );
    const output = new Uint8Array(proof.output);
    gas[`verifyInference_groth16_${c.name}`] = await gasOf(
      await adapter.connect(prover).getFunction("verifyInference")(modelId, commitment, output, proof.proofBytes),
    );
    // The whole settlement: governance pairs the verifier, the prover sends commitVerified through the ledger.
    await core.registry.connect(core.admin).approveVerifier(modelId, await adapter.getAddress());
    const r = runModel(c.model, new Int8Array(c.input.buffer, c.input.byteOffset, c.input.length));
    const inference = { inputHash: r.inputHash, outputHash: r.outputHash, traceRoot: r.traceRoot };
    gas[`commitVerified_groth16_${c.name}`] = await gasOf(
      await core.ledger.connect(prover).commitVerified(modelId, inference, output, proof.proofBytes),
    );
    await rm(dir, { recursive: true, force: true });
  }
  await releaseZkWorkers();
  return { gas, offchain };
};

if (process.env.VERITY_BENCH_ZK_CHILD === "1" && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await childProve(process.argv[2]);
}

import { MNIST_INPUT_SCALE, mulberry32, splitMnist } from "../../src/engine/mnist.js";
import { modelCommitments, quantizeInput, readModelFile, run, vectorToHex } from "../../src/engine/index.js";
import type { DenseInt8Harness } from "../../typechain-types/index.js";
import type { BenchRunner } from "./types.js";

/** Neuron widths whose execution gas is reported as `gas.neuron_<width>`. */
const WIDTHS = [64, 256, 784, 1024, 4096] as const;
/** Wall-clock budget of the throughput measurement. */
const THROUGHPUT_MS = 2_500;
const MODEL_PATH = "models/mnist-784-128-64-10.json";

function randomVector(width: number, seed: number): string {
  const rand = mulberry32(seed);
  return vectorToHex(Int8Array.from({ length: width }, () => Math.floor(rand() * 256) - 128));
}

/**
 * The `dense-int8-v1` engine on both sides: execution gas of one `DenseInt8.neuron` per width (gasleft delta
 * inside the harness, so no calldata or call overhead), and off-chain inferences per second of the shipped MNIST
 * model over the held-out digits on one core, every trace hash included.
 */
export const benchEngine: BenchRunner = async (connection) => {
  const { ethers } = connection;
  const harness = (await (await ethers.getContractFactory("DenseInt8Harness")).deploy()) as unknown as DenseInt8Harness;

  const gas: Record<string, number> = {};
  const derived: Record<string, number> = {};
  for (const width of WIDTHS) {
    const spec = { inDim: width, outDim: 1, multiplier: 1_234_567_890, shift: 40, relu: false };
    const [, used] = await harness.neuronGas(randomVector(width, width), randomVector(width, width + 1), -12_345, spec);
    gas[`neuron_${width}`] = Number(used);
    derived[`neuron_${width}_gasPerMac`] = Number(used) / width;
  }

  const loadStarted = performance.now();
  const model = await readModelFile(MODEL_PATH);
  const modelLoadMs = performance.now() - loadStarted;
  const treeStarted = performance.now();
  modelCommitments(model);
  const commitmentsMs = performance.now() - treeStarted;

  const inputs = splitMnist().test.map((d) => quantizeInput(d.pixels, MNIST_INPUT_SCALE));
  for (let i = 0; i < 200; i++) run(model, inputs[i % inputs.length]); // warm up the JIT
  let count = 0;
  let checksum = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < THROUGHPUT_MS) {
    for (let i = 0; i < 100; i++, count++) checksum ^= run(model, inputs[count % inputs.length]).output[0];
    elapsed = performance.now() - started;
  }
  if (!Number.isFinite(checksum)) throw new Error("unreachable: keeps the results alive");
  const macs = model.layers.reduce((s, l) => s + l.spec.inDim * l.spec.outDim, 0);
  const perSec = count / (elapsed / 1000);

  return {
    gas,
    derived,
    offchain: {
      engineInferencesPerSec: perSec,
      engineMacsPerSec: perSec * macs,
      engineMsPerInference: elapsed / count,
      engineModelLoadMs: modelLoadMs,
      engineCommitmentsMs: commitmentsMs,
    },
  };
};

import * as ort from "onnxruntime-node";
import { quantizeInput, readModelFile, run } from "../../src/engine/index.js";
import { MNIST_INPUT_SCALE, splitMnist } from "../../src/engine/mnist.js";
import { dequantize, exportOnnx, importOnnx } from "../../src/sdk/onnx/index.js";
import type { BenchRunner } from "./types.js";

/** Wall-clock budget of each throughput measurement. */
const THROUGHPUT_MS = 2_000;
const MODEL_PATH = "models/mnist-784-128-64-10.json";

/** Runs `step` in rounds of 50 until `THROUGHPUT_MS` has passed; calls per second. */
async function rate(step: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await step(i); // warm up (JIT, the runtime's first-run allocations)
  let count = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < THROUGHPUT_MS) {
    for (let i = 0; i < 50; i++, count++) await step(count);
    elapsed = performance.now() - started;
  }
  return count / (elapsed / 1000);
}

/**
 * The engine against onnxruntime-node on the same MLP, in the same run: the shipped MNIST model in int8
 * with every trace hash (as `benchEngine` measures it), and its float twin (dequantized, exported to
 * ONNX) on onnxruntime's CPU runtime with one thread, one held-out digit per call. Also the time to
 * import the twin back (500 calibration digits).
 */
export const benchOnnx: BenchRunner = async () => {
  const model = await readModelFile(MODEL_PATH);
  const { train, test } = splitMnist();
  const int8Inputs = test.map((d) => quantizeInput(d.pixels, MNIST_INPUT_SCALE));
  const twin = exportOnnx(dequantize(model, MNIST_INPUT_SCALE));

  const importStarted = performance.now();
  importOnnx(
    twin,
    train.slice(0, 500).map((d) => d.pixels),
  );
  const importMs = performance.now() - importStarted;

  const session = await ort.InferenceSession.create(twin, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    logSeverityLevel: 3,
  });
  const floatInputs = test.map((d) => new ort.Tensor("float32", Float32Array.from(d.pixels), [1, 784]));
  let checksum = 0;
  try {
    const engine = await rate((i) => (checksum ^= run(model, int8Inputs[i % int8Inputs.length]).output[0]));
    const onnxruntime = await rate(async (i) => {
      const out = await session.run({ input: floatInputs[i % floatInputs.length] });
      checksum ^= (out.logits.data as Float32Array)[0] > 0 ? 1 : 0;
    });
    if (!Number.isFinite(checksum)) throw new Error("unreachable: keeps the results alive");
    return {
      offchain: {
        engineVsOnnxruntime: engine / onnxruntime,
        onnxEngineInferencesPerSec: engine,
        onnxruntimeInferencesPerSec: onnxruntime,
        onnxImportMs: importMs,
      },
    };
  } finally {
    await session.release();
  }
};

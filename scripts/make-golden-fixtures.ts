/**
 * `npx tsx scripts/make-golden-fixtures.ts`: regenerates the golden fixtures under test/fixtures/.
 * Regenerate only for a deliberate change of the profile or of the shipped model: the fixtures exist so that
 * any accidental change to the arithmetic fails loudly.
 *
 * - neuron-golden.json: hand-picked neuron cases (ties, clamps, extremes, word-boundary widths) whose
 *   expected outputs come from a BigInt reference written straight from the profile text.
 * - mnist-golden.json: the shipped model's commitments and five held-out digits with their outputs,
 *   layer hashes and trace roots.
 */
import { writeFile } from "node:fs/promises";
import {
  ENGINE_ID,
  INT32_MAX,
  INT32_MIN,
  MAX_MULTIPLIER,
  modelCommitments,
  quantizeInput,
  readModelFile,
  run,
  argmax,
  vectorToHex,
} from "../src/engine/index.js";
import type { LayerSpec } from "../src/engine/index.js";
import { MNIST_INPUT_SCALE, splitMnist } from "../src/engine/mnist.js";

function reference(x: number[], row: number[], bias: number, spec: LayerSpec): number {
  let acc = BigInt(bias);
  for (let k = 0; k < x.length; k++) acc += BigInt(x[k]) * BigInt(row[k]);
  let v = acc * BigInt(spec.multiplier);
  if (spec.shift > 0) v = (v + (1n << BigInt(spec.shift - 1))) >> BigInt(spec.shift);
  const lo = spec.relu ? 0n : -128n;
  return Number(v < lo ? lo : v > 127n ? 127n : v);
}

const fill = (n: number, v: number) => Array.from({ length: n }, () => v);
const ramp = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37 + 11) % 256) - 128);
const spec = (inDim: number, multiplier: number, shift: number, relu: boolean): LayerSpec => ({
  inDim,
  outDim: 1,
  multiplier,
  shift,
  relu,
});

/** A multiplier that maps `bias + x . row` to about `target` after `>> shift` (keeps a case unclamped). */
function calibrated(x: number[], row: number[], bias: number, target: number, shift: number): number {
  const acc = x.reduce((s, v, k) => s + v * row[k], bias);
  return Math.min(MAX_MULTIPLIER, Math.max(1, Math.round((Math.abs(target) * 2 ** shift) / Math.abs(acc))));
}

const raw: { name: string; x: number[]; row: number[]; bias: number; spec: LayerSpec }[] = [
  { name: "worked example: 11 * 3 / 4 = 8.25 -> 8", x: [3, -2], row: [5, 7], bias: 10, spec: spec(2, 3, 2, false) },
  { name: "positive tie 2.5 rounds up to 3", x: [1], row: [5], bias: 0, spec: spec(1, 1, 1, false) },
  { name: "negative tie -2.5 rounds up to -2", x: [1], row: [-5], bias: 0, spec: spec(1, 1, 1, false) },
  { name: "negative tie -0.5 rounds up to 0", x: [-1], row: [1], bias: 0, spec: spec(1, 1, 1, false) },
  { name: "-1.5 rounds up to -1", x: [-3], row: [1], bias: 0, spec: spec(1, 1, 1, false) },
  { name: "just below a tie rounds down", x: [1], row: [1], bias: 2, spec: spec(1, 2 ** 30 - 1, 31, false) },
  { name: "shift 0 is a plain product", x: [1], row: [1], bias: 41, spec: spec(1, 3, 0, false) },
  {
    name: "shift 0 huge accumulator clamps to 127",
    x: fill(65, 127),
    row: fill(65, 127),
    bias: INT32_MAX,
    spec: spec(65, MAX_MULTIPLIER, 0, false),
  },
  {
    name: "shift 0 huge negative accumulator clamps to -128",
    x: fill(65, -128),
    row: fill(65, 127),
    bias: INT32_MIN,
    spec: spec(65, MAX_MULTIPLIER, 0, false),
  },
  { name: "relu clamps a negative result to 0", x: [-100], row: [100], bias: 0, spec: spec(1, 1, 7, true) },
  { name: "relu keeps a positive result", x: [100], row: [100], bias: 0, spec: spec(1, 1, 7, true) },
  { name: "no relu keeps a negative result", x: [-100], row: [100], bias: 0, spec: spec(1, 1, 7, false) },
  {
    name: "largest accumulator, max multiplier, shift 62",
    x: fill(4096, -128),
    row: fill(4096, -128),
    bias: INT32_MAX,
    spec: spec(4096, MAX_MULTIPLIER, 62, false),
  },
  {
    name: "smallest accumulator, max multiplier, shift 62",
    x: fill(4096, -128),
    row: fill(4096, 127),
    bias: INT32_MIN,
    spec: spec(4096, MAX_MULTIPLIER, 62, false),
  },
  {
    name: "int32 max bias alone, shift 62, multiplier 2^31-1 -> 1",
    x: [0],
    row: [0],
    bias: INT32_MAX,
    spec: spec(1, MAX_MULTIPLIER, 62, false),
  },
  {
    name: "int32 min bias alone, shift 62 -> -1",
    x: [0],
    row: [0],
    bias: INT32_MIN,
    spec: spec(1, MAX_MULTIPLIER, 62, false),
  },
  {
    name: "int32 min bias, shift 31, multiplier 1 -> -1",
    x: [0],
    row: [0],
    bias: INT32_MIN,
    spec: spec(1, 1, 31, false),
  },
  {
    name: "int32 max bias, shift 31, multiplier 1 -> 1 (0.99999 rounds up)",
    x: [0],
    row: [0],
    bias: INT32_MAX,
    spec: spec(1, 1, 31, false),
  },
  {
    name: "width 31 (tail only)",
    x: ramp(31),
    row: ramp(31).reverse(),
    bias: -7,
    spec: spec(31, calibrated(ramp(31), ramp(31).reverse(), -7, 77.3, 36), 36, false),
  },
  {
    name: "width 32 (one full word)",
    x: ramp(32),
    row: ramp(32).reverse(),
    bias: 5,
    spec: spec(32, calibrated(ramp(32), ramp(32).reverse(), 5, 41.6, 36), 36, false),
  },
  {
    name: "width 33 (word plus one)",
    x: ramp(33),
    row: ramp(33).reverse(),
    bias: 5,
    spec: spec(33, calibrated(ramp(33), ramp(33).reverse(), 5, 99.5, 36), 36, false),
  },
  {
    name: "width 784 unclamped",
    x: ramp(784),
    row: ramp(784).reverse(),
    bias: 9_999,
    spec: spec(784, calibrated(ramp(784), ramp(784).reverse(), 9_999, 57.3, 44), 44, false),
  },
  {
    name: "width 4096 unclamped",
    x: ramp(4096),
    row: fill(4096, -3),
    bias: -2_000_000,
    spec: spec(4096, calibrated(ramp(4096), fill(4096, -3), -2_000_000, 101.7, 50), 50, false),
  },
  {
    name: "width 784",
    x: ramp(784),
    row: ramp(784).map((v) => -v),
    bias: 123_456,
    spec: spec(784, 1_234_567_890, 40, false),
  },
  {
    name: "width 784 with relu",
    x: ramp(784),
    row: ramp(784),
    bias: -123_456,
    spec: spec(784, 1_234_567_890, 40, true),
  },
  { name: "all -128 times all -128 at width 1", x: [-128], row: [-128], bias: 0, spec: spec(1, 1, 7, false) },
  { name: "all -128 times all 127 at width 1", x: [-128], row: [127], bias: 0, spec: spec(1, 1, 7, false) },
  { name: "result exactly 127", x: [127], row: [1], bias: 0, spec: spec(1, 1, 0, false) },
  { name: "result exactly 128 clamps", x: [127], row: [1], bias: 1, spec: spec(1, 1, 0, false) },
  { name: "result exactly -128", x: [-128], row: [1], bias: 0, spec: spec(1, 1, 0, false) },
  { name: "result exactly -129 clamps", x: [-128], row: [1], bias: -1, spec: spec(1, 1, 0, false) },
];

const neuronCases = raw.map((c) => ({
  name: c.name,
  x: vectorToHex(Int8Array.from(c.x)),
  row: vectorToHex(Int8Array.from(c.row)),
  bias: c.bias,
  spec: c.spec,
  expected: reference(c.x, c.row, c.bias, c.spec),
}));
await writeFile(
  "test/fixtures/neuron-golden.json",
  `${JSON.stringify({ profile: "dense-int8-v1", cases: neuronCases }, null, 2)}\n`,
);

const modelPath = "models/mnist-784-128-64-10.json";
const model = await readModelFile(modelPath);
const { graphHash, weightsRoot, contentHash } = modelCommitments(model);
const { test } = splitMnist();
const digits = test.slice(0, 5).map((d, i) => {
  const input = quantizeInput(d.pixels, MNIST_INPUT_SCALE);
  const result = run(model, input);
  return {
    heldOutIndex: i,
    label: d.label,
    predicted: argmax(result.output),
    input: vectorToHex(input),
    output: Array.from(result.output),
    layerHashes: result.layerHashes,
    traceRoot: result.traceRoot,
  };
});
await writeFile(
  "test/fixtures/mnist-golden.json",
  `${JSON.stringify({ model: modelPath, engineId: ENGINE_ID, graphHash, weightsRoot, contentHash, digits }, null, 2)}\n`,
);
console.log(`wrote ${neuronCases.length} neuron cases and ${digits.length} MNIST digits`);

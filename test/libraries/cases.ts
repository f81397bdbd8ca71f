/**
 * Neuron cases for differential testing (shared by the DenseInt8 mocha tests; registers no tests).
 * Vectors are built from a seed and a mode so that fast-check only generates a few numbers per case,
 * and the extremes (-128, 127, int32 bias limits, max multiplier, shift 0 and 62) are common.
 */
import fc from "fast-check";
import { dot, INT32_MAX, INT32_MIN, MAX_MULTIPLIER, MAX_SHIFT, vectorToHex } from "../../src/engine/index.js";
import type { LayerSpec } from "../../src/engine/index.js";
import { mulberry32 } from "../../src/engine/mnist.js";

/** How a vector's elements are chosen. */
export type VectorMode = "random" | "min" | "max" | "zero" | "alternate" | "sparse" | "extremes";

/** A concrete neuron case. */
export interface NeuronCase {
  x: Int8Array;
  row: Int8Array;
  bias: number;
  spec: LayerSpec;
}

/** Builds a vector of `dim` elements in `mode` from `seed`. */
export function makeVector(dim: number, mode: VectorMode, seed: number): Int8Array {
  const rand = mulberry32(seed);
  const v = new Int8Array(dim);
  for (let i = 0; i < dim; i++) {
    const r = rand();
    v[i] =
      mode === "random"
        ? Math.floor(r * 256) - 128
        : mode === "min"
          ? -128
          : mode === "max"
            ? 127
            : mode === "zero"
              ? 0
              : mode === "alternate"
                ? i % 2 === 0
                  ? -128
                  : 127
                : mode === "sparse"
                  ? r < 0.9
                    ? 0
                    : Math.floor(rand() * 256) - 128
                  : r < 0.5
                    ? -128
                    : 127;
  }
  return v;
}

const modes: VectorMode[] = ["random", "random", "random", "min", "max", "zero", "alternate", "sparse", "extremes"];

/** Widths from 1 to 4,096, biased to small ones but with the word boundaries and large widths covered. */
export const dimArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 64 }) },
  { weight: 3, arbitrary: fc.integer({ min: 65, max: 1024 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1025, max: 4096 }) },
  { weight: 2, arbitrary: fc.constantFrom(1, 31, 32, 33, 63, 64, 65, 784, 4096) },
);

/** A random neuron case; half of them choose the multiplier so the result lands near the int8 range. */
export const neuronCaseArb: fc.Arbitrary<NeuronCase> = fc
  .record({
    dim: dimArb,
    xMode: fc.constantFrom(...modes),
    wMode: fc.constantFrom(...modes),
    seed: fc.integer(),
    bias: fc.oneof(
      fc.constantFrom(INT32_MIN, INT32_MAX, 0, -1, 1),
      fc.integer({ min: INT32_MIN, max: INT32_MAX }),
      fc.integer({ min: -100_000, max: 100_000 }),
    ),
    multiplier: fc.oneof(fc.constantFrom(1, MAX_MULTIPLIER, 2 ** 30), fc.integer({ min: 1, max: MAX_MULTIPLIER })),
    shift: fc.oneof(fc.constantFrom(0, MAX_SHIFT, 1, 16, 17, 31, 32, 53, 54), fc.integer({ min: 0, max: MAX_SHIFT })),
    relu: fc.boolean(),
    calibrate: fc.boolean(),
    target: fc.double({ min: -200, max: 200, noNaN: true }),
    outDim: fc.integer({ min: 1, max: 65_536 }),
  })
  .map((c) => {
    const x = makeVector(c.dim, c.xMode, c.seed);
    const row = makeVector(c.dim, c.wMode, c.seed ^ 0x9e3779b9);
    let multiplier = c.multiplier;
    const acc = c.bias + dot(x, row);
    if (c.calibrate && acc !== 0) {
      const m = Math.round((Math.abs(c.target) * 2 ** c.shift) / Math.abs(acc));
      multiplier = Math.min(MAX_MULTIPLIER, Math.max(1, m));
    }
    const spec: LayerSpec = { inDim: c.dim, outDim: c.outDim, multiplier, shift: c.shift, relu: c.relu };
    return { x, row, bias: c.bias, spec };
  });

/** The harness's ABI shape of a case. */
export function toAbiCase(c: NeuronCase) {
  return { x: vectorToHex(c.x), row: vectorToHex(c.row), bias: c.bias, spec: c.spec };
}

/**
 * Reference requantization in BigInt, written straight from the profile text.
 */
export function referenceNeuron(c: NeuronCase): number {
  let acc = BigInt(c.bias);
  for (let k = 0; k < c.x.length; k++) acc += BigInt(c.x[k]) * BigInt(c.row[k]);
  let v = acc * BigInt(c.spec.multiplier);
  if (c.spec.shift > 0) v = (v + (1n << BigInt(c.spec.shift - 1))) >> BigInt(c.spec.shift);
  const lo = c.spec.relu ? 0n : -128n;
  return Number(v < lo ? lo : v > 127n ? 127n : v);
}

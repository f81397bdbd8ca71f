import type { DenseInt8Model, DenseLayer } from "../../engine/index.js";

/** mulberry32: a tiny seeded generator, so that a synthetic model is a function of its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A deterministic random `dense-int8-v1` model of the given widths (`[16, 16, 4]` is 16 -> 16 -> 4), for
 * tests and the bench. Weights are uniform int8, biases small, and each layer's multiplier and shift scale a
 * typical accumulator to about half the int8 range, so outputs exercise both clamps and the middle.
 *
 * @param widths - Input width then each layer's output width (at least two entries).
 * @param seed - Seed of the generator.
 * @returns The model (hidden layers use relu, the last one does not).
 */
export function syntheticModel(widths: readonly number[], seed: number): DenseInt8Model {
  if (widths.length < 2) throw new RangeError("a model needs at least one layer (two widths)");
  const next = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const layers: DenseLayer[] = [];
  for (let l = 1; l < widths.length; l++) {
    const inDim = widths[l - 1];
    const outDim = widths[l];
    const weights = new Int8Array(inDim * outDim);
    for (let i = 0; i < weights.length; i++) weights[i] = int(-128, 127);
    const biases = new Int32Array(outDim);
    for (let j = 0; j < outDim; j++) biases[j] = int(-2000, 2000);
    // A typical |accumulator| is about sqrt(inDim) * 74 * 74; map it to about 64.
    const shift = int(12, 20);
    const multiplier = Math.max(1, Math.round((64 * 2 ** shift) / (Math.sqrt(inDim) * 74 * 74)) + int(-3, 3));
    layers.push({ spec: { inDim, outDim, multiplier, shift, relu: l < widths.length - 1 }, weights, biases });
  }
  return { layers, name: `synthetic-${widths.join("-")}-${seed}` };
}

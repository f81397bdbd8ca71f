import type { DenseLayer, LayerSpec } from "./types.js";

/** `POW2[i] = 2^i` for 0 <= i <= 63 (all exact doubles). */
const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);
const TWO_52 = 2 ** 52;

/**
 * Requantizes an accumulator to int8, exactly as `DenseInt8.requantize`:
 * `v = acc * multiplier` if `shift == 0`, else `v = floor((acc * multiplier + 2^(shift-1)) / 2^shift)`,
 * then `clamp(v, relu ? 0 : -128, 127)`.
 *
 * Exact for every accumulator of the profile (|acc| < 2^32) without BigInt: when |acc * multiplier| < 2^52
 * the double product is exact; otherwise either `shift <= 16` and the result clamps by sign, or the product
 * is split as `acc * hi * 2^16 + acc * lo` whose parts are exact, and the shift is applied to the sum of the
 * high parts (the low 16 bits cannot change a floor by 2^(shift-16) >= 2).
 *
 * @param acc - `bias + sum_k w[k] * x[k]`, an integer with |acc| < 2^32.
 * @param multiplier - Integer in [1, 2^31 - 1].
 * @param shift - Integer in [0, 62].
 * @param relu - Whether the lower clamp is 0 instead of -128.
 * @returns The int8 output as a number.
 */
export function requantize(acc: number, multiplier: number, shift: number, relu: boolean): number {
  const lo = relu ? 0 : -128;
  const p = acc * multiplier;
  let v: number;
  if (p < TWO_52 && p > -TWO_52) {
    // p is exact; p + 2^(shift-1) is exact for shift <= 53, and for shift >= 54 the quotient is in (1/4, 3/4).
    v = shift === 0 ? p : Math.floor((p + POW2[shift - 1]) / POW2[shift]);
  } else if (shift <= 16) {
    // |acc * multiplier| >= 2^52, so |v| >= 2^36 - 1: only its sign matters.
    v = p;
  } else {
    const high = acc * Math.floor(multiplier / 65_536); // |.| < 2^47, exact
    const low = acc * (multiplier % 65_536); // |.| < 2^48, exact
    const n = high + Math.floor(low / 65_536) + POW2[shift - 17]; // |.| < 2^49, exact
    v = Math.floor(n / POW2[shift - 16]);
  }
  return v < lo ? lo : v > 127 ? 127 : v;
}

/**
 * Exact dot product of `x` with the `x.length` weights of `weights` starting at `offset`.
 * Plain number arithmetic is exact: |sum| <= 65,536 * 128 * 128 = 2^30.
 *
 * @param x - Input vector.
 * @param weights - Weight storage (a row or a whole row-major matrix).
 * @param offset - Index of the row's first weight in `weights`.
 * @returns The integer dot product.
 */
export function dot(x: Int8Array, weights: Int8Array, offset = 0): number {
  const n = x.length;
  let s0 = 0;
  let s1 = 0;
  let k = 0;
  for (; k + 1 < n; k += 2) {
    s0 += weights[offset + k] * x[k];
    s1 += weights[offset + k + 1] * x[k + 1];
  }
  if (k < n) s0 += weights[offset + k] * x[k];
  return s0 + s1;
}

/**
 * One neuron, bit-exact with `DenseInt8.neuron`: `requantize(bias + dot(x, row))`.
 *
 * @param x - Input vector (`spec.inDim` values).
 * @param row - The neuron's weight row (`spec.inDim` values).
 * @param bias - The neuron's int32 bias.
 * @param spec - The layer's spec (only `multiplier`, `shift`, `relu` and `inDim` are used).
 * @returns The int8 output as a number.
 * @throws RangeError when `x` or `row` is not `spec.inDim` long.
 */
export function neuron(x: Int8Array, row: Int8Array, bias: number, spec: LayerSpec): number {
  if (x.length !== row.length) throw new RangeError(`input length ${x.length} != row length ${row.length}`);
  if (x.length !== spec.inDim) throw new RangeError(`input length ${x.length} != inDim ${spec.inDim}`);
  return requantize(bias + dot(x, row), spec.multiplier, spec.shift, spec.relu);
}

/**
 * Evaluates a whole layer: `y[j] = requantize(biases[j] + dot(x, weights row j))`.
 *
 * @param layer - The layer (assumed valid, see `validateModel`).
 * @param x - Input vector (`layer.spec.inDim` values).
 * @returns The output vector (`layer.spec.outDim` values).
 * @throws RangeError when `x` is not `inDim` long.
 */
export function forwardLayer(layer: DenseLayer, x: Int8Array): Int8Array {
  const { inDim, outDim, multiplier, shift, relu } = layer.spec;
  if (x.length !== inDim) throw new RangeError(`input length ${x.length} != inDim ${inDim}`);
  const { weights, biases } = layer;
  const y = new Int8Array(outDim);
  for (let j = 0, offset = 0; j < outDim; j++, offset += inDim) {
    y[j] = requantize(biases[j] + dot(x, weights, offset), multiplier, shift, relu);
  }
  return y;
}

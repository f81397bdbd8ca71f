/**
 * Post-training int8 quantization of a float MLP into the engine's `dense-int8-v1` format, with per-layer
 * scales calibrated on sample inputs (docs/onnx-import.md, "Quantization"):
 *
 * - input: symmetric, `scale = 127 / max|x|` over the calibration inputs, `x_q = clamp(round(scale x))`;
 * - weights: per layer symmetric, `s_w = max|W| / 127`, `w_q = round(w / s_w)` in [-127, 127];
 * - biases: int32 `round(b / (s_in * s_w))` in the accumulator's units;
 * - outputs: per layer symmetric, `s_out = q-th percentile of |activation| / 127` over the float model's
 *   activations on the calibration inputs, for q in `percentiles`; the q whose int8 model agrees best with
 *   the float argmax on the calibration inputs wins (then the smaller output error, then the first);
 * - requantization: `multiplier / 2^shift` closest to `s_in * s_w / s_out` with the largest shift (<= 62)
 *   keeping `multiplier < 2^31`, then the engine's rounding and ReLU/int8 clamp (src/engine/arith.ts).
 */
import {
  INT32_MAX,
  INT32_MIN,
  MAX_MULTIPLIER,
  MAX_SHIFT,
  argmax,
  forwardLayer,
  quantizeInput,
  type DenseInt8Model,
  type DenseLayer,
} from "../../engine/index.js";
import { OnnxImportError } from "./errors.js";
import { evaluateLayers, type FloatMlp } from "./float.js";

/** Candidate activation percentiles (the same candidates as the shipped model's calibration). */
export const DEFAULT_PERCENTILES: readonly number[] = [0.999, 0.9999, 0.99999, 1];

/** What the quantization chose. */
export interface Quantized {
  /** The int8 model (no name or metadata yet). */
  model: DenseInt8Model;
  /** Inputs are encoded as `clamp(round(inputScale * x), -128, 127)`. */
  inputScale: number;
  /** The activation percentile used for every layer's output scale. */
  percentile: number;
  /** Fraction of calibration inputs whose int8 argmax equals the float argmax. */
  calibrationAgreement: number;
  /** Real value of one int8 unit of the last layer's output. */
  outputScale: number;
}

/**
 * The fixed-point `multiplier / 2^shift` closest to `real` with the largest shift the profile allows.
 *
 * @param real - A positive scale.
 * @param where - The layer, for the error.
 * @returns Multiplier in [1, 2^31 - 1] and shift in [0, 62].
 * @throws OnnxImportError when `real` is outside what the profile can represent.
 */
export function fixedPoint(real: number, where: string): { multiplier: number; shift: number } {
  let shift = Math.min(MAX_SHIFT, Math.floor(Math.log2(MAX_MULTIPLIER / real)));
  let multiplier = Math.round(real * 2 ** shift);
  while (multiplier > MAX_MULTIPLIER) multiplier = Math.round(real * 2 ** --shift);
  if (shift < 0 || multiplier < 1 || !Number.isFinite(real)) {
    throw new OnnxImportError(
      `${where}: requantization scale ${real.toExponential(3)} is outside multiplier/2^shift (multiplier 1..2^31-1, shift 0..62)`,
    );
  }
  return { multiplier, shift };
}

/** The value at quantile `q` of the absolute values (nearest rank below, as scripts/train-mnist.ts). */
function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values, Math.abs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** Runs the int8 layers on an int8 input (no trace hashing). */
export function runInt8(model: DenseInt8Model, x: Int8Array): Int8Array {
  for (const layer of model.layers) x = forwardLayer(layer, x);
  return x;
}

/** The calibrated model for one percentile, with the scale of its last layer's output. */
function build(
  mlp: FloatMlp,
  inputScale: number,
  collected: Float64Array[],
  percentile: number,
): { model: DenseInt8Model; outputScale: number } {
  let inScale = 1 / inputScale;
  const layers: DenseLayer[] = mlp.layers.map((l, i) => {
    const where = `layer ${i + 1} (${l.inDim} -> ${l.outDim})`;
    const wMax = maxAbs(l.weights);
    const wScale = wMax === 0 ? 1 : wMax / 127;
    const weights = Int8Array.from(l.weights, (w) => Math.max(-127, Math.min(127, Math.round(w / wScale))));
    const accScale = inScale * wScale;
    const biases = new Int32Array(l.outDim);
    for (let j = 0; j < l.outDim; j++) {
      const b = Math.round(l.biases[j] / accScale);
      if (b < INT32_MIN || b > INT32_MAX) {
        throw new OnnxImportError(
          `${where}: bias ${j} is ${b} accumulator units, outside int32 (the weights are too small for the bias at these scales)`,
        );
      }
      biases[j] = b;
    }
    const top = quantile(collected[i], percentile);
    const outScale = top === 0 ? accScale : top / 127;
    const { multiplier, shift } = fixedPoint(accScale / outScale, where);
    inScale = outScale;
    return { spec: { inDim: l.inDim, outDim: l.outDim, multiplier, shift, relu: l.relu }, weights, biases };
  });
  return { model: { layers }, outputScale: inScale };
}

/**
 * Quantizes a float MLP post-training with per-layer scales calibrated on `calibration`.
 *
 * @param mlp - The float chain.
 * @param calibration - Sample inputs (`inDim` values each, at least one).
 * @param percentiles - Candidate activation percentiles in (0, 1].
 * @returns The int8 model and the choices made.
 * @throws OnnxImportError when a scale or a bias is outside what the profile can represent.
 */
export function quantize(
  mlp: FloatMlp,
  calibration: readonly ArrayLike<number>[],
  percentiles: readonly number[] = DEFAULT_PERCENTILES,
): Quantized {
  if (calibration.length === 0) throw new OnnxImportError("the calibration needs at least one input");
  let inMax = 0;
  for (const x of calibration) inMax = Math.max(inMax, maxAbs(x));
  const inputScale = inMax === 0 ? 1 : 127 / inMax;
  const collected = mlp.layers.map((l) => new Float64Array(calibration.length * l.outDim));
  const floatClass: number[] = [];
  const floatOut: Float64Array[] = [];
  calibration.forEach((x, n) => {
    const outputs = evaluateLayers(mlp, x);
    outputs.forEach((a, l) => collected[l].set(a, n * a.length));
    floatOut.push(outputs[outputs.length - 1]);
    floatClass.push(argmax(outputs[outputs.length - 1]));
  });
  const inputs = calibration.map((x) => quantizeInput(x, inputScale));
  let best: (Quantized & { error: number }) | undefined;
  for (const percentile of percentiles) {
    const { model, outputScale } = build(mlp, inputScale, collected, percentile);
    let agree = 0;
    let error = 0;
    inputs.forEach((x, n) => {
      const y = runInt8(model, x);
      if (argmax(y) === floatClass[n]) agree++;
      for (let j = 0; j < y.length; j++) error += (y[j] * outputScale - floatOut[n][j]) ** 2;
    });
    const calibrationAgreement = agree / inputs.length;
    const better =
      best === undefined ||
      calibrationAgreement > best.calibrationAgreement ||
      (calibrationAgreement === best.calibrationAgreement && error < best.error);
    if (better) best = { model, inputScale, percentile, calibrationAgreement, outputScale, error };
  }
  const { error: _error, ...chosen } = best!;
  return chosen;
}

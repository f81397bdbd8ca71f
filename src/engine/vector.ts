import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Hex } from "./types.js";

/**
 * Checks and copies integers into an int8 vector.
 *
 * @param values - Integers in [-128, 127].
 * @returns A new Int8Array holding them.
 * @throws RangeError naming the first value that is not an integer in range.
 */
export function encodeVector(values: ArrayLike<number>): Int8Array {
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -128 || v > 127) {
      throw new RangeError(`vector[${i}] = ${v} is not an int8`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * The wire bytes of an int8 vector (one two's-complement byte per element), sharing its memory.
 *
 * @param v - The vector.
 * @returns A Uint8Array view of the same bytes.
 */
export function vectorBytes(v: Int8Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.length);
}

/**
 * Encodes an int8 vector as 0x-prefixed hex (the `bytes` a contract receives).
 *
 * @param v - The vector.
 * @returns Its hex encoding.
 */
export function vectorToHex(v: Int8Array): Hex {
  return `0x${bytesToHex(vectorBytes(v))}`;
}

/**
 * Decodes 0x-prefixed (or bare) hex into an int8 vector.
 *
 * @param hex - Even-length hex string.
 * @returns The vector.
 */
export function vectorFromHex(hex: string): Int8Array {
  const bytes = hexToBytes(hex.startsWith("0x") ? hex.slice(2) : hex);
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Quantizes real inputs to int8: `clamp(round(value * scale), -128, 127)` with round half toward +infinity
 * (`Math.round`). The MNIST model uses `scale = 127` on pixels in [0, 1].
 *
 * @param values - Real values.
 * @param scale - Multiplier applied before rounding.
 * @returns The int8 vector.
 */
export function quantizeInput(values: ArrayLike<number>, scale: number): Int8Array {
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = Math.round(values[i] * scale);
    out[i] = q < -128 ? -128 : q > 127 ? 127 : q;
  }
  return out;
}

/**
 * Index of the largest element (the first one on ties): the predicted class of a classifier output.
 *
 * @param v - A non-empty vector.
 * @returns The index.
 */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

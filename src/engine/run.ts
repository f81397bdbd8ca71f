import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { forwardLayer } from "./arith.js";
import type { DenseInt8Model, Hex, RunResult } from "./types.js";
import { encodeVector, vectorBytes } from "./vector.js";

/**
 * Runs one inference and commits to its trace.
 *
 * `s_0 = keccak256(input)`, `s_l = keccak256(output of layer l)`, `traceRoot = keccak256(s_0 || ... || s_L)`.
 * The model is assumed valid (`parseModel` / `validateModel` check it).
 *
 * @param model - The model.
 * @param input - `inDim` of layer 1 int8 values (an Int8Array is used as is; other arrays are checked).
 * @returns Output, all activations, layer hashes and trace root.
 * @throws RangeError when the input has the wrong length or a value outside [-128, 127].
 */
export function run(model: DenseInt8Model, input: Int8Array | ArrayLike<number>): RunResult {
  const x0 = input instanceof Int8Array ? input.slice() : encodeVector(input);
  const inDim = model.layers[0].spec.inDim;
  if (x0.length !== inDim) throw new RangeError(`input length ${x0.length} != inDim ${inDim} of layer 1`);
  const count = model.layers.length + 1;
  const packed = new Uint8Array(32 * count);
  const activations: Int8Array[] = [x0];
  packed.set(keccak_256(vectorBytes(x0)), 0);
  let x = x0;
  for (let l = 0; l < model.layers.length; l++) {
    x = forwardLayer(model.layers[l], x);
    activations.push(x);
    packed.set(keccak_256(vectorBytes(x)), 32 * (l + 1));
  }
  const layerHashes: Hex[] = [];
  for (let i = 0; i < count; i++) layerHashes.push(`0x${bytesToHex(packed.subarray(32 * i, 32 * i + 32))}`);
  return {
    output: x,
    activations,
    layerHashes,
    inputHash: layerHashes[0],
    outputHash: layerHashes[count - 1],
    traceRoot: `0x${bytesToHex(keccak_256(packed))}`,
  };
}

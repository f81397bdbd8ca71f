/**
 * The `dense-int8-v1` inference engine: deterministic int8 dense-layer inference, bit-exact with
 * `contracts/libraries/DenseInt8.sol`, plus the model file format and every commitment (vector and trace
 * hashes, graph hash, weights tree, model id). Pure code: no provider or network dependency.
 *
 * @packageDocumentation
 */
export {
  ENGINE_ID,
  ENGINE_ID_PREIMAGE,
  INT32_MAX,
  INT32_MIN,
  MAX_DIM,
  MAX_MULTIPLIER,
  MAX_SHIFT,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  PROFILE_NAME,
} from "./constants.js";
export type { DenseInt8Model, DenseLayer, Hex, LayerSpec, RunResult } from "./types.js";
export { ModelFormatError } from "./errors.js";
export { dot, forwardLayer, neuron, requantize } from "./arith.js";
export { argmax, encodeVector, quantizeInput, vectorBytes, vectorFromHex, vectorToHex } from "./vector.js";
export { contentHashOf, encodeGraph, graphHash, graphOf, hashVector, modelIdOf, traceRoot } from "./hash.js";
export { WEIGHT_LEAF_ENCODING, WeightsTree, weightLeafHash, weightLeaves, weightsRoot } from "./weights.js";
export type { RowProof, WeightLeaf } from "./weights.js";
export { modelCommitments, modelIdFor } from "./model.js";
export type { ModelCommitments } from "./model.js";
export { parseModel, readModelFile, stringifyModel, toModelFile, validateModel } from "./format.js";
export type { ModelFileLayer, ModelFileV1 } from "./format.js";
export { run } from "./run.js";

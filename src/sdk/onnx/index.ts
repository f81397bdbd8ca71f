/**
 * The ONNX importer: reads an ONNX file with the `onnx-proto` definitions, extracts its chain of dense
 * layers, checks the registry's bounds and quantizes it post-training into a `dense-int8-v1` model
 * (docs/onnx-import.md).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { validateModel, type DenseInt8Model } from "../../engine/index.js";
import { checkGasBound, type ModelGasBounds } from "./bounds.js";
import { extractChain, type ExtractedChain } from "./graph.js";
import type { FloatMlp } from "./float.js";
import { DEFAULT_PERCENTILES, quantize } from "./quantize.js";
import { parseCalibration } from "./calibration.js";

import { OnnxImportError } from "./errors.js";

export { OnnxImportError } from "./errors.js";
export { extractChain, type ExtractedChain } from "./graph.js";
export { dequantize, evaluate, evaluateLayers, type FloatLayer, type FloatMlp } from "./float.js";
export { DEFAULT_PERCENTILES, fixedPoint, quantize, runInt8, type Quantized } from "./quantize.js";
export { checkGasBound, gasBoundsOfModel, maxBatchLeaves, type ModelGasBounds, type MoveBound } from "./bounds.js";
export { MAX_CALIBRATION_INPUTS, parseCalibration } from "./calibration.js";
export { exportOnnx, type ExportOptions } from "./export.js";

/** Options of `importOnnx`. */
export interface ImportOptions {
  /** The model's name (default: the ONNX graph's input and output names are not used; none). */
  name?: string;
  /** Candidate activation percentiles (default `DEFAULT_PERCENTILES`). */
  percentiles?: readonly number[];
  /** Where the file came from, kept in the metadata (e.g. its file name). */
  source?: string;
}

/** An imported model with everything the import decided. */
export interface ImportResult {
  /** The int8 model, with metadata on its input encoding, output and provenance. */
  model: DenseInt8Model;
  /** The float chain read from the file (its double-precision evaluation is the reference). */
  float: FloatMlp;
  /** The extraction (input, output, notes on dropped nodes). */
  chain: ExtractedChain;
  /** Inputs are encoded as `clamp(round(inputScale * x), -128, 127)`. */
  inputScale: number;
  /** The activation percentile chosen. */
  percentile: number;
  /** Fraction of calibration inputs whose int8 argmax matches the float argmax. */
  calibrationAgreement: number;
  /** The registry's gas bounds of the model (within `MAX_HONEST_MOVE_GAS`). */
  gas: ModelGasBounds;
}

/**
 * Imports an ONNX model: extraction, the registry's gas bound, post-training quantization.
 *
 * @param bytes - The `.onnx` file.
 * @param calibration - Sample float inputs, `inDim` values each, or the text of a calibration file
 *   (`parseCalibration`, checked against the extracted input width).
 * @param options - Name, percentiles, source.
 * @returns The int8 model and the import's decisions.
 * @throws OnnxImportError (one line) when the file cannot be expressed in `dense-int8-v1` or breaks a bound.
 */
export function importOnnx(
  bytes: Uint8Array,
  calibration: readonly ArrayLike<number>[] | string,
  options: ImportOptions = {},
): ImportResult {
  const chain = extractChain(bytes);
  const gas = checkGasBound(chain.mlp.layers);
  const inputs =
    typeof calibration === "string" ? parseCalibration(calibration, chain.mlp.layers[0].inDim) : calibration;
  for (const [i, x] of inputs.entries()) {
    if (x.length !== chain.mlp.layers[0].inDim) {
      throw new OnnxImportError(
        `calibration[${i}]: ${x.length} values, the model's input has ${chain.mlp.layers[0].inDim}`,
      );
    }
  }
  const q = quantize(chain.mlp, inputs, options.percentiles ?? DEFAULT_PERCENTILES);
  const model = q.model;
  validateModel(model);
  if (options.name !== undefined) model.name = options.name;
  const outDim = chain.mlp.layers[chain.mlp.layers.length - 1].outDim;
  model.metadata = {
    description: `imported from ONNX: ${chain.mlp.layers.map((l) => l.inDim).join("-")}-${outDim} MLP`,
    input: {
      shape: chain.input.shape,
      scale: q.inputScale,
      encoding: `x = clamp(round(${q.inputScale} * v), -128, 127) for each float input v, row-major`,
    },
    output: `${outDim} int8 logits, one unit = ${q.outputScale} of the float logits; class = argmax (lowest index on ties)`,
    source: {
      format: "onnx",
      ...(options.source === undefined ? {} : { file: options.source }),
      sha256: `0x${bytesToHex(sha256(bytes))}`,
      ...(chain.producer === undefined ? {} : { producer: chain.producer }),
      inputName: chain.input.name,
      outputName: chain.output,
    },
    quantization: {
      method: "post-training, symmetric per-layer scales (docs/onnx-import.md)",
      calibrationInputs: inputs.length,
      percentile: q.percentile,
      calibrationArgmaxAgreement: Number(q.calibrationAgreement.toFixed(4)),
    },
    ...(chain.notes.length === 0 ? {} : { notes: chain.notes }),
  };
  return {
    model,
    float: chain.mlp,
    chain,
    inputScale: q.inputScale,
    percentile: q.percentile,
    calibrationAgreement: q.calibrationAgreement,
    gas,
  };
}

import { readFile } from "node:fs/promises";
import {
  INT32_MAX,
  INT32_MIN,
  MAX_DIM,
  MAX_MULTIPLIER,
  MAX_SHIFT,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  PROFILE_NAME,
} from "./constants.js";
import { ModelFormatError } from "./errors.js";
import type { DenseInt8Model, DenseLayer, LayerSpec } from "./types.js";

/** One layer as stored in a model file (version 1). */
export interface ModelFileLayer {
  /** Input width, 1..65,536; equals the previous layer's `outDim`. */
  inDim: number;
  /** Output width, 1..65,536. */
  outDim: number;
  /** Integer in [1, 2^31 - 1]. */
  multiplier: number;
  /** Integer in [0, 62]. */
  shift: number;
  /** Whether the lower clamp is 0. */
  relu: boolean;
  /** Canonical (padded) base64 of `outDim * inDim` two's-complement int8 bytes, row-major. */
  weights: string;
  /** `outDim` integers in the int32 range. */
  biases: number[];
}

/** A model file, version 1 (see docs/protocol.md, part 8, "Model file format"). */
export interface ModelFileV1 {
  /** Always `"verity.dense-int8.model"`. */
  format: typeof MODEL_FORMAT;
  /** Always 1. */
  version: typeof MODEL_FORMAT_VERSION;
  /** Always `"dense-int8-v1"`. */
  profile: typeof PROFILE_NAME;
  /** Optional human-readable name. */
  name?: string;
  /** Optional free-form metadata (input scaling, labels, provenance). Not committed on-chain. */
  metadata?: Record<string, unknown>;
  /** Layers 1..L. */
  layers: ModelFileLayer[];
}

const TOP_KEYS = new Set(["format", "version", "profile", "name", "metadata", "layers"]);
const LAYER_KEYS = new Set(["inDim", "outDim", "multiplier", "shift", "relu", "weights", "biases"]);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : String(v);
}

function integerIn(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ModelFormatError(path, `must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: Set<string>, path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) throw new ModelFormatError(path === "" ? key : `${path}.${key}`, "unknown field");
  }
}

function checkSpec(spec: LayerSpec, path: string, previousOutDim: number | undefined): void {
  integerIn(spec.inDim, `${path}.inDim`, 1, MAX_DIM);
  integerIn(spec.outDim, `${path}.outDim`, 1, MAX_DIM);
  integerIn(spec.multiplier, `${path}.multiplier`, 1, MAX_MULTIPLIER);
  integerIn(spec.shift, `${path}.shift`, 0, MAX_SHIFT);
  if (typeof spec.relu !== "boolean") {
    throw new ModelFormatError(`${path}.relu`, `must be a boolean, got ${describe(spec.relu)}`);
  }
  if (previousOutDim !== undefined && spec.inDim !== previousOutDim) {
    throw new ModelFormatError(
      `${path}.inDim`,
      `must equal the previous layer's outDim ${previousOutDim}, got ${spec.inDim}`,
    );
  }
}

function decodeWeights(v: unknown, path: string, expected: number): Int8Array {
  if (typeof v !== "string") throw new ModelFormatError(path, `must be a base64 string, got ${describe(v)}`);
  const expectedChars = 4 * Math.ceil(expected / 3);
  if (v.length !== expectedChars) {
    throw new ModelFormatError(
      path,
      `must encode inDim * outDim = ${expected} bytes as ${expectedChars} base64 characters, got ${v.length}`,
    );
  }
  if (!BASE64.test(v)) throw new ModelFormatError(path, "is not valid base64");
  const bytes = Buffer.from(v, "base64");
  if (bytes.length !== expected) {
    throw new ModelFormatError(path, `decodes to ${bytes.length} bytes, expected inDim * outDim = ${expected}`);
  }
  if (bytes.toString("base64") !== v) throw new ModelFormatError(path, "is not canonical base64 (padding bits set)");
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice();
}

function decodeBiases(v: unknown, path: string, expected: number): Int32Array {
  if (!Array.isArray(v)) throw new ModelFormatError(path, `must be an array of integers, got ${describe(v)}`);
  if (v.length !== expected) {
    throw new ModelFormatError(path, `must have outDim = ${expected} entries, got ${v.length}`);
  }
  const out = new Int32Array(expected);
  for (let j = 0; j < expected; j++) out[j] = integerIn(v[j], `${path}[${j}]`, INT32_MIN, INT32_MAX);
  return out;
}

/**
 * Parses and validates a model file (version 1).
 *
 * @param source - The file's JSON text, or the already-parsed JSON value.
 * @returns The model with decoded typed-array weights and biases.
 * @throws ModelFormatError naming the first offending field (for example `layers[1].multiplier`).
 */
export function parseModel(source: string | unknown): DenseInt8Model {
  let doc: unknown = source;
  if (typeof source === "string") {
    try {
      doc = JSON.parse(source);
    } catch (err) {
      throw new ModelFormatError("", `is not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isObject(doc)) throw new ModelFormatError("", `must be a JSON object, got ${describe(doc)}`);
  rejectUnknownKeys(doc, TOP_KEYS, "");
  if (doc.format !== MODEL_FORMAT) {
    throw new ModelFormatError("format", `must be ${JSON.stringify(MODEL_FORMAT)}, got ${describe(doc.format)}`);
  }
  if (doc.version !== MODEL_FORMAT_VERSION) {
    throw new ModelFormatError("version", `must be ${MODEL_FORMAT_VERSION}, got ${describe(doc.version)}`);
  }
  if (doc.profile !== PROFILE_NAME) {
    throw new ModelFormatError("profile", `must be ${JSON.stringify(PROFILE_NAME)}, got ${describe(doc.profile)}`);
  }
  if (doc.name !== undefined && typeof doc.name !== "string") {
    throw new ModelFormatError("name", `must be a string, got ${describe(doc.name)}`);
  }
  if (doc.metadata !== undefined && !isObject(doc.metadata)) {
    throw new ModelFormatError("metadata", `must be an object, got ${describe(doc.metadata)}`);
  }
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) {
    throw new ModelFormatError("layers", `must be a non-empty array, got ${describe(doc.layers)}`);
  }
  const layers: DenseLayer[] = [];
  doc.layers.forEach((raw: unknown, i: number) => {
    const path = `layers[${i}]`;
    if (!isObject(raw)) throw new ModelFormatError(path, `must be an object, got ${describe(raw)}`);
    rejectUnknownKeys(raw, LAYER_KEYS, path);
    const spec = {
      inDim: raw.inDim,
      outDim: raw.outDim,
      multiplier: raw.multiplier,
      shift: raw.shift,
      relu: raw.relu,
    } as LayerSpec;
    checkSpec(spec, path, i === 0 ? undefined : layers[i - 1].spec.outDim);
    const weights = decodeWeights(raw.weights, `${path}.weights`, spec.inDim * spec.outDim);
    const biases = decodeBiases(raw.biases, `${path}.biases`, spec.outDim);
    layers.push({ spec, weights, biases });
  });
  const model: DenseInt8Model = { layers };
  if (doc.name !== undefined) model.name = doc.name as string;
  if (doc.metadata !== undefined) model.metadata = doc.metadata as Record<string, unknown>;
  return model;
}

/**
 * Validates an in-memory model (for models built in code rather than parsed).
 *
 * @param model - The model.
 * @throws ModelFormatError naming the first offending field, with the same paths as `parseModel`.
 */
export function validateModel(model: DenseInt8Model): void {
  if (!Array.isArray(model.layers) || model.layers.length === 0) {
    throw new ModelFormatError("layers", "must be a non-empty array");
  }
  model.layers.forEach((layer, i) => {
    const path = `layers[${i}]`;
    checkSpec(layer.spec, path, i === 0 ? undefined : model.layers[i - 1].spec.outDim);
    if (!(layer.weights instanceof Int8Array) || layer.weights.length !== layer.spec.inDim * layer.spec.outDim) {
      throw new ModelFormatError(`${path}.weights`, `must be an Int8Array of inDim * outDim entries`);
    }
    if (!(layer.biases instanceof Int32Array) || layer.biases.length !== layer.spec.outDim) {
      throw new ModelFormatError(`${path}.biases`, `must be an Int32Array of outDim entries`);
    }
  });
}

/**
 * The file representation of a model (version 1).
 *
 * @param model - A valid model.
 * @returns The JSON-ready object.
 */
export function toModelFile(model: DenseInt8Model): ModelFileV1 {
  validateModel(model);
  const layers = model.layers.map(({ spec, weights, biases }) => ({
    inDim: spec.inDim,
    outDim: spec.outDim,
    multiplier: spec.multiplier,
    shift: spec.shift,
    relu: spec.relu,
    weights: Buffer.from(weights.buffer, weights.byteOffset, weights.length).toString("base64"),
    biases: Array.from(biases),
  }));
  const file: ModelFileV1 = { format: MODEL_FORMAT, version: MODEL_FORMAT_VERSION, profile: PROFILE_NAME, layers };
  if (model.name !== undefined) file.name = model.name;
  if (model.metadata !== undefined) file.metadata = model.metadata;
  return file;
}

/**
 * Serializes a model to the text of a model file (2-space indented JSON with a trailing newline).
 *
 * @param model - A valid model.
 * @returns The file text.
 */
export function stringifyModel(model: DenseInt8Model): string {
  return `${JSON.stringify(toModelFile(model), null, 2)}\n`;
}

/**
 * Reads and validates a model file from disk.
 *
 * @param path - File path.
 * @returns The model.
 * @throws ModelFormatError when the file is not a valid model.
 */
export async function readModelFile(path: string): Promise<DenseInt8Model> {
  return parseModel(await readFile(path, "utf8"));
}

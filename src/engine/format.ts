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

/** Largest number of layers of a model (`L`); the registry enforces the same bound on-chain. */
export const MAX_LAYERS = 256;

const TOP_KEYS = new Set(["format", "version", "profile", "name", "metadata", "layers"]);
const LAYER_KEYS = new Set(["inDim", "outDim", "multiplier", "shift", "relu", "weights", "biases"]);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The spelling of a JSON integer in a model file: `0`, or an optional `-` and digits without a leading zero. */
const INTEGER_TEXT = /^(?:0|-?[1-9][0-9]*)$/;

/**
 * A JSON number whose source text is not an integer literal (`1.0`, `3e0`, `-0`, `1e400`, `0.5`). The reader
 * keeps it apart from plain numbers so that no field expecting an integer accepts it; inside `metadata`
 * (free-form, not committed) it is turned back into its value.
 */
class NonIntegerLiteral {
  constructor(
    readonly source: string,
    readonly value: number,
  ) {}
}

/** JSON.parse reviver: wraps every number not written as an integer literal (needs Node 22+ source access). */
function reviveNumber(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number") return value;
  const source = context?.source;
  if (source === undefined) throw new Error("JSON.parse does not expose source text (Node 22 or later is needed)");
  return INTEGER_TEXT.test(source) ? value : new NonIntegerLiteral(source, value);
}

/** `metadata` with every wrapped number replaced by its value. */
function plain(v: unknown): unknown {
  if (v instanceof NonIntegerLiteral) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/**
 * The path of the first member of `text` (valid JSON) whose key repeats an earlier key of the same object,
 * keys compared after unescaping; `undefined` when there is none. JSON.parse silently keeps the last one.
 */
function firstDuplicateKey(text: string): string | undefined {
  type Frame = { keys?: Set<string>; path: string; key: string; index: number; expectKey: boolean };
  const frames: Frame[] = [];
  const childPath = (f: Frame | undefined): string => {
    if (f === undefined) return "";
    if (f.keys === undefined) return `${f.path}[${f.index}]`;
    return f.path === "" ? f.key : `${f.path}.${f.key}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = frames[frames.length - 1];
    if (c === '"') {
      let j = i + 1;
      for (; text[j] !== '"'; j++) if (text[j] === "\\") j++;
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        top.key = key;
        if (top.keys.has(key)) return childPath(top);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      frames.push({
        keys: c === "{" ? new Set() : undefined,
        path: childPath(top),
        key: "",
        index: 0,
        expectKey: true,
      });
    } else if (c === "}" || c === "]") {
      frames.pop();
    } else if (c === "," && top !== undefined) {
      if (top.keys === undefined) top.index++;
      else top.expectKey = true;
    }
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof NonIntegerLiteral);
}

function describe(v: unknown): string {
  if (v instanceof NonIntegerLiteral) return `${v.source} (not an integer literal)`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (v === undefined) return "nothing (the field is missing)";
  return typeof v === "object" ? "an object" : String(v);
}

function integerIn(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ModelFormatError(path, `must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

/**
 * The JSON value of a model file's text, read strictly (docs/protocol.md section 8.7): no byte-order mark,
 * no duplicate key anywhere, and every number outside `metadata` written as an integer literal.
 */
function parseText(text: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) throw new ModelFormatError("", "starts with a byte-order mark (U+FEFF)");
  let doc: unknown;
  try {
    doc = JSON.parse(text, reviveNumber);
  } catch (err) {
    throw new ModelFormatError("", `is not valid JSON (${(err as Error).message})`);
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) throw new ModelFormatError(duplicate, "duplicate key");
  return doc;
}

/**
 * Strict UTF-8 decoding: malformed bytes are an error (not U+FFFD) and a byte-order mark is kept (so that
 * `parseText` rejects it).
 */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ModelFormatError("", "is not valid UTF-8");
  }
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
 * Given the file's bytes or text, it applies every rule of docs/protocol.md section 8.7, including the
 * rules on the text (strict UTF-8, no byte-order mark, no duplicate keys, integers written as integer
 * literals). Given an already-parsed value, only the rules on values apply: the spelling of the text is gone.
 *
 * @param source - The file's bytes (UTF-8), its text, or the already-parsed JSON value.
 * @returns The model with decoded typed-array weights and biases.
 * @throws ModelFormatError naming the first offending field (for example `layers[1].multiplier`).
 */
export function parseModel(source: Uint8Array | string | unknown): DenseInt8Model {
  let doc: unknown = source;
  if (source instanceof Uint8Array) doc = parseText(decodeUtf8(source));
  else if (typeof source === "string") doc = parseText(source);
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
  if (doc.layers.length > MAX_LAYERS) {
    throw new ModelFormatError("layers", `must have at most ${MAX_LAYERS} layers, got ${doc.layers.length}`);
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
  if (doc.metadata !== undefined) model.metadata = plain(doc.metadata) as Record<string, unknown>;
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
  if (model.layers.length > MAX_LAYERS) {
    throw new ModelFormatError("layers", `must have at most ${MAX_LAYERS} layers, got ${model.layers.length}`);
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
  return parseModel(new Uint8Array(await readFile(path)));
}

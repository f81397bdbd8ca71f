/**
 * The calibration file: a JSON array of input vectors, each an array of `inDim` finite numbers (the
 * input tensor without its batch dimension, flattened row-major), e.g. `[[0, 0.5, ...], [...]]`.
 */
import { OnnxImportError } from "./errors.js";

/** Most calibration inputs read (more add time, not accuracy). */
export const MAX_CALIBRATION_INPUTS = 100_000;

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "string") return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v);
  return v === null ? "null" : typeof v === "object" ? "an object" : String(v);
}

/**
 * Parses a calibration file.
 *
 * @param text - The file's text.
 * @param inDim - The model's input width.
 * @returns The inputs.
 * @throws OnnxImportError naming the first offending entry (`calibration[3][17]`).
 */
export function parseCalibration(text: string, inDim: number): Float64Array[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new OnnxImportError(`calibration: not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(doc) || doc.length === 0) {
    throw new OnnxImportError(`calibration: must be a non-empty JSON array of input vectors, got ${describe(doc)}`);
  }
  if (doc.length > MAX_CALIBRATION_INPUTS) {
    throw new OnnxImportError(`calibration: ${doc.length} inputs, at most ${MAX_CALIBRATION_INPUTS} are read`);
  }
  return doc.map((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== inDim) {
      throw new OnnxImportError(
        `calibration[${i}]: must be an array of ${inDim} numbers (the model's input), got ${describe(row)}`,
      );
    }
    const out = new Float64Array(inDim);
    for (let k = 0; k < inDim; k++) {
      const v: unknown = row[k];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new OnnxImportError(`calibration[${i}][${k}]: must be a finite number, got ${describe(v)}`);
      }
      out[k] = v;
    }
    return out;
  });
}

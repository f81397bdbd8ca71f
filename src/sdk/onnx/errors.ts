/**
 * Why an ONNX file (or its calibration inputs) cannot become a `dense-int8-v1` model: one line that names
 * the node and op, the graph input or the registry bound at fault. The CLI prints it as is.
 */
export class OnnxImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OnnxImportError";
  }
}

/** A name read from the file, quoted and cut short: names are untrusted text (JSON.stringify escapes controls). */
export function quoted(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
}

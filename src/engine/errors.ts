/**
 * A model file (or an in-memory model) that does not satisfy the `dense-int8-v1` format.
 * `path` names the offending field in JSON-path style, for example `layers[1].multiplier`.
 */
export class ModelFormatError extends Error {
  /** JSON path of the offending field (`""` for the document root). */
  readonly path: string;

  /**
   * @param path - JSON path of the offending field.
   * @param reason - What is wrong with it.
   */
  constructor(path: string, reason: string) {
    super(`${path === "" ? "model" : path}: ${reason}`);
    this.name = "ModelFormatError";
    this.path = path;
  }
}

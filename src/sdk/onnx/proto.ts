/**
 * Reading ONNX protobuf messages with the maintained definitions of the npm `onnx-proto` package
 * (protobufjs code generated from onnx.proto): decoding, int64 fields, and tensors as float or int64 values.
 */
import onnxProto from "onnx-proto";
import { OnnxImportError, quoted } from "./errors.js";

/** The generated `onnx` namespace (ModelProto, GraphProto, TensorProto, ...). */
export const onnx = onnxProto.onnx;

/** A decoded ONNX tensor. */
export type Tensor = onnxProto.onnx.ITensorProto;

/** A decoded node. */
export type NodeProto = onnxProto.onnx.INodeProto;
/** A decoded node attribute. */
export type AttributeProto = onnxProto.onnx.IAttributeProto;
/** A decoded graph input or output. */
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
/** A decoded tensor dimension (a `dimValue` or a `dimParam`). */
export type Dimension = onnxProto.onnx.TensorShapeProto.Dimension;

/** An int64 field as protobufjs decodes it: a number, or a `Long` when the `long` package is present. */
type Int64 = number | { toString(): string } | null | undefined;

/** `TensorProto.DataType` values the importer reads. */
export const DataType = onnx.TensorProto.DataType;

/**
 * Decodes the bytes of an `.onnx` file.
 *
 * @param bytes - The file.
 * @returns The model message.
 * @throws OnnxImportError when the bytes are not a ModelProto with a graph.
 */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxImportError(`not an ONNX model (protobuf: ${(error as Error).message.split("\n")[0]})`);
  }
  if (model.graph === null || model.graph === undefined) throw new OnnxImportError("not an ONNX model (no graph)");
  return model;
}

/**
 * An int64 field as a JavaScript number.
 *
 * @param v - The field.
 * @param what - What it is, for the error.
 * @returns The value (0 when unset).
 * @throws OnnxImportError when it is not a safe integer.
 */
export function int64(v: Int64, what: string): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === "number" ? v : Number(BigInt(v.toString()));
  if (!Number.isSafeInteger(n)) throw new OnnxImportError(`${what}: ${v.toString()} is out of range`);
  return n;
}

/** The name of a `TensorProto.DataType` value (`FLOAT`, `INT32`, ...), lower-cased. */
export function dataTypeName(type: number | null | undefined): string {
  const name = (DataType as unknown as Record<number, string | undefined>)[type ?? 0];
  return name === undefined ? `data type ${type}` : name.toLowerCase();
}

/** The dims of a tensor as numbers, each a non-negative safe integer. */
export function dimsOf(t: Tensor, where: string): number[] {
  return (t.dims ?? []).map((d, i) => {
    const n = int64(d, `${where}: dimension ${i}`);
    if (n < 0) throw new OnnxImportError(`${where}: dimension ${i} is negative (${n})`);
    return n;
  });
}

/** The element count of dims (1 for a scalar), refused above `limit`. */
export function sizeOf(dims: readonly number[], where: string, limit: number): number {
  let size = 1;
  for (const d of dims) {
    size *= d;
    if (size > limit) throw new OnnxImportError(`${where}: ${dims.join("x")} holds more than ${limit} values`);
  }
  return size;
}

/** Refuses weights kept outside the file: the importer reads one file, never paths named inside it. */
function refuseExternal(t: Tensor, where: string): void {
  const external = t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length > 0;
  if (!external) return;
  const location = (t.externalData ?? []).find((e) => e.key === "location")?.value;
  throw new OnnxImportError(
    `${where} is stored in an external data file${location ? ` (${quoted(location)})` : ""}; only weights inside the .onnx file are imported`,
  );
}

function view(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * A float tensor's values as doubles (float32 values are exact in a double).
 *
 * @param t - The tensor (FLOAT or DOUBLE, raw bytes or a value list).
 * @param where - What it is (`node "fc1" (Gemm): weight "W"`), for errors.
 * @param limit - Most values accepted (the caller's registry bound).
 * @returns The dims and the values in row-major order.
 * @throws OnnxImportError for external data, a non-float type, a size mismatch or a non-finite value.
 */
export function floatTensor(t: Tensor, where: string, limit: number): { dims: number[]; values: Float64Array } {
  refuseExternal(t, where);
  if (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE) {
    throw new OnnxImportError(`${where} is ${dataTypeName(t.dataType)}; only float and double weights are imported`);
  }
  if (t.segment !== null && t.segment !== undefined) throw new OnnxImportError(`${where} is segmented`);
  const dims = dimsOf(t, where);
  const size = sizeOf(dims, where, limit);
  const double = t.dataType === DataType.DOUBLE;
  const raw = t.rawData ?? new Uint8Array(0);
  const list = (double ? t.doubleData : t.floatData) ?? [];
  const values = new Float64Array(size);
  if (raw.length > 0) {
    const width = double ? 8 : 4;
    if (raw.length !== size * width) {
      throw new OnnxImportError(`${where}: ${raw.length} raw bytes for ${dims.join("x")} values of ${width} bytes`);
    }
    const v = view(raw);
    for (let i = 0; i < size; i++) values[i] = double ? v.getFloat64(8 * i, true) : v.getFloat32(4 * i, true);
  } else {
    if (list.length !== size)
      throw new OnnxImportError(`${where}: ${list.length} values for shape [${dims.join(", ")}]`);
    // protobufjs decodes a float field into a double holding the float32 value; re-round a hand-built one.
    for (let i = 0; i < size; i++) values[i] = double ? list[i] : Math.fround(list[i]);
  }
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(values[i])) throw new OnnxImportError(`${where} holds a non-finite value (${values[i]})`);
  }
  return { dims, values };
}

/**
 * An int64 tensor's values (a `Reshape` shape).
 *
 * @param t - The tensor (INT64, raw bytes or a value list).
 * @param where - What it is, for errors.
 * @returns The values.
 * @throws OnnxImportError for another type, external data, a size mismatch or an unsafe integer.
 */
export function int64Tensor(t: Tensor, where: string): number[] {
  refuseExternal(t, where);
  if (t.dataType !== DataType.INT64) throw new OnnxImportError(`${where} is ${dataTypeName(t.dataType)}, not int64`);
  const size = sizeOf(dimsOf(t, where), where, 64);
  const raw = t.rawData ?? new Uint8Array(0);
  if (raw.length > 0) {
    if (raw.length !== 8 * size)
      throw new OnnxImportError(`${where}: ${raw.length} raw bytes for ${size} int64 values`);
    const v = view(raw);
    return Array.from({ length: size }, (_, i) => int64(v.getBigInt64(8 * i, true), where));
  }
  const list = t.int64Data ?? [];
  if (list.length !== size) throw new OnnxImportError(`${where}: ${list.length} values for ${size} int64 values`);
  return list.map((x) => int64(x, where));
}

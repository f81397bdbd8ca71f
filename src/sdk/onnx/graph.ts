/**
 * Graph-to-chain extraction: turns an ONNX graph into the chain of dense layers `dense-int8-v1` runs, or
 * refuses it with one line naming the node and op. What real exporters write around a dense MLP is
 * accepted (see docs/onnx-import.md): Gemm (transB, alpha, beta), MatMul + Add, Relu, Identity, a
 * Flatten/Reshape of the input, Constant nodes, a symbolic batch dimension, and a trailing
 * ArgMax/Softmax/ZipMap on a classifier, dropped with a note (the imported model outputs the logits).
 */
import { MAX_DIM } from "../../engine/index.js";
import { MAX_LAYERS } from "../../engine/format.js";
import { OnnxImportError, quoted } from "./errors.js";
import type { FloatLayer, FloatMlp } from "./float.js";
import {
  DataType,
  dataTypeName,
  decodeModel,
  floatTensor,
  int64,
  int64Tensor,
  type AttributeProto,
  type Dimension,
  type NodeProto,
  type Tensor,
  type ValueInfoProto,
} from "./proto.js";

type Node = NodeProto;
type Attribute = AttributeProto;

/** What `extractChain` found. */
export interface ExtractedChain {
  /** The dense layers, in order. */
  mlp: FloatMlp;
  /** The graph input's name and its shape as written (`N` for the symbolic batch dimension). */
  input: { name: string; shape: string };
  /** The value whose content the imported model outputs (the last layer's output). */
  output: string;
  /** One sentence per node dropped or folded that changes what the model outputs. */
  notes: string[];
  /** `producer_name producer_version` of the file, when it names one. */
  producer?: string;
}

/** Ops of the trailing classifier head: they do not change the argmax of the logits, which is the output. */
const TAIL_OPS = new Set(["ArgMax", "Softmax", "ZipMap"]);
const BODY_OPS = "Gemm, MatMul, Add (a bias), Relu, Identity, Flatten, Reshape, Constant";
/** Most values of one weight tensor: a layer of `MAX_DIM` x `MAX_DIM`. */
const MAX_TENSOR = MAX_DIM * MAX_DIM;

/** How a node is named in messages: `node "fc1" (Gemm)`, or by its index when it has no name. */
function label(node: Node, index: number): string {
  const domain = node.domain && node.domain !== "ai.onnx" ? `${node.domain}.` : "";
  const name = node.name ? `node ${quoted(node.name)}` : `node #${index}`;
  return `${name} (${domain}${node.opType})`;
}

/** The op as the importer knows it, or undefined for ops of other domains (com.microsoft, ...). */
function opOf(node: Node): string | undefined {
  const domain = node.domain ?? "";
  if (domain === "" || domain === "ai.onnx") return node.opType ?? "";
  if (domain === "ai.onnx.ml" && node.opType === "ZipMap") return "ZipMap";
  return undefined;
}

function attribute(node: Node, name: string): Attribute | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function intAttribute(node: Node, name: string, fallback: number, where: string): number {
  const a = attribute(node, name);
  return a === undefined ? fallback : int64(a.i, `${where}: attribute ${name}`);
}

function floatAttribute(node: Node, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a === undefined ? fallback : (a.f ?? 0);
}

/** The tensor a Constant node produces (`value`, or one of the scalar/list forms tf2onnx and others write). */
function constantTensor(node: Node, where: string): Tensor {
  const attrs = node.attribute ?? [];
  if (attrs.length !== 1) throw new OnnxImportError(`${where}: a Constant needs exactly one value attribute`);
  const a = attrs[0];
  switch (a.name) {
    case "value":
      if (a.t === null || a.t === undefined) throw new OnnxImportError(`${where}: attribute value holds no tensor`);
      return a.t;
    case "value_float":
      return { dataType: DataType.FLOAT, dims: [], floatData: [a.f ?? 0] };
    case "value_floats":
      return { dataType: DataType.FLOAT, dims: [(a.floats ?? []).length], floatData: a.floats ?? [] };
    case "value_int":
      return { dataType: DataType.INT64, dims: [], int64Data: [a.i ?? 0] };
    case "value_ints":
      return { dataType: DataType.INT64, dims: [(a.ints ?? []).length], int64Data: a.ints ?? [] };
    default:
      throw new OnnxImportError(`${where}: attribute ${a.name} is not supported (value, value_float(s), value_int(s))`);
  }
}

/** The activation's shape while walking: a batch dimension or not, and the other dimensions. */
interface Shape {
  batch: boolean;
  dims: number[];
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const showShape = (s: Shape) => `[${[...(s.batch ? ["N"] : []), ...s.dims].join(", ")}]`;

/** Reads the graph input's shape: a symbolic (or size-1) batch dimension first, every other dimension fixed. */
function inputShape(value: ValueInfoProto): Shape {
  const where = `graph input ${quoted(value.name ?? "")}`;
  const tensor = value.type?.tensorType;
  if (tensor === null || tensor === undefined) throw new OnnxImportError(`${where} is not a tensor`);
  if (tensor.elemType !== DataType.FLOAT && tensor.elemType !== DataType.DOUBLE) {
    throw new OnnxImportError(`${where} is ${dataTypeName(tensor.elemType)}; only float inputs are imported`);
  }
  const dims = tensor.shape?.dim;
  if (dims === null || dims === undefined || dims.length === 0) {
    throw new OnnxImportError(`${where} has no shape (the importer needs its feature dimensions)`);
  }
  const fixed = dims.map((d) => ((d as Dimension).value === "dimValue" ? int64(d.dimValue, where) : undefined));
  const batch = dims.length > 1 && (fixed[0] === undefined || fixed[0] === 1);
  if (dims.length > 1 && !batch) {
    throw new OnnxImportError(`${where}: dimension 0 is ${fixed[0]}; the batch dimension must be symbolic or 1`);
  }
  const rest: number[] = [];
  for (let i = batch ? 1 : 0; i < dims.length; i++) {
    const n = fixed[i];
    if (n === undefined) {
      const name = dims[i].dimParam ? ` (${quoted(dims[i].dimParam!)})` : "";
      throw new OnnxImportError(`${where}: dimension ${i} is dynamic${name}; only the first (batch) dimension may be`);
    }
    if (n < 1) throw new OnnxImportError(`${where}: dimension ${i} is ${n}`);
    rest.push(n);
  }
  if (product(rest) > MAX_DIM) {
    throw new OnnxImportError(
      `${where} has ${product(rest)} features, above the registry's bound of ${MAX_DIM} per layer (inDim)`,
    );
  }
  return { batch, dims: rest };
}

/**
 * Extracts the chain of dense layers from an ONNX file.
 *
 * @param bytes - The `.onnx` file.
 * @returns The float MLP, its input and output names, and notes on what was dropped.
 * @throws OnnxImportError (one line naming the node and op) for anything dense-int8-v1 cannot express.
 */
export function extractChain(bytes: Uint8Array): ExtractedChain {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const constants = new Map<string, { tensor: Tensor; from: string }>();
  for (const t of graph.initializer ?? [])
    constants.set(t.name ?? "", { tensor: t, from: `initializer ${quoted(t.name ?? "")}` });
  nodes.forEach((node, i) => {
    if (opOf(node) !== "Constant") return;
    const where = label(node, i);
    const tensor = constantTensor(node, where);
    for (const out of node.output ?? []) constants.set(out, { tensor, from: where });
  });
  const sparse = new Set((graph.sparseInitializer ?? []).map((s) => s.values?.name ?? ""));

  // Older exporters list initializers among the graph inputs too: those are weights, not the input.
  const inputs = (graph.input ?? []).filter((v) => !constants.has(v.name ?? ""));
  if (inputs.length !== 1) {
    throw new OnnxImportError(
      `the graph has ${inputs.length} inputs (${inputs.map((v) => quoted(v.name ?? "")).join(", ")}); dense-int8-v1 takes one input vector`,
    );
  }
  const inputName = inputs[0].name ?? "";
  let shape = inputShape(inputs[0]);
  const inputShapeText = showShape(shape);
  const outputs = new Set((graph.output ?? []).map((v) => v.name ?? ""));

  const consumers = new Map<string, number[]>();
  nodes.forEach((node, i) => {
    if (opOf(node) === "Constant") return;
    for (const name of new Set(node.input ?? [])) {
      if (name === "" || constants.has(name)) continue;
      consumers.set(name, [...(consumers.get(name) ?? []), i]);
    }
  });

  const visited = new Set<number>();
  const layers: FloatLayer[] = [];
  const notes: string[] = [];
  /** After a dense layer (a bias may still fold in), after its ReLU, or before any layer. */
  let state: "input" | "layer" | "relu" = "input";
  let cur = inputName;

  /** The constant inputs of `node` other than `cur`, which must be its input `curIndex` exactly once. */
  const operands = (node: Node, where: string, curIndex: number): (Tensor | undefined)[] => {
    const ins = node.input ?? [];
    if (ins.filter((x) => x === cur).length !== 1 || ins[curIndex] !== cur) {
      throw new OnnxImportError(
        `${where}: takes ${quoted(cur)} as input ${ins.indexOf(cur)}, not ${curIndex}, or more than once; the importer reads a chain of dense layers`,
      );
    }
    return ins.map((name, k) => {
      if (k === curIndex || name === "") return undefined;
      const c = constants.get(name);
      if (c !== undefined) return c.tensor;
      if (sparse.has(name))
        throw new OnnxImportError(
          `${where}: weight ${quoted(name)} is a sparse tensor; only dense weights are imported`,
        );
      throw new OnnxImportError(
        `${where}: input ${quoted(name)} is neither the previous value nor a constant; the graph is not a chain`,
      );
    });
  };

  const bias = (t: Tensor, where: string, outDim: number, scale: number): Float64Array => {
    const { dims, values } = floatTensor(t, where, MAX_TENSOR);
    const ok =
      values.length === 1
        ? dims.every((d) => d === 1)
        : values.length === outDim && dims.every((d, i) => d === (i === dims.length - 1 ? outDim : 1));
    if (!ok)
      throw new OnnxImportError(
        `${where} has shape [${dims.join(", ")}]; a bias is [${outDim}], [1, ${outDim}] or a scalar`,
      );
    return Float64Array.from({ length: outDim }, (_, j) => scale * values[values.length === 1 ? 0 : j]);
  };

  const features = (where: string): number => {
    if (shape.dims.length !== 1) {
      throw new OnnxImportError(
        `${where}: its input has shape ${showShape(shape)}; flatten it to [N, ${product(shape.dims)}] first`,
      );
    }
    return shape.dims[0];
  };

  const addLayer = (layer: FloatLayer, where: string) => {
    if (layer.outDim > MAX_DIM) {
      throw new OnnxImportError(
        `${where}: ${layer.outDim} outputs, above the registry's bound of ${MAX_DIM} per layer (outDim)`,
      );
    }
    if (layers.length === MAX_LAYERS)
      throw new OnnxImportError(`${where}: more than ${MAX_LAYERS} layers, the registry's bound`);
    layers.push(layer);
    shape = { batch: shape.batch, dims: [layer.outDim] };
  };

  for (;;) {
    const next = consumers.get(cur) ?? [];
    if (next.length === 0) {
      if (!outputs.has(cur)) throw new OnnxImportError(`value ${quoted(cur)} reaches no graph output`);
      break;
    }
    if (next.every((i) => TAIL_OPS.has(opOf(nodes[i]) ?? ""))) break;
    if (next.length > 1 || outputs.has(cur)) {
      const i = next.find((k) => !TAIL_OPS.has(opOf(nodes[k]) ?? "")) ?? next[0];
      const other = next.find((k) => k !== i);
      const also = other === undefined ? "is also a graph output" : `also feeds ${label(nodes[other], other)}`;
      throw new OnnxImportError(`${label(nodes[i], i)}: the graph is not a chain (its input ${quoted(cur)} ${also})`);
    }
    const index = next[0];
    const node = nodes[index];
    const where = label(node, index);
    visited.add(index);
    const outs = (node.output ?? []).filter((o) => o !== "");
    if (outs.length !== 1) throw new OnnxImportError(`${where}: ${outs.length} outputs; a chain node has one`);
    switch (opOf(node)) {
      case "Identity":
        operands(node, where, 0);
        break;
      case "Flatten": {
        operands(node, where, 0);
        const rank = shape.dims.length + (shape.batch ? 1 : 0);
        let axis = intAttribute(node, "axis", 1, where);
        if (axis < 0) axis += rank;
        if (axis !== (shape.batch ? 1 : 0)) {
          throw new OnnxImportError(`${where}: axis ${axis} does not flatten the features of ${showShape(shape)}`);
        }
        shape = { batch: shape.batch, dims: [product(shape.dims)] };
        break;
      }
      case "Reshape": {
        const [, target] = operands(node, where, 0);
        if (target === undefined) throw new OnnxImportError(`${where}: no shape input`);
        const wanted = int64Tensor(target, `${where}: shape`);
        const allowZero = intAttribute(node, "allowzero", 0, where) !== 0;
        const full: (number | "N")[] = [...(shape.batch ? (["N"] as const) : []), ...shape.dims];
        const resolved = wanted.map((d, i) => (d === 0 && !allowZero ? full[i] : d));
        const f = product(shape.dims);
        const isF = (d: number | "N" | undefined) => d === f || d === -1;
        const flat =
          (resolved.length === 2 &&
            (resolved[0] === "N" || resolved[0] === -1 || (!shape.batch && resolved[0] === 1)) &&
            isF(resolved[1]) &&
            !(resolved[0] === -1 && resolved[1] === -1)) ||
          (resolved.length === 1 && !shape.batch && isF(resolved[0]));
        if (!flat) {
          throw new OnnxImportError(`${where}: shape [${wanted.join(", ")}] is not a flatten of ${showShape(shape)}`);
        }
        shape = { batch: shape.batch || resolved.length === 2, dims: [f] };
        break;
      }
      case "Gemm": {
        const [, b, c] = operands(node, where, 0);
        if (b === undefined) throw new OnnxImportError(`${where}: no weight input B`);
        if (intAttribute(node, "transA", 0, where) !== 0) {
          throw new OnnxImportError(`${where}: transA=1 transposes the activations; only transB is supported`);
        }
        const transB = intAttribute(node, "transB", 0, where) !== 0;
        const alpha = floatAttribute(node, "alpha", 1);
        const beta = floatAttribute(node, "beta", 1);
        const inDim = features(where);
        const w = floatTensor(b, `${where}: weight ${quoted(node.input![1])}`, MAX_TENSOR);
        if (w.dims.length !== 2) throw new OnnxImportError(`${where}: weight B has rank ${w.dims.length}, not 2`);
        const [rows, cols] = w.dims;
        const [wIn, outDim] = transB ? [cols, rows] : [rows, cols];
        if (wIn !== inDim)
          throw new OnnxImportError(`${where}: weight B takes ${wIn} inputs, the previous value has ${inDim}`);
        const weights = new Float64Array(outDim * inDim);
        for (let j = 0; j < outDim; j++)
          for (let k = 0; k < inDim; k++)
            weights[j * inDim + k] = alpha * (transB ? w.values[j * inDim + k] : w.values[k * outDim + j]);
        const biases =
          c === undefined
            ? new Float64Array(outDim)
            : bias(c, `${where}: bias ${quoted(node.input![2])}`, outDim, beta);
        addLayer({ inDim, outDim, weights, biases, relu: false }, where);
        state = "layer";
        break;
      }
      case "MatMul": {
        const [, b] = operands(node, where, 0);
        if (b === undefined) throw new OnnxImportError(`${where}: no weight input`);
        const inDim = features(where);
        const w = floatTensor(b, `${where}: weight ${quoted(node.input![1])}`, MAX_TENSOR);
        if (w.dims.length !== 2) throw new OnnxImportError(`${where}: weight has rank ${w.dims.length}, not 2`);
        const [wIn, outDim] = w.dims;
        if (wIn !== inDim)
          throw new OnnxImportError(`${where}: weight takes ${wIn} inputs, the previous value has ${inDim}`);
        const weights = new Float64Array(outDim * inDim);
        for (let j = 0; j < outDim; j++)
          for (let k = 0; k < inDim; k++) weights[j * inDim + k] = w.values[k * outDim + j];
        addLayer({ inDim, outDim, weights, biases: new Float64Array(outDim), relu: false }, where);
        state = "layer";
        break;
      }
      case "Add": {
        const at = (node.input ?? []).indexOf(cur);
        const ops = operands(node, where, at);
        if (state !== "layer") {
          throw new OnnxImportError(
            `${where}: ${state === "input" ? "adds to the input before any layer" : "follows a Relu"}; only a bias right after Gemm/MatMul folds into a layer`,
          );
        }
        const last = layers[layers.length - 1];
        const add = bias(ops[1 - at]!, `${where}: bias ${quoted(node.input![1 - at])}`, last.outDim, 1);
        for (let j = 0; j < last.outDim; j++) last.biases[j] += add[j];
        break;
      }
      case "Relu":
        operands(node, where, 0);
        if (state === "input") throw new OnnxImportError(`${where}: a Relu before any Gemm/MatMul cannot be expressed`);
        layers[layers.length - 1].relu = true;
        state = "relu";
        break;
      default:
        throw new OnnxImportError(
          `${where}: unsupported op; dense-int8-v1 imports ${BODY_OPS} and a trailing ArgMax/Softmax/ZipMap`,
        );
    }
    cur = outs[0];
  }

  if (layers.length === 0) throw new OnnxImportError("the graph holds no Gemm or MatMul layer");
  const logits = cur;
  // The classifier head: every node downstream of the logits is dropped, none of them may be anything else.
  const reached = new Set<string>([logits]);
  const queue = [...(consumers.get(logits) ?? [])];
  while (queue.length > 0) {
    const index = queue.shift()!;
    if (visited.has(index)) continue;
    visited.add(index);
    const node = nodes[index];
    const where = label(node, index);
    const op = opOf(node) ?? "";
    if (!TAIL_OPS.has(op)) {
      throw new OnnxImportError(
        `${where}: unsupported op after the classifier's logits; only ArgMax, Softmax and ZipMap may follow them`,
      );
    }
    const axis = op === "ZipMap" ? -1 : intAttribute(node, "axis", op === "ArgMax" ? 0 : -1, where);
    const classAxis = shape.batch ? [1, -1] : [0, -1];
    if (
      (op === "Softmax" || op === "ArgMax") &&
      (node.input ?? [])[0] !== undefined &&
      reached.has(node.input![0]) &&
      !classAxis.includes(axis)
    ) {
      throw new OnnxImportError(`${where}: axis ${axis} is not the class axis of ${showShape(shape)}`);
    }
    notes.push(`dropped ${where}: the imported model outputs the logits ${quoted(logits)} (class = argmax)`);
    for (const out of node.output ?? []) {
      reached.add(out);
      queue.push(...(consumers.get(out) ?? []));
    }
  }
  nodes.forEach((node, i) => {
    if (!visited.has(i) && opOf(node) !== "Constant") {
      throw new OnnxImportError(
        `${label(node, i)}: not on the chain from the input to the output; the graph is not a chain`,
      );
    }
  });
  for (const out of outputs) {
    if (!reached.has(out))
      throw new OnnxImportError(`graph output ${quoted(out)} does not come from the chain of layers`);
  }
  const producer = [model.producerName, model.producerVersion].filter((s) => s).join(" ");
  return {
    mlp: { layers },
    input: { name: inputName, shape: inputShapeText },
    output: logits,
    notes,
    ...(producer === "" ? {} : { producer }),
  };
}

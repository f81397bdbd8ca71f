/**
 * Writes a float MLP as an ONNX file, the way `torch.onnx.export` writes an `nn.Sequential` of Linear and
 * ReLU: one `Gemm` (transB=1, weights `[out, in]`) per layer, a `Relu` after hidden layers, float32
 * initializers as raw bytes and a symbolic batch dimension. Used for float twins of int8 models (the
 * bench runs onnxruntime on them) and by the tests.
 */
import { DataType, onnx } from "./proto.js";
import type { FloatMlp } from "./float.js";

/** Options of `exportOnnx`. */
export interface ExportOptions {
  /** Graph input name (default `input`). */
  inputName?: string;
  /** Graph output name (default `logits`). */
  outputName?: string;
  /** `producer_name` (default `verity`). */
  producer?: string;
}

function float32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/**
 * Encodes the MLP as an ONNX model (IR version 8, opset 13). Weights are rounded to float32.
 *
 * @param mlp - The MLP.
 * @param options - Names.
 * @returns The `.onnx` file's bytes.
 */
export function exportOnnx(mlp: FloatMlp, options: ExportOptions = {}): Uint8Array {
  const inputName = options.inputName ?? "input";
  const outputName = options.outputName ?? "logits";
  const initializer: InstanceType<typeof onnx.TensorProto>[] = [];
  const node: InstanceType<typeof onnx.NodeProto>[] = [];
  let cur = inputName;
  mlp.layers.forEach((l, i) => {
    const last = i === mlp.layers.length - 1;
    const w = `fc${i + 1}.weight`;
    const b = `fc${i + 1}.bias`;
    initializer.push(
      onnx.TensorProto.create({
        name: w,
        dataType: DataType.FLOAT,
        dims: [l.outDim, l.inDim],
        rawData: float32Bytes(l.weights),
      }),
      onnx.TensorProto.create({ name: b, dataType: DataType.FLOAT, dims: [l.outDim], rawData: float32Bytes(l.biases) }),
    );
    const gemmOut = last && !l.relu ? outputName : `fc${i + 1}`;
    node.push(
      onnx.NodeProto.create({
        name: `/fc${i + 1}/Gemm`,
        opType: "Gemm",
        input: [cur, w, b],
        output: [gemmOut],
        attribute: [
          { name: "alpha", type: onnx.AttributeProto.AttributeType.FLOAT, f: 1 },
          { name: "beta", type: onnx.AttributeProto.AttributeType.FLOAT, f: 1 },
          { name: "transB", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
        ],
      }),
    );
    cur = gemmOut;
    if (l.relu) {
      const reluOut = last ? outputName : `relu${i + 1}`;
      node.push(onnx.NodeProto.create({ name: `/relu${i + 1}/Relu`, opType: "Relu", input: [cur], output: [reluOut] }));
      cur = reluOut;
    }
  });
  const tensorType = (width: number) => ({
    tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: "batch" }, { dimValue: width }] } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: options.producer ?? "verity",
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "mlp",
      node,
      initializer,
      input: [{ name: inputName, type: tensorType(mlp.layers[0].inDim) }],
      output: [{ name: outputName, type: tensorType(mlp.layers[mlp.layers.length - 1].outDim) }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

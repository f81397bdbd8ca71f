/**
 * What the importer refuses, one line each naming the node and op (or the graph input, or the bound):
 * unsupported ops, dynamic non-batch dimensions, non-float weights, external data, graphs that are not a
 * chain, and models the registry's gas bound would refuse. Each file is built here with onnx-proto.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { OnnxImportError, extractChain, importOnnx, type FloatMlp } from "../../src/sdk/onnx/index.js";
import { DataType, type NodeProto, type Tensor, type ValueInfoProto } from "../../src/sdk/onnx/proto.js";
import { runNode, VERITY_BIN } from "../e2e/helpers/cli.js";
import { encodeModel, floatTensor, int64Tensor, node, valueInfo } from "./helpers.js";

/** A 4 -> 3 -> 2 MLP as Gemm (transB) + Relu + Gemm, with its pieces open to change. */
function tiny(
  change: {
    input?: ValueInfoProto[];
    initializer?: Tensor[];
    nodes?: NodeProto[];
    output?: ValueInfoProto[];
  } = {},
): Uint8Array {
  return encodeModel({
    input: change.input ?? [valueInfo("x", ["N", 4])],
    output: change.output ?? [valueInfo("y", ["N", 2])],
    initializer: change.initializer ?? [
      floatTensor("W1", [3, 4], [1, -2, 3, -4, 5, -6, 7, -8, 9, -1, 2, -3]),
      floatTensor("B1", [3], [0.5, -0.5, 0.25]),
      floatTensor("W2", [2, 3], [1, 2, 3, -1, -2, -3]),
      floatTensor("B2", [2], [0.1, -0.1]),
    ],
    node: change.nodes ?? [
      node("Gemm", ["x", "W1", "B1"], ["h"], { transB: 1 }, "fc1"),
      node("Relu", ["h"], ["a"], {}, "act1"),
      node("Gemm", ["a", "W2", "B2"], ["y"], { transB: 1 }, "fc2"),
    ],
  });
}

const refusal = (bytes: Uint8Array, calibration: number[][] = [[1, 2, 3, 4]]): string => {
  try {
    importOnnx(bytes, calibration);
  } catch (error) {
    expect(error).to.be.instanceOf(OnnxImportError);
    const message = (error as Error).message;
    expect(message).to.not.include("\n");
    return message;
  }
  throw new Error("the import did not refuse the file");
};

describe("ONNX import refusals (one line naming the node and op)", function () {
  this.timeout(60_000);

  it("imports the unchanged file (so every refusal below is caused by its one change)", () => {
    const { mlp } = extractChain(tiny());
    expect(mlp.layers.map((l) => [l.inDim, l.outDim, l.relu])).to.deep.equal([
      [4, 3, true],
      [3, 2, false],
    ]);
    expect(Array.from((mlp as FloatMlp).layers[1].weights)).to.deep.equal([1, 2, 3, -1, -2, -3]);
  });

  it("refuses an unsupported op", () => {
    const nodes = [
      node("Gemm", ["x", "W1", "B1"], ["h"], { transB: 1 }, "fc1"),
      node("Sigmoid", ["h"], ["a"], {}, "act1"),
      node("Gemm", ["a", "W2", "B2"], ["y"], { transB: 1 }, "fc2"),
    ];
    expect(refusal(tiny({ nodes }))).to.equal(
      'node "act1" (Sigmoid): unsupported op; dense-int8-v1 imports Gemm, MatMul, Add (a bias), Relu, Identity, Flatten, Reshape, Constant and a trailing ArgMax/Softmax/ZipMap',
    );
  });

  it("refuses an op of another domain by its domain", () => {
    const nodes = [node("FusedGemm", ["x", "W1", "B1"], ["y"], {}, "fused", "com.microsoft")];
    expect(refusal(tiny({ nodes }))).to.match(/^node "fused" \(com\.microsoft\.FusedGemm\): unsupported op; /);
  });

  it("refuses a dynamic dimension other than the batch", () => {
    expect(refusal(tiny({ input: [valueInfo("x", ["N", "features"])] }))).to.equal(
      'graph input "x": dimension 1 is dynamic ("features"); only the first (batch) dimension may be',
    );
  });

  it("refuses integer weights", () => {
    const initializer = [
      { name: "W1", dataType: DataType.INT32, dims: [3, 4], int32Data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3] },
      floatTensor("B1", [3], [0, 0, 0]),
      floatTensor("W2", [2, 3], [1, 2, 3, -1, -2, -3]),
      floatTensor("B2", [2], [0, 0]),
    ];
    expect(refusal(tiny({ initializer }))).to.equal(
      'node "fc1" (Gemm): weight "W1" is int32; only float and double weights are imported',
    );
  });

  it("refuses weights in an external data file (and never opens it)", () => {
    const external: Tensor = {
      name: "W1",
      dataType: DataType.FLOAT,
      dims: [3, 4],
      dataLocation: 1,
      externalData: [
        { key: "location", value: "../../etc/passwd" },
        { key: "offset", value: "0" },
      ],
    };
    const initializer = [
      external,
      floatTensor("B1", [3], [0, 0, 0]),
      floatTensor("W2", [2, 3], [1, 2, 3, -1, -2, -3]),
      floatTensor("B2", [2], [0, 0]),
    ];
    expect(refusal(tiny({ initializer }))).to.equal(
      'node "fc1" (Gemm): weight "W1" is stored in an external data file ("../../etc/passwd"); only weights inside the .onnx file are imported',
    );
  });

  it("refuses a graph that is not a chain (a residual connection)", () => {
    const initializer = [
      floatTensor(
        "W1",
        [4, 4],
        Array.from({ length: 16 }, (_, i) => i - 8),
      ),
      floatTensor("B1", [4], [0, 0, 0, 0]),
      floatTensor("W2", [2, 4], [1, 2, 3, 4, -1, -2, -3, -4]),
    ];
    const nodes = [
      node("Gemm", ["x", "W1", "B1"], ["h"], { transB: 1 }, "fc1"),
      node("Add", ["h", "x"], ["r"], {}, "residual"),
      node("Gemm", ["r", "W2"], ["y"], { transB: 1 }, "fc2"),
    ];
    expect(refusal(tiny({ initializer, nodes }))).to.equal(
      'node "fc1" (Gemm): the graph is not a chain (its input "x" also feeds node "residual" (Add))',
    );
  });

  it("refuses a node off the chain and a second graph output", () => {
    const nodes = [
      node("Gemm", ["x", "W1", "B1"], ["h"], { transB: 1 }, "fc1"),
      node("Relu", ["h"], ["a"], {}, "act1"),
      node("Gemm", ["a", "W2", "B2"], ["y"], { transB: 1 }, "fc2"),
      node("Relu", ["h"], ["side"], {}, "side"),
    ];
    expect(refusal(tiny({ nodes }))).to.equal(
      'node "act1" (Relu): the graph is not a chain (its input "h" also feeds node "side" (Relu))',
    );
  });

  it("refuses a model whose worst honest move breaks the registry's gas bound", () => {
    const inDim = 64_000;
    const bytes = encodeModel({
      input: [valueInfo("x", ["N", inDim])],
      output: [valueInfo("y", ["N", 2])],
      initializer: [floatTensor("W", [2, inDim], new Float32Array(2 * inDim).fill(0.5))],
      node: [node("Gemm", ["x", "W"], ["y"], { transB: 1 }, "wide")],
    });
    expect(refusal(bytes, [new Array(inDim).fill(1)])).to.equal(
      "the model breaks the registry's gas bound: proveNeuron in layer 1 (64000 -> 2) needs 8,422,989 gas, above MAX_HONEST_MOVE_GAS 8,000,000 (ModelRegistryGasBoundExceeded)",
    );
  });

  it("refuses more refusals with the same one line: Add after Relu, Relu first, a Reshape that is no flatten, bytes that are not ONNX", () => {
    const at = (nodes: NodeProto[]) => refusal(tiny({ nodes }));
    expect(
      at([
        node("Gemm", ["x", "W1"], ["h"], { transB: 1 }, "fc1"),
        node("Relu", ["h"], ["a"], {}, "act1"),
        node("Add", ["a", "B1"], ["b"], {}, "late_bias"),
        node("Gemm", ["b", "W2", "B2"], ["y"], { transB: 1 }, "fc2"),
      ]),
    ).to.equal('node "late_bias" (Add): follows a Relu; only a bias right after Gemm/MatMul folds into a layer');
    expect(
      at([node("Relu", ["x"], ["a"], {}, "first"), node("Gemm", ["a", "W1", "B1"], ["y"], { transB: 1 }, "fc1")]),
    ).to.equal('node "first" (Relu): a Relu before any Gemm/MatMul cannot be expressed');
    const reshaped = encodeModel({
      input: [valueInfo("x", ["N", 2, 2])],
      output: [valueInfo("y", ["N", 2])],
      initializer: [floatTensor("W2", [2, 2], [1, 2, 3, 4]), int64Tensor("s", [2, -1])],
      node: [node("Reshape", ["x", "s"], ["f"], {}, "r"), node("Gemm", ["f", "W2"], ["y"], { transB: 1 }, "fc")],
    });
    expect(refusal(reshaped)).to.equal('node "r" (Reshape): shape [2, -1] is not a flatten of [N, 2, 2]');
    expect(refusal(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).to.match(/^not an ONNX model \(protobuf: /);
    expect(refusal(tiny(), [[1, 2, 3]])).to.equal("calibration[0]: 3 values, the model's input has 4");
  });

  it("prints the refusal as one error line from the CLI, exit code 1, no stack", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "verity-onnx-"));
    try {
      const nodes = [node("Conv", ["x", "W1"], ["y"], {}, "conv0")];
      writeFileSync(path.join(dir, "m.onnx"), tiny({ nodes }));
      writeFileSync(path.join(dir, "c.json"), "[[1, 2, 3, 4]]");
      const out = path.join(dir, "m.json");
      const result = await runNode(
        [VERITY_BIN, "model", "import", path.join(dir, "m.onnx"), "--calibration", path.join(dir, "c.json"), "-o", out],
        30_000,
      );
      expect(result.code).to.equal(1);
      expect(result.stderr.trim().split("\n")).to.deep.equal([
        `error: ${path.join(dir, "m.onnx")}: node "conv0" (Conv): unsupported op; dense-int8-v1 imports Gemm, MatMul, Add (a bias), Relu, Identity, Flatten, Reshape, Constant and a trailing ArgMax/Softmax/ZipMap`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

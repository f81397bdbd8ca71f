import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { MAX_LAYERS } from "../../src/engine/format.js";
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

/** The `ModelFormatError` thrown by `parse`, or a failure when it does not throw one. */
function formatError(parse: () => unknown): ModelFormatError {
  try {
    parse();
  } catch (e) {
    expect(e).to.be.instanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  expect.fail("expected a ModelFormatError");
}

/** The small model as file text (2-space JSON), with `edit` applied to the text. */
function smallText(edit: (text: string) => string = (t) => t): string {
  const before = JSON.stringify(small(), null, 2);
  const after = edit(before);
  expect(after, "the edit must change the text").not.to.equal(before);
  return after;
}

function rejectsText(source: string | Uint8Array, path: string, pattern: RegExp): void {
  const err = formatError(() => parseModel(source));
  expect(err.path).to.equal(path);
  expect(err.message).to.match(pattern);
}

/** A model of `n` layers of one neuron each (1 -> 1). */
function deep(n: number): Doc {
  const doc = small();
  doc.layers = Array.from({ length: n }, () => ({
    inDim: 1,
    outDim: 1,
    multiplier: 1,
    shift: 0,
    relu: false,
    weights: "AQ==",
    biases: [0],
  }));
  return doc;
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

  describe("reads the text strictly (section 8.7.1)", function () {
    it("accepts the same document in any whitespace layout", () => {
      const compact = JSON.stringify(small());
      expect(stringifyModel(parseModel(compact))).to.equal(stringifyModel(parseModel(smallText((t) => `${t}\n`))));
      expect(stringifyModel(parseModel(` \n\t${compact}\r\n`))).to.equal(stringifyModel(parseModel(compact)));
    });

    for (const [literal, field, path] of [
      ["1.0", '"version": 1', "version"],
      ["3.0", '"inDim": 3', "layers[0].inDim"],
      ["3e0", '"shift": 3', "layers[0].shift"],
      ["3E0", '"shift": 3', "layers[0].shift"],
      ["30e-1", '"shift": 3', "layers[0].shift"],
      ["5.00", '"multiplier": 5', "layers[0].multiplier"],
      ["1e400", '"multiplier": 5', "layers[0].multiplier"],
      ["-0", '"shift": 0', "layers[1].shift"],
      ["0.0", '"shift": 0', "layers[1].shift"],
    ] as const) {
      it(`rejects the number ${literal} where an integer is expected (${path})`, () => {
        const [key] = field.split(":");
        const text = smallText((t) => {
          // Replace the first occurrence of the field for layer 0 paths, the last one for layer 1 paths.
          const at = path.startsWith("layers[1]") ? t.lastIndexOf(field) : t.indexOf(field);
          return `${t.slice(0, at)}${key}: ${literal}${t.slice(at + field.length)}`;
        });
        // Plain JSON.parse reads all but 1e400 (Infinity) as integers, 1.0 -> 1, 3e0 -> 3, -0 -> 0, so a lax
        // reader accepts the file.
        const lax = (): string => {
          try {
            parseModel(JSON.parse(text));
            return "accepted";
          } catch {
            return "rejected";
          }
        };
        expect(lax()).to.equal(literal === "1e400" ? "rejected" : "accepted");
        rejectsText(text, path, /not an integer literal/);
      });
    }

    it("rejects a non-integer literal inside a bias list", () => {
      rejectsText(
        smallText((t) => t.replace("-1\n", "-1.0\n")),
        "layers[0].biases[1]",
        /-1\.0 \(not an integer literal\)/,
      );
      rejectsText(
        smallText((t) => t.replace("2147483647", "2.147483647e9")),
        "layers[1].biases[0]",
        /not an integer literal/,
      );
    });

    it("accepts any JSON number inside metadata (not committed)", () => {
      const text = smallText((t) =>
        t.replace('"name": "small",', '"metadata": {"a": 0.5, "b": 1e3, "c": -0, "d": [2.50]},'),
      );
      const model = parseModel(text);
      expect(model.metadata).to.deep.equal({ a: 0.5, b: 1000, c: -0, d: [2.5] });
      expect(stringifyModel(model)).to.contain('"b": 1000');
    });

    it("rejects a duplicate key anywhere, even with an equal value, and names it", () => {
      rejectsText(
        smallText((t) => t.replace('"version": 1,', '"version": 1, "version": 1,')),
        "version",
        /duplicate key/,
      );
      rejectsText(
        smallText((t) => t.replace('"shift": 3,', '"shift": 3, "shift": 4,')),
        "layers[0].shift",
        /duplicate key/,
      );
      rejectsText(
        smallText((t) => t.replace('"relu": false,', '"relu": false, "relu": true,')),
        "layers[1].relu",
        /duplicate key/,
      );
      // Keys are compared after unescaping: "\u0073hift" is "shift".
      rejectsText(
        smallText((t) => t.replace('"shift": 3,', '"shift": 3, "\\u0073hift": 3,')),
        "layers[0].shift",
        /duplicate key/,
      );
      rejectsText(
        smallText((t) => t.replace('"name": "small",', '"metadata": {"x": [{"k": 1, "k": 2}]},')),
        "metadata.x[0].k",
        /duplicate key/,
      );
      // JSON.parse alone keeps the last value.
      const text = smallText((t) => t.replace('"shift": 3,', '"shift": 3, "shift": 4,'));
      expect(parseModel(JSON.parse(text)).layers[0].spec.shift).to.equal(4);
    });

    it("tells keys apart from string values and escaped quotes", () => {
      const text = smallText((t) =>
        t.replace(
          '"name": "small",',
          '"name": "\\"layers\\": [", "metadata": {"a\\"b": "a\\"b", "a\\\\": {"a\\"b": 1}, "c": "x\\\\", "d": ["c", "c"]},',
        ),
      );
      const model = parseModel(text);
      expect(model.name).to.equal('"layers": [');
      expect(model.metadata).to.deep.equal({ 'a"b': 'a"b', "a\\": { 'a"b': 1 }, c: "x\\", d: ["c", "c"] });
      rejectsText(
        smallText((t) => t.replace('"name": "small",', '"metadata": {"a\\\\": 1, "a\\\\": 2},')),
        "metadata.a\\",
        /duplicate key/,
      );
    });

    it("compares strings after decoding escapes, and keys case-sensitively", () => {
      const escaped = smallText((t) => t.replace('"dense-int8-v1"', '"dense\\u002dint8-v1"'));
      expect(escaped).to.contain("dense\\u002dint8");
      expect(stringifyModel(parseModel(escaped))).to.equal(stringifyModel(parseModel(small())));
      rejectsText(
        smallText((t) => t.replace('"shift": 3,', '"Shift": 3, "shift": 3,')),
        "layers[0].Shift",
        /unknown field/,
      );
    });

    it("rejects comments, trailing commas and trailing data", () => {
      rejectsText(
        smallText((t) => t.replace('"version": 1,', '"version": 1, // v1\n')),
        "",
        /not valid JSON/,
      );
      rejectsText(
        smallText((t) => t.replace(/-1\n(\s*)\]/, "-1,\n$1]")),
        "",
        /not valid JSON/,
      );
      rejectsText(
        smallText((t) => `${t}\n{}`),
        "",
        /not valid JSON/,
      );
    });

    it("rejects a byte-order mark, as text and as bytes", () => {
      rejectsText(`\ufeff${smallText((t) => `${t}\n`)}`, "", /byte-order mark/);
      rejectsText(
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(small()))]),
        "",
        /byte-order mark/,
      );
    });

    it("reads bytes as strict UTF-8", () => {
      const good = Buffer.from(
        smallText((t) => t.replace('"small"', '"sm\u00e4ll"')),
        "utf8",
      );
      expect(parseModel(good).name).to.equal("sm\u00e4ll");
      const bad = Buffer.from(JSON.stringify(small()).replace('"small"', '"sm@ll"'), "utf8");
      bad[bad.indexOf("@")] = 0xff; // not UTF-8; a lax decoder reads U+FFFD
      expect(new TextDecoder().decode(bad)).to.contain("sm\ufffdll");
      rejectsText(bad, "", /not valid UTF-8/);
      const overlong = Buffer.from(JSON.stringify(small()).replace('"small"', '"sm@@ll"'), "utf8");
      overlong.set([0xc0, 0xaf], overlong.indexOf("@@")); // overlong encoding of "/"
      rejectsText(overlong, "", /not valid UTF-8/);
      for (const seq of [[0x80], [0xed, 0xa0, 0x80]]) {
        // A stray continuation byte; an encoded surrogate (U+D800).
        const b = Buffer.from(JSON.stringify(small()).replace('"small"', '"sm@@@ll"'), "utf8");
        b.set([...seq, ...Array(3 - seq.length).fill(0x61)], b.indexOf("@@@"));
        rejectsText(b, "", /not valid UTF-8/);
      }
    });

    it("reads files from disk with the same rules", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "verity-format-"));
      const bom = path.join(dir, "bom.json");
      writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(small()))]));
      const err = await readModelFile(bom).then(
        () => expect.fail("a file with a byte-order mark was accepted"),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ModelFormatError);
      expect((err as Error).message).to.match(/byte-order mark/);
      const bad = path.join(dir, "bad.json");
      const bytes = Buffer.from(JSON.stringify(small()).replace('"small"', '"sm@ll"'), "utf8");
      bytes[bytes.indexOf("@")] = 0xfe;
      writeFileSync(bad, bytes);
      await readModelFile(bad).then(
        () => expect.fail("a file that is not UTF-8 was accepted"),
        (e: unknown) => expect((e as Error).message).to.match(/not valid UTF-8/),
      );
    });
  });

  describe("fields: null, missing and the number of layers (section 8.7.2)", function () {
    const topLevel = ["format", "version", "profile", "name", "metadata", "layers"];
    const layerFields = ["inDim", "outDim", "multiplier", "shift", "relu", "weights", "biases"];

    for (const key of topLevel) {
      it(`rejects null as ${key}`, () => rejects((d) => (d[key] = null), key, /got null/));
    }
    for (const key of layerFields) {
      it(`rejects null as layers[1].${key}`, () =>
        rejects((d) => (d.layers[1][key] = null), `layers[1].${key}`, /got null/));
    }
    it("rejects null as a layer and as a bias", () => {
      rejects((d) => (d.layers[0] = null), "layers[0]", /got null/);
      rejects((d) => (d.layers[0].biases[0] = null), "layers[0].biases[0]", /got null/);
    });

    for (const key of ["format", "version", "profile", "layers"]) {
      it(`requires ${key}`, () => rejects((d) => delete d[key], key, /missing/));
    }
    for (const key of layerFields) {
      it(`requires layers[0].${key}`, () => rejects((d) => delete d.layers[0][key], `layers[0].${key}`, /missing/));
    }
    it("does not require name or metadata", () => {
      const doc = small();
      delete doc.name;
      expect(parseModel(JSON.stringify(doc)).name).to.equal(undefined);
    });

    it(`accepts ${MAX_LAYERS} layers and rejects ${MAX_LAYERS + 1}`, () => {
      expect(MAX_LAYERS).to.equal(256);
      expect(parseModel(JSON.stringify(deep(256))).layers).to.have.length(256);
      rejectsText(JSON.stringify(deep(257)), "layers", /at most 256 layers, got 257/);
      const model = parseModel(deep(256));
      model.layers.push(model.layers[0]);
      expect(() => validateModel(model)).to.throw(ModelFormatError, /at most 256 layers, got 257/);
    });
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

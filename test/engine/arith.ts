import { expect } from "chai";
import fc from "fast-check";
import {
  argmax,
  dot,
  encodeVector,
  forwardLayer,
  hashVector,
  INT32_MAX,
  INT32_MIN,
  MAX_MULTIPLIER,
  neuron,
  parseModel,
  quantizeInput,
  requantize,
  run,
  traceRoot,
  vectorFromHex,
  vectorToHex,
  WeightsTree,
} from "../../src/engine/index.js";
import type { DenseInt8Model } from "../../src/engine/index.js";

/** Straight from the profile text, in BigInt. */
function reference(acc: bigint, multiplier: number, shift: number, relu: boolean): number {
  let v = acc * BigInt(multiplier);
  if (shift > 0) v = (v + (1n << BigInt(shift - 1))) >> BigInt(shift);
  const lo = relu ? 0n : -128n;
  return Number(v < lo ? lo : v > 127n ? 127n : v);
}

/** Accumulator range of the profile: int32 bias plus a dot product of at most 65,536 int8 pairs. */
const ACC_MIN = INT32_MIN - 65_536 * 128 * 127;
const ACC_MAX = INT32_MAX + 65_536 * 128 * 128;

describe("engine arithmetic", function () {
  it("requantizes exactly like the BigInt reference over the whole accumulator range", function () {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: ACC_MIN, max: ACC_MAX }),
          fc.constantFrom(ACC_MIN, ACC_MAX, 0, 1, -1, INT32_MIN, INT32_MAX),
          fc.integer({ min: -100_000, max: 100_000 }),
        ),
        fc.oneof(fc.integer({ min: 1, max: MAX_MULTIPLIER }), fc.constantFrom(1, MAX_MULTIPLIER, 65_535, 65_536)),
        fc.integer({ min: 0, max: 62 }),
        fc.boolean(),
        (acc, multiplier, shift, relu) => {
          expect(requantize(acc, multiplier, shift, relu)).to.equal(reference(BigInt(acc), multiplier, shift, relu));
        },
      ),
      { numRuns: 50_000 },
    );
  });

  it("requantizes exactly near the int8 range, where rounding decides the result", function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 62 }),
        fc.integer({ min: 1, max: MAX_MULTIPLIER }),
        fc.double({ min: -140, max: 140, noNaN: true }),
        fc.integer({ min: -3, max: 3 }),
        fc.boolean(),
        (shift, multiplier, target, jitter, relu) => {
          const acc = Math.max(ACC_MIN, Math.min(ACC_MAX, Math.round((target * 2 ** shift) / multiplier) + jitter));
          expect(requantize(acc, multiplier, shift, relu)).to.equal(reference(BigInt(acc), multiplier, shift, relu));
        },
      ),
      { numRuns: 50_000 },
    );
  });

  it("rounds exact ties toward plus infinity for every shift", function () {
    for (let shift = 1; shift <= 31; shift++) {
      for (const k of [-129, -3, -1, 0, 1, 2, 126]) {
        const acc = k * 2 ** shift + 2 ** (shift - 1); // (k + 0.5) * 2^shift
        expect(requantize(acc, 1, shift, false), `shift ${shift}, k ${k}`).to.equal(
          Math.max(-128, Math.min(127, k + 1)),
        );
      }
    }
  });

  it("clamps to [-128, 127] without relu and to [0, 127] with it", function () {
    expect(requantize(ACC_MAX, MAX_MULTIPLIER, 0, false)).to.equal(127);
    expect(requantize(ACC_MIN, MAX_MULTIPLIER, 0, false)).to.equal(-128);
    expect(requantize(ACC_MIN, MAX_MULTIPLIER, 0, true)).to.equal(0);
    expect(requantize(-1, 1, 0, true)).to.equal(0);
    expect(requantize(-1, 1, 0, false)).to.equal(-1);
  });

  it("computes exact dot products at offsets and odd lengths", function () {
    const x = encodeVector([1, -2, 3]);
    const w = encodeVector([9, 9, 4, 5, -6]);
    expect(dot(x, w, 2)).to.equal(4 - 10 - 18);
    expect(dot(encodeVector(Array(65_536).fill(-128)), encodeVector(Array(65_536).fill(-128)))).to.equal(2 ** 30);
  });

  it("refuses a neuron whose input, row and spec disagree in length", function () {
    const spec = { inDim: 2, outDim: 1, multiplier: 1, shift: 0, relu: false };
    expect(() => neuron(encodeVector([1, 2]), encodeVector([1]), 0, spec)).to.throw(RangeError, /row length/);
    expect(() => neuron(encodeVector([1]), encodeVector([1]), 0, spec)).to.throw(RangeError, /inDim/);
    expect(neuron(encodeVector([1, 2]), encodeVector([3, 4]), 1, spec)).to.equal(12);
  });
});

describe("engine run and helpers", function () {
  const model: DenseInt8Model = parseModel({
    format: "verity.dense-int8.model",
    version: 1,
    profile: "dense-int8-v1",
    layers: [
      { inDim: 3, outDim: 2, multiplier: 5, shift: 3, relu: true, weights: "AQL/gH8A", biases: [1, -1] },
      { inDim: 2, outDim: 2, multiplier: 3, shift: 1, relu: false, weights: "gH8BAg==", biases: [7, -9] },
    ],
  });

  it("runs layer by layer and commits to every activation", function () {
    const input = encodeVector([10, -20, 30]);
    const r = run(model, input);
    // Layer 1: acc0 = 1 + 10 - 40 - 30 = -59 -> relu 0; acc1 = -1 - 1280 - 2540 + 0 = -3821 -> relu 0.
    expect(Array.from(r.activations[1])).to.deep.equal([0, 0]);
    // Layer 2: acc = bias; v = floor((3 * acc + 1) / 2): 7 -> 11, -9 -> -13.
    expect(Array.from(r.output)).to.deep.equal([11, -13]);
    expect(r.activations).to.have.length(3);
    expect(r.activations[0]).to.deep.equal(input);
    expect(r.activations[0]).not.to.equal(input); // a copy, not the caller's buffer
    expect(r.layerHashes).to.deep.equal(r.activations.map(hashVector));
    expect(r.inputHash).to.equal(r.layerHashes[0]);
    expect(r.outputHash).to.equal(r.layerHashes[2]);
    expect(r.traceRoot).to.equal(traceRoot(r.layerHashes));
    expect(r.activations[2]).to.deep.equal(forwardLayer(model.layers[1], r.activations[1]));
  });

  it("accepts plain arrays and rejects inputs that are not int8 vectors of inDim", function () {
    expect(run(model, [10, -20, 30]).traceRoot).to.equal(run(model, encodeVector([10, -20, 30])).traceRoot);
    expect(() => run(model, [1, 2])).to.throw(RangeError, /inDim 3/);
    expect(() => run(model, [1, 2, 128])).to.throw(RangeError, /vector\[2\]/);
    expect(() => run(model, [1, 2, 0.5])).to.throw(RangeError, /vector\[2\]/);
  });

  it("quantizes inputs with round-half-up and clamping", function () {
    expect(Array.from(quantizeInput([0, 1, 0.5, 0.996, -2, 3], 127))).to.deep.equal([0, 127, 64, 126, -128, 127]);
  });

  it("encodes vectors as two's-complement bytes", function () {
    const v = encodeVector([0, 1, -1, 127, -128]);
    expect(vectorToHex(v)).to.equal("0x0001ff7f80");
    expect(vectorFromHex("0x0001ff7f80")).to.deep.equal(v);
    expect(vectorFromHex("0001ff7f80")).to.deep.equal(v);
  });

  it("takes the first index of the maximum as the class", function () {
    expect(argmax([1, 5, 5, -3])).to.equal(1);
    expect(argmax([-128])).to.equal(0);
  });

  it("proves every neuron of the weights tree and refuses unknown neurons", function () {
    const tree = WeightsTree.of(model);
    const p = tree.proof(2, 1);
    expect(p).to.include({ layer: 2, neuron: 1, bias: -9, row: "0x0102" });
    expect(tree.tree.verify([2, 1, -9, "0x0102"], p.proof)).to.equal(true);
    expect(() => tree.proof(3, 0)).to.throw(RangeError);
    expect(() => tree.proof(1, 2)).to.throw(RangeError);
  });
});

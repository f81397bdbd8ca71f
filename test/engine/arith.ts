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

/** Floor division, as the profile defines it: `floor((p + 2^(s-1)) / 2^s)`. */
const floorShift = (p: bigint, shift: number): bigint => (p + (1n << BigInt(shift - 1))) >> BigInt(shift);
/** The common mistake: truncating division (`/` in Solidity, C, Rust, Go, and BigInt `/`). */
const truncShift = (p: bigint, shift: number): bigint => (p + (1n << BigInt(shift - 1))) / (1n << BigInt(shift));
/** A double-only implementation, as the text warns against. */
const naiveDouble = (acc: number, multiplier: number, shift: number): number =>
  Math.max(-128, Math.min(127, Math.floor((acc * multiplier + 2 ** (shift - 1)) / 2 ** shift)));

describe("numbers of docs/protocol.md section 8.2 and 8.6", function () {
  it("rounds half toward plus infinity: 2.5 -> 3, -2.5 -> -2, -0.5 -> 0, -1.5 -> -1", function () {
    expect([5, -5, -1, -3].map((acc) => requantize(acc, 1, 1, false))).to.deep.equal([3, -2, 0, -1]);
  });

  // [acc * multiplier, shift, exact quotient, floor result (the profile), truncation result]
  const rounding: [number, number, number, number, number][] = [
    [-4, 1, -2, -2, -1],
    [-3, 2, -0.75, -1, 0],
    [-7, 2, -1.75, -2, -1],
    [-5, 1, -2.5, -2, -2],
    [-10, 2, -2.5, -2, -2],
    [-2580, 3, -322.5, -322, -322],
    [-3819, 1, -1909.5, -1909, -1909],
  ];
  for (const [p, shift, exact, floored, truncated] of rounding) {
    it(`rounds ${p} / 2^${shift} = ${exact} to ${floored}, where truncation gives ${truncated}`, function () {
      expect(p / 2 ** shift).to.equal(exact);
      const clamped = Math.max(-128, Math.min(127, floored));
      expect(requantize(p, 1, shift, false)).to.equal(clamped);
      expect(reference(BigInt(p), 1, shift, false)).to.equal(clamped);
      expect(Number(floorShift(BigInt(p), shift))).to.equal(floored);
      expect(Number(truncShift(BigInt(p), shift))).to.equal(truncated);
    });
  }
  it("has truncation and floor disagree exactly on the examples that say so", function () {
    const differ = rounding.filter(([p, s]) => floorShift(BigInt(p), s) !== truncShift(BigInt(p), s));
    expect(differ.map(([p, s]) => [p, s])).to.deep.equal([
      [-4, 1],
      [-3, 2],
      [-7, 2],
    ]);
  });

  it("states the accumulator and product bounds correctly", function () {
    expect([-128 * 127, 128 * 128]).to.deep.equal([-16_256, 16_384]);
    expect(65_536 * -16_256).to.equal(-1_065_353_216);
    expect(65_536 * 16_384).to.equal(2 ** 30);
    expect(ACC_MIN).to.equal(-3_212_836_864);
    expect(ACC_MIN).to.equal(-(2 ** 31) - 65_536 * 16_256);
    expect(ACC_MAX).to.equal(3_221_225_471);
    expect(ACC_MAX).to.equal(3 * 2 ** 30 - 1);
    expect(Math.max(-ACC_MIN, ACC_MAX)).to.be.below(2 ** 32);
    const m = BigInt(MAX_MULTIPLIER);
    const top = BigInt(ACC_MAX) * m + (1n << 61n);
    expect(top).to.equal((1n << 63n) - 5n * (1n << 30n) + 1n);
    expect(top < (1n << 63n) - 1n).to.equal(true);
    const bottom = BigInt(ACC_MIN) * m;
    expect(bottom > -(1n << 63n)).to.equal(true);
    expect(Number(bottom).toExponential(2)).to.equal("-6.90e+18");
  });

  // Shifts 54..62: the rounding constant 2^(shift-1) >= 2^53 is not exact in a double sum.
  it("is exact at shifts 54..62 with small products, although the double sum p + 2^(shift-1) rounds", function () {
    // 2^52 - 1 = 2,143,835 * 2,100,721,197: the largest |product| of the plain double path.
    expect(2_143_835 * 2_100_721_197).to.equal(2 ** 52 - 1);
    for (let shift = 54; shift <= 62; shift++) {
      for (const [acc, multiplier] of [
        [0, 1],
        [1, 1],
        [-1, 1],
        [1, MAX_MULTIPLIER],
        [-1, MAX_MULTIPLIER],
        [2_143_835, 2_100_721_197],
        [-2_143_835, 2_100_721_197],
        [2_097_151, MAX_MULTIPLIER],
        [-2_097_152, MAX_MULTIPLIER],
      ]) {
        const p = acc * multiplier;
        expect(Math.abs(p)).to.be.below(2 ** 52);
        expect(requantize(acc, multiplier, shift, false), `acc ${acc}, m ${multiplier}, shift ${shift}`).to.equal(0);
        expect(reference(BigInt(acc), multiplier, shift, false)).to.equal(0);
      }
    }
    // The sum is not exact: 2^52 - 1 + 2^53 needs 54 bits and rounds to 2^53 + 2^52; the quotient is still in
    // [1/4, 3/4] and floors to 0.
    const p = 2 ** 52 - 1;
    expect(BigInt(p + 2 ** 53)).to.equal(2n ** 53n + 2n ** 52n);
    expect(BigInt(p + 2 ** 53)).not.to.equal(BigInt(p) + 2n ** 53n);
    expect((p + 2 ** 53) / 2 ** 54).to.equal(0.75);
  });

  it("is exact at shifts 54..62 with large products, at and next to every rounding boundary", function () {
    // [shift, acc, multiplier, acc * multiplier - tie] where tie = k * 2^shift - 2^(shift-1) is a product at
    // which the result steps (found by factoring every tie +- 1, or +- 2 at shift 62 where none factors).
    const cases: [number, number, number, number][] = [
      [54, -20_394_401, 441_650_591, 1],
      [54, -64_086_251, 421_644_227, -1],
      [54, 20_394_401, 441_650_591, -1],
      [54, 64_086_251, 421_644_227, 1],
      [55, -9_110_917, 1_977_232_205, -1],
      [55, -11_599_063, 1_553_090_841, 1],
      [55, 11_599_063, 1_553_090_841, -1],
      [56, -22_321_123, 1_614_112_203, -1],
      [56, 17_974_529, 2_004_436_223, -1],
      [57, -35_375_215, 2_036_951_409, 1],
      [57, -579_879_845, 1_118_366_765, -1],
      [58, -99_789_673, 1_444_189_401, -1],
      [58, -378_661_839, 1_902_953_681, 1],
      [59, -536_838_145, 536_903_681, -1],
      [59, 135_945_853, 2_120_185_131, -1],
      [60, -315_916_329, 1_824_726_041, -1],
      [60, 2_616_405_059, 1_101_627_499, 1],
      [61, -538_917_981, 2_139_326_475, 1],
      [61, 538_917_981, 2_139_326_475, -1],
      [62, -1_073_741_825, 2_147_483_646, 2],
      [62, 1_073_741_825, 2_147_483_646, -2],
      [62, -2_147_483_648, 1_073_741_824, 0],
      [62, 2_147_483_648, 1_073_741_824, 0],
    ];
    for (const [shift, acc, multiplier, offset] of cases) {
      const p = BigInt(acc) * BigInt(multiplier);
      const d = 1n << BigInt(shift);
      expect((p + d / 2n - BigInt(offset)) % d, `premise: ${acc} * ${multiplier} is a tie ${offset}`).to.equal(0n);
      expect(acc).to.be.within(ACC_MIN, ACC_MAX);
      for (const relu of [false, true]) {
        expect(requantize(acc, multiplier, shift, relu), `acc ${acc}, m ${multiplier}, shift ${shift}`).to.equal(
          reference(p / BigInt(multiplier), multiplier, shift, relu),
        );
      }
    }
    // Extremes of the profile at every shift 54..62.
    for (let shift = 54; shift <= 62; shift++) {
      for (const acc of [ACC_MIN, ACC_MIN + 1, -(2 ** 31), INT32_MAX, ACC_MAX - 1, ACC_MAX]) {
        for (const multiplier of [1, 65_535, 65_536, 65_537, 2 ** 30, MAX_MULTIPLIER - 1, MAX_MULTIPLIER]) {
          expect(requantize(acc, multiplier, shift, false)).to.equal(reference(BigInt(acc), multiplier, shift, false));
        }
      }
    }
  });

  it("gives 0 exactly when -2^(shift-1) <= acc * multiplier < 2^(shift-1)", function () {
    for (let shift = 1; shift <= 62; shift++) {
      // acc * multiplier = +-2^(shift-1) and one step (m) beyond each end: -2^(shift-1) - m, 2^(shift-1) - m.
      const [unit, m] = shift <= 32 ? [2 ** (shift - 1), 1] : [2 ** (shift - 31), 2 ** 30];
      const at = (acc: number, expected: number): void => {
        expect(requantize(acc, m, shift, false), `acc ${acc}, m ${m}, shift ${shift}`).to.equal(expected);
        expect(reference(BigInt(acc), m, shift, false)).to.equal(expected);
      };
      at(-unit, 0);
      at(unit, 1);
      at(-unit - 1, -1);
      at(unit - 1, 0);
    }
  });

  it("shows that a double-only implementation is wrong (section 8.6 example)", function () {
    // acc * multiplier = 2^53 - 1 is an exact double, but + 2^53 rounds up to 2^54.
    expect(BigInt(20_394_401) * 441_650_591n).to.equal(2n ** 53n - 1n);
    expect(naiveDouble(20_394_401, 441_650_591, 54)).to.equal(1);
    expect(requantize(20_394_401, 441_650_591, 54, false)).to.equal(0);
    expect(reference(20_394_401n, 441_650_591, 54, false)).to.equal(0);
  });
});

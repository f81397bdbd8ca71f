import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import {
  ENGINE_ID,
  encodeGraph,
  forwardLayer,
  graphHash,
  hashVector,
  MAX_MULTIPLIER,
  contentHashOf,
  neuron,
  traceRoot,
  vectorFromHex,
  vectorToHex,
  weightLeafHash,
} from "../../src/engine/index.js";
import type { LayerSpec } from "../../src/engine/index.js";
import type { DenseInt8Harness } from "../../typechain-types/index.js";
import golden from "../fixtures/neuron-golden.json" with { type: "json" };
import { makeVector, neuronCaseArb, referenceNeuron, toAbiCase, type NeuronCase } from "./cases.js";

const { ethers, networkHelpers } = await network.create();

/** Differential cases per CI run (fast-check runs x batch size). */
const BATCH = 250;
const RUNS = 40;
/** Multiply-accumulates per eth_call, to stay far below the call gas cap. */
const MACS_PER_CALL = 300_000;

async function deployHarness(): Promise<DenseInt8Harness> {
  const factory = await ethers.getContractFactory("DenseInt8Harness");
  return (await factory.deploy()) as unknown as DenseInt8Harness;
}

/** Evaluates `cases` on-chain in as few eth_calls as the gas budget allows. */
async function onChain(harness: DenseInt8Harness, cases: NeuronCase[]): Promise<number[]> {
  const out: number[] = [];
  for (let start = 0; start < cases.length;) {
    let end = start;
    let macs = 0;
    while (end < cases.length && (end === start || macs + cases[end].x.length <= MACS_PER_CALL))
      macs += cases[end++].x.length;
    const ys = await harness.neuronBatch(cases.slice(start, end).map(toAbiCase));
    out.push(...ys.map(Number));
    start = end;
  }
  return out;
}

function describeCase(c: NeuronCase): string {
  return JSON.stringify({ ...c, x: vectorToHex(c.x), row: vectorToHex(c.row) });
}

const spec = (inDim: number, over: Partial<LayerSpec> = {}): LayerSpec => ({
  inDim,
  outDim: 1,
  multiplier: 1,
  shift: 0,
  relu: false,
  ...over,
});

describe("DenseInt8", function () {
  describe("differential fuzzing against the TypeScript engine", function () {
    it(`agrees with the engine and a BigInt reference on ${BATCH * RUNS} random and extreme neurons`, async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      let checked = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(neuronCaseArb, { minLength: BATCH, maxLength: BATCH }), async (cases) => {
          const chain = await onChain(harness, cases);
          cases.forEach((c, i) => {
            const ts = neuron(c.x, c.row, c.bias, c.spec);
            const ref = referenceNeuron(c);
            if (chain[i] !== ts || ts !== ref) {
              throw new Error(`solidity ${chain[i]}, engine ${ts}, reference ${ref} for ${describeCase(c)}`);
            }
          });
          checked += cases.length;
        }),
        // The thrown error already names the failing case; shrinking 250-case batches through eth_calls is slow.
        { numRuns: RUNS, endOnFailure: true },
      );
      expect(checked).to.be.at.least(BATCH * RUNS);
    });

    it("agrees with the engine on whole layers", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 70 }),
          fc.integer({ min: 1, max: 24 }),
          fc.integer(),
          fc.integer({ min: 0, max: 40 }),
          fc.boolean(),
          async (inDim, outDim, seed, shift, relu) => {
            const x = makeVector(inDim, "random", seed);
            const weights = makeVector(inDim * outDim, "random", seed + 1);
            const biases = Int32Array.from(makeVector(outDim, "random", seed + 2), (b) => b * 1000);
            const s: LayerSpec = { inDim, outDim, multiplier: 1 + (Math.abs(seed) % MAX_MULTIPLIER), shift, relu };
            const expected = forwardLayer({ spec: s, weights, biases }, x);
            const got = await harness.layer(vectorToHex(x), vectorToHex(weights), Array.from(biases), s);
            expect(got).to.equal(vectorToHex(expected));
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe("golden neurons", function () {
    for (const c of golden.cases) {
      it(`computes ${c.expected} for "${c.name}" on-chain and off-chain`, async function () {
        const harness = await networkHelpers.loadFixture(deployHarness);
        expect(Number(await harness.neuron(c.x, c.row, c.bias, c.spec))).to.equal(c.expected);
        expect(neuron(vectorFromHex(c.x), vectorFromHex(c.row), c.bias, c.spec)).to.equal(c.expected);
      });
    }
  });

  describe("gas", function () {
    it("spends at most 60 gas per multiply-accumulate on a 784-wide neuron", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      const x = vectorToHex(makeVector(784, "random", 1));
      const row = vectorToHex(makeVector(784, "random", 2));
      const [, gasUsed] = await harness.neuronGas(x, row, 7, spec(784, { multiplier: 12345, shift: 20 }));
      expect(Number(gasUsed) / 784).to.be.at.most(60);
    });
  });

  describe("errors", function () {
    it("reverts with DenseInt8LengthMismatch when the input and the row differ in length", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      await expect(harness.neuron("0x0102", "0x01", 0, spec(2)))
        .to.be.revertedWithCustomError(harness, "DenseInt8LengthMismatch")
        .withArgs(2, 1);
    });

    it("reverts with DenseInt8DimensionMismatch when the input is not inDim long", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      await expect(harness.neuron("0x0102", "0x0304", 0, spec(3)))
        .to.be.revertedWithCustomError(harness, "DenseInt8DimensionMismatch")
        .withArgs(3, 2);
    });

    it("reverts with DenseInt8DimensionMismatch on a layer whose input, weights or biases have the wrong size", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      const s = { inDim: 2, outDim: 2, multiplier: 1, shift: 0, relu: false };
      await expect(harness.layer("0x01", "0x01020304", [0, 0], s))
        .to.be.revertedWithCustomError(harness, "DenseInt8DimensionMismatch")
        .withArgs(2, 1);
      await expect(harness.layer("0x0102", "0x010203", [0, 0], s))
        .to.be.revertedWithCustomError(harness, "DenseInt8DimensionMismatch")
        .withArgs(4, 3);
      await expect(harness.layer("0x0102", "0x01020304", [0], s))
        .to.be.revertedWithCustomError(harness, "DenseInt8DimensionMismatch")
        .withArgs(2, 1);
    });

    const invalid: [string, LayerSpec][] = [
      ["inDim 0", spec(0)],
      ["inDim 65,537", spec(65_537)],
      ["outDim 0", spec(1, { outDim: 0 })],
      ["outDim 65,537", spec(1, { outDim: 65_537 })],
      ["multiplier 0", spec(1, { multiplier: 0 })],
      ["multiplier 2^31", spec(1, { multiplier: 2 ** 31 })],
      ["shift 63", spec(1, { shift: 63 })],
    ];
    for (const [name, s] of invalid) {
      it(`reverts with DenseInt8InvalidSpec on ${name}`, async function () {
        const harness = await networkHelpers.loadFixture(deployHarness);
        await expect(harness.checkSpec(s))
          .to.be.revertedWithCustomError(harness, "DenseInt8InvalidSpec")
          .withArgs(s.inDim, s.outDim, s.multiplier, s.shift);
        const x = vectorToHex(new Int8Array(Math.min(s.inDim, 65_537)));
        await expect(harness.neuron(x, x, 0, s)).to.be.revertedWithCustomError(harness, "DenseInt8InvalidSpec");
      });
    }

    it("accepts the extreme valid specs", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      await harness.checkSpec({ inDim: 65_536, outDim: 65_536, multiplier: MAX_MULTIPLIER, shift: 62, relu: true });
      await harness.checkSpec({ inDim: 1, outDim: 1, multiplier: 1, shift: 0, relu: false });
    });

    it("reverts with DenseInt8EmptyGraph on a graph without layers", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      await expect(harness.validateGraph([])).to.be.revertedWithCustomError(harness, "DenseInt8EmptyGraph");
    });

    it("reverts with DenseInt8GraphNotChained when a layer does not consume its predecessor's output", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      const graph = [spec(4, { outDim: 3 }), spec(3, { outDim: 2 }), spec(3, { outDim: 1 })];
      await expect(harness.validateGraph(graph))
        .to.be.revertedWithCustomError(harness, "DenseInt8GraphNotChained")
        .withArgs(3, 3, 2);
      await harness.validateGraph(graph.slice(0, 2));
    });

    it("reverts with DenseInt8InvalidSpec on a graph with an out-of-bounds layer", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      await expect(harness.validateGraph([spec(4, { outDim: 3 }), spec(3, { shift: 63 })]))
        .to.be.revertedWithCustomError(harness, "DenseInt8InvalidSpec")
        .withArgs(3, 1, 1, 63);
    });
  });

  describe("commitments", function () {
    it('has ENGINE_ID = keccak256("verity.dense-int8.v1") on both sides', async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      const expected = keccak256(toUtf8Bytes("verity.dense-int8.v1"));
      expect(await harness.engineId()).to.equal(expected);
      expect(ENGINE_ID).to.equal(expected);
    });

    it("hashes graphs as keccak256(abi.encode(LayerSpec[])) on both sides", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      const specArb = fc.record({
        inDim: fc.integer({ min: 1, max: 65_536 }),
        outDim: fc.integer({ min: 1, max: 65_536 }),
        multiplier: fc.integer({ min: 1, max: MAX_MULTIPLIER }),
        shift: fc.integer({ min: 0, max: 62 }),
        relu: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 6 }), async (graph) => {
          const encoded = AbiCoder.defaultAbiCoder().encode(
            ["tuple(uint32,uint32,uint32,uint8,bool)[]"],
            [graph.map((s) => [s.inDim, s.outDim, s.multiplier, s.shift, s.relu])],
          );
          expect(encodeGraph(graph)).to.equal(encoded);
          expect(graphHash(graph)).to.equal(keccak256(encoded));
          expect(await harness.graphHash(graph)).to.equal(keccak256(encoded));
        }),
        { numRuns: 30 },
      );
    });

    it("hashes vectors, traces, leaves and model ids identically on both sides", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 300 }),
          fc.integer(),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          async (dim, seed, count, bias) => {
            const v = makeVector(dim, "random", seed);
            expect(await harness.hashVector(vectorToHex(v))).to.equal(hashVector(v));
            expect(hashVector(v)).to.equal(keccak256(vectorToHex(v)));
            const hashes = Array.from({ length: count }, (_, i) => hashVector(makeVector(dim, "random", seed + i)));
            expect(await harness.traceRoot(hashes)).to.equal(traceRoot(hashes));
            const layer = (Math.abs(seed) % 7) + 1;
            const neuronIndex = Math.abs(seed) % 1000;
            expect(await harness.weightLeaf(layer, neuronIndex, bias, vectorToHex(v))).to.equal(
              weightLeafHash(layer, neuronIndex, bias, v),
            );
            const [a, b] = hashes.length > 1 ? hashes : [hashes[0], traceRoot(hashes)];
            expect(await harness.contentHash(a, b)).to.equal(contentHashOf(a, b));
          },
        ),
        { numRuns: 30 },
      );
    });

    it("reads vector elements as signed bytes", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      expect(await harness.at("0x7f80ff00", 0)).to.equal(127n);
      expect(await harness.at("0x7f80ff00", 1)).to.equal(-128n);
      expect(await harness.at("0x7f80ff00", 2)).to.equal(-1n);
      expect(await harness.at("0x7f80ff00", 3)).to.equal(0n);
    });

    it("computes the exact dot product across word boundaries", async function () {
      const harness = await networkHelpers.loadFixture(deployHarness);
      for (const dim of [0, 1, 31, 32, 33, 64, 95, 4096]) {
        const x = makeVector(dim, "extremes", dim);
        const row = makeVector(dim, "extremes", dim + 1);
        let expected = 0;
        for (let k = 0; k < dim; k++) expected += x[k] * row[k];
        expect(await harness.dot(vectorToHex(x), vectorToHex(row))).to.equal(BigInt(expected));
      }
    });
  });
});

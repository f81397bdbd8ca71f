import { expect } from "chai";
import { network } from "hardhat";
import { hashVector, readModelFile, run, vectorFromHex, vectorToHex } from "../../src/engine/index.js";
import type { DenseInt8Harness } from "../../typechain-types/index.js";
import golden from "../fixtures/mnist-golden.json" with { type: "json" };

const { ethers, networkHelpers } = await network.create();
const model = await readModelFile(golden.model);

async function deployHarness(): Promise<DenseInt8Harness> {
  const factory = await ethers.getContractFactory("DenseInt8Harness");
  return (await factory.deploy()) as unknown as DenseInt8Harness;
}

describe("shipped MNIST model on-chain", function () {
  it("recomputes every layer of a golden digit with DenseInt8.layer and hits the committed layer hashes", async function () {
    const harness = await networkHelpers.loadFixture(deployHarness);
    const digit = golden.digits[0];
    let x = digit.input;
    expect(await harness.hashVector(x)).to.equal(digit.layerHashes[0]);
    for (const [l, layer] of model.layers.entries()) {
      x = await harness.layer(x, vectorToHex(layer.weights), Array.from(layer.biases), layer.spec);
      expect(await harness.hashVector(x)).to.equal(digit.layerHashes[l + 1]);
    }
    expect(Array.from(vectorFromHex(x))).to.deep.equal(digit.output);
    expect(await harness.traceRoot(digit.layerHashes)).to.equal(digit.traceRoot);
  });

  it("agrees with the engine on single neurons of every layer for every golden digit", async function () {
    const harness = await networkHelpers.loadFixture(deployHarness);
    const cases = [];
    const expected: number[] = [];
    for (const digit of golden.digits) {
      const { activations } = run(model, vectorFromHex(digit.input));
      for (const [l, { spec, weights, biases }] of model.layers.entries()) {
        for (const j of [0, spec.outDim >> 1, spec.outDim - 1]) {
          const row = weights.subarray(j * spec.inDim, (j + 1) * spec.inDim);
          cases.push({ x: vectorToHex(activations[l]), row: vectorToHex(row), bias: biases[j], spec });
          expected.push(activations[l + 1][j]);
        }
      }
      expect(hashVector(activations[3])).to.equal(digit.layerHashes[3]);
    }
    expect((await harness.neuronBatch(cases)).map(Number)).to.deep.equal(expected);
  });
});

/**
 * The importer's TypeScript mirror of `GasBounds.ofModel` (src/sdk/onnx/bounds.ts) against the Solidity
 * library itself, through contracts/mocks/GasBoundsHarness.sol on the in-process chain.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { gasBoundsOfModel, maxBatchLeaves } from "../../src/sdk/onnx/index.js";

const { ethers } = await network.create();

describe("ONNX import: the registry's gas bound, mirrored", function () {
  this.timeout(60_000);

  const shapes: [string, number[]][] = [
    ["the shipped MNIST MLP", [784, 128, 64, 10]],
    ["the tests' small MLP", [784, 32, 10]],
    ["a wide layer at the bound", [64_000, 2]],
    ["a wide model 1 -> 65536 -> 1", [1, 65_536, 1]],
    ["a deep narrow model", [3, ...new Array(40).fill(5), 2]],
    ["an input above the disclosure budget", [65_536, 1]],
  ];

  for (const [what, dims] of shapes) {
    it(`equals GasBounds.ofModel for ${what}`, async () => {
      const harness = await ethers.deployContract("GasBoundsHarness");
      const layers = dims
        .slice(1)
        .map((outDim, i) => ({ inDim: dims[i], outDim, multiplier: 1, shift: 0, relu: false }));
      const [worst, providerGame, challengerGame] = await harness.ofModel(layers);
      const mine = gasBoundsOfModel(layers);
      expect({
        worst: mine.worst.gas,
        providerGame: mine.providerGame,
        challengerGame: mine.challengerGame,
      }).to.deep.equal({ worst, providerGame, challengerGame });
      expect(BigInt(maxBatchLeaves(dims[0]))).to.equal(await harness.maxBatchLeaves(dims[0]));
    });
  }
});

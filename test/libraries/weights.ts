import { expect } from "chai";
import { network } from "hardhat";
import { modelCommitments, readModelFile, weightLeafHash, weightLeaves } from "../../src/engine/index.js";
import type { RowProof } from "../../src/engine/index.js";
import type { DenseInt8Harness } from "../../typechain-types/index.js";
import golden from "../fixtures/mnist-golden.json" with { type: "json" };

const { ethers, networkHelpers } = await network.create();

const model = await readModelFile("models/mnist-784-128-64-10.json");
const commitments = modelCommitments(model);
const allRows: RowProof[] = model.layers.flatMap(({ spec }, l) =>
  Array.from({ length: spec.outDim }, (_, j) => commitments.tree.proof(l + 1, j)),
);

async function deployHarness(): Promise<DenseInt8Harness> {
  const factory = await ethers.getContractFactory("DenseInt8Harness");
  return (await factory.deploy()) as unknown as DenseInt8Harness;
}

function flipByte(hex: string, index: number): string {
  const at = 2 + 2 * index;
  const byte = (parseInt(hex.slice(at, at + 2), 16) ^ 0x01).toString(16).padStart(2, "0");
  return hex.slice(0, at) + byte + hex.slice(at + 2);
}

describe("weights tree of the shipped MNIST model", function () {
  it("has the committed weights root and one leaf per neuron", function () {
    expect(commitments.weightsRoot).to.equal(golden.weightsRoot);
    expect(allRows).to.have.length(128 + 64 + 10);
    expect(weightLeaves(model)).to.have.length(202);
  });

  it("verifies every one of its 202 rows on-chain", async function () {
    const harness = await networkHelpers.loadFixture(deployHarness);
    const valid = await harness.verifyRows(commitments.weightsRoot, allRows);
    expect(valid).to.have.length(202);
    expect(valid.every((v) => v)).to.equal(true);
  });

  it("computes the same leaf hashes off-chain and on-chain", async function () {
    const harness = await networkHelpers.loadFixture(deployHarness);
    for (const r of [allRows[0], allRows[127], allRows[128], allRows[201]]) {
      expect(weightLeafHash(r.layer, r.neuron, r.bias, r.row)).to.equal(r.leaf);
      expect(await harness.weightLeaf(r.layer, r.neuron, r.bias, r.row)).to.equal(r.leaf);
    }
  });

  it("rejects a tampered row, bias, layer, neuron index, proof or root", async function () {
    const harness = await networkHelpers.loadFixture(deployHarness);
    const picks = [allRows[0], allRows[77], allRows[128], allRows[150], allRows[192], allRows[201]];
    const tampered = picks.flatMap((r) => [
      { ...r, row: flipByte(r.row, 0) },
      { ...r, row: flipByte(r.row, (r.row.length - 2) / 2 - 1) },
      { ...r, row: r.row.slice(0, -2) },
      { ...r, row: `${r.row}00` },
      { ...r, bias: r.bias + 1 },
      { ...r, bias: -r.bias - 1 },
      { ...r, layer: r.layer === 3 ? 2 : r.layer + 1 },
      { ...r, layer: 0 },
      { ...r, neuron: r.neuron + 1 },
      { ...r, neuron: r.neuron === 0 ? 1 : r.neuron - 1 },
      { ...r, proof: r.proof.slice(0, -1) },
      { ...r, proof: [...r.proof].reverse() },
    ]);
    // A genuine row presented with the proof of another neuron.
    tampered.push({ ...allRows[5], proof: allRows[6].proof });
    const valid = await harness.verifyRows(commitments.weightsRoot, tampered);
    valid.forEach((v, i) => expect(v, `tampered claim ${i}`).to.equal(false));
    const genuineUnderOtherRoot = await harness.verifyRows(golden.graphHash, picks);
    expect(genuineUnderOtherRoot.some((v) => v)).to.equal(false);
    expect(await harness.verifyRows(commitments.weightsRoot, picks)).to.deep.equal(picks.map(() => true));
  });
});

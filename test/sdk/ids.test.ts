import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, ZeroHash, keccak256 } from "ethers";
import { contentHashOf, modelCommitments, modelIdOf, readModelFile, run } from "../../src/engine/index.js";
import { batchIdOf, commitmentIdOf, leafHashOf } from "../../src/sdk/ids.js";
import { deployVerity } from "../helpers/fixtures.js";

const connection = await network.create();

/** The ids of docs/protocol.md section 2.4, computed from the text's definitions and checked on-chain. */
describe("identifiers (docs/protocol.md 2.4 worked example)", function () {
  const publisher = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  const provider = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const challenger = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
  const spec = {
    contentHash: "0x94b0755b02dbae699df8e172809c7439fb61814e2d0ce58446ab87258589d6c3",
    modelId: "0x5a13b3ef2719c2ba47a5e86348b5d51711d0184fea27fce827814438245ee75b",
    commitmentId: "0x57a836233dcd4c0b9ced7f093da50dccdf963273449c01644d882e8693d93fe3",
    disputeId: "0xe56a03e09762b4896d9c5622fe29e35920d6f4f41ba785524eeac1b6fb86b051",
    leafHash: "0xbf7a7ecbdf57663fb8a75fb4376919f935ef0b9469bbbf84d096282f15c595e9",
    batchId: "0x808031f1847b82d6cfcdfffaf93f48e9d13876e86006780f76341503c39945bc",
    leafKey: "0xb37075b41bc0fc8401e668ecac66be25d148ae582087db5fcf6c590c47728898",
  };

  async function example() {
    const model = await readModelFile("test/fixtures/example-model.json");
    const c = modelCommitments(model);
    const result = run(model, [7, 3, -2]);
    const inference = {
      inputHash: result.layerHashes[0],
      outputHash: result.layerHashes[2],
      traceRoot: result.traceRoot,
    };
    return { c, inference };
  }

  it("the SDK and engine compute every id of the text", async function () {
    const { c, inference } = await example();
    expect(c.contentHash).to.equal(spec.contentHash);
    expect(contentHashOf(c.weightsRoot, c.graphHash)).to.equal(spec.contentHash);
    const modelId = modelIdOf(publisher, c.contentHash);
    expect(modelId).to.equal(spec.modelId);
    expect(commitmentIdOf(provider, modelId, inference)).to.equal(spec.commitmentId);
    expect(leafHashOf(inference)).to.equal(spec.leafHash);
    const header = { provider, modelId, root: spec.leafHash, count: 1, binding: ZeroHash };
    expect(batchIdOf(header)).to.equal(spec.batchId);
    const coder = AbiCoder.defaultAbiCoder();
    expect(keccak256(coder.encode(["bytes32", "bytes32"], [spec.batchId, spec.leafHash]))).to.equal(spec.leafKey);
    // DisputeParams are 14 static words: abi.encode of the struct is the words in field order.
    const disputeWords = coder.encode(
      ["bytes32", "bool", "bytes32", "address", "address", "bytes32", "bytes32", "bytes32"].concat([
        "uint96",
        "uint96",
        "uint32",
        "uint16",
        "uint16",
        "uint64",
      ]),
      [spec.commitmentId, false, modelId, provider, challenger, inference.inputHash, inference.outputHash].concat([
        inference.traceRoot,
        10n ** 19n,
        5n * 10n ** 19n,
        3600,
        5000,
        2,
        1,
      ] as never[]),
    );
    expect(keccak256(disputeWords)).to.equal(spec.disputeId);
  });

  it("the contracts' views agree", async function () {
    const { c, inference } = await example();
    const { registry, ledger, disputeGame } = await deployVerity(connection);
    expect(await registry.computeContentHash(c.weightsRoot, c.graphHash, c.engineId)).to.equal(spec.contentHash);
    expect(await registry.computeModelId(publisher, spec.contentHash)).to.equal(spec.modelId);
    const key = { provider, modelId: spec.modelId, inference, binding: ZeroHash };
    expect(await ledger.commitmentIdOf(key)).to.equal(spec.commitmentId);
    const header = { provider, modelId: spec.modelId, root: spec.leafHash, count: 1, binding: ZeroHash };
    expect(await ledger.batchIdOf(header)).to.equal(spec.batchId);
    const params = {
      target: spec.commitmentId,
      isLeaf: false,
      modelId: spec.modelId,
      provider,
      challenger,
      inference,
      bond: 10n ** 19n,
      slashAmount: 5n * 10n ** 19n,
      responseWindow: 3600,
      challengerShareBps: 5000,
      numLayers: 2,
      nonce: 1,
    };
    expect(await disputeGame.disputeIdOf(params)).to.equal(spec.disputeId);
    expect(await disputeGame.targetKeyOf({ ...params, isLeaf: true, target: spec.batchId })).to.equal(spec.leafKey);
  });
});

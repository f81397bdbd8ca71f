import { expect } from "chai";
import { network } from "hardhat";
import { vectorToHex } from "../../src/engine/index.js";
import { LedgerClient, batchTree } from "../../src/sdk/index.js";
import { deployWithMnist, infer, pseudoDigit } from "../helpers/disputeFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const fixture = () => deployWithMnist(connection);

describe("LedgerClient.scan", () => {
  it("decodes raw logs exactly as ethers' parseLog does, for singles, long inputs and batches", async () => {
    const { ledger, provider, modelId, model } = await networkHelpers.loadFixture(fixture);
    const client = new LedgerClient(await ledger.getAddress(), provider);
    const digit = infer(model, pseudoDigit(7));
    await ledger
      .connect(provider)
      .commit(modelId, digit.inputHash, digit.outputHash, digit.traceRoot, vectorToHex(pseudoDigit(7)));
    await ledger.connect(provider).commit(modelId, ethers.id("i"), ethers.id("o"), ethers.id("t"), "0x");
    await ledger
      .connect(provider)
      .commit(modelId, ethers.id("i2"), ethers.id("o2"), ethers.id("t2"), ethers.toUtf8Bytes("ipfs://bafy"));
    const tree = batchTree([digit]);
    await ledger.connect(provider).commitBatch(modelId, tree.root, 1, "file:///données/batch-✓.json");

    const head = await ethers.provider.getBlockNumber();
    const fast = await client.scan(0, head);
    const logs = await ethers.provider.getLogs({ address: await ledger.getAddress(), fromBlock: 0, toBlock: head });
    const slow = logs
      .filter((l) =>
        [
          ledger.interface.getEvent("InferenceCommitted").topicHash,
          ledger.interface.getEvent("BatchCommitted").topicHash,
        ].includes(l.topics[0]),
      )
      .map((l) => client.parseCommitment(l));
    expect(fast).to.have.length(4);
    expect(fast).to.deep.equal(slow);
    expect(fast[0].kind === "single" && fast[0].inputData).to.equal(vectorToHex(pseudoDigit(7)));
    expect(fast[3].kind === "batch" && fast[3].dataURI).to.equal("file:///données/batch-✓.json");
  });
});

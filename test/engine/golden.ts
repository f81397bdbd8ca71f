import { expect } from "chai";
import {
  argmax,
  ENGINE_ID,
  modelCommitments,
  readModelFile,
  run,
  traceRoot,
  vectorFromHex,
} from "../../src/engine/index.js";
import golden from "../fixtures/mnist-golden.json" with { type: "json" };

describe("golden MNIST inferences", function () {
  it("reproduces the committed engine id, graph hash, weights root and model id", async function () {
    const model = await readModelFile(golden.model);
    const c = modelCommitments(model);
    expect(ENGINE_ID).to.equal(golden.engineId);
    expect(c.graphHash).to.equal(golden.graphHash);
    expect(c.weightsRoot).to.equal(golden.weightsRoot);
    expect(c.contentHash).to.equal(golden.contentHash);
  });

  for (const d of golden.digits) {
    it(`reproduces the output, layer hashes and trace root of held-out digit ${d.heldOutIndex} (a ${d.label})`, async function () {
      const model = await readModelFile(golden.model);
      const result = run(model, vectorFromHex(d.input));
      expect(Array.from(result.output)).to.deep.equal(d.output);
      expect(argmax(result.output)).to.equal(d.predicted);
      expect(result.layerHashes).to.deep.equal(d.layerHashes);
      expect(result.inputHash).to.equal(d.layerHashes[0]);
      expect(result.outputHash).to.equal(d.layerHashes[d.layerHashes.length - 1]);
      expect(result.traceRoot).to.equal(d.traceRoot);
      expect(traceRoot(d.layerHashes)).to.equal(d.traceRoot);
    });
  }

  it("classifies the golden digits correctly (the shipped model is not degenerate)", function () {
    expect(golden.digits.filter((d) => d.predicted === d.label)).to.have.length(golden.digits.length);
  });
});

describe("worked example of docs/protocol.md, part 8", function () {
  it("reproduces every number of the worked example", async function () {
    const model = await readModelFile("test/fixtures/example-model.json");
    const r = run(model, [7, 3, -2]);
    expect(r.activations.map((a) => Array.from(a))).to.deep.equal([
      [7, 3, -2],
      [10, 0],
      [-128, 2],
    ]);
    expect(r.layerHashes).to.deep.equal([
      "0xea38c3c5b972da090b441f82269a304a0b535ac519b1a99e1877d9a061b413d4",
      "0x7ed5d34208cb46fdd84d726653a145aaf379c9478d65d4316e24b1f8f2cd7f6b",
      "0x18f19f03318ae68ecd9765e1853e99522281cf0e691a3f3b5e1629619f809cbc",
    ]);
    expect(r.traceRoot).to.equal("0xb9370914ca8df0a2c8e483b66accdd3826e913a8d8a9c2e35e24ef55cddaff0b");
    const c = modelCommitments(model);
    expect(c.graphHash).to.equal("0x64c4c27958561cf1b1f13ae1152f871c97fc46f15c06df255e55128e9124fb04");
    expect(c.tree.proof(1, 0).leaf).to.equal("0xf9d2951446bfb46cad6a925c91090b067c77105ee59618f40df439f409e87ddf");
    expect(c.tree.proof(1, 1).leaf).to.equal("0xe6b998d8601ec3879ca03a11152585028d4c7a2b60f1566da27dacef3efa7ba3");
    expect(c.tree.proof(2, 0).leaf).to.equal("0xeae177323cc7d9f11aaa8701921491c6ee8303d1fd3ec9472f4fd6f267d6991f");
    expect(c.tree.proof(2, 1).leaf).to.equal("0xc413d55de5e2441728f86219aaf8324d31dcb58bc7328045863dd667202d5a04");
    expect(c.weightsRoot).to.equal("0xd3aed3ed502d34649fa535c612232176971f3bafe49a6af8ca65e9e1e29e4bcd");
    expect(c.contentHash).to.equal("0x94b0755b02dbae699df8e172809c7439fb61814e2d0ce58446ab87258589d6c3");
    expect(c.engineId).to.equal("0x8f256f9c4fa3716d3f6cb464e6d0d4bca6a5af518527373522218b6437fe27a3");
  });
});

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
    expect(c.modelId).to.equal(golden.modelId);
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

import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash } from "ethers";
import {
  buildNeuronProof,
  deployWithMnist,
  firstDisputedLayer,
  infer,
  paramsFrom,
  pseudoDigit,
  vectorToHex,
} from "../helpers/disputeFixture.js";
import { checkVaultAfterEach } from "./helpers.js";

const connection = await network.create();
const { networkHelpers } = connection;
const mnistFixture = () => deployWithMnist(connection);

describe("DisputeGame: a full game on the MNIST model", () => {
  const guard = checkVaultAfterEach();

  it("proves a wrong neuron in layer 2 and slashes the provider", async () => {
    const f = guard(await networkHelpers.loadFixture(mnistFixture));
    const { ledger, disputeGame, stakeManager, model, commitments, modelId, provider, challenger } = f;
    const input = pseudoDigit(1);
    const claimed = infer(model, input, { layer: 2, neuron: 5, delta: 3 });
    const honest = infer(model, input);
    await ledger
      .connect(provider)
      .commit(modelId, claimed.inputHash, claimed.outputHash, claimed.traceRoot, vectorToHex(input));
    const id = (await ledger.queryFilter(ledger.filters.InferenceCommitted()))[0].args.id;

    const inference = { inputHash: claimed.inputHash, outputHash: claimed.outputHash, traceRoot: claimed.traceRoot };
    const key = { provider: provider.address, modelId, inference, binding: ZeroHash };
    expect(await ledger.commitmentIdOf(key)).to.equal(id);
    const params = await paramsFrom(disputeGame, await disputeGame.connect(challenger).openDispute(key, false, 7n));
    expect([params.target, params.numLayers, params.nonce]).to.deep.equal([id, 3n, 7n]);
    await disputeGame.connect(provider).revealTrace(params, claimed.layerHashes);
    const layer = firstDisputedLayer(claimed.layerHashes, honest);
    expect(layer).to.equal(2);
    await disputeGame.connect(challenger).selectLayer(params, layer);
    await disputeGame
      .connect(provider)
      .revealLayer(params, layer, claimed.layerHashes, vectorToHex(claimed.activations[layer]));
    const proof = buildNeuronProof(model, commitments.tree, honest, layer, claimed.activations[layer]);
    await expect(disputeGame.connect(challenger).proveNeuron(params, proof))
      .to.emit(disputeGame, "FraudProven")
      .withArgs(await disputeGame.disputeIdOf(params), 2, 5, honest.activations[2][5], claimed.activations[2][5]);
    expect(await ledger.status(id)).to.equal(4n); // Overturned
    const policy = f.policy;
    expect(await stakeManager.creditOf(challenger.address)).to.equal(policy.challengerBond + policy.slashAmount / 2n);
  });
});

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { vectorToHex } from "../../src/engine/index.js";
import { buildNeuronProof, firstDisputedLayer } from "../../src/protocol/dispute.js";
import { deployWithMnist, infer, paramsFrom, pseudoDigit } from "../../test/helpers/disputeFixture.js";
import { gasOf, type BenchRunner } from "./types.js";

/**
 * Gas of every dispute move on the shipped MNIST model (784-128-64-10). The full game disputes a fault
 * in layer 1, so `proveNeuron_784` recomputes a 784-wide neuron; `disputeTotal_mnist` sums its moves.
 */
export const benchDispute: BenchRunner = async (connection) => {
  const { ethers, networkHelpers } = connection;
  const f = await deployWithMnist(connection);
  const { ledger, disputeGame, stakeManager, model, commitments, provider, challenger, policy } = f;
  const gas: Record<string, number> = {};
  await f.token.connect(challenger).approve(await stakeManager.getAddress(), ethers.MaxUint256);

  const commitOne = async (seed: number, fault?: { layer: number; neuron: number }) => {
    const input = pseudoDigit(seed);
    const claimed = infer(model, input, fault);
    const tx = await ledger
      .connect(provider)
      .commit(commitments.modelId, claimed.inputHash, claimed.outputHash, claimed.traceRoot, vectorToHex(input));
    const receipt = await tx.wait();
    const id = ledger.interface.parseLog(receipt!.logs[0])!.args.id as string;
    return { input, claimed, honest: infer(model, input), id };
  };
  const inferenceOf = (r: { inputHash: string; outputHash: string; traceRoot: string }) => ({
    inputHash: r.inputHash,
    outputHash: r.outputHash,
    traceRoot: r.traceRoot,
  });

  // A whole game: the provider altered neuron 7 of layer 1.
  const c = await commitOne(1, { layer: 1, neuron: 7 });
  const openTx = await disputeGame.connect(challenger).openDispute(c.id, commitments.modelId, inferenceOf(c.claimed));
  gas.openDispute = await gasOf(openTx);
  const params = await paramsFrom(disputeGame, openTx);
  gas.revealTrace = await gasOf(await disputeGame.connect(provider).revealTrace(params, c.claimed.layerHashes));
  const layer = firstDisputedLayer(c.claimed.layerHashes, c.honest);
  gas.selectLayer = await gasOf(await disputeGame.connect(challenger).selectLayer(params, layer));
  gas.revealLayer = await gasOf(
    await disputeGame
      .connect(provider)
      .revealLayer(params, layer, c.claimed.layerHashes, vectorToHex(c.claimed.activations[layer])),
  );
  const proof = buildNeuronProof(
    model,
    commitments.tree,
    c.honest,
    c.claimed.layerHashes,
    layer,
    c.claimed.activations[layer],
  );
  gas.proveNeuron_784 = await gasOf(await disputeGame.connect(challenger).proveNeuron(params, proof));
  gas.disputeTotal_mnist = gas.openDispute + gas.revealTrace + gas.selectLayer + gas.revealLayer + gas.proveNeuron_784;

  // The last layer (64-wide neurons) for comparison.
  const last = await commitOne(2, { layer: 3, neuron: 4 });
  const p3 = await paramsFrom(
    disputeGame,
    await disputeGame.connect(challenger).openDispute(last.id, commitments.modelId, inferenceOf(last.claimed)),
  );
  await disputeGame.connect(provider).revealTrace(p3, last.claimed.layerHashes);
  await disputeGame.connect(challenger).selectLayer(p3, 3);
  await disputeGame
    .connect(provider)
    .revealLayer(p3, 3, last.claimed.layerHashes, vectorToHex(last.claimed.activations[3]));
  const proof3 = buildNeuronProof(
    model,
    commitments.tree,
    last.honest,
    last.claimed.layerHashes,
    3,
    last.claimed.activations[3],
  );
  gas.proveNeuron_64 = await gasOf(await disputeGame.connect(challenger).proveNeuron(p3, proof3));

  // Timeouts: the provider stays silent; then a challenger who stops answering.
  const silent = await commitOne(3, { layer: 2, neuron: 1 });
  const ps = await paramsFrom(
    disputeGame,
    await disputeGame.connect(challenger).openDispute(silent.id, commitments.modelId, inferenceOf(silent.claimed)),
  );
  await networkHelpers.time.increase(policy.responseWindow + 1);
  gas.timeout_providerSilent = await gasOf(await disputeGame.connect(challenger).timeout(ps));

  const honestOne = await commitOne(4);
  const ph = await paramsFrom(
    disputeGame,
    await disputeGame
      .connect(challenger)
      .openDispute(honestOne.id, commitments.modelId, inferenceOf(honestOne.claimed)),
  );
  await disputeGame.connect(provider).revealTrace(ph, honestOne.claimed.layerHashes);
  await networkHelpers.time.increase(policy.responseWindow + 1);
  gas.timeout_challengerSilent = await gasOf(await disputeGame.connect(provider).timeout(ph));

  // A batch leaf with the input-reveal demand.
  const runs = [5, 6, 7, 8].map((seed) => ({ input: pseudoDigit(seed), r: infer(model, pseudoDigit(seed)) }));
  const tree = StandardMerkleTree.of(
    runs.map(({ r }) => [r.inputHash, r.outputHash, r.traceRoot]),
    ["bytes32", "bytes32", "bytes32"],
  );
  await ledger.connect(provider).commitBatch(commitments.modelId, tree.root, runs.length, "ipfs://batch");
  const header = { provider: provider.address, modelId: commitments.modelId, root: tree.root, count: runs.length };
  const leafTx = await disputeGame
    .connect(challenger)
    .openLeafDispute(header, tree.getProof(1), inferenceOf(runs[1].r), true);
  gas.openLeafDispute = await gasOf(leafTx);
  const pl = await paramsFrom(disputeGame, leafTx);
  gas.revealInput_784 = await gasOf(await disputeGame.connect(provider).revealInput(pl, vectorToHex(runs[1].input)));
  gas.continueDispute = await gasOf(await disputeGame.connect(challenger).continueDispute(pl));

  gas.claim = await gasOf(await stakeManager.connect(challenger).claim());
  return { gas };
};

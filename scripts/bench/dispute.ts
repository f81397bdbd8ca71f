import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { ZeroHash } from "ethers";
import { vectorToHex } from "../../src/engine/index.js";
import { buildNeuronProof, firstDisputedLayer } from "../../src/protocol/dispute.js";
import { deployWithMnist, infer, paramsFrom, pseudoDigit } from "../../test/helpers/disputeFixture.js";
import { gasOf, type BenchRunner } from "./types.js";

/**
 * Gas of every dispute move on the shipped MNIST model (784-128-64-10). The full game disputes a fault
 * in layer 1, so `proveNeuron_784` recomputes a 784-wide neuron; `disputeTotal_mnist` sums its moves.
 * `worstHonestMoveGas_mnist` is the largest transaction of every MNIST game measured here, to compare
 * with the registry's bound `worstHonestMoveGasBound` (`gasBoundsOf(modelId).worstHonestMove`).
 */
export const benchDispute: BenchRunner = async (connection) => {
  const { ethers, networkHelpers } = connection;
  const f = await deployWithMnist(connection);
  const { ledger, disputeGame, registry, stakeManager, model, commitments, modelId, provider, challenger, policy } = f;
  const gas: Record<string, number> = {};
  await f.token.connect(challenger).approve(await stakeManager.getAddress(), ethers.MaxUint256);
  let worst = 0;
  let nonce = 1n;
  /** gasUsed of a game transaction, recorded for the worst-move figure. */
  const moveGas = async (tx: { wait(): Promise<{ gasUsed: bigint } | null> }) => {
    const used = await gasOf(tx);
    worst = Math.max(worst, used);
    return used;
  };

  const commitOne = async (seed: number, fault?: { layer: number; neuron: number }) => {
    const input = pseudoDigit(seed);
    const claimed = infer(model, input, fault);
    // The exact input goes in the event: the commitment is INPUT_PUBLIC, no input demand is needed.
    const tx = await ledger
      .connect(provider)
      .commit(modelId, claimed.inputHash, claimed.outputHash, claimed.traceRoot, vectorToHex(input));
    const receipt = await tx.wait();
    const id = ledger.interface.parseLog(receipt!.logs[0])!.args.id as string;
    return { input, claimed, honest: infer(model, input), id };
  };
  const keyOf = (r: { inputHash: string; outputHash: string; traceRoot: string }) => ({
    provider: provider.address,
    modelId,
    inference: { inputHash: r.inputHash, outputHash: r.outputHash, traceRoot: r.traceRoot },
    binding: ZeroHash,
  });
  const open = (r: { inputHash: string; outputHash: string; traceRoot: string }) =>
    disputeGame.connect(challenger).openDispute(keyOf(r), false, nonce++);

  // A whole game: the provider altered neuron 7 of layer 1.
  const c = await commitOne(1, { layer: 1, neuron: 7 });
  const openTx = await open(c.claimed);
  gas.openDispute = await moveGas(openTx);
  const params = await paramsFrom(disputeGame, openTx);
  gas.revealTrace = await moveGas(await disputeGame.connect(provider).revealTrace(params, c.claimed.layerHashes));
  const layer = firstDisputedLayer(c.claimed.layerHashes, c.honest);
  gas.selectLayer = await moveGas(await disputeGame.connect(challenger).selectLayer(params, layer));
  gas.revealLayer = await moveGas(
    await disputeGame
      .connect(provider)
      .revealLayer(params, layer, c.claimed.layerHashes, vectorToHex(c.claimed.activations[layer])),
  );
  const proof = buildNeuronProof(model, commitments.tree, c.honest, layer, c.claimed.activations[layer]);
  gas.proveNeuron_784 = await moveGas(await disputeGame.connect(challenger).proveNeuron(params, proof));
  gas.disputeTotal_mnist = gas.openDispute + gas.revealTrace + gas.selectLayer + gas.revealLayer + gas.proveNeuron_784;

  // The middle and last layers (128- and 64-wide neurons) for comparison.
  for (const [seed, l, name] of [
    [2, 2, "proveNeuron_128"],
    [9, 3, "proveNeuron_64"],
  ] as const) {
    const one = await commitOne(seed, { layer: l, neuron: 4 });
    const p = await paramsFrom(disputeGame, await open(one.claimed));
    await moveGas(await disputeGame.connect(provider).revealTrace(p, one.claimed.layerHashes));
    await moveGas(await disputeGame.connect(challenger).selectLayer(p, l));
    await moveGas(
      await disputeGame
        .connect(provider)
        .revealLayer(p, l, one.claimed.layerHashes, vectorToHex(one.claimed.activations[l])),
    );
    const pr = buildNeuronProof(model, commitments.tree, one.honest, l, one.claimed.activations[l]);
    gas[name] = await moveGas(await disputeGame.connect(challenger).proveNeuron(p, pr));
  }

  // Timeouts: the provider stays silent; then a challenger who stops answering.
  const silent = await commitOne(3, { layer: 2, neuron: 1 });
  const ps = await paramsFrom(disputeGame, await open(silent.claimed));
  await networkHelpers.time.increase(policy.responseWindow + 1);
  gas.timeout_providerSilent = await moveGas(await disputeGame.connect(challenger).timeout(ps));

  const honestOne = await commitOne(4);
  const ph = await paramsFrom(disputeGame, await open(honestOne.claimed));
  await moveGas(await disputeGame.connect(provider).revealTrace(ph, honestOne.claimed.layerHashes));
  await networkHelpers.time.increase(policy.responseWindow + 1);
  gas.timeout_challengerSilent = await moveGas(await disputeGame.connect(provider).timeout(ph));

  // A batch leaf with the input-reveal demand (the batch was not disclosed).
  const runs = [5, 6, 7, 8].map((seed) => ({ input: pseudoDigit(seed), r: infer(model, pseudoDigit(seed)) }));
  const tree = StandardMerkleTree.of(
    runs.map(({ r }) => [r.inputHash, r.outputHash, r.traceRoot]),
    ["bytes32", "bytes32", "bytes32"],
  );
  await ledger.connect(provider).commitBatch(modelId, tree.root, runs.length, "ipfs://batch");
  const header = { provider: provider.address, modelId, root: tree.root, count: runs.length, binding: ZeroHash };
  const leaf = { inputHash: runs[1].r.inputHash, outputHash: runs[1].r.outputHash, traceRoot: runs[1].r.traceRoot };
  const leafTx = await disputeGame.connect(challenger).openLeafDispute(header, tree.getProof(1), leaf, true, nonce++);
  gas.openLeafDispute = await moveGas(leafTx);
  const pl = await paramsFrom(disputeGame, leafTx);
  gas.revealInput_784 = await moveGas(await disputeGame.connect(provider).revealInput(pl, vectorToHex(runs[1].input)));
  gas.continueDispute = await moveGas(await disputeGame.connect(challenger).continueDispute(pl));

  gas.claim = await gasOf(await stakeManager.connect(challenger).claim());
  gas.worstHonestMoveGas_mnist = worst;
  const [bound] = await registry.gasBoundsOf(modelId);
  gas.worstHonestMoveGasBound = Number(bound);
  return { gas };
};

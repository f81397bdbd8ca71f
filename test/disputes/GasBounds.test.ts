import { expect } from "chai";
import { network } from "hardhat";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { ContractTransactionResponse } from "ethers";
import {
  ENGINE_ID,
  graphHash,
  modelIdOf,
  contentHashOf,
  neuron as neuronOf,
  vectorFromHex,
  weightLeafHash,
  type LayerSpec,
} from "../../src/engine/index.js";
import { commitmentIdOf } from "../../src/sdk/ids.js";
import { paramsFrom } from "../helpers/disputeFixture.js";
import {
  checkVaultAfterEach,
  commitInference,
  DIMS,
  deployDisputes,
  freshNonce,
  keyOf,
  L,
  Outcome,
  traceOf,
  uriOf,
  vectorToHex,
  type Committed,
  type Game,
  type Mnist,
  type Signer,
} from "./helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
/** PolicyBounds.MAX_HONEST_MOVE_GAS. */
const MAX_MOVE = 8_000_000n;

/** The MNIST fixture plus the bounds harness. */
async function gasFixture() {
  const f = await deployDisputes(connection);
  const harness = await ethers.deployContract("GasBoundsHarness");
  return { ...f, harness };
}
type Fixture = Awaited<ReturnType<typeof gasFixture>>;

/** `n` int8 values, none zero: every calldata byte costs the non-zero price. */
function nonZero(n: number, seed: number): Int8Array {
  const v = new Int8Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v[i] = (s % 255) - 127 || 1; // -127..127 without 0
  }
  return v;
}

/** A value other than `v`, non-zero. */
const other = (v: number) => (v === 1 ? 2 : v === 127 ? 126 : v > 0 ? v + 1 : v - 1 || 1);

/** Gas of a mined transaction, from its receipt. */
async function gasOf(tx: Promise<ContractTransactionResponse> | ContractTransactionResponse): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

/** One measured move and its bound. */
interface Measured {
  move: string;
  gas: bigint;
  bound: bigint;
}

/** Asserts every measured move is within its bound and within the model's worst honest move (<= 8M). */
function expectWithin(measured: Measured[], worst: bigint) {
  expect(worst, `worst honest move ${worst} > ${MAX_MOVE}`).to.be.at.most(MAX_MOVE);
  for (const { move, gas, bound } of measured) {
    expect(gas, `${move}: measured ${gas} gas > its bound ${bound}`).to.be.at.most(bound);
    expect(bound, `${move}: bound ${bound} > worst honest move ${worst}`).to.be.at.most(worst);
    expect(gas, `${move}: measured ${gas} gas is not positive`).to.be.greaterThan(21_000n);
  }
}

/**
 * A claimed MNIST trace of non-zero vectors that is wrong at neuron `neuron` of layer `layer` (the
 * vectors below it are arbitrary: the challenger disputes `layer`).
 */
function wrongTrace(f: Mnist, layer: number, neuron: number, seed: number) {
  const vectors = DIMS.map((d, i) => nonZero(d, seed * 10 + i));
  const row = f.commitments.tree.proof(layer, neuron);
  const spec = f.model.layers[layer - 1].spec;
  const expected = neuronOf(vectors[layer - 1], vectorFromHex(row.row), row.bias, spec);
  if (vectors[layer][neuron] === expected) vectors[layer][neuron] = other(expected);
  return traceOf(vectors);
}

const deepest = new Map<number, number>();
/** The neuron of `layer` whose row proof in the weights tree is the longest. */
function deepestNeuron(f: Mnist, layer: number): number {
  if (!deepest.has(layer)) {
    const depths = Array.from({ length: DIMS[layer] }, (_, j) => f.commitments.tree.proof(layer, j).proof.length);
    deepest.set(layer, depths.indexOf(Math.max(...depths)));
  }
  return deepest.get(layer)!;
}

/** Opens a game on a single commitment. */
async function open(f: Mnist, c: Committed, challenger: Signer, demandInput = false): Promise<Game> {
  const tx = await f.disputeGame.connect(challenger).openDispute(keyOf(c), demandInput, freshNonce());
  const params = await paramsFrom(f.disputeGame, tx);
  return { params, id: await f.disputeGame.disputeIdOf(params), c, challenger, tx };
}

/** `_ceilLog2` of GasBounds. */
const ceilLog2 = (n: number) => {
  let r = 0;
  while (2 ** r < n) r++;
  return r;
};

/** `Hashes.commutativeKeccak256`. */
function hashPair(a: string, b: string): string {
  const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  return ethers.keccak256(ethers.concat([lo, hi]));
}

describe("GasBounds: every honest move fits its bound, and every accepted model fits 8M gas", () => {
  const guard = checkVaultAfterEach();

  it("measures every honest move of full MNIST games with worst-case calldata", async () => {
    const f = guard(await networkHelpers.loadFixture(gasFixture));
    const { disputeGame, harness } = f;
    const [worst] = await f.registry.gasBoundsOf(f.modelId);
    const depth = BigInt(ceilLog2(DIMS[1] + DIMS[2] + DIMS[3]));
    const fixed = await harness.fixedMove();
    const measured: Measured[] = [];
    const m = async (move: string, tx: Promise<ContractTransactionResponse>, bound: bigint) =>
      measured.push({ move, gas: await gasOf(tx), bound });

    // One fraud per layer at its deepest row, all vectors non-zero; layer 1's input behind a URI.
    const frauds: Committed[] = [];
    for (const layer of [1, 2, 3]) {
      const claimed = wrongTrace(f, layer, deepestNeuron(f, layer), layer);
      frauds.push(await commitInference(f, { seed: 900 + layer, claimed, uri: layer === 1 }));
    }
    const [c1, c2, c3] = frauds;
    const lapsing = await commitInference(f, {
      seed: 904,
      claimed: traceOf(DIMS.map((d) => nonZero(d, 44))),
      uri: true,
    });
    const honest = await commitInference(f, { seed: 905, claimed: traceOf(DIMS.map((d) => nonZero(d, 55))) });
    const alone = await commitInference(f, { seed: 906, claimed: traceOf(DIMS.map((d) => nonZero(d, 66))) });

    // A batch of the most leaves a batch may hold: the leaf's inclusion proof is the deepest there is.
    const count = Number((await f.registry.getModel(f.modelId)).maxBatchLeaves);
    const leaves = Array.from({ length: count }, (_, i) => [
      ethers.id(`in${i}`),
      ethers.id(`out${i}`),
      ethers.id(`tr${i}`),
    ]);
    const tree = StandardMerkleTree.of(leaves, ["bytes32", "bytes32", "bytes32"]);
    await f.ledger.connect(f.provider).commitBatch(f.modelId, tree.root, count, uriOf(1));
    const header = {
      provider: f.provider.address,
      modelId: f.modelId,
      root: tree.root,
      count,
      binding: ethers.ZeroHash,
    };
    // 1,024 leaves make a complete tree: every inclusion proof has the full depth of 10.
    const leafIndex = 0;
    expect(tree.getProof(leafIndex).length).to.equal(Math.log2(count));
    const [inputHash, outputHash, traceRoot] = tree.at(leafIndex)!;
    const leaf = { inputHash, outputHash, traceRoot };

    // Openings: with an input demand (URI), without, and of a leaf.
    const g1 = await open(f, c1, f.challenger, true);
    await m("openDispute (input demand)", Promise.resolve(g1.tx), fixed);
    const joiner = await open(f, c1, f.challenger2);
    const quitter = await open(f, c1, f.watcher);
    const g2 = await open(f, c2, f.challenger);
    await m("openDispute", Promise.resolve(g2.tx), fixed);
    const g3 = await open(f, c3, f.challenger);
    const lapse = await open(f, lapsing, f.challenger2, true);
    const liar = await open(f, honest, f.challenger2);
    const stalled = await open(f, alone, f.challenger);
    const leafTx = await disputeGame
      .connect(f.challenger)
      .openLeafDispute(header, tree.getProof(leafIndex), leaf, true, freshNonce());
    await m("openLeafDispute (input demand, deepest inclusion proof)", Promise.resolve(leafTx), fixed);
    const leafParams = await paramsFrom(disputeGame, leafTx);

    // The full games, one per layer.
    await m(
      "revealInput (784 non-zero bytes)",
      disputeGame.connect(f.provider).revealInput(g1.params, vectorToHex(c1.input)),
      await harness.revealInput(784),
    );
    await m("continueDispute", disputeGame.connect(f.challenger).continueDispute(g1.params), fixed);
    for (const [layer, g] of [
      [1, g1],
      [2, g2],
      [3, g3],
    ] as const) {
      const { claimed } = g.c;
      await m(
        `revealTrace (layer ${layer} game)`,
        disputeGame.connect(f.provider).revealTrace(g.params, claimed.layerHashes),
        await harness.revealTrace(L),
      );
      await m(`selectLayer ${layer}`, disputeGame.connect(f.challenger).selectLayer(g.params, layer), fixed);
      await m(
        `revealLayer ${layer} (${DIMS[layer]} non-zero bytes)`,
        disputeGame
          .connect(f.provider)
          .revealLayer(g.params, layer, claimed.layerHashes, vectorToHex(claimed.activations[layer])),
        await harness.revealLayer(L, DIMS[layer]),
      );
      const j = deepestNeuron(f, layer);
      const row = f.commitments.tree.proof(layer, j);
      const proof = {
        input: vectorToHex(claimed.activations[layer - 1]),
        output: vectorToHex(claimed.activations[layer]),
        neuron: j,
        bias: row.bias,
        row: row.row,
        rowProof: row.proof,
      };
      const tx = disputeGame.connect(f.challenger).proveNeuron(g.params, proof);
      await expect(tx).to.emit(disputeGame, "FraudProven");
      await m(
        `proveNeuron ${layer} (${DIMS[layer - 1]} -> ${DIMS[layer]}, row proof ${row.proof.length} of ${depth})`,
        tx,
        await harness.proveNeuron(DIMS[layer - 1], DIMS[layer], depth),
      );
    }

    // The other games on the overturned commitment, the lapses and the timeouts.
    await disputeGame.connect(f.provider).revealInput(lapse.params, vectorToHex(lapsing.input));
    await disputeGame.connect(f.provider).revealTrace(liar.params, honest.claimed.layerHashes);
    await m("closeOverturned", disputeGame.connect(f.watcher).closeOverturned(quitter.params), fixed);
    await networkHelpers.time.increase(2 * 3600);
    const timeouts: [string, bigint, typeof g1.params][] = [
      ["timeout (AwaitingTrace, first overturn of a leaf)", Outcome.ChallengerWon, leafParams],
      ["timeout (AwaitingTrace, first overturn, paid at once)", Outcome.ChallengerWon, stalled.params],
      ["timeout (AwaitingTrace, joins the pool and settles it)", Outcome.ChallengerWon, joiner.params],
      ["timeout (AwaitingLayerSelection, ProviderWon)", Outcome.ProviderWon, liar.params],
      ["timeout (InputRevealed, Refunded)", Outcome.Refunded, lapse.params],
    ];
    for (const [move, outcome, params] of timeouts) {
      const tx = disputeGame.connect(f.watcher).timeout(params);
      await expect(tx).to.emit(disputeGame, "DisputeResolved");
      await m(move, tx, fixed);
      expect((await disputeGame.gameOf(await disputeGame.disputeIdOf(params))).outcome).to.equal(outcome);
    }
    await m("claimReward", disputeGame.connect(f.watcher).claimReward(g1.params), fixed);
    expect(measured.length).to.equal(24);
    expectWithin(measured, worst);
  });

  describe("a wide model (1 -> N -> 1) at the registry's bound", () => {
    /** The layers of the wide model. */
    const wide = (n: number): LayerSpec[] => [
      { inDim: 1, outDim: n, multiplier: 1, shift: 0, relu: false },
      { inDim: n, outDim: 1, multiplier: 1, shift: 0, relu: false },
    ];

    /** The largest N the registry accepts, from the bounds it checks (binary search: the bound grows with N). */
    async function widest(harness: Fixture["harness"]): Promise<number> {
      let [lo, hi] = [1, 65_536];
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if ((await harness.ofModel(wide(mid))).worst <= MAX_MOVE) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    }

    it("accepts the widest model whose worst move is <= 8M and refuses one neuron more", async () => {
      const f = guard(await networkHelpers.loadFixture(gasFixture));
      const n = await widest(f.harness);
      expect(n, `widest accepted N = ${n}`).to.be.within(1_000, 65_535);
      const spec = (layers: LayerSpec[]) => ({
        engineId: ENGINE_ID,
        weightsRoot: ethers.id("wide weights"),
        layers,
        graphHash: ethers.ZeroHash,
        metadataURI: "ipfs://wide",
      });
      const over = (await f.harness.ofModel(wide(n + 1))).worst;
      expect(over).to.be.greaterThan(MAX_MOVE);
      await expect(f.registry.connect(f.publisher).registerModel(spec(wide(n + 1)), f.policy))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryGasBoundExceeded")
        .withArgs(over, MAX_MOVE);
      await f.registry.connect(f.publisher).registerModel(spec(wide(n)), f.policy);
      const id = modelIdOf(f.publisher.address, contentHashOf(ethers.id("wide weights"), graphHash(wide(n))));
      const [worst] = await f.registry.gasBoundsOf(id);
      expect(worst).to.equal((await f.harness.ofModel(wide(n))).worst);
      expect(worst).to.be.at.most(MAX_MOVE);
    });

    it("plays the widest layer's revealLayer and proveNeuron (both layers) within their bounds", async () => {
      const f = guard(await networkHelpers.loadFixture(gasFixture));
      const { disputeGame, harness } = f;
      const n = await widest(harness);
      const layers = wide(n);
      const depth = ceilLog2(n + 1);

      // Two rows of a weights tree of depth `depth`: neuron 0 of layer 1 (1 weight) and the single neuron
      // of layer 2 (n weights, none zero), siblings under `depth - 1` further levels.
      const row1 = nonZero(1, 1);
      const row2 = nonZero(n, 2);
      const leaf1 = weightLeafHash(1, 0, 3, row1);
      const leaf2 = weightLeafHash(2, 0, -5, row2);
      const uppers = Array.from({ length: depth - 1 }, (_, i) => ethers.id(`node${i}`));
      let root = hashPair(leaf1, leaf2);
      for (const u of uppers) root = hashPair(root, u);
      const weightsRoot = root;
      const spec = { engineId: ENGINE_ID, weightsRoot, layers, graphHash: ethers.ZeroHash, metadataURI: "ipfs://wide" };
      await f.registry.connect(f.publisher).registerModel(spec, f.policy);
      const modelId = modelIdOf(f.publisher.address, contentHashOf(weightsRoot, graphHash(layers)));
      const [worst] = await f.registry.gasBoundsOf(modelId);

      // A claim wrong at neuron 0 of both layers; every vector non-zero.
      const x0 = nonZero(1, 3);
      const x1 = nonZero(n, 4);
      const y1 = neuronOf(x0, row1, 3, layers[0]);
      if (x1[0] === y1) x1[0] = other(y1);
      const y2 = neuronOf(x1, row2, -5, layers[1]);
      const x2 = Int8Array.of(other(y2));
      const claimed = traceOf([x0, x1, x2]);
      await f.ledger
        .connect(f.provider)
        .commit(modelId, claimed.inputHash, claimed.outputHash, claimed.traceRoot, vectorToHex(x0));
      const inference = { inputHash: claimed.inputHash, outputHash: claimed.outputHash, traceRoot: claimed.traceRoot };
      const key = { provider: f.provider.address, modelId, inference, binding: ethers.ZeroHash };
      const c: Committed = {
        id: commitmentIdOf(key.provider, modelId, inference),
        modelId,
        input: x0,
        claimed,
        honest: claimed,
        inference,
        provider: f.provider,
        inputData: vectorToHex(x0),
      };
      const a = await open(f, c, f.challenger);
      const b = await open(f, c, f.challenger2);
      const measured: Measured[] = [];
      const m = async (move: string, tx: Promise<ContractTransactionResponse>, bound: bigint) =>
        measured.push({ move, gas: await gasOf(tx), bound });
      for (const g of [a, b]) await disputeGame.connect(f.provider).revealTrace(g.params, claimed.layerHashes);
      await disputeGame.connect(f.challenger).selectLayer(a.params, 1);
      await disputeGame.connect(f.challenger2).selectLayer(b.params, 2);
      await m(
        `revealLayer 1 (${n} non-zero bytes)`,
        disputeGame.connect(f.provider).revealLayer(a.params, 1, claimed.layerHashes, vectorToHex(x1)),
        await harness.revealLayer(2, n),
      );
      await m(
        "revealLayer 2 (1 byte)",
        disputeGame.connect(f.provider).revealLayer(b.params, 2, claimed.layerHashes, vectorToHex(x2)),
        await harness.revealLayer(2, 1),
      );
      const proveA = disputeGame.connect(f.challenger).proveNeuron(a.params, {
        input: vectorToHex(x0),
        output: vectorToHex(x1),
        neuron: 0,
        bias: 3,
        row: vectorToHex(row1),
        rowProof: [leaf2, ...uppers],
      });
      await expect(proveA).to.emit(disputeGame, "FraudProven").withArgs(a.id, 1, 0, y1, x1[0]);
      await m(`proveNeuron 1 (1 -> ${n}, row proof ${depth})`, proveA, await harness.proveNeuron(1, n, depth));
      const proveB = disputeGame.connect(f.challenger2).proveNeuron(b.params, {
        input: vectorToHex(x1),
        output: vectorToHex(x2),
        neuron: 0,
        bias: -5,
        row: vectorToHex(row2),
        rowProof: [leaf1, ...uppers],
      });
      await expect(proveB).to.emit(disputeGame, "FraudProven").withArgs(b.id, 2, 0, y2, x2[0]);
      await m(`proveNeuron 2 (${n} -> 1, row proof ${depth})`, proveB, await harness.proveNeuron(n, 1, depth));
      expectWithin(measured, worst);
      // The model is near the limit: its widest move really uses more than half of it.
      const widestMove = measured.reduce((x, y) => (y.gas > x.gas ? y : x));
      expect(widestMove.gas, `${widestMove.move}: ${widestMove.gas} gas`).to.be.greaterThan(MAX_MOVE / 2n);
    });
  });
});

import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { network } from "hardhat";
import { hashVector, traceRoot, vectorToHex, type DenseInt8Model } from "../../src/engine/index.js";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import {
  CommitmentStatus,
  Outcome,
  Phase,
  TraceStore,
  batchHeaderOf,
  batchTree,
  leafHashOf,
  writeBatchFile,
} from "../../src/sdk/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { daemonSetup } from "./helpers.js";

const connection = await network.create();
const fastRetry = { attempts: 1, baseDelayMs: 1 };

/** Writes `hex` as raw bytes to a file of `dir` and returns its file:// URI. */
function publish(dir: string, name: string, hex: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.from(hex.slice(2), "hex"));
  return pathToFileURL(file).href;
}

/**
 * A cheating provider's inference on a malformed input: 783 bytes for the 784-wide model, hashing to the
 * committed inputHash, with a made-up trace (whatever the activations, no honest run exists).
 */
function malformed(model: DenseInt8Model, modelId: string, seed: number) {
  const input = Int8Array.from({ length: model.layers[0].spec.inDim - 1 }, (_, i) => ((i * 7 + seed) % 256) - 128);
  const activations = [input, ...model.layers.map((l, k) => new Int8Array(l.spec.outDim).fill(k + seed))];
  const layerHashes = activations.map(hashVector);
  const inference = { inputHash: layerHashes[0], outputHash: layerHashes.at(-1)!, traceRoot: traceRoot(layerHashes) };
  return {
    inference,
    input: vectorToHex(input),
    trace: { modelId, activations: activations.map(vectorToHex), layerHashes },
  };
}

describe("Watchtower: certain to win before opening (inputs checked against their hash)", () => {
  it("reads a single commitment's input behind a URI: the right input is re-executed, a wrong or missing one demanded", async () => {
    const { provider, challenger, watcherVerity, work } = await daemonSetup(connection);
    const right = pseudoDigit(1);
    const honest = await provider.commit(right, undefined, { uri: publish(work, "right.bin", vectorToHex(right)) });
    const wrongBytes = await provider.commit(
      pseudoDigit(2),
      { layer: 2, neuron: 1 },
      {
        uri: publish(work, "other.bin", vectorToHex(pseudoDigit(9))),
      },
    );
    const gone = await provider.commit(
      pseudoDigit(3),
      { layer: 2, neuron: 2 },
      { uri: pathToFileURL(path.join(work, "none")).href },
    );
    const cheat = await provider.commit(
      pseudoDigit(4),
      { layer: 1, neuron: 3 },
      {
        uri: publish(work, "cheat.bin", vectorToHex(pseudoDigit(4))),
      },
    );
    const events = await watcherVerity.ledger.scan(0, await watcherVerity.provider.getBlockNumber());
    const verify = async (id: string) => challenger.verify(events.find((e) => e.id === id)!);
    // The old agent never read the URI: it reported (and disputed) the honest commitment too.
    expect(await verify(honest.id)).to.deep.equal([]);
    for (const { id } of [wrongBytes, gone]) {
      const [finding] = await verify(id);
      expect(finding).to.deep.include({ kind: "single", id, demandInput: true });
      expect(finding).to.not.have.property("malformedInput");
    }
    // A right input with a wrong output: still demanded (the URI may vanish before the game needs it).
    expect((await verify(cheat.id))[0]).to.deep.include({ demandInput: true });
  });

  it("proves structural fraud on a malformed input (behind a URI, in a batch file) without an input demand", async () => {
    const { provider, challenger, watcherVerity, work, ledger, model, modelId, signers } =
      await daemonSetup(connection);
    // A single commitment whose URI serves the 783 committed bytes.
    const single = malformed(model, modelId, 1);
    const id = await (
      await provider.verity.ledger.commit({
        modelId,
        inference: single.inference,
        uri: publish(work, "bad.bin", single.input),
      })
    ).wait();
    provider.store.put(TraceStore.key(id), single.trace);
    // A batch whose data file lists the 783 committed bytes for one leaf (and an honest leaf).
    const leaf = malformed(model, modelId, 2);
    const good = provider.infer(pseudoDigit(5));
    const leaves = [leaf.inference, good];
    const tree = batchTree(leaves);
    const dataURI = writeBatchFile(path.join(work, "batch.json"), {
      format: "verity.batch.v1",
      modelId,
      provider: signers[2].address,
      root: tree.root,
      count: 2,
      leaves: [
        { ...leaf.inference, input: leaf.input },
        {
          inputHash: good.inputHash,
          outputHash: good.outputHash,
          traceRoot: good.traceRoot,
          input: vectorToHex(pseudoDigit(5)),
        },
      ],
    });
    const batchId = await (
      await provider.verity.ledger.commitBatch({ modelId, root: tree.root, count: 2, dataURI })
    ).wait();
    provider.store.put(TraceStore.key(batchId, leafHashOf(leaf.inference)), leaf.trace);

    const watchtower = new Watchtower({
      verity: watcherVerity,
      challenger,
      dataDir: path.join(work, "wt"),
      retry: fastRetry,
    });
    const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd"), retry: fastRetry });
    await watchtower.init();
    await daemon.init();
    try {
      expect((await watchtower.tick()).opened).to.equal(2);
      const games = Object.entries(watchtower.snapshot().games);
      expect(games.map(([, g]) => g.targetKey).sort()).to.deep.equal(
        [id.toLowerCase(), `${batchId}-${leafHashOf(leaf.inference)}`.toLowerCase()].sort(),
      );
      // No input demand: the provider could never reveal 783 bytes, and the old agent (which demanded it,
      // then could not compute a trace from it) only won by waiting out the provider's deadline.
      for (const [disputeId] of games) {
        expect((await watcherVerity.disputes.game(disputeId)).phase).to.equal(Phase.AwaitingTrace);
      }
      // No time passes: each game is won by the structural proof at layer 1.
      for (let i = 0; i < 6 && watchtower.openGames().length > 0; i++) {
        await daemon.tick();
        await watchtower.tick();
      }
      for (const [disputeId] of games) {
        const game = await watcherVerity.disputes.game(disputeId);
        expect([game.phase, game.outcome, game.layer]).to.deep.equal([Phase.Resolved, Outcome.ChallengerWon, 1]);
      }
      expect(await ledger.status(id)).to.equal(BigInt(CommitmentStatus.Overturned));
      expect(
        await watcherVerity.ledger.leafStatus(
          batchHeaderOf(signers[2].address, modelId, tree.root, 2),
          tree.getProof(1),
          good,
        ),
      ).to.equal(CommitmentStatus.Pending);
    } finally {
      watchtower.close();
      daemon.close();
    }
  });
});

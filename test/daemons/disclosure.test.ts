import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import {
  CommitmentStatus,
  DisclosurePhase,
  Outcome,
  Phase,
  RecordFlags,
  batchHeaderOf,
  batchTree,
  hasFlag,
  leafHashOf,
} from "../../src/sdk/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { daemonSetup, recordingLog } from "./helpers.js";

const connection = await network.create();
const { networkHelpers } = connection;
const FAULTS = [undefined, { layer: 2, neuron: 7, delta: 3 }, undefined];
const fastRetry = { attempts: 1, baseDelayMs: 1 };

/**
 * A batch with one faulted leaf whose data file only its provider can read: the watchtower may not read
 * file:// URIs (as if the file were on the provider's machine), so the data is missing for it.
 */
async function unreadableBatch() {
  const s = await daemonSetup(connection);
  const { batchId, header, results } = await s.provider.commitBatch(
    [1, 2, 3].map(pseudoDigit),
    path.join(s.work, "batch.json"),
    FAULTS,
  );
  const tree = batchTree(results);
  const leafStatus = (i: number) => s.watcherVerity.ledger.leafStatus(header, tree.getProof(i), results[i]);
  const { log, lines } = recordingLog();
  const watchtower = new Watchtower({
    verity: s.watcherVerity,
    challenger: s.challenger,
    dataDir: path.join(s.work, "wt"),
    fetch: { schemes: ["https"] },
    autoClaim: false,
    retry: fastRetry,
    log,
  });
  const daemon = new ProviderDaemon({ agent: s.provider, dataDir: path.join(s.work, "pd"), retry: fastRetry, log });
  await watchtower.init();
  await daemon.init();
  return { ...s, batchId, header, results, lines, watchtower, daemon, leafStatus };
}

describe("Watchtower and provider daemon: batch disclosure", () => {
  it("demands the disclosure of an unreadable batch once, with half its window left; disputes the wrong leaf from the disclosed inputs", async () => {
    const {
      batchId,
      header,
      results,
      watchtower,
      daemon,
      watcherVerity,
      ledger,
      policy,
      stakeManager,
      signers,
      leafStatus,
    } = await unreadableBatch();
    const disclosure = watcherVerity.disclosure;
    try {
      await watchtower.tick();
      expect(watchtower.snapshot().batches[batchId].unfetchable).to.equal(true);
      await networkHelpers.time.increase(policy.challengeWindow / 2 - 60);
      await watchtower.tick();
      expect((await disclosure.disclosureOf(batchId)).phase).to.equal(DisclosurePhase.None); // not yet
      await networkHelpers.time.increase(120);
      const bond = await disclosure.disclosureBond(header);
      await watchtower.tick();
      await watchtower.tick();
      // The old watchtower only logged "disclosure demand not available" here, and the batch went final
      // unchecked when its window closed.
      const demanded = await disclosure.scanDemanded(0, await watcherVerity.provider.getBlockNumber());
      expect(demanded.map((d) => [d.batchId, d.demander])).to.deep.equal([[batchId, signers[3].address]]);
      const state = await disclosure.disclosureOf(batchId);
      expect(state.phase).to.equal(DisclosurePhase.Open);
      expect(state.bond).to.equal(bond);
      expect(watchtower.snapshot().batches[batchId].disclosure).to.equal("demanded");
      expect(await leafStatus(0)).to.equal(CommitmentStatus.Disputed);

      // The provider daemon answers: every leaf and input, then finish (its bond back, its stake unlocked).
      expect((await daemon.tick()).moves).to.equal(1);
      expect((await disclosure.disclosureOf(batchId)).phase).to.equal(DisclosurePhase.Disclosed);
      expect(hasFlag(Number((await ledger.recordOf(batchId)).flags), RecordFlags.DISCLOSED)).to.equal(true);
      expect((await stakeManager.stakeOf(signers[2].address)).openDisputes).to.equal(0n);
      expect(daemon.snapshot().disclosures[batchId]).to.deep.include({ done: true, outcome: "disclosed" });

      // The watchtower reads the disclosed leaves and disputes the faulted one, without an input demand.
      expect((await watchtower.tick()).opened).to.equal(1);
      expect(watchtower.snapshot().batches).to.deep.equal({});
      const [[disputeId, game]] = Object.entries(watchtower.snapshot().games);
      expect(game.targetKey).to.equal(`${batchId}-${leafHashOf(results[1])}`.toLowerCase());
      expect((await watcherVerity.disputes.game(disputeId)).phase).to.equal(Phase.AwaitingTrace);
      for (let i = 0; i < 6 && !watchtower.snapshot().games[disputeId].resolved; i++) {
        await daemon.tick();
        await watchtower.tick();
      }
      expect(watchtower.snapshot().games[disputeId].outcome).to.equal(Outcome.ChallengerWon);
      expect(await leafStatus(1)).to.equal(CommitmentStatus.Overturned);
      expect(await leafStatus(0)).to.equal(CommitmentStatus.Pending);
      expect((await stakeManager.stakeOf(signers[2].address)).openDisputes).to.equal(0n);
    } finally {
      watchtower.close();
      daemon.close();
    }
  });

  it("ends the demand by timeout when the provider does not disclose: the batch is overturned and the watchtower paid", async () => {
    const { batchId, header, watchtower, daemon, watcherVerity, ledger, policy, signers, stakeManager } =
      await unreadableBatch();
    daemon.close(); // the provider is gone
    try {
      await watchtower.tick();
      await networkHelpers.time.increase(policy.challengeWindow / 2 + 1);
      await watchtower.tick();
      const state = await watcherVerity.disclosure.disclosureOf(batchId);
      expect(state.phase).to.equal(DisclosurePhase.Open);
      await watchtower.tick(); // before the deadline: nothing
      expect((await watcherVerity.disclosure.disclosureOf(batchId)).phase).to.equal(DisclosurePhase.Open);
      const credit = await stakeManager.creditOf(signers[3].address);
      await networkHelpers.time.increase(policy.responseWindow + 1);
      await watchtower.tick();
      expect((await watcherVerity.disclosure.disclosureOf(batchId)).phase).to.equal(DisclosurePhase.Failed);
      expect(await ledger.status(batchId)).to.equal(BigInt(CommitmentStatus.Overturned));
      expect(watchtower.snapshot().batches).to.deep.equal({});
      // The demander gets its bond back and the whole challengers' share.
      const share = (state.slashAmount * BigInt(state.challengerShareBps)) / 10000n;
      expect((await stakeManager.creditOf(signers[3].address)) - credit).to.equal(state.bond + share);
      expect(batchHeaderOf(header.provider, header.modelId, header.root, header.count).count).to.equal(3);
    } finally {
      watchtower.close();
    }
  });
});

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import {
  ChallengerAgent,
  CommitmentStatus,
  Outcome,
  ProviderAgent,
  TraceStore,
  VerityRevertError,
  RecordFlags,
  hasFlag,
  leafHashOf,
} from "../../src/sdk/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { connectedMnist } from "../helpers/verityFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

async function setup() {
  const f = await connectedMnist(connection, "verity-sdk-");
  const provider = await ProviderAgent.create(
    await f.as(f.provider),
    f.model,
    new TraceStore(path.join(f.work, "traces")),
  );
  const watcherVerity = await f.as(f.challenger);
  const challenger = await ChallengerAgent.create(watcherVerity, [f.model]);
  return { ...f, provider, challenger, watcherVerity };
}

/** Ticks the watchtower and the provider daemon until the watchtower has no open game (bounded). */
async function settle(watchtower: Watchtower, daemon: ProviderDaemon, rounds = 12) {
  for (let i = 0; i < rounds; i++) {
    await watchtower.tick();
    await daemon.tick();
    if (watchtower.openGames().length === 0 && i > 0) return;
  }
  throw new Error("games did not settle");
}

describe("SDK agents and daemons (in-process chain)", () => {
  it("turns a revert into the custom error's name and arguments", async () => {
    const { as, signers, modelId } = await setup();
    const outsider = await as(signers[6]);
    const err = await outsider.ledger
      .commit({
        modelId,
        inference: { inputHash: ethers.id("a"), outputHash: ethers.id("b"), traceRoot: ethers.id("c") },
        uri: "ipfs://input",
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(VerityRevertError);
    const revert = err as VerityRevertError;
    expect(revert.errorName).to.equal("InferenceLedgerInsufficientStake");
    expect(revert.args).to.deep.equal([signers[6].address, 0n, ethers.parseEther("100")]);
    expect(revert.message).to.equal(
      `InferenceLedgerInsufficientStake(${signers[6].address}, 0, 100000000000000000000)`,
    );
  });

  it("plays a batch-leaf dispute with a withheld input: demand, reveal, continue, prove, slash", async () => {
    const { provider, challenger, watcherVerity, work, ledger, stakeManager, policy } = await setup();
    const inputs = [1, 2, 3, 4].map(pseudoDigit);
    const faults = [undefined, { layer: 3, neuron: 2, delta: 9 }, undefined, undefined];
    const { batchId, results } = await provider.commitBatch(inputs, path.join(work, "batch.json"), faults, {
      withholdInputs: true,
    });
    const events = await watcherVerity.ledger.scan(0, await ethers.provider.getBlockNumber());
    const batch = events.find((e) => e.id === batchId)!;
    // Without inputs the challenger cannot tell right from wrong: it would demand every leaf; take leaf 1.
    const findings = await challenger.verify(batch);
    expect(findings).to.have.length(4);
    const finding = findings.find((f) => f.kind === "leaf" && f.leaf.outputHash === results[1].outputHash)!;
    expect(finding.kind === "leaf" && finding.demandInput).to.equal(true);
    const params = await challenger.open(finding);
    const id = await watcherVerity.disputes.idOf(params);

    expect(await provider.answer(id, params)).to.equal("revealInput");
    expect(await challenger.advance(id, params)).to.equal("continue");
    expect(await provider.answer(id, params)).to.equal("revealTrace");
    expect(await challenger.advance(id, params)).to.equal("selectLayer");
    expect(await provider.answer(id, params)).to.equal("revealLayer");
    expect(await challenger.advance(id, params)).to.equal("proveNeuron");
    const game = await watcherVerity.disputes.game(id);
    expect(game.outcome).to.equal(Outcome.ChallengerWon);
    expect(game.layer).to.equal(3);
    const leafRecord = await ledger.leafRecordOf(batchId, leafHashOf(results[1]));
    expect(leafRecord.overturned).to.equal(true);
    expect(await stakeManager.creditOf(params.challenger)).to.equal(policy.challengerBond + policy.slashAmount / 2n);
  });

  it("lets a demand on a correct leaf lapse after the reveal and refunds the bond", async () => {
    const { provider, challenger, watcherVerity, work, stakeManager, policy } = await setup();
    const inputs = [5, 6].map(pseudoDigit);
    const { batchId } = await provider.commitBatch(inputs, path.join(work, "batch.json"), [], { withholdInputs: true });
    const events = await watcherVerity.ledger.scan(0, await ethers.provider.getBlockNumber());
    const [finding] = await challenger.verify(events.find((e) => e.id === batchId)!);
    const params = await challenger.open(finding);
    const id = await watcherVerity.disputes.idOf(params);
    expect(await provider.answer(id, params)).to.equal("revealInput");
    // The revealed input shows the leaf is right: the challenger does not go on.
    expect(await challenger.advance(id, params)).to.equal("none");
    await networkHelpers.time.increase(policy.responseWindow + 1);
    // The lapsed demand holds the provider's stake lock: the provider ends it (the bond goes back).
    expect(await provider.answer(id, params)).to.equal("timeout");
    expect(await challenger.advance(id, params)).to.equal("none");
    expect((await watcherVerity.disputes.game(id)).outcome).to.equal(Outcome.Refunded);
    expect(await stakeManager.creditOf(params.challenger)).to.equal(policy.challengerBond);
  });

  it("runs the watchtower: disputes only wrong commitments, proves them, claims, and records each commitment once", async () => {
    const { provider, challenger, watcherVerity, work, ledger, token, signers } = await setup();
    const honest: string[] = [];
    const wrong: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { id } = await provider.commit(
        pseudoDigit(10 + i),
        i % 3 === 0 ? { layer: 1 + (i % 3), neuron: i } : undefined,
      );
      (i % 3 === 0 ? wrong : honest).push(id);
    }
    const watchtower = new Watchtower({
      verity: watcherVerity,
      challenger,
      dataDir: path.join(work, "wt"),
      maxRange: 3,
    });
    const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd") });
    await watchtower.init();
    await daemon.init();
    const before = await token.balanceOf(signers[3].address);
    await settle(watchtower, daemon);
    for (const id of wrong) expect(await ledger.status(id)).to.equal(BigInt(CommitmentStatus.Overturned));
    for (const id of honest) expect(await ledger.status(id)).to.equal(BigInt(CommitmentStatus.Pending));
    const state = watchtower.snapshot();
    expect(
      Object.values(state.games)
        .map((g) => g.targetKey)
        .sort(),
    ).to.deep.equal(wrong.map((w) => w.toLowerCase()).sort());
    expect(state.stats.won).to.equal(wrong.length);
    expect(state.stats.lost).to.equal(0);
    expect(await token.balanceOf(signers[3].address)).to.be.greaterThan(before); // rewards claimed
    expect(watchtower.seenIds().sort()).to.deep.equal([...honest, ...wrong].sort());
    expect(daemon.snapshot().stats.lost).to.equal(wrong.length);
  });

  it("recovers from a crash mid-range: an unrecorded journal tail is dropped and games come back from the chain", async () => {
    const { provider, challenger, watcherVerity, work } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await provider.commit(pseudoDigit(20 + i), i === 1 ? { layer: 2, neuron: 1 } : undefined)).id);
    const dataDir = path.join(work, "wt");
    const first = new Watchtower({ verity: watcherVerity, challenger, dataDir });
    await first.init();
    await first.tick();
    expect(first.openGames()).to.have.length(1);
    // Simulate a crash after a range was journaled but before its state was saved: the state forgets the
    // range and the game, the journal keeps lines the state never recorded.
    const stateFile = path.join(dataDir, "state.json");
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    const cursor = state.cursor;
    state.cursor = -1;
    state.games = {};
    state.journalBytes = 0;
    state.stats.opened = 0;
    writeFileSync(stateFile, JSON.stringify(state));
    const restarted = new Watchtower({ verity: watcherVerity, challenger, dataDir });
    await restarted.init();
    expect(restarted.openGames()).to.have.length(1); // recovered from its DisputeOpened event
    await restarted.tick();
    expect(restarted.snapshot().cursor).to.equal(await ethers.provider.getBlockNumber());
    expect(restarted.snapshot().cursor).to.be.greaterThanOrEqual(cursor);
    expect(restarted.seenIds().sort()).to.deep.equal([...ids].sort()); // each once, none lost
    expect(restarted.snapshot().stats.opened).to.equal(1);
    const game = watcherVerity.disputes.contract;
    expect(await game.queryFilter(game.filters.DisputeOpened())).to.have.length(1); // not opened again
  });

  it("keeps a finding it could not dispute yet (no bond allowance) and disputes it on a later tick", async () => {
    const { provider, challenger, watcherVerity, work, ledger, token, stakeManager, signers } = await setup();
    const { id } = await provider.commit(pseudoDigit(40), { layer: 2, neuron: 3 });
    await token.connect(signers[3]).approve(await stakeManager.getAddress(), 0);
    const watchtower = new Watchtower({ verity: watcherVerity, challenger, dataDir: path.join(work, "wt") });
    await watchtower.init();
    const first = await watchtower.tick();
    expect(first.opened).to.equal(0);
    expect(Object.keys(watchtower.snapshot().pending)).to.deep.equal([id.toLowerCase()]);
    await token.connect(signers[3]).approve(await stakeManager.getAddress(), ethers.MaxUint256);
    const second = await watchtower.tick();
    expect(second.opened).to.equal(1);
    expect(watchtower.snapshot().pending).to.deep.equal({});
    expect(await ledger.status(id)).to.equal(BigInt(CommitmentStatus.Disputed));
  });

  it("demands the input of a single commitment whose event carries a URI, then proves the fraud", async () => {
    const { provider, challenger, watcherVerity, work, ledger } = await setup();
    const { id } = await provider.commit(pseudoDigit(50), { layer: 1, neuron: 4 }, { uri: "ipfs://bafy-input" });
    expect(hasFlag((await provider.verity.ledger.record(id)).flags, RecordFlags.INPUT_PUBLIC)).to.equal(false);
    const watchtower = new Watchtower({ verity: watcherVerity, challenger, dataDir: path.join(work, "wt") });
    const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd") });
    await watchtower.init();
    await daemon.init();
    await settle(watchtower, daemon);
    const [game] = Object.values(watchtower.snapshot().games);
    expect(game.outcome).to.equal(Outcome.ChallengerWon);
    expect(await ledger.status(id)).to.equal(BigInt(CommitmentStatus.Overturned));
    const g = watcherVerity.disputes.contract;
    expect(await g.queryFilter(g.filters.InputRevealed())).to.have.length(1);
  });
});

import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import {
  ChallengerAgent,
  CommitmentStatus,
  Outcome,
  Phase,
  ProviderAgent,
  TraceStore,
  VerityRevertError,
  type Finding,
} from "../../src/sdk/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { daemonSetup, recordingLog } from "./helpers.js";

const connection = await network.create();
const { networkHelpers } = connection;

/** Ticks the daemons until every watchtower game is resolved and paid (bounded). */
async function settle(watchtowers: Watchtower[], daemon: ProviderDaemon, rounds = 12) {
  for (let i = 0; i < rounds; i++) {
    for (const w of watchtowers) await w.tick();
    await daemon.tick();
    const live = watchtowers.flatMap((w) => Object.values(w.snapshot().games));
    if (i > 0 && live.every((g) => g.resolved && (g.outcome !== Outcome.ChallengerWon || g.rewardPaid))) return;
  }
  throw new Error("games did not settle");
}

describe("Watchtower games", () => {
  it("adopts the game it already opened (DisputeGameDuplicate names it) instead of retrying the opening forever", async () => {
    const { provider, challenger, watcherVerity, work } = await daemonSetup(connection);
    const { id } = await provider.commit(pseudoDigit(1), { layer: 2, neuron: 1 });
    const { log, lines } = recordingLog();
    const watchtower = new Watchtower({ verity: watcherVerity, challenger, dataDir: path.join(work, "wt"), log });
    await watchtower.init();
    // The same signer and nonce book open the game behind the watchtower's back (a crash after sending):
    const events = await watcherVerity.ledger.scan(0, await watcherVerity.provider.getBlockNumber());
    const [finding] = await challenger.verify(events.find((e) => e.id === id)!);
    const disputeId = await watcherVerity.disputes.idOf(await challenger.open(finding));
    const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd") });
    await daemon.init();
    try {
      // The old watchtower kept the finding pending and hit DisputeGameDuplicate on every tick.
      const report = await watchtower.tick();
      expect(report.opened).to.equal(0);
      const state = watchtower.snapshot();
      expect(state.pending).to.deep.equal({});
      expect(Object.keys(state.games)).to.deep.equal([disputeId]);
      expect(state.games[disputeId].targetKey).to.equal(id.toLowerCase());
      expect(lines).to.include(`adopted the existing dispute ${disputeId} on ${id.toLowerCase()}`);
      await settle([watchtower], daemon);
      expect(watchtower.snapshot().games[disputeId].outcome).to.equal(Outcome.ChallengerWon);
    } finally {
      watchtower.close();
      daemon.close();
    }
  });

  it("gives up on findings the contracts refuse for good: unsupported model, public input, non-optimistic model", async () => {
    const f = await daemonSetup(connection);
    const { provider, watcherVerity, work } = f;
    for (let i = 0; i < 3; i++) await provider.commit(pseudoDigit(10 + i), { layer: 1, neuron: i });
    const reasons = ["DisputeGameUnsupportedModel", "DisputeGameInputAlreadyPublic", "InferenceLedgerNotOptimistic"];
    const opened: string[] = [];
    /** A challenger whose openings revert with each refusal in turn (what the contracts answer). */
    class Refused extends ChallengerAgent {
      override async open(finding: Finding): Promise<never> {
        const reason = reasons[opened.length];
        opened.push(finding.id);
        throw new VerityRevertError(reason, [finding.id], "0x");
      }
    }
    const { log, lines } = recordingLog();
    const watchtower = new Watchtower({
      verity: watcherVerity,
      challenger: new Refused(watcherVerity, [f.model], [f.modelId]),
      dataDir: path.join(work, "wt"),
      log,
    });
    await watchtower.init();
    try {
      await watchtower.tick();
      await watchtower.tick();
      // The old list had DisputeGameUnsupportedEngine only: these three stayed pending, reopened every tick.
      expect(opened).to.have.length(3);
      expect(watchtower.snapshot().pending).to.deep.equal({});
      expect(lines.filter((l) => l.startsWith("gave up on "))).to.have.length(3);
      reasons.forEach((r, i) => expect(lines.some((l) => l.includes(`${r}(${opened[i]})`))).to.equal(true));
    } finally {
      watchtower.close();
    }
  });

  it("disputes without the input demand when the input became public meanwhile, instead of giving up", async () => {
    const f = await daemonSetup(connection);
    const { provider, watcherVerity, work } = f;
    const { id } = await provider.commit(pseudoDigit(30), { layer: 2, neuron: 1 });
    const demands: boolean[] = [];
    /** Decides to demand the input, and meets the refusal a disclosure in between would cause. */
    class Raced extends ChallengerAgent {
      override async verify(event: Parameters<ChallengerAgent["verify"]>[0]): Promise<Finding[]> {
        return (await super.verify(event)).map((finding) => ({ ...finding, demandInput: true }));
      }
      override async open(finding: Finding, nonce?: bigint) {
        demands.push(finding.demandInput);
        if (finding.demandInput) throw new VerityRevertError("DisputeGameInputAlreadyPublic", [finding.id], "0x");
        return super.open(finding, nonce);
      }
    }
    const watchtower = new Watchtower({
      verity: watcherVerity,
      challenger: new Raced(watcherVerity, [f.model], [f.modelId]),
      dataDir: path.join(work, "wt"),
    });
    await watchtower.init();
    try {
      await watchtower.tick();
      await watchtower.tick();
      // Before, the finding was dropped ("gave up"), and the fraud would have gone Final.
      expect(demands).to.deep.equal([true, false]);
      const games = Object.values(watchtower.snapshot().games);
      expect(games.map((g) => g.params.target)).to.deep.equal([id]);
      expect(watchtower.snapshot().pending).to.deep.equal({});
    } finally {
      watchtower.close();
    }
  });

  it("claims a pooled reward: the game that won first is advanced until its share is paid", async () => {
    const s = await daemonSetup(connection);
    const { id } = await s.provider.commit(pseudoDigit(2), { layer: 2, neuron: 4 });
    const second = await s.as(s.challenger2);
    const watchtowers = [
      new Watchtower({ verity: s.watcherVerity, challenger: s.challenger, dataDir: path.join(s.work, "wt1") }),
      new Watchtower({
        verity: second,
        challenger: new ChallengerAgent(second, [s.model], [s.modelId]),
        dataDir: path.join(s.work, "wt2"),
      }),
    ];
    const daemon = new ProviderDaemon({ agent: s.provider, dataDir: path.join(s.work, "pd") });
    for (const w of [...watchtowers, daemon]) await w.init();
    try {
      await settle(watchtowers, daemon);
      const games = watchtowers.map((w) => Object.entries(w.snapshot().games)[0]);
      for (const [disputeId, game] of games) {
        expect(game.outcome).to.equal(Outcome.ChallengerWon);
        const onChain = await s.watcherVerity.disputes.game(disputeId);
        // The old watchtower stopped at Resolved: the first winner's pooled share was never claimed.
        expect(onChain.rewardPaid).to.equal(true);
      }
      const paid = await s.disputeGame.queryFilter(s.disputeGame.filters.RewardPaid());
      expect(paid.map((e) => e.args.disputeId).sort()).to.deep.equal(games.map(([d]) => d).sort());
      // Equal split of the escrowed share (the last paid takes the remainder).
      const [escrowed] = await s.disputeGame.queryFilter(s.disputeGame.filters.RewardEscrowed());
      const share = escrowed.args.amount;
      const [a, b] = paid.map((e) => e.args.amount);
      expect(a + b).to.equal(share);
      expect(a > 0n && b > 0n && (a - b) ** 2n <= 1n).to.equal(true);
      expect(await s.ledger.status(id)).to.equal(BigInt(CommitmentStatus.Overturned));
      expect(watchtowers.map((w) => Object.values(w.snapshot().games)[0].rewardPaid)).to.deep.equal([true, true]);
    } finally {
      for (const w of [...watchtowers, daemon]) w.close();
    }
  });

  it("after a reorg drops its opening, opens the game again with the same nonce (same id) and wins it", async () => {
    const { provider, challenger, watcherVerity, work, ledger } = await daemonSetup(connection);
    const { id } = await provider.commit(pseudoDigit(3), { layer: 1, neuron: 2 });
    const { log, lines } = recordingLog();
    const watchtower = new Watchtower({ verity: watcherVerity, challenger, dataDir: path.join(work, "wt"), log });
    await watchtower.init();
    const beforeOpening = await networkHelpers.takeSnapshot();
    try {
      expect((await watchtower.tick()).opened).to.equal(1);
      const [disputeId, game] = Object.entries(watchtower.snapshot().games)[0];
      expect((await watcherVerity.disputes.game(disputeId)).phase).to.equal(Phase.AwaitingTrace);
      await beforeOpening.restore(); // the block holding DisputeOpened is gone
      expect((await watcherVerity.disputes.game(disputeId)).phase).to.equal(Phase.None);
      // The old watchtower kept playing a game the chain no longer had ("none" every tick), and the
      // commitment's window ran out undisputed.
      expect((await watchtower.tick()).moves).to.equal(1);
      expect(lines).to.include(`dispute ${disputeId} vanished (a reorg?): opened it again as ${disputeId}`);
      expect(Object.keys(watchtower.snapshot().games)).to.deep.equal([disputeId]);
      const [opened] = await watcherVerity.disputes.scanOpened(0, await watcherVerity.provider.getBlockNumber());
      expect(opened.disputeId).to.equal(disputeId);
      expect(opened.params.nonce).to.equal(game.params.nonce);
      const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd") });
      await daemon.init();
      try {
        await settle([watchtower], daemon);
      } finally {
        daemon.close();
      }
      expect(watchtower.snapshot().games[disputeId].outcome).to.equal(Outcome.ChallengerWon);
      expect(await ledger.status(id)).to.equal(BigInt(CommitmentStatus.Overturned));
    } finally {
      watchtower.close();
    }
  });

  it("the provider daemon ends a game whose own move lapsed (trace lost): no stake stays locked", async () => {
    const { provider, challenger, watcherVerity, work, stakeManager, policy, as, model, modelId, signers } =
      await daemonSetup(connection);
    const { id } = await provider.commit(pseudoDigit(4), { layer: 2, neuron: 2 });
    const events = await watcherVerity.ledger.scan(0, await watcherVerity.provider.getBlockNumber());
    const disputeId = await watcherVerity.disputes.idOf(
      await challenger.open((await challenger.verify(events.find((e) => e.id === id)!))[0]),
    );
    // A provider that lost its traces (an empty store) and a challenger that never ends the game.
    const amnesiac = new ProviderAgent(await as(signers[2]), model, new TraceStore(path.join(work, "empty")), modelId);
    const daemon = new ProviderDaemon({
      agent: amnesiac,
      dataDir: path.join(work, "pd"),
      retry: { attempts: 1, baseDelayMs: 1 },
    });
    await daemon.init();
    try {
      await daemon.tick(); // cannot answer: logged, nothing sent
      expect((await watcherVerity.disputes.game(disputeId)).phase).to.equal(Phase.AwaitingTrace);
      const who = signers[2].address;
      expect((await stakeManager.stakeOf(who)).openDisputes).to.equal(1n);
      await networkHelpers.time.increase(policy.responseWindow + 1);
      // The old daemon ended only the challenger's lapsed moves: this game held the stake for good.
      expect((await daemon.tick()).resolved).to.equal(1);
      expect((await watcherVerity.disputes.game(disputeId)).outcome).to.equal(Outcome.ChallengerWon);
      expect((await stakeManager.stakeOf(who)).openDisputes).to.equal(0n);
      expect(daemon.snapshot().stats.lost).to.equal(1);
    } finally {
      daemon.close();
    }
  });
});

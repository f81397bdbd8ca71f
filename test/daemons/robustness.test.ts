import { getEventListeners } from "node:events";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { runLoop } from "../../src/cli/daemon.js";
import { FatalDaemonError } from "../../src/daemons/datadir.js";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { sleep } from "../../src/daemons/retry.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import { CommitmentStatus, Outcome, Phase } from "../../src/sdk/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { daemonSetup, recordingLog } from "./helpers.js";

const connection = await network.create();
const { networkHelpers } = connection;
const fastRetry = { attempts: 2, baseDelayMs: 1 };

describe("Daemon robustness", () => {
  it("sleep leaves no abort listener behind: no MaxListenersExceededWarning however many ticks", async () => {
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 30; i++) await sleep(0, controller.signal);
      expect(getEventListeners(controller.signal, "abort")).to.have.length(0);
      const woken = sleep(60_000, controller.signal);
      expect(getEventListeners(controller.signal, "abort")).to.have.length(1);
      controller.abort();
      await woken; // an abort still ends a sleep at once
      expect(getEventListeners(controller.signal, "abort")).to.have.length(0);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).to.deep.equal([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("both daemons stop with one line when the deployment's contracts are gone, instead of failing every tick", async () => {
    const { provider, challenger, watcherVerity, work, addresses } = await daemonSetup(connection);
    await provider.commit(pseudoDigit(1));
    const { log, lines } = recordingLog();
    const watchtower = new Watchtower({
      verity: watcherVerity,
      challenger,
      dataDir: path.join(work, "wt"),
      retry: fastRetry,
      log,
    });
    const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd"), retry: fastRetry, log });
    await watchtower.init();
    await daemon.init();
    try {
      // What a node restart does to a deployment: the blocks may come back, the code does not.
      for (const address of Object.values(addresses)) await networkHelpers.setCode(address, "0x");
      for (const tick of [() => watchtower.tick(), () => daemon.tick()]) {
        const error = await tick().then(
          () => expect.fail("the tick succeeded"),
          (e: Error) => e,
        );
        expect(error).to.be.instanceOf(FatalDaemonError);
        expect(error.message).to.match(/^no contract code at token 0x.*ledger 0x.*: the deployment is gone/);
      }
      // run() stops on it (rejects) rather than looping until aborted.
      const stop = AbortSignal.timeout(3_000);
      for (const run of [() => watchtower.run(1, stop), () => daemon.run(1, stop)]) {
        const ended = await run().then(
          () => "looped until aborted",
          (e: Error) => e.name,
        );
        expect(ended).to.equal("FatalDaemonError");
      }
      expect(lines.filter((l) => l.startsWith("tick failed"))).to.deep.equal([]);
      // A fresh start says so too.
      const again = new Watchtower({ verity: watcherVerity, challenger, dataDir: path.join(work, "wt2") });
      expect(
        await again.init().then(
          () => "started",
          (e: Error) => e.name,
        ),
      ).to.equal("FatalDaemonError");
    } finally {
      watchtower.close();
      daemon.close();
    }
  });

  it("the CLI loop ends (fails the command) on a FatalDaemonError, and only logs any other failure", async () => {
    const lines: string[] = [];
    let ticks = 0;
    const loop = runLoop({ intervalMs: 1, once: false, log: (l) => lines.push(l) }, async () => {
      ticks++;
      if (ticks < 3) throw new Error("ECONNREFUSED");
      throw new FatalDaemonError("no contract code at ledger 0x00: the deployment is gone");
    });
    let timer: NodeJS.Timeout | undefined;
    const looping = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        process.emit("SIGINT"); // the loop's own stop: ends it after the current tick
        resolve("still looping after 2 s");
      }, 2_000);
    });
    const error = await Promise.race([
      loop.then(
        () => "ended normally",
        (e: Error) => e,
      ),
      looping,
    ]);
    clearTimeout(timer);
    expect(error).to.be.instanceOf(FatalDaemonError);
    expect(ticks).to.equal(3);
    expect(lines).to.deep.equal(["tick failed: ECONNREFUSED", "tick failed: ECONNREFUSED"]);
  });

  it("the CLI loop stops when a daemon's deployment is gone, even if the tick fails outside the daemon (verity watch's allowance)", async () => {
    const { challenger, watcherVerity, work, addresses } = await daemonSetup(connection);
    const watchtower = new Watchtower({ verity: watcherVerity, challenger, dataDir: path.join(work, "wt") });
    await watchtower.init();
    try {
      for (const address of Object.values(addresses)) await networkHelpers.setCode(address, "0x");
      const lines: string[] = [];
      const loop = runLoop({ intervalMs: 1, once: false, log: (l) => lines.push(l) }, async () => {
        await watcherVerity.staking.ensureAllowance(1n); // what `verity watch` does before each watchtower tick
        await watchtower.tick();
      });
      const ended = await Promise.race([
        loop.then(
          () => "ended normally",
          (e: Error) => e,
        ),
        new Promise((r) => setTimeout(() => r("still looping"), 2_000)),
      ]);
      if (ended === "still looping") process.emit("SIGINT");
      expect(ended).to.be.instanceOf(FatalDaemonError);
      expect(lines).to.deep.equal([]);
    } finally {
      watchtower.close();
    }
  });

  it("the provider daemon ends an input demand the challenger let lapse after the reveal: refunded, stake unlocked", async () => {
    const { provider, challenger, watcherVerity, work, ledger, policy } = await daemonSetup(connection);
    const { batchId } = await provider.commitBatch([5, 6].map(pseudoDigit), path.join(work, "batch.json"), [], {
      withholdInputs: true,
    });
    const events = await watcherVerity.ledger.scan(0, await watcherVerity.provider.getBlockNumber());
    const [finding] = await challenger.verify(events.find((e) => e.id === batchId)!);
    const params = await challenger.open(finding);
    const id = await watcherVerity.disputes.idOf(params);
    const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd") });
    await daemon.init();
    try {
      expect((await daemon.tick()).moves).to.equal(1); // reveals the input
      expect((await watcherVerity.disputes.game(id)).phase).to.equal(Phase.InputRevealed);
      // The challenger never moves again.
      await daemon.tick();
      expect((await watcherVerity.disputes.game(id)).phase).to.equal(Phase.InputRevealed); // not before the deadline
      await networkHelpers.time.increase(policy.responseWindow + 1);
      expect((await daemon.tick()).resolved).to.equal(1);
      const game = await watcherVerity.disputes.game(id);
      expect(game.phase).to.equal(Phase.Resolved);
      expect(game.outcome).to.equal(Outcome.Refunded);
      expect(daemon.snapshot().stats.refunded).to.equal(1);
      // No open dispute holds the batch any more: it went final (its window has passed meanwhile).
      expect((await ledger.recordOf(batchId)).openDisputes).to.equal(0n);
      expect(await ledger.status(batchId)).to.equal(BigInt(CommitmentStatus.Final));
    } finally {
      daemon.close();
    }
  });
});

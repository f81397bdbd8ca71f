import { renameSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { vectorToHex } from "../../src/engine/index.js";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower, type PendingBatch, type WatchtowerOptions } from "../../src/daemons/watchtower.js";
import { Outcome, TraceStore, batchTree, leafHashOf } from "../../src/sdk/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { daemonSetup, recordingLog } from "./helpers.js";

const connection = await network.create();
const { networkHelpers } = connection;
const FAULTS = [undefined, { layer: 2, neuron: 7, delta: 3 }, undefined];

/** A provider's batch with one faulted leaf, its data file moved away before any watchtower reads it. */
async function hiddenBatch() {
  const s = await daemonSetup(connection);
  const file = path.join(s.work, "batch.json");
  const { batchId } = await s.provider.commitBatch([1, 2, 3].map(pseudoDigit), file, FAULTS);
  renameSync(file, `${file}.hidden`);
  const { log, lines } = recordingLog();
  const watch = (options: Partial<WatchtowerOptions> = {}) =>
    new Watchtower({
      verity: s.watcherVerity,
      challenger: s.challenger,
      dataDir: path.join(s.work, "wt"),
      log,
      ...options,
    });
  return { ...s, batchId, lines, watch, publish: () => renameSync(`${file}.hidden`, file) };
}

describe("Watchtower: batches whose data cannot be read yet", () => {
  it("keeps a batch whose data file is missing at scan time and disputes it once the file appears", async () => {
    const { batchId, watch, publish } = await hiddenBatch();
    const watchtower = watch({ batchRetry: { baseDelayMs: 0 } });
    await watchtower.init();
    try {
      expect((await watchtower.tick()).opened).to.equal(0);
      const pending = watchtower.snapshot().batches[batchId];
      expect(pending.attempts).to.equal(1);
      expect(pending.lastError).to.match(/no such file|ENOENT/);
      publish();
      expect((await watchtower.tick()).opened).to.equal(1);
      expect(watchtower.snapshot().batches).to.deep.equal({});
      expect(Object.values(watchtower.snapshot().games)[0].targetKey).to.match(
        new RegExp(`^${batchId.toLowerCase()}-`),
      );
    } finally {
      watchtower.close();
    }
  });

  it("reads again only when the backoff is over, doubling it after each failure", async () => {
    const { batchId, watch } = await hiddenBatch();
    const watchtower = watch({ batchRetry: { baseDelayMs: 300, maxDelayMs: 400 } });
    await watchtower.init();
    try {
      await watchtower.tick();
      await watchtower.tick(); // too early: no new attempt
      expect(watchtower.snapshot().batches[batchId].attempts).to.equal(1);
      await new Promise((r) => setTimeout(r, 300));
      const before = Date.now();
      await watchtower.tick();
      const pending = watchtower.snapshot().batches[batchId];
      expect(pending.attempts).to.equal(2);
      expect(pending.retryAt - before).to.be.within(350, 450); // min(2 x 300, 400)
    } finally {
      watchtower.close();
    }
  });

  it("calls the data-missing hook once with half the challenge window left, then drops the batch when it closes", async () => {
    const { batchId, watch, lines, policy } = await hiddenBatch();
    const missing: PendingBatch[] = [];
    const watchtower = watch({ batchRetry: { baseDelayMs: 0 }, onDataMissing: (b) => void missing.push(b) });
    await watchtower.init();
    try {
      await watchtower.tick();
      await networkHelpers.time.increase(policy.challengeWindow / 2 - 60);
      await watchtower.tick();
      expect(missing).to.have.length(0);
      await networkHelpers.time.increase(120);
      await watchtower.tick();
      await watchtower.tick();
      expect(missing.map((b) => b.event.id)).to.deep.equal([batchId]);
      expect(missing[0].attempts).to.be.at.least(3);
      await networkHelpers.time.increase(policy.challengeWindow);
      await watchtower.tick();
      expect(watchtower.snapshot().batches).to.deep.equal({});
      expect(lines.some((l) => l.startsWith(`gave up on batch ${batchId}: its challenge window closed`))).to.equal(
        true,
      );
    } finally {
      watchtower.close();
    }
  });

  it("by default demands the batch's disclosure on-chain, once", async () => {
    const { batchId, watch, lines, policy } = await hiddenBatch();
    const watchtower = watch();
    await watchtower.init();
    try {
      await watchtower.tick();
      await networkHelpers.time.increase(policy.challengeWindow / 2 + 1);
      await watchtower.tick();
      await watchtower.tick();
      // (The old default only logged "disclosure demand not available".)
      const prefix = `data missing for batch ${batchId}; demanded its disclosure`;
      expect(lines.filter((l) => l.startsWith(prefix))).to.have.length(1);
      expect(watchtower.snapshot().batches[batchId]).to.deep.include({ reportedMissing: true, disclosure: "demanded" });
    } finally {
      watchtower.close();
    }
  });

  describe("over http", () => {
    let server: http.Server;
    let body = "";
    let url = "";
    before(async () => {
      server = http.createServer((_req, res) => res.end(body));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/batch.json`;
    });
    after(() => new Promise((resolve) => server.close(resolve)));

    /** Commits a batch with one faulted leaf whose data the local server serves. */
    async function httpBatch() {
      const s = await daemonSetup(connection);
      const inputs = [4, 5, 6].map(pseudoDigit);
      const results = inputs.map((x, i) => s.provider.infer(x, FAULTS[i]));
      const tree = batchTree(results);
      body = JSON.stringify({
        format: "verity.batch.v1",
        modelId: s.provider.modelId,
        provider: s.provider2.address,
        root: tree.root,
        count: results.length,
        leaves: results.map((r, i) => ({ ...pick(r), input: vectorToHex(inputs[i]) })),
      });
      const tx = await s.provider.verity.ledger.commitBatch({
        modelId: s.provider.modelId,
        root: tree.root,
        count: results.length,
        dataURI: url,
      });
      const batchId = await tx.wait();
      for (const r of results) {
        s.provider.store.put(TraceStore.key(batchId, leafHashOf(r)), {
          modelId: s.provider.modelId,
          activations: r.activations.map(vectorToHex),
          layerHashes: [...r.layerHashes],
        });
      }
      return { ...s, batchId };
    }

    it("reads batch data from an http URI when private addresses are allowed, and proves the wrong leaf", async () => {
      const { watcherVerity, challenger, work, provider } = await httpBatch();
      const watchtower = new Watchtower({
        verity: watcherVerity,
        challenger,
        dataDir: path.join(work, "wt"),
        fetch: { allowPrivate: true },
      });
      const daemon = new ProviderDaemon({ agent: provider, dataDir: path.join(work, "pd") });
      await watchtower.init();
      await daemon.init();
      try {
        expect((await watchtower.tick()).opened).to.equal(1);
        body = ""; // the URI's content may change or vanish: the game must not depend on reading it again
        for (let i = 0; i < 8 && watchtower.openGames().length > 0; i++) {
          await daemon.tick();
          await watchtower.tick();
        }
        const [game] = Object.values(watchtower.snapshot().games);
        expect(game.outcome).to.equal(Outcome.ChallengerWon);
      } finally {
        watchtower.close();
        daemon.close();
      }
    });

    it("refuses it by default (a private address): the batch stays pending for the data-missing hook, not refetched", async () => {
      const { watcherVerity, challenger, work, batchId } = await httpBatch();
      const watchtower = new Watchtower({ verity: watcherVerity, challenger, dataDir: path.join(work, "wt") });
      await watchtower.init();
      try {
        expect((await watchtower.tick()).opened).to.equal(0);
        await watchtower.tick();
        const pending = watchtower.snapshot().batches[batchId];
        expect(pending.unfetchable).to.equal(true);
        expect(pending.attempts).to.equal(1);
        expect(pending.lastError).to.match(/private address/);
      } finally {
        watchtower.close();
      }
    });
  });
});

function pick(r: { inputHash: string; outputHash: string; traceRoot: string }) {
  return { inputHash: r.inputHash, outputHash: r.outputHash, traceRoot: r.traceRoot };
}

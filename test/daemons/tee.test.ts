import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, Log, ZeroHash, toQuantity } from "ethers";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import { loadEnclaveKey } from "../../src/daemons/tee.js";
import { EnclaveRefusedError } from "../../src/sdk/agents/provider.js";
import {
  decodeCommitments,
  decodeRawCommitment,
  parseCommitmentLog,
  type RawLog,
  type SkippedLog,
} from "../../src/sdk/logs.js";
import {
  ChallengerAgent,
  CommitmentStatus,
  Finality,
  Outcome,
  ProviderAgent,
  TraceStore,
  Verity,
  batchIdOf,
  commitmentIdOf,
  leafHashOf,
} from "../../src/sdk/index.js";
import { InferenceLedger__factory } from "../../typechain-types/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { HOUR } from "../helpers/fixtures.js";
import { TeeMode, deployWithTee } from "../helpers/teeFixture.js";
import { recordingLog } from "./helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const ledgerInterface = InferenceLedger__factory.createInterface();
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ENCLAVE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function rawLog(topics: string[], data: string, logIndex: number): RawLog {
  return {
    address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    topics,
    data,
    blockNumber: toQuantity(9),
    logIndex: toQuantity(logIndex),
    transactionHash: ethers.id(`tx ${logIndex}`),
    transactionIndex: "0x0",
    blockHash: ethers.id("block"),
  };
}

const inference = { inputHash: ethers.id("i"), outputHash: ethers.id("o"), traceRoot: ethers.id("t") };

function teeSingleLog(logIndex: number, mode = TeeMode.Window): RawLog {
  const { data, topics } = ledgerInterface.encodeEventLog("TeeInferenceCommitted", [
    ethers.id(`tee single ${logIndex}`),
    ethers.id("model"),
    PROVIDER,
    inference,
    ethers.id("binding"),
    ENCLAVE,
    ethers.id("environment"),
    mode,
    "0x010203",
  ]);
  return rawLog(topics, data, logIndex);
}

function teeBatchLog(logIndex: number, mode = TeeMode.Instant, uri = "file:///batch.json"): RawLog {
  const { data, topics } = ledgerInterface.encodeEventLog("TeeBatchCommitted", [
    ethers.id(`tee batch ${logIndex}`),
    ethers.id("model"),
    PROVIDER,
    ethers.id("root"),
    5,
    ethers.id("batch binding"),
    ENCLAVE,
    ethers.id("environment"),
    mode,
    uri,
  ]);
  return rawLog(topics, data, logIndex);
}

/** What ethers' `parseLog` path (the slicer's fallback) reads from a raw log. */
function parsed(raw: RawLog) {
  return parseCommitmentLog(
    new Log(
      {
        ...raw,
        blockNumber: Number(raw.blockNumber),
        index: Number(raw.logIndex),
        transactionIndex: 0,
        removed: false,
      },
      null as never,
    ),
  );
}

describe("TEE commitment logs: decoded like the others, one bad log never stops a scan", () => {
  it("decodes TeeInferenceCommitted and TeeBatchCommitted with their binding, key, environment and mode, by slicing as by parseLog", () => {
    const single = teeSingleLog(0);
    const batch = teeBatchLog(1);
    const expectedSingle = {
      kind: "single",
      id: ethers.id("tee single 0"),
      modelId: ethers.id("model"),
      provider: PROVIDER,
      inference,
      inputData: "0x010203",
      tee: { binding: ethers.id("binding"), enclaveKey: ENCLAVE, environment: ethers.id("environment"), mode: 1 },
      blockNumber: 9,
      logIndex: 0,
    };
    const expectedBatch = {
      kind: "batch",
      id: ethers.id("tee batch 1"),
      modelId: ethers.id("model"),
      provider: PROVIDER,
      root: ethers.id("root"),
      count: 5,
      dataURI: "file:///batch.json",
      tee: { binding: ethers.id("batch binding"), enclaveKey: ENCLAVE, environment: ethers.id("environment"), mode: 2 },
      blockNumber: 9,
      logIndex: 1,
    };
    expect(decodeRawCommitment(single)).to.deep.equal(expectedSingle);
    expect(parsed(single)).to.deep.equal(expectedSingle);
    expect(decodeRawCommitment(batch)).to.deep.equal(expectedBatch);
    expect(parsed(batch)).to.deep.equal(expectedBatch);
  });

  it("skips a TEE log with a mode the ledger never emits (None, 3), or cut short, reports each, and keeps the rest", () => {
    const skipped: SkippedLog[] = [];
    const short = { ...teeBatchLog(2), data: teeBatchLog(2).data.slice(0, 2 + 64 * 5) };
    const events = decodeCommitments(
      [teeSingleLog(0, TeeMode.None), teeSingleLog(1), short, teeBatchLog(3, 3 as TeeMode), teeBatchLog(4)],
      (s) => skipped.push(s),
    );
    expect(events.map((e) => e.logIndex)).to.deep.equal([1, 4]);
    expect(skipped.map((s) => s.key)).to.deep.equal([0, 2, 3].map((i) => `${ethers.id(`tx ${i}`)}:${i}`));
    expect(skipped[0].reason).to.match(/mode 0/);
  });

  it("the slicing decoder is total on TEE logs: every truncation decodes or returns undefined, never throws", () => {
    for (const log of [teeSingleLog(0), teeBatchLog(1)]) {
      for (let cut = 2; cut < log.data.length; cut += 2) {
        expect(() => decodeRawCommitment({ ...log, data: log.data.slice(0, cut) })).to.not.throw();
      }
    }
  });

  it("reads a TEE batch URI that is not UTF-8 as raw hex, flagged unreadable", () => {
    const coder = AbiCoder.defaultAbiCoder();
    const base = teeBatchLog(0);
    const words = coder.encode(
      ["bytes32", "uint32", "bytes32", "address", "bytes32", "uint8", "bytes"],
      [ethers.id("root"), 5, ethers.id("b"), ENCLAVE, ethers.id("e"), 1, "0x66ff"],
    );
    const [event] = decodeCommitments([{ ...base, data: words }], () => expect.fail("skipped"));
    expect(event.kind === "batch" && event.unreadableURI).to.equal(true);
    expect(event.kind === "batch" && event.dataURI).to.equal("0x66ff");
  });
});

describe("Enclave key file", () => {
  it('loads { "privateKey": "0x..." }; refuses a missing file, bad JSON or another shape, naming the file and never the key', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "verity-tee-key-"));
    const key = "0x" + "11".repeat(32);
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    expect(loadEnclaveKey(write("ok.json", JSON.stringify({ privateKey: key }))).privateKey).to.equal(key);
    const bad = [
      [path.join(dir, "missing.json"), /cannot read it \(ENOENT\)/],
      [write("garbage.json", "{ privateKey: "), /cannot read it \(not valid JSON\)/],
      [write("short.json", JSON.stringify({ privateKey: key.slice(0, 40) })), /expected \{ "privateKey"/],
      [write("zero.json", JSON.stringify({ privateKey: "0x" + "00".repeat(32) })), /not a valid secp256k1 key/],
    ] as const;
    for (const [file, reason] of bad) {
      expect(() => loadEnclaveKey(file))
        .to.throw(reason)
        .with.property("message")
        .that.includes(file);
    }
    expect(() => loadEnclaveKey(bad[2][0]))
      .to.throw()
      .with.property("message")
      .that.not.includes(key.slice(2, 40));
  });
});

const windowed = () => deployWithTee(connection, TeeMode.Window);
const instant = () => deployWithTee(connection, TeeMode.Instant);

/** The TEE fixture as SDK users see it: a provider agent in TEE mode, its daemon, a watchtower. */
async function teeSetup(fixture: typeof windowed) {
  const f = await networkHelpers.loadFixture(fixture);
  const addresses = {
    token: await f.token.getAddress(),
    registry: await f.registry.getAddress(),
    stakeManager: await f.stakeManager.getAddress(),
    ledger: await f.ledger.getAddress(),
    disputeGame: await f.disputeGame.getAddress(),
    batchDisclosure: await f.batchDisclosure.getAddress(),
    environments: await f.environmentRegistry.getAddress(),
    attestationService: await f.attestationService.getAddress(),
  };
  const work = mkdtempSync(path.join(os.tmpdir(), "verity-tee-daemons-"));
  const providerVerity = await Verity.connect({ runner: f.provider, addresses });
  const agent = new ProviderAgent(providerVerity, f.model, new TraceStore(path.join(work, "traces")), f.modelId, {
    tee: { enclave: f.enclave, environment: f.environment },
  });
  const providerLog = recordingLog();
  const daemon = new ProviderDaemon({ agent, dataDir: path.join(work, "pd"), log: providerLog.log });
  const watcherVerity = await Verity.connect({ runner: f.challenger, addresses });
  const watchtower = new Watchtower({
    verity: watcherVerity,
    challenger: new ChallengerAgent(watcherVerity, [f.model], [f.modelId]),
    dataDir: path.join(work, "wt"),
  });
  await daemon.init();
  await watchtower.init();
  /** Ticks both until every game is resolved and paid (bounded). */
  const settle = async (rounds = 12) => {
    for (let i = 0; i < rounds; i++) {
      await watchtower.tick();
      await daemon.tick();
      const games = Object.values(watchtower.snapshot().games);
      if (i > 0 && games.every((g) => g.resolved && (g.outcome !== Outcome.ChallengerWon || g.rewardPaid))) return;
    }
    throw new Error("games did not settle");
  };
  /** Queues a request and runs the tick that makes it. */
  const made = async <T>(request: Promise<T>): Promise<T> => {
    await daemon.tick();
    return request;
  };
  const close = () => {
    daemon.close();
    watchtower.close();
  };
  return { ...f, addresses, work, agent, daemon, providerLog, watcherVerity, watchtower, settle, made, close };
}

describe("TEE mode: the provider daemon seals its commitments, the watchtower disputes them under their binding", () => {
  it("seals a single and a batch with the enclave key; the watchtower wins on the wrong single and the wrong leaf, which revokes the key", async () => {
    const s = await teeSetup(windowed);
    try {
      const honest = await s.made(s.daemon.submit(pseudoDigit(1)));
      const wrong = await s.made(s.daemon.submit(pseudoDigit(2), { layer: 2, neuron: 3 }));
      const batch = await s.made(
        s.daemon.submitBatch([pseudoDigit(3), pseudoDigit(4), pseudoDigit(5)], path.join(s.work, "batch.json"), [
          undefined,
          { layer: 3, neuron: 1 },
        ]),
      );
      // Sealed: TEE records of the registered key, ids binding the signed digest (not the plain ids).
      for (const id of [honest.id, wrong.id, batch.batchId]) {
        const tee = await s.ledger.teeRecordOf(id);
        expect(tee.enclaveKey).to.equal(s.enclave.address);
        expect(tee.environment).to.equal(s.environment);
        expect(Number(tee.mode)).to.equal(TeeMode.Window);
      }
      expect(honest.id).to.not.equal(commitmentIdOf(s.provider.address, s.modelId, honest.result, ZeroHash));
      expect(batch.header.binding).to.not.equal(ZeroHash);
      expect(batchIdOf(batch.header)).to.equal(batch.batchId);
      expect(s.daemon.snapshot().stats.committed).to.equal(3);
      const record = await s.ledger.recordOf(wrong.id);
      const teeRecord = await s.ledger.teeRecordOf(wrong.id);
      expect(record.challengeDeadline).to.equal(teeRecord.teeDeadline);

      await s.settle();
      const games = Object.values(s.watchtower.snapshot().games);
      const wrongLeaf = batch.results[1];
      expect(games.map((g) => g.targetKey).sort()).to.deep.equal(
        [wrong.id.toLowerCase(), `${batch.batchId}-${leafHashOf(wrongLeaf)}`.toLowerCase()].sort(),
      );
      expect(games.map((g) => g.outcome)).to.deep.equal([Outcome.ChallengerWon, Outcome.ChallengerWon]);
      expect(await s.ledger.status(wrong.id)).to.equal(CommitmentStatus.Overturned);
      expect(await s.ledger.status(honest.id)).to.equal(CommitmentStatus.Pending);
      expect(s.daemon.snapshot().stats.lost).to.equal(2);
      // The proven fraud revoked the key at once: the honest commitment falls back to the full window.
      expect((await s.environmentRegistry.enclaveOf(s.enclave.address)).revokedAt).to.not.equal(0n);
      const fallback = await s.ledger.teeRecordOf(honest.id);
      expect((await s.ledger.recordOf(honest.id)).challengeDeadline).to.equal(fallback.fallbackDeadline);
      expect(fallback.fallbackDeadline).to.be.above(fallback.teeDeadline);
    } finally {
      s.close();
    }
  });

  it("once the ledger refuses the key, logs one line naming the error, sends nothing more, and still defends its commitments", async () => {
    const s = await teeSetup(windowed);
    try {
      const wrong = await s.made(s.daemon.submit(pseudoDigit(7), { layer: 1, neuron: 4 }));
      await s.environmentRegistry.connect(s.admin).revokeEnclave(s.enclave.address);
      const revokedAt = (await s.environmentRegistry.enclaveOf(s.enclave.address)).revokedAt;
      const sent = await ethers.provider.getTransactionCount(s.provider.address);
      // Handlers attached before the tick that rejects them.
      const refused = [
        s.daemon.submit(pseudoDigit(8)),
        s.daemon.submit(pseudoDigit(9)),
        s.daemon.submitBatch([pseudoDigit(10)], path.join(s.work, "b.json")),
      ].map((p) =>
        p.then(
          () => expect.fail("committed with a revoked key"),
          (e: unknown) => e,
        ),
      );
      await s.daemon.tick();
      for (const error of await Promise.all(refused)) {
        expect(error).to.be.instanceOf(EnclaveRefusedError);
        expect((error as EnclaveRefusedError).errorName).to.equal("InferenceLedgerEnclaveRevoked");
        expect((error as EnclaveRefusedError).refusal.args).to.deep.equal([s.enclave.address, revokedAt]);
      }
      const later = s.daemon.submit(pseudoDigit(11)).catch((e: unknown) => e);
      await s.daemon.tick(); // a later tick: still one line
      expect(await later).to.be.instanceOf(EnclaveRefusedError);
      expect(await ethers.provider.getTransactionCount(s.provider.address)).to.equal(sent);
      const refusals = s.providerLog.lines.filter((l) => l.includes("InferenceLedgerEnclaveRevoked"));
      expect(refusals).to.have.length(1);
      expect(refusals[0]).to.match(/^InferenceLedgerEnclaveRevoked: the ledger refused enclave key 0x/);
      expect(s.daemon.snapshot().stats).to.include({ committed: 1, refused: 4 });

      // Revoked within its shortened window, the commitment fell back to the full window; it is still
      // disputed and defended to the end (the provider's moves are answered from its traces).
      const tee = await s.ledger.teeRecordOf(wrong.id);
      expect((await s.ledger.recordOf(wrong.id)).challengeDeadline).to.equal(tee.fallbackDeadline);
      await networkHelpers.time.increase(Number(tee.teeDeadline) - (await networkHelpers.time.latest()) + 1);
      expect(await s.watcherVerity.ledger.finalityOf(wrong.id)).to.deep.equal({
        status: CommitmentStatus.Pending,
        finality: Finality.None,
      });
      await s.settle();
      const [game] = Object.values(s.watchtower.snapshot().games);
      expect(game.targetKey).to.equal(wrong.id.toLowerCase());
      expect(game.outcome).to.equal(Outcome.ChallengerWon);
      expect(s.daemon.snapshot().stats).to.include({ defended: 1, lost: 1 });
    } finally {
      s.close();
    }
  });

  it("keeps an unreadable TEE batch pending under the deadline in force: its shortened window, then the full one once the key is revoked", async () => {
    const s = await teeSetup(windowed);
    try {
      const dataFile = path.join(s.work, "gone.json");
      const { batchId } = await s.made(s.daemon.submitBatch([pseudoDigit(20), pseudoDigit(21)], dataFile));
      rmSync(dataFile);
      await s.watchtower.tick();
      const tee = await s.ledger.teeRecordOf(batchId);
      let pending = s.watchtower.snapshot().batches[batchId];
      expect(pending.deadline).to.equal(Number(tee.teeDeadline));
      expect(pending.window).to.equal(10 * 60); // the fixture's TEE window, not the model's hour
      expect(pending.reportedMissing).to.equal(undefined);

      await s.environmentRegistry.connect(s.admin).revokeEnclave(s.enclave.address);
      await s.watchtower.tick();
      pending = s.watchtower.snapshot().batches[batchId];
      expect(pending.deadline).to.equal(Number(tee.fallbackDeadline));
      expect(pending.window).to.equal(HOUR);
    } finally {
      s.close();
    }
  });

  it("disputes an instant-mode commitment, Final at once, until its accountability deadline", async () => {
    const s = await teeSetup(instant);
    try {
      const wrong = await s.made(s.daemon.submit(pseudoDigit(12), { layer: 2, neuron: 9 }));
      expect(await s.ledger.status(wrong.id)).to.equal(CommitmentStatus.Final);
      // Past the model's (full) challenge window, still within the one-day accountability period.
      await networkHelpers.time.increase(2 * HOUR);
      await s.settle();
      const [game] = Object.values(s.watchtower.snapshot().games);
      expect(game.targetKey).to.equal(wrong.id.toLowerCase());
      expect(game.outcome).to.equal(Outcome.ChallengerWon);
      expect(await s.ledger.status(wrong.id)).to.equal(CommitmentStatus.Final);
      expect((await s.ledger.teeRecordOf(wrong.id)).provenWrong).to.equal(true);
    } finally {
      s.close();
    }
  });
});

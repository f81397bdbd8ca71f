import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, toQuantity, zeroPadValue } from "ethers";
import { Watchtower } from "../../src/daemons/watchtower.js";
import { decodeCommitments, decodeRawCommitment, type RawLog, type SkippedLog } from "../../src/sdk/logs.js";
import { InferenceLedger__factory } from "../../typechain-types/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { daemonSetup, recordingLog } from "./helpers.js";

const connection = await network.create();
const { ethers } = connection;
const ledgerInterface = InferenceLedger__factory.createInterface();
const coder = AbiCoder.defaultAbiCoder();
const INVALID_UTF8 = "0x66696c653a2f2fff2f78"; // "file://\xff/x"

/** A raw BatchCommitted log whose dataURI holds `uriBytes` (any bytes: ABI `string` and `bytes` encode alike). */
function batchLog(uriBytes: string, logIndex: number): RawLog {
  const id = ethers.id(`batch ${logIndex}`);
  return rawLog(
    [
      ledgerInterface.getEvent("BatchCommitted").topicHash,
      id,
      ethers.id("model"),
      zeroPadValue("0x70997970c51812dc3a010c7d01b50e0d17dc79c8", 32),
    ],
    coder.encode(["bytes32", "uint32", "bytes"], [ethers.id("root"), 4, uriBytes]),
    logIndex,
  );
}

function singleLog(logIndex: number): RawLog {
  const { data, topics } = ledgerInterface.encodeEventLog("InferenceCommitted", [
    ethers.id(`single ${logIndex}`),
    ethers.id("model"),
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    ethers.id("i"),
    ethers.id("o"),
    ethers.id("t"),
    "0x0102",
  ]);
  return rawLog(topics, data, logIndex);
}

function rawLog(topics: string[], data: string, logIndex: number): RawLog {
  return {
    address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    topics,
    data,
    blockNumber: toQuantity(7),
    logIndex: toQuantity(logIndex),
    transactionHash: ethers.id(`tx ${logIndex}`),
    transactionIndex: "0x0",
    blockHash: ethers.id("block"),
  };
}

describe("Ledger log decoding: one log never stops a scan", () => {
  it("decodes a batch whose dataURI is not UTF-8 (raw hex, flagged unreadable) and every other log of the range", () => {
    const skipped: SkippedLog[] = [];
    const events = decodeCommitments(
      [singleLog(0), batchLog(INVALID_UTF8, 1), batchLog(ethers.hexlify(ethers.toUtf8Bytes("file:///ok")), 2)],
      (s) => skipped.push(s),
    );
    expect(skipped).to.deep.equal([]);
    expect(events.map((e) => e.kind)).to.deep.equal(["single", "batch", "batch"]);
    const [, bad, good] = events;
    expect(bad.kind === "batch" && bad.unreadableURI).to.equal(true);
    expect(bad.kind === "batch" && bad.dataURI).to.equal(INVALID_UTF8);
    expect(good.kind === "batch" && good.dataURI).to.equal("file:///ok");
    expect(good).to.not.have.property("unreadableURI");
  });

  it("skips a malformed log (short data, a wrong layout, non-hex data), reports each, and keeps the rest", () => {
    const valid = batchLog(ethers.hexlify(ethers.toUtf8Bytes("file:///ok")), 0);
    const short = { ...batchLog("0x", 1), data: "0x1234" };
    const wrongTopics = { ...singleLog(2), topics: singleLog(2).topics.slice(0, 2) };
    const notHex = { ...batchLog("0x", 3), data: `0x${"zz".repeat(128)}` };
    const skipped: SkippedLog[] = [];
    const events = decodeCommitments([short, valid, wrongTopics, notHex, singleLog(4)], (s) => skipped.push(s));
    expect(events.map((e) => e.logIndex)).to.deep.equal([0, 4]);
    expect(skipped.map((s) => s.key)).to.deep.equal([
      `${ethers.id("tx 1")}:1`,
      `${ethers.id("tx 2")}:2`,
      `${ethers.id("tx 3")}:3`,
    ]);
    expect(skipped.every((s) => s.blockNumber === 7 && s.reason.length > 0)).to.equal(true);
  });

  it("the slicing decoder is total: every truncation of a valid log decodes or returns undefined, never throws", () => {
    for (const log of [singleLog(0), batchLog(INVALID_UTF8, 1)]) {
      for (let cut = 2; cut < log.data.length; cut += 2) {
        expect(() => decodeRawCommitment({ ...log, data: log.data.slice(0, cut) })).to.not.throw();
      }
    }
  });

  it("a watchtower scans past an on-chain batch with a non-UTF-8 dataURI and an undecodable log, and still disputes", async () => {
    const { provider, challenger, watcherVerity, work, ledger, modelId } = await daemonSetup(connection);
    // commitBatch(bytes32,bytes32,uint32,string) with invalid UTF-8 in the string: encoded as bytes, sent raw.
    const selector = ledgerInterface.getFunction("commitBatch").selector;
    const args = coder.encode(["bytes32", "bytes32", "uint32", "bytes"], [modelId, ethers.id("r"), 2, INVALID_UTF8]);
    await (
      await provider.verity.runner.sendTransaction!({ to: await ledger.getAddress(), data: selector + args.slice(2) })
    ).wait();
    const { id: wrong } = await provider.commit(pseudoDigit(3), { layer: 2, neuron: 5 });

    // The node also returns a log no decoder reads, in every range (reported once, skipped).
    const rpc = watcherVerity.provider as unknown as { send: (method: string, params: unknown[]) => Promise<unknown> };
    const send = rpc.send;
    rpc.send = async (method, params) => {
      const result = await send.call(rpc, method, params);
      return method === "eth_getLogs" ? [...(result as RawLog[]), { ...batchLog("0x", 99), data: "0x12" }] : result;
    };
    const { log, lines } = recordingLog();
    const watchtower = new Watchtower({
      verity: watcherVerity,
      challenger,
      dataDir: path.join(work, "wt"),
      maxRange: 3,
      log,
    });
    try {
      await watchtower.init();
      const report = await watchtower.tick();
      await watchtower.tick();
      expect(report.opened).to.equal(1);
      const state = watchtower.snapshot();
      expect(Object.values(state.games).map((g) => g.targetKey)).to.deep.equal([wrong.toLowerCase()]);
      const [pending] = Object.values(state.batches);
      expect(pending.unfetchable).to.equal(true);
      expect(pending.event.dataURI).to.equal(INVALID_UTF8);
      expect(watchtower.seenIds()).to.have.length(2);
      expect(lines.filter((l) => l.startsWith(`skipped ledger log ${ethers.id("tx 99")}:99`))).to.have.length(1);
    } finally {
      rpc.send = send;
      watchtower.close();
    }
  });
});

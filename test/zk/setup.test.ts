import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as snarkjs from "snarkjs";
import {
  ZkPtauTooSmall,
  beaconZkey,
  contributeZkey,
  insecureTestPowersOfTau,
  newZkey,
  ptauInfo,
  releaseZkWorkers,
  syntheticModel,
  verifyZkey,
} from "../../src/sdk/zk/index.js";
import { build, testPtau, testZkey, TEST_PTAU_POWER } from "./helpers.js";

/** The file without its phase-2 sections (12..15), i.e. the accumulator snarkjs would prepare. */
function stripPhase2(b: Buffer): Buffer {
  const keep: Buffer[] = [];
  for (let o = 12; o < b.length;) {
    const id = b.readUInt32LE(o);
    const size = Number(b.readBigUInt64LE(o + 4));
    if (id <= 7) keep.push(b.subarray(o, o + 12 + size));
    o += 12 + size;
  }
  const header = Buffer.from(b.subarray(0, 12));
  header.writeUInt32LE(keep.length, 8);
  return Buffer.concat([header, ...keep]);
}

describe("zk setup: insecure test ptau and the phase-2 ceremony", function () {
  after(releaseZkWorkers);

  it("makes the same file as snarkjs' prepare phase2 (power 4)", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "verity-zk-ptau-"));
    const mine = path.join(dir, "mine.ptau");
    await insecureTestPowersOfTau(mine, 4, { seed: "another seed" });
    const raw = path.join(dir, "raw.ptau");
    await writeFile(raw, stripPhase2(await readFile(mine)));
    const theirs = path.join(dir, "theirs.ptau");
    await snarkjs.powersOfTau.preparePhase2(raw, theirs);
    const [a, b] = [await readFile(mine), await readFile(theirs)];
    expect(a.length).to.equal(b.length);
    expect(a.equals(b)).to.equal(true);
    expect(await ptauInfo(mine)).to.deep.equal({ power: 4, prepared: true });
    expect(await ptauInfo(raw)).to.deep.equal({ power: 4, prepared: false });
  });

  it("verifies a ceremony of two contributors and a beacon, and rejects a key of another circuit", async function () {
    const model = syntheticModel([16, 16, 4], 3);
    const built = await build("16-16-4 seed 3", model);
    const ptau = await testPtau();
    const z0 = await testZkey("16-16-4 seed 3", built);
    const alice = await contributeZkey(z0, "alice", "alice's secret text");
    const bob = await contributeZkey(alice.zkey, "bob", "bob's secret text");
    const final = await beaconZkey(bob.zkey, "beacon", "0x" + "ab".repeat(32), 10);
    expect(alice.contributionHash).to.match(/^[0-9a-f]{128}$/);
    expect(new Set([alice.contributionHash, bob.contributionHash, final.contributionHash]).size).to.equal(3);
    const result = await verifyZkey(built.compiled.r1cs, ptau, final.zkey);
    expect(result.ok).to.equal(true);
    const text = result.log.join("\n");
    expect(text).to.include("alice").and.include("bob").and.include("beacon");

    const other = await build("8-8-4 seed 1", syntheticModel([8, 8, 4], 1));
    expect((await verifyZkey(other.compiled.r1cs, ptau, final.zkey)).ok).to.equal(false);
  });

  it("refuses a ptau smaller than the circuit needs with ZkPtauTooSmall", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "verity-zk-ptau-"));
    const small = path.join(dir, "small.ptau");
    await insecureTestPowersOfTau(small, 5);
    const built = await build("16-16-4 seed 3", syntheticModel([16, 16, 4], 3));
    let error: unknown;
    await newZkey(built.compiled.r1cs, small).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(ZkPtauTooSmall);
    expect((error as ZkPtauTooSmall).available).to.equal(5);
    expect((error as ZkPtauTooSmall).needed).to.be.at.most(TEST_PTAU_POWER);
  });
});

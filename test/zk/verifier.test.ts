import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, getAddress, keccak256, type Contract } from "ethers";
import * as snarkjs from "snarkjs";
import { modelIdFor } from "../../src/engine/index.js";
import {
  compileVerifier,
  encodeInferenceProof,
  encodeSystemProof,
  exportVerifierSource,
  proveInference,
  publicSignalsOf,
  releaseZkWorkers,
  syntheticModel,
  verificationKey,
  verifyProof,
  type ZkInferenceProof,
} from "../../src/sdk/zk/index.js";
import { buildZkVerifierModule } from "../../ignition/modules/ZkVerifier.js";
import type { Groth16InferenceVerifier } from "../../typechain-types/index.js";
import { build, deployZkVerifier, FIELD, randomBytes, testZkey } from "./helpers.js";

const { ethers } = await network.create();
const coder = AbiCoder.defaultAbiCoder();

function commitmentOf(input: Uint8Array, prover: string): string {
  return keccak256(coder.encode(["bytes32", "address"], [keccak256(input), prover]));
}

describe("Groth16InferenceVerifier (16-16-4, weights as constants)", function () {
  const model = syntheticModel([16, 16, 4], 3);
  const other = syntheticModel([16, 16, 4], 4);
  let adapter: Groth16InferenceVerifier;
  let otherAdapter: Groth16InferenceVerifier;
  let generated: Contract;
  let zk: ZkInferenceProof;
  let modelId: string;
  let prover: string;
  let attacker: string;

  after(releaseZkWorkers);

  before(async function () {
    const [publisher, p, x] = await ethers.getSigners();
    prover = p.address;
    attacker = x.address;
    modelId = modelIdFor(model, publisher.address);
    const d = await deployZkVerifier(ethers, model, "16-16-4 seed 3", modelId);
    adapter = d.adapter;
    generated = d.verifier;
    zk = await proveInference(model, d.built.compiled, d.zkey, randomBytes(16, 21), prover);
    expect(await verifyProof(await verificationKey(d.zkey), zk)).to.equal(true);
    otherAdapter = (await deployZkVerifier(ethers, other, "16-16-4 seed 4", modelIdFor(other, publisher.address)))
      .adapter;
  });

  function call(output: Uint8Array | string, proofBytes: string, commitment: string, id = modelId) {
    return adapter.verifyInference(id, commitment, output, proofBytes);
  }

  it("accepts a valid proof and emits InferenceVerified", async function () {
    const commitment = commitmentOf(zk.input, prover);
    const tx = call(zk.output, zk.proofBytes, commitment);
    await expect(tx).to.emit(adapter, "InferenceVerified").withArgs(modelId, commitment, prover, keccak256(zk.output));
    const receipt = await (await call(zk.output, zk.proofBytes, commitment)).wait();
    console.log(`      verifyInference gas (16-16-4): ${receipt!.gasUsed}`);
    expect(await adapter.publicSignalCount()).to.equal(2n);
  });

  it("rebuilds exactly snarkjs' public signals and calldata", async function () {
    expect(publicSignalsOf(zk.input, zk.output, prover)).to.deep.equal(zk.publicSignals);
    const calldata = await snarkjs.groth16.exportSolidityCallData(zk.proof, zk.publicSignals);
    const [a, b, c] = JSON.parse(`[${calldata}]`) as [string[], string[][], string[]];
    const expected = coder.encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [a, b, c]);
    expect(encodeSystemProof(zk.proof)).to.equal(expected);
    expect(await generated.verifyProof(a, b, c, zk.publicSignals)).to.equal(true);
  });

  it("rejects a tampered output", async function () {
    for (let i = 0; i < zk.output.length; i++) {
      const bad = zk.output.slice();
      bad[i] ^= 1;
      await expect(call(bad, zk.proofBytes, commitmentOf(zk.input, prover))).to.be.revertedWithCustomError(
        adapter,
        "Groth16InferenceVerifierInvalidProof",
      );
    }
  });

  it("rejects a tampered input, whether or not the commitment follows it", async function () {
    const bad = zk.input.slice();
    bad[5] ^= 0x80;
    const proofBytes = encodeInferenceProof(bad, prover, zk.systemProof);
    await expect(call(zk.output, proofBytes, commitmentOf(bad, prover))).to.be.revertedWithCustomError(
      adapter,
      "Groth16InferenceVerifierInvalidProof",
    );
    const given = commitmentOf(zk.input, prover);
    await expect(call(zk.output, proofBytes, given))
      .to.be.revertedWithCustomError(adapter, "Groth16InferenceVerifierInputCommitmentMismatch")
      .withArgs(given, commitmentOf(bad, prover));
  });

  it("rejects a replay by another sender (the prover is a public signal)", async function () {
    // the ledger computes the commitment with its msg.sender: the copied proof names the original prover
    const theirs = commitmentOf(zk.input, attacker);
    await expect(call(zk.output, zk.proofBytes, theirs)).to.be.revertedWithCustomError(
      adapter,
      "Groth16InferenceVerifierInputCommitmentMismatch",
    );
    // re-encoding the proof with the attacker's address makes the commitment match but the proof fail
    const swapped = encodeInferenceProof(zk.input, attacker, zk.systemProof);
    await expect(call(zk.output, swapped, theirs)).to.be.revertedWithCustomError(
      adapter,
      "Groth16InferenceVerifierInvalidProof",
    );
  });

  it("rejects another model id, and another model's verifier rejects the proof", async function () {
    const commitment = commitmentOf(zk.input, prover);
    const wrong = keccak256("0x01");
    await expect(call(zk.output, zk.proofBytes, commitment, wrong))
      .to.be.revertedWithCustomError(adapter, "Groth16InferenceVerifierWrongModel")
      .withArgs(modelId, wrong);
    const otherId = await otherAdapter.modelId();
    await expect(
      otherAdapter.verifyInference(otherId, commitment, zk.output, zk.proofBytes),
    ).to.be.revertedWithCustomError(otherAdapter, "Groth16InferenceVerifierInvalidProof");
  });

  it("rejects a tampered proof or public signal", async function () {
    const commitment = commitmentOf(zk.input, prover);
    const words = coder.decode(["uint256[8]"], zk.systemProof)[0] as bigint[];
    for (const i of [0, 3, 7]) {
      const bad = [...words];
      bad[i] = bad[i] + 1n;
      const proofBytes = encodeInferenceProof(zk.input, prover, coder.encode(["uint256[8]"], [bad]));
      await expect(call(zk.output, proofBytes, commitment)).to.be.revertedWithCustomError(
        adapter,
        "Groth16InferenceVerifierInvalidProof",
      );
    }
    const short = encodeInferenceProof(zk.input, prover, zk.systemProof.slice(0, -2));
    await expect(call(zk.output, short, commitment)).to.be.revertedWithCustomError(
      adapter,
      "Groth16InferenceVerifierInvalidProof",
    );
    // straight to the generated verifier: each signal off by one, and a signal shifted by the field order
    const calldata = await snarkjs.groth16.exportSolidityCallData(zk.proof, zk.publicSignals);
    const [a, b, c] = JSON.parse(`[${calldata}]`) as [string[], string[][], string[]];
    for (let k = 0; k < zk.publicSignals.length; k++) {
      const signals = zk.publicSignals.map(BigInt);
      signals[k] += 1n;
      expect(await generated.verifyProof(a, b, c, signals), `signal ${k}`).to.equal(false);
      signals[k] += FIELD - 1n;
      expect(await generated.verifyProof(a, b, c, signals), `signal ${k} + r`).to.equal(false);
    }
  });

  it("rejects wrong lengths with named errors", async function () {
    const commitment = commitmentOf(zk.input, prover);
    await expect(call(zk.output.slice(0, 3), zk.proofBytes, commitment))
      .to.be.revertedWithCustomError(adapter, "Groth16InferenceVerifierOutputLength")
      .withArgs(4n, 3n);
    const longer = new Uint8Array(17);
    longer.set(zk.input);
    const proofBytes = encodeInferenceProof(longer, prover, zk.systemProof);
    await expect(call(zk.output, proofBytes, commitmentOf(longer, prover)))
      .to.be.revertedWithCustomError(adapter, "Groth16InferenceVerifierInputLength")
      .withArgs(16n, 17n);
  });

  it("refuses a configuration without verifier code or with a zero length", async function () {
    const factory = await ethers.getContractFactory("Groth16InferenceVerifier");
    await expect(factory.deploy(modelId, getAddress(attacker), 16, 4)).to.be.revertedWithCustomError(
      factory,
      "Groth16InferenceVerifierBadConfiguration",
    );
    await expect(factory.deploy(modelId, await generated.getAddress(), 0, 4)).to.be.revertedWithCustomError(
      factory,
      "Groth16InferenceVerifierBadConfiguration",
    );
  });
});

describe("ignition/modules/ZkVerifier.ts", function () {
  after(releaseZkWorkers);

  it("deploys the generated verifier and the adapter bound to the model", async function () {
    const { ignition, ethers: e } = await network.create();
    const model = syntheticModel([16, 16, 4], 3);
    const built = await build("16-16-4 seed 3", model);
    const artifact = compileVerifier(await exportVerifierSource(await testZkey("16-16-4 seed 3", built)));
    const modelId = keccak256("0x1234");
    const { adapter, groth16 } = await ignition.deploy(buildZkVerifierModule(artifact, "ZkVerifierTest"), {
      parameters: { ZkVerifierTest: { modelId, inputLength: 16, outputLength: 4 } },
    });
    const a = await e.getContractAt("Groth16InferenceVerifier", await adapter.getAddress());
    expect(await a.modelId()).to.equal(modelId);
    expect(await a.groth16Verifier()).to.equal(await groth16.getAddress());
    expect(await a.inputLength()).to.equal(16n);
  });
});

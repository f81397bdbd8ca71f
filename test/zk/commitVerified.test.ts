import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Command } from "commander";
import { network } from "hardhat";
import { run, stringifyModel } from "../../src/engine/index.js";
import { registerZk } from "../../src/cli/commands/zk.js";
import { addGlobalOptions } from "../../src/cli/context.js";
import { CliError } from "../../src/cli/errors.js";
import {
  encodeInferenceProof,
  proveInference,
  releaseZkWorkers,
  syntheticModel,
  type ZkInferenceProof,
} from "../../src/sdk/zk/index.js";
import { CommitmentStatus, Finality, RecordKind, plain, txTime } from "../core/coreFixtures.js";
import { deployProofCore, proofBinding, registerProofModel } from "../proof/proofFixture.js";
import { build, deployZkVerifier, randomBytes, serveRpc, testFinalZkey, writeCircuitDir } from "./helpers.js";

/**
 * The ZK path end to end: a 16-16-4 model registered with a policy that accepts proofs, its Groth16 verifier
 * (generated from the circuit, weights as constants) approved by governance, and proofs settled through the
 * real ledger's `commitVerified`. The circuit and zkey are verifier.test.ts' (same key: built once per process).
 */

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const coder = ethers.AbiCoder.defaultAbiCoder();
const KEY = "16-16-4 seed 3";
const MODEL = syntheticModel([16, 16, 4], 3);

describe("commitVerified with the Groth16 verifier (16-16-4)", function () {
  this.timeout(120_000);
  let zkey: Uint8Array;
  /** The provider's proofs of two inputs. */
  let first: ZkInferenceProof;
  let second: ZkInferenceProof;

  after(releaseZkWorkers);

  before(async function () {
    const built = await build(KEY, MODEL);
    zkey = await testFinalZkey(KEY, built);
    const [, , provider] = await ethers.getSigners();
    first = await proveInference(MODEL, built.compiled, zkey, randomBytes(16, 21), provider.address);
    second = await proveInference(MODEL, built.compiled, zkey, randomBytes(16, 22), provider.address);
  });

  /** The protocol, the model registered with proofAccepted, its Groth16 verifier deployed and approved. */
  async function withZkVerifier() {
    const core = await deployProofCore(connection);
    const modelId = await registerProofModel(ethers, core, MODEL, true, "ipfs://zk-16-16-4");
    const { adapter } = await deployZkVerifier(ethers, MODEL, KEY, modelId);
    const verifier = await adapter.getAddress();
    await core.registry.connect(core.admin).approveVerifier(modelId, verifier);
    return { ...core, modelId, adapter, verifier };
  }
  type F = Awaited<ReturnType<typeof withZkVerifier>>;

  /** The inference of a proof: the engine's hashes and trace root of its input. */
  function inferenceOf(zk: ZkInferenceProof) {
    const r = run(MODEL, new Int8Array(zk.input.buffer, zk.input.byteOffset, zk.input.length));
    return { inputHash: r.inputHash, outputHash: r.outputHash, traceRoot: r.traceRoot };
  }

  function commitmentOf(inputHash: string, sender: string): string {
    return ethers.keccak256(coder.encode(["bytes32", "address"], [inputHash, sender]));
  }

  function idOf(f: F, provider: string, inference: { inputHash: string; outputHash: string; traceRoot: string }) {
    return ethers.keccak256(
      coder.encode(
        ["address", "bytes32", "tuple(bytes32,bytes32,bytes32)", "bytes32"],
        [
          provider,
          f.modelId,
          [inference.inputHash, inference.outputHash, inference.traceRoot],
          proofBinding(ethers, f.verifier),
        ],
      ),
    );
  }

  it("settles a proven inference at once: Final with Finality.Proof, proofRecordOf names the Groth16 verifier", async function () {
    const f = await networkHelpers.loadFixture(withZkVerifier);
    expect(await f.ledger.providerStakeOf(f.provider.address)).to.equal(0n);
    const inference = inferenceOf(first);
    // the circuit's output is the engine's
    expect(ethers.keccak256(first.output)).to.equal(inference.outputHash);
    const id = idOf(f, f.provider.address, inference);
    expect(await f.ledger.status(id)).to.equal(BigInt(CommitmentStatus.None));
    const tx = f.ledger.connect(f.provider).commitVerified(f.modelId, inference, first.output, first.proofBytes);
    await expect(tx)
      .to.emit(f.ledger, "ProofCommitted")
      .withArgs(id, f.modelId, f.provider.address, Object.values(inference), f.verifier, ethers.hexlify(first.output));
    await expect(tx)
      .to.emit(f.adapter, "InferenceVerified")
      .withArgs(
        f.modelId,
        commitmentOf(inference.inputHash, f.provider.address),
        f.provider.address,
        inference.outputHash,
      );
    const receipt = (await (await tx).wait())!;
    console.log(`      commitVerified gas (Groth16, 16-16-4): ${receipt.gasUsed}`);
    const at = BigInt(await txTime(ethers, await tx));
    expect(plain(await f.ledger.finalityOf(id))).to.deep.equal([CommitmentStatus.Final, Finality.Proof]);
    expect(await f.ledger.isFinal(id)).to.equal(true);
    expect(plain(await f.ledger.recordOf(id))).to.deep.equal([
      f.provider.address,
      at,
      0n,
      RecordKind.Single,
      0n,
      Finality.Proof,
    ]);
    expect(plain(await f.ledger.proofRecordOf(id))).to.deep.equal([f.verifier, 1n, at, 0n]);
    // once only
    await expect(f.ledger.connect(f.provider).commitVerified(f.modelId, inference, first.output, first.proofBytes))
      .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerDuplicate")
      .withArgs(id);
  });

  it("refuses a proof replayed by another sender, either way it is encoded; nothing is recorded", async function () {
    const f = await networkHelpers.loadFixture(withZkVerifier);
    const inference = inferenceOf(first);
    const ledger = f.ledger.connect(f.other);
    // copied as is: the ledger's commitment names the copier, the proof the provider
    await expect(ledger.commitVerified(f.modelId, inference, first.output, first.proofBytes))
      .to.be.revertedWithCustomError(f.adapter, "Groth16InferenceVerifierInputCommitmentMismatch")
      .withArgs(
        commitmentOf(inference.inputHash, f.other.address),
        commitmentOf(inference.inputHash, f.provider.address),
      );
    // re-encoded with the copier's address: the commitment matches, the prover signal does not
    const swapped = encodeInferenceProof(first.input, f.other.address, first.systemProof);
    await expect(ledger.commitVerified(f.modelId, inference, first.output, swapped)).to.be.revertedWithCustomError(
      f.adapter,
      "Groth16InferenceVerifierInvalidProof",
    );
    expect(await f.ledger.status(idOf(f, f.other.address, inference))).to.equal(BigInt(CommitmentStatus.None));
    // the provider's own send still settles: the refusals were about the sender only
    await f.ledger.connect(f.provider).commitVerified(f.modelId, inference, first.output, first.proofBytes);
    expect(await f.ledger.isFinal(idOf(f, f.provider.address, inference))).to.equal(true);
  });

  it("refuses a tampered output: the ledger's OutputMismatch, or the verifier's InvalidProof when the hash follows it", async function () {
    const f = await networkHelpers.loadFixture(withZkVerifier);
    const inference = inferenceOf(first);
    const ledger = f.ledger.connect(f.provider);
    const flipped = first.output.slice();
    flipped[2] ^= 0x01;
    await expect(ledger.commitVerified(f.modelId, inference, flipped, first.proofBytes))
      .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerOutputMismatch")
      .withArgs(inference.outputHash, ethers.keccak256(flipped));
    const consistent = { ...inference, outputHash: ethers.keccak256(flipped) };
    await expect(ledger.commitVerified(f.modelId, consistent, flipped, first.proofBytes)).to.be.revertedWithCustomError(
      f.adapter,
      "Groth16InferenceVerifierInvalidProof",
    );
    // another input's hash with this proof: the commitment the ledger computes is not the proof's
    const otherInput = inferenceOf(second);
    await expect(
      ledger.commitVerified(
        f.modelId,
        { ...inference, inputHash: otherInput.inputHash },
        first.output,
        first.proofBytes,
      ),
    )
      .to.be.revertedWithCustomError(f.adapter, "Groth16InferenceVerifierInputCommitmentMismatch")
      .withArgs(
        commitmentOf(otherInput.inputHash, f.provider.address),
        commitmentOf(inference.inputHash, f.provider.address),
      );
    for (const inf of [inference, consistent]) {
      expect(await f.ledger.status(idOf(f, f.provider.address, inf))).to.equal(BigInt(CommitmentStatus.None));
    }
  });

  it("a revoked verifier refuses new proofs while the earlier commitment stays Final", async function () {
    const f = await networkHelpers.loadFixture(withZkVerifier);
    const ledger = f.ledger.connect(f.provider);
    const inference = inferenceOf(first);
    const provenAt = BigInt(
      await txTime(ethers, await ledger.commitVerified(f.modelId, inference, first.output, first.proofBytes)),
    );
    const id = idOf(f, f.provider.address, inference);
    const revokedAt = BigInt(await txTime(ethers, await f.registry.connect(f.admin).revokeVerifier(f.verifier)));
    const next = inferenceOf(second);
    await expect(ledger.commitVerified(f.modelId, next, second.output, second.proofBytes))
      .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerVerifierRevoked")
      .withArgs(f.modelId, f.verifier, revokedAt);
    // the refusal is the ledger's: the proof itself is valid
    await expect(
      f.adapter.verifyInference(
        f.modelId,
        commitmentOf(next.inputHash, f.provider.address),
        second.output,
        second.proofBytes,
      ),
    ).to.emit(f.adapter, "InferenceVerified");
    expect(await f.ledger.status(idOf(f, f.provider.address, next))).to.equal(BigInt(CommitmentStatus.None));
    expect(plain(await f.ledger.finalityOf(id))).to.deep.equal([CommitmentStatus.Final, Finality.Proof]);
    expect(plain(await f.ledger.proofRecordOf(id))).to.deep.equal([f.verifier, 1n, provenAt, revokedAt]);
  });

  describe("CLI: verity prove --commit, verity zk commit (in-process)", function () {
    let rpc: Awaited<ReturnType<typeof serveRpc>>;
    let work: string;

    before(async function () {
      rpc = await serveRpc(connection);
      work = await mkdtemp(path.join(tmpdir(), "verity-zk-commit-"));
      await writeFile(path.join(work, "model.json"), stringifyModel(MODEL));
      await writeFile(path.join(work, "final.zkey"), zkey);
      await writeCircuitDir(path.join(work, "circuit"), await build(KEY, MODEL));
      for (const [name, zk] of [
        ["input1.json", first],
        ["input2.json", second],
      ] as const) {
        await writeFile(path.join(work, name), JSON.stringify(Array.from(new Int8Array(zk.input.buffer))));
      }
    });

    after(async function () {
      await rpc?.close();
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    });

    /** Writes the deployment folder the CLI reads (Ignition's deployed_addresses.json) for fixture `f`. */
    async function deploymentOf(f: F): Promise<string> {
      const dir = path.join(work, "deployment");
      await mkdir(dir, { recursive: true });
      const entries: [string, { getAddress(): Promise<string> }][] = [
        ["MockERC20", f.token],
        ["ModelRegistry", f.registry],
        ["StakeManager", f.stakeManager],
        ["InferenceLedger", f.ledger],
        ["DisputeGame", f.disputeGame],
        ["BatchDisclosure", f.batchDisclosure],
        ["EnvironmentRegistry", f.environmentRegistry],
        ["AttestationServiceVerifier", f.attestationService],
      ];
      const addresses: Record<string, string> = {};
      for (const [name, contract] of entries) addresses[`VerityLocal#${name}`] = await contract.getAddress();
      await writeFile(path.join(dir, "deployed_addresses.json"), JSON.stringify(addresses));
      return dir;
    }

    /** Runs `verity --json <args>` in this process as the node's account `account`; returns its JSON. */
    async function verity(deployment: string, account: number, args: string[]): Promise<any> {
      const program = addGlobalOptions(new Command("verity")).exitOverride();
      registerZk(program);
      const out: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      }) as typeof process.stdout.write;
      try {
        await program.parseAsync(
          ["--rpc", rpc.url, "--deployment", deployment, "--account", String(account), "--json", "--quiet", ...args],
          { from: "user" },
        );
      } finally {
        process.stdout.write = write;
      }
      return JSON.parse(out.join(""));
    }

    it("prove --out writes what commitVerified needs; zk commit sends it as the prover; prove --commit does both", async function () {
      const f = await networkHelpers.loadFixture(withZkVerifier);
      const deployment = await deploymentOf(f);
      const at = (file: string) => path.join(work, file);
      const zkArgs = ["--zkey", at("final.zkey"), "--circuit", at("circuit")];
      const proved = await verity(deployment, 2, [
        "prove",
        at("model.json"),
        at("input1.json"),
        ...zkArgs,
        "--out",
        at("proof1.json"),
      ]);
      const saved = JSON.parse(await readFile(at("proof1.json"), "utf8"));
      expect(saved).to.deep.equal(JSON.parse(JSON.stringify(proved)));
      const inference = inferenceOf(first);
      expect(saved).to.include({ ...inference, prover: f.provider.address, output: ethers.hexlify(first.output) });
      expect(saved.inputCommitment).to.equal(commitmentOf(inference.inputHash, f.provider.address));

      // a tampered file is refused before sending; another signer is refused: the proof is bound to the prover
      await writeFile(at("tampered.json"), JSON.stringify({ ...saved, output: "0x00000000" }));
      await expectCliError(verity(deployment, 2, ["zk", "commit", at("model.json"), at("tampered.json")]), '"output"');
      await expectCliError(
        verity(deployment, 3, ["zk", "commit", at("model.json"), at("proof1.json")]),
        `bound to ${f.provider.address}`,
      );

      const sent = await verity(deployment, 2, ["zk", "commit", at("model.json"), at("proof1.json")]);
      const id = idOf(f, f.provider.address, inference);
      expect(sent).to.include({ id, modelId: f.modelId, status: "Final", finality: "Proof", verifier: f.verifier });
      expect(plain(await f.ledger.finalityOf(id))).to.deep.equal([CommitmentStatus.Final, Finality.Proof]);

      const both = await verity(deployment, 2, ["prove", at("model.json"), at("input2.json"), ...zkArgs, "--commit"]);
      const secondId = idOf(f, f.provider.address, inferenceOf(second));
      expect(both.commitment).to.include({ id: secondId, status: "Final", finality: "Proof", verifier: f.verifier });
      expect(plain(await f.ledger.proofRecordOf(secondId))).to.deep.equal([
        f.verifier,
        1n,
        BigInt(both.commitment.provenAt),
        0n,
      ]);

      // once revoked, --commit refuses before proving
      await f.registry.connect(f.admin).revokeVerifier(f.verifier);
      await expectCliError(
        verity(deployment, 2, ["prove", at("model.json"), at("input1.json"), ...zkArgs, "--commit"]),
        "was revoked",
      );
    });
  });
});

async function expectCliError(promise: Promise<unknown>, includes: string): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, "expected a CliError").to.be.instanceOf(CliError);
  expect((error as Error).message).to.include(includes);
}

import { expect } from "chai";
import { network } from "hardhat";
import { vectorToHex, weightsRoot as weightsRootOf } from "../../src/engine/index.js";
import { LedgerClient } from "../../src/sdk/clients/ledger.js";
import { buildOnchainProof, encodeProof } from "../../src/sdk/proofs/onchain.js";
import type { MockInferenceVerifier } from "../../typechain-types/index.js";
import {
  CommitmentStatus,
  Finality,
  RecordKind,
  expectSolvent,
  plain,
  txTime,
  type Core,
} from "../core/coreFixtures.js";
import {
  deployOnchainVerifier,
  deployProofCore,
  proofBinding,
  randomInput,
  randomModel,
  registerProofModel,
  type ProofCore,
} from "./proofFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const coder = ethers.AbiCoder.defaultAbiCoder();
const MODEL = randomModel([16, 16, 4], 7);
const INPUT = randomInput(16, 1);
const TRACE = ethers.id("trace");

describe("Proof settlement", () => {
  let current: ProofCore | undefined;
  afterEach(async () => {
    // Nothing in this path moves value: the stake manager's books still balance.
    if (current !== undefined) await expectSolvent(current as unknown as Core);
    current = undefined;
  });

  /** A model that accepts proofs with an approved OnchainEvalVerifier, and one that refuses proofs. */
  async function withVerifier() {
    const core = await deployProofCore(connection);
    const modelId = await registerProofModel(ethers, core, MODEL, true);
    const refusing = await registerProofModel(ethers, core, randomModel([16, 4], 8), false, "ipfs://refusing");
    const verifier = await deployOnchainVerifier(ethers, core, modelId);
    await core.registry.connect(core.admin).approveVerifier(modelId, await verifier.getAddress());
    const mockFactory = await ethers.getContractFactory("MockInferenceVerifier");
    const mock = (await mockFactory.deploy(modelId)) as unknown as MockInferenceVerifier;
    current = core;
    return { ...core, modelId, refusing, verifier, verifierAddress: await verifier.getAddress(), mock };
  }
  type F = Awaited<ReturnType<typeof withVerifier>>;

  /** The proof, output and inference of `INPUT` for `prover`. */
  function proofFor(prover: string, input = INPUT) {
    const p = buildOnchainProof(MODEL, input, prover);
    const inference = { inputHash: p.result.inputHash, outputHash: p.result.outputHash, traceRoot: TRACE };
    return { ...p, inference };
  }

  function idOf(
    f: F,
    provider: string,
    inference: ReturnType<typeof proofFor>["inference"],
    verifier = f.verifierAddress,
  ) {
    return ethers.keccak256(
      coder.encode(
        ["address", "bytes32", "tuple(bytes32,bytes32,bytes32)", "bytes32"],
        [
          provider,
          f.modelId,
          [inference.inputHash, inference.outputHash, inference.traceRoot],
          proofBinding(ethers, verifier),
        ],
      ),
    );
  }

  /** Everything a refused call could have changed. */
  async function state(f: F, ...ids: string[]) {
    return plain([
      await f.ledger.proofTermsOf(f.modelId),
      await f.ledger.proofTermsOf(f.refusing),
      await f.registry.verifierOf(f.modelId),
      ...(await Promise.all(ids.map(async (id) => [await f.ledger.recordOf(id), await f.ledger.finalityOf(id)]))),
    ]);
  }

  describe("registry pairing", () => {
    it("a policy's proofAccepted is stored and cached in the ledger at registration (false: nothing cached)", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      expect((await f.registry.policyOf(f.modelId)).proofAccepted).to.equal(true);
      expect((await f.registry.policyOf(f.refusing)).proofAccepted).to.equal(false);
      expect(plain(await f.ledger.proofTermsOf(f.refusing))).to.deep.equal([ethers.ZeroAddress, 0n, 0n, false]);
    });

    it("approveVerifier pairs the verifier, emits VerifierApproved(modelId, verifier, 1) and syncs the ledger", async () => {
      const core = await deployProofCore(connection);
      current = core;
      const modelId = await registerProofModel(ethers, core, MODEL);
      expect(plain(await core.ledger.proofTermsOf(modelId))).to.deep.equal([ethers.ZeroAddress, 0n, 0n, true]);
      const verifier = await deployOnchainVerifier(ethers, core, modelId);
      const address = await verifier.getAddress();
      const tx = core.registry.connect(core.admin).approveVerifier(modelId, address);
      await expect(tx).to.emit(core.registry, "VerifierApproved").withArgs(modelId, address, 1);
      await expect(tx).to.emit(core.ledger, "ProofTermsSynced");
      const at = await txTime(ethers, await tx);
      expect(plain(await core.ledger.proofTermsOf(modelId))).to.deep.equal([address, 1n, 0n, true]);
      expect(plain(await core.registry.verifierOf(modelId))).to.deep.equal([address, [modelId, 1n, BigInt(at), 0n]]);
      expect(plain(await core.registry.verifierBySerial(1))).to.deep.equal([address, [modelId, 1n, BigInt(at), 0n]]);
    });

    it("approveVerifier refuses, with nothing changed: non-governor, unknown model, policy refusing proofs, revoked model, EOA, broken and mismatched verifiers, a paired model", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const other = await registerProofModel(ethers, f, randomModel([16, 4], 9), true, "ipfs://other");
      const broken = await (await ethers.getContractFactory("BrokenVerifier")).deploy();
      const mismatched = await deployOnchainVerifier(ethers, f, other);
      const before = await state(f);
      const gov = f.registry.connect(f.admin);
      await expect(f.registry.connect(f.other).approveVerifier(f.modelId, await f.mock.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.other.address, await f.registry.GOVERNOR_ROLE());
      const unknown = ethers.id("unknown");
      await expect(gov.approveVerifier(unknown, await f.mock.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryUnknownModel")
        .withArgs(unknown);
      await expect(gov.approveVerifier(f.refusing, await f.mock.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryProofNotAccepted")
        .withArgs(f.refusing);
      await expect(gov.approveVerifier(other, f.other.address))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryNotVerifier")
        .withArgs(f.other.address);
      await expect(gov.approveVerifier(other, await broken.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryNotVerifier")
        .withArgs(await broken.getAddress());
      await expect(gov.approveVerifier(other, await f.mock.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryVerifierModelMismatch")
        .withArgs(await f.mock.getAddress(), other, f.modelId);
      await expect(gov.approveVerifier(f.modelId, await f.mock.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryVerifierPaired")
        .withArgs(f.modelId, f.verifierAddress);
      await expect(gov.approveVerifier(other, f.verifierAddress))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryVerifierKnown")
        .withArgs(f.verifierAddress);
      await f.registry.connect(f.publisher).revokeModel(other);
      await expect(gov.approveVerifier(other, await mismatched.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryModelRevoked")
        .withArgs(other);
      expect(await state(f)).to.deep.equal(before);
      expect(plain(await f.ledger.proofTermsOf(other))).to.deep.equal([ethers.ZeroAddress, 0n, 0n, true]);
    });

    it("revokeVerifier revokes for good (VerifierRevoked, the ledger caches revokedAt); a new verifier gets serial 2", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const tx = f.registry.connect(f.admin).revokeVerifier(f.verifierAddress);
      await expect(tx).to.emit(f.registry, "VerifierRevoked").withArgs(f.modelId, f.verifierAddress, 1);
      const at = BigInt(await txTime(ethers, await tx));
      expect(plain(await f.ledger.proofTermsOf(f.modelId))).to.deep.equal([f.verifierAddress, 1n, at, true]);
      const before = await state(f);
      await expect(f.registry.connect(f.admin).revokeVerifier(f.verifierAddress))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryVerifierAlreadyRevoked")
        .withArgs(f.verifierAddress, at);
      await expect(f.registry.connect(f.admin).revokeVerifier(await f.mock.getAddress()))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryUnknownVerifier")
        .withArgs(await f.mock.getAddress());
      await expect(f.registry.connect(f.other).revokeVerifier(f.verifierAddress)).to.be.revertedWithCustomError(
        f.registry,
        "AccessControlUnauthorizedAccount",
      );
      await expect(f.registry.connect(f.admin).approveVerifier(f.modelId, f.verifierAddress))
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryVerifierKnown")
        .withArgs(f.verifierAddress);
      expect(await state(f)).to.deep.equal(before);
      await expect(f.registry.connect(f.admin).approveVerifier(f.modelId, await f.mock.getAddress()))
        .to.emit(f.registry, "VerifierApproved")
        .withArgs(f.modelId, await f.mock.getAddress(), 2);
      expect(plain(await f.ledger.proofTermsOf(f.modelId))).to.deep.equal([await f.mock.getAddress(), 2n, 0n, true]);
    });

    it("only the registry writes the proof cache", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      await expect(
        f.ledger
          .connect(f.admin)
          .syncProofTerms(f.modelId, { verifier: f.other.address, serial: 9, revokedAt: 0, accepted: true }),
      )
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerUnauthorizedSource")
        .withArgs(f.admin.address);
    });
  });

  describe("commitVerified", () => {
    it("records the commitment Final at once with Finality.Proof; the id binds the verifier; no stake needed", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      expect(await f.ledger.providerStakeOf(f.provider.address)).to.equal(0n);
      const p = proofFor(f.provider.address);
      const id = idOf(f, f.provider.address, p.inference);
      const inputCommitment = ethers.keccak256(
        coder.encode(["bytes32", "address"], [p.inference.inputHash, f.provider.address]),
      );
      const tx = f.ledger.connect(f.provider).commitVerified(f.modelId, p.inference, p.output, p.proof);
      await expect(tx)
        .to.emit(f.ledger, "ProofCommitted")
        .withArgs(id, f.modelId, f.provider.address, Object.values(p.inference), f.verifierAddress, p.output);
      await expect(tx)
        .to.emit(f.verifier, "InferenceVerified")
        .withArgs(f.modelId, inputCommitment, f.provider.address, p.inference.outputHash);
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
      expect(plain(await f.ledger.proofRecordOf(id))).to.deep.equal([f.verifierAddress, 1n, at, 0n]);
      expect(
        await f.ledger.commitmentIdOf({
          provider: f.provider.address,
          modelId: f.modelId,
          inference: p.inference,
          binding: proofBinding(ethers, f.verifierAddress),
        }),
      ).to.equal(id);
      expect(p.output).to.equal(vectorToHex(p.result.output));
      // An unproven record has no proof record.
      expect(plain(await f.ledger.proofRecordOf(ethers.id("none")))).to.deep.equal([ethers.ZeroAddress, 0n, 0n, 0n]);
    });

    it("the SDK's commitVerified and proofRecordOf", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const client = new LedgerClient(await f.ledger.getAddress(), f.provider);
      const p = proofFor(f.provider.address);
      const sent = await client.commitVerified({
        modelId: f.modelId,
        inference: p.inference,
        output: p.output,
        proof: p.proof,
      });
      const id = await sent.wait();
      expect(id).to.equal(idOf(f, f.provider.address, p.inference));
      expect(await client.finalityOf(id)).to.deep.equal({ status: 2, finality: "Proof" });
      const record = await client.proofRecordOf(id);
      expect(record?.verifier).to.equal(f.verifierAddress);
      expect(record?.verifierRevokedAt).to.equal(0);
      expect(await client.proofRecordOf(ethers.id("none"))).to.equal(undefined);
    });

    it("refuses, with nothing changed: a duplicate, a wrong output, another prover's proof, tampered weights, order, layers and input", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const p = proofFor(f.provider.address);
      const id = idOf(f, f.provider.address, p.inference);
      await f.ledger.connect(f.provider).commitVerified(f.modelId, p.inference, p.output, p.proof);
      const other = proofFor(f.other.address, randomInput(16, 2));
      const before = await state(f, id, idOf(f, f.other.address, other.inference));
      const ledger = f.ledger.connect(f.provider);
      await expect(ledger.commitVerified(f.modelId, p.inference, p.output, p.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerDuplicate")
        .withArgs(id);
      // Output bytes that are not the committed output hash.
      const flipped = ethers.hexlify(Uint8Array.from(ethers.getBytes(p.output), (b, i) => (i === 0 ? b ^ 1 : b)));
      await expect(ledger.commitVerified(f.modelId, p.inference, flipped, p.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerOutputMismatch")
        .withArgs(p.inference.outputHash, ethers.keccak256(flipped));
      // A consistent hash of a wrong output: the verifier computes the real one.
      const wrong = { ...p.inference, outputHash: ethers.keccak256(flipped), traceRoot: ethers.id("t2") };
      await expect(ledger.commitVerified(f.modelId, wrong, flipped, p.proof))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalWrongOutput")
        .withArgs(ethers.keccak256(flipped), p.inference.outputHash);
      // f.other's proof sent by the provider (a proof copied from the mempool).
      const mine = ethers.keccak256(
        coder.encode(["bytes32", "address"], [other.inference.inputHash, f.provider.address]),
      );
      const theirs = ethers.keccak256(
        coder.encode(["bytes32", "address"], [other.inference.inputHash, f.other.address]),
      );
      await expect(ledger.commitVerified(f.modelId, other.inference, other.output, other.proof))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalCommitmentMismatch")
        .withArgs(mine, theirs);
      // Tampered system proofs.
      const [input, , systemProof] = coder.decode(["bytes", "address", "bytes"], p.proof);
      const [layers, blob, order] = coder.decode(
        ["tuple(uint32,uint32,uint32,uint8,bool)[]", "bytes", "bytes"],
        systemProof,
      );
      const layerType = "tuple(uint32,uint32,uint32,uint8,bool)[]";
      const withSystem = (sys: string) => encodeProof(input, f.provider.address, sys);
      const reinference = { ...p.inference, traceRoot: ethers.id("t3") };
      // Weights that are not the registered ones, with a consistent output and leaf order: the root differs.
      const tampered = structuredClone(MODEL);
      tampered.layers[0].weights[0] ^= 0x40;
      const forged = buildOnchainProof(tampered, INPUT, f.provider.address);
      const forgedInference = { ...p.inference, outputHash: forged.result.outputHash, traceRoot: ethers.id("t4") };
      await expect(ledger.commitVerified(f.modelId, forgedInference, forged.output, forged.proof))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalWeightsMismatch")
        .withArgs(weightsRootOf(tampered), await f.verifier.weightsRoot());
      const blobBytes = ethers.getBytes(blob);
      const shortBlob = coder.encode([layerType, "bytes", "bytes"], [layers, blobBytes.slice(1), order]);
      await expect(ledger.commitVerified(f.modelId, reinference, p.output, withSystem(shortBlob)))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalWeightsLength")
        .withArgs(blobBytes.length - 1, blobBytes.length);
      const orderBytes = ethers.getBytes(order);
      [orderBytes[0], orderBytes[1], orderBytes[2], orderBytes[3]] = [
        orderBytes[2],
        orderBytes[3],
        orderBytes[0],
        orderBytes[1],
      ];
      const swapped = coder.encode([layerType, "bytes", "bytes"], [layers, blob, orderBytes]);
      await expect(ledger.commitVerified(f.modelId, reinference, p.output, withSystem(swapped)))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalLeafOrder")
        .withArgs(1);
      const shortOrder = coder.encode([layerType, "bytes", "bytes"], [layers, blob, ethers.getBytes(order).slice(2)]);
      await expect(ledger.commitVerified(f.modelId, reinference, p.output, withSystem(shortOrder)))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalOrderLength")
        .withArgs(ethers.getBytes(order).length - 2, 20);
      const badLayers = layers.map((l: unknown[], i: number) =>
        i === 0 ? [l[0], l[1], l[2], Number(l[3]) + 1, l[4]] : [...l],
      );
      const relayered = coder.encode([layerType, "bytes", "bytes"], [badLayers, blob, order]);
      await expect(ledger.commitVerified(f.modelId, reinference, p.output, withSystem(relayered)))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalGraphMismatch")
        .withArgs(ethers.keccak256(coder.encode([layerType], [badLayers])), await f.verifier.graphHash());
      const shortInput = ethers.hexlify(ethers.getBytes(input).slice(1));
      const shortInference = { ...p.inference, inputHash: ethers.keccak256(shortInput) };
      await expect(
        ledger.commitVerified(
          f.modelId,
          shortInference,
          p.output,
          encodeProof(shortInput, f.provider.address, systemProof),
        ),
      )
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalInputLength")
        .withArgs(15, 16);
      await expect(ledger.commitVerified(f.modelId, reinference, p.output, "0x1234")).to.be.revertedWithCustomError(
        f.verifier,
        "OnchainEvalMalformedProof",
      );
      expect(await state(f, id, idOf(f, f.other.address, other.inference))).to.deep.equal(before);
    });

    it("refuses, with nothing changed: an unknown or revoked model, a policy refusing proofs, no verifier, a revoked verifier", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const p = proofFor(f.provider.address);
      const ledger = f.ledger.connect(f.provider);
      const pending = await registerProofModel(ethers, f, randomModel([16, 4], 10), true, "ipfs://pending");
      const before = await state(f);
      const unknown = ethers.id("unknown");
      await expect(ledger.commitVerified(unknown, p.inference, p.output, p.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerUnknownModel")
        .withArgs(unknown);
      await expect(ledger.commitVerified(f.refusing, p.inference, p.output, p.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerProofNotAccepted")
        .withArgs(f.refusing);
      await expect(ledger.commitVerified(pending, p.inference, p.output, p.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerNoVerifier")
        .withArgs(pending);
      expect(await state(f)).to.deep.equal(before);

      // A proven record, then the verifier is revoked: pending uses stop at once, the record stays Final.
      const provenAt = BigInt(
        await txTime(ethers, await ledger.commitVerified(f.modelId, p.inference, p.output, p.proof)),
      );
      const id = idOf(f, f.provider.address, p.inference);
      const revokedAt = BigInt(
        await txTime(ethers, await f.registry.connect(f.admin).revokeVerifier(f.verifierAddress)),
      );
      const next = proofFor(f.provider.address, randomInput(16, 3));
      await expect(ledger.commitVerified(f.modelId, next.inference, next.output, next.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerVerifierRevoked")
        .withArgs(f.modelId, f.verifierAddress, revokedAt);
      expect(plain(await f.ledger.finalityOf(id))).to.deep.equal([CommitmentStatus.Final, Finality.Proof]);
      expect(plain(await f.ledger.proofRecordOf(id))).to.deep.equal([f.verifierAddress, 1n, provenAt, revokedAt]);

      await f.registry.connect(f.publisher).revokeModel(f.modelId);
      await expect(ledger.commitVerified(f.modelId, next.inference, next.output, next.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerModelRevoked")
        .withArgs(f.modelId);
      expect(plain(await f.ledger.finalityOf(id))).to.deep.equal([CommitmentStatus.Final, Finality.Proof]);
    });

    it("a deprecated model accepts proofs until its grace time ends", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const p = proofFor(f.provider.address);
      await f.registry.connect(f.publisher).deprecateModel(f.modelId, 100);
      await f.ledger.connect(f.provider).commitVerified(f.modelId, p.inference, p.output, p.proof);
      await networkHelpers.time.increase(101);
      const next = proofFor(f.provider.address, randomInput(16, 4));
      const terms = await f.ledger.commitTermsOf(f.modelId);
      await expect(f.ledger.connect(f.provider).commitVerified(f.modelId, next.inference, next.output, next.proof))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerModelDeprecated")
        .withArgs(f.modelId, terms.acceptsUntil);
    });

    it("a verifier that re-enters commitVerified cannot reuse the proof (bound to its caller), nothing recorded", async () => {
      const core = await deployProofCore(connection);
      current = core;
      const modelId = await registerProofModel(ethers, core, MODEL);
      const mock = (await (
        await ethers.getContractFactory("MockInferenceVerifier")
      ).deploy(modelId)) as unknown as MockInferenceVerifier;
      await core.registry.connect(core.admin).approveVerifier(modelId, await mock.getAddress());
      const input = "0x" + "01".repeat(16);
      const inference = { inputHash: ethers.keccak256(input), outputHash: ethers.keccak256("0x02"), traceRoot: TRACE };
      const proof = encodeProof(input, core.provider.address, ethers.toUtf8Bytes("ok"));
      await mock.setReenter(await core.ledger.getAddress(), inference);
      const id = ethers.keccak256(
        coder.encode(
          ["address", "bytes32", "tuple(bytes32,bytes32,bytes32)", "bytes32"],
          [core.provider.address, modelId, Object.values(inference), proofBinding(ethers, await mock.getAddress())],
        ),
      );
      const asMock = ethers.keccak256(
        coder.encode(["bytes32", "address"], [inference.inputHash, await mock.getAddress()]),
      );
      const asProvider = ethers.keccak256(
        coder.encode(["bytes32", "address"], [inference.inputHash, core.provider.address]),
      );
      await expect(core.ledger.connect(core.provider).commitVerified(modelId, inference, "0x02", proof))
        .to.be.revertedWithCustomError(mock, "MockVerifierCommitmentMismatch")
        .withArgs(asMock, asProvider);
      expect(await core.ledger.status(id)).to.equal(CommitmentStatus.None);
      // Without re-entry the mock accepts it; a bad system proof is its named refusal.
      await mock.setReenter(ethers.ZeroAddress, inference);
      await expect(
        core.ledger
          .connect(core.provider)
          .commitVerified(modelId, inference, "0x02", encodeProof(input, core.provider.address, "0x00")),
      ).to.be.revertedWithCustomError(mock, "MockVerifierRejected");
      await core.ledger.connect(core.provider).commitVerified(modelId, inference, "0x02", proof);
      expect(plain(await core.ledger.finalityOf(id))).to.deep.equal([CommitmentStatus.Final, Finality.Proof]);
    });

    it("the verifier refuses a call for another model id: OnchainEvalWrongModel", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const p = proofFor(f.provider.address);
      const inputCommitment = ethers.keccak256(
        coder.encode(["bytes32", "address"], [p.inference.inputHash, f.provider.address]),
      );
      await expect(f.verifier.verifyInference(f.refusing, inputCommitment, p.output, p.proof))
        .to.be.revertedWithCustomError(f.verifier, "OnchainEvalWrongModel")
        .withArgs(f.refusing, f.modelId);
      // Called directly with the right commitment it verifies (it is stateless and needs no caller).
      await expect(f.verifier.verifyInference(f.modelId, inputCommitment, p.output, p.proof)).to.emit(
        f.verifier,
        "InferenceVerified",
      );
    });
  });

  describe("disputes", () => {
    it("a proven record is never disputable: the dispute game and the ledger's marks refuse InferenceLedgerProven", async () => {
      const f = await networkHelpers.loadFixture(withVerifier);
      const p = proofFor(f.provider.address);
      await f.ledger.connect(f.provider).commitVerified(f.modelId, p.inference, p.output, p.proof);
      const id = idOf(f, f.provider.address, p.inference);
      const key = {
        provider: f.provider.address,
        modelId: f.modelId,
        inference: p.inference,
        binding: proofBinding(ethers, f.verifierAddress),
      };
      const challenger = f.signers[5];
      await f.stakeManager.connect(challenger).deposit(ethers.parseEther("100"));
      const before = await state(f, id);
      await expect(f.disputeGame.connect(challenger).openDispute(key, false, 1))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerProven")
        .withArgs(id);
      await expect(f.ledger.connect(f.disputer).markDisputeOpened(id))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerProven")
        .withArgs(id);
      // Its dispute-counter bits hold the verifier's serial (1): closing must not read them as an open dispute.
      await expect(f.ledger.connect(f.disputer).markDisputeClosed(id, true, true))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerProven")
        .withArgs(id);
      expect(await state(f, id)).to.deep.equal(before);
    });
  });
});

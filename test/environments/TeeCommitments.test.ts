import { expect } from "chai";
import { network } from "hardhat";
import { Wallet, ZeroAddress, ZeroHash, recoverAddress, toBeHex, type Signer } from "ethers";
import { modelIdOf, run, vectorToHex } from "../../src/engine/index.js";
import { ledgerDomain, signTeeCommitment, teeBatchDigest, teeCommitmentDigest } from "../../src/protocol/tee.js";
import type { TeeSealArgs } from "../../src/protocol/tee.js";
import { batchIdOf, commitmentIdOf } from "../../src/sdk/ids.js";
import { inferenceOf, type Inference } from "../disputes/helpers.js";
import { mnistSpec, pseudoDigit } from "../helpers/disputeFixture.js";
import { DAY, HOUR, defaultPolicy } from "../helpers/fixtures.js";
import { deployWithTee, registerOpaqueModel, TeeMode, type Tee } from "../helpers/teeFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;
const windowed = () => deployWithTee(connection, TeeMode.Window);
const root = ethers.id("batch root");

/** The fixture's shortened window (deployWithTee's default under `Window`). */
const TEE_WINDOW = 600;
/** Order of secp256k1: `s' = N - s` is the malleable twin of a signature. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const Kind = { None: 0n, Single: 1n, Batch: 2n };
const Status = { None: 0n, Pending: 1n, Final: 2n };
const Finality = { None: 0n, ChallengeWindow: 1n, Tee: 2n };
/** `RecordFlags`: INPUT_PUBLIC (bit 2, value 4) and TEE (bit 5), TEE_INSTANT (bit 6). */
const Flags = { INPUT_PUBLIC: 4n, TEE: 32n, TEE_INSTANT: 64n };

/** An honest inference of the MNIST model on `pseudoDigit(seed)` and its input bytes. */
function honest(f: Tee, seed: number): { inference: Inference; input: string } {
  return { inference: inferenceOf(run(f.model, pseudoDigit(seed))), input: vectorToHex(pseudoDigit(seed)) };
}

/** The id `commitTee` gives `provider`'s commitment of `inference` under `seal`. */
const idOf = (f: Tee, provider: string, inference: Inference, seal: TeeSealArgs, modelId: string = f.modelId) =>
  commitmentIdOf(provider, modelId, inference, teeCommitmentDigest(f.domain, modelId, inference, seal));

/** Nothing was written for `id`: no record, no TEE record, status None. */
async function expectNoRecord(f: Tee, id: string) {
  expect(await f.ledger.status(id)).to.equal(Status.None);
  expect([...(await f.ledger.finalityOf(id))]).to.deep.equal([Status.None, Finality.None]);
  const r = await f.ledger.recordOf(id);
  expect([r.provider, r.challengeDeadline, r.kind, r.flags]).to.deep.equal([ZeroAddress, 0n, Kind.None, 0n]);
  expect((await f.ledger.teeRecordOf(id)).enclaveKey).to.equal(ZeroAddress);
}

/** Expects `call` to revert with the ledger's `error(args)` and to leave no record for `id`. */
async function refused(f: Tee, call: Promise<unknown>, error: string, args: unknown[], id: string) {
  if (args.length === 0) await expect(call).to.be.revertedWithCustomError(f.ledger, error);
  else
    await expect(call)
      .to.be.revertedWithCustomError(f.ledger, error)
      .withArgs(...args);
  await expectNoRecord(f, id);
}

/** `provider` submits `seal` over `inference` (and the input as inputData unless given). */
const submit = (
  f: Tee,
  provider: Signer,
  inference: Inference,
  seal: TeeSealArgs,
  inputData = "0x",
  modelId: string = f.modelId,
) => f.ledger.connect(provider).commitTee(modelId, inference, inputData, seal);

describe("InferenceLedger TEE-signed commitments (commitTee, commitTeeBatch)", () => {
  const load = () => networkHelpers.loadFixture(windowed);

  describe("commitTee", () => {
    it("accepts a seal made with signTypedData: id = commitmentIdOf(provider, modelId, inference, digest); event and records", async () => {
      const f = await load();
      const { inference, input } = honest(f, 1);
      const seal = await f.seal(f.enclave, inference);
      const digest = teeCommitmentDigest(f.domain, f.modelId, inference, seal);
      expect(await f.ledger.teeCommitmentDigest(f.modelId, inference, seal)).to.equal(digest);
      expect(recoverAddress(digest, seal)).to.equal(f.enclave.address);
      const domain = await f.ledger.eip712Domain();
      const expected = ledgerDomain(f.domain);
      expect([domain.name, domain.version, domain.chainId, domain.verifyingContract]).to.deep.equal([
        expected.name,
        expected.version,
        f.chainId,
        expected.verifyingContract,
      ]);
      const id = commitmentIdOf(f.provider.address, f.modelId, inference, digest);
      const key = { provider: f.provider.address, modelId: f.modelId, inference, binding: digest };
      expect(await f.ledger.commitmentIdOf(key)).to.equal(id);

      const t = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(t);
      await expect(submit(f, f.provider, inference, seal, input))
        .to.emit(f.ledger, "TeeInferenceCommitted")
        .withArgs(
          id,
          f.modelId,
          f.provider.address,
          [inference.inputHash, inference.outputHash, inference.traceRoot],
          digest,
          f.enclave.address,
          f.environment,
          TeeMode.Window,
          input,
        );
      const r = await f.ledger.recordOf(id);
      expect([r.provider, r.challengeDeadline, r.openDisputes, r.kind, r.flags, r.finality]).to.deep.equal([
        f.provider.address,
        BigInt(t + TEE_WINDOW),
        0n,
        Kind.Single,
        Flags.TEE | Flags.INPUT_PUBLIC,
        Finality.Tee,
      ]);
      const tee = await f.ledger.teeRecordOf(id);
      expect([...tee]).to.deep.equal([
        f.enclave.address,
        f.provider.address,
        f.environment,
        BigInt(TeeMode.Window),
        BigInt(t + TEE_WINDOW),
        BigInt(t + HOUR),
        0n,
        false,
        false,
      ]);
      expect([...(await f.ledger.finalityOf(id))]).to.deep.equal([Status.Pending, Finality.None]);
    });

    it("applies commit's inputData rules: the input sets INPUT_PUBLIC, a URI of at most 256 bytes does not, anything else is refused", async () => {
      const f = await load();
      const { inference, input } = honest(f, 2);
      const flagsOf = async (inputData: string) => {
        const seal = await f.seal(f.enclave, inference);
        await submit(f, f.provider, inference, seal, inputData);
        return (await f.ledger.recordOf(idOf(f, f.provider.address, inference, seal))).flags;
      };
      expect(await flagsOf(input)).to.equal(Flags.TEE | Flags.INPUT_PUBLIC);
      expect(await flagsOf(ethers.hexlify(ethers.toUtf8Bytes("ipfs://input-2")))).to.equal(Flags.TEE);
      expect(await flagsOf("0x")).to.equal(Flags.TEE);
      expect(await flagsOf(ethers.hexlify(ethers.randomBytes(256)))).to.equal(Flags.TEE);

      for (const data of [ethers.hexlify(ethers.randomBytes(257)), vectorToHex(pseudoDigit(3))]) {
        const seal = await f.seal(f.enclave, inference);
        const length = ethers.dataLength(data);
        await refused(
          f,
          submit(f, f.provider, inference, seal, data),
          "InferenceLedgerInvalidInputData",
          [length, 784, 256],
          idOf(f, f.provider.address, inference, seal),
        );
      }
    });

    it("refuses a zero hash in the inference (InferenceLedgerZeroHash)", async () => {
      const f = await load();
      const { inference } = honest(f, 4);
      for (const field of ["inputHash", "outputHash", "traceRoot"] as const) {
        const zeroed = { ...inference, [field]: ZeroHash };
        const seal = await f.seal(f.enclave, zeroed);
        await refused(
          f,
          submit(f, f.provider, zeroed, seal),
          "InferenceLedgerZeroHash",
          [],
          idOf(f, f.provider.address, zeroed, seal),
        );
      }
    });

    it("refuses a replayed seal (SealReplayed(id)) and changes nothing; a new nonce makes a new commitment", async () => {
      const f = await load();
      const { inference, input } = honest(f, 5);
      const seal = await f.seal(f.enclave, inference);
      const id = idOf(f, f.provider.address, inference, seal);
      await submit(f, f.provider, inference, seal, input);
      const before = [...(await f.ledger.recordOf(id))];
      await expect(submit(f, f.provider, inference, seal, input))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerSealReplayed")
        .withArgs(id);
      // Another inputData does not make another commitment either: the id binds the digest, not the data.
      await expect(submit(f, f.provider, inference, seal, "0x"))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerSealReplayed")
        .withArgs(id);
      expect([...(await f.ledger.recordOf(id))]).to.deep.equal(before);

      const again = await f.seal(f.enclave, inference, { nonce: seal.nonce + 1n });
      const other = idOf(f, f.provider.address, inference, again);
      expect(other).to.not.equal(id);
      await expect(submit(f, f.provider, inference, again, input)).to.emit(f.ledger, "TeeInferenceCommitted");
      expect(await f.ledger.status(other)).to.equal(Status.Pending);
    });

    it("refuses another operator submitting the provider's seal, the mempool copy (EnclaveOfOtherOperator)", async () => {
      const f = await load();
      const { inference, input } = honest(f, 6);
      const seal = await f.seal(f.enclave, inference);
      await refused(
        f,
        submit(f, f.provider2, inference, seal, input),
        "InferenceLedgerEnclaveOfOtherOperator",
        [f.enclave.address, f.provider.address, f.provider2.address],
        idOf(f, f.provider2.address, inference, seal),
      );
      // The copy consumed nothing: the provider still commits with its seal.
      await submit(f, f.provider, inference, seal, input);
      expect(await f.ledger.status(idOf(f, f.provider.address, inference, seal))).to.equal(Status.Pending);
    });

    it("accepts a seal at its deadline and refuses it one second later (SealExpired(deadline))", async () => {
      const f = await load();
      const deadline = BigInt((await time.latest()) + 100);
      const a = honest(f, 7).inference;
      const b = honest(f, 8).inference;
      const sealA = await f.seal(f.enclave, a, { deadline });
      const sealB = await f.seal(f.enclave, b, { deadline });
      await time.setNextBlockTimestamp(deadline);
      // A gas limit skips estimation, so each call is mined at exactly the timestamp set.
      await expect(f.ledger.connect(f.provider).commitTee(f.modelId, a, "0x", sealA, { gasLimit: 500_000 })).to.emit(
        f.ledger,
        "TeeInferenceCommitted",
      );
      await time.setNextBlockTimestamp(deadline + 1n);
      await refused(
        f,
        f.ledger.connect(f.provider).commitTee(f.modelId, b, "0x", sealB, { gasLimit: 500_000 }),
        "InferenceLedgerSealExpired",
        [deadline],
        idOf(f, f.provider.address, b, sealB),
      );
      expect(BigInt(await time.latest())).to.equal(deadline + 1n);
    });

    describe("signatures that do not verify", () => {
      it("refuses a seal for another chain id or another ledger (SignerMismatch(key, recovered))", async () => {
        const f = await load();
        const { inference } = honest(f, 9);
        const fields = (await f.seal(f.enclave, inference)) as TeeSealArgs;
        const domains = [
          { chainId: f.chainId + 1n, ledger: f.domain.ledger },
          { chainId: f.chainId, ledger: await f.registry.getAddress() },
        ];
        for (const domain of domains) {
          const seal = await signTeeCommitment(f.enclave, domain, f.modelId, inference, fields);
          const recovered = recoverAddress(teeCommitmentDigest(f.domain, f.modelId, inference, seal), seal);
          expect(recovered).to.not.equal(f.enclave.address);
          await refused(
            f,
            submit(f, f.provider, inference, seal),
            "InferenceLedgerSignerMismatch",
            [f.enclave.address, recovered],
            idOf(f, f.provider.address, inference, seal),
          );
        }
      });

      it("refuses a seal whose message was changed: outputHash, nonce, deadline (SignerMismatch(key, recovered))", async () => {
        const f = await load();
        const { inference } = honest(f, 10);
        const seal = await f.seal(f.enclave, inference);
        const changed: [Inference, TeeSealArgs][] = [
          [{ ...inference, outputHash: ethers.id("another output") }, seal],
          [inference, { ...seal, nonce: seal.nonce + 1n }],
          [inference, { ...seal, deadline: seal.deadline + 1n }],
        ];
        for (const [inf, s] of changed) {
          const recovered = recoverAddress(teeCommitmentDigest(f.domain, f.modelId, inf, s), s);
          expect(recovered).to.not.equal(f.enclave.address);
          await refused(
            f,
            submit(f, f.provider, inf, s),
            "InferenceLedgerSignerMismatch",
            [f.enclave.address, recovered],
            idOf(f, f.provider.address, inf, s),
          );
        }
      });

      it("refuses the malleable high-s twin of a valid seal (MalleableSignature(s'))", async () => {
        const f = await load();
        const { inference } = honest(f, 11);
        const seal = await f.seal(f.enclave, inference);
        const sHigh = toBeHex(N - BigInt(seal.s), 32);
        const twin = { ...seal, s: sHigh, v: seal.v === 27 ? 28 : 27 };
        await refused(
          f,
          submit(f, f.provider, inference, twin),
          "InferenceLedgerMalleableSignature",
          [sHigh],
          idOf(f, f.provider.address, inference, twin),
        );
        // The low-s original is accepted.
        await submit(f, f.provider, inference, seal);
        expect(await f.ledger.status(idOf(f, f.provider.address, inference, seal))).to.equal(Status.Pending);
      });

      it("refuses a signature that recovers no address, r = 0 or v = 0 (InvalidSignature)", async () => {
        const f = await load();
        const { inference } = honest(f, 12);
        const seal = await f.seal(f.enclave, inference);
        for (const bad of [
          { ...seal, r: ZeroHash },
          { ...seal, v: 0 },
        ]) {
          await refused(
            f,
            submit(f, f.provider, inference, bad),
            "InferenceLedgerInvalidSignature",
            [],
            idOf(f, f.provider.address, inference, bad),
          );
        }
      });
    });

    describe("keys and environments", () => {
      it("refuses a key revoked by its operator or by governance (EnclaveRevoked(key, revokedAt))", async () => {
        const f = await load();
        const { inference } = honest(f, 13);
        const second = await f.registerEnclave(f.provider);
        for (const [key, by] of [
          [f.enclave, f.provider],
          [second, f.admin],
        ] as const) {
          const seal = await f.seal(key, inference);
          const rc = await (await f.environmentRegistry.connect(by).revokeEnclave(key.address)).wait();
          const revokedAt = (await ethers.provider.getBlock(rc!.blockNumber))!.timestamp;
          expect((await f.environmentRegistry.enclaveOf(key.address)).revokedAt).to.equal(BigInt(revokedAt));
          await refused(
            f,
            submit(f, f.provider, inference, seal),
            "InferenceLedgerEnclaveRevoked",
            [key.address, revokedAt],
            idOf(f, f.provider.address, inference, seal),
          );
        }
      });

      it("accepts a key one second before it expires and refuses it at expiresAt (EnclaveExpired(key, expiresAt))", async () => {
        const f = await load();
        const expiresAt = (await f.environmentRegistry.enclaveOf(f.enclave.address)).expiresAt;
        await time.increaseTo(expiresAt - 10n);
        const a = honest(f, 14).inference;
        const b = honest(f, 15).inference;
        const sealA = await f.seal(f.enclave, a);
        const sealB = await f.seal(f.enclave, b);
        await time.setNextBlockTimestamp(expiresAt - 1n);
        await f.ledger.connect(f.provider).commitTee(f.modelId, a, "0x", sealA, { gasLimit: 500_000 });
        expect(await f.ledger.status(idOf(f, f.provider.address, a, sealA))).to.equal(Status.Pending);
        await time.setNextBlockTimestamp(expiresAt);
        await refused(
          f,
          f.ledger.connect(f.provider).commitTee(f.modelId, b, "0x", sealB, { gasLimit: 500_000 }),
          "InferenceLedgerEnclaveExpired",
          [f.enclave.address, expiresAt],
          idOf(f, f.provider.address, b, sealB),
        );
      });

      it("refuses a seal naming an environment other than its key's (EnvironmentMismatch(key, env))", async () => {
        const f = await load();
        const env2 = await f.approveEnvironment(2);
        await f.registry.connect(f.publisher).allowEnvironment(f.modelId, env2);
        const key2 = await f.registerEnclave(f.provider, 2);
        const { inference } = honest(f, 16);
        for (const [key, env] of [
          [key2, f.environment],
          [f.enclave, env2],
        ] as const) {
          const seal = await f.seal(key, inference, { environment: env });
          await refused(
            f,
            submit(f, f.provider, inference, seal),
            "InferenceLedgerEnvironmentMismatch",
            [key.address, env],
            idOf(f, f.provider.address, inference, seal),
          );
        }
        // Each key with its own environment is accepted.
        await submit(f, f.provider, inference, await f.seal(key2, inference, { environment: env2 }));
      });

      it("refuses a key whose environment governance revoked (EnvironmentRevoked(env))", async () => {
        const f = await load();
        const { inference } = honest(f, 17);
        const seal = await f.seal(f.enclave, inference);
        await f.environmentRegistry.connect(f.admin).revokeEnvironment(f.environment);
        await refused(
          f,
          submit(f, f.provider, inference, seal),
          "InferenceLedgerEnvironmentRevoked",
          [f.environment],
          idOf(f, f.provider.address, inference, seal),
        );
      });

      it("refuses an environment the model does not allow, never allowed or disallowed (EnvironmentNotAllowed(modelId, env))", async () => {
        const f = await load();
        const env2 = await f.approveEnvironment(2);
        const key2 = await f.registerEnclave(f.provider, 2);
        const { inference } = honest(f, 18);
        const seal2 = await f.seal(key2, inference, { environment: env2 });
        await refused(
          f,
          submit(f, f.provider, inference, seal2),
          "InferenceLedgerEnvironmentNotAllowed",
          [f.modelId, env2],
          idOf(f, f.provider.address, inference, seal2),
        );
        await f.registry.connect(f.publisher).disallowEnvironment(f.modelId, f.environment);
        const seal = await f.seal(f.enclave, inference);
        await refused(
          f,
          submit(f, f.provider, inference, seal),
          "InferenceLedgerEnvironmentNotAllowed",
          [f.modelId, f.environment],
          idOf(f, f.provider.address, inference, seal),
        );
      });

      it("refuses a key no operator registered (UnknownEnclave(key))", async () => {
        const f = await load();
        const stranger = new Wallet(Wallet.createRandom().privateKey);
        const { inference } = honest(f, 19);
        const seal = await f.seal(stranger, inference);
        await refused(
          f,
          submit(f, f.provider, inference, seal),
          "InferenceLedgerUnknownEnclave",
          [stranger.address],
          idOf(f, f.provider.address, inference, seal),
        );
      });
    });

    describe("models and stake", () => {
      it("refuses a model whose policy takes no TEE signatures (TeeNotAccepted(modelId)); plain commit accepts it", async () => {
        const f = await load();
        // The same model published by another account under a policy without TEE settlement.
        await f.registry.connect(f.admin).registerModel(mnistSpec(f.commitments), defaultPolicy(ethers));
        const plainModel = modelIdOf(f.admin.address, f.commitments.contentHash);
        const { inference, input } = honest(f, 20);
        const seal = await f.seal(f.enclave, inference, {}, plainModel);
        await refused(
          f,
          submit(f, f.provider, inference, seal, input, plainModel),
          "InferenceLedgerTeeNotAccepted",
          [plainModel],
          idOf(f, f.provider.address, inference, seal, plainModel),
        );
        await f.ledger
          .connect(f.provider)
          .commit(plainModel, inference.inputHash, inference.outputHash, inference.traceRoot, input);
        expect(await f.ledger.status(commitmentIdOf(f.provider.address, plainModel, inference))).to.equal(
          Status.Pending,
        );
      });

      it("refuses a caller below the model's minimum stake (InsufficientStake(caller, active, minStake))", async () => {
        const f = await load();
        const { inference } = honest(f, 21);
        const seal = await f.seal(f.enclave, inference);
        await refused(
          f,
          submit(f, f.challenger, inference, seal),
          "InferenceLedgerInsufficientStake",
          [f.challenger.address, 0n, f.policy.minStake],
          idOf(f, f.challenger.address, inference, seal),
        );
      });

      it("refuses an unknown model (UnknownModel) and a revoked one (ModelRevoked)", async () => {
        const f = await load();
        const { inference } = honest(f, 22);
        const unknown = ethers.id("no such model");
        const sealU = await f.seal(f.enclave, inference, {}, unknown);
        await refused(
          f,
          submit(f, f.provider, inference, sealU, "0x", unknown),
          "InferenceLedgerUnknownModel",
          [unknown],
          idOf(f, f.provider.address, inference, sealU, unknown),
        );
        const seal = await f.seal(f.enclave, inference);
        await f.registry.connect(f.publisher).revokeModel(f.modelId);
        await refused(
          f,
          submit(f, f.provider, inference, seal),
          "InferenceLedgerModelRevoked",
          [f.modelId],
          idOf(f, f.provider.address, inference, seal),
        );
      });

      it("accepts a deprecated model until its grace ends and refuses it from then on (ModelDeprecated(modelId, acceptsUntil))", async () => {
        const f = await load();
        const a = honest(f, 23).inference;
        const b = honest(f, 24).inference;
        const sealA = await f.seal(f.enclave, a);
        const sealB = await f.seal(f.enclave, b);
        await f.registry.connect(f.publisher).deprecateModel(f.modelId, 100);
        const acceptsUntil = (await f.ledger.commitTermsOf(f.modelId)).acceptsUntil;
        await time.setNextBlockTimestamp(acceptsUntil - 1n);
        await f.ledger.connect(f.provider).commitTee(f.modelId, a, "0x", sealA, { gasLimit: 500_000 });
        expect(await f.ledger.status(idOf(f, f.provider.address, a, sealA))).to.equal(Status.Pending);
        await time.setNextBlockTimestamp(acceptsUntil);
        await refused(
          f,
          f.ledger.connect(f.provider).commitTee(f.modelId, b, "0x", sealB, { gasLimit: 500_000 }),
          "InferenceLedgerModelDeprecated",
          [f.modelId, acceptsUntil],
          idOf(f, f.provider.address, b, sealB),
        );
      });
    });

    it("accepts an opaque-engine model under Instant (Final at once) that plain commit refuses (NotOptimistic)", async () => {
      const f = await load();
      const opaque = await registerOpaqueModel(f, TeeMode.Instant, DAY);
      const inference = { inputHash: ethers.id("in"), outputHash: ethers.id("out"), traceRoot: ethers.id("trace") };
      const uri = ethers.hexlify(ethers.toUtf8Bytes("ipfs://opaque-input"));
      await expect(
        f.ledger
          .connect(f.provider)
          .commit(opaque, inference.inputHash, inference.outputHash, inference.traceRoot, uri),
      )
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerNotOptimistic")
        .withArgs(opaque);
      await expectNoRecord(f, commitmentIdOf(f.provider.address, opaque, inference));

      const seal = await f.seal(f.enclave, inference, {}, opaque);
      const id = idOf(f, f.provider.address, inference, seal, opaque);
      const t = (await time.latest()) + 5;
      await time.setNextBlockTimestamp(t);
      await expect(submit(f, f.provider, inference, seal, uri, opaque))
        .to.emit(f.ledger, "TeeInferenceCommitted")
        .withArgs(
          id,
          opaque,
          f.provider.address,
          [inference.inputHash, inference.outputHash, inference.traceRoot],
          teeCommitmentDigest(f.domain, opaque, inference, seal),
          f.enclave.address,
          f.environment,
          TeeMode.Instant,
          uri,
        );
      expect([...(await f.ledger.finalityOf(id))]).to.deep.equal([Status.Final, Finality.Tee]);
      const r = await f.ledger.recordOf(id);
      expect([r.provider, r.challengeDeadline, r.flags, r.finality]).to.deep.equal([
        f.provider.address,
        BigInt(t + DAY),
        Flags.TEE | Flags.TEE_INSTANT,
        Finality.Tee,
      ]);
    });
  });

  describe("commitTeeBatch", () => {
    /** The id `commitTeeBatch` gives `provider`'s batch under `seal`. */
    const batchIdFor = (
      f: Tee,
      provider: string,
      r: string,
      count: number,
      seal: TeeSealArgs,
      modelId: string = f.modelId,
    ) => batchIdOf({ provider, modelId, root: r, count, binding: teeBatchDigest(f.domain, modelId, r, count, seal) });

    it("commits a sealed batch: id = batchIdOf(header with binding = digest); event and record", async () => {
      const f = await load();
      const count = 64;
      const seal = await f.batchSeal(f.enclave, root, count);
      const digest = teeBatchDigest(f.domain, f.modelId, root, count, seal);
      const id = batchIdFor(f, f.provider.address, root, count, seal);
      const header = { provider: f.provider.address, modelId: f.modelId, root, count, binding: digest };
      expect(await f.ledger.batchIdOf(header)).to.equal(id);
      const t = (await time.latest()) + 5;
      await time.setNextBlockTimestamp(t);
      await expect(f.ledger.connect(f.provider).commitTeeBatch(f.modelId, root, count, "ipfs://batch", seal))
        .to.emit(f.ledger, "TeeBatchCommitted")
        .withArgs(
          id,
          f.modelId,
          f.provider.address,
          root,
          count,
          digest,
          f.enclave.address,
          f.environment,
          TeeMode.Window,
          "ipfs://batch",
        );
      const r = await f.ledger.recordOf(id);
      expect([r.provider, r.challengeDeadline, r.kind, r.flags, r.finality]).to.deep.equal([
        f.provider.address,
        BigInt(t + TEE_WINDOW),
        Kind.Batch,
        Flags.TEE,
        Finality.Tee,
      ]);
      expect((await f.ledger.teeRecordOf(id)).fallbackDeadline).to.equal(BigInt(t + HOUR));
      expect(await f.ledger.status(id)).to.equal(Status.Pending);
      await expect(f.ledger.connect(f.provider).commitTeeBatch(f.modelId, root, count, "ipfs://batch", seal))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerSealReplayed")
        .withArgs(id);
    });

    it("refuses a zero root, an empty batch, a long URI, too many leaves, and changes nothing", async () => {
      const f = await load();
      const max = Number((await f.ledger.commitTermsOf(f.modelId)).maxBatchLeaves);
      const cases: [string, number, string, string, unknown[]][] = [
        [ZeroHash, 4, "ipfs://b", "InferenceLedgerZeroHash", []],
        [root, 0, "ipfs://b", "InferenceLedgerEmptyBatch", []],
        [root, 4, "x".repeat(257), "InferenceLedgerDataURITooLong", [257, 256]],
        [root, max + 1, "ipfs://b", "InferenceLedgerBatchTooLarge", [max + 1, max]],
      ];
      for (const [r, count, uri, error, args] of cases) {
        const seal = await f.batchSeal(f.enclave, r, count);
        await refused(
          f,
          f.ledger.connect(f.provider).commitTeeBatch(f.modelId, r, count, uri, seal),
          error,
          args,
          batchIdFor(f, f.provider.address, r, count, seal),
        );
      }
      // The longest URI and the largest batch are accepted.
      const seal = await f.batchSeal(f.enclave, root, max);
      await f.ledger.connect(f.provider).commitTeeBatch(f.modelId, root, max, "x".repeat(256), seal);
      expect(await f.ledger.status(batchIdFor(f, f.provider.address, root, max, seal))).to.equal(Status.Pending);
    });

    it("refuses a changed count, a commitment's seal used for a batch, another operator, a revoked key", async () => {
      const f = await load();
      const seal = await f.batchSeal(f.enclave, root, 8);
      const digest9 = teeBatchDigest(f.domain, f.modelId, root, 9, seal);
      const recovered9 = recoverAddress(digest9, seal);
      await refused(
        f,
        f.ledger.connect(f.provider).commitTeeBatch(f.modelId, root, 9, "ipfs://b", seal),
        "InferenceLedgerSignerMismatch",
        [f.enclave.address, recovered9],
        batchIdFor(f, f.provider.address, root, 9, seal),
      );
      // A TeeCommitment signature does not verify as a TeeBatch (the type hash differs).
      const single = await signTeeCommitment(f.enclave, f.domain, f.modelId, honest(f, 25).inference, seal);
      const recovered = recoverAddress(teeBatchDigest(f.domain, f.modelId, root, 8, single), single);
      await refused(
        f,
        f.ledger.connect(f.provider).commitTeeBatch(f.modelId, root, 8, "ipfs://b", single),
        "InferenceLedgerSignerMismatch",
        [f.enclave.address, recovered],
        batchIdFor(f, f.provider.address, root, 8, single),
      );
      await refused(
        f,
        f.ledger.connect(f.provider2).commitTeeBatch(f.modelId, root, 8, "ipfs://b", seal),
        "InferenceLedgerEnclaveOfOtherOperator",
        [f.enclave.address, f.provider.address, f.provider2.address],
        batchIdFor(f, f.provider2.address, root, 8, seal),
      );
      const rc = await (await f.environmentRegistry.connect(f.provider).revokeEnclave(f.enclave.address)).wait();
      const revokedAt = (await ethers.provider.getBlock(rc!.blockNumber))!.timestamp;
      await refused(
        f,
        f.ledger.connect(f.provider).commitTeeBatch(f.modelId, root, 8, "ipfs://b", seal),
        "InferenceLedgerEnclaveRevoked",
        [f.enclave.address, revokedAt],
        batchIdFor(f, f.provider.address, root, 8, seal),
      );
    });
  });

  describe("gas", () => {
    it("commitTee with 32 bytes of inputData and commitTeeBatch of 1024 leaves each cost below 75,000", async () => {
      const f = await load();
      const { inference } = honest(f, 26);
      const seal = await f.seal(f.enclave, inference);
      const rc = await (await submit(f, f.provider, inference, seal, ethers.hexlify(ethers.randomBytes(32)))).wait();
      console.log(`      commitTee (32 bytes of inputData): ${rc!.gasUsed} gas`);
      expect(rc!.gasUsed).to.be.lessThan(75_000n);

      expect((await f.ledger.commitTermsOf(f.modelId)).maxBatchLeaves).to.equal(1024n);
      const batchSeal = await f.batchSeal(f.enclave, root, 1024);
      const brc = await (
        await f.ledger.connect(f.provider).commitTeeBatch(f.modelId, root, 1024, "ipfs://batch", batchSeal)
      ).wait();
      console.log(`      commitTeeBatch (1024 leaves, short URI): ${brc!.gasUsed} gas`);
      expect(brc!.gasUsed).to.be.lessThan(75_000n);
    });
  });
});

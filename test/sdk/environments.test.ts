import { generateKeyPairSync } from "node:crypto";
import { expect } from "chai";
import { Wallet } from "ethers";
import { network } from "hardhat";
import { run, vectorToHex } from "../../src/engine/index.js";
import {
  TeeKind,
  environmentIdOf,
  parseReportData,
  reportBindingOf,
  reportDataOf,
  teeBatchDigest,
  teeCommitmentDigest,
} from "../../src/protocol/tee.js";
import {
  CommitmentStatus,
  Finality,
  RecordFlags,
  TcbStatus,
  Verity,
  VerityRevertError,
  batchIdOf,
  batchRootOf,
  commitmentIdOf,
  hasFlag,
  p256PublicKeyOf,
  p256SignerId,
  secp256k1SignerId,
  type VerityAddresses,
} from "../../src/sdk/index.js";
import { formatTime, meaningOf } from "../../src/sdk/errors.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { DAY, HOUR } from "../helpers/fixtures.js";
import { TeeMode, deployWithTee, tdxMeasurement } from "../helpers/teeFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const TEE_WINDOW = 10 * 60;
const windowed = () => deployWithTee(connection, TeeMode.Window, TEE_WINDOW);

/** The TEE fixture as SDK users see it: a `Verity` connection for any of its signers. */
async function setup() {
  const f = await networkHelpers.loadFixture(windowed);
  const addresses: VerityAddresses = {
    token: await f.token.getAddress(),
    registry: await f.registry.getAddress(),
    stakeManager: await f.stakeManager.getAddress(),
    ledger: await f.ledger.getAddress(),
    disputeGame: await f.disputeGame.getAddress(),
    batchDisclosure: await f.batchDisclosure.getAddress(),
    environments: await f.environmentRegistry.getAddress(),
    attestationService: await f.attestationService.getAddress(),
  };
  const as = (signer: (typeof f.signers)[number]) => Verity.connect({ runner: signer, addresses });
  return { ...f, addresses, as, gov: await as(f.admin), op: await as(f.provider) };
}

/** The hashes of `run(model, pseudoDigit(seed))` and the input bytes. */
function inferenceOf(model: Awaited<ReturnType<typeof setup>>["model"], seed: number) {
  const input = pseudoDigit(seed);
  const r = run(model, input);
  return {
    inference: { inputHash: r.inputHash, outputHash: r.outputHash, traceRoot: r.traceRoot },
    input: vectorToHex(input),
  };
}

/** The error `fn` rejects with (fails the test if it resolves). */
async function failure(fn: () => Promise<unknown>): Promise<Error> {
  return fn().then(
    () => expect.fail("expected a failure"),
    (e: Error) => e,
  );
}

/** The revert `fn` rejects with, checked to be `name(args)` with `meaning` after a colon. */
async function revert(fn: () => Promise<unknown>, name: string, args: unknown[], meaning: string) {
  const err = await failure(fn);
  expect(err, err.message).to.be.instanceOf(VerityRevertError);
  const r = err as VerityRevertError;
  expect(r.errorName).to.equal(name);
  expect(r.args).to.deep.equal(args);
  expect(r.meaning).to.equal(meaning);
  expect(r.message).to.match(new RegExp(`^${name}\\(.*\\): `));
  expect(r.message.endsWith(`: ${meaning}`)).to.equal(true);
  return r;
}

const now = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp);

describe("SDK environments and TEE-sealed commitments (in-process chain)", () => {
  describe("EnvironmentClient: environments", () => {
    it("approves, reads, lists (bounded ranges) and revokes environments", async () => {
      const { gov, environment } = await setup();
      const sgx = "0x" + "ab".repeat(64);
      const id = await (await gov.environments.approveEnvironment(TeeKind.IntelSgx, sgx, "ipfs://sgx")).wait();
      expect(id).to.equal(environmentIdOf(TeeKind.IntelSgx, sgx));
      const approvedAt = Number(await now());
      const record = await gov.environments.environmentOf(id);
      expect(record).to.deep.include({
        environment: id,
        kind: TeeKind.IntelSgx,
        status: "Approved",
        compromised: false,
        approvedAt,
        revokedAt: 0,
        measurement: sgx,
        metadataURI: "ipfs://sgx",
      });

      await (await gov.environments.revokeEnvironment(id)).wait();
      const revokedAt = Number(await now());
      expect(await gov.environments.environmentOf(id)).to.deep.include({ status: "Revoked", revokedAt });
      const listed = await gov.environments.listEnvironments({ maxRange: 1 });
      expect(listed.map((e) => [e.environment, e.status])).to.deep.equal([
        [environment, "Approved"],
        [id, "Revoked"],
      ]);
      expect(await gov.environments.environmentOf(ethers.id("never approved"))).to.equal(undefined);
    });

    it("refuses a measurement of the wrong length before anything is sent", async () => {
      const { gov } = await setup();
      const block = await ethers.provider.getBlockNumber();
      const err = await failure(() => gov.environments.approveEnvironment(TeeKind.IntelTdx, "0x" + "11".repeat(64)));
      expect(err.message).to.equal("a IntelTdx measurement is 240 bytes of hex");
      expect(await ethers.provider.getBlockNumber()).to.equal(block);
      expect(await gov.environments.listEnvironments()).to.have.length(1);
    });
  });

  describe("EnvironmentClient: enclave keys", () => {
    it("issues a nonce, derives the report data, registers, lists and revokes a key", async () => {
      const { op, as, provider, provider2, enclave, environment, evidenceFor, registerEnclave, addresses, chainId } =
        await setup();
      const key = Wallet.createRandom();
      const nonce = await (await op.environments.issueNonce()).wait();
      expect(nonce).to.match(/^0x[0-9a-f]{64}$/);

      const reportData = await op.environments.reportDataFor(key.address, nonce);
      expect(reportData).to.equal(
        reportDataOf(key.address, reportBindingOf(chainId, addresses.environments, key.address, nonce)),
      );
      expect(parseReportData(reportData).enclaveKey).to.equal(key.address);

      const evidence = await evidenceFor(key.address, nonce);
      const expiresAt = (await now()) + BigInt(DAY);
      const tx = await op.environments.registerEnclave({
        verifier: addresses.attestationService,
        evidence,
        nonce,
        expiresAt,
      });
      expect(await tx.wait()).to.equal(key.address);
      expect(await op.environments.enclaveOf(key.address)).to.deep.include({
        key: key.address,
        operator: provider.address,
        environment,
        verifier: addresses.attestationService,
        tcbStatus: TcbStatus.UpToDate,
        expiresAt: Number(expiresAt),
        revokedAt: 0,
        revokedForFraud: false,
        valid: true,
      });
      expect(await op.environments.isValidEnclave(key.address)).to.equal(true);

      const other = await registerEnclave(provider2);
      const mine = await op.environments.listEnclaves({ operator: provider.address, maxRange: 1 });
      expect(mine.map((k) => k.key)).to.deep.equal([enclave.address, key.address]);
      const all = await op.environments.listEnclaves({ maxRange: 3 });
      expect(all.map((k) => k.key)).to.deep.equal([enclave.address, key.address, other.address]);

      await (await op.environments.revokeEnclave(key.address)).wait();
      const revokedAt = Number(await now());
      expect(await op.environments.enclaveOf(key.address)).to.deep.include({ revokedAt, valid: false });
      const after = await (await as(provider2)).environments.listEnclaves({ operator: provider.address });
      expect(after.map((k) => [k.key, k.valid])).to.deep.equal([
        [enclave.address, true],
        [key.address, false],
      ]);
      expect(await op.environments.enclaveOf(Wallet.createRandom().address)).to.equal(undefined);
    });

    it("governs verifiers, the TCB policy and the attestation service's signing keys", async () => {
      const { gov, addresses } = await setup();
      const service = addresses.attestationService;
      await (await gov.environments.revokeVerifier(service)).wait();
      expect(await gov.environments.isApprovedVerifier(service)).to.equal(false);
      await (await gov.environments.approveVerifier(service)).wait();
      expect(await gov.environments.isApprovedVerifier(service)).to.equal(true);

      const mask = await (
        await gov.environments.setAcceptedTcbStatuses([TcbStatus.UpToDate, TcbStatus.SwHardeningNeeded])
      ).wait();
      expect(mask).to.equal(0b110n);
      expect(await gov.environments.acceptedTcbStatuses()).to.deep.equal([
        TcbStatus.UpToDate,
        TcbStatus.SwHardeningNeeded,
      ]);

      const account = Wallet.createRandom().address;
      const k1 = await (await gov.environments.approveServiceSigner(account)).wait();
      expect(k1).to.equal(secp256k1SignerId(account));
      expect(await gov.environments.serviceSignerOf(account)).to.deep.include({
        signerId: k1,
        kind: "Secp256k1",
        status: "Approved",
        account,
      });
      await (await gov.environments.revokeServiceSigner(account)).wait();
      expect((await gov.environments.serviceSignerOf(k1)).status).to.equal("Revoked");

      const p256 = p256PublicKeyOf(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey);
      const r1 = await (await gov.environments.approveServiceSigner(p256)).wait();
      expect(r1).to.equal(p256SignerId(p256.qx, p256.qy));
      expect(await gov.environments.serviceSignerOf(p256)).to.deep.include({
        kind: "P256",
        status: "Approved",
        ...p256,
      });
      await (await gov.environments.revokeServiceSigner(r1)).wait();
      expect((await gov.environments.serviceSignerOf(p256)).status).to.equal("Revoked");
    });
  });

  describe("LedgerClient: commitTee and commitTeeBatch", () => {
    it("seals a commitment for this ledger and chain; reads the TEE record and its finality", async () => {
      const { op, model, modelId, provider, enclave, environment, domain, policy } = await setup();
      const { inference, input } = inferenceOf(model, 1);
      const deadline = (await now()) + BigInt(HOUR);
      const nonce = 42n;
      const id = await (
        await op.ledger.commitTee({ modelId, inference, input, enclave, environment, nonce, deadline })
      ).wait();
      const committedAt = Number(await now());
      const digest = teeCommitmentDigest(domain, modelId, inference, {
        environment,
        enclaveKey: enclave.address,
        nonce,
        deadline,
      });
      expect(id).to.equal(commitmentIdOf(provider.address, modelId, inference, digest));

      expect(await op.ledger.teeRecordOf(id)).to.deep.equal({
        enclaveKey: enclave.address,
        operator: provider.address,
        environment,
        mode: "Window",
        teeDeadline: committedAt + TEE_WINDOW,
        fallbackDeadline: committedAt + policy.challengeWindow,
        trustLostAt: 0,
        provenWrong: false,
        withheld: false,
      });
      const flags = (await op.ledger.record(id)).flags;
      expect(hasFlag(flags, RecordFlags.TEE) && hasFlag(flags, RecordFlags.INPUT_PUBLIC)).to.equal(true);
      expect(hasFlag(flags, RecordFlags.TEE_INSTANT)).to.equal(false);
      expect(await op.ledger.finalityOf(id)).to.deep.equal({ status: CommitmentStatus.Pending, finality: "None" });
      await networkHelpers.time.increase(TEE_WINDOW + 1);
      expect(await op.ledger.finalityOf(id)).to.deep.equal({ status: CommitmentStatus.Final, finality: Finality.Tee });

      // Defaults: a random nonce makes another commitment of the same inference.
      const again = await (await op.ledger.commitTee({ modelId, inference, input, enclave, environment })).wait();
      expect(again).to.not.equal(id);
      expect(await op.ledger.status(again)).to.equal(CommitmentStatus.Pending);
      expect(await op.ledger.teeRecordOf(ethers.id("no such record"))).to.equal(undefined);
    });

    it("applies commit's input checks before anything is sent", async () => {
      const { op, model, modelId, enclave, environment, ledger } = await setup();
      const { inference } = inferenceOf(model, 1);
      const block = await ethers.provider.getBlockNumber();
      const wrong = await failure(() =>
        op.ledger.commitTee({ modelId, inference, input: inferenceOf(model, 2).input, enclave, environment }),
      );
      expect(wrong.message).to.equal(
        `commitTee: the input does not hash to the inference's inputHash ${inference.inputHash}`,
      );
      const long = await failure(() =>
        op.ledger.commitTee({ modelId, inference, uri: "x".repeat(257), enclave, environment }),
      );
      expect(long.message).to.match(/^commitTee: the input URI is 257 bytes, the ledger takes at most 256/);
      expect(await ethers.provider.getBlockNumber()).to.equal(block);
      expect(await ledger.queryFilter(ledger.filters.TeeInferenceCommitted())).to.have.length(0);
    });

    it("seals a batch; repeated leaves or a wrong root are refused before anything is sent", async () => {
      const { op, model, modelId, provider, enclave, environment, domain } = await setup();
      const leaves = [1, 2, 3].map((s) => inferenceOf(model, s).inference);
      const root = batchRootOf(leaves);
      const nonce = 7n;
      const deadline = (await now()) + BigInt(HOUR);
      const seal = { enclave, environment, nonce, deadline };
      const batchId = await (
        await op.ledger.commitTeeBatch({ modelId, root, count: 3, dataURI: "ipfs://batch", leaves, ...seal })
      ).wait();
      const binding = teeBatchDigest(domain, modelId, root, 3, {
        environment,
        enclaveKey: enclave.address,
        nonce,
        deadline,
      });
      expect(batchId).to.equal(batchIdOf({ provider: provider.address, modelId, root, count: 3, binding }));
      expect((await op.ledger.teeRecordOf(batchId))?.enclaveKey).to.equal(enclave.address);
      expect((await op.ledger.record(batchId)).kind).to.equal("Batch");

      const block = await ethers.provider.getBlockNumber();
      const twice = [leaves[0], leaves[0]];
      const repeated = await failure(() =>
        op.ledger.commitTeeBatch({ modelId, root: batchRootOf(twice), count: 2, dataURI: "x", leaves: twice, ...seal }),
      );
      expect(repeated.message).to.equal("commitTeeBatch: leaves 0 and 1 are the same inference");
      const mismatch = await failure(() =>
        op.ledger.commitTeeBatch({ modelId, root: ethers.id("r"), count: 3, dataURI: "x", leaves, ...seal }),
      );
      expect(mismatch.message).to.equal(`commitTeeBatch: the leaves build root ${root}, not ${ethers.id("r")}`);
      expect(await ethers.provider.getBlockNumber()).to.equal(block);
    });
  });

  describe("revert decoding of the new errors, with their meaning in user units", () => {
    it("InferenceLedgerSealExpired(deadline) reads the deadline as a date; nothing is committed", async () => {
      const { op, model, modelId, enclave, environment, ledger } = await setup();
      const { inference, input } = inferenceOf(model, 1);
      const deadline = (await now()) - 1n;
      await revert(
        () => op.ledger.commitTee({ modelId, inference, input, enclave, environment, deadline }),
        "InferenceLedgerSealExpired",
        [deadline],
        `the seal's deadline ${formatTime(deadline)} has passed`,
      );
      expect(await ledger.queryFilter(ledger.filters.TeeInferenceCommitted())).to.have.length(0);
    });

    it("InferenceLedgerEnclaveRevoked(key, revokedAt) and EnclaveExpired(key, expiresAt) read times as dates", async () => {
      const { op, model, modelId, enclave, environment, provider, registerEnclave, ledger } = await setup();
      const { inference, input } = inferenceOf(model, 1);
      await (await op.environments.revokeEnclave(enclave.address)).wait();
      const revokedAt = await now();
      await revert(
        () => op.ledger.commitTee({ modelId, inference, input, enclave, environment }),
        "InferenceLedgerEnclaveRevoked",
        [enclave.address, revokedAt],
        `enclave key ${enclave.address} was revoked at ${formatTime(revokedAt)}`,
      );

      const shortLived = await registerEnclave(provider, 1, DAY);
      const expiresAt = BigInt((await op.environments.enclaveOf(shortLived.address))!.expiresAt);
      await networkHelpers.time.increaseTo(expiresAt);
      await revert(
        () => op.ledger.commitTee({ modelId, inference, input, enclave: shortLived, environment }),
        "InferenceLedgerEnclaveExpired",
        [shortLived.address, expiresAt],
        `enclave key ${shortLived.address} expired at ${formatTime(expiresAt)}: register a new key`,
      );
      expect(await ledger.queryFilter(ledger.filters.TeeInferenceCommitted())).to.have.length(0);
    });

    it("InferenceLedgerEnvironmentNotAllowed and SignerMismatch name what was refused", async () => {
      const { op, model, modelId, enclave, approveEnvironment, environment } = await setup();
      const { inference, input } = inferenceOf(model, 1);
      const other = await approveEnvironment(2);
      await revert(
        () => op.ledger.commitTee({ modelId, inference, input, enclave, environment: other }),
        "InferenceLedgerEnvironmentNotAllowed",
        [modelId, other],
        `environment ${other.slice(0, 10)}…${other.slice(-6)} is not allowed for model ${modelId.slice(0, 10)}…${modelId.slice(-6)}`,
      );
      // Another key signs a seal that names the registered key: it recovers to the other key.
      const impostor = Wallet.createRandom();
      const signer = { getAddress: async () => enclave.address, signTypedData: impostor.signTypedData.bind(impostor) };
      await revert(
        () => op.ledger.commitTee({ modelId, inference, input, enclave: signer, environment }),
        "InferenceLedgerSignerMismatch",
        [enclave.address, impostor.address],
        `the seal recovers to ${impostor.address}, not enclave key ${enclave.address} (signed for another chain, ledger or message)`,
      );
    });

    it("EnvironmentRegistryStaleNonce(nonce, issuedAt, expiredAt) reads both times as dates; the key is not registered", async () => {
      const { op, evidenceFor, addresses } = await setup();
      const key = Wallet.createRandom();
      const nonce = await (await op.environments.issueNonce()).wait();
      const issuedAt = await now();
      const evidence = await evidenceFor(key.address, nonce);
      await networkHelpers.time.increase(HOUR);
      const expiresAt = (await now()) + BigInt(DAY);
      await revert(
        () => op.environments.registerEnclave({ verifier: addresses.attestationService, evidence, nonce, expiresAt }),
        "EnvironmentRegistryStaleNonce",
        [nonce, issuedAt, issuedAt + BigInt(HOUR)],
        `the nonce issued at ${formatTime(issuedAt)} expired at ${formatTime(issuedAt + BigInt(HOUR))}: issue a new one`,
      );
      expect(await op.environments.enclaveOf(key.address)).to.equal(undefined);
    });

    it("AttestationServiceVerifierExpiredStatement and ModelRegistryInvalidTeeWindow read in dates and durations", async () => {
      const { op, as, signers, model, evidenceFor, addresses, registry, policy } = await setup();
      const key = Wallet.createRandom();
      const nonce = await (await op.environments.issueNonce()).wait();
      const expiry = (await now()) + 10n;
      const evidence = await evidenceFor(key.address, nonce, 1, { expiry });
      await networkHelpers.time.increase(20);
      const expiresAt = (await now()) + BigInt(DAY);
      const err = await failure(() =>
        op.environments.registerEnclave({ verifier: addresses.attestationService, evidence, nonce, expiresAt }),
      );
      const r = err as VerityRevertError;
      expect(r.errorName).to.equal("AttestationServiceVerifierExpiredStatement");
      expect(r.args[0]).to.equal(expiry);
      expect(r.meaning).to.equal(
        `the service statement expired at ${formatTime(expiry)} (now ${formatTime(r.args[1])})`,
      );
      expect(await op.environments.enclaveOf(key.address)).to.equal(undefined);

      const models = (await registry.queryFilter(registry.filters.ModelRegistered())).length;
      const pub = await as(signers[6]);
      await revert(
        () =>
          pub.registry.registerModel(model, {
            metadataURI: "ipfs://tee",
            policy: { ...policy, teeMode: TeeMode.Window, teeWindow: 30 },
          }),
        "ModelRegistryInvalidTeeWindow",
        [BigInt(TeeMode.Window), 30n, 60n, BigInt(policy.challengeWindow - 1)],
        "a TEE Window window of 30 s is outside 1 min..3599 s",
      );
      expect((await registry.queryFilter(registry.filters.ModelRegistered())).length).to.equal(models);
    });

    it("describes errors from their arguments; errors without a description keep their plain message", () => {
      expect(new VerityRevertError("InferenceLedgerSealExpired", [1_700_000_000n], "0x").message).to.equal(
        "InferenceLedgerSealExpired(1700000000): the seal's deadline 2023-11-14T22:13:20Z has passed",
      );
      expect(meaningOf("EnvironmentRegistryInvalidExpiry", [1_700_000_000n, 1_700_086_400n])).to.equal(
        "key expiry 2023-11-14T22:13:20Z must be in the future and no later than 2023-11-15T22:13:20Z",
      );
      expect(meaningOf("EnvironmentRegistryTcbStatusRejected", [5n])).to.equal(
        "the platform's TCB status OutOfDate is not accepted by governance",
      );
      expect(new VerityRevertError("InferenceLedgerInsufficientStake", ["0x01", 0n, 5n], "0x").message).to.equal(
        "InferenceLedgerInsufficientStake(0x01, 0, 5)",
      );
      expect(tdxMeasurement(1)).to.have.length(2 + 480);
    });
  });
});

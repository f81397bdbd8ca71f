import { expect } from "chai";
import {
  Wallet,
  ZeroAddress,
  concat,
  dataSlice,
  getBytes,
  keccak256,
  solidityPackedKeccak256,
  toUtf8Bytes,
} from "ethers";
import type { ContractTransactionResponse, Signer } from "ethers";
import { network } from "hardhat";
import { TcbStatus } from "../../src/sdk/attestation/index.js";
import { environmentIdOf, reportBindingOf, reportDataOf } from "../../src/protocol/tee.js";
import type { AutomataDcapAdapter, MockAutomataDcapAttestation } from "../../typechain-types/index.js";
import { Bounds, denseSpec, modelIdOfSpec, ModelStatus, plain, TINY_LAYERS, txTime } from "../core/coreFixtures.js";
import { defaultPolicy } from "../helpers/fixtures.js";
import { canonicalMeasurement, sgxQuote, tdxQuote, type TdxQuoteFields } from "../helpers/quotes.js";
import { deployWithTee, TeeKind, TeeMode, tdxMeasurement, type Tee } from "../helpers/teeFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const HOUR = 3600;
const DAY = 24 * HOUR;
const GOVERNOR_ROLE = ethers.id("verity.role.governor");
const NONCE_LIFETIME = HOUR;
const MAX_KEY_LIFETIME = 30 * DAY;
const MAX_ENVIRONMENTS_PER_MODEL = 32;
const MIN_TEE_WINDOW = 60;
/** `EnvironmentStatus` (contracts/types/Environment.sol). */
const EnvStatus = { None: 0n, Approved: 1n, Revoked: 2n } as const;
const SERVICE_KIND = ethers.id("verity.verifier.attestation-service.v1");
const DCAP_KIND = ethers.id("verity.verifier.automata-dcap.v1");
/** `1 << uint8(status)`. */
const bit = (status: TcbStatus) => 1n << BigInt(status);

/** `n` bytes that differ per label, so that a field read at the wrong offset cannot match. */
function pattern(label: string, n: number): string {
  const words: string[] = [];
  for (let i = 0; words.length * 32 < n; i++) words.push(keccak256(toUtf8Bytes(`${label}/${i}`)));
  return dataSlice(concat(words), 0, n);
}

/** A fresh enclave key (a plain Wallet, as the fixture makes them). */
const freshKey = () => new Wallet(Wallet.createRandom().privateKey);

/** Intrinsic gas of a transaction's calldata (EIP-2028), to compare the execution gas of two calls. */
function executionGas(gasUsed: bigint, data: string): bigint {
  let intrinsic = 21_000n;
  for (const b of getBytes(data)) intrinsic += b === 0 ? 4n : 16n;
  return gasUsed - intrinsic;
}

/** The TEE fixture (TDX environment 1 approved and allowed for the MNIST model, Window mode, 10-minute window). */
const windowed = () => deployWithTee(connection, TeeMode.Window);

/** The TEE fixture plus Automata's DCAP verifier (the quote-format mock) behind the adapter, approved. */
async function withDcap() {
  const f = await windowed();
  const automata = (await ethers.deployContract(
    "MockAutomataDcapAttestation",
  )) as unknown as MockAutomataDcapAttestation;
  const adapter = (await ethers.deployContract("AutomataDcapAdapter", [
    await automata.getAddress(),
  ])) as unknown as AutomataDcapAdapter;
  await f.environmentRegistry.connect(f.admin).approveVerifier(await adapter.getAddress());
  const tdx = {
    mrtd: pattern("mrtd", 48),
    rtmrs: [pattern("rtmr0", 48), pattern("rtmr1", 48), pattern("rtmr2", 48), pattern("rtmr3", 48)] as const,
  };
  const sgx = { mrEnclave: pattern("mrenclave", 32), mrSigner: pattern("mrsigner", 32) };
  const tdxMeasured = canonicalMeasurement(tdx);
  const sgxMeasured = canonicalMeasurement(sgx);
  await f.environmentRegistry.connect(f.admin).approveEnvironment(TeeKind.IntelTdx, tdxMeasured, "ipfs://tdx");
  await f.environmentRegistry.connect(f.admin).approveEnvironment(TeeKind.IntelSgx, sgxMeasured, "ipfs://sgx");
  return {
    ...f,
    automata,
    adapter,
    tdx,
    sgx,
    tdxEnv: environmentIdOf(TeeKind.IntelTdx, tdxMeasured),
    sgxEnv: environmentIdOf(TeeKind.IntelSgx, sgxMeasured),
  };
}
type Dcap = Awaited<ReturnType<typeof withDcap>>;

describe("EnvironmentRegistry", () => {
  const latest = async () => (await ethers.provider.getBlock("latest"))!.timestamp;
  const serviceOf = async (f: Tee) => f.attestationService.getAddress();
  const registryOf = async (f: Tee) => f.environmentRegistry.getAddress();

  /** Everything the registry and the ledger's cache say about `keys` and `environments`, to compare before/after. */
  async function state(f: Tee, keys: string[] = [], environments: string[] = [], verifiers: string[] = []) {
    const r = f.environmentRegistry;
    const out: unknown[] = [plain(await r.acceptedTcbStatuses()), await r.revokeOnFraud()];
    for (const k of keys) {
      out.push(plain([await r.enclaveOf(k), await r.isValidEnclave(k), await f.ledger.enclaveTermsOf(k)]));
    }
    for (const e of environments) out.push(plain([await r.environmentOf(e), await f.ledger.environmentTermsOf(e)]));
    for (const v of verifiers) out.push(await r.isApprovedVerifier(v));
    return out;
  }

  /** The 32-byte value `EnvironmentRegistry.issueNonce` returns to `operator`, from its event. */
  const issueNonce = (f: Tee, operator: Signer) => f.issueNonce(operator);

  /**
   * Registers a fresh key (or `key`) for `operator` in TDX environment `n` through the attestation-service
   * verifier, with `expiresAt = latest block + lifetime`.
   */
  async function registerService(
    f: Tee,
    operator: Signer,
    opts: { n?: number; key?: Wallet; lifetime?: number; tcb?: TcbStatus } = {},
  ) {
    const key = opts.key ?? freshKey();
    const nonce = await issueNonce(f, operator);
    const evidence = await f.evidenceFor(key.address, nonce, opts.n ?? 1, { tcb: opts.tcb });
    const expiresAt = (await latest()) + (opts.lifetime ?? 7 * DAY);
    const tx = await f.environmentRegistry
      .connect(operator)
      .registerEnclave(await serviceOf(f), evidence, nonce, expiresAt);
    return { key, nonce, evidence, expiresAt, tx, at: await txTime(ethers, tx) };
  }

  /** Expects `call` to revert with `error(...args)` on `contract` and `state` to be unchanged. */
  async function expectRefused(
    call: () => Promise<ContractTransactionResponse>,
    contract: Parameters<ReturnType<typeof expect>["revertedWithCustomError"]>[0],
    error: string,
    args: unknown[] | null,
    snapshot: () => Promise<unknown>,
  ) {
    const before = await snapshot();
    const assertion = expect(call()).to.be.revertedWithCustomError(contract, error);
    if (args === null) await assertion;
    else await assertion.withArgs(...args);
    expect(await snapshot()).to.deep.equal(before);
  }

  // ------------------------------------------------------------------ environments

  describe("approveEnvironment", () => {
    const cases = [
      { kind: TeeKind.IntelTdx, name: "TDX", length: 240 },
      { kind: TeeKind.IntelSgx, name: "SGX", length: 64 },
      { kind: TeeKind.AwsNitro, name: "Nitro", length: 144 },
    ];
    for (const c of cases) {
      it(`approves a ${c.name} measurement of exactly ${c.length} bytes under keccak256(bytes1(type) ‖ measurement), equal to environmentIdOf, and syncs the ledger`, async () => {
        const f = await networkHelpers.loadFixture(windowed);
        const r = f.environmentRegistry;
        const measurement = pattern(`${c.name}/measurement`, c.length);
        const id = environmentIdOf(c.kind, measurement);
        expect(id).to.equal(solidityPackedKeccak256(["uint8", "bytes"], [c.kind, measurement]));
        expect(await r.environmentIdOf(c.kind, measurement)).to.equal(id);
        expect(await r.connect(f.admin).approveEnvironment.staticCall(c.kind, measurement, "ipfs://x")).to.equal(id);
        // Environment 1 of the fixture holds serial 1.
        const tx = r.connect(f.admin).approveEnvironment(c.kind, measurement, `ipfs://${c.name}`);
        await expect(tx).to.emit(r, "EnvironmentApproved").withArgs(id, c.kind, 2n, measurement, `ipfs://${c.name}`);
        await expect(tx).to.emit(f.ledger, "EnvironmentSynced").withArgs(id, [2n, true]);
        const at = await txTime(ethers, await tx);
        expect(plain(await r.environmentOf(id))).to.deep.equal(
          plain([c.kind, EnvStatus.Approved, false, 2n, at, 0n, measurement, `ipfs://${c.name}`]),
        );
        expect(plain(await f.ledger.environmentTermsOf(id))).to.deep.equal(plain([2n, true]));
      });

      it(`refuses a ${c.name} measurement of ${c.length - 1} or ${c.length + 1} bytes with EnvironmentRegistryInvalidMeasurement`, async () => {
        const f = await networkHelpers.loadFixture(windowed);
        for (const length of [c.length - 1, c.length + 1, 0]) {
          const measurement = pattern("short", length);
          await expectRefused(
            () => f.environmentRegistry.connect(f.admin).approveEnvironment(c.kind, measurement, ""),
            f.environmentRegistry,
            "EnvironmentRegistryInvalidMeasurement",
            [c.kind, length, c.length],
            () => state(f, [], [solidityPackedKeccak256(["uint8", "bytes"], [c.kind, measurement])]),
          );
        }
      });
    }

    it("refuses TeeType None whatever the length (expected length 0) and a measurement of another type's length", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry.connect(f.admin);
      for (const length of [0, 64, 240]) {
        const m = pattern("none", length);
        await expectRefused(
          () => r.approveEnvironment(TeeKind.None, m, ""),
          f.environmentRegistry,
          "EnvironmentRegistryInvalidMeasurement",
          [TeeKind.None, length, 0],
          () => state(f, [], [solidityPackedKeccak256(["uint8", "bytes"], [0, m])]),
        );
      }
      // A TDX measurement is not an SGX one.
      await expect(r.approveEnvironment(TeeKind.IntelSgx, tdxMeasurement(7), ""))
        .to.be.revertedWithCustomError(f.environmentRegistry, "EnvironmentRegistryInvalidMeasurement")
        .withArgs(TeeKind.IntelSgx, 240, 64);
      expect(() => environmentIdOf(TeeKind.None, "0x")).to.throw(/unknown TEE type/);
    });

    it("separates TEE types: the same bytes under another type are another environment", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const m = pattern("shared", 144);
      // 144 bytes are a Nitro measurement; no other type has that length, so compare the ids directly.
      expect(await f.environmentRegistry.environmentIdOf(TeeKind.AwsNitro, m)).to.not.equal(
        await f.environmentRegistry.environmentIdOf(TeeKind.IntelTdx, m),
      );
    });

    it("refuses a duplicate with EnvironmentRegistryEnvironmentExists(id, Approved)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      await expectRefused(
        () => f.environmentRegistry.connect(f.admin).approveEnvironment(TeeKind.IntelTdx, tdxMeasurement(1), "other"),
        f.environmentRegistry,
        "EnvironmentRegistryEnvironmentExists",
        [f.environment, EnvStatus.Approved],
        () => state(f, [], [f.environment]),
      );
    });

    it("keeps a revoked environment revoked: re-approving it reverts EnvironmentRegistryEnvironmentExists(id, Revoked)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      await f.environmentRegistry.connect(f.admin).revokeEnvironment(f.environment);
      await expectRefused(
        () => f.environmentRegistry.connect(f.admin).approveEnvironment(TeeKind.IntelTdx, tdxMeasurement(1), ""),
        f.environmentRegistry,
        "EnvironmentRegistryEnvironmentExists",
        [f.environment, EnvStatus.Revoked],
        () => state(f, [f.enclave.address], [f.environment]),
      );
    });

    it("is GOVERNOR_ROLE only", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const m = tdxMeasurement(9);
      for (const who of [f.publisher, f.provider, f.watcher]) {
        await expectRefused(
          () => f.environmentRegistry.connect(who).approveEnvironment(TeeKind.IntelTdx, m, ""),
          f.environmentRegistry,
          "AccessControlUnauthorizedAccount",
          [who.address, GOVERNOR_ROLE],
          () => state(f, [], [environmentIdOf(TeeKind.IntelTdx, m)]),
        );
      }
    });
  });

  describe("revokeEnvironment", () => {
    it("revokes for good: status Revoked, revokedAt, EnvironmentRevoked(id, false), the ledger's cache unapproved, every key invalid", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      expect(await r.isValidEnclave(f.enclave.address)).to.equal(true);
      const tx = r.connect(f.admin).revokeEnvironment(f.environment);
      await expect(tx).to.emit(r, "EnvironmentRevoked").withArgs(f.environment, false);
      await expect(tx).to.emit(f.ledger, "EnvironmentSynced").withArgs(f.environment, [1n, false]);
      const at = await txTime(ethers, await tx);
      const env = await r.environmentOf(f.environment);
      expect(env.status).to.equal(EnvStatus.Revoked);
      expect(env.revokedAt).to.equal(BigInt(at));
      expect(env.compromised).to.equal(false);
      expect(plain(await f.ledger.environmentTermsOf(f.environment))).to.deep.equal(plain([1n, false]));
      expect(await r.isValidEnclave(f.enclave.address)).to.equal(false);
      // The key itself is untouched: the environment's revocation is what ends trust in it.
      expect((await r.enclaveOf(f.enclave.address)).revokedAt).to.equal(0n);
      expect((await r.enclaveBySerial(1)).trustLostAt).to.equal(BigInt(at));
    });

    it("refuses an unknown environment (UnknownEnvironment), a revoked one (EnvironmentRevoked with its time) and a non-governor", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const ghost = environmentIdOf(TeeKind.IntelTdx, tdxMeasurement(42));
      await expectRefused(
        () => r.connect(f.admin).revokeEnvironment(ghost),
        r,
        "EnvironmentRegistryUnknownEnvironment",
        [ghost],
        () => state(f, [], [ghost]),
      );
      await expectRefused(
        () => r.connect(f.watcher).revokeEnvironment(f.environment),
        r,
        "AccessControlUnauthorizedAccount",
        [f.watcher.address, GOVERNOR_ROLE],
        () => state(f, [f.enclave.address], [f.environment]),
      );
      const at = await txTime(ethers, await r.connect(f.admin).revokeEnvironment(f.environment));
      await expectRefused(
        () => r.connect(f.admin).revokeEnvironment(f.environment),
        r,
        "EnvironmentRegistryEnvironmentRevoked",
        [f.environment, at],
        () => state(f, [f.enclave.address], [f.environment]),
      );
    });

    it("is O(1): revoking an environment of 21 keys invalidates them all in one transaction, for the gas of one with 1 key or none", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry.connect(f.admin);
      const many = [f.enclave];
      for (let i = 0; i < 20; i++) many.push((await registerService(f, i % 2 ? f.provider : f.provider2)).key);
      const single = [await f.approveEnvironment(2)];
      const one = (await registerService(f, f.provider, { n: 2 })).key;
      const empty = await f.approveEnvironment(3);
      for (const k of many) expect(await f.environmentRegistry.isValidEnclave(k.address)).to.equal(true);
      expect(await f.environmentRegistry.isValidEnclave(one.address)).to.equal(true);

      const gasOf = async (env: string) => {
        const tx = await r.revokeEnvironment(env);
        const receipt = (await tx.wait())!;
        return executionGas(receipt.gasUsed, tx.data);
      };
      const gasMany = await gasOf(f.environment);
      const gasOne = await gasOf(single[0]);
      const gasNone = await gasOf(empty);
      expect(gasMany).to.equal(gasOne);
      expect(gasOne).to.equal(gasNone);

      for (const k of many) expect(await f.environmentRegistry.isValidEnclave(k.address)).to.equal(false);
      expect(await f.environmentRegistry.isValidEnclave(one.address)).to.equal(false);
      // The ledger refuses a seal of any of them through the one cached environment word.
      const k = many[20];
      const inference = { inputHash: ethers.id("i"), outputHash: ethers.id("o"), traceRoot: ethers.id("t") };
      const operator = (await f.environmentRegistry.enclaveOf(k.address)).operator;
      const signer = operator === f.provider.address ? f.provider : f.provider2;
      await expect(f.ledger.connect(signer).commitTee(f.modelId, inference, "0x", await f.seal(k, inference)))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerEnvironmentRevoked")
        .withArgs(f.environment);
    });
  });

  // ------------------------------------------------------------------ verifiers and TCB policy

  describe("verifiers", () => {
    it("approves a verifier, recording the kind it names (VerifierApproved), and refuses it twice", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const other = await ethers.deployContract("AttestationServiceVerifier", [f.admin.address]);
      const address = await other.getAddress();
      expect(await r.isApprovedVerifier(address)).to.equal(false);
      await expect(r.connect(f.admin).approveVerifier(address))
        .to.emit(r, "VerifierApproved")
        .withArgs(address, SERVICE_KIND);
      expect(await r.isApprovedVerifier(address)).to.equal(true);
      await expectRefused(
        () => r.connect(f.admin).approveVerifier(address),
        r,
        "EnvironmentRegistryVerifierAlreadyApproved",
        [address],
        () => state(f, [], [], [address]),
      );
    });

    it("records the DCAP adapter's kind", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const events = await f.environmentRegistry.queryFilter(f.environmentRegistry.filters.VerifierApproved());
      expect(events.map((e) => [...e.args])).to.deep.equal([
        [await f.attestationService.getAddress(), SERVICE_KIND],
        [await f.adapter.getAddress(), DCAP_KIND],
      ]);
      expect(await f.adapter.verifierKind()).to.equal(DCAP_KIND);
    });

    it("refuses an address that is not a verifier (no verifierKind) and a non-governor", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      await expect(r.connect(f.admin).approveVerifier(f.watcher.address)).to.be.revertedWithoutReason(ethers);
      await expect(r.connect(f.admin).approveVerifier(await f.ledger.getAddress())).to.be.revertedWithoutReason(ethers);
      expect(await r.isApprovedVerifier(f.watcher.address)).to.equal(false);
      const other = await ethers.deployContract("AttestationServiceVerifier", [f.admin.address]);
      const service = await serviceOf(f);
      const otherAddress = await other.getAddress();
      await expectRefused(
        () => r.connect(f.watcher).approveVerifier(otherAddress),
        r,
        "AccessControlUnauthorizedAccount",
        [f.watcher.address, GOVERNOR_ROLE],
        () => state(f, [], [], [otherAddress, service]),
      );
      await expectRefused(
        () => r.connect(f.provider).revokeVerifier(service),
        r,
        "AccessControlUnauthorizedAccount",
        [f.provider.address, GOVERNOR_ROLE],
        () => state(f, [], [], [otherAddress, service]),
      );
      expect(await r.isApprovedVerifier(await other.getAddress())).to.equal(false);
      expect(await r.isApprovedVerifier(service)).to.equal(true);
    });

    it("revokes a verifier (VerifierRevoked): no key registers through it any more; keys it attested stay valid", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      await expect(r.connect(f.admin).revokeVerifier(service)).to.emit(r, "VerifierRevoked").withArgs(service);
      expect(await r.isApprovedVerifier(service)).to.equal(false);
      expect(await r.isValidEnclave(f.enclave.address)).to.equal(true);
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const evidence = await f.evidenceFor(key.address, nonce);
      const expiresAt = (await latest()) + DAY;
      await expectRefused(
        () => r.connect(f.provider).registerEnclave(service, evidence, nonce, expiresAt),
        r,
        "EnvironmentRegistryVerifierNotApproved",
        [service],
        () => state(f, [key.address], [f.environment], [service]),
      );
      await expectRefused(
        () => r.connect(f.admin).revokeVerifier(service),
        r,
        "EnvironmentRegistryVerifierNotApproved",
        [service],
        () => state(f, [], [], [service]),
      );
      // Approved again, the same evidence and nonce go through (the refusal consumed nothing).
      await r.connect(f.admin).approveVerifier(service);
      await expect(r.connect(f.provider).registerEnclave(service, evidence, nonce, expiresAt)).to.emit(
        r,
        "EnclaveRegistered",
      );
    });

    it("refuses registration through a verifier that was never approved (another attestation-service deployment)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const other = await ethers.deployContract("AttestationServiceVerifier", [f.admin.address]);
      await other.connect(f.admin).approveSecp256k1Signer(f.service.address);
      const address = await other.getAddress();
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const evidence = await f.evidenceFor(key.address, nonce);
      await expectRefused(
        async () =>
          f.environmentRegistry.connect(f.provider).registerEnclave(address, evidence, nonce, (await latest()) + DAY),
        f.environmentRegistry,
        "EnvironmentRegistryVerifierNotApproved",
        [address],
        () => state(f, [key.address], [f.environment], [address]),
      );
    });
  });

  describe("TCB policy", () => {
    it("accepts only UpToDate by default and never Unrecognized or Revoked", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      expect(await f.environmentRegistry.acceptedTcbStatuses()).to.equal(bit(TcbStatus.UpToDate));
    });

    it("refuses masks without UpToDate, with Unrecognized or Revoked, or with bits past Revoked (InvalidTcbPolicy(mask))", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry.connect(f.admin);
      const up = bit(TcbStatus.UpToDate);
      for (const mask of [
        0n,
        bit(TcbStatus.SwHardeningNeeded),
        up | bit(TcbStatus.Unrecognized),
        up | bit(TcbStatus.Revoked),
        up | (1n << 8n),
        up | (1n << 255n),
      ]) {
        await expectRefused(
          () => r.setAcceptedTcbStatuses(mask),
          f.environmentRegistry,
          "EnvironmentRegistryInvalidTcbPolicy",
          [mask],
          () => state(f),
        );
      }
    });

    it("sets a valid mask (TcbPolicyUpdated), the widest being UpToDate..OutOfDateConfigurationNeeded; GOVERNOR_ROLE only", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const widest = 0b0111_1110n;
      await expectRefused(
        () => r.connect(f.watcher).setAcceptedTcbStatuses(widest),
        r,
        "AccessControlUnauthorizedAccount",
        [f.watcher.address, GOVERNOR_ROLE],
        () => state(f),
      );
      await expect(r.connect(f.admin).setAcceptedTcbStatuses(widest)).to.emit(r, "TcbPolicyUpdated").withArgs(widest);
      expect(await r.acceptedTcbStatuses()).to.equal(widest);
      await r.connect(f.admin).setAcceptedTcbStatuses(bit(TcbStatus.UpToDate));
      expect(await r.acceptedTcbStatuses()).to.equal(bit(TcbStatus.UpToDate));
    });

    it("refuses a SwHardeningNeeded attestation by default (TcbStatusRejected) and accepts it once governance allows it", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const evidence = await f.evidenceFor(key.address, nonce, 1, { tcb: TcbStatus.SwHardeningNeeded });
      const expiresAt = (await latest()) + DAY;
      const service = await serviceOf(f);
      await expectRefused(
        () => r.connect(f.provider).registerEnclave(service, evidence, nonce, expiresAt),
        r,
        "EnvironmentRegistryTcbStatusRejected",
        [TcbStatus.SwHardeningNeeded],
        () => state(f, [key.address], [f.environment]),
      );
      await r.connect(f.admin).setAcceptedTcbStatuses(bit(TcbStatus.UpToDate) | bit(TcbStatus.SwHardeningNeeded));
      await expect(r.connect(f.provider).registerEnclave(service, evidence, nonce, expiresAt))
        .to.emit(r, "EnclaveRegistered")
        .withArgs(key.address, f.provider.address, f.environment, 2n, service, TcbStatus.SwHardeningNeeded, expiresAt);
      expect((await r.enclaveOf(key.address)).tcbStatus).to.equal(BigInt(TcbStatus.SwHardeningNeeded));
      // OutOfDate is still refused: the mask allows exactly what it names.
      const nonce2 = await issueNonce(f, f.provider);
      const key2 = freshKey();
      const evidence2 = await f.evidenceFor(key2.address, nonce2, 1, { tcb: TcbStatus.OutOfDate });
      await expect(r.connect(f.provider).registerEnclave(service, evidence2, nonce2, expiresAt))
        .to.be.revertedWithCustomError(r, "EnvironmentRegistryTcbStatusRejected")
        .withArgs(TcbStatus.OutOfDate);
    });

    it("refuses Revoked and Unrecognized attestations even under the widest mask", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      await r.connect(f.admin).setAcceptedTcbStatuses(0b0111_1110n);
      for (const tcb of [TcbStatus.Revoked, TcbStatus.Unrecognized]) {
        const key = freshKey();
        const nonce = await issueNonce(f, f.provider);
        const evidence = await f.evidenceFor(key.address, nonce, 1, { tcb });
        const service = await serviceOf(f);
        await expectRefused(
          async () => r.connect(f.provider).registerEnclave(service, evidence, nonce, (await latest()) + DAY),
          r,
          "EnvironmentRegistryTcbStatusRejected",
          [tcb],
          () => state(f, [key.address], [f.environment]),
        );
      }
    });
  });

  describe("setRevokeOnFraud", () => {
    it("sets and clears the flag (RevokeOnFraudUpdated); GOVERNOR_ROLE only", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      expect(await r.revokeOnFraud()).to.equal(false);
      await expectRefused(
        () => r.connect(f.publisher).setRevokeOnFraud(true),
        r,
        "AccessControlUnauthorizedAccount",
        [f.publisher.address, GOVERNOR_ROLE],
        () => state(f),
      );
      await expect(r.connect(f.admin).setRevokeOnFraud(true)).to.emit(r, "RevokeOnFraudUpdated").withArgs(true);
      expect(await r.revokeOnFraud()).to.equal(true);
      await expect(r.connect(f.admin).setRevokeOnFraud(false)).to.emit(r, "RevokeOnFraudUpdated").withArgs(false);
      expect(await r.revokeOnFraud()).to.equal(false);
    });
  });

  // ------------------------------------------------------------------ nonces

  describe("nonces", () => {
    it("issues distinct nonces bound to the caller and unknown before the previous block (NonceIssued with the time), to anyone", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const seen = new Set<string>();
      // The fixture issued nonce 1 (for its enclave key); these are 2 to 5.
      let counter = 1n;
      for (const who of [f.provider, f.provider, f.provider2, f.watcher]) {
        const tx = await r.connect(who).issueNonce();
        const receipt = await tx.wait();
        const block = await ethers.provider.getBlock(receipt!.blockNumber);
        // keccak256(abi.encode(chainId, registry, caller, counter, blockhash(block.number - 1)))
        const nonce = ethers.keccak256(
          ethers.AbiCoder.defaultAbiCoder().encode(
            ["uint256", "address", "address", "uint64", "bytes32"],
            [f.chainId, await r.getAddress(), who.address, ++counter, block!.parentHash],
          ),
        );
        await expect(tx).to.emit(r, "NonceIssued").withArgs(nonce, who.address, block!.timestamp);
        seen.add(nonce);
      }
      expect(seen.size).to.equal(4);
      expect(await r.NONCE_LIFETIME()).to.equal(BigInt(NONCE_LIFETIME));
      expect(await r.MAX_KEY_LIFETIME()).to.equal(BigInt(MAX_KEY_LIFETIME));
    });

    it("refuses a nonce never issued and another operator's nonce with UnknownNonce(nonce, caller)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      const key = freshKey();
      const expiresAt = (await latest()) + DAY;
      const forged = ethers.id("never issued");
      const forgedEvidence = await f.evidenceFor(key.address, forged);
      await expectRefused(
        () => r.connect(f.provider).registerEnclave(service, forgedEvidence, forged, expiresAt),
        r,
        "EnvironmentRegistryUnknownNonce",
        [forged, f.provider.address],
        () => state(f, [key.address]),
      );
      // provider2's nonce, with evidence bound to it, is still not provider's.
      const theirs = await issueNonce(f, f.provider2);
      const evidence = await f.evidenceFor(key.address, theirs);
      await expectRefused(
        () => r.connect(f.provider).registerEnclave(service, evidence, theirs, expiresAt),
        r,
        "EnvironmentRegistryUnknownNonce",
        [theirs, f.provider.address],
        () => state(f, [key.address]),
      );
      // ... and it stays usable by provider2.
      await expect(r.connect(f.provider2).registerEnclave(service, evidence, theirs, expiresAt))
        .to.emit(r, "EnclaveRegistered")
        .withArgs(key.address, f.provider2.address, f.environment, 2n, service, TcbStatus.UpToDate, expiresAt);
    });

    it("refuses a used nonce with NonceUsed, even for another key", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const { nonce } = await registerService(f, f.provider);
      const key = freshKey();
      const evidence = await f.evidenceFor(key.address, nonce);
      const service = await serviceOf(f);
      await expectRefused(
        async () => r.connect(f.provider).registerEnclave(service, evidence, nonce, (await latest()) + DAY),
        r,
        "EnvironmentRegistryNonceUsed",
        [nonce],
        () => state(f, [key.address]),
      );
    });

    it("accepts a nonce one second before NONCE_LIFETIME and refuses it at exactly NONCE_LIFETIME with StaleNonce(nonce, issuedAt, expiredAt)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      const issue = async () => {
        const tx = await r.connect(f.provider).issueNonce();
        const receipt = (await tx.wait())!;
        const parsed = receipt.logs.map((l) => r.interface.parseLog(l)).find((p) => p?.name === "NonceIssued")!;
        return { nonce: parsed.args.nonce as string, issuedAt: await txTime(ethers, tx) };
      };
      // At exactly issuedAt + NONCE_LIFETIME: refused.
      const stale = await issue();
      const key = freshKey();
      const evidence = await f.evidenceFor(key.address, stale.nonce);
      const expiresAt = stale.issuedAt + 2 * HOUR + DAY;
      await networkHelpers.time.setNextBlockTimestamp(stale.issuedAt + NONCE_LIFETIME);
      await expectRefused(
        () => r.connect(f.provider).registerEnclave(service, evidence, stale.nonce, expiresAt),
        r,
        "EnvironmentRegistryStaleNonce",
        [stale.nonce, stale.issuedAt, stale.issuedAt + NONCE_LIFETIME],
        () => state(f, [key.address]),
      );
      // At issuedAt + NONCE_LIFETIME - 1: accepted.
      const fresh = await issue();
      const key2 = freshKey();
      const evidence2 = await f.evidenceFor(key2.address, fresh.nonce);
      await networkHelpers.time.setNextBlockTimestamp(fresh.issuedAt + NONCE_LIFETIME - 1);
      await expect(
        r.connect(f.provider).registerEnclave(service, evidence2, fresh.nonce, expiresAt + 2 * HOUR),
      ).to.emit(r, "EnclaveRegistered");
    });

    it("binds evidence to its nonce: the same evidence with a fresh nonce is refused (ReportDataMismatch), by its operator or anyone else", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const registry = await registryOf(f);
      const service = await serviceOf(f);
      const key = freshKey();
      const original = await issueNonce(f, f.provider);
      const evidence = await f.evidenceFor(key.address, original);
      const bound = reportBindingOf(f.chainId, registry, key.address, original);
      const expiresAt = (await latest()) + DAY;
      // Before the operator registers it: someone else front-running with their own nonce.
      for (const who of [f.provider2, f.provider]) {
        const fresh = await issueNonce(f, who);
        await expectRefused(
          () => r.connect(who).registerEnclave(service, evidence, fresh, expiresAt),
          r,
          "EnvironmentRegistryReportDataMismatch",
          [bound, reportBindingOf(f.chainId, registry, key.address, fresh)],
          () => state(f, [key.address]),
        );
      }
      // Or with the operator's own nonce: not theirs.
      await expect(r.connect(f.provider2).registerEnclave(service, evidence, original, expiresAt))
        .to.be.revertedWithCustomError(r, "EnvironmentRegistryUnknownNonce")
        .withArgs(original, f.provider2.address);
      await r.connect(f.provider).registerEnclave(service, evidence, original, expiresAt);
      // After: replaying it with a fresh nonce still fails on the binding (before the duplicate-key check).
      const later = await issueNonce(f, f.provider2);
      await expect(r.connect(f.provider2).registerEnclave(service, evidence, later, expiresAt))
        .to.be.revertedWithCustomError(r, "EnvironmentRegistryReportDataMismatch")
        .withArgs(bound, reportBindingOf(f.chainId, registry, key.address, later));
      expect((await r.enclaveOf(key.address)).operator).to.equal(f.provider.address);
    });
  });

  // ------------------------------------------------------------------ registration

  describe("registerEnclave through the attestation-service verifier", () => {
    it("registers the key with its operator, environment, serial, TCB status, verifier and expiry; syncs the ledger; enclaveBySerial", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider2);
      expect(await r.reportDataOf(key.address, nonce)).to.equal(
        reportDataOf(key.address, reportBindingOf(f.chainId, await registryOf(f), key.address, nonce)),
      );
      const evidence = await f.evidenceFor(key.address, nonce);
      const expiresAt = (await latest()) + 3 * DAY;
      expect(await r.connect(f.provider2).registerEnclave.staticCall(service, evidence, nonce, expiresAt)).to.equal(
        key.address,
      );
      const tx = r.connect(f.provider2).registerEnclave(service, evidence, nonce, expiresAt);
      await expect(tx)
        .to.emit(r, "EnclaveRegistered")
        .withArgs(key.address, f.provider2.address, f.environment, 2n, service, TcbStatus.UpToDate, expiresAt);
      await expect(tx)
        .to.emit(f.ledger, "EnclaveSynced")
        .withArgs(key.address, [f.provider2.address, expiresAt, 2n, 1n]);
      const at = await txTime(ethers, await tx);
      expect(plain(await r.enclaveOf(key.address))).to.deep.equal(
        plain([f.provider2.address, at, expiresAt, 0n, 2n, TcbStatus.UpToDate, false, service, f.environment]),
      );
      expect(plain(await f.ledger.enclaveTermsOf(key.address))).to.deep.equal(
        plain([f.provider2.address, expiresAt, 2n, 1n]),
      );
      expect(await r.isValidEnclave(key.address)).to.equal(true);
      expect(plain(await r.enclaveBySerial(2))).to.deep.equal(
        plain([key.address, f.provider2.address, f.environment, 0n]),
      );
      expect(plain(await r.enclaveBySerial(1))).to.deep.equal(
        plain([f.enclave.address, f.provider.address, f.environment, 0n]),
      );
      expect(plain(await r.enclaveBySerial(3))).to.deep.equal(plain([ZeroAddress, ZeroAddress, ethers.ZeroHash, 0n]));
    });

    it("refuses an unstaked operator (OperatorNotStaked), also one who unbonded everything", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      expect(await f.ledger.providerStakeOf(f.watcher.address)).to.equal(0n);
      for (const who of [f.watcher]) {
        const key = freshKey();
        const nonce = await issueNonce(f, who);
        const evidence = await f.evidenceFor(key.address, nonce);
        await expectRefused(
          async () => r.connect(who).registerEnclave(service, evidence, nonce, (await latest()) + DAY),
          r,
          "EnvironmentRegistryOperatorNotStaked",
          [who.address],
          () => state(f, [key.address]),
        );
      }
      await f.stakeManager.connect(f.provider2).requestUnbond(ethers.parseEther("1000"));
      expect(await f.ledger.providerStakeOf(f.provider2.address)).to.equal(0n);
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider2);
      const evidence = await f.evidenceFor(key.address, nonce);
      await expect(r.connect(f.provider2).registerEnclave(service, evidence, nonce, (await latest()) + DAY))
        .to.be.revertedWithCustomError(r, "EnvironmentRegistryOperatorNotStaked")
        .withArgs(f.provider2.address);
    });

    it("refuses an unapproved measurement (UnknownEnvironment) and a revoked one (EnvironmentRevoked)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      const unknown = environmentIdOf(TeeKind.IntelTdx, tdxMeasurement(99));
      const key = freshKey();
      let nonce = await issueNonce(f, f.provider);
      let evidence = await f.evidenceFor(key.address, nonce, 99);
      await expectRefused(
        async () => r.connect(f.provider).registerEnclave(service, evidence, nonce, (await latest()) + DAY),
        r,
        "EnvironmentRegistryUnknownEnvironment",
        [unknown],
        () => state(f, [key.address], [unknown]),
      );
      const revoked = await f.approveEnvironment(2);
      const revokedAt = await txTime(ethers, await r.connect(f.admin).revokeEnvironment(revoked));
      nonce = await issueNonce(f, f.provider);
      evidence = await f.evidenceFor(key.address, nonce, 2);
      await expectRefused(
        async () => r.connect(f.provider).registerEnclave(service, evidence, nonce, (await latest()) + DAY),
        r,
        "EnvironmentRegistryEnvironmentRevoked",
        [revoked, revokedAt],
        () => state(f, [key.address], [revoked]),
      );
    });

    it("refuses a key registered already (EnclaveExists), by its operator or another", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      for (const who of [f.provider, f.provider2]) {
        const nonce = await issueNonce(f, who);
        const evidence = await f.evidenceFor(f.enclave.address, nonce);
        await expectRefused(
          async () => r.connect(who).registerEnclave(service, evidence, nonce, (await latest()) + DAY),
          r,
          "EnvironmentRegistryEnclaveExists",
          [f.enclave.address],
          () => state(f, [f.enclave.address]),
        );
      }
      // A revoked key cannot come back either.
      await r.connect(f.provider).revokeEnclave(f.enclave.address);
      const nonce = await issueNonce(f, f.provider);
      const evidence = await f.evidenceFor(f.enclave.address, nonce);
      await expect(r.connect(f.provider).registerEnclave(service, evidence, nonce, (await latest()) + DAY))
        .to.be.revertedWithCustomError(r, "EnvironmentRegistryEnclaveExists")
        .withArgs(f.enclave.address);
    });

    it("bounds the expiry: after now, at most now + MAX_KEY_LIFETIME and not after the verifier's notAfter (InvalidExpiry(expiresAt, latest))", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const service = await serviceOf(f);
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const t = (await latest()) + 100;
      // The statement vouches until t + 40 days: the key's lifetime bound (30 days) applies.
      const longEvidence = await f.evidenceFor(key.address, nonce, 1, { expiry: BigInt(t + 40 * DAY) });
      const attempt = async (expiresAt: number, latestAllowed: number) => {
        await networkHelpers.time.setNextBlockTimestamp(t);
        await expectRefused(
          () => r.connect(f.provider).registerEnclave(service, longEvidence, nonce, expiresAt),
          r,
          "EnvironmentRegistryInvalidExpiry",
          [expiresAt, latestAllowed],
          () => state(f, [key.address]),
        );
      };
      await attempt(t, t + MAX_KEY_LIFETIME); // now: not in the future
      await attempt(t - 1, t + MAX_KEY_LIFETIME); // the past
      await attempt(0, t + MAX_KEY_LIFETIME);
      await attempt(t + MAX_KEY_LIFETIME + 1, t + MAX_KEY_LIFETIME); // beyond 30 days
      await networkHelpers.time.setNextBlockTimestamp(t);
      await expect(r.connect(f.provider).registerEnclave(service, longEvidence, nonce, t + MAX_KEY_LIFETIME))
        .to.emit(r, "EnclaveRegistered")
        .withArgs(
          key.address,
          f.provider.address,
          f.environment,
          2n,
          service,
          TcbStatus.UpToDate,
          t + MAX_KEY_LIFETIME,
        );

      // The statement vouches until t2 + 2 days: that bounds the key.
      const key2 = freshKey();
      const nonce2 = await issueNonce(f, f.provider);
      const t2 = (await latest()) + 100;
      const notAfter = t2 + 2 * DAY;
      const shortEvidence = await f.evidenceFor(key2.address, nonce2, 1, { expiry: BigInt(notAfter) });
      await networkHelpers.time.setNextBlockTimestamp(t2);
      await expectRefused(
        () => r.connect(f.provider).registerEnclave(service, shortEvidence, nonce2, notAfter + 1),
        r,
        "EnvironmentRegistryInvalidExpiry",
        [notAfter + 1, notAfter],
        () => state(f, [key2.address]),
      );
      await networkHelpers.time.setNextBlockTimestamp(t2);
      await expect(r.connect(f.provider).registerEnclave(service, shortEvidence, nonce2, notAfter)).to.emit(
        r,
        "EnclaveRegistered",
      );
      expect((await r.enclaveOf(key2.address)).expiresAt).to.equal(BigInt(notAfter));
    });

    it("passes the verifier's own refusal through (an expired statement)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const expiry = (await latest()) + 10;
      const evidence = await f.evidenceFor(key.address, nonce, 1, { expiry: BigInt(expiry) });
      await networkHelpers.time.setNextBlockTimestamp(expiry);
      await expect(
        f.environmentRegistry.connect(f.provider).registerEnclave(await serviceOf(f), evidence, nonce, expiry + DAY),
      )
        .to.be.revertedWithCustomError(f.attestationService, "AttestationServiceVerifierExpiredStatement")
        .withArgs(expiry, expiry);
    });
  });

  describe("registerEnclave through the Automata DCAP adapter", () => {
    /** A v4 TDX quote of the fixture's approved TDX measurement whose report data binds `key` and `nonce`. */
    async function tdxEvidence(f: Dcap, key: string, nonce: string, overrides: Partial<TdxQuoteFields> = {}) {
      const binding = reportBindingOf(f.chainId, await registryOf(f), key, nonce);
      return tdxQuote({ ...f.tdx, reportData: reportDataOf(key, binding), ...overrides });
    }
    async function sgxEvidence(f: Dcap, key: string, nonce: string) {
      const binding = reportBindingOf(f.chainId, await registryOf(f), key, nonce);
      return sgxQuote({ ...f.sgx, reportData: reportDataOf(key, binding) });
    }

    it("registers a key from a TDX quote: MRTD ‖ RTMR0..3 is the approved environment, notAfter unbounded (30 days apply)", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const adapter = await f.adapter.getAddress();
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const quote = await tdxEvidence(f, key.address, nonce);
      const t = (await latest()) + 10;
      await networkHelpers.time.setNextBlockTimestamp(t);
      await expect(r.connect(f.provider).registerEnclave(adapter, quote, nonce, t + MAX_KEY_LIFETIME + 1))
        .to.be.revertedWithCustomError(r, "EnvironmentRegistryInvalidExpiry")
        .withArgs(t + MAX_KEY_LIFETIME + 1, t + MAX_KEY_LIFETIME);
      await networkHelpers.time.setNextBlockTimestamp(t + 1);
      const expiresAt = t + 1 + MAX_KEY_LIFETIME;
      const tx = r.connect(f.provider).registerEnclave(adapter, quote, nonce, expiresAt);
      await expect(tx)
        .to.emit(r, "EnclaveRegistered")
        .withArgs(key.address, f.provider.address, f.tdxEnv, 2n, adapter, TcbStatus.UpToDate, expiresAt);
      await expect(tx).to.emit(f.automata, "AttestationSubmitted");
      const e = await r.enclaveOf(key.address);
      expect(e.environment).to.equal(f.tdxEnv);
      expect(e.verifier).to.equal(adapter);
      // The environment's serial in the ledger's cache: TDX 1 (fixture) = 1, this TDX = 2, SGX = 3.
      expect(plain(await f.ledger.enclaveTermsOf(key.address))).to.deep.equal(
        plain([f.provider.address, expiresAt, 2n, 2n]),
      );
      expect(await r.isValidEnclave(key.address)).to.equal(true);
    });

    it("registers a key from an SGX quote: MRENCLAVE ‖ MRSIGNER", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const adapter = await f.adapter.getAddress();
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider2);
      const expiresAt = (await latest()) + DAY;
      await expect(
        r.connect(f.provider2).registerEnclave(adapter, await sgxEvidence(f, key.address, nonce), nonce, expiresAt),
      )
        .to.emit(r, "EnclaveRegistered")
        .withArgs(key.address, f.provider2.address, f.sgxEnv, 2n, adapter, TcbStatus.UpToDate, expiresAt);
      expect(plain(await f.ledger.enclaveTermsOf(key.address))).to.deep.equal(
        plain([f.provider2.address, expiresAt, 2n, 3n]),
      );
    });

    it("refuses report data binding another nonce, chain, registry or key (ReportDataMismatch(given, expected))", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const adapter = await f.adapter.getAddress();
      const registry = await registryOf(f);
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const expected = reportBindingOf(f.chainId, registry, key.address, nonce);
      const otherNonce = await issueNonce(f, f.provider);
      for (const wrong of [
        reportBindingOf(f.chainId, registry, key.address, otherNonce),
        reportBindingOf(f.chainId + 1n, registry, key.address, nonce),
        reportBindingOf(f.chainId, await f.ledger.getAddress(), key.address, nonce),
        reportBindingOf(f.chainId, registry, f.enclave.address, nonce),
      ]) {
        const quote = tdxQuote({ ...f.tdx, reportData: reportDataOf(key.address, wrong) });
        await expectRefused(
          async () => r.connect(f.provider).registerEnclave(adapter, quote, nonce, (await latest()) + DAY),
          r,
          "EnvironmentRegistryReportDataMismatch",
          [wrong, expected],
          () => state(f, [key.address]),
        );
      }
      // The nonce survived every refusal.
      await expect(
        r
          .connect(f.provider)
          .registerEnclave(adapter, await tdxEvidence(f, key.address, nonce), nonce, (await latest()) + DAY),
      ).to.emit(r, "EnclaveRegistered");
    });

    it("refuses a zero key in the report data (ZeroKey)", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const nonce = await issueNonce(f, f.provider);
      const quote = await tdxEvidence(f, ZeroAddress, nonce);
      await expectRefused(
        async () => r.connect(f.provider).registerEnclave(f.adapter.getAddress(), quote, nonce, (await latest()) + DAY),
        r,
        "EnvironmentRegistryZeroKey",
        [],
        () => state(f, [ZeroAddress]),
      );
    });

    it("refuses a quote of an unapproved measurement (one RTMR changed) and of a revoked one", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const adapter = await f.adapter.getAddress();
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const rtmrs = [f.tdx.rtmrs[0], f.tdx.rtmrs[1], f.tdx.rtmrs[2], pattern("other rtmr3", 48)] as const;
      const changed = environmentIdOf(TeeKind.IntelTdx, canonicalMeasurement({ mrtd: f.tdx.mrtd, rtmrs }));
      await expectRefused(
        async () =>
          r
            .connect(f.provider)
            .registerEnclave(
              adapter,
              await tdxEvidence(f, key.address, nonce, { rtmrs }),
              nonce,
              (await latest()) + DAY,
            ),
        r,
        "EnvironmentRegistryUnknownEnvironment",
        [changed],
        () => state(f, [key.address], [changed]),
      );
      const revokedAt = await txTime(ethers, await r.connect(f.admin).revokeEnvironment(f.sgxEnv));
      await expectRefused(
        async () =>
          r
            .connect(f.provider)
            .registerEnclave(adapter, await sgxEvidence(f, key.address, nonce), nonce, (await latest()) + DAY),
        r,
        "EnvironmentRegistryEnvironmentRevoked",
        [f.sgxEnv, revokedAt],
        () => state(f, [key.address], [f.sgxEnv]),
      );
    });

    it("maps Automata's SwHardeningNeeded to the TCB policy: refused by default, accepted once allowed", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const adapter = await f.adapter.getAddress();
      await f.automata.setTcbStatus(1); // Automata's SW_HARDENING_NEEDED
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const quote = await tdxEvidence(f, key.address, nonce);
      const expiresAt = (await latest()) + DAY;
      await expectRefused(
        () => r.connect(f.provider).registerEnclave(adapter, quote, nonce, expiresAt),
        r,
        "EnvironmentRegistryTcbStatusRejected",
        [TcbStatus.SwHardeningNeeded],
        () => state(f, [key.address]),
      );
      await r.connect(f.admin).setAcceptedTcbStatuses(bit(TcbStatus.UpToDate) | bit(TcbStatus.SwHardeningNeeded));
      await expect(r.connect(f.provider).registerEnclave(adapter, quote, nonce, expiresAt))
        .to.emit(r, "EnclaveRegistered")
        .withArgs(key.address, f.provider.address, f.tdxEnv, 2n, adapter, TcbStatus.SwHardeningNeeded, expiresAt);
    });

    it("refuses an unstaked operator before anything else, and a quote Automata rejects with the adapter's error", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const adapter = await f.adapter.getAddress();
      const key = freshKey();
      const nonce = await issueNonce(f, f.watcher);
      const quote = await tdxEvidence(f, key.address, nonce);
      await expectRefused(
        async () => r.connect(f.watcher).registerEnclave(adapter, quote, nonce, (await latest()) + DAY),
        r,
        "EnvironmentRegistryOperatorNotStaked",
        [f.watcher.address],
        () => state(f, [key.address]),
      );
      await f.automata.setFailure("ATTVE");
      const mine = await issueNonce(f, f.provider);
      await expect(
        r
          .connect(f.provider)
          .registerEnclave(adapter, await tdxEvidence(f, key.address, mine), mine, (await latest()) + DAY),
      )
        .to.be.revertedWithCustomError(f.adapter, "AutomataDcapAdapterVerificationFailed")
        .withArgs(ethers.hexlify(toUtf8Bytes("ATTVE")));
    });

    it("refuses registration through the adapter once it is revoked", async () => {
      const f = await networkHelpers.loadFixture(withDcap);
      const r = f.environmentRegistry;
      const adapter = await f.adapter.getAddress();
      await r.connect(f.admin).revokeVerifier(adapter);
      const key = freshKey();
      const nonce = await issueNonce(f, f.provider);
      const quote = await tdxEvidence(f, key.address, nonce);
      await expectRefused(
        async () => r.connect(f.provider).registerEnclave(adapter, quote, nonce, (await latest()) + DAY),
        r,
        "EnvironmentRegistryVerifierNotApproved",
        [adapter],
        () => state(f, [key.address], [], [adapter]),
      );
    });
  });

  // ------------------------------------------------------------------ revocation of keys

  describe("revokeEnclave", () => {
    it("lets the operator revoke its key: EnclaveRevoked(key, operator, false), revokedAt, the ledger's validUntil, trustLostAt", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const key = f.enclave.address;
      const before = await r.enclaveOf(key);
      const tx = r.connect(f.provider).revokeEnclave(key);
      await expect(tx).to.emit(r, "EnclaveRevoked").withArgs(key, f.provider.address, false);
      const at = await txTime(ethers, await tx);
      await expect(tx).to.emit(f.ledger, "EnclaveSynced").withArgs(key, [f.provider.address, at, 1n, 1n]);
      const after = await r.enclaveOf(key);
      expect(after.revokedAt).to.equal(BigInt(at));
      expect(after.revokedForFraud).to.equal(false);
      expect(after.expiresAt).to.equal(before.expiresAt);
      expect(plain(await f.ledger.enclaveTermsOf(key))).to.deep.equal(plain([f.provider.address, at, 1n, 1n]));
      expect(await r.isValidEnclave(key)).to.equal(false);
      expect(plain(await r.enclaveBySerial(1))).to.deep.equal(plain([key, f.provider.address, f.environment, at]));
    });

    it("lets a governor revoke any key: EnclaveRevoked(key, governor, false)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const tx = r.connect(f.admin).revokeEnclave(f.enclave.address);
      await expect(tx).to.emit(r, "EnclaveRevoked").withArgs(f.enclave.address, f.admin.address, false);
      expect((await r.enclaveOf(f.enclave.address)).revokedAt).to.equal(BigInt(await txTime(ethers, await tx)));
    });

    it("refuses a stranger and another operator (NotOperator), an unknown key (UnknownEnclave) and a second revocation (EnclaveRevoked)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const key = f.enclave.address;
      for (const who of [f.watcher, f.provider2, f.publisher]) {
        await expectRefused(
          () => r.connect(who).revokeEnclave(key),
          r,
          "EnvironmentRegistryNotOperator",
          [key, who.address],
          () => state(f, [key], [f.environment]),
        );
      }
      const ghost = freshKey().address;
      await expectRefused(
        () => r.connect(f.admin).revokeEnclave(ghost),
        r,
        "EnvironmentRegistryUnknownEnclave",
        [ghost],
        () => state(f, [ghost]),
      );
      const at = await txTime(ethers, await r.connect(f.provider).revokeEnclave(key));
      for (const who of [f.provider, f.admin]) {
        await expectRefused(
          () => r.connect(who).revokeEnclave(key),
          r,
          "EnvironmentRegistryEnclaveRevoked",
          [key, at],
          () => state(f, [key], [f.environment]),
        );
      }
    });

    it("trustLostAt is the earlier of the key's and the environment's revocation; expiry is not a loss of trust", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      // Key first (serial 1), then its environment.
      const keyAt = await txTime(ethers, await r.connect(f.provider).revokeEnclave(f.enclave.address));
      // Environment 2 first, then its key (serial 2).
      const env2 = await f.approveEnvironment(2);
      const second = await registerService(f, f.provider, { n: 2 });
      // A key of environment 3 that only expires (serial 3).
      await f.approveEnvironment(3);
      const third = await registerService(f, f.provider, { n: 3, lifetime: HOUR });
      await networkHelpers.time.increase(60);
      const env2At = await txTime(ethers, await r.connect(f.admin).revokeEnvironment(env2));
      await networkHelpers.time.increase(60);
      const envAt = await txTime(ethers, await r.connect(f.admin).revokeEnvironment(f.environment));
      await r.connect(f.provider).revokeEnclave(second.key.address);
      expect(keyAt).to.be.lessThan(envAt);
      expect((await r.enclaveBySerial(1)).trustLostAt).to.equal(BigInt(keyAt));
      expect((await r.enclaveOf(second.key.address)).revokedAt).to.be.greaterThan(BigInt(env2At));
      expect((await r.enclaveBySerial(2)).trustLostAt).to.equal(BigInt(env2At));

      expect(await r.isValidEnclave(third.key.address)).to.equal(true);
      await networkHelpers.time.increaseTo(third.expiresAt);
      expect(await r.isValidEnclave(third.key.address)).to.equal(false);
      expect((await r.enclaveBySerial(3)).trustLostAt).to.equal(0n);
      // An expired key can still be revoked; then trust is lost at that time.
      const revokedAt = await txTime(ethers, await r.connect(f.admin).revokeEnclave(third.key.address));
      expect((await r.enclaveBySerial(3)).trustLostAt).to.equal(BigInt(revokedAt));
    });
  });

  // ------------------------------------------------------------------ fraud

  describe("reportFraud", () => {
    async function asLedger(f: Tee) {
      const address = await f.ledger.getAddress();
      await networkHelpers.impersonateAccount(address);
      await networkHelpers.setBalance(address, ethers.parseEther("1"));
      return ethers.getSigner(address);
    }

    it("is callable only by the ledger (NotLedger(caller)), not by governance or the operator", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      for (const who of [f.admin, f.provider, f.watcher]) {
        await expectRefused(
          () => r.connect(who).reportFraud(1, ethers.id("commitment"), true),
          r,
          "EnvironmentRegistryNotLedger",
          [who.address],
          () => state(f, [f.enclave.address], [f.environment]),
        );
      }
    });

    it("from the ledger: revokes the key for fraud and marks the environment compromised, keeping it approved by default", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      const ledger = await asLedger(f);
      const cid = ethers.id("commitment");
      const tx = r.connect(ledger).reportFraud(1, cid, true);
      await expect(tx).to.emit(r, "EnclaveRevoked").withArgs(f.enclave.address, ledger.address, true);
      await expect(tx).to.emit(r, "EnvironmentCompromised").withArgs(f.environment, f.enclave.address, cid);
      await expect(tx).to.not.emit(r, "EnvironmentRevoked");
      const at = await txTime(ethers, await tx);
      const e = await r.enclaveOf(f.enclave.address);
      expect([e.revokedAt, e.revokedForFraud]).to.deep.equal([BigInt(at), true]);
      const env = await r.environmentOf(f.environment);
      expect([env.status, env.compromised, env.revokedAt]).to.deep.equal([EnvStatus.Approved, true, 0n]);
      expect(plain(await f.ledger.enclaveTermsOf(f.enclave.address))).to.deep.equal(
        plain([f.provider.address, at, 1n, 1n]),
      );
    });

    it("a game lost by silence (byProof false): revokes the key, not for fraud, and leaves the environment alone even with revokeOnFraud", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      await r.connect(f.admin).setRevokeOnFraud(true);
      const ledger = await asLedger(f);
      const tx = r.connect(ledger).reportFraud(1, ethers.id("silent"), false);
      await expect(tx).to.emit(r, "EnclaveRevoked").withArgs(f.enclave.address, ledger.address, false);
      await expect(tx).to.not.emit(r, "EnvironmentCompromised");
      await expect(tx).to.not.emit(r, "EnvironmentRevoked");
      const e = await r.enclaveOf(f.enclave.address);
      expect([e.revokedAt, e.revokedForFraud]).to.deep.equal([BigInt(await txTime(ethers, await tx)), false]);
      const env = await r.environmentOf(f.environment);
      expect([env.status, env.compromised]).to.deep.equal([EnvStatus.Approved, false]);
    });

    it("with revokeOnFraud: also revokes the environment (EnvironmentRevoked(id, true)); a key revoked earlier keeps its time", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const r = f.environmentRegistry;
      await r.connect(f.admin).setRevokeOnFraud(true);
      const keyAt = await txTime(ethers, await r.connect(f.provider).revokeEnclave(f.enclave.address));
      const ledger = await asLedger(f);
      const tx = r.connect(ledger).reportFraud(1, ethers.id("c"), true);
      await expect(tx).to.emit(r, "EnvironmentRevoked").withArgs(f.environment, true);
      await expect(tx).to.emit(f.ledger, "EnvironmentSynced").withArgs(f.environment, [1n, false]);
      await expect(tx).to.not.emit(r, "EnclaveRevoked");
      const at = await txTime(ethers, await tx);
      const e = await r.enclaveOf(f.enclave.address);
      expect([e.revokedAt, e.revokedForFraud]).to.deep.equal([BigInt(keyAt), true]);
      const env = await r.environmentOf(f.environment);
      expect([env.status, env.compromised, env.revokedAt]).to.deep.equal([EnvStatus.Revoked, true, BigInt(at)]);
      // A second fraud in the revoked environment does not revoke it again.
      const second = await asLedger(f);
      await expect(r.connect(second).reportFraud(1, ethers.id("c2"), true)).to.not.emit(r, "EnvironmentRevoked");
    });
  });

  // ------------------------------------------------------------------ ModelRegistry environment sets

  describe("ModelRegistry environment sets", () => {
    it("lists the fixture's environment, allowed by the publisher, with its TEE terms in the ledger", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      expect(await f.registry.environmentsOf(f.modelId)).to.deep.equal([f.environment]);
      expect(await f.registry.isEnvironmentAllowed(f.modelId, f.environment)).to.equal(true);
      expect(plain(await f.ledger.teeTermsOf(f.modelId, f.environment))).to.deep.equal(
        plain([TeeMode.Window, 10 * 60]),
      );
    });

    /** The registry's and the ledger's view of `modelId`'s environment set, for `environments`. */
    async function setState(f: Tee, modelId: string, environments: string[]) {
      const out: unknown[] = [await f.registry.environmentsOf(modelId)];
      for (const e of environments) {
        out.push(await f.registry.isEnvironmentAllowed(modelId, e), plain(await f.ledger.teeTermsOf(modelId, e)));
      }
      return out;
    }

    for (const who of ["publisher", "admin"] as const) {
      it(`lets the ${who === "admin" ? "governor" : "publisher"} allow and disallow an environment, syncing the ledger (and zeroing it)`, async () => {
        const f = await networkHelpers.loadFixture(windowed);
        const signer = f[who];
        const env = await f.approveEnvironment(2);
        const tx = f.registry.connect(signer).allowEnvironment(f.modelId, env);
        await expect(tx).to.emit(f.registry, "EnvironmentAllowed").withArgs(f.modelId, env, signer.address);
        await expect(tx).to.emit(f.ledger, "TeeTermsSynced").withArgs(f.modelId, env, [TeeMode.Window, 600]);
        expect(await f.registry.environmentsOf(f.modelId)).to.deep.equal([f.environment, env]);
        expect(await f.registry.isEnvironmentAllowed(f.modelId, env)).to.equal(true);
        expect(plain(await f.ledger.teeTermsOf(f.modelId, env))).to.deep.equal(plain([TeeMode.Window, 600]));

        const off = f.registry.connect(signer).disallowEnvironment(f.modelId, f.environment);
        await expect(off)
          .to.emit(f.registry, "EnvironmentDisallowed")
          .withArgs(f.modelId, f.environment, signer.address);
        await expect(off).to.emit(f.ledger, "TeeTermsSynced").withArgs(f.modelId, f.environment, [TeeMode.None, 0]);
        expect(await f.registry.environmentsOf(f.modelId)).to.deep.equal([env]);
        expect(await f.registry.isEnvironmentAllowed(f.modelId, f.environment)).to.equal(false);
        expect(plain(await f.ledger.teeTermsOf(f.modelId, f.environment))).to.deep.equal(plain([0n, 0n]));
        // The policy is unchanged.
        expect(plain(await f.registry.policyOf(f.modelId))).to.deep.equal(
          plain(Object.values({ ...defaultPolicy(ethers), teeMode: TeeMode.Window, teeWindow: 600 })),
        );
      });
    }

    it("refuses a stranger and another provider (ModelRegistryNotPublisher) and an unknown model", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const env = await f.approveEnvironment(2);
      for (const who of [f.watcher, f.provider]) {
        await expectRefused(
          () => f.registry.connect(who).allowEnvironment(f.modelId, env),
          f.registry,
          "ModelRegistryNotPublisher",
          [f.modelId, who.address],
          () => setState(f, f.modelId, [env, f.environment]),
        );
        await expectRefused(
          () => f.registry.connect(who).disallowEnvironment(f.modelId, f.environment),
          f.registry,
          "ModelRegistryNotPublisher",
          [f.modelId, who.address],
          () => setState(f, f.modelId, [env, f.environment]),
        );
      }
      const ghost = ethers.id("ghost model");
      for (const call of [
        () => f.registry.connect(f.publisher).allowEnvironment(ghost, env),
        () => f.registry.connect(f.publisher).disallowEnvironment(ghost, env),
      ]) {
        await expectRefused(call, f.registry, "ModelRegistryUnknownModel", [ghost], () => setState(f, ghost, [env]));
      }
    });

    it("refuses a model registered with teeMode None (ModelRegistryTeeNotAccepted), for its publisher and governance", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const spec = denseSpec(ethers, "no-tee", TINY_LAYERS);
      await f.registry.connect(f.publisher).registerModel(spec, defaultPolicy(ethers));
      const id = modelIdOfSpec(f.publisher.address, spec);
      for (const who of [f.publisher, f.admin]) {
        await expectRefused(
          () => f.registry.connect(who).allowEnvironment(id, f.environment),
          f.registry,
          "ModelRegistryTeeNotAccepted",
          [id],
          () => setState(f, id, [f.environment]),
        );
      }
    });

    it("refuses an unapproved or revoked environment (ModelRegistryEnvironmentNotApproved) and a duplicate (ModelRegistryEnvironmentAllowed)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const unknown = environmentIdOf(TeeKind.IntelTdx, tdxMeasurement(50));
      const revoked = await f.approveEnvironment(2);
      await f.environmentRegistry.connect(f.admin).revokeEnvironment(revoked);
      for (const env of [unknown, revoked, ethers.ZeroHash]) {
        await expectRefused(
          () => f.registry.connect(f.publisher).allowEnvironment(f.modelId, env),
          f.registry,
          "ModelRegistryEnvironmentNotApproved",
          [env],
          () => setState(f, f.modelId, [env]),
        );
      }
      await expectRefused(
        () => f.registry.connect(f.publisher).allowEnvironment(f.modelId, f.environment),
        f.registry,
        "ModelRegistryEnvironmentAllowed",
        [f.modelId, f.environment],
        () => setState(f, f.modelId, [f.environment]),
      );
    });

    it("refuses to disallow an environment that is not allowed (ModelRegistryEnvironmentNotAllowed), also twice", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const env = await f.approveEnvironment(2);
      await expectRefused(
        () => f.registry.connect(f.publisher).disallowEnvironment(f.modelId, env),
        f.registry,
        "ModelRegistryEnvironmentNotAllowed",
        [f.modelId, env],
        () => setState(f, f.modelId, [env, f.environment]),
      );
      await f.registry.connect(f.publisher).disallowEnvironment(f.modelId, f.environment);
      await expectRefused(
        () => f.registry.connect(f.admin).disallowEnvironment(f.modelId, f.environment),
        f.registry,
        "ModelRegistryEnvironmentNotAllowed",
        [f.modelId, f.environment],
        () => setState(f, f.modelId, [env, f.environment]),
      );
      // An environment revoked after it was allowed can still be disallowed.
      await f.registry.connect(f.publisher).allowEnvironment(f.modelId, env);
      await f.environmentRegistry.connect(f.admin).revokeEnvironment(env);
      await f.registry.connect(f.publisher).disallowEnvironment(f.modelId, env);
      expect(await f.registry.environmentsOf(f.modelId)).to.deep.equal([]);
    });

    it("allows 32 environments and refuses the 33rd with ModelRegistryTooManyEnvironments(modelId, 32)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      expect(await f.registry.MAX_ENVIRONMENTS_PER_MODEL()).to.equal(BigInt(MAX_ENVIRONMENTS_PER_MODEL));
      const allowed = [f.environment];
      for (let n = 2; n <= MAX_ENVIRONMENTS_PER_MODEL; n++) {
        const env = await f.approveEnvironment(n);
        await f.registry.connect(f.publisher).allowEnvironment(f.modelId, env);
        allowed.push(env);
      }
      expect(await f.registry.environmentsOf(f.modelId)).to.deep.equal(allowed);
      const extra = await f.approveEnvironment(MAX_ENVIRONMENTS_PER_MODEL + 1);
      for (const who of [f.publisher, f.admin]) {
        await expectRefused(
          () => f.registry.connect(who).allowEnvironment(f.modelId, extra),
          f.registry,
          "ModelRegistryTooManyEnvironments",
          [f.modelId, MAX_ENVIRONMENTS_PER_MODEL],
          () => setState(f, f.modelId, [extra]),
        );
      }
      // The bound is on the current size: one out, another in.
      await f.registry.connect(f.publisher).disallowEnvironment(f.modelId, allowed[5]);
      await f.registry.connect(f.publisher).allowEnvironment(f.modelId, extra);
      expect(await f.registry.environmentsOf(f.modelId)).to.have.length(MAX_ENVIRONMENTS_PER_MODEL);
      expect(await f.registry.isEnvironmentAllowed(f.modelId, extra)).to.equal(true);
    });

    it("copies an Instant model's accountability period into the ledger's TEE terms", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const spec = denseSpec(ethers, "instant", TINY_LAYERS);
      await f.registry
        .connect(f.publisher)
        .registerModel(spec, { ...defaultPolicy(ethers), teeMode: TeeMode.Instant, teeWindow: DAY });
      const id = modelIdOfSpec(f.publisher.address, spec);
      expect(await f.registry.environmentsOf(id)).to.deep.equal([]);
      await expect(f.registry.connect(f.admin).allowEnvironment(id, f.environment))
        .to.emit(f.ledger, "TeeTermsSynced")
        .withArgs(id, f.environment, [TeeMode.Instant, DAY]);
      expect(plain(await f.ledger.teeTermsOf(id, f.environment))).to.deep.equal(plain([TeeMode.Instant, DAY]));
      // Sets are per model: the fixture model's is unchanged.
      expect(await f.registry.environmentsOf(f.modelId)).to.deep.equal([f.environment]);
    });

    it("refuses with ModelRegistryNoEnvironmentRegistry on a ledger that bound none", async () => {
      const [admin, publisher] = await ethers.getSigners();
      const ledger = await ethers.deployContract("InferenceLedger", [admin.address]);
      const registry = await ethers.deployContract("ModelRegistry", [admin.address, await ledger.getAddress(), 1n]);
      await ledger.bindSources(await registry.getAddress(), admin.address);
      const spec = denseSpec(ethers, "unbound", TINY_LAYERS);
      await registry
        .connect(publisher)
        .registerModel(spec, { ...defaultPolicy(ethers), teeMode: TeeMode.Window, teeWindow: 600 });
      const id = modelIdOfSpec(publisher.address, spec);
      await expect(registry.connect(publisher).allowEnvironment(id, ethers.id("env"))).to.be.revertedWithCustomError(
        registry,
        "ModelRegistryNoEnvironmentRegistry",
      );
      expect(await registry.environmentsOf(id)).to.deep.equal([]);
    });
  });

  describe("ModelRegistry TEE policy", () => {
    const CW = HOUR; // defaultPolicy's challenge window
    const cases = [
      { mode: TeeMode.None, ok: [0], bad: [1, 600], min: 0, max: 0 },
      {
        mode: TeeMode.Window,
        ok: [MIN_TEE_WINDOW, CW - 1],
        bad: [0, MIN_TEE_WINDOW - 1, CW, CW + 1],
        min: 60,
        max: CW - 1,
      },
      {
        mode: TeeMode.Instant,
        ok: [0, Bounds.MAX_CHALLENGE_WINDOW],
        bad: [Bounds.MAX_CHALLENGE_WINDOW + 1],
        min: 0,
        max: Bounds.MAX_CHALLENGE_WINDOW,
      },
    ];
    for (const c of cases) {
      it(`${TeeMode[c.mode]}: accepts a teeWindow of ${c.ok.join(" and ")}, refuses ${c.bad.join(", ")} with ModelRegistryInvalidTeeWindow(${c.mode}, value, ${c.min}, ${c.max})`, async () => {
        const f = await networkHelpers.loadFixture(windowed);
        for (const teeWindow of c.bad) {
          const spec = denseSpec(ethers, `bad/${c.mode}/${teeWindow}`, TINY_LAYERS);
          const policy = { ...defaultPolicy(ethers), teeMode: c.mode, teeWindow };
          const id = modelIdOfSpec(f.publisher.address, spec);
          await expectRefused(
            () => f.registry.connect(f.publisher).registerModel(spec, policy),
            f.registry,
            "ModelRegistryInvalidTeeWindow",
            [c.mode, teeWindow, c.min, c.max],
            async () => [await f.registry.statusOf(id), plain(await f.ledger.commitTermsOf(id))],
          );
          expect(await f.registry.statusOf(id)).to.equal(ModelStatus.None);
        }
        for (const teeWindow of c.ok) {
          const spec = denseSpec(ethers, `ok/${c.mode}/${teeWindow}`, TINY_LAYERS);
          await f.registry
            .connect(f.publisher)
            .registerModel(spec, { ...defaultPolicy(ethers), teeMode: c.mode, teeWindow });
          const p = await f.registry.policyOf(modelIdOfSpec(f.publisher.address, spec));
          expect([p.teeMode, p.teeWindow]).to.deep.equal([BigInt(c.mode), BigInt(teeWindow)]);
        }
      });
    }

    it("Window: the upper bound follows the model's own challenge window (at the minimum window, 299)", async () => {
      const f = await networkHelpers.loadFixture(windowed);
      const cw = Bounds.MIN_CHALLENGE_WINDOW;
      const base = { ...defaultPolicy(ethers), challengeWindow: cw, teeMode: TeeMode.Window };
      await expect(
        f.registry
          .connect(f.publisher)
          .registerModel(denseSpec(ethers, "w300", TINY_LAYERS), { ...base, teeWindow: cw }),
      )
        .to.be.revertedWithCustomError(f.registry, "ModelRegistryInvalidTeeWindow")
        .withArgs(TeeMode.Window, cw, MIN_TEE_WINDOW, cw - 1);
      await expect(
        f.registry
          .connect(f.publisher)
          .registerModel(denseSpec(ethers, "w299", TINY_LAYERS), { ...base, teeWindow: cw - 1 }),
      ).to.emit(f.registry, "ModelRegistered");
    });
  });
});

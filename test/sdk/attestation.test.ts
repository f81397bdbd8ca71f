import { expect } from "chai";
import { network } from "hardhat";
import { existsSync, readFileSync } from "node:fs";
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, X509Certificate } from "node:crypto";
import { Wallet, getBytes, hexlify, keccak256, toBeHex, toUtf8Bytes, ZeroAddress, ZeroHash } from "ethers";
import { Quote, type Collateral } from "@phala/dcap-qvl";
import {
  DEFAULT_STATEMENT_LIFETIME,
  MAX_QUOTE_BYTES,
  TcbStatus,
  TeeType,
  attestQuote,
  encodeEvidence,
  measurementOfReport,
  normaliseP256Signature,
  p256PublicKeyOf,
  reportDataOfReport,
  signStatement,
  splitReportData,
  statementDigest,
  tcbStatusOfDcap,
  validateStatement,
  verifyDcapQuote,
  type DcapReport,
  type ServiceStatement,
  type StatementSigner,
} from "../../src/sdk/attestation/index.js";
import type { AttestationServiceVerifier } from "../../typechain-types/index.js";

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Expects `promise` to reject with an Error whose message includes `message`. */
async function rejectsWith(promise: Promise<unknown>, message: string): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, `expected a rejection with "${message}"`).to.be.instanceOf(Error);
  expect((error as Error).message).to.include(message);
}

function bytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

function p256Signer(): StatementSigner & { kind: "p256" } {
  return { kind: "p256", privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey };
}

function statementFor(expiry: bigint): ServiceStatement {
  return {
    teeType: TeeType.IntelSgx,
    measurement: hexlify(bytes(64, 7)),
    enclaveKey: Wallet.createRandom().address,
    binding: keccak256(toUtf8Bytes("b")),
    tcbStatus: TcbStatus.SwHardeningNeeded,
    expiry,
  };
}

/** Deploys a verifier on `connection` with a P-256 and a secp256k1 key approved. */
async function deployVerifier(connection: Awaited<ReturnType<typeof network.create>>) {
  const { ethers } = connection;
  const [admin] = await ethers.getSigners();
  const verifier = (await ethers.deployContract("AttestationServiceVerifier", [
    admin.address,
  ])) as unknown as AttestationServiceVerifier;
  const domain = {
    chainId: (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await verifier.getAddress(),
  };
  const p256 = p256Signer();
  const { qx, qy } = p256PublicKeyOf(p256.privateKey);
  await verifier.approveP256Signer(qx, qy);
  const wallet = Wallet.createRandom();
  await verifier.approveSecp256k1Signer(wallet.address);
  return { verifier, domain, p256, k1: { kind: "secp256k1", wallet } as StatementSigner };
}

/** A collateral object of the right shape whose content dcap-qvl will judge. */
function shapedCollateral(nextUpdate = "2030-01-01T00:00:00Z"): Collateral {
  const json = JSON.stringify({ issueDate: "2020-01-01T00:00:00Z", nextUpdate });
  return {
    pck_crl_issuer_chain: "chain",
    root_ca_crl: "00",
    pck_crl: "00",
    tcb_info_issuer_chain: "chain",
    tcb_info: json,
    tcb_info_signature: "00",
    qe_identity_issuer_chain: "chain",
    qe_identity: json,
    qe_identity_signature: "00",
  };
}

describe("attestation service SDK", () => {
  describe("statements", () => {
    it("digests equal the contract's hashStatement for both key kinds and every TEE type", async () => {
      const connection = await network.create();
      const { verifier, domain, p256, k1 } = await deployVerifier(connection);
      for (const [teeType, length] of [
        [TeeType.IntelTdx, 240],
        [TeeType.IntelSgx, 64],
        [TeeType.AwsNitro, 144],
      ] as const) {
        const s = { ...statementFor(1_900_000_000n), teeType, measurement: hexlify(bytes(length, teeType)) };
        for (const signer of [p256, k1]) {
          const signed = await signStatement(s, signer, domain);
          const tuple = [s.teeType, s.measurement, s.enclaveKey, s.binding, s.tcbStatus, s.expiry];
          expect(await verifier.hashStatement(tuple as never, signed.signerId)).to.equal(signed.digest);
          expect(statementDigest(s, signed.signerId, domain)).to.equal(signed.digest);
          const evidence = encodeEvidence(s, signed.signerId, signed.signature);
          const [decoded, signerId, signature] = await verifier.decodeEvidence(evidence);
          expect([...decoded]).to.deep.equal(tuple.map((v) => (typeof v === "number" ? BigInt(v) : v)));
          expect([signerId, signature]).to.deep.equal([signed.signerId, signed.signature]);
          expect((await verifier.verifyAttestation(evidence)).notAfter).to.equal(s.expiry);
        }
      }
    });

    it("P-256 signatures are ES256 over the digest, 64 bytes, low-s", async () => {
      const signer = p256Signer();
      const domain = { chainId: 1n, verifyingContract: Wallet.createRandom().address };
      for (let i = 0; i < 4; i++) {
        const signed = await signStatement(statementFor(2_000_000_000n + BigInt(i)), signer, domain);
        const sig = getBytes(signed.signature);
        expect(sig.length).to.equal(64);
        expect(BigInt(hexlify(sig.subarray(32))) <= P256_N >> 1n).to.equal(true);
        const key = { key: signer.privateKey, dsaEncoding: "ieee-p1363" as const };
        expect(cryptoVerify("sha256", getBytes(signed.digest), key, sig)).to.equal(true);
      }
    });

    it("normalises a high-s P-256 signature to the equivalent low-s one and keeps a low-s one", () => {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const message = toUtf8Bytes("m");
      const raw = cryptoSign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" });
      const s = BigInt(hexlify(raw.subarray(32)));
      const low = s > P256_N >> 1n ? P256_N - s : s;
      const asLow = new Uint8Array([...raw.subarray(0, 32), ...getBytes(toBeHex(low, 32))]);
      const asHigh = new Uint8Array([...raw.subarray(0, 32), ...getBytes(toBeHex(P256_N - low, 32))]);
      expect(normaliseP256Signature(asHigh)).to.equal(hexlify(asLow));
      expect(normaliseP256Signature(asLow)).to.equal(hexlify(asLow));
      const key = { key: privateKey, dsaEncoding: "ieee-p1363" as const };
      expect(cryptoVerify("sha256", message, key, getBytes(normaliseP256Signature(asHigh)))).to.equal(true);
      expect(() => normaliseP256Signature(raw.subarray(0, 63))).to.throw("P-256 signature: not 64 bytes");
      expect(() => normaliseP256Signature(bytes(64, 0))).to.throw("P-256 signature: r or s out of range");
      expect(() => normaliseP256Signature(bytes(64, 0xff))).to.throw("P-256 signature: r or s out of range");
    });

    it("refuses keys that are not P-256 and wallets whose signature does not recover", async () => {
      const domain = { chainId: 1n, verifyingContract: Wallet.createRandom().address };
      const s = statementFor(2_000_000_000n);
      const k1Key = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey;
      const edKey = generateKeyPairSync("ed25519").privateKey;
      for (const privateKey of [k1Key, edKey]) {
        await rejectsWith(
          signStatement(s, { kind: "p256", privateKey }, domain),
          "P-256 key: not a node:crypto EC key on prime256v1 (P-256)",
        );
      }
      const publicOnly = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
      await rejectsWith(
        signStatement(s, { kind: "p256", privateKey: publicOnly }, domain),
        "P-256 signer: privateKey is not a private key",
      );
      const honest = Wallet.createRandom();
      const liar = Wallet.createRandom();
      const lying: StatementSigner = {
        kind: "secp256k1",
        wallet: { getAddress: async () => honest.address, signTypedData: (d, t, v) => liar.signTypedData(d, t, v) },
      };
      await rejectsWith(
        signStatement(s, lying, domain),
        "secp256k1 signer: signature does not recover to the signer's address",
      );
      const short: StatementSigner = {
        kind: "secp256k1",
        wallet: { getAddress: async () => honest.address, signTypedData: async () => "0x1234" },
      };
      await rejectsWith(signStatement(s, short, domain), "secp256k1 signer: signature is not 65 bytes");
      await rejectsWith(
        signStatement(s, { kind: "rsa" } as never, domain),
        'signer: kind must be "p256" or "secp256k1"',
      );
    });

    it("refuses every malformed statement field, domain and evidence part with one message", async () => {
      const good = statementFor(2_000_000_000n);
      const cases: [Partial<ServiceStatement>, string][] = [
        [{ teeType: TeeType.None }, "statement.teeType: 0 is not IntelTdx (1), IntelSgx (2) or AwsNitro (3)"],
        [{ teeType: 9 as TeeType }, "statement.teeType: 9 is not"],
        [{ measurement: "abcd" }, "statement.measurement: not a 0x-prefixed hex string of whole bytes"],
        [{ measurement: "0xabc" }, "statement.measurement: not a 0x-prefixed hex string of whole bytes"],
        [{ measurement: hexlify(bytes(63, 1)) }, "statement.measurement: 63 bytes, IntelSgx needs 64"],
        [{ enclaveKey: ZeroAddress }, "statement.enclaveKey: not a non-zero address"],
        [{ enclaveKey: "0x1234" }, "statement.enclaveKey: not a non-zero address"],
        [{ binding: "0x12" }, "statement.binding: not a 32-byte hex string"],
        [{ tcbStatus: 8 as TcbStatus }, "statement.tcbStatus: 8 is not a TcbStatus (0..7)"],
        [{ tcbStatus: 1.5 as TcbStatus }, "statement.tcbStatus: 1.5 is not a TcbStatus (0..7)"],
        [{ expiry: 0n }, "statement.expiry: not a bigint in 1..2^64-1"],
        [{ expiry: 1n << 64n }, "statement.expiry: not a bigint in 1..2^64-1"],
        [{ expiry: 5 as unknown as bigint }, "statement.expiry: not a bigint in 1..2^64-1"],
      ];
      for (const [change, message] of cases) {
        expect(() => validateStatement({ ...good, ...change }), message).to.throw(message);
      }
      expect(() => validateStatement(null as never)).to.throw("statement: not an object");
      const signerId = keccak256("0x01");
      const domain = { chainId: 1n, verifyingContract: Wallet.createRandom().address };
      expect(() => statementDigest(good, "0x12", domain)).to.throw("signerId: not a 32-byte hex string");
      expect(() => statementDigest(good, signerId, { ...domain, chainId: 0n })).to.throw(
        "domain.chainId: not a positive integer",
      );
      expect(() => statementDigest(good, signerId, { ...domain, verifyingContract: "0x12" })).to.throw(
        "domain.verifyingContract: not an address",
      );
      expect(() => encodeEvidence(good, signerId, "0x" + "11".repeat(63))).to.throw(
        "signature: not 64 (P-256) or 65 (secp256k1) bytes of hex",
      );
      expect(() => encodeEvidence(good, "0x", "0x" + "11".repeat(64))).to.throw("signerId: not a 32-byte hex string");
      // The normalised statement is what gets signed and encoded: checksummed key, lower-case hex.
      const upper = {
        ...good,
        enclaveKey: good.enclaveKey.toLowerCase(),
        binding: good.binding.toUpperCase().replace("0X", "0x"),
      };
      expect(validateStatement(upper)).to.deep.equal({ ...good, binding: good.binding.toLowerCase() });
    });
  });

  describe("DCAP report mapping", () => {
    const sgxReport = (over: Record<string, unknown> = {}) =>
      ({
        type: "sgx",
        data: { mrEnclave: bytes(32, 1), mrSigner: bytes(32, 2), reportData: bytes(64, 0), ...over },
      }) as unknown as DcapReport;
    const td10 = (over: Record<string, unknown> = {}) => ({
      mrTd: bytes(48, 1),
      rtMr0: bytes(48, 2),
      rtMr1: bytes(48, 3),
      rtMr2: bytes(48, 4),
      rtMr3: bytes(48, 5),
      mrConfigId: bytes(48, 9),
      reportData: bytes(64, 0),
      ...over,
    });

    it("lays out SGX as MRENCLAVE ‖ MRSIGNER and TDX 1.0 / 1.5 as MRTD ‖ RTMR0..3", () => {
      expect(measurementOfReport(sgxReport())).to.deep.equal({
        teeType: TeeType.IntelSgx,
        measurement: hexlify(new Uint8Array([...bytes(32, 1), ...bytes(32, 2)])),
      });
      const tdx = hexlify(new Uint8Array([1, 2, 3, 4, 5].flatMap((b) => [...bytes(48, b)])));
      for (const report of [
        { type: "td10", data: td10() },
        { type: "td15", data: { base: td10(), mrServiceTd: bytes(48, 0) } },
      ]) {
        expect(measurementOfReport(report as unknown as DcapReport)).to.deep.equal({
          teeType: TeeType.IntelTdx,
          measurement: tdx,
        });
      }
    });

    it("refuses reports with fields of the wrong size or of an unknown type", () => {
      expect(() => measurementOfReport(sgxReport({ mrSigner: bytes(31, 2) }))).to.throw(
        "DCAP SGX report.mrSigner: not 32 bytes",
      );
      expect(() => measurementOfReport(sgxReport({ mrEnclave: "01".repeat(32) }))).to.throw(
        "DCAP SGX report.mrEnclave: not 32 bytes",
      );
      expect(() => measurementOfReport({ type: "td10", data: td10({ rtMr2: bytes(32, 1) }) } as never)).to.throw(
        "DCAP td10 report.rtMr2: not 48 bytes",
      );
      expect(() => measurementOfReport({ type: "td15", data: td10() } as never)).to.throw(
        "DCAP td15 report.mrTd: not 48 bytes",
      );
      expect(() => measurementOfReport({ type: "sev", data: {} } as never)).to.throw('DCAP report: unknown type "sev"');
      expect(() => reportDataOfReport(sgxReport({ reportData: bytes(32, 0) }))).to.throw(
        "DCAP SGX report.reportData: not 64 bytes",
      );
      expect(() => reportDataOfReport(null as never)).to.throw("DCAP report: not an object");
    });

    it("splits report data into enclave key (0..19), zero (20..31) and binding (32..63)", () => {
      const key = Wallet.createRandom().address;
      const binding = keccak256(toUtf8Bytes("nonce"));
      const data = new Uint8Array([...getBytes(key), ...bytes(12, 0), ...getBytes(binding)]);
      expect(splitReportData(data)).to.deep.equal({ enclaveKey: key, binding });
      for (const i of [20, 31]) {
        const bad = data.slice();
        bad[i] = 1;
        expect(() => splitReportData(bad)).to.throw("report data: bytes 20..31 are not zero (not Verity's layout)");
      }
      expect(() => splitReportData(new Uint8Array([...bytes(32, 0), ...getBytes(binding)]))).to.throw(
        "report data: the enclave key (bytes 0..19) is zero",
      );
      expect(() => splitReportData(data.subarray(0, 63))).to.throw("report data: not 64 bytes");
    });

    it("maps dcap-qvl's status strings to Verity's TcbStatus, and nothing else", () => {
      expect(
        [
          "UpToDate",
          "SWHardeningNeeded",
          "ConfigurationAndSWHardeningNeeded",
          "ConfigurationNeeded",
          "OutOfDate",
          "OutOfDateConfigurationNeeded",
          "Revoked",
        ].map(tcbStatusOfDcap),
      ).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
      for (const other of ["Unknown", "uptodate", "", "toString", "__proto__", "constructor"]) {
        expect(tcbStatusOfDcap(other), other).to.equal(TcbStatus.Unrecognized);
      }
    });
  });

  describe("verifyDcapQuote inputs (offline, no samples needed)", () => {
    it("refuses missing or malformed collateral, time, quote and root CA before verifying", () => {
      const quote = bytes(100, 1);
      const now = 1_750_000_000;
      expect(() => verifyDcapQuote(quote, { now })).to.throw(
        "collateral: required (an object as PCCS serves it); it is never fetched",
      );
      const c = shapedCollateral();
      const cases: [Record<string, unknown>, string][] = [
        [{ tcb_info: "" }, "collateral.tcb_info: not a non-empty string"],
        [{ qe_identity_issuer_chain: 5 }, "collateral.qe_identity_issuer_chain: not a non-empty string"],
        [{ pck_crl: "0x00" }, "collateral.pck_crl: not non-empty hex (no 0x) or a byte array"],
        [{ root_ca_crl: [256] }, "collateral.root_ca_crl: not non-empty hex (no 0x) or a byte array"],
        [{ tcb_info_signature: [] }, "collateral.tcb_info_signature: not non-empty hex (no 0x) or a byte array"],
        [{ tcb_info: "{" }, "collateral.tcb_info: not JSON"],
        [{ qe_identity: "{}" }, "collateral.qe_identity: no valid nextUpdate"],
      ];
      for (const [change, message] of cases) {
        expect(() => verifyDcapQuote(quote, { now, collateral: { ...c, ...change } as Collateral }), message).to.throw(
          message,
        );
      }
      expect(() => verifyDcapQuote(quote, { now: -1, collateral: c })).to.throw("now: not a non-negative integer");
      expect(() => verifyDcapQuote(quote, { now: 1.5, collateral: c })).to.throw("now: not a non-negative integer");
      expect(() => verifyDcapQuote(new Uint8Array(), { now, collateral: c })).to.throw("quote: 0 bytes, expected 1..");
      expect(() => verifyDcapQuote(bytes(MAX_QUOTE_BYTES + 1, 0), { now, collateral: c })).to.throw(
        `quote: ${MAX_QUOTE_BYTES + 1} bytes`,
      );
      expect(() => verifyDcapQuote("zz" as never, { now, collateral: c })).to.throw(
        "quote: not bytes or 0x-prefixed hex",
      );
      expect(() => verifyDcapQuote(quote, { now, collateral: c, rootCaDer: new Uint8Array() })).to.throw(
        "rootCaDer: not non-empty DER bytes",
      );
    });

    it("reports dcap-qvl's own refusal of a quote that does not parse", () => {
      // Real dcap-qvl code: its parser refuses 100 bytes that are no quote.
      expect(() => verifyDcapQuote(bytes(100, 1), { now: 1_750_000_000, collateral: shapedCollateral() })).to.throw(
        /^DCAP quote does not verify: Failed to decode quote/,
      );
      expect(() =>
        verifyDcapQuote("0x" + "03".repeat(48), { now: 1_750_000_000, collateral: shapedCollateral() }),
      ).to.throw(/^DCAP quote does not verify: Failed to decode quote/);
    });
  });

  // Intel quotes and collateral from the dcap-qvl repository (sample/), which the npm package does not
  // ship. Verified offline against Intel's real SGX root CA. Set VERITY_DCAP_SAMPLES to their folder,
  // or place them in test/fixtures/dcap-qvl/.
  describe("dcap-qvl against Intel sample quotes", function () {
    const dir = process.env.VERITY_DCAP_SAMPLES ?? "test/fixtures/dcap-qvl";
    const files = ["sgx_quote", "sgx_quote_collateral.json", "tdx_quote", "tdx_quote_collateral.json"];
    const present = files.every((f) => existsSync(`${dir}/${f}`));
    const read = (f: string) => readFileSync(`${dir}/${f}`);
    const collateralOf = (f: string) => JSON.parse(read(f).toString("utf8")) as Collateral;
    // Inside both samples' collateral validity (2025-06-19 .. 2025-07-19).
    const JULY_2025 = Date.parse("2025-07-01T00:00:00Z") / 1000;

    before(function () {
      if (!present) this.skip();
    });

    it("verifies the SGX sample and maps it (offsets read from the raw quote, not dcap-qvl)", () => {
      const raw = read("sgx_quote");
      const v = verifyDcapQuote(raw, { collateral: collateralOf("sgx_quote_collateral.json"), now: JULY_2025 });
      // SGX quote v3: 48-byte header, then the enclave report: MRENCLAVE at 64, MRSIGNER at 128, report data at 320.
      expect(v.teeType).to.equal(TeeType.IntelSgx);
      expect(v.measurement).to.equal(hexlify(new Uint8Array([...raw.subarray(112, 144), ...raw.subarray(176, 208)])));
      expect(v.reportData).to.equal(hexlify(raw.subarray(368, 432)));
      // The sample's report data is "Hello, world!", zero-padded: in Verity's layout by luck.
      expect(v.enclaveKey.toLowerCase()).to.equal(hexlify(raw.subarray(368, 388)));
      expect(Buffer.from(getBytes(v.enclaveKey)).toString("latin1").replace(/\0+$/, "")).to.equal("Hello, world!");
      expect(v.binding).to.equal(ZeroHash);
      expect(v.dcapStatus).to.equal("ConfigurationAndSWHardeningNeeded");
      expect(v.tcbStatus).to.equal(TcbStatus.ConfigurationAndSwHardeningNeeded);
      expect(v.advisoryIds).to.deep.equal(["INTEL-SA-00289", "INTEL-SA-00615"]);
      expect(v.collateralNotAfter).to.equal(BigInt(Date.parse("2025-07-19T10:01:18Z") / 1000));
    });

    it("maps the TDX sample's report to MRTD ‖ RTMR0..3 and refuses its report data layout", () => {
      const raw = read("tdx_quote");
      // TDX quote v4: 48-byte header, MRTD at 136 of the TD report, RTMR0..3 at 328..520, report data at 520.
      const { teeType, measurement } = measurementOfReport(Quote.parse(raw).report);
      expect(teeType).to.equal(TeeType.IntelTdx);
      expect(measurement).to.equal(hexlify(new Uint8Array([...raw.subarray(184, 232), ...raw.subarray(376, 568)])));
      expect(hexlify(reportDataOfReport(Quote.parse(raw).report))).to.equal(hexlify(raw.subarray(568, 632)));
      // The quote verifies in dcap-qvl, but its report data is not Verity's (bytes 20..31 are not zero).
      expect(() =>
        verifyDcapQuote(raw, { collateral: collateralOf("tdx_quote_collateral.json"), now: JULY_2025 }),
      ).to.throw("report data: bytes 20..31 are not zero (not Verity's layout)");
    });

    it("refuses a tampered quote, expired collateral, another quote's collateral and a wrong root CA", () => {
      const raw = read("sgx_quote");
      const collateral = collateralOf("sgx_quote_collateral.json");
      const tampered = Buffer.from(raw);
      tampered[368] ^= 1; // one bit of report data
      expect(() => verifyDcapQuote(tampered, { collateral, now: JULY_2025 })).to.throw(
        "DCAP quote does not verify: ISV enclave report signature is invalid",
      );
      expect(() => verifyDcapQuote(raw, { collateral, now: Date.parse("2025-08-01T00:00:00Z") / 1000 })).to.throw(
        "DCAP quote does not verify: TCBInfo expired",
      );
      expect(() =>
        verifyDcapQuote(raw, { collateral: collateralOf("tdx_quote_collateral.json"), now: JULY_2025 }),
      ).to.throw("DCAP quote does not verify: Unsupported QE Identity id/version for the quote TEE type");
      // The TCB signing certificate is a real Intel certificate, but not the root.
      const signingPem =
        collateral.tcb_info_issuer_chain.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----";
      const notRoot = new X509Certificate(signingPem).raw;
      expect(() => verifyDcapQuote(raw, { collateral, now: JULY_2025, rootCaDer: notRoot })).to.throw(
        "DCAP quote does not verify: Failed to verify certificate chain",
      );
    });

    it("attestQuote: the SGX sample, verified and signed, registers on a chain at that date", async () => {
      const connection = await network.create({ override: { initialDate: "2025-07-01T00:00:00Z" } });
      const { verifier, domain, p256, k1 } = await deployVerifier(connection);
      const now = await connection.networkHelpers.time.latest();
      const collateral = collateralOf("sgx_quote_collateral.json");
      for (const signer of [p256, k1]) {
        const a = await attestQuote(read("sgx_quote"), { collateral, now, signer, domain });
        // 30 days by default, cut to the collateral's earliest nextUpdate (sooner here).
        const cap = BigInt(now) + DEFAULT_STATEMENT_LIFETIME;
        const limit = a.verification.collateralNotAfter;
        expect(limit < cap).to.equal(true);
        expect(a.statement.expiry).to.equal(limit);
        const attestation = await verifier.verifyAttestation(a.evidence);
        expect(attestation.teeType).to.equal(BigInt(TeeType.IntelSgx));
        expect(attestation.measurement).to.equal(a.verification.measurement);
        expect(attestation.enclaveKey).to.equal(a.verification.enclaveKey);
        expect(attestation.binding).to.equal(ZeroHash);
        expect(attestation.tcbStatus).to.equal(BigInt(TcbStatus.ConfigurationAndSwHardeningNeeded));
        expect(attestation.notAfter).to.equal(a.statement.expiry);
      }
      // The default expiry never outlives the collateral; an explicit one must not either.
      const late = Date.parse("2025-07-19T10:00:00Z") / 1000;
      const capped = await attestQuote(read("sgx_quote"), { collateral, now: late, signer: k1, domain });
      expect(capped.statement.expiry).to.equal(capped.verification.collateralNotAfter);
      const notAfter = capped.verification.collateralNotAfter;
      await rejectsWith(
        attestQuote(read("sgx_quote"), { collateral, now, signer: k1, domain, expiry: notAfter + 1n }),
        `expiry: ${notAfter + 1n} outlives the collateral (nextUpdate ${notAfter})`,
      );
      await rejectsWith(
        attestQuote(read("sgx_quote"), { collateral, now, signer: k1, domain, expiry: BigInt(now) }),
        `expiry: ${now} is not after now (${now})`,
      );
    });
  });
});

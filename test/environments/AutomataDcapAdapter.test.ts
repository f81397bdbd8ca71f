import { expect } from "chai";
import {
  AbiCoder,
  concat,
  dataSlice,
  getAddress,
  hexlify,
  keccak256,
  toBeHex,
  toUtf8Bytes,
  type BytesLike,
} from "ethers";
import { network } from "hardhat";
import type {
  AutomataDcapAdapter,
  MockAutomataDcapAttestation,
  MockAutomataDcapRawResult,
} from "../../typechain-types/index.js";
import {
  canonicalMeasurement,
  quoteBody,
  reportDataOf,
  sgxQuote,
  tdxQuote,
  type SgxQuoteFields,
  type TdxQuoteFields,
} from "../helpers/quotes.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

/** Verity's `TeeType` and `TcbStatus` (contracts/types/Environment.sol). */
const TeeType = { IntelTdx: 1n, IntelSgx: 2n } as const;
const TcbStatus = {
  Unrecognized: 0n,
  UpToDate: 1n,
  SwHardeningNeeded: 2n,
  ConfigurationAndSwHardeningNeeded: 3n,
  ConfigurationNeeded: 4n,
  OutOfDate: 5n,
  OutOfDateConfigurationNeeded: 6n,
  Revoked: 7n,
} as const;
const UINT64_MAX = 2n ** 64n - 1n;

/** `n` bytes that differ per label, so a field read at the wrong offset cannot match. */
function pattern(label: string, n: number): string {
  const words: string[] = [];
  for (let i = 0; words.length * 32 < n; i++) words.push(keccak256(toUtf8Bytes(`${label}/${i}`)));
  return dataSlice(concat(words), 0, n);
}
const utf8 = (s: string) => hexlify(toUtf8Bytes(s));

const ENCLAVE_KEY = getAddress(dataSlice(keccak256(toUtf8Bytes("enclave key")), 12));
const BINDING = keccak256(toUtf8Bytes("chainId, registry, enclaveKey, nonce"));
const REPORT_DATA = reportDataOf(ENCLAVE_KEY, BINDING);
const MRTD = pattern("mrtd", 48);
const RTMRS = [pattern("rtmr0", 48), pattern("rtmr1", 48), pattern("rtmr2", 48), pattern("rtmr3", 48)] as const;
const MRENCLAVE = pattern("mrenclave", 32);
const MRSIGNER = pattern("mrsigner", 32);
const FMSPC = "0x00806f050000";
const ADVISORIES = ["INTEL-SA-00960", "INTEL-SA-00982"];

const tdx = (o: Partial<TdxQuoteFields> = {}) => tdxQuote({ mrtd: MRTD, rtmrs: RTMRS, reportData: REPORT_DATA, ...o });
const sgx = (o: Partial<SgxQuoteFields> = {}) =>
  sgxQuote({ mrEnclave: MRENCLAVE, mrSigner: MRSIGNER, reportData: REPORT_DATA, ...o });
const TDX_MEASUREMENT = canonicalMeasurement({ mrtd: MRTD, rtmrs: RTMRS });
const SGX_MEASUREMENT = canonicalMeasurement({ mrEnclave: MRENCLAVE, mrSigner: MRSIGNER });

/**
 * Automata's verified output, written from the release's encoding (v1.1.4, QuoteVerifierBase.serializeOutput
 * over CommonStruct.Output): abi.encodePacked(uint16 quoteVersion, uint16 quoteBodyType, uint8 tcbStatus,
 * bytes6 fmspc, bytes quoteBody, advisoryIDs.length > 0 ? abi.encode(string[] advisoryIDs) : "").
 */
function automataOutput(
  version: number,
  bodyType: number,
  status: number,
  fmspc: string,
  body: BytesLike,
  ids: string[],
) {
  const advisories = ids.length > 0 ? AbiCoder.defaultAbiCoder().encode(["string[]"], [ids]) : "0x";
  return concat([toBeHex(version, 2), toBeHex(bodyType, 2), toBeHex(status, 1), fmspc, body, advisories]);
}

describe("AutomataDcapAdapter", () => {
  async function deployed() {
    const mock = (await ethers.deployContract("MockAutomataDcapAttestation")) as unknown as MockAutomataDcapAttestation;
    const raw = (await ethers.deployContract("MockAutomataDcapRawResult")) as unknown as MockAutomataDcapRawResult;
    const adapter = (await ethers.deployContract("AutomataDcapAdapter", [
      await mock.getAddress(),
    ])) as unknown as AutomataDcapAdapter;
    const rawAdapter = (await ethers.deployContract("AutomataDcapAdapter", [
      await raw.getAddress(),
    ])) as unknown as AutomataDcapAdapter;
    await mock.setFmspc(FMSPC);
    return { mock, raw, adapter, rawAdapter };
  }

  async function attestation(adapter: AutomataDcapAdapter, quote: string) {
    const a = await adapter.verifyAttestation.staticCall(quote);
    return {
      teeType: a.teeType,
      measurement: a.measurement,
      enclaveKey: a.enclaveKey,
      binding: a.binding,
      tcbStatus: a.tcbStatus,
      notAfter: a.notAfter,
    };
  }

  it("reports its verifier kind (constant and interface) and Automata's address", async () => {
    const { adapter, mock } = await networkHelpers.loadFixture(deployed);
    const kind = keccak256(toUtf8Bytes("verity.verifier.automata-dcap.v1"));
    expect(await adapter.VERIFIER_KIND()).to.equal(kind);
    expect(await adapter.verifierKind()).to.equal(kind);
    expect(await adapter.automata()).to.equal(await mock.getAddress());
  });

  it("refuses a zero verifier address", async () => {
    const { adapter } = await networkHelpers.loadFixture(deployed);
    await expect(ethers.deployContract("AutomataDcapAdapter", [ethers.ZeroAddress])).to.be.revertedWithCustomError(
      adapter,
      "AutomataDcapAdapterZeroVerifier",
    );
  });

  describe("decoding a verified quote", () => {
    it("v4 TDX: MRTD ‖ RTMR0..3 (240 bytes), the enclave key and binding, UpToDate, no time limit", async () => {
      const { adapter, mock } = await networkHelpers.loadFixture(deployed);
      const quote = tdx();
      expect(await attestation(adapter, quote)).to.deep.equal({
        teeType: TeeType.IntelTdx,
        measurement: TDX_MEASUREMENT,
        enclaveKey: ENCLAVE_KEY,
        binding: BINDING,
        tcbStatus: TcbStatus.UpToDate,
        notAfter: UINT64_MAX,
      });
      expect(ethers.dataLength(TDX_MEASUREMENT)).to.equal(240);
      // Sent as a transaction too: Automata's entrypoint is not a view (it logs every attestation).
      await expect(adapter.verifyAttestation(quote))
        .to.emit(mock, "AttestationSubmitted")
        .withArgs(true, 0, automataOutput(4, 2, 0, FMSPC, quoteBody(quote), []));
    });

    it("v3 SGX: MRENCLAVE ‖ MRSIGNER (64 bytes), the enclave key and binding", async () => {
      const { adapter } = await networkHelpers.loadFixture(deployed);
      expect(await attestation(adapter, sgx())).to.deep.equal({
        teeType: TeeType.IntelSgx,
        measurement: SGX_MEASUREMENT,
        enclaveKey: ENCLAVE_KEY,
        binding: BINDING,
        tcbStatus: TcbStatus.UpToDate,
        notAfter: UINT64_MAX,
      });
      expect(ethers.dataLength(SGX_MEASUREMENT)).to.equal(64);
    });

    it("v4 SGX decodes as SGX", async () => {
      const { adapter } = await networkHelpers.loadFixture(deployed);
      const a = await attestation(adapter, sgx({ version: 4 }));
      expect([a.teeType, a.measurement, a.enclaveKey, a.binding]).to.deep.equal([
        TeeType.IntelSgx,
        SGX_MEASUREMENT,
        ENCLAVE_KEY,
        BINDING,
      ]);
    });

    it("ignores the advisory IDs Automata appends to a v4 output", async () => {
      const { adapter, mock } = await networkHelpers.loadFixture(deployed);
      const before = await attestation(adapter, tdx());
      await mock.setAdvisoryIds(ADVISORIES);
      expect((await mock.verifyAndAttestOnChain.staticCall(tdx()))[1]).to.have.length.greaterThan(2 + 2 * (11 + 584));
      expect(await attestation(adapter, tdx())).to.deep.equal(before);
    });

    it("reads a different key and binding from different report data", async () => {
      const { adapter } = await networkHelpers.loadFixture(deployed);
      const key = getAddress("0x" + "ab".repeat(20));
      const binding = pattern("other binding", 32);
      const a = await attestation(adapter, tdx({ reportData: reportDataOf(key, binding) }));
      expect([a.enclaveKey, a.binding]).to.deep.equal([key, binding]);
    });
  });

  describe("TCB status", () => {
    // Automata's TCBStatus (automata-on-chain-pccs FmspcTcbHelper.sol) -> Verity's TcbStatus.
    const mapping: [number, string, bigint][] = [
      [0, "OK", TcbStatus.UpToDate],
      [1, "TCB_SW_HARDENING_NEEDED", TcbStatus.SwHardeningNeeded],
      [2, "TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED", TcbStatus.ConfigurationAndSwHardeningNeeded],
      [3, "TCB_CONFIGURATION_NEEDED", TcbStatus.ConfigurationNeeded],
      [4, "TCB_OUT_OF_DATE", TcbStatus.OutOfDate],
      [5, "TCB_OUT_OF_DATE_CONFIGURATION_NEEDED", TcbStatus.OutOfDateConfigurationNeeded],
      [7, "TCB_UNRECOGNIZED", TcbStatus.Unrecognized],
      [8, "TCB_TD_RELAUNCH_ADVISED (v5)", TcbStatus.Unrecognized],
      [9, "TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED (v5)", TcbStatus.Unrecognized],
      [255, "an unknown value", TcbStatus.Unrecognized],
    ];
    for (const [automata, name, verity] of mapping) {
      it(`${automata} ${name} -> ${Object.keys(TcbStatus).find((k) => TcbStatus[k as keyof typeof TcbStatus] === verity)}`, async () => {
        const { adapter, mock } = await networkHelpers.loadFixture(deployed);
        await mock.setTcbStatus(automata);
        expect((await attestation(adapter, tdx())).tcbStatus).to.equal(verity);
        expect((await attestation(adapter, sgx())).tcbStatus).to.equal(verity);
      });
    }

    it("6 TCB_REVOKED -> Revoked (in an output the real verifiers do not produce, see below)", async () => {
      const { rawAdapter, raw } = await networkHelpers.loadFixture(deployed);
      await raw.setResult(true, automataOutput(4, 2, 6, FMSPC, quoteBody(tdx()), []));
      expect((await attestation(rawAdapter, "0x")).tcbStatus).to.equal(TcbStatus.Revoked);
    });

    it("a revoked TDX platform: Automata fails with TCBR, refused with that reason", async () => {
      const { adapter, mock } = await networkHelpers.loadFixture(deployed);
      await mock.setTcbStatus(6);
      expect(await mock.verifyAndAttestOnChain.staticCall(tdx())).to.deep.equal([false, utf8("TCBR")]);
      await expect(adapter.verifyAttestation(tdx()))
        .to.be.revertedWithCustomError(adapter, "AutomataDcapAdapterVerificationFailed")
        .withArgs(utf8("TCBR"));
    });

    it("a revoked SGX platform: Automata's (true, TCBR) is refused as a truncated output", async () => {
      const { adapter, mock } = await networkHelpers.loadFixture(deployed);
      await mock.setTcbStatus(6);
      for (const quote of [sgx(), sgx({ version: 4 })]) {
        expect(await mock.verifyAndAttestOnChain.staticCall(quote)).to.deep.equal([true, utf8("TCBR")]);
        await expect(adapter.verifyAttestation(quote))
          .to.be.revertedWithCustomError(adapter, "AutomataDcapAdapterOutputTruncated")
          .withArgs(4, 11);
      }
    });
  });

  describe("refusals", () => {
    async function refusedWith(quote: string, reason: string) {
      const { adapter } = await networkHelpers.loadFixture(deployed);
      await expect(adapter.verifyAttestation(quote))
        .to.be.revertedWithCustomError(adapter, "AutomataDcapAdapterVerificationFailed")
        .withArgs(utf8(reason));
    }

    it("a failed verification carries Automata's reason", async () => {
      const { adapter, mock } = await networkHelpers.loadFixture(deployed);
      for (const reason of ["ATTVE", "X509VE", "QEIDVE"]) {
        await mock.setFailure(reason);
        await expect(adapter.verifyAttestation(tdx()))
          .to.be.revertedWithCustomError(adapter, "AutomataDcapAdapterVerificationFailed")
          .withArgs(utf8(reason));
      }
    });

    it("a refused verification changes nothing (Automata's log is rolled back with it)", async () => {
      const { adapter, mock } = await networkHelpers.loadFixture(deployed);
      await mock.setFailure("ATTVE");
      const from = await ethers.provider.getBlockNumber();
      await expect(adapter.verifyAttestation(tdx())).to.be.revertedWithCustomError(
        adapter,
        "AutomataDcapAdapterVerificationFailed",
      );
      expect(await mock.queryFilter(mock.filters.AttestationSubmitted(), from + 1)).to.deep.equal([]);
    });

    it("report data bytes 20..31 not zero", async () => {
      const { adapter } = await networkHelpers.loadFixture(deployed);
      for (const padding of ["0x000000000000000000000001", "0xff0000000000000000000000"]) {
        const reportData = reportDataOf(ENCLAVE_KEY, BINDING, padding);
        for (const quote of [tdx({ reportData }), sgx({ reportData })]) {
          await expect(adapter.verifyAttestation(quote))
            .to.be.revertedWithCustomError(adapter, "AutomataDcapAdapterReportDataPadding")
            .withArgs(padding);
        }
      }
    });

    it("debug-mode enclaves and TDs (same measurement as production, memory readable by the host)", async () => {
      const { adapter } = await networkHelpers.loadFixture(deployed);
      // SGX ATTRIBUTES.FLAGS = INIT | DEBUG | MODE64BIT; TDX TDATTRIBUTES = DEBUG | SEPT_VE_DISABLE.
      await expect(adapter.verifyAttestation(sgx({ attributes: "0x0700000000000000e700000000000000" })))
        .to.be.revertedWithCustomError(adapter, "AutomataDcapAdapterDebugMode")
        .withArgs(TeeType.IntelSgx);
      await expect(adapter.verifyAttestation(tdx({ tdAttributes: "0x0100001000000000" })))
        .to.be.revertedWithCustomError(adapter, "AutomataDcapAdapterDebugMode")
        .withArgs(TeeType.IntelTdx);
      // Other attribute bits are not the adapter's business.
      expect((await attestation(adapter, sgx({ attributes: "0x0500000000000000ff00000000000000" }))).teeType).to.equal(
        TeeType.IntelSgx,
      );
      expect((await attestation(adapter, tdx({ tdAttributes: "0x0000000000000000" }))).teeType).to.equal(
        TeeType.IntelTdx,
      );
    });

    it("unknown quote versions (Automata: Unsupported quote version)", async () => {
      await refusedWith(tdx({ version: 5 }), "Unsupported quote version");
      await refusedWith(sgx({ version: 2 }), "Unsupported quote version");
    });

    it("unknown TEE types (Automata: TEE)", async () => {
      await refusedWith(tdx({ teeType: 0x82 }), "TEE");
      await refusedWith(tdx({ version: 3 }), "TEE"); // a v3 quote is SGX only
    });

    it("truncated quotes (Automata: header length, QHS, ADS)", async () => {
      const quote = sgx();
      await refusedWith(dataSlice(quote, 0, 47), "Quote length is less than Header length");
      await refusedWith(dataSlice(quote, 0, 1019), "QHS");
      await refusedWith(dataSlice(tdx(), 0, ethers.dataLength(tdx()) - 1), "ADS");
      await refusedWith(dataSlice(quote, 0, ethers.dataLength(quote) - 1), "ADS");
    });

    it("malformed headers and signature data (Automata: QHATTF, QEVEN, ADF)", async () => {
      await refusedWith(tdx({ attestationKeyType: 3 }), "QHATTF");
      await refusedWith(sgx({ qeVendorId: "0x" + "00".repeat(16) }), "QEVEN");
      await refusedWith(tdx({ qeReportCertType: 5 }), "ADF");
      await refusedWith(tdx({ qeReportCertSizeDelta: 1 }), "ADF");
      await refusedWith(tdx({ pckCertType: 4 }), "ADF");
      await refusedWith(sgx({ pckCertType: 4 }), "ADF");
    });

    it("signature data too short for its own fields: Automata reverts without a reason, so does the adapter", async () => {
      const { adapter, mock } = await networkHelpers.loadFixture(deployed);
      for (const quote of [tdx({ signatureDataLength: 100 }), sgx({ signatureDataLength: 577 })]) {
        await expect(mock.verifyAndAttestOnChain(quote)).to.be.revertedWithoutReason(ethers);
        await expect(adapter.verifyAttestation(quote)).to.be.revertedWithoutReason(ethers);
      }
    });

    describe("verified outputs the adapter does not decode", () => {
      /** Feeds `(success, output)` verbatim to the adapter and expects the error `name` with `args`. */
      async function refused(success: boolean, output: string, name: string, ...args: unknown[]) {
        const { rawAdapter, raw } = await networkHelpers.loadFixture(deployed);
        await raw.setResult(success, output);
        await expect(rawAdapter.verifyAttestation("0x"))
          .to.be.revertedWithCustomError(rawAdapter, name)
          .withArgs(...args);
      }
      const td10 = quoteBody(tdx());
      const sgxBody = quoteBody(sgx());

      it("quote versions other than 3 and 4", async () => {
        for (const version of [0, 2, 5, 0xffff]) {
          const output = automataOutput(version, 2, 0, FMSPC, td10, []);
          await refused(true, output, "AutomataDcapAdapterUnsupportedQuoteVersion", version);
        }
      });

      it("quote body types other than SGX (1) and, in v4, TD 1.0 (2)", async () => {
        const cases: [number, number, string][] = [
          [4, 3, concat([td10, pattern("td15", 64)])], // TD 1.5 report (v5 only in the real verifier)
          [4, 0, td10],
          [3, 2, td10],
        ];
        for (const [version, bodyType, body] of cases) {
          const output = automataOutput(version, bodyType, 0, FMSPC, body, []);
          await refused(true, output, "AutomataDcapAdapterUnsupportedTeeType", version, bodyType);
        }
      });

      it("outputs shorter than their prefix or body", async () => {
        const cases: [string, number][] = [
          ["0x", 11],
          [dataSlice(automataOutput(4, 2, 0, FMSPC, td10, []), 0, 10), 11],
          [dataSlice(automataOutput(4, 2, 0, FMSPC, td10, []), 0, 11 + 583), 11 + 584],
          [dataSlice(automataOutput(3, 1, 0, FMSPC, sgxBody, []), 0, 11 + 383), 11 + 384],
          [automataOutput(4, 1, 0, FMSPC, "0x", []), 11 + 384],
        ];
        for (const [output, required] of cases) {
          await refused(true, output, "AutomataDcapAdapterOutputTruncated", ethers.dataLength(output), required);
        }
      });

      it("a failure with an empty reason", async () => {
        await refused(false, "0x", "AutomataDcapAdapterVerificationFailed", "0x");
      });
    });
  });

  describe("MockAutomataDcapAttestation reproduces Automata's encoding", () => {
    it("v4 TDX: 0x0004 ‖ 0x0002 ‖ status ‖ FMSPC ‖ the 584-byte TD report ‖ abi.encode(advisory IDs)", async () => {
      const { mock } = await networkHelpers.loadFixture(deployed);
      await mock.setTcbStatus(4);
      await mock.setAdvisoryIds(ADVISORIES);
      const quote = tdx();
      const body = dataSlice(quote, 48, 48 + 584);
      const [success, output] = await mock.verifyAndAttestOnChain.staticCall(quote);
      expect(success).to.equal(true);
      expect(output).to.equal(automataOutput(4, 2, 4, FMSPC, body, ADVISORIES));
      // The same bytes, spelled out: prefix, then Intel's TD report fields at their offsets plus 11.
      expect(dataSlice(output, 0, 11)).to.equal("0x0004000204" + FMSPC.slice(2));
      expect(dataSlice(output, 11 + 136, 11 + 184)).to.equal(MRTD);
      expect(dataSlice(output, 11 + 328, 11 + 520)).to.equal(concat([...RTMRS]));
      expect(dataSlice(output, 11 + 520, 11 + 584)).to.equal(REPORT_DATA);
      expect(dataSlice(output, 11 + 584, 11 + 584 + 32)).to.equal(toBeHex(32, 32)); // offset of the string[]
      expect(dataSlice(output, 11 + 584 + 32, 11 + 584 + 64)).to.equal(toBeHex(ADVISORIES.length, 32));
    });

    it("v3 SGX: body type 1, the 384-byte enclave report, and never advisory IDs", async () => {
      const { mock } = await networkHelpers.loadFixture(deployed);
      await mock.setAdvisoryIds(ADVISORIES); // the V3 verifier always serializes an empty list
      await mock.setTcbStatus(1);
      const quote = sgx();
      const [success, output] = await mock.verifyAndAttestOnChain.staticCall(quote);
      expect(success).to.equal(true);
      expect(output).to.equal(automataOutput(3, 1, 1, FMSPC, dataSlice(quote, 48, 48 + 384), []));
      expect(ethers.dataLength(output)).to.equal(11 + 384);
      expect(dataSlice(output, 11 + 64, 11 + 96)).to.equal(MRENCLAVE);
      expect(dataSlice(output, 11 + 128, 11 + 160)).to.equal(MRSIGNER);
      expect(dataSlice(output, 11 + 320, 11 + 384)).to.equal(REPORT_DATA);
    });

    it("v4 SGX: version 4, body type 1, with the advisory IDs", async () => {
      const { mock } = await networkHelpers.loadFixture(deployed);
      await mock.setAdvisoryIds(ADVISORIES);
      const quote = sgx({ version: 4 });
      expect(await mock.verifyAndAttestOnChain.staticCall(quote)).to.deep.equal([
        true,
        automataOutput(4, 1, 0, FMSPC, dataSlice(quote, 48, 48 + 384), ADVISORIES),
      ]);
    });

    it("the quotes built here follow Intel's layout (header fields, body and signature data positions)", async () => {
      const quote = tdx({ qeSvn: 0x0102, pceSvn: 0x0304 });
      // version 4 LE, key type 2 LE, TEE 0x81 LE, QE SVN, PCE SVN, Intel's QE vendor ID, 20 zero bytes.
      expect(dataSlice(quote, 0, 48)).to.equal(
        "0x04000200810000000201040393" + "9a7233f79c4ca9940a0db3957f0607" + "00".repeat(20),
      );
      expect(dataSlice(quote, 48 + 136, 48 + 184)).to.equal(MRTD);
      const sigLength = ethers.getBytes(dataSlice(quote, 632, 636)).reduceRight((n, b) => n * 256 + b, 0); // u32 LE
      expect(ethers.dataLength(quote)).to.equal(636 + sigLength);
      expect(dataSlice(quote, 636 + 128, 636 + 130)).to.equal("0x0600"); // QE report certification data
      expect(dataSlice(sgx(), 0, 8)).to.equal("0x0300020000000000");
      expect(dataSlice(sgx(), 48 + 64, 48 + 96)).to.equal(MRENCLAVE);
    });
  });
});

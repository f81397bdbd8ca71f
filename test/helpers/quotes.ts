/**
 * Raw Intel DCAP quotes, built byte for byte: a v4 TDX quote (TD 1.0 report body) and v3 (or v4) SGX quotes
 * (enclave report body), each followed by a dummy signature data section of the right shape. Nothing is
 * signed: the signatures, keys, QE report and PCK certificate are filler, so only a verifier that skips the
 * cryptography (MockAutomataDcapAttestation) accepts them.
 *
 * Layouts: Intel TDX DCAP Quoting Library API (DCAP 1.22), Appendix A.3 (v4 quote: header, A.3.2 TD quote
 * body) and A.4 (signature data: A.4.9 QE authentication data, A.4.11 QE certification data), and Intel SGX
 * ECDSA Quote Library API, Appendix A.4 (v3 quote: Table 5 enclave report body, Tables 8 and 9 QE
 * authentication and certification data): the sections Automata's automata-dcap-attestation v1.1.4 cites
 * (evm/contracts/types/CommonStruct.sol, TDXStruct.sol), checked against the parsers of that release and its
 * sample quotes. Integers are little-endian.
 */
import { concat, getAddress, getBytes, hexlify, toUtf8Bytes, type BytesLike } from "ethers";

type Field = readonly [offset: number, size: number];

/** Quote header, 48 bytes (TDX A.3 "Quote Header"; the same layout in v3 SGX quotes). */
export const HEADER = {
  VERSION: [0, 2],
  ATTESTATION_KEY_TYPE: [2, 2],
  TEE_TYPE: [4, 4],
  QE_SVN: [8, 2],
  PCE_SVN: [10, 2],
  QE_VENDOR_ID: [12, 16],
  USER_DATA: [28, 20],
} as const satisfies Record<string, Field>;
export const HEADER_LENGTH = 48;

/** TD 1.0 report body of a v4 TDX quote, 584 bytes (TDX A.3.2 "TD Quote Body"). */
export const TD10 = {
  TEE_TCB_SVN: [0, 16],
  MRSEAM: [16, 48],
  MRSIGNERSEAM: [64, 48],
  SEAMATTRIBUTES: [112, 8],
  TDATTRIBUTES: [120, 8],
  XFAM: [128, 8],
  MRTD: [136, 48],
  MRCONFIGID: [184, 48],
  MROWNER: [232, 48],
  MROWNERCONFIG: [280, 48],
  RTMR0: [328, 48],
  RTMR1: [376, 48],
  RTMR2: [424, 48],
  RTMR3: [472, 48],
  REPORTDATA: [520, 64],
} as const satisfies Record<string, Field>;
export const TD10_LENGTH = 584;

/** SGX enclave report body, 384 bytes (SGX A.4 Table 5 "Enclave Report Body"; TDX A.3.10; sgx_report_body_t). */
export const SGX_REPORT = {
  CPUSVN: [0, 16],
  MISCSELECT: [16, 4],
  RESERVED1: [20, 12],
  ISVEXTPRODID: [32, 16],
  ATTRIBUTES: [48, 16],
  MRENCLAVE: [64, 32],
  RESERVED2: [96, 32],
  MRSIGNER: [128, 32],
  RESERVED3: [160, 32],
  CONFIGID: [192, 64],
  ISVPRODID: [256, 2],
  ISVSVN: [258, 2],
  CONFIGSVN: [260, 2],
  RESERVED4: [262, 42],
  ISVFAMILYID: [304, 16],
  REPORTDATA: [320, 64],
} as const satisfies Record<string, Field>;
export const SGX_REPORT_LENGTH = 384;

/** Header values (TDX A.3): attestation key type 2 = ECDSA-256-with-P-256; TEE type 0x00 SGX, 0x81 TDX. */
export const ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
/** QE vendor ID of Intel's quoting enclave. */
export const INTEL_QE_VENDOR_ID = "0x939a7233f79c4ca9940a0db3957f0607";
/** Certification data types (TDX A.4.11): 5 = PCK certificate chain (PEM), 6 = QE report certification data. */
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;

/** Header fields; each defaults to what a real quoting enclave writes. */
export interface HeaderOptions {
  version?: number;
  attestationKeyType?: number;
  teeType?: number;
  qeSvn?: number;
  pceSvn?: number;
  qeVendorId?: BytesLike;
  userData?: BytesLike;
}

/** Shape of the dummy signature data; the defaults are well formed. */
export interface SignatureDataOptions {
  /** Announced signature data length, in place of the real one. */
  signatureDataLength?: number;
  /** v4 only: certification data type of the QE report section (6). */
  qeReportCertType?: number;
  /** Certification data type of the PCK section (5). */
  pckCertType?: number;
  /** v4 only: added to the announced size of the QE report certification data. */
  qeReportCertSizeDelta?: number;
}

export interface TdxQuoteFields extends HeaderOptions, SignatureDataOptions {
  mrtd: BytesLike;
  rtmrs: readonly [BytesLike, BytesLike, BytesLike, BytesLike];
  reportData: BytesLike;
  teeTcbSvn?: BytesLike;
  mrSeam?: BytesLike;
  mrSignerSeam?: BytesLike;
  seamAttributes?: BytesLike;
  tdAttributes?: BytesLike;
  xfam?: BytesLike;
  mrConfigId?: BytesLike;
  mrOwner?: BytesLike;
  mrOwnerConfig?: BytesLike;
}

export interface SgxQuoteFields extends HeaderOptions, SignatureDataOptions {
  mrEnclave: BytesLike;
  mrSigner: BytesLike;
  reportData: BytesLike;
  cpuSvn?: BytesLike;
  miscSelect?: number;
  attributes?: BytesLike;
  isvProdId?: number;
  isvSvn?: number;
}

function le(value: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0, v = BigInt(value); i < size; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

function fill(size: number, byte: number): Uint8Array {
  return new Uint8Array(size).fill(byte);
}

/** Writes `value` into `buffer` at `field`; `value` must be exactly the field's size. */
function put(buffer: Uint8Array, [offset, size]: Field, value: BytesLike | Uint8Array, name: string): void {
  const bytes = getBytes(value);
  if (bytes.length !== size) throw new Error(`${name}: ${bytes.length} bytes, the field is ${size}`);
  buffer.set(bytes, offset);
}

function header(o: HeaderOptions, defaultVersion: number, defaultTee: number): Uint8Array {
  const h = new Uint8Array(HEADER_LENGTH);
  put(h, HEADER.VERSION, le(o.version ?? defaultVersion, 2), "version");
  put(h, HEADER.ATTESTATION_KEY_TYPE, le(o.attestationKeyType ?? ATTESTATION_KEY_TYPE_ECDSA_P256, 2), "key type");
  put(h, HEADER.TEE_TYPE, le(o.teeType ?? defaultTee, 4), "tee type");
  put(h, HEADER.QE_SVN, le(o.qeSvn ?? 9, 2), "qe svn");
  put(h, HEADER.PCE_SVN, le(o.pceSvn ?? 14, 2), "pce svn");
  put(h, HEADER.QE_VENDOR_ID, o.qeVendorId ?? INTEL_QE_VENDOR_ID, "qe vendor id");
  put(h, HEADER.USER_DATA, o.userData ?? fill(20, 0), "user data");
  return h;
}

/** A PEM-looking PCK chain of the right type; its content is never parsed by the mock. */
const DUMMY_PCK_CHAIN = toUtf8Bytes("-----BEGIN CERTIFICATE-----\nVERITY-TEST-ONLY\n-----END CERTIFICATE-----\n");

/**
 * Signature data (TDX A.4 / SGX A.4): ECDSA signature (64) ‖ attestation key (64) ‖ then, in v4, the
 * QE report certification data (type 6, size) wrapping what v3 has inline: QE report (384) ‖ QE report
 * signature (64) ‖ QE auth data size (u16) and data ‖ PCK certification data type (5), size (u32) and data.
 */
function signatureData(version: number, o: SignatureDataOptions): Uint8Array {
  const qeAuthData = Uint8Array.from({ length: 32 }, (_, i) => i);
  const pck = concat([le(o.pckCertType ?? CERT_TYPE_PCK_CHAIN, 2), le(DUMMY_PCK_CHAIN.length, 4), DUMMY_PCK_CHAIN]);
  const qeSection = getBytes(
    concat([fill(SGX_REPORT_LENGTH, 0x33), fill(64, 0x44), le(qeAuthData.length, 2), qeAuthData, pck]),
  );
  const keys = concat([fill(64, 0x11), fill(64, 0x22)]);
  if (version === 3) return getBytes(concat([keys, qeSection]));
  const qeCertSize = qeSection.length + (o.qeReportCertSizeDelta ?? 0);
  return getBytes(concat([keys, le(o.qeReportCertType ?? CERT_TYPE_QE_REPORT, 2), le(qeCertSize, 4), qeSection]));
}

function assemble(h: Uint8Array, body: Uint8Array, version: number, o: SignatureDataOptions): string {
  const sig = signatureData(version, o);
  return hexlify(concat([h, body, le(o.signatureDataLength ?? sig.length, 4), sig]));
}

/** A v4 TDX quote (TD 1.0 report body) with the given measurements and report data. */
export function tdxQuote(f: TdxQuoteFields): string {
  const b = new Uint8Array(TD10_LENGTH);
  put(b, TD10.TEE_TCB_SVN, f.teeTcbSvn ?? "0x04010700000000000000000000000000", "TEE_TCB_SVN");
  put(b, TD10.MRSEAM, f.mrSeam ?? fill(48, 0x5e), "MRSEAM");
  put(b, TD10.MRSIGNERSEAM, f.mrSignerSeam ?? fill(48, 0), "MRSIGNERSEAM");
  put(b, TD10.SEAMATTRIBUTES, f.seamAttributes ?? fill(8, 0), "SEAMATTRIBUTES");
  put(b, TD10.TDATTRIBUTES, f.tdAttributes ?? "0x0000001000000000", "TDATTRIBUTES");
  put(b, TD10.XFAM, f.xfam ?? "0xe702060000000000", "XFAM");
  put(b, TD10.MRTD, f.mrtd, "MRTD");
  put(b, TD10.MRCONFIGID, f.mrConfigId ?? fill(48, 0), "MRCONFIGID");
  put(b, TD10.MROWNER, f.mrOwner ?? fill(48, 0), "MROWNER");
  put(b, TD10.MROWNERCONFIG, f.mrOwnerConfig ?? fill(48, 0), "MROWNERCONFIG");
  put(b, TD10.RTMR0, f.rtmrs[0], "RTMR0");
  put(b, TD10.RTMR1, f.rtmrs[1], "RTMR1");
  put(b, TD10.RTMR2, f.rtmrs[2], "RTMR2");
  put(b, TD10.RTMR3, f.rtmrs[3], "RTMR3");
  put(b, TD10.REPORTDATA, f.reportData, "REPORTDATA");
  const version = f.version ?? 4;
  return assemble(header(f, 4, TEE_TYPE_TDX), b, version, f);
}

/** A v3 SGX quote (or v4 with `version: 4`) with the given enclave measurements and report data. */
export function sgxQuote(f: SgxQuoteFields): string {
  const b = new Uint8Array(SGX_REPORT_LENGTH);
  put(b, SGX_REPORT.CPUSVN, f.cpuSvn ?? "0x0e0e100fffff01000000000000000000", "CPUSVN");
  put(b, SGX_REPORT.MISCSELECT, le(f.miscSelect ?? 0, 4), "MISCSELECT");
  put(b, SGX_REPORT.ATTRIBUTES, f.attributes ?? "0x0500000000000000e700000000000000", "ATTRIBUTES");
  put(b, SGX_REPORT.MRENCLAVE, f.mrEnclave, "MRENCLAVE");
  put(b, SGX_REPORT.MRSIGNER, f.mrSigner, "MRSIGNER");
  put(b, SGX_REPORT.ISVPRODID, le(f.isvProdId ?? 1, 2), "ISVPRODID");
  put(b, SGX_REPORT.ISVSVN, le(f.isvSvn ?? 2, 2), "ISVSVN");
  put(b, SGX_REPORT.REPORTDATA, f.reportData, "REPORTDATA");
  const version = f.version ?? 3;
  return assemble(header(f, 3, TEE_TYPE_SGX), b, version, f);
}

/** The report body of a quote built here (its length follows from the header's TEE type). */
export function quoteBody(quote: BytesLike): string {
  const q = getBytes(quote);
  const tee = q[4] | (q[5] << 8) | (q[6] << 16) | (q[7] << 24);
  const length = tee === TEE_TYPE_TDX ? TD10_LENGTH : SGX_REPORT_LENGTH;
  return hexlify(q.slice(HEADER_LENGTH, HEADER_LENGTH + length));
}

/** Verity's report data (docs/protocol.md, "Report data"): key (20) ‖ zero (12) ‖ binding (32). */
export function reportDataOf(enclaveKey: string, binding: BytesLike, padding: BytesLike = new Uint8Array(12)): string {
  if (getBytes(padding).length !== 12) throw new Error("padding is 12 bytes");
  if (getBytes(binding).length !== 32) throw new Error("binding is 32 bytes");
  return concat([getAddress(enclaveKey), padding, binding]);
}

/** Verity's canonical measurement: MRTD ‖ RTMR0..3 (240 bytes) for TDX, MRENCLAVE ‖ MRSIGNER (64) for SGX. */
export function canonicalMeasurement(
  m:
    | { mrtd: BytesLike; rtmrs: readonly [BytesLike, BytesLike, BytesLike, BytesLike] }
    | { mrEnclave: BytesLike; mrSigner: BytesLike },
): string {
  const [parts, size] = "mrtd" in m ? [[m.mrtd, ...m.rtmrs], 48] : [[m.mrEnclave, m.mrSigner], 32];
  for (const p of parts) if (getBytes(p).length !== size) throw new Error(`measurement registers are ${size} bytes`);
  return concat(parts);
}

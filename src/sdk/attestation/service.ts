/**
 * The off-chain half of Verity's attestation service: verify a TEE quote, then sign what it proves as an
 * EIP-712 `ServiceStatement` that `AttestationServiceVerifier` checks on-chain.
 *
 * Signing keys are P-256 (node:crypto `KeyObject`, e.g. from an HSM export or a KMS-compatible store) or
 * secp256k1 (any ethers signer). A P-256 key signs the 32-byte EIP-712 digest as an ES256 message, i.e.
 * ECDSA over `sha256(digest)`, low-s; a secp256k1 key signs the digest itself (`signTypedData`).
 *
 * Intel DCAP quotes are verified with `@phala/dcap-qvl` against collateral the caller passes in: this
 * module never fetches anything.
 * @packageDocumentation
 */
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import {
  AbiCoder,
  ZeroAddress,
  getAddress,
  getBytes,
  hexlify,
  isAddress,
  isHexString,
  keccak256,
  recoverAddress,
  toBeHex,
  TypedDataEncoder,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { QuoteVerifier, type Collateral, type VerifiedReport } from "@phala/dcap-qvl";
import { MEASUREMENT_LENGTH, TcbStatus, TeeType } from "../../protocol/tee.js";

// ------------------------------------------------------------------ protocol constants

export { TcbStatus, TeeType };

/** Byte length of each TEE type's canonical measurement (TDX: MRTD ‖ RTMR0..3; SGX: MRENCLAVE ‖ MRSIGNER; Nitro: PCR0..2). */
export const MEASUREMENT_BYTES = MEASUREMENT_LENGTH;

/** `AttestationServiceVerifier.VERIFIER_KIND`. */
export const ATTESTATION_SERVICE_VERIFIER_KIND = keccak256(
  new TextEncoder().encode("verity.verifier.attestation-service.v1"),
);

/** EIP-712 domain name and version of the verifier. */
export const SERVICE_DOMAIN_NAME = "Verity Attestation Service";
export const SERVICE_DOMAIN_VERSION = "1";

/** The EIP-712 types of a statement: `measurement` is `bytes`, so it enters the digest as its keccak256. */
export const SERVICE_STATEMENT_TYPES: Record<string, TypedDataField[]> = {
  ServiceStatement: [
    { name: "teeType", type: "uint8" },
    { name: "measurement", type: "bytes" },
    { name: "enclaveKey", type: "address" },
    { name: "binding", type: "bytes32" },
    { name: "tcbStatus", type: "uint8" },
    { name: "expiry", type: "uint64" },
    { name: "signerId", type: "bytes32" },
  ],
};

/** ABI type of the evidence `abi.encode(ServiceStatement, bytes32 signerId, bytes signature)`. */
const EVIDENCE_TYPES = [
  "tuple(uint8 teeType, bytes measurement, address enclaveKey, bytes32 binding, uint8 tcbStatus, uint64 expiry)",
  "bytes32",
  "bytes",
];

/** Key kinds as the contract numbers them (`ServiceKeyKind`): part of the signer id. */
const KEY_KIND_P256 = 1;
const KEY_KIND_SECP256K1 = 2;

/** Order of P-256, and half of it: the contract refuses s above the half. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P256_HALF_N = P256_N >> 1n;

const UINT64_MAX = (1n << 64n) - 1n;
/** Largest raw quote accepted (real quotes with their PCK chain are ~5 KB). */
export const MAX_QUOTE_BYTES = 64 * 1024;

const coder = AbiCoder.defaultAbiCoder();

// ------------------------------------------------------------------ statements

/** What the service vouches for (`ServiceStatement` in AttestationServiceVerifier.sol). */
export interface ServiceStatement {
  teeType: TeeType;
  /** Hex measurement in the canonical layout of `teeType`. */
  measurement: string;
  /** The enclave's secp256k1 address (report data bytes 0..19). */
  enclaveKey: string;
  /** Report data bytes 32..63. */
  binding: string;
  tcbStatus: TcbStatus;
  /** Unix seconds; the statement is valid while the block time is below it. */
  expiry: bigint;
}

/** Where the statement will be verified: the chain and the verifier contract (the rest of the domain is fixed). */
export interface StatementDomain {
  chainId: bigint | number;
  verifyingContract: string;
}

/** A P-256 or secp256k1 service signing key. */
export type StatementSigner =
  | { kind: "p256"; privateKey: KeyObject }
  | {
      kind: "secp256k1";
      wallet: {
        getAddress(): Promise<string>;
        signTypedData(
          domain: TypedDataDomain,
          types: Record<string, TypedDataField[]>,
          value: Record<string, unknown>,
        ): Promise<string>;
      };
    };

/** A signed statement: the signer id and the signature the verifier expects. */
export interface SignedStatement {
  statement: ServiceStatement;
  signerId: string;
  signature: string;
  /** The EIP-712 digest that was signed. */
  digest: string;
}

function isBytes32(value: unknown): value is string {
  return typeof value === "string" && isHexString(value, 32);
}

/**
 * Checks every field of `statement` against the contract's rules and returns it normalised (lower-case
 * hex, checksummed address). Throws one Error naming the first bad field.
 */
export function validateStatement(statement: ServiceStatement): ServiceStatement {
  if (statement === null || typeof statement !== "object") throw new Error("statement: not an object");
  const { teeType, measurement, enclaveKey, binding, tcbStatus, expiry } = statement;
  if (teeType !== TeeType.IntelTdx && teeType !== TeeType.IntelSgx && teeType !== TeeType.AwsNitro) {
    throw new Error(`statement.teeType: ${String(teeType)} is not IntelTdx (1), IntelSgx (2) or AwsNitro (3)`);
  }
  if (typeof measurement !== "string" || !isHexString(measurement, true)) {
    throw new Error("statement.measurement: not a 0x-prefixed hex string of whole bytes");
  }
  const measurementLength = (measurement.length - 2) / 2;
  if (measurementLength !== MEASUREMENT_BYTES[teeType]) {
    throw new Error(
      `statement.measurement: ${measurementLength} bytes, ${TeeType[teeType]} needs ${MEASUREMENT_BYTES[teeType]}`,
    );
  }
  if (typeof enclaveKey !== "string" || !isAddress(enclaveKey) || getAddress(enclaveKey) === ZeroAddress) {
    throw new Error("statement.enclaveKey: not a non-zero address");
  }
  if (!isBytes32(binding)) throw new Error("statement.binding: not a 32-byte hex string");
  if (!Number.isInteger(tcbStatus) || tcbStatus < TcbStatus.Unrecognized || tcbStatus > TcbStatus.Revoked) {
    throw new Error(`statement.tcbStatus: ${String(tcbStatus)} is not a TcbStatus (0..7)`);
  }
  if (typeof expiry !== "bigint" || expiry <= 0n || expiry > UINT64_MAX) {
    throw new Error("statement.expiry: not a bigint in 1..2^64-1");
  }
  return {
    teeType,
    measurement: measurement.toLowerCase(),
    enclaveKey: getAddress(enclaveKey),
    binding: binding.toLowerCase(),
    tcbStatus,
    expiry,
  };
}

function typedDomain(domain: StatementDomain): TypedDataDomain {
  if (domain === null || typeof domain !== "object") throw new Error("domain: not an object");
  const { chainId, verifyingContract } = domain;
  if (!(typeof chainId === "bigint" || Number.isSafeInteger(chainId)) || BigInt(chainId) <= 0n) {
    throw new Error("domain.chainId: not a positive integer");
  }
  if (typeof verifyingContract !== "string" || !isAddress(verifyingContract)) {
    throw new Error("domain.verifyingContract: not an address");
  }
  return {
    name: SERVICE_DOMAIN_NAME,
    version: SERVICE_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: getAddress(verifyingContract),
  };
}

function typedValue(statement: ServiceStatement, signerId: string): Record<string, unknown> {
  if (!isBytes32(signerId)) throw new Error("signerId: not a 32-byte hex string");
  return { ...statement, signerId };
}

/**
 * The EIP-712 digest of `statement` signed by `signerId` for the verifier in `domain`; equals the
 * contract's `hashStatement(statement, signerId)`.
 */
export function statementDigest(statement: ServiceStatement, signerId: string, domain: StatementDomain): string {
  return TypedDataEncoder.hash(
    typedDomain(domain),
    SERVICE_STATEMENT_TYPES,
    typedValue(validateStatement(statement), signerId),
  );
}

/** The affine coordinates of a P-256 key (public, or the public half of a private one). */
export function p256PublicKeyOf(key: KeyObject): { qx: string; qy: string } {
  const publicKey = key?.type === "private" ? createPublicKey(key) : key;
  if (
    publicKey?.type !== "public" ||
    publicKey.asymmetricKeyType !== "ec" ||
    publicKey.asymmetricKeyDetails?.namedCurve !== "prime256v1"
  ) {
    throw new Error("P-256 key: not a node:crypto EC key on prime256v1 (P-256)");
  }
  const jwk = publicKey.export({ format: "jwk" });
  const x = Buffer.from(jwk.x ?? "", "base64url");
  const y = Buffer.from(jwk.y ?? "", "base64url");
  if (x.length !== 32 || y.length !== 32) throw new Error("P-256 key: coordinates are not 32 bytes");
  return { qx: hexlify(x), qy: hexlify(y) };
}

/** `AttestationServiceVerifier.p256SignerId(qx, qy)`. */
export function p256SignerId(qx: string, qy: string): string {
  if (!isBytes32(qx) || !isBytes32(qy)) throw new Error("P-256 signer id: qx and qy must be 32-byte hex strings");
  return keccak256(coder.encode(["uint8", "bytes32", "bytes32"], [KEY_KIND_P256, qx, qy]));
}

/** `AttestationServiceVerifier.secp256k1SignerId(account)`. */
export function secp256k1SignerId(account: string): string {
  if (typeof account !== "string" || !isAddress(account) || getAddress(account) === ZeroAddress) {
    throw new Error("secp256k1 signer id: not a non-zero address");
  }
  return keccak256(coder.encode(["uint8", "address"], [KEY_KIND_SECP256K1, account]));
}

/** The signer id of `signer`'s key. */
export async function signerIdOf(signer: StatementSigner): Promise<string> {
  if (signer?.kind === "p256") {
    const { qx, qy } = p256PublicKeyOf(signer.privateKey);
    return p256SignerId(qx, qy);
  }
  if (signer?.kind === "secp256k1") return secp256k1SignerId(await signer.wallet.getAddress());
  throw new Error('signer: kind must be "p256" or "secp256k1"');
}

/**
 * Signs `statement` for the verifier in `domain`. P-256: 64 bytes r ‖ s of ECDSA-SHA256 over the digest,
 * with s normalised to the lower half (the contract refuses the other). secp256k1: the 65-byte
 * `signTypedData` signature, checked to recover to the signer.
 */
export async function signStatement(
  statement: ServiceStatement,
  signer: StatementSigner,
  domain: StatementDomain,
): Promise<SignedStatement> {
  const normalised = validateStatement(statement);
  const signerId = await signerIdOf(signer);
  const digest = statementDigest(normalised, signerId, domain);
  let signature: string;
  if (signer.kind === "p256") {
    if (signer.privateKey.type !== "private") throw new Error("P-256 signer: privateKey is not a private key");
    // IEEE P1363 encoding is r ‖ s, 32 bytes each: no DER to parse.
    const raw = cryptoSign("sha256", getBytes(digest), { key: signer.privateKey, dsaEncoding: "ieee-p1363" });
    if (raw.length !== 64) throw new Error(`P-256 signer: signature has ${raw.length} bytes, not 64`);
    signature = normaliseP256Signature(raw);
    const ok = cryptoVerify(
      "sha256",
      getBytes(digest),
      { key: createPublicKey(signer.privateKey), dsaEncoding: "ieee-p1363" },
      getBytes(signature),
    );
    if (!ok) throw new Error("P-256 signer: produced a signature that does not verify");
  } else {
    signature = await signer.wallet.signTypedData(
      typedDomain(domain),
      SERVICE_STATEMENT_TYPES,
      typedValue(normalised, signerId),
    );
    if (!isHexString(signature, 65)) throw new Error("secp256k1 signer: signature is not 65 bytes");
    let recovered = "";
    try {
      recovered = recoverAddress(digest, signature);
    } catch {
      // a non-canonical (e.g. high-s) signature: refused below with the same message
    }
    if (recovered !== getAddress(await signer.wallet.getAddress())) {
      throw new Error("secp256k1 signer: signature does not recover to the signer's address");
    }
  }
  return { statement: normalised, signerId, signature, digest };
}

/**
 * A 64-byte P-256 signature r ‖ s with s in the lower half of the group order: (r, n - s) is the same
 * signature, and the verifier refuses the upper half so that no signature has two encodings.
 */
export function normaliseP256Signature(signature: Uint8Array): string {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new Error("P-256 signature: not 64 bytes");
  const r = BigInt(hexlify(signature.subarray(0, 32)));
  let s = BigInt(hexlify(signature.subarray(32, 64)));
  if (r === 0n || r >= P256_N || s === 0n || s >= P256_N) throw new Error("P-256 signature: r or s out of range");
  if (s > P256_HALF_N) s = P256_N - s;
  return hexlify(new Uint8Array([...signature.subarray(0, 32), ...getBytes(toBeHex(s, 32))]));
}

/** The `evidence` argument of `verifyAttestation`: `abi.encode(statement, signerId, signature)`. */
export function encodeEvidence(statement: ServiceStatement, signerId: string, signature: string): string {
  const s = validateStatement(statement);
  if (!isBytes32(signerId)) throw new Error("signerId: not a 32-byte hex string");
  if (typeof signature !== "string" || !(isHexString(signature, 64) || isHexString(signature, 65))) {
    throw new Error("signature: not 64 (P-256) or 65 (secp256k1) bytes of hex");
  }
  return coder.encode(EVIDENCE_TYPES, [
    [s.teeType, s.measurement, s.enclaveKey, s.binding, s.tcbStatus, s.expiry],
    signerId,
    signature,
  ]);
}

// ------------------------------------------------------------------ DCAP quotes

/** The parts of a dcap-qvl report this module reads (`VerifiedReport["report"]`). */
export type DcapReport = VerifiedReport["report"];

/** What a verified DCAP quote proves, in Verity's terms. */
export interface DcapVerification {
  teeType: TeeType.IntelTdx | TeeType.IntelSgx;
  /** Hex measurement in the canonical layout of `teeType`. */
  measurement: string;
  /** The 64 bytes of report data. */
  reportData: string;
  enclaveKey: string;
  binding: string;
  tcbStatus: TcbStatus;
  /** dcap-qvl's status string and Intel advisory ids. */
  dcapStatus: string;
  advisoryIds: string[];
  /** Earliest `nextUpdate` of the TCB info and the QE identity (unix seconds): no statement outlives it. */
  collateralNotAfter: bigint;
}

/** Options of `verifyDcapQuote`. */
export interface DcapVerifyOptions {
  /** DER of the root CA the PCK and collateral chains must end in; Intel's SGX root CA when absent. */
  rootCaDer?: Uint8Array;
  /** PCK CRLs, TCB info and QE identity with their chains and signatures, as PCCS serves them. Required. */
  collateral?: Collateral;
  /** Verification time, unix seconds. */
  now: number | bigint;
}

const DCAP_STATUSES: Readonly<Record<string, TcbStatus>> = {
  UpToDate: TcbStatus.UpToDate,
  SWHardeningNeeded: TcbStatus.SwHardeningNeeded,
  ConfigurationAndSWHardeningNeeded: TcbStatus.ConfigurationAndSwHardeningNeeded,
  ConfigurationNeeded: TcbStatus.ConfigurationNeeded,
  OutOfDate: TcbStatus.OutOfDate,
  OutOfDateConfigurationNeeded: TcbStatus.OutOfDateConfigurationNeeded,
  Revoked: TcbStatus.Revoked,
};

/** Verity's `TcbStatus` of a dcap-qvl status string; anything else is `Unrecognized`. */
export function tcbStatusOfDcap(status: string): TcbStatus {
  return Object.hasOwn(DCAP_STATUSES, status) ? DCAP_STATUSES[status]! : TcbStatus.Unrecognized;
}

function field(data: unknown, name: string, length: number, where: string): Uint8Array {
  const value = (data as Record<string, unknown> | null)?.[name];
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new Error(`${where}.${name}: not ${length} bytes`);
  }
  return value;
}

/** The TD report of a `td10` or `td15` dcap-qvl report (a TD 1.5 report extends a TD 1.0 one). */
function tdReportOf(report: DcapReport): unknown {
  if (report.type === "td10") return report.data;
  return (report.data as { base?: unknown } | null)?.base;
}

/**
 * The TEE type and canonical measurement of a dcap-qvl report: SGX MRENCLAVE ‖ MRSIGNER (64 bytes),
 * TDX MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3 (240 bytes).
 */
export function measurementOfReport(report: DcapReport): {
  teeType: TeeType.IntelTdx | TeeType.IntelSgx;
  measurement: string;
} {
  if (report === null || typeof report !== "object") throw new Error("DCAP report: not an object");
  if (report.type === "sgx") {
    const where = "DCAP SGX report";
    const parts = [field(report.data, "mrEnclave", 32, where), field(report.data, "mrSigner", 32, where)];
    return { teeType: TeeType.IntelSgx, measurement: hexlify(Buffer.concat(parts)) };
  }
  if (report.type === "td10" || report.type === "td15") {
    const td = tdReportOf(report);
    const where = `DCAP ${report.type} report`;
    const parts = ["mrTd", "rtMr0", "rtMr1", "rtMr2", "rtMr3"].map((name) => field(td, name, 48, where));
    return { teeType: TeeType.IntelTdx, measurement: hexlify(Buffer.concat(parts)) };
  }
  throw new Error(`DCAP report: unknown type ${JSON.stringify(String((report as { type?: unknown }).type))}`);
}

/** The report data of a dcap-qvl report (64 bytes). */
export function reportDataOfReport(report: DcapReport): Uint8Array {
  if (report === null || typeof report !== "object") throw new Error("DCAP report: not an object");
  if (report.type === "sgx") return field(report.data, "reportData", 64, "DCAP SGX report");
  if (report.type === "td10" || report.type === "td15") {
    return field(tdReportOf(report), "reportData", 64, `DCAP ${report.type} report`);
  }
  throw new Error(`DCAP report: unknown type ${JSON.stringify(String((report as { type?: unknown }).type))}`);
}

/**
 * Splits 64 bytes of report data per Verity's layout: bytes 0..19 the enclave key (non-zero), 20..31
 * zero, 32..63 the binding.
 */
export function splitReportData(reportData: Uint8Array): { enclaveKey: string; binding: string } {
  if (!(reportData instanceof Uint8Array) || reportData.length !== 64) throw new Error("report data: not 64 bytes");
  if (reportData.subarray(20, 32).some((b) => b !== 0)) {
    throw new Error("report data: bytes 20..31 are not zero (not Verity's layout)");
  }
  const enclaveKey = getAddress(hexlify(reportData.subarray(0, 20)));
  if (enclaveKey === ZeroAddress) throw new Error("report data: the enclave key (bytes 0..19) is zero");
  return { enclaveKey, binding: hexlify(reportData.subarray(32, 64)) };
}

const COLLATERAL_STRINGS = [
  "pck_crl_issuer_chain",
  "tcb_info_issuer_chain",
  "tcb_info",
  "qe_identity_issuer_chain",
  "qe_identity",
];
const COLLATERAL_BYTES = ["root_ca_crl", "pck_crl", "tcb_info_signature", "qe_identity_signature"];

/** Checks the shape of `collateral` and returns the earliest `nextUpdate` of its TCB info and QE identity. */
function checkCollateral(collateral: unknown): bigint {
  if (collateral === null || typeof collateral !== "object") {
    throw new Error("collateral: required (an object as PCCS serves it); it is never fetched");
  }
  const c = collateral as Record<string, unknown>;
  for (const name of COLLATERAL_STRINGS) {
    if (typeof c[name] !== "string" || c[name] === "") throw new Error(`collateral.${name}: not a non-empty string`);
  }
  for (const name of COLLATERAL_BYTES) {
    const v = c[name];
    const ok =
      (typeof v === "string" && /^([0-9a-fA-F]{2})+$/.test(v)) ||
      (Array.isArray(v) && v.length > 0 && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255));
    if (!ok) throw new Error(`collateral.${name}: not non-empty hex (no 0x) or a byte array`);
  }
  let notAfter = UINT64_MAX;
  for (const name of ["tcb_info", "qe_identity"]) {
    let nextUpdate: unknown;
    try {
      nextUpdate = (JSON.parse(c[name] as string) as { nextUpdate?: unknown }).nextUpdate;
    } catch {
      throw new Error(`collateral.${name}: not JSON`);
    }
    const ms = typeof nextUpdate === "string" ? Date.parse(nextUpdate) : NaN;
    if (!Number.isFinite(ms)) throw new Error(`collateral.${name}: no valid nextUpdate`);
    const secs = BigInt(Math.floor(ms / 1000));
    if (secs < notAfter) notAfter = secs;
  }
  return notAfter;
}

function quoteBytes(rawQuote: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array;
  if (rawQuote instanceof Uint8Array) bytes = rawQuote;
  else if (typeof rawQuote === "string" && isHexString(rawQuote, true)) bytes = getBytes(rawQuote);
  else throw new Error("quote: not bytes or 0x-prefixed hex");
  if (bytes.length === 0 || bytes.length > MAX_QUOTE_BYTES) {
    throw new Error(`quote: ${bytes.length} bytes, expected 1..${MAX_QUOTE_BYTES}`);
  }
  return bytes;
}

function nowSeconds(now: unknown): number {
  const n = typeof now === "bigint" ? Number(now) : now;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
    throw new Error("now: not a non-negative integer (unix seconds)");
  return n;
}

/**
 * Verifies an Intel SGX or TDX DCAP quote with `@phala/dcap-qvl` against `rootCaDer` (Intel's root
 * when absent) and the given collateral at time `now`, and maps what it proves to Verity's layout.
 * Throws if the quote does not verify (dcap-qvl refuses Revoked and unknown TCB statuses, debug
 * enclaves and TDs) or if its report data is not in Verity's layout.
 */
export function verifyDcapQuote(rawQuote: Uint8Array | string, options: DcapVerifyOptions): DcapVerification {
  const bytes = quoteBytes(rawQuote);
  if (options === null || typeof options !== "object") throw new Error("options: not an object");
  const now = nowSeconds(options.now);
  const collateralNotAfter = checkCollateral(options.collateral);
  if (
    options.rootCaDer !== undefined &&
    (!(options.rootCaDer instanceof Uint8Array) || options.rootCaDer.length === 0)
  ) {
    throw new Error("rootCaDer: not non-empty DER bytes");
  }
  const verifier =
    options.rootCaDer === undefined
      ? QuoteVerifier.newProd()
      : QuoteVerifier.newWithRootCa(Buffer.from(options.rootCaDer));
  let verified: VerifiedReport;
  try {
    verified = verifier.verify(bytes, options.collateral as Collateral, now);
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : "";
    throw new Error(`DCAP quote does not verify: ${e instanceof Error ? e.message : String(e)}${cause}`, { cause: e });
  }
  const { teeType, measurement } = measurementOfReport(verified.report);
  const reportData = reportDataOfReport(verified.report);
  const { enclaveKey, binding } = splitReportData(reportData);
  return {
    teeType,
    measurement,
    reportData: hexlify(reportData),
    enclaveKey,
    binding,
    tcbStatus: tcbStatusOfDcap(verified.status),
    dcapStatus: verified.status,
    advisoryIds: [...verified.advisory_ids],
    collateralNotAfter,
  };
}

/** Options of `attestQuote`. */
export interface AttestQuoteOptions extends DcapVerifyOptions {
  signer: StatementSigner;
  domain: StatementDomain;
  /** Statement expiry (unix seconds); default `now + 3600`, capped at the collateral's `nextUpdate`. */
  expiry?: bigint;
}

/** A quote verified and vouched for: the statement, its signature and the evidence for `verifyAttestation`. */
export interface QuoteAttestation extends SignedStatement {
  verification: DcapVerification;
  evidence: string;
}

/**
 * Default lifetime of a statement, seconds: 30 days, the registry's longest key lifetime. The statement's expiry
 * is the latest time the service vouches for the enclave, so it also caps the lifetime of the key registered
 * with it (EnvironmentRegistry: `expiresAt <= notAfter`); freshness comes from the registry nonce instead.
 */
export const DEFAULT_STATEMENT_LIFETIME = 30n * 24n * 3600n;

/**
 * The whole service: verifies `rawQuote` (see `verifyDcapQuote`), builds the statement and signs it.
 * Refuses to vouch for an `Unrecognized` or `Revoked` TCB and for an expiry that is not after `now` or
 * outlives the collateral.
 */
export async function attestQuote(
  rawQuote: Uint8Array | string,
  options: AttestQuoteOptions,
): Promise<QuoteAttestation> {
  const verification = verifyDcapQuote(rawQuote, options);
  if (verification.tcbStatus === TcbStatus.Unrecognized || verification.tcbStatus === TcbStatus.Revoked) {
    throw new Error(`DCAP quote: TCB status ${verification.dcapStatus} is never vouched for`);
  }
  const now = BigInt(nowSeconds(options.now));
  const requested = options.expiry ?? now + DEFAULT_STATEMENT_LIFETIME;
  if (typeof requested !== "bigint") throw new Error("expiry: not a bigint");
  const expiry =
    options.expiry === undefined && requested > verification.collateralNotAfter
      ? verification.collateralNotAfter
      : requested;
  if (expiry <= now) throw new Error(`expiry: ${expiry} is not after now (${now})`);
  if (expiry > verification.collateralNotAfter) {
    throw new Error(`expiry: ${expiry} outlives the collateral (nextUpdate ${verification.collateralNotAfter})`);
  }
  const statement: ServiceStatement = {
    teeType: verification.teeType,
    measurement: verification.measurement,
    enclaveKey: verification.enclaveKey,
    binding: verification.binding,
    tcbStatus: verification.tcbStatus,
    expiry,
  };
  const signed = await signStatement(statement, options.signer, options.domain);
  return { ...signed, verification, evidence: encodeEvidence(signed.statement, signed.signerId, signed.signature) };
}

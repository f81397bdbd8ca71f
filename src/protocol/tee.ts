import {
  AbiCoder,
  Signature,
  TypedDataEncoder,
  concat,
  getAddress,
  getBytes,
  isHexString,
  keccak256,
  toBeHex,
  zeroPadValue,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

/**
 * TEE-signed commitments and environments (docs/protocol.md, "Environments" and "TEE-signed commitments"):
 * the EIP-712 types an enclave key signs, the environment id of a measurement, and the report data an enclave
 * puts into its attestation. Pure functions: every party derives the same bytes.
 */

const coder = AbiCoder.defaultAbiCoder();

/** `TeeType` in contracts/types/Environment.sol. */
export enum TeeType {
  None = 0,
  IntelTdx = 1,
  IntelSgx = 2,
  AwsNitro = 3,
}

/** Another name of `TeeType`, for call sites where "type" reads ambiguously. */
export const TeeKind = TeeType;
export type TeeKind = TeeType;

/** Intel TCB status (contracts/types/Environment.sol `TcbStatus`); zero is never accepted. */
export enum TcbStatus {
  Unrecognized = 0,
  UpToDate = 1,
  SwHardeningNeeded = 2,
  ConfigurationAndSwHardeningNeeded = 3,
  ConfigurationNeeded = 4,
  OutOfDate = 5,
  OutOfDateConfigurationNeeded = 6,
  Revoked = 7,
}

/** `TeeMode` in contracts/types/Environment.sol: how a model's TEE-signed commitments settle. */
export enum TeeMode {
  None = 0,
  Window = 1,
  Instant = 2,
}

/** Canonical measurement length of each TEE kind, in bytes. */
export const MEASUREMENT_LENGTH: Readonly<Record<TeeType.IntelTdx | TeeType.IntelSgx | TeeType.AwsNitro, number>> = {
  [TeeType.IntelTdx]: 240, // MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3
  [TeeType.IntelSgx]: 64, // MRENCLAVE ‖ MRSIGNER
  [TeeType.AwsNitro]: 144, // PCR0 ‖ PCR1 ‖ PCR2
};

/** The ledger's EIP-712 domain name and version. */
export const LEDGER_DOMAIN_NAME = "Verity Inference Ledger";
export const LEDGER_DOMAIN_VERSION = "1";

/** EIP-712 types of `InferenceLedger.commitTee`. */
export const TEE_COMMITMENT_TYPES: Record<string, TypedDataField[]> = {
  TeeCommitment: [
    { name: "modelId", type: "bytes32" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "traceRoot", type: "bytes32" },
    { name: "environment", type: "bytes32" },
    { name: "enclaveKey", type: "address" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
};

/** EIP-712 types of `InferenceLedger.commitTeeBatch`. */
export const TEE_BATCH_TYPES: Record<string, TypedDataField[]> = {
  TeeBatch: [
    { name: "modelId", type: "bytes32" },
    { name: "root", type: "bytes32" },
    { name: "count", type: "uint32" },
    { name: "environment", type: "bytes32" },
    { name: "enclaveKey", type: "address" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
};

/** The ledger a seal is made for. */
export interface LedgerDomain {
  chainId: bigint | number;
  ledger: string;
}

/** The three hashes of one inference. */
export interface TeeInference {
  inputHash: string;
  outputHash: string;
  traceRoot: string;
}

/** What an enclave key signs besides the inference or batch. */
export interface SealFields {
  environment: string;
  enclaveKey: string;
  nonce: bigint;
  deadline: bigint;
}

/** The `TeeSeal` argument of `commitTee` / `commitTeeBatch`. */
export interface TeeSealArgs extends SealFields {
  v: number;
  r: string;
  s: string;
}

/** Something that signs EIP-712 typed data (an ethers Wallet or signer). */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** The EIP-712 domain of a ledger. */
export function ledgerDomain(domain: LedgerDomain): TypedDataDomain {
  return {
    name: LEDGER_DOMAIN_NAME,
    version: LEDGER_DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: getAddress(domain.ledger),
  };
}

function commitmentValue(modelId: string, inference: TeeInference, fields: SealFields) {
  return {
    modelId,
    inputHash: inference.inputHash,
    outputHash: inference.outputHash,
    traceRoot: inference.traceRoot,
    environment: fields.environment,
    enclaveKey: getAddress(fields.enclaveKey),
    nonce: fields.nonce,
    deadline: fields.deadline,
  };
}

function batchValue(modelId: string, root: string, count: number, fields: SealFields) {
  return {
    modelId,
    root,
    count,
    environment: fields.environment,
    enclaveKey: getAddress(fields.enclaveKey),
    nonce: fields.nonce,
    deadline: fields.deadline,
  };
}

/** The digest an enclave key signs for `commitTee`; it is also the commitment's `binding`. */
export function teeCommitmentDigest(
  domain: LedgerDomain,
  modelId: string,
  inference: TeeInference,
  fields: SealFields,
): string {
  return TypedDataEncoder.hash(ledgerDomain(domain), TEE_COMMITMENT_TYPES, commitmentValue(modelId, inference, fields));
}

/** The digest an enclave key signs for `commitTeeBatch`; it is also the batch's `binding`. */
export function teeBatchDigest(
  domain: LedgerDomain,
  modelId: string,
  root: string,
  count: number,
  fields: SealFields,
): string {
  return TypedDataEncoder.hash(ledgerDomain(domain), TEE_BATCH_TYPES, batchValue(modelId, root, count, fields));
}

function sealOf(fields: SealFields, signature: string, key: string): TeeSealArgs {
  const sig = Signature.from(signature);
  if (getAddress(fields.enclaveKey) !== getAddress(key)) {
    throw new Error(`the seal names enclave key ${fields.enclaveKey} but ${key} signed it`);
  }
  return { ...fields, enclaveKey: getAddress(fields.enclaveKey), v: sig.v, r: sig.r, s: sig.s };
}

/** Signs a commitment with an enclave key (`signTypedData`; ethers always produces a low-s signature). */
export async function signTeeCommitment(
  key: TypedDataSigner,
  domain: LedgerDomain,
  modelId: string,
  inference: TeeInference,
  fields: SealFields,
): Promise<TeeSealArgs> {
  const signature = await key.signTypedData(
    ledgerDomain(domain),
    TEE_COMMITMENT_TYPES,
    commitmentValue(modelId, inference, fields),
  );
  return sealOf(fields, signature, await key.getAddress());
}

/** Signs a batch with an enclave key. */
export async function signTeeBatch(
  key: TypedDataSigner,
  domain: LedgerDomain,
  modelId: string,
  root: string,
  count: number,
  fields: SealFields,
): Promise<TeeSealArgs> {
  const signature = await key.signTypedData(
    ledgerDomain(domain),
    TEE_BATCH_TYPES,
    batchValue(modelId, root, count, fields),
  );
  return sealOf(fields, signature, await key.getAddress());
}

/** `keccak256(bytes.concat(bytes1(uint8(teeType)), measurement))`, after checking the measurement's length. */
export function environmentIdOf(kind: TeeType, measurement: string): string {
  const expected = MEASUREMENT_LENGTH[kind as keyof typeof MEASUREMENT_LENGTH];
  if (expected === undefined) throw new Error(`unknown TEE type ${kind}`);
  if (!isHexString(measurement, expected)) {
    throw new Error(`a ${TeeType[kind]} measurement is ${expected} bytes of hex`);
  }
  return keccak256(concat([toBeHex(kind, 1), measurement]));
}

/** `keccak256(abi.encode(chainId, environmentRegistry, enclaveKey, nonce))`: report data bytes 32..63. */
export function reportBindingOf(chainId: bigint | number, registry: string, enclaveKey: string, nonce: string): string {
  return keccak256(coder.encode(["uint256", "address", "address", "bytes32"], [chainId, registry, enclaveKey, nonce]));
}

/** The 64 bytes of report data: the key (20 bytes), 12 zero bytes, the binding. */
export function reportDataOf(enclaveKey: string, binding: string): string {
  return concat([getAddress(enclaveKey), zeroPadValue("0x", 12), binding]);
}

/** Splits 64 bytes of report data, refusing any other layout. */
export function parseReportData(reportData: string): { enclaveKey: string; binding: string } {
  const bytes = getBytes(reportData);
  if (bytes.length !== 64) throw new Error(`report data is ${bytes.length} bytes, not 64`);
  if (bytes.subarray(20, 32).some((b) => b !== 0)) throw new Error("report data bytes 20..31 are not zero");
  return { enclaveKey: getAddress(toHex(bytes.subarray(0, 20))), binding: toHex(bytes.subarray(32, 64)) };
}

function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes).toString("hex");
}

import { Interface, isCallException, toUtf8String, type ErrorDescription, type Result } from "ethers";
import {
  AttestationServiceVerifier__factory,
  AutomataDcapAdapter__factory,
  BatchDisclosure__factory,
  DenseInt8__factory,
  DisputeGame__factory,
  EnvironmentRegistry__factory,
  InferenceLedger__factory,
  MockERC20__factory,
  ModelRegistry__factory,
  StakeManager__factory,
} from "../../typechain-types/index.js";

/** Every custom error any Verity contract (or OpenZeppelin code inside it) can revert with. */
const errorInterface = new Interface(
  dedupeErrors([
    ...ModelRegistry__factory.abi,
    ...StakeManager__factory.abi,
    ...InferenceLedger__factory.abi,
    ...DisputeGame__factory.abi,
    ...BatchDisclosure__factory.abi,
    ...DenseInt8__factory.abi,
    ...MockERC20__factory.abi,
    ...EnvironmentRegistry__factory.abi,
    ...AttestationServiceVerifier__factory.abi,
    ...AutomataDcapAdapter__factory.abi,
  ]),
);

function dedupeErrors(abi: readonly { type: string; name?: string }[]) {
  const seen = new Set<string>();
  return abi.filter((item) => {
    if (item.type !== "error") return false;
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A transaction or call reverted with a named custom error; `message` reads `Name(arg, ...)`, followed by
 * `: <meaning>` for errors that have one (times as dates, durations in seconds, minutes, hours or days).
 */
export class VerityRevertError extends Error {
  /** What the error means for the user, in user units; undefined for errors without a description. */
  readonly meaning: string | undefined;

  constructor(
    /** The custom error's name, e.g. `InferenceLedgerInsufficientStake`. */
    readonly errorName: string,
    /** Its decoded arguments, in order. */
    readonly args: readonly unknown[],
    /** The raw revert data. */
    readonly data: string,
  ) {
    const meaning = meaningOf(errorName, args);
    super(`${errorName}(${args.map(formatArg).join(", ")})${meaning === undefined ? "" : `: ${meaning}`}`);
    this.meaning = meaning;
    this.name = "VerityRevertError";
  }
}

/** What a custom error means, from its arguments; undefined when it has no description. */
export function meaningOf(errorName: string, args: readonly unknown[]): string | undefined {
  const describe = MEANINGS[errorName];
  if (describe === undefined) return undefined;
  try {
    return describe(args);
  } catch {
    return undefined; // arguments of an unexpected shape (hand-built errors): the name alone
  }
}

/** A unix time (seconds) as an ISO date, UTC. */
export function formatTime(seconds: unknown): string {
  const n = Number(seconds);
  if (!Number.isFinite(n) || n <= 0) return "never";
  const date = new Date(n * 1000);
  return Number.isNaN(date.getTime()) ? `${String(seconds)} s` : date.toISOString().replace(".000Z", "Z");
}

/** Seconds as the largest whole unit: `90 s`, `10 min`, `1 h`, `30 d`. */
export function formatDuration(seconds: unknown): string {
  const n = Number(seconds);
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["min", 60],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} s`;
}

// Enum names of contracts/types/Environment.sol and the verifiers.
const TEE_TYPE = ["None", "Intel TDX", "Intel SGX", "AWS Nitro"];
const TEE_MODE = ["None", "Window", "Instant"];
const TCB_STATUS = [
  "Unrecognized",
  "UpToDate",
  "SwHardeningNeeded",
  "ConfigurationAndSwHardeningNeeded",
  "ConfigurationNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
];
const LIFECYCLE = ["unknown", "approved", "revoked (for good)"];
const nameIn = (names: readonly string[], value: unknown) => names[Number(value)] ?? `#${String(value)}`;
const short = (hex: unknown) => {
  const s = String(hex);
  return s.length > 20 ? `${s.slice(0, 10)}…${s.slice(-6)}` : s;
};

type Describe = (args: readonly unknown[]) => string;

/**
 * Meanings of the environment, enclave-key and TEE-seal errors (contracts/interfaces/IEnvironmentRegistry.sol,
 * IInferenceLedger.sol, IModelRegistry.sol, the two attestation verifiers): what was refused and what to do.
 */
const MEANINGS: Record<string, Describe> = {
  // EnvironmentRegistry
  EnvironmentRegistryInvalidMeasurement: ([type, length, expected]) =>
    Number(expected) === 0
      ? `TEE type ${nameIn(TEE_TYPE, type)} has no measurement layout`
      : `a ${nameIn(TEE_TYPE, type)} measurement is ${expected} bytes, this one is ${length}`,
  EnvironmentRegistryEnvironmentExists: ([env, status]) =>
    `environment ${short(env)} is already ${nameIn(LIFECYCLE, status)}`,
  EnvironmentRegistryUnknownEnvironment: ([env]) => `no environment ${short(env)} was ever approved`,
  EnvironmentRegistryEnvironmentRevoked: ([env, at]) => `environment ${short(env)} was revoked at ${formatTime(at)}`,
  EnvironmentRegistryVerifierNotApproved: ([verifier]) => `${verifier} is not an approved attestation verifier`,
  EnvironmentRegistryVerifierAlreadyApproved: ([verifier]) => `${verifier} is already an approved verifier`,
  EnvironmentRegistryUnknownNonce: ([, caller]) =>
    `this nonce was not issued to ${caller}: the operator who registers the key must issue it`,
  EnvironmentRegistryStaleNonce: ([, issuedAt, expiredAt]) =>
    `the nonce issued at ${formatTime(issuedAt)} expired at ${formatTime(expiredAt)}: issue a new one`,
  EnvironmentRegistryNonceUsed: () => "this nonce already registered a key: issue a new one",
  EnvironmentRegistryReportDataMismatch: ([binding, expected]) =>
    `the attestation's report data binds ${short(binding)}, not ${short(expected)} (another chain, registry, key or nonce)`,
  EnvironmentRegistryZeroKey: () => "the attestation names no enclave key",
  EnvironmentRegistryTcbStatusRejected: ([status]) =>
    `the platform's TCB status ${nameIn(TCB_STATUS, status)} is not accepted by governance`,
  EnvironmentRegistryInvalidTcbPolicy: ([mask]) =>
    `TCB mask 0x${BigInt(mask as bigint).toString(16)} must accept UpToDate and never Unrecognized or Revoked`,
  EnvironmentRegistryEnclaveExists: ([key]) => `enclave key ${key} is already registered`,
  EnvironmentRegistryUnknownEnclave: ([key]) => `${key} is not a registered enclave key`,
  EnvironmentRegistryEnclaveRevoked: ([key, at]) => `enclave key ${key} was revoked at ${formatTime(at)}`,
  EnvironmentRegistryInvalidExpiry: ([expiresAt, latest]) =>
    `key expiry ${formatTime(expiresAt)} must be in the future and no later than ${formatTime(latest)}`,
  EnvironmentRegistryOperatorNotStaked: ([operator]) =>
    `${operator} has no active provider stake: deposit stake before registering enclave keys`,
  EnvironmentRegistryNotOperator: ([key, caller]) =>
    `${caller} is neither the operator of enclave key ${key} nor a governor`,
  EnvironmentRegistryNotLedger: ([caller]) => `only the ledger reports fraud, not ${caller}`,

  // InferenceLedger: TEE-signed commitments
  InferenceLedgerSealExpired: ([deadline]) => `the seal's deadline ${formatTime(deadline)} has passed`,
  InferenceLedgerTeeNotAccepted: ([modelId]) =>
    `model ${short(modelId)} does not accept TEE-signed commitments (its TEE mode is None)`,
  InferenceLedgerEnvironmentNotAllowed: ([modelId, env]) =>
    `environment ${short(env)} is not allowed for model ${short(modelId)}`,
  InferenceLedgerUnknownEnclave: ([key]) => `${key} is not a registered enclave key`,
  InferenceLedgerEnclaveOfOtherOperator: ([key, operator, caller]) =>
    `enclave key ${key} is operated by ${operator}, not by ${caller}`,
  InferenceLedgerEnclaveRevoked: ([key, at]) => `enclave key ${key} was revoked at ${formatTime(at)}`,
  InferenceLedgerEnclaveExpired: ([key, at]) => `enclave key ${key} expired at ${formatTime(at)}: register a new key`,
  InferenceLedgerEnvironmentMismatch: ([key, env]) =>
    `enclave key ${key} was attested in another environment than ${short(env)}`,
  InferenceLedgerEnvironmentRevoked: ([env]) => `environment ${short(env)} was revoked by governance`,
  InferenceLedgerMalleableSignature: () => "the seal's signature has a high s value (malleable)",
  InferenceLedgerInvalidSignature: () => "the seal's signature recovers to no address",
  InferenceLedgerSignerMismatch: ([key, recovered]) =>
    `the seal recovers to ${recovered}, not enclave key ${key} (signed for another chain, ledger or message)`,
  InferenceLedgerSealReplayed: ([id]) => `this seal already made commitment ${short(id)}`,

  // ModelRegistry: TEE policy and environment sets
  ModelRegistryInvalidTeeWindow: ([mode, value, min, max]) =>
    `a TEE ${nameIn(TEE_MODE, mode)} window of ${formatDuration(value)} is outside ${formatDuration(min)}..${formatDuration(max)}`,
  ModelRegistryTeeNotAccepted: ([modelId]) =>
    `model ${short(modelId)} does not accept TEE-signed commitments (its TEE mode is None)`,
  ModelRegistryEnvironmentNotApproved: ([env]) => `environment ${short(env)} is not approved`,
  ModelRegistryEnvironmentAllowed: ([modelId, env]) =>
    `environment ${short(env)} is already allowed for model ${short(modelId)}`,
  ModelRegistryEnvironmentNotAllowed: ([modelId, env]) =>
    `environment ${short(env)} is not allowed for model ${short(modelId)}`,
  ModelRegistryTooManyEnvironments: ([, max]) => `a model allows at most ${max} environments`,
  ModelRegistryNoEnvironmentRegistry: () => "the registry has no environment registry bound",

  // AttestationServiceVerifier
  AttestationServiceVerifierMalformedEvidence: ([length]) =>
    `${length} bytes of evidence do not decode as (statement, signer id, signature)`,
  AttestationServiceVerifierUnknownSigner: ([id]) => `no service signing key ${short(id)} was ever approved`,
  AttestationServiceVerifierRevokedSigner: ([id]) => `service signing key ${short(id)} was revoked`,
  AttestationServiceVerifierSignerExists: ([id, status]) =>
    `service signing key ${short(id)} is already ${nameIn(LIFECYCLE, status)}`,
  AttestationServiceVerifierInvalidP256Key: () => "(qx, qy) is not a point of P-256",
  AttestationServiceVerifierZeroAccount: () => "the zero address is no signing key",
  AttestationServiceVerifierBadSignatureLength: ([, length, expected]) =>
    `the signature is ${length} bytes, this signing key's kind takes ${expected}`,
  AttestationServiceVerifierBadSignature: ([id]) => `the statement is not signed by service key ${short(id)}`,
  AttestationServiceVerifierExpiredStatement: ([expiry, now]) =>
    `the service statement expired at ${formatTime(expiry)} (now ${formatTime(now)})`,
  AttestationServiceVerifierUnsupportedTeeType: ([type]) => `TEE type ${nameIn(TEE_TYPE, type)} is not supported`,
  AttestationServiceVerifierBadMeasurementLength: ([type, length, expected]) =>
    `a ${nameIn(TEE_TYPE, type)} measurement is ${expected} bytes, this one is ${length}`,
  AttestationServiceVerifierZeroEnclaveKey: () => "the statement names no enclave key",

  // AutomataDcapAdapter
  AutomataDcapAdapterZeroVerifier: () => "the Automata verifier address is zero",
  AutomataDcapAdapterVerificationFailed: ([reason]) => `Automata refused the quote (${utf8OrHex(reason)})`,
  AutomataDcapAdapterOutputTruncated: ([length, required]) =>
    `Automata's output is ${length} bytes, ${required} expected (a revoked TCB answers this way)`,
  AutomataDcapAdapterUnsupportedQuoteVersion: ([version]) => `quote version ${version} is not supported`,
  AutomataDcapAdapterUnsupportedTeeType: ([version, bodyType]) =>
    `quote body type ${bodyType} is not supported for quote version ${version}`,
  AutomataDcapAdapterReportDataPadding: () => "report data bytes 20..31 must be zero",
  AutomataDcapAdapterDebugMode: ([type]) =>
    `the ${nameIn(TEE_TYPE, type)} enclave runs in debug mode: its host can read the key`,
};

function utf8OrHex(value: unknown): string {
  try {
    return JSON.stringify(toUtf8String(value as string));
  } catch {
    return String(value);
  }
}

function formatArg(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(formatArg).join(", ")}]`;
  return String(value);
}

/** Finds revert data in whatever shape ethers or a provider wraps it. */
export function revertDataOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): string | undefined => {
    if (e === null || typeof e !== "object" || seen.has(e)) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === "string" && /^0x[0-9a-fA-F]{8}/.test(o.data)) return o.data;
    for (const key of ["error", "info", "cause", "data", "revert"]) {
      const found = visit(o[key]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(error);
}

/** Decodes revert data into the custom error it encodes, or undefined for unknown data. */
export function decodeRevertData(data: string): ErrorDescription | undefined {
  try {
    return errorInterface.parseError(data) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns an error thrown by a contract call into a `VerityRevertError` when it carries a known custom
 * error (or a Solidity panic / require string); anything else is returned unchanged.
 */
export function toVerityError(error: unknown): unknown {
  if (error instanceof VerityRevertError) return error;
  const data = revertDataOf(error);
  if (data !== undefined) {
    const decoded = decodeRevertData(data);
    if (decoded !== null && decoded !== undefined) {
      return new VerityRevertError(decoded.name, resultToArray(decoded.args), data);
    }
  }
  if (isCallException(error) && error.revert) {
    return new VerityRevertError(error.revert.name, [...error.revert.args], error.data ?? "0x");
  }
  return error;
}

function resultToArray(result: Result): unknown[] {
  return Array.from(result, (v) =>
    v !== null && typeof v === "object" && "toArray" in v ? (v as Result).toArray() : v,
  );
}

/** Runs `fn`, rethrowing a contract revert as a `VerityRevertError`. */
export async function decodingReverts<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toVerityError(error);
  }
}

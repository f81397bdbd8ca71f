import {
  Contract,
  Interface,
  formatUnits,
  isCallException,
  toUtf8String,
  type ContractRunner,
  type ErrorDescription,
  type ParamType,
  type Result,
} from "ethers";
import {
  AttestationServiceVerifier__factory,
  AutomataDcapAdapter__factory,
  BatchDisclosure__factory,
  DenseInt8__factory,
  DisputeGame__factory,
  EnvironmentRegistry__factory,
  InferenceLedger__factory,
  InferenceOracle__factory,
  MockERC20__factory,
  Groth16InferenceVerifier__factory,
  OnchainEvalVerifier__factory,
  StoredWeightsVerifier__factory,
  ModelRegistry__factory,
  StakeManager__factory,
} from "../../typechain-types/index.js";

/** Every custom error any Verity contract (or OpenZeppelin code inside it) can revert with. */
const errorInterface = new Interface(
  dedupeErrors([
    ...ModelRegistry__factory.abi,
    ...StakeManager__factory.abi,
    ...InferenceLedger__factory.abi,
    ...InferenceOracle__factory.abi,
    ...OnchainEvalVerifier__factory.abi,
    ...Groth16InferenceVerifier__factory.abi,
    ...StoredWeightsVerifier__factory.abi,
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

/** The units token amounts are shown in: the staking token's `decimals()` and `symbol()`. */
export interface TokenUnits {
  decimals: number;
  symbol: string;
}

/**
 * What a meaning may use besides the error's arguments. Without `token`, errors about token amounts have
 * no meaning (their arguments are base units); without `now`, times read as ISO dates only.
 */
export interface MeaningContext {
  /** The staking token's units: amounts read `50 VRT` instead of `50000000000000000000`. */
  token?: TokenUnits;
  /** The current (chain) time in unix seconds: times read `2027-02-11 09:30 UTC, in 71 days`. */
  now?: number | bigint;
}

/** One argument of a revert in JSON: integers as numbers or decimal strings (see `revertArgsJson`). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A transaction or call reverted with a named custom error; `message` reads `Name(arg, ...)`, followed by
 * `: <meaning>` for errors that have one without context (times as dates, durations in seconds, minutes,
 * hours or days). `explain(context)` adds the meanings that need the token's units or the time now.
 */
export class VerityRevertError extends Error {
  /** What the error means for the user, in user units; undefined for errors without a description. */
  readonly meaning: string | undefined;
  /** The error's parameters (names and ABI types), when its ABI is known. */
  readonly params: readonly ParamType[] | undefined;

  constructor(
    /** The custom error's name, e.g. `InferenceLedgerInsufficientStake`. */
    readonly errorName: string,
    /** Its decoded arguments, in order. */
    readonly args: readonly unknown[],
    /** The raw revert data. */
    readonly data: string,
    params?: readonly ParamType[],
  ) {
    const meaning = meaningOf(errorName, args);
    super(`${errorName}(${args.map(formatArg).join(", ")})${meaning === undefined ? "" : `: ${meaning}`}`);
    this.meaning = meaning;
    this.params = params ?? paramsOf(errorName, args.length);
    this.name = "VerityRevertError";
  }

  /** The meaning with `context` (token units, time now), or undefined. */
  meaningIn(context: MeaningContext = {}): string | undefined {
    return meaningOf(this.errorName, this.args, context);
  }

  /** `Name(arg, ...): <meaning>` with `context`: the one line a user reads. */
  explain(context: MeaningContext = {}): string {
    const meaning = this.meaningIn(context);
    return `${this.errorName}(${this.args.map(formatArg).join(", ")})${meaning === undefined ? "" : `: ${meaning}`}`;
  }

  /**
   * The error as JSON: `{name, message, meaning?, args, data}`, `args` keyed by parameter name (by index
   * when unknown), typed as `revertArgsJson` says.
   */
  toJSON(context: MeaningContext = {}): {
    name: string;
    message: string;
    meaning?: string;
    args: Record<string, JsonValue>;
    data: string;
  } {
    const meaning = this.meaningIn(context);
    return {
      name: this.errorName,
      message: this.explain(context),
      ...(meaning === undefined ? {} : { meaning }),
      args: revertArgsJson(this.errorName, this.args, this.params),
      data: this.data,
    };
  }
}

/**
 * What a custom error means, from its arguments; undefined when it has no description, or when its
 * description needs what `context` does not give (token amounts need `context.token`).
 */
export function meaningOf(
  errorName: string,
  args: readonly unknown[],
  context: MeaningContext = {},
): string | undefined {
  const describe = MEANINGS[errorName];
  if (describe === undefined) return undefined;
  try {
    return describe(args, new Units(context));
  } catch {
    return undefined; // arguments of an unexpected shape, or no token units for an amount: the name alone
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

/**
 * A unix time relative to `now`: `2027-02-11 09:30 UTC, in 71 days`, `2026-12-01 17:40:05 UTC, 12 seconds
 * ago` (seconds shown when it is less than a day away); `parenthesized` gives `... UTC (in 71 days)` for
 * the middle of a sentence. Without `now` (or for a time 0, "never"), `formatTime`.
 */
export function formatWhen(seconds: unknown, now?: number | bigint, parenthesized = false): string {
  const t = Number(seconds);
  if (now === undefined || !Number.isFinite(t) || t <= 0 || Number.isNaN(new Date(t * 1000).getTime())) {
    return formatTime(seconds);
  }
  const delta = t - Number(now);
  const iso = new Date(t * 1000).toISOString();
  const date = `${iso.slice(0, 10)} ${Math.abs(delta) >= 86_400 ? iso.slice(11, 16) : iso.slice(11, 19)} UTC`;
  const relative = delta === 0 ? "now" : delta > 0 ? `in ${formatSpan(delta)}` : `${formatSpan(-delta)} ago`;
  return parenthesized ? `${date} (${relative})` : `${date}, ${relative}`;
}

/**
 * A number of seconds in words: rounded to one unit from 10 of it on (`71 days`, `12 minutes`), else to two
 * (`1 day 4 hours`, `5 minutes 3 seconds`, rounded down).
 */
export function formatSpan(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const units = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
    ["second", 1],
  ] as const;
  const words = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  const i = units.findIndex(([, size]) => s >= size);
  if (i < 0) return "0 seconds";
  const [unit, size] = units[i];
  const whole = Math.floor(s / size);
  if (whole >= 10 || i === units.length - 1) return words(Math.round(s / size), unit);
  const [nextUnit, nextSize] = units[i + 1];
  const rest = Math.floor((s - whole * size) / nextSize);
  return rest === 0 ? words(whole, unit) : `${words(whole, unit)} ${words(rest, nextUnit)}`;
}

/** Base units as token units: `50 VRT`, `0.5 VRT` (the symbol left out when the token has none). */
export function formatTokenAmount(value: unknown, token: TokenUnits): string {
  let s = formatUnits(BigInt(value as bigint), token.decimals);
  if (s.endsWith(".0")) s = s.slice(0, -2);
  return token.symbol === "" ? s : `${s} ${token.symbol}`;
}

/**
 * Reads a token's `decimals()` and `symbol()` (18 and no symbol for a token that lacks them, as ERC-20
 * makes both optional).
 */
export async function readTokenUnits(runner: ContractRunner, token: string): Promise<TokenUnits> {
  const c = new Contract(
    token,
    ["function decimals() view returns (uint8)", "function symbol() view returns (string)"],
    runner,
  );
  const [decimals, symbol] = await Promise.all([
    (c.decimals() as Promise<bigint>).then(Number).catch(() => 18),
    (c.symbol() as Promise<string>).catch(() => ""),
  ]);
  return { decimals, symbol };
}

/** How meanings format amounts, times and durations under a `MeaningContext`. */
class Units {
  constructor(private readonly context: MeaningContext) {}

  /** A token amount; throws without token units (the meaning is then left out). */
  amount(value: unknown): string {
    if (this.context.token === undefined) throw new Error("no token units");
    return formatTokenAmount(value, this.context.token);
  }

  /** A unix time: a date, and how far from now when the context knows the time (in parentheses). */
  time(value: unknown): string {
    return formatWhen(value, this.context.now, true);
  }

  /** A unix time at the end of a sentence: `2027-02-11 09:30 UTC, in 71 days`. */
  when(value: unknown): string {
    return formatWhen(value, this.context.now);
  }

  /** A length of time in seconds. */
  duration(value: unknown): string {
    return formatDuration(value);
  }
}

// Enum names of contracts/types/Environment.sol and the verifiers.
const TEE_TYPE = ["None", "Intel TDX", "Intel SGX", "AWS Nitro"];
const REQUEST_STATUS = ["None", "Open", "Fulfilled", "Settled", "Refunded"];
const COMMITMENT_STATUS = ["None", "Pending", "Final", "Disputed", "Overturned"];
const FINALITY = ["None", "challenge window", "TEE", "proof"];
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

const MAX_UINT96 = (1n << 96n) - 1n;
const percent = (bps: unknown) => `${Number(bps) / 100}%`;
const grouped = (n: unknown) => BigInt(n as bigint).toLocaleString("en-US");

type Describe = (args: readonly unknown[], u: Units) => string;

/**
 * Meanings of the environment, enclave-key and TEE-seal errors (contracts/interfaces/IEnvironmentRegistry.sol,
 * IInferenceLedger.sol, IModelRegistry.sol, the two attestation verifiers): what was refused and what to do.
 */
const MEANINGS: Record<string, Describe> = {
  // StakeManager (contracts/interfaces/IStakeManager.sol)
  StakeManagerZeroAmount: () => "the amount is zero",
  StakeManagerAmountTooLarge: ([amount], u) =>
    `${u.amount(amount)} does not fit a stake (at most ${u.amount(MAX_UINT96)})`,
  StakeManagerInsufficientStake: ([requested, active], u) =>
    `cannot unbond ${u.amount(requested)}: the active stake is ${u.amount(active)}`,
  StakeManagerNothingUnbonding: ([provider]) => `${provider} has no stake unbonding: request an unbond first`,
  StakeManagerStillUnbonding: ([, readyAt], u) => `the stake is unbonding until ${u.when(readyAt)}`,
  StakeManagerOpenDisputes: ([provider, open]) =>
    `${open} open dispute(s) on commitments of ${provider} lock its stake until they end`,
  StakeManagerNoLockedDispute: ([provider]) => `no dispute is locking the stake of ${provider}`,
  StakeManagerNoCredit: ([account]) => `${account} has no credit to claim`,
  StakeManagerInsufficientBonds: ([requested, held], u) =>
    `releasing ${u.amount(requested)} of bonds, but only ${u.amount(held)} are held`,
  StakeManagerInvalidShare: ([bps, min, max]) =>
    `a challenger share of ${percent(bps)} is outside ${percent(min)}..${percent(max)}`,
  StakeManagerZeroAddress: () => "the zero address where an account is needed",
  StakeManagerUnbondingDelayTooShort: ([delay, min], u) =>
    `an unbonding delay of ${u.duration(delay)} must be longer than ${u.duration(min)} (the longest challenge window plus the longest dispute)`,

  // ModelRegistry (contracts/interfaces/IModelRegistry.sol)
  ModelRegistryAlreadyRegistered: ([modelId]) => `this publisher already registered this model, as ${modelId}`,
  ModelRegistryUnknownModel: ([modelId]) => `no model ${short(modelId)} is registered on this deployment`,
  ModelRegistryUnknownLayer: ([modelId, layer]) =>
    `model ${short(modelId)} has no layer ${layer} (layers count from 1)`,
  ModelRegistryNotPublisher: ([modelId, caller]) => `${caller} is not the publisher of model ${short(modelId)}`,
  ModelRegistryModelRevoked: ([modelId]) => `model ${short(modelId)} is revoked`,
  ModelRegistryAlreadyDeprecated: ([modelId]) => `model ${short(modelId)} is already deprecated`,
  ModelRegistryInvalidChallengeWindow: ([value, min, max], u) =>
    `a challenge window of ${u.duration(value)} is outside ${u.duration(min)}..${u.duration(max)}`,
  ModelRegistryInvalidResponseWindow: ([value, min, max], u) =>
    `a response window of ${u.duration(value)} is outside ${u.duration(min)}..${u.duration(max)}`,
  ModelRegistryInvalidMinStake: () => "the minimum stake must be above zero",
  ModelRegistryInvalidSlashAmount: ([value, minStake], u) =>
    `a slash of ${u.amount(value)} must be above zero and at most the minimum stake, ${u.amount(minStake)}`,
  ModelRegistryInvalidChallengerBond: () => "the challenger bond must be above zero (disputes would cost nothing)",
  ModelRegistryBondAboveReward: ([bond, minReward], u) =>
    `a challenger bond of ${u.amount(bond)} is above the ${u.amount(minReward)} an honest challenger is sure to win (the slash at the lowest challenger share): lower the bond or raise the slash`,
  ModelRegistryBondBelowGasCost: ([bond, minBond], u) =>
    `a challenger bond of ${u.amount(bond)} does not pay for one side's gas in a full game: at least ${u.amount(minBond)} at the reference gas price`,
  ModelRegistryGasBoundExceeded: ([gas, max]) =>
    `an honest move on this model could need ${grouped(gas)} gas, above the ${grouped(max)} every move must fit in`,
  ModelRegistryInvalidGracePeriod: ([value, max], u) =>
    `a deprecation grace time of ${u.duration(value)} is above the maximum, ${u.duration(max)}`,

  // InferenceLedger (contracts/interfaces/IInferenceLedger.sol)
  InferenceLedgerUnknownModel: ([modelId]) => `no model ${short(modelId)} is registered on this deployment`,
  InferenceLedgerModelRevoked: ([modelId]) => `model ${short(modelId)} is revoked: it accepts no commitments`,
  InferenceLedgerModelDeprecated: ([modelId, acceptsUntil], u) =>
    `model ${short(modelId)} is deprecated: it accepted commitments until ${u.when(acceptsUntil)}`,
  InferenceLedgerInsufficientStake: ([provider, active, required], u) =>
    `${provider} has ${u.amount(active)} of active stake, the model requires ${u.amount(required)}: deposit at least ${u.amount(BigInt(required as bigint) - BigInt(active as bigint))} more`,
  InferenceLedgerInvalidInputData: ([length, inputDim, maxURI]) =>
    `${length} bytes of input data are neither the ${inputDim}-byte input nor a URI of at most ${maxURI} bytes`,
  InferenceLedgerDataURITooLong: ([length, max]) => `the data URI is ${length} bytes, at most ${max} are accepted`,
  InferenceLedgerBatchTooLarge: ([count, max]) => `a batch of ${count} leaves is above the model's ${max}`,
  InferenceLedgerDuplicate: ([id]) => `this exact commitment already exists, as ${id}`,
  InferenceLedgerUnknownRecord: ([id]) => `no commitment or batch of this kind has id ${short(id)}`,
  InferenceLedgerChallengeWindowClosed: ([id, deadline], u) =>
    `the challenge window of ${short(id)} closed at ${u.when(deadline)}`,
  InferenceLedgerAlreadyOverturned: ([id]) => `${short(id)} is already overturned`,
  InferenceLedgerDisclosureOpen: ([batchId]) => `a disclosure demand on batch ${short(batchId)} is already open`,

  // DisputeGame (contracts/interfaces/IDisputeGame.sol)
  DisputeGameUnknownDispute: ([id]) => `no dispute ${short(id)} with these parameters`,
  DisputeGameWrongParty: ([, caller, expected]) => `this move is ${expected}'s, not ${caller}'s`,
  DisputeGameDeadlinePassed: ([, deadline], u) =>
    `the move's deadline passed at ${u.when(deadline)}: the game can only be ended by timeout`,
  DisputeGameDeadlineNotPassed: ([, deadline], u) => `no timeout before the deadline, ${u.when(deadline)}`,
  DisputeGameAlreadyResolved: ([id]) => `dispute ${short(id)} has already ended`,
  DisputeGameInvalidLayer: ([layer, numLayers]) => `layer ${layer} is not in 1..${numLayers}`,
  DisputeGameInvalidNeuron: ([neuron, outDim]) =>
    `neuron ${neuron} is not below the layer's width ${outDim} (neurons count from 0)`,
  DisputeGameNeuronMatches: ([neuron, value]) =>
    `neuron ${neuron} recomputes to the provider's value ${value}: no fraud at this neuron`,
  DisputeGameNoReward: ([id]) => `no reward is owed to dispute ${short(id)} (not won, or already paid)`,
  DisputeGameRewardPending: ([, pending]) => `the reward waits for ${pending} other game(s) on the same target to end`,

  // BatchDisclosure (contracts/interfaces/IBatchDisclosure.sol)
  BatchDisclosureNotOpen: ([batchId]) => `no disclosure demand is open on batch ${short(batchId)}`,
  BatchDisclosureNotProvider: ([batchId, caller]) => `${caller} is not the provider of batch ${short(batchId)}`,
  BatchDisclosureDeadlinePassed: ([, deadline], u) => `the disclosure deadline passed at ${u.when(deadline)}`,
  BatchDisclosureDeadlineNotPassed: ([, deadline], u) =>
    `no timeout before the disclosure deadline, ${u.when(deadline)}`,
  BatchDisclosureTooManyLeaves: ([, disclosed, count]) =>
    `these leaves would make more than the batch's ${count} (${disclosed} disclosed)`,
  BatchDisclosureIncomplete: ([, disclosed, count]) => `only ${disclosed} of ${count} leaves are disclosed`,

  // OpenZeppelin ERC-20 (the staking token)
  ERC20InsufficientBalance: ([sender, balance, needed], u) =>
    `${sender} holds ${u.amount(balance)}, ${u.amount(needed)} needed`,
  ERC20InsufficientAllowance: ([spender, allowance, needed], u) =>
    `${spender} may spend ${u.amount(allowance)} of the owner's tokens, ${u.amount(needed)} needed: approve more`,

  // EnvironmentRegistry
  EnvironmentRegistryInvalidMeasurement: ([type, length, expected]) =>
    Number(expected) === 0
      ? `TEE type ${nameIn(TEE_TYPE, type)} has no measurement layout`
      : `a ${nameIn(TEE_TYPE, type)} measurement is ${expected} bytes, this one is ${length}`,
  EnvironmentRegistryEnvironmentExists: ([env, status]) =>
    `environment ${short(env)} is already ${nameIn(LIFECYCLE, status)}`,
  EnvironmentRegistryUnknownEnvironment: ([env]) => `no environment ${short(env)} was ever approved`,
  EnvironmentRegistryEnvironmentRevoked: ([env, at], u) => `environment ${short(env)} was revoked at ${u.time(at)}`,
  EnvironmentRegistryVerifierNotApproved: ([verifier]) => `${verifier} is not an approved attestation verifier`,
  EnvironmentRegistryVerifierAlreadyApproved: ([verifier]) => `${verifier} is already an approved verifier`,
  EnvironmentRegistryUnknownNonce: ([, caller]) =>
    `this nonce was not issued to ${caller}: the operator who registers the key must issue it`,
  EnvironmentRegistryStaleNonce: ([, issuedAt, expiredAt], u) =>
    `the nonce issued at ${u.time(issuedAt)} expired at ${u.time(expiredAt)}: issue a new one`,
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
  EnvironmentRegistryEnclaveRevoked: ([key, at], u) => `enclave key ${key} was revoked at ${u.time(at)}`,
  EnvironmentRegistryInvalidExpiry: ([expiresAt, latest], u) =>
    `key expiry ${u.time(expiresAt)} must be in the future and no later than ${u.time(latest)}`,
  EnvironmentRegistryOperatorNotStaked: ([operator]) =>
    `${operator} has no active provider stake: deposit stake before registering enclave keys`,
  EnvironmentRegistryNotOperator: ([key, caller]) =>
    `${caller} is neither the operator of enclave key ${key} nor a governor`,
  EnvironmentRegistryNotLedger: ([caller]) => `only the ledger reports fraud, not ${caller}`,

  // InferenceLedger: TEE-signed commitments
  InferenceLedgerSealExpired: ([deadline], u) => `the seal's deadline ${u.time(deadline)} has passed`,
  InferenceLedgerTeeNotAccepted: ([modelId]) =>
    `model ${short(modelId)} does not accept TEE-signed commitments (its TEE mode is None)`,
  InferenceLedgerEnvironmentNotAllowed: ([modelId, env]) =>
    `environment ${short(env)} is not allowed for model ${short(modelId)}`,
  InferenceLedgerUnknownEnclave: ([key]) => `${key} is not a registered enclave key`,
  InferenceLedgerEnclaveOfOtherOperator: ([key, operator, caller]) =>
    `enclave key ${key} is operated by ${operator}, not by ${caller}`,
  InferenceLedgerEnclaveRevoked: ([key, at], u) => `enclave key ${key} was revoked at ${u.time(at)}`,
  InferenceLedgerEnclaveExpired: ([key, at], u) => `enclave key ${key} expired at ${u.time(at)}: register a new key`,
  InferenceLedgerEnvironmentMismatch: ([key, env]) =>
    `enclave key ${key} was attested in another environment than ${short(env)}`,
  InferenceLedgerEnvironmentRevoked: ([env]) => `environment ${short(env)} was revoked by governance`,
  InferenceLedgerMalleableSignature: () => "the seal's signature has a high s value (malleable)",
  InferenceLedgerInvalidSignature: () => "the seal's signature recovers to no address",
  InferenceLedgerSignerMismatch: ([key, recovered]) =>
    `the seal recovers to ${recovered}, not enclave key ${key} (signed for another chain, ledger or message)`,
  InferenceLedgerSealReplayed: ([id]) => `this seal already made commitment ${short(id)}`,

  // ModelRegistry: TEE policy and environment sets
  ModelRegistryInvalidTeeWindow: ([mode, value, min, max], u) =>
    `a TEE ${nameIn(TEE_MODE, mode)} window of ${u.duration(value)} is outside ${u.duration(min)}..${u.duration(max)}`,
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
  AttestationServiceVerifierExpiredStatement: ([expiry, now], u) =>
    `the service statement expired at ${u.time(expiry)} (now ${formatTime(now)})`,
  AttestationServiceVerifierUnsupportedTeeType: ([type]) => `TEE type ${nameIn(TEE_TYPE, type)} is not supported`,
  AttestationServiceVerifierBadMeasurementLength: ([type, length, expected]) =>
    `a ${nameIn(TEE_TYPE, type)} measurement is ${expected} bytes, this one is ${length}`,
  AttestationServiceVerifierZeroEnclaveKey: () => "the statement names no enclave key",

  // InferenceOracle (contracts/interfaces/IInferenceOracle.sol)
  InferenceOracleModelNotAccepting: ([modelId]) => `model ${modelId} does not accept commitments now`,
  InferenceOracleInputLength: ([expected, actual]) =>
    `the input is ${actual} bytes; the model takes exactly ${expected} (opaque models cannot be asked here)`,
  InferenceOracleInvalidFinality: ([accepts]) =>
    `accepts ${accepts} names no finality kind or an unknown one: use window 2, TEE 4, proof 8, any 14`,
  InferenceOracleZeroFee: () => "a request must pay its provider a fee",
  InferenceOracleCallbackGasTooHigh: ([limit, max]) =>
    `the callback gas limit ${grouped(limit)} is above ${grouped(max)}`,
  InferenceOracleDeadlineTooSoon: ([deadline, earliest], u) =>
    `the deadline ${u.time(deadline)} leaves no time for the challenge window and the longest dispute: ` +
    `give at least ${u.time(earliest)}`,
  InferenceOracleDeadlineTooFar: ([deadline, latest], u) =>
    `the deadline ${u.time(deadline)} is after the latest allowed, ${u.time(latest)}`,
  InferenceOracleUnknownRequest: ([id]) => `no request ${id} with these contents on this oracle`,
  InferenceOracleWrongStatus: ([id, status]) => `request ${id} is ${nameIn(REQUEST_STATUS, status)}`,
  InferenceOracleFulfillmentClosed: ([id, fulfillBy], u) =>
    `request ${id} takes answers until ${u.time(fulfillBy)}, so that they are final by its deadline`,
  InferenceOracleInputMismatch: () => "the answer is for another input than the request's",
  InferenceOracleOutputMismatch: () => "the output does not hash to the answer's output hash",
  InferenceOracleOutputLength: ([expected, actual]) => `the output is ${actual} bytes; the model's is ${expected}`,
  InferenceOracleFinalityNotAccepted: ([id, finality, accepts]) =>
    `request ${id} (accepts ${accepts}) does not accept answers that settle by ${nameIn(FINALITY, finality)}`,
  InferenceOracleWrongFulfillment: ([id]) => `that is not the live answer of request ${id}`,
  InferenceOracleNotSettleable: ([id, status, finality]) =>
    `the answer to request ${id} is ${nameIn(COMMITMENT_STATUS, status)}` +
    (Number(finality) === 0 ? "" : ` (by ${nameIn(FINALITY, finality)})`) +
    ", not final in a way the request accepts",
  InferenceOracleNotReopenable: ([id, status]) =>
    `the answer to request ${id} is ${nameIn(COMMITMENT_STATUS, status)}: only an overturned answer reopens a request`,
  InferenceOracleNotExpired: ([id, deadline], u) => `request ${id} runs until ${u.when(deadline)}`,
  InferenceOracleInsufficientGas: ([available, required]) =>
    `${grouped(available)} gas left, ${grouped(required)} needed to give the callback its whole limit: send more gas`,
  InferenceOracleNoCredit: ([account]) => `${account} has nothing to withdraw from the oracle`,
  // Proof settlement (IInferenceLedger, IModelRegistry, contracts/settlement/onchain)
  InferenceLedgerProofNotAccepted: ([modelId]) => `model ${modelId}'s policy does not accept proof settlement`,
  InferenceLedgerNoVerifier: ([modelId]) => `governance has approved no verifier for model ${modelId} yet`,
  InferenceLedgerVerifierRevoked: ([modelId, verifier, revokedAt], u) =>
    `model ${modelId}'s verifier ${verifier} was revoked ${u.when(revokedAt)}`,
  InferenceLedgerOutputMismatch: () => "the output bytes do not hash to the inference's output hash",
  InferenceLedgerProven: ([id]) => `commitment ${id} was proven: it is final and never disputable`,
  ModelRegistryProofNotAccepted: ([modelId]) => `model ${modelId}'s policy does not accept proof settlement`,
  ModelRegistryNotVerifier: ([verifier]) => `${verifier} is not an inference verifier (no modelId())`,
  ModelRegistryVerifierModelMismatch: ([verifier, modelId, served]) =>
    `verifier ${verifier} serves model ${served}, not ${modelId}`,
  ModelRegistryVerifierKnown: ([verifier]) => `verifier ${verifier} was approved before (a revoked one never returns)`,
  ModelRegistryVerifierPaired: ([modelId, current]) =>
    `model ${modelId} already has verifier ${current}: revoke it first`,
  ModelRegistryUnknownVerifier: ([verifier]) => `verifier ${verifier} was never approved`,
  ModelRegistryVerifierAlreadyRevoked: ([verifier, revokedAt], u) =>
    `verifier ${verifier} was already revoked ${u.when(revokedAt)}`,
  OnchainEvalWrongModel: ([given, served]) => `this verifier serves model ${served}, not ${given}`,
  OnchainEvalMalformedProof: () => "the proof bytes are not abi.encode(bytes input, address prover, bytes weights)",
  OnchainEvalCommitmentMismatch: () => "the proof is for another input or another prover",
  OnchainEvalGraphMismatch: () => "the layers given are not the model's registered graph",
  OnchainEvalInputLength: ([length, inDim]) => `the input is ${length} bytes; the model takes ${inDim}`,
  OnchainEvalWeightsLength: ([length, expected]) => `the weights are ${length} bytes; the model has ${expected}`,
  OnchainEvalOrderLength: ([length, neurons]) => `the leaf order is ${length} bytes for ${neurons} neurons`,
  OnchainEvalLeafOrder: ([position]) => `the leaf order is not the weights tree's at position ${position}`,
  OnchainEvalWeightsMismatch: () => "the weights are not the model's registered weights",
  OnchainEvalWrongOutput: () => "the model's output on this input is not the output claimed",
  OnchainEvalNotDense: ([modelId]) => `model ${modelId} is not a dense-int8-v1 model`,
  OnchainEvalTooManyNeurons: ([neurons]) => `${grouped(neurons)} neurons are more than this verifier evaluates`,
  Groth16InferenceVerifierBadConfiguration: () => "the verifier was deployed with a zero address or zero lengths",
  Groth16InferenceVerifierWrongModel: ([expected, actual]) => `this verifier serves model ${expected}, not ${actual}`,
  Groth16InferenceVerifierInputCommitmentMismatch: () => "the proof is for another input or another prover",
  Groth16InferenceVerifierInputLength: ([expected, actual]) =>
    `the input is ${actual} bytes; the circuit takes ${expected}`,
  Groth16InferenceVerifierOutputLength: ([expected, actual]) =>
    `the output is ${actual} bytes; the circuit gives ${expected}`,
  Groth16InferenceVerifierInvalidProof: () =>
    "the Groth16 proof does not verify for this model, input, output and prover",
  StoredWeightsChunksMismatch: () => "the data contracts do not hold the model's registered weights",
  StoredWeightsLength: ([length, expected]) => `the stored weights are ${length} bytes; the model has ${expected}`,
  StakeManagerInvalidHarmedShare: ([bps, max]) => `the requester's share ${percent(bps)} is above ${percent(max)}`,

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

/**
 * Parameters that are token amounts, unix times or durations (seconds), by error and parameter name.
 * Under `revertArgsJson`, amounts are decimal strings and times and durations numbers of seconds.
 */
export const ARG_UNITS: Record<string, Record<string, "amount" | "time" | "duration">> = {
  StakeManagerAmountTooLarge: { amount: "amount" },
  StakeManagerInsufficientStake: { requested: "amount", active: "amount" },
  StakeManagerStillUnbonding: { readyAt: "time" },
  StakeManagerInsufficientBonds: { requested: "amount", held: "amount" },
  StakeManagerUnbondingDelayTooShort: { delay: "duration", min: "duration" },
  ModelRegistryInvalidChallengeWindow: { value: "duration", min: "duration", max: "duration" },
  ModelRegistryInvalidResponseWindow: { value: "duration", min: "duration", max: "duration" },
  ModelRegistryInvalidMinStake: { value: "amount" },
  ModelRegistryInvalidSlashAmount: { value: "amount", minStake: "amount" },
  ModelRegistryInvalidChallengerBond: { value: "amount" },
  ModelRegistryBondAboveReward: { bond: "amount", minReward: "amount" },
  ModelRegistryBondBelowGasCost: { bond: "amount", minBond: "amount" },
  ModelRegistryInvalidGracePeriod: { value: "duration", max: "duration" },
  ModelRegistryInvalidTeeWindow: { value: "duration", min: "duration", max: "duration" },
  InferenceLedgerModelDeprecated: { acceptsUntil: "time" },
  InferenceLedgerInsufficientStake: { active: "amount", required: "amount" },
  InferenceLedgerChallengeWindowClosed: { deadline: "time" },
  InferenceLedgerSealExpired: { deadline: "time" },
  InferenceLedgerEnclaveRevoked: { revokedAt: "time" },
  InferenceLedgerEnclaveExpired: { expiresAt: "time" },
  InferenceLedgerVerifierRevoked: { revokedAt: "time" },
  ModelRegistryVerifierAlreadyRevoked: { revokedAt: "time" },
  InferenceOracleDeadlineTooSoon: { deadline: "time", earliest: "time" },
  InferenceOracleDeadlineTooFar: { deadline: "time", latest: "time" },
  InferenceOracleFulfillmentClosed: { fulfillBy: "time" },
  InferenceOracleNotExpired: { deadline: "time" },
  DisputeGameDeadlinePassed: { deadline: "time" },
  DisputeGameDeadlineNotPassed: { deadline: "time" },
  BatchDisclosureDeadlinePassed: { deadline: "time" },
  BatchDisclosureDeadlineNotPassed: { deadline: "time" },
  EnvironmentRegistryEnvironmentRevoked: { revokedAt: "time" },
  EnvironmentRegistryStaleNonce: { issuedAt: "time", expiredAt: "time" },
  EnvironmentRegistryEnclaveRevoked: { revokedAt: "time" },
  EnvironmentRegistryInvalidExpiry: { expiresAt: "time", latest: "time" },
  AttestationServiceVerifierExpiredStatement: { expiry: "time", nowTime: "time" },
  ERC20InsufficientBalance: { balance: "amount", needed: "amount" },
  ERC20InsufficientAllowance: { allowance: "amount", needed: "amount" },
};

/**
 * A revert's arguments as JSON, keyed by parameter name (by position when the ABI is unknown), with one
 * type per field whatever the value: token amounts and integers wider than 48 bits as decimal strings;
 * times and durations (`ARG_UNITS`) and narrower integers (counts, indices, enums, uint40/uint48 times)
 * as numbers; addresses, hashes and bytes as 0x strings.
 */
export function revertArgsJson(
  errorName: string,
  args: readonly unknown[],
  params: readonly ParamType[] | undefined = paramsOf(errorName, args.length),
): Record<string, JsonValue> {
  const units = ARG_UNITS[errorName] ?? {};
  const out: Record<string, JsonValue> = {};
  args.forEach((value, i) => {
    const param = params?.[i];
    const key = param?.name ? param.name : String(i);
    out[key] = jsonArg(value, param, param?.name ? units[param.name] : undefined);
  });
  return out;
}

function jsonArg(value: unknown, param: ParamType | undefined, unit: string | undefined): JsonValue {
  if (typeof value === "bigint") {
    if (unit === "time" || unit === "duration") return Number(value);
    if (unit === "amount") return value.toString();
    const bits = /^u?int(\d*)$/.exec(param?.type ?? "");
    return bits !== null && Number(bits[1] || 256) <= 48 ? Number(value) : value.toString();
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return value;
  if (Array.isArray(value))
    return value.map((v, i) => jsonArg(v, param?.arrayChildren ?? param?.components?.[i] ?? undefined, undefined));
  if (value === null || value === undefined) return null;
  return String(value);
}

/** The parameters of the known custom error `name` with `count` arguments. */
function paramsOf(name: string, count: number): readonly ParamType[] | undefined {
  let found: readonly ParamType[] | undefined;
  errorInterface.forEachError((fragment) => {
    if (found === undefined && fragment.name === name && fragment.inputs.length === count) found = fragment.inputs;
  });
  return found;
}

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
      return new VerityRevertError(decoded.name, resultToArray(decoded.args), data, decoded.fragment.inputs);
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

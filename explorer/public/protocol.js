/**
 * The protocol's enums and flags as the page names them, and the words it shows for them. No DOM here:
 * test/explorer/server.test.ts imports this module in Node and checks it against the SDK's enums.
 * Sources: contracts/types/Commitment.sol, Dispute.sol, Model.sol, Environment.sol,
 * contracts/libraries/RecordFlags.sol.
 */

/** `CommitmentStatus`. */
export const COMMITMENT_STATUS = ["None", "Pending", "Final", "Disputed", "Overturned"];

/** `Finality`: how a Final commitment became final. */
export const FINALITY = ["None", "ChallengeWindow", "Tee", "Proof"];

/** `RecordKind`. */
export const RECORD_KIND = ["None", "Single", "Batch"];

/** `Phase` of a dispute game. */
export const PHASE = [
  "None",
  "AwaitingInput",
  "InputRevealed",
  "AwaitingTrace",
  "AwaitingLayerSelection",
  "AwaitingLayerReveal",
  "AwaitingNeuronProof",
  "Resolved",
];

/** `Outcome` of a dispute game. */
export const OUTCOME = ["None", "ChallengerWon", "ProviderWon", "Refunded"];

/** `ModelStatus`. */
export const MODEL_STATUS = ["None", "Active", "Deprecated", "Revoked"];

/** `TeeMode`. */
export const TEE_MODE = ["None", "Window", "Instant"];

/** `RecordFlags` bits. */
export const RECORD_FLAGS = {
  OVERTURNED: 1,
  LEAF_OVERTURNED: 2,
  INPUT_PUBLIC: 4,
  DISCLOSURE_OPEN: 8,
  DISCLOSED: 16,
  TEE: 32,
  TEE_INSTANT: 64,
};

/** `FraudProven.neuron` of a structural fraud (a malformed input or model row): `type(uint32).max`. */
export const STRUCTURAL_NEURON = 0xffffffff;

/** The name of an enum value, or `Unknown(n)` for a value this page does not know (a newer contract). */
export function nameOf(names, value) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n < names.length ? names[n] : `Unknown(${value})`;
}

const FINALITY_WORDS = {
  ChallengeWindow: "challenge window passed",
  Tee: "TEE-signed",
  Proof: "proof verified",
};

/**
 * What the page shows for a commitment's `finalityOf(id)`: the status, and for a Final one how it became
 * final, e.g. "Final (challenge window passed)", "Final (TEE-signed)", "Pending".
 */
export function statusText(status, finality) {
  const name = nameOf(COMMITMENT_STATUS, status);
  if (name !== "Final") return name;
  const how = FINALITY_WORDS[nameOf(FINALITY, finality)];
  return how === undefined ? "Final" : `Final (${how})`;
}

/** The party to move in a phase: "provider", "challenger", or "" when nobody moves. */
export function partyToMove(phase) {
  const name = nameOf(PHASE, phase);
  if (["AwaitingInput", "AwaitingTrace", "AwaitingLayerReveal"].includes(name)) return "provider";
  if (["InputRevealed", "AwaitingLayerSelection", "AwaitingNeuronProof"].includes(name)) return "challenger";
  return "";
}

/** The names of the flags set in a record's `flags`. */
export function flagNames(flags) {
  const f = Number(flags);
  return Object.entries(RECORD_FLAGS)
    .filter(([, bit]) => (f & bit) !== 0)
    .map(([name]) => name.toLowerCase().replaceAll("_", " "));
}

/** "1 h 2 min 3 s", "45 s", "0 s" for a number of seconds (negative is treated as 0). */
export function formatDuration(seconds) {
  let s = Math.max(0, Math.floor(Number(seconds)));
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3_600);
  s -= h * 3_600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [];
  if (d > 0) parts.push(`${d} d`);
  if (h > 0) parts.push(`${h} h`);
  if (m > 0) parts.push(`${m} min`);
  if (s > 0 || parts.length === 0) parts.push(`${s} s`);
  return parts.slice(0, 3).join(" ");
}

/** Whether a string is a 32-byte id (`0x` and 64 hex digits). */
export function isBytes32(value) {
  return typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value);
}

import * as snarkjs from "snarkjs";
import { ZkToolchainError, collectingLogger } from "./errors.js";

/** A `.zkey` after one phase-2 step, with the step's contribution hash (to publish and to check). */
export interface ZkeyStep {
  /** The new `.zkey` bytes. */
  zkey: Uint8Array;
  /** snarkjs' contribution hash of this step, as hex (64 bytes). */
  contributionHash: string;
}

function mem(data?: Uint8Array): { type: "mem"; data?: Uint8Array } {
  return data ? { type: "mem", data } : { type: "mem" };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/**
 * One phase-2 contribution (snarkjs `zkey contribute`): the contributor mixes a secret derived from
 * `entropy` (plus snarkjs' own randomness) into the key and must then forget it. One honest contributor
 * whose secret is destroyed makes the final key sound.
 *
 * @param zkey - The previous `.zkey`.
 * @param name - The contributor's public name (recorded in the file).
 * @param entropy - Secret text mixed into the contribution.
 * @returns The new key and its contribution hash.
 */
export async function contributeZkey(zkey: Uint8Array, name: string, entropy: string): Promise<ZkeyStep> {
  const out = mem();
  const hash = await snarkjs.zKey.contribute(mem(zkey), out, name, entropy, collectingLogger([]));
  if (!(hash instanceof Uint8Array) || !out.data) throw new ZkToolchainError("zkey contribute", "failed");
  return { zkey: out.data, contributionHash: hex(hash) };
}

/**
 * The closing random beacon (snarkjs `zkey beacon`): a contribution derived from a public value nobody could
 * predict before the last contribution (for example a future block hash), so the last contributor cannot
 * bias the key by choosing its secret after seeing the others.
 *
 * @param zkey - The previous `.zkey`.
 * @param name - The beacon's name (recorded in the file).
 * @param beaconHash - The public random value as hex (1 to 255 bytes).
 * @param iterationsExp - `2^iterationsExp` hash iterations, 10..63 (snarkjs' bounds; 10 is its usual choice).
 * @returns The final key and its contribution hash.
 */
export async function beaconZkey(
  zkey: Uint8Array,
  name: string,
  beaconHash: string,
  iterationsExp = 10,
): Promise<ZkeyStep> {
  const clean = beaconHash.replace(/^0x/, "");
  if (!/^([0-9a-fA-F]{2}){1,255}$/.test(clean)) {
    throw new ZkToolchainError("zkey beacon", "the beacon must be 1 to 255 bytes of hex");
  }
  if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) {
    throw new ZkToolchainError("zkey beacon", "the iteration exponent must be an integer in 10..63");
  }
  const out = mem();
  const errors: string[] = [];
  const hash = await snarkjs.zKey.beacon(mem(zkey), out, name, clean, iterationsExp, collectingLogger(errors));
  if (!(hash instanceof Uint8Array) || !out.data) {
    throw new ZkToolchainError("zkey beacon", errors.join("; ") || "failed");
  }
  return { zkey: out.data, contributionHash: hex(hash) };
}

/** The result of {@link verifyZkey}. */
export interface ZkeyVerification {
  /** Whether the key is a correct setup of the circuit from the phase-1 file, every contribution checked. */
  ok: boolean;
  /** snarkjs' log lines: the circuit hash and each contribution's name and hash. */
  log: string[];
}

/**
 * Verifies a `.zkey` against the circuit and the phase-1 file (snarkjs `zkey verify`): recomputes the
 * initial key and checks every contribution and the beacon. Anyone can run it to check a published key.
 *
 * @param r1cs - The circuit's `.r1cs` bytes (regenerate it from the model file).
 * @param ptauPath - The phase-1 file the setup started from.
 * @param zkey - The key to check.
 * @returns Whether it verifies, with snarkjs' log.
 */
export async function verifyZkey(r1cs: Uint8Array, ptauPath: string, zkey: Uint8Array): Promise<ZkeyVerification> {
  const log: string[] = [];
  const ok = await snarkjs.zKey.verifyFromR1cs(mem(r1cs), ptauPath, mem(zkey), collectingLogger(log, true));
  return { ok: ok === true, log };
}

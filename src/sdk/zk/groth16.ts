import { readFile } from "node:fs/promises";
import { AbiCoder, getAddress } from "ethers";
import * as snarkjs from "snarkjs";
import { type DenseInt8Model, run, vectorBytes } from "../../engine/index.js";
import { packBytes } from "./circuit.js";
import type { CompiledCircuit } from "./compile.js";
import { ZkPtauTooSmall, ZkToolchainError, collectingLogger } from "./errors.js";

/** A Groth16 proof with its public signals, as snarkjs returns them. */
export interface ZkProof {
  proof: snarkjs.Groth16Proof;
  publicSignals: string[];
}

/** Everything a provider sends to `commitVerified` for one inference. */
export interface ZkInferenceProof extends ZkProof {
  /** The input bytes. */
  input: Uint8Array;
  /** The engine's output bytes (the circuit accepts no other). */
  output: Uint8Array;
  /** The address the proof is bound to. */
  prover: string;
  /** `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)`: what the Solidity verifier takes. */
  systemProof: string;
  /** `abi.encode(bytes input, address prover, bytes systemProof)`: the `proof` argument of `verifyInference`. */
  proofBytes: string;
}

function mem(data?: Uint8Array): { type: "mem"; data?: Uint8Array } {
  return data ? { type: "mem", data } : { type: "mem" };
}

function concat(input: Uint8Array, output: Uint8Array): Uint8Array {
  const data = new Uint8Array(input.length + output.length);
  data.set(input, 0);
  data.set(output, input.length);
  return data;
}

/**
 * The circuit's inputs for one inference: `input || output` packed 31 bytes per signal, and the prover.
 *
 * @param input - Input bytes.
 * @param output - Output bytes.
 * @param prover - The prover's address.
 * @returns The witness calculator's input object.
 */
export function circuitInputs(input: Uint8Array, output: Uint8Array, prover: string): Record<string, unknown> {
  return {
    dataPacked: packBytes(concat(input, output)).map(String),
    prover: BigInt(getAddress(prover)).toString(),
  };
}

/**
 * The public signals the on-chain adapter rebuilds from input, output and prover (same order as the circuit).
 *
 * @param input - Input bytes.
 * @param output - Output bytes.
 * @param prover - The prover's address.
 * @returns Decimal strings.
 */
export function publicSignalsOf(input: Uint8Array, output: Uint8Array, prover: string): string[] {
  return [...packBytes(concat(input, output)), BigInt(getAddress(prover))].map(String);
}

/**
 * Computes the witness (snarkjs' `.wtns` bytes) for given input, output and prover bytes.
 *
 * @param circuit - The compiled circuit.
 * @param input - Input bytes.
 * @param output - Claimed output bytes.
 * @param prover - The prover's address.
 * @returns The witness file's bytes.
 * @throws ZkToolchainError when no witness exists (the output is not the circuit's, or an input is malformed).
 */
export async function computeWitness(
  circuit: Pick<CompiledCircuit, "wasm">,
  input: Uint8Array,
  output: Uint8Array,
  prover: string,
): Promise<Uint8Array> {
  const out = mem();
  try {
    await snarkjs.wtns.calculate(circuitInputs(input, output, prover), mem(circuit.wasm), out);
  } catch (e) {
    throw new ZkToolchainError("witness", (e as Error).message.split("\n")[0]);
  }
  if (!out.data) throw new ZkToolchainError("witness", "snarkjs wrote no witness");
  return out.data;
}

/**
 * The power of two a circuit's Groth16 setup needs: the domain holds constraints plus public inputs plus
 * one, and snarkjs needs a phase-1 file of at least that power.
 *
 * @param r1cs - The circuit's `.r1cs` bytes.
 * @returns The power.
 */
export async function requiredPower(r1cs: Uint8Array): Promise<number> {
  const info = await snarkjs.r1cs.info(mem(r1cs));
  const n = info.nConstraints + info.nPubInputs + info.nOutputs + 1;
  return Math.max(1, Math.ceil(Math.log2(n)));
}

/**
 * Reads the power of a `.ptau` file from its header, and whether it holds the phase-2 (Lagrange) sections.
 *
 * @param ptauPath - The file.
 * @returns Its power and whether it is prepared for phase 2.
 */
export async function ptauInfo(ptauPath: string): Promise<{ power: number; prepared: boolean }> {
  const b = await readFile(ptauPath);
  if (b.length < 12 || b.subarray(0, 4).toString("latin1") !== "ptau") {
    throw new ZkToolchainError("ptau", `${ptauPath} is not a powers-of-tau file`);
  }
  let power = -1;
  let prepared = false;
  for (let o = 12; o + 12 <= b.length;) {
    const id = b.readUInt32LE(o);
    const size = Number(b.readBigUInt64LE(o + 4));
    if (id === 1) power = b.readUInt32LE(o + 12 + 4 + b.readUInt32LE(o + 12));
    if (id === 12) prepared = true;
    o += 12 + size;
  }
  if (power < 0) throw new ZkToolchainError("ptau", `${ptauPath} has no header`);
  return { power, prepared };
}

/**
 * Phase 2, step 0: the circuit's initial `.zkey` from a phase-1 file (no contribution yet; it must get at
 * least one honest contribution and a beacon before use, see `contributeZkey` / `beaconZkey`).
 *
 * @param r1cs - The circuit's `.r1cs` bytes.
 * @param ptauPath - A phase-2-ready powers-of-tau file.
 * @returns The `.zkey` bytes.
 * @throws ZkPtauTooSmall when the file's power is below the circuit's need or it is not prepared.
 */
export async function newZkey(r1cs: Uint8Array, ptauPath: string): Promise<Uint8Array> {
  const needed = await requiredPower(r1cs);
  const { power, prepared } = await ptauInfo(ptauPath);
  if (power < needed || !prepared) throw new ZkPtauTooSmall(needed, prepared ? power : -1);
  const out = mem();
  const errors: string[] = [];
  const res = await snarkjs.zKey.newZKey(mem(r1cs), ptauPath, out, collectingLogger(errors));
  if (!(res instanceof Uint8Array) || !out.data) throw new ZkToolchainError("zkey new", errors.join("; ") || "failed");
  return out.data;
}

/**
 * Proves one inference: runs the engine, computes the witness with the engine's output, proves, and
 * encodes the proof for `verifyInference`.
 *
 * @param model - The model (the circuit's source).
 * @param circuit - Its compiled circuit.
 * @param zkey - The final `.zkey` of the circuit's ceremony.
 * @param input - Input bytes (`inDim` of layer 1).
 * @param prover - The address that will send the transaction.
 * @returns Proof, public signals and their encodings.
 */
export async function proveInference(
  model: DenseInt8Model,
  circuit: Pick<CompiledCircuit, "wasm">,
  zkey: Uint8Array,
  input: Uint8Array,
  prover: string,
): Promise<ZkInferenceProof> {
  const result = run(model, new Int8Array(input.buffer, input.byteOffset, input.length));
  const output = vectorBytes(result.output).slice();
  const wtns = await computeWitness(circuit, input, output, prover);
  const { proof, publicSignals } = await proveWitness(zkey, wtns);
  const systemProof = encodeSystemProof(proof);
  return {
    proof,
    publicSignals,
    input: input.slice(),
    output,
    prover: getAddress(prover),
    systemProof,
    proofBytes: encodeInferenceProof(input, prover, systemProof),
  };
}

/**
 * Proves a witness with snarkjs' Groth16 prover.
 *
 * @param zkey - The `.zkey` bytes.
 * @param wtns - The `.wtns` bytes.
 * @returns Proof and public signals.
 */
export async function proveWitness(zkey: Uint8Array, wtns: Uint8Array): Promise<ZkProof> {
  try {
    return await snarkjs.groth16.prove(mem(zkey), mem(wtns));
  } catch (e) {
    throw new ZkToolchainError("prove", (e as Error).message.split("\n")[0]);
  }
}

/**
 * Checks a proof off-chain against a verifying key (snarkjs' Groth16 verifier).
 *
 * @param vk - The verification key (`exportVerificationKey`).
 * @param proof - Proof and public signals.
 * @returns Whether it verifies.
 */
export async function verifyProof(vk: unknown, proof: ZkProof): Promise<boolean> {
  return snarkjs.groth16.verify(vk, proof.publicSignals, proof.proof);
}

/**
 * `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)` of a snarkjs proof, with each G2 coordinate's two
 * limbs swapped as the EVM pairing precompile (EIP-197) orders them (imaginary part first).
 *
 * @param proof - A snarkjs Groth16 proof.
 * @returns The 256-byte encoding as hex.
 */
export function encodeSystemProof(proof: snarkjs.Groth16Proof): string {
  const a = [proof.pi_a[0], proof.pi_a[1]];
  const b = [
    [proof.pi_b[0][1], proof.pi_b[0][0]],
    [proof.pi_b[1][1], proof.pi_b[1][0]],
  ];
  const c = [proof.pi_c[0], proof.pi_c[1]];
  return AbiCoder.defaultAbiCoder().encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [a, b, c]);
}

/**
 * The `proof` argument of `verifyInference`: `abi.encode(bytes input, address prover, bytes systemProof)`.
 *
 * @param input - Input bytes.
 * @param prover - The prover's address.
 * @param systemProof - From {@link encodeSystemProof}.
 * @returns The encoding as hex.
 */
export function encodeInferenceProof(input: Uint8Array, prover: string, systemProof: string): string {
  return AbiCoder.defaultAbiCoder().encode(["bytes", "address", "bytes"], [input, getAddress(prover), systemProof]);
}

/**
 * The verification key of a `.zkey` (snarkjs JSON).
 *
 * @param zkey - The `.zkey` bytes.
 * @returns The key.
 */
export async function verificationKey(zkey: Uint8Array): Promise<Record<string, unknown>> {
  return snarkjs.zKey.exportVerificationKey(mem(zkey));
}

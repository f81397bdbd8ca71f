import { keccak_256 } from "@noble/hashes/sha3.js";
import { open } from "node:fs/promises";
import { bn128, type Bn128Curve, type Bn128Group } from "./curve.js";

/**
 * A powers-of-tau file made from KNOWN secrets: INSECURE, for tests and the bench only.
 *
 * Whoever knows tau, alpha and beta can forge any Groth16 proof of any circuit set up from this file. It
 * exists because snarkjs' own phase-1 path (`powersoftau new`, `contribute`, `prepare phase2`) spends
 * minutes on the Lagrange sections even at 2^12 (an FFT over curve points); knowing tau, each Lagrange point
 * is one scalar multiplication. Production uses a public ceremony file (docs/zk.md).
 *
 * The file is byte-for-byte what `snarkjs powersoftau prepare phase2` makes from an accumulator holding these
 * secrets with no recorded contribution (test/zk/ptau.test.ts checks it against snarkjs at a small power).
 */
export interface InsecureTestPowersOfTauOptions {
  /** Seed of the secrets (tau, alpha, beta are keccak-derived from it); everyone knowing it can forge. */
  seed?: string;
}

/** The seed used when none is given: public, so files made with it are worth nothing as a ceremony. */
export const INSECURE_TEST_SEED = "verity insecure test powers of tau: everyone knows this seed";

function secret(seed: string, label: string, r: bigint): bigint {
  const h = keccak_256(new TextEncoder().encode(`${seed}/${label}`));
  let v = 0n;
  for (const b of h) v = (v << 8n) | BigInt(b);
  return (v % (r - 1n)) + 1n;
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function u64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return b;
}

/** Multiplies the generator of `group` by each scalar (standard little-endian) on the curve's worker threads. */
async function timesGenerator(curve: Bn128Curve, group: "G1" | "G2", scalars: Uint8Array, count: number) {
  const G: Bn128Group = curve[group];
  const sIn = G.F.n8 * 2;
  const sMid = G.F.n8 * 3;
  const n8r = curve.Fr.n8;
  const prefix = group === "G1" ? "g1m" : "g2m";
  const threads = curve.tm.concurrency;
  const per = Math.ceil(count / threads);
  const jobs: Promise<Uint8Array[]>[] = [];
  for (let start = 0; start < count; start += per) {
    const n = Math.min(per, count - start);
    const task: unknown[] = [
      { cmd: "ALLOCSET", var: 0, buff: G.oneAffine },
      { cmd: "ALLOCSET", var: 1, buff: scalars.slice(start * n8r, (start + n) * n8r) },
      { cmd: "ALLOC", var: 2, len: n * sMid },
    ];
    for (let i = 0; i < n; i++) {
      task.push({
        cmd: "CALL",
        fnName: `${prefix}_timesScalarAffine`,
        params: [{ var: 0 }, { var: 1, offset: i * n8r }, { val: n8r }, { var: 2, offset: i * sMid }],
      });
    }
    task.push({ cmd: "CALL", fnName: `${prefix}_batchToAffine`, params: [{ var: 2 }, { val: n }, { var: 2 }] });
    task.push({ cmd: "GET", out: 0, var: 2, len: n * sIn });
    jobs.push(curve.tm.queueAction(task));
  }
  const parts = await Promise.all(jobs);
  const out = new Uint8Array(count * sIn);
  let offset = 0;
  for (const [part] of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The Lagrange section for domains `2^0 .. 2^maxPower`: for each size n, the points
 * `c * L_i(tau) * G` with `L_i(tau) = (1/n) * sum_{j<n} (tau * w^-i)^j` (what snarkjs' inverse FFT of
 * `c * tau^j * G` gives). With `truncateLast`, the largest size sums only `j < n - 1`, exactly as snarkjs
 * does for tauG1 at `power + 1` (whose last power is not in the file; it pads with the point at infinity).
 */
async function lagrangeSection(
  curve: Bn128Curve,
  group: "G1" | "G2",
  tau: bigint,
  c: bigint,
  maxPower: number,
  truncateLast: boolean,
): Promise<Uint8Array> {
  const { Fr } = curve;
  const parts: Uint8Array[] = [];
  const cF = Fr.e(c);
  for (let p = 0; p <= maxPower; p++) {
    const n = 2 ** p;
    const truncated = truncateLast && p === maxPower;
    const tauF = Fr.e(tau);
    const wInv = Fr.inv(Fr.w[p]);
    const nInv = Fr.inv(Fr.e(n));
    let tauN = tauF; // tau^n by p squarings
    for (let i = 0; i < p; i++) tauN = Fr.mul(tauN, tauN);
    const scalars = new Uint8Array(n * Fr.n8);
    let x = tauF;
    for (let i = 0; i < n; i++) {
      const xm1 = Fr.sub(x, Fr.one);
      if (Fr.eq(xm1, Fr.e(0))) throw new Error("tau is a root of unity of the domain");
      // geometric sum: (x^n - 1) / (x - 1), with x^n = tau^n; truncated: (x^(n-1) - 1) / (x - 1)
      const top = truncated ? Fr.sub(Fr.mul(tauN, Fr.inv(x)), Fr.one) : Fr.sub(tauN, Fr.one);
      const s = Fr.mul(Fr.mul(cF, nInv), Fr.mul(top, Fr.inv(xm1)));
      Fr.toRprLE(scalars, i * Fr.n8, s);
      x = Fr.mul(x, wInv);
    }
    parts.push(await timesGenerator(curve, group, scalars, n));
  }
  const size = parts.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(size);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

/** `c * tau^i * G` for `i < count`, by snarkjs' batched key application. */
async function powers(curve: Bn128Curve, group: "G1" | "G2", tau: bigint, c: bigint, count: number) {
  const G = curve[group];
  const buff = new Uint8Array(count * G.oneAffine.length);
  for (let i = 0; i < count; i++) buff.set(G.oneAffine, i * G.oneAffine.length);
  return G.batchApplyKey(buff, curve.Fr.e(c), curve.Fr.e(tau));
}

/**
 * Writes an INSECURE phase-2-ready powers-of-tau file of power `power` (circuits of up to `2^power`
 * constraints) from secrets derived from a public seed. Tests and the bench only: anyone who knows the seed
 * can forge proofs (see {@link InsecureTestPowersOfTauOptions}). Never publish such a file as a ceremony.
 *
 * @param file - Path to write.
 * @param power - Power of two (1..28).
 * @param options - The seed.
 */
export async function insecureTestPowersOfTau(
  file: string,
  power: number,
  options: InsecureTestPowersOfTauOptions = {},
): Promise<void> {
  if (!Number.isInteger(power) || power < 1 || power > 28) throw new RangeError(`power ${power} is not in 1..28`);
  const seed = options.seed ?? INSECURE_TEST_SEED;
  const curve = await bn128();
  try {
    const tau = secret(seed, "tau", curve.r);
    const alpha = secret(seed, "alpha", curve.r);
    const beta = secret(seed, "beta", curve.r);
    const n = 2 ** power;
    const header = new Uint8Array(4 + 32 + 4 + 4);
    header.set(u32(32), 0);
    let q = curve.q;
    for (let i = 0; i < 32; i++, q >>= 8n) header[4 + i] = Number(q & 0xffn);
    header.set(u32(power), 36);
    header.set(u32(power), 40);
    const betaG2 = await powers(curve, "G2", 1n, beta, 1);
    const sections: [number, () => Promise<Uint8Array>][] = [
      [1, async () => header],
      [2, () => powers(curve, "G1", tau, 1n, 2 * n - 1)],
      [3, () => powers(curve, "G2", tau, 1n, n)],
      [4, () => powers(curve, "G1", tau, alpha, n)],
      [5, () => powers(curve, "G1", tau, beta, n)],
      [6, async () => betaG2],
      [7, async () => u32(0)], // no recorded contribution: the secrets are not a ceremony's
      [12, () => lagrangeSection(curve, "G1", tau, 1n, power + 1, true)],
      [13, () => lagrangeSection(curve, "G2", tau, 1n, power, false)],
      [14, () => lagrangeSection(curve, "G1", tau, alpha, power, false)],
      [15, () => lagrangeSection(curve, "G1", tau, beta, power, false)],
    ];
    const fd = await open(file, "w");
    try {
      const magic = new TextEncoder().encode("ptau");
      await fd.write(new Uint8Array([...magic, ...u32(1), ...u32(sections.length)]));
      for (const [id, make] of sections) {
        const data = await make();
        await fd.write(new Uint8Array([...u32(id), ...u64(data.length)]));
        await fd.write(data);
      }
    } finally {
      await fd.close();
    }
  } finally {
    await curve.terminate();
  }
}

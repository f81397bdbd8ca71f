import { type DenseInt8Model, modelCommitments } from "../../engine/index.js";
import { ZkModelTooLarge } from "./errors.js";

/** Bytes per packed public field element: 31 bytes (248 bits) always fit below the BN254 scalar field. */
export const BYTES_PER_SIGNAL = 31;

/**
 * The constraint bound snarkjs' README states for Groth16 over BN254: `2^28` (the largest powers-of-tau
 * ceremony and the two-adicity of the scalar field). Models whose circuit would exceed it are refused.
 */
export const ZK_MAX_CONSTRAINTS = 2 ** 28;

/** Version tag of the generated circuit's design; it is written into the circuit text. */
export const CIRCUIT_VERSION = "verity.zk.dense-int8-v1.groth16.1";

/** The per-neuron parameters the generator derives from the model's constants (all exact integers). */
export interface NeuronPlan {
  /** Right shift of the layer. */
  shift: number;
  /** Offset making `p + k * 2^shift` non-negative for every admissible input (witness computation only). */
  k: bigint;
  /** Smallest and largest quotient `q = floor(p / 2^shift)` over all admissible inputs. */
  qMin: bigint;
  qMax: bigint;
  /** Bit width of the `127 < q` comparison, or 0 when `q <= 127` always holds. */
  hiBits: number;
  /** Bit width of the `q < lo` comparison, or 0 when `q >= lo` always holds. */
  loBits: number;
  /** Width of the plain range check of `q - qMin` when neither comparison is needed (else 0). */
  rangeBits: number;
  /** Lower clamp of the layer (`0` with relu, else `-128`). */
  lo: number;
  /** Range of the neuron's output after the clamp (input range of the next layer). */
  yMin: bigint;
  yMax: bigint;
}

/** What the generator produces for a model: the circuit text and everything the verifier side needs. */
export interface GeneratedCircuit {
  /** The circom source, a deterministic function of the model file's layers. */
  source: string;
  /** `inDim` of layer 1: the input length in bytes. */
  inputLength: number;
  /** `outDim` of the last layer: the output length in bytes. */
  outputLength: number;
  /** Public signals: `ceil((in + out)/31)` chunks of input || output, then the prover. */
  publicSignals: number;
  /** The generator's count of the circuit's non-linear constraints (what `--O2` keeps). */
  estimatedConstraints: number;
  /** The model's content hash, written into the circuit's header comment. */
  contentHash: string;
  /** Per layer, per neuron plans (for tests and inspection). */
  plans: NeuronPlan[][];
}

/** Options of {@link generateCircuit}. */
export interface GenerateOptions {
  /** Refuse models whose circuit needs more constraints than this; defaults to {@link ZK_MAX_CONSTRAINTS}. */
  maxConstraints?: number;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b !== a && a < 0n !== b < 0n ? q - 1n : q;
}

function bitLength(v: bigint): number {
  return v <= 0n ? 0 : v.toString(2).length;
}

function clampBig(v: bigint, lo: bigint, hi: bigint): bigint {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Smallest `n >= 1` such that every `q` in `[qMin, qMax]` passes circomlib's `LessThan(n)` against `c`
 * without leaving its `Num2Bits(n + 1)` range: `c - q` (for `c < q`) or `q - c` (for `q < c`) lies in
 * `[-2^n, 2^n)`.
 */
function comparisonBits(qMin: bigint, qMax: bigint, c: bigint, cFirst: boolean): number {
  for (let n = 1; n <= 252; n++) {
    const two = 1n << BigInt(n);
    const lo = cFirst ? c - qMax : qMin - c;
    const hi = cFirst ? c - qMin : qMax - c;
    if (lo >= -two && hi < two) return n;
  }
  throw new RangeError("comparison wider than 252 bits");
}

/**
 * Plans every neuron from the model's constants: the exact range of its accumulator over all int8 inputs
 * (then over the clamped ranges of earlier layers), hence of its quotient, hence the widths of the range
 * checks. Narrow ranges make small circuits; the checks are sound whatever the prover does (docs/zk.md).
 *
 * @param model - A valid model.
 * @returns Per layer, per neuron plans.
 */
export function planModel(model: DenseInt8Model): NeuronPlan[][] {
  let xMin: bigint[] = Array.from({ length: model.layers[0].spec.inDim }, () => -128n);
  let xMax: bigint[] = Array.from({ length: model.layers[0].spec.inDim }, () => 127n);
  const plans: NeuronPlan[][] = [];
  for (const layer of model.layers) {
    const { inDim, outDim, multiplier, shift, relu } = layer.spec;
    const m = BigInt(multiplier);
    const half = shift > 0 ? 1n << BigInt(shift - 1) : 0n;
    const div = 1n << BigInt(shift);
    const lo = relu ? 0 : -128;
    const layerPlans: NeuronPlan[] = [];
    for (let j = 0; j < outDim; j++) {
      let accMin = BigInt(layer.biases[j]);
      let accMax = accMin;
      for (let k = 0; k < inDim; k++) {
        const w = BigInt(layer.weights[j * inDim + k]);
        if (w > 0n) {
          accMin += w * xMin[k];
          accMax += w * xMax[k];
        } else if (w < 0n) {
          accMin += w * xMax[k];
          accMax += w * xMin[k];
        }
      }
      const qMin = floorDiv(accMin * m + half, div);
      const qMax = floorDiv(accMax * m + half, div);
      const hiBits = qMax > 127n ? comparisonBits(qMin, qMax, 127n, true) : 0;
      const loBits = qMin < BigInt(lo) ? comparisonBits(qMin, qMax, BigInt(lo), false) : 0;
      const rangeBits = hiBits === 0 && loBits === 0 ? bitLength(qMax - qMin) : 0;
      layerPlans.push({
        shift,
        k: qMin < 0n ? -qMin : 0n,
        qMin,
        qMax,
        hiBits,
        loBits,
        rangeBits,
        lo,
        yMin: clampBig(qMin, BigInt(lo), 127n),
        yMax: clampBig(qMax, BigInt(lo), 127n),
      });
    }
    plans.push(layerPlans);
    xMin = layerPlans.map((p) => p.yMin);
    xMax = layerPlans.map((p) => p.yMax);
  }
  return plans;
}

/**
 * Counts the non-linear constraints of the circuit a plan generates (what circom's `--O2` keeps): 8 per
 * input byte and per output byte, `shift` per neuron for its remainder, `n + 2` per comparison (its bits
 * and the clamp's product), the plain range check's width, and 1 for the prover's square.
 *
 * @param plans - From {@link planModel}.
 * @param inputLength - Input bytes.
 * @param outputLength - Output bytes.
 * @returns The count.
 */
export function countConstraints(plans: NeuronPlan[][], inputLength: number, outputLength: number): number {
  let n = 8 * inputLength + 8 * outputLength + 1;
  for (const layer of plans) {
    for (const p of layer) {
      n += p.shift + (p.hiBits ? p.hiBits + 2 : 0) + (p.loBits ? p.loBits + 2 : 0) + p.rangeBits;
    }
  }
  return n;
}

/**
 * A cheap upper bound of the constraint count from the shapes alone (no per-weight work), so that huge
 * models are refused before anything proportional to their weights is done: every neuron at most
 * `shift + 2 * 66 + 4` (a quotient never exceeds 2^64 in magnitude).
 */
function shapeBound(model: DenseInt8Model): number {
  const first = model.layers[0].spec;
  const last = model.layers[model.layers.length - 1].spec;
  let n = 8 * first.inDim + 8 * last.outDim + 1;
  for (const { spec } of model.layers) n += spec.outDim * (spec.shift + 2 * 66 + 4);
  return n;
}

function chunks(length: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < length; start += BYTES_PER_SIGNAL) out.push(Math.min(BYTES_PER_SIGNAL, length - start));
  return out;
}

/** The lengths (in bytes) of the public chunks of a byte string: 31 bytes each, the last one shorter. */
export const chunkLengths = chunks;

/** Circuit-wide templates: fixed text, so that the whole file is a function of the model alone. */
const TEMPLATES = `
// x = int8 bytes of one public chunk, big-endian: the chunk is sum_t byte[t] * 256^(LEN-1-t).
// Num2Bits(8 * LEN) (LEN <= 31, so at most 248 bits: the decomposition is unique) range-checks every byte.
template UnpackInt8(LEN) {
    signal input in;
    signal output out[LEN];
    component bits = Num2Bits(8 * LEN);
    bits.in <== in;
    for (var t = 0; t < LEN; t++) {
        var base = 8 * (LEN - 1 - t);
        var v = 0;
        for (var i = 0; i < 7; i++) {
            v += bits.out[base + i] * (2 ** i);
        }
        // two's complement: the top bit weighs -128
        out[t] <== v - 128 * bits.out[base + 7];
    }
}

// y = clamp(floor(p / 2^S), LO, 127), exactly as the engine's requantize (p already holds the rounding half).
// q and r are free witness values tied by p = q * 2^S + r with r range-checked to [0, 2^S); q is range-checked
// by the comparisons' Num2Bits (or by a plain range check when no clamp can apply), so (q, r) is unique.
template Requant(S, K, HI_BITS, LO_BITS, LO, RANGE_BITS, QMIN) {
    signal input p;
    signal output y;
    signal q;
    signal r;
    // K makes the honest p + K * 2^S non-negative, so integer division gives the floor.
    q <-- ((p + K * (2 ** S)) \\ (2 ** S)) - K;
    r <-- (p + K * (2 ** S)) % (2 ** S);
    p === q * (2 ** S) + r;
    if (S > 0) {
        component rBits = Num2Bits(S);
        rBits.in <== r;
    } else {
        r === 0;
    }
    signal tHi;
    signal tLo;
    if (HI_BITS > 0) {
        component above = LessThan(HI_BITS);
        above.in[0] <== 127;
        above.in[1] <== q;
        tHi <== above.out * (127 - q);
    } else {
        tHi <== 0;
    }
    if (LO_BITS > 0) {
        component below = LessThan(LO_BITS);
        below.in[0] <== q;
        below.in[1] <== LO;
        tLo <== below.out * (LO - q);
    } else {
        tLo <== 0;
    }
    if (HI_BITS == 0 && LO_BITS == 0) {
        if (RANGE_BITS > 0) {
            component qBits = Num2Bits(RANGE_BITS);
            qBits.in <== q - QMIN;
        } else {
            q === QMIN;
        }
    }
    // at most one of the two clamps applies: y = 127, LO or q
    y <== q + tHi + tLo;
}
`;

/**
 * `bias + sum_k w_k * x_k` over the non-zero weights, summed as a balanced tree of parentheses: circom's
 * parser and evaluator recurse once per operator, and a flat 784-term sum overflows the wasm build's stack.
 */
function linear(bias: number, weights: Int8Array, offset: number, inDim: number, x: (k: number) => string): string {
  const terms: string[] = [String(bias)];
  for (let k = 0; k < inDim; k++) {
    const w = weights[offset + k];
    if (w !== 0) terms.push(`${w} * ${x(k)}`);
  }
  const sum = (lo: number, hi: number): string => {
    if (hi - lo <= 8) return terms.slice(lo, hi).join(" + ");
    const mid = (lo + hi) >> 1;
    return `(${sum(lo, mid)}) + (${sum(mid, hi)})`;
  };
  return sum(0, terms.length);
}

/**
 * Generates the circom circuit of a `dense-int8-v1` model with its weights, biases and requantization
 * parameters as constants. The text depends only on the layers (the model's name and metadata are ignored), so
 * anyone can regenerate it from the model file and compare the verifying key with the published setup.
 *
 * Public inputs, in this order: `dataPacked[ceil((inDim + outDim)/31)]` (the input bytes then the output bytes,
 * 31 per signal, big-endian) and `prover`
 * (layout in docs/zk.md).
 *
 * @param model - A valid model (see `parseModel`).
 * @param options - The constraint bound.
 * @returns The circuit and its shape.
 * @throws ZkModelTooLarge when the circuit would need more constraints than the bound.
 */
export function generateCircuit(model: DenseInt8Model, options: GenerateOptions = {}): GeneratedCircuit {
  const limit = options.maxConstraints ?? ZK_MAX_CONSTRAINTS;
  const bound = shapeBound(model);
  const first = model.layers[0].spec;
  const last = model.layers[model.layers.length - 1].spec;
  if (bound > limit) {
    // The exact count costs a pass over the weights; refuse at once when even a lower bound (every neuron
    // range-checks its remainder's `shift` bits) is over the limit.
    const lower =
      8 * first.inDim + 8 * last.outDim + 1 + model.layers.reduce((n, l) => n + l.spec.outDim * l.spec.shift, 0);
    if (lower > limit) throw new ZkModelTooLarge(lower, limit);
  }
  const plans = planModel(model);
  const inputLength = first.inDim;
  const outputLength = last.outDim;
  const estimatedConstraints = countConstraints(plans, inputLength, outputLength);
  if (estimatedConstraints > limit) throw new ZkModelTooLarge(estimatedConstraints, limit);
  const dataChunks = chunks(inputLength + outputLength);
  const { contentHash } = modelCommitments(model);

  const lines: string[] = [];
  lines.push(`pragma circom 2.1.0;`);
  lines.push(``);
  lines.push(`// Generated by Verity (${CIRCUIT_VERSION}) from a dense-int8-v1 model; do not edit.`);
  lines.push(`// Model content hash: ${contentHash}`);
  lines.push(`// Layers: ${model.layers.map((l) => `${l.spec.inDim}x${l.spec.outDim}`).join(", ")}`);
  lines.push(``);
  lines.push(`include "circomlib/circuits/bitify.circom";`);
  lines.push(`include "circomlib/circuits/comparators.circom";`);
  lines.push(TEMPLATES);
  lines.push(`template Model() {`);
  lines.push(`    // the input bytes then the output bytes, 31 per signal, big-endian`);
  lines.push(`    signal input dataPacked[${dataChunks.length}];`);
  lines.push(`    signal input prover;`);
  lines.push(`    // binds the prover's address into a constraint (a proof is only valid for this address)`);
  lines.push(`    signal proverSquare;`);
  lines.push(`    proverSquare <== prover * prover;`);
  lines.push(``);
  dataChunks.forEach((len, c) => {
    lines.push(`    component chunk${c} = UnpackInt8(${len});`);
    lines.push(`    chunk${c}.in <== dataPacked[${c}];`);
  });
  // byte k of input || output
  const byte = (k: number): string => `chunk${Math.floor(k / BYTES_PER_SIGNAL)}.out[${k % BYTES_PER_SIGNAL}]`;
  let x = byte;
  model.layers.forEach((layer, l) => {
    const { inDim, outDim, multiplier, shift } = layer.spec;
    const half = shift > 0 ? (1n << BigInt(shift - 1)).toString() : "0";
    lines.push(``);
    lines.push(
      `    // layer ${l + 1}: ${inDim} -> ${outDim}, multiplier ${multiplier}, shift ${shift}, relu ${layer.spec.relu}`,
    );
    lines.push(`    component rq${l + 1}[${outDim}];`);
    const prev = x;
    for (let j = 0; j < outDim; j++) {
      const p = plans[l][j];
      lines.push(
        `    rq${l + 1}[${j}] = Requant(${shift}, ${p.k}, ${p.hiBits}, ${p.loBits}, ${p.lo}, ${p.rangeBits}, ${p.qMin});`,
      );
      const acc = linear(layer.biases[j], layer.weights, j * inDim, inDim, prev);
      lines.push(`    rq${l + 1}[${j}].p <== (${acc}) * ${multiplier} + ${half};`);
    }
    x = (k: number): string => `rq${l + 1}[${k}].y`;
  });
  lines.push(``);
  lines.push(`    // the claimed output bytes are the last layer's outputs`);
  for (let j = 0; j < outputLength; j++) lines.push(`    ${byte(inputLength + j)} === ${x(j)};`);
  lines.push(`}`);
  lines.push(``);
  lines.push(`component main {public [dataPacked, prover]} = Model();`);
  lines.push(``);
  return {
    source: lines.join("\n"),
    inputLength,
    outputLength,
    publicSignals: dataChunks.length + 1,
    estimatedConstraints,
    contentHash,
    plans,
  };
}

/**
 * Packs bytes into public field elements: chunks of 31 bytes, each read as a big-endian integer (the last
 * chunk holds the remaining bytes, still big-endian, so it is smaller than 2^(8 * its length)).
 *
 * @param bytes - Input or output bytes.
 * @returns One bigint per chunk.
 */
export function packBytes(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let start = 0; start < bytes.length; start += BYTES_PER_SIGNAL) {
    let v = 0n;
    for (const b of bytes.subarray(start, Math.min(bytes.length, start + BYTES_PER_SIGNAL))) v = (v << 8n) | BigInt(b);
    out.push(v);
  }
  return out;
}

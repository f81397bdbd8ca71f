/**
 * `contracts/libraries/GasBounds.sol` mirrored in TypeScript: the batch-disclosure part, so that a provider
 * can size its `discloseLeaves` chunks without a call, and the model bound (`ofModel`, `maxBatchLeaves`), so
 * that a tool (the ONNX importer) can say which bound a model breaks before anyone sends a registration.
 * test/sdk/contracts.test.ts and test/onnx/bounds.test.ts check them against the Solidity library (through
 * contracts/mocks/GasBoundsHarness.sol).
 */
import type { LayerSpec } from "../engine/index.js";

/** `PolicyBounds.MAX_HONEST_MOVE_GAS`: the largest transaction an honest party is ever asked to send. */
export const MAX_HONEST_MOVE_GAS = 8_000_000n;

const TX_BASE = 21_000n;
const FLOOR_PER_BYTE = 40n;
const EXEC_PER_BYTE = 12n;
const EXEC_DISCLOSE_CHUNK = 80_000n;
const EXEC_DISCLOSE_LEAF = 3_000n;

const pad = (n: bigint) => ((n + 31n) / 32n) * 32n;

/** Memory expansion cost of `bytes` bytes: 3 per word plus words^2 / 512. */
function memoryGas(bytes: bigint): bigint {
  const words = (bytes + 31n) / 32n;
  return 3n * words + (words * words) / 512n;
}

/** `GasBounds._chunkCosts`: the fixed gas of one `discloseLeaves` transaction and its gas per leaf. */
function chunkCosts(inDim: bigint): { fixedGas: bigint; perLeaf: bigint } {
  const padded = pad(inDim);
  const leafBytes = 32n + 96n + 64n + padded;
  const fixedGas = TX_BASE + FLOOR_PER_BYTE * (4n + 5n * 32n + 64n) + EXEC_DISCLOSE_CHUNK + memoryGas(padded + 256n);
  const perLeaf = FLOOR_PER_BYTE * leafBytes + EXEC_DISCLOSE_LEAF + EXEC_PER_BYTE * padded;
  return { fixedGas, perLeaf };
}

/**
 * `GasBounds.leavesPerChunk(inDim)`: the most leaves one `discloseLeaves` transaction may carry within
 * `MAX_HONEST_MOVE_GAS`, for inputs of `inDim` bytes (zero if not even one fits).
 */
export function leavesPerChunk(inDim: number): number {
  const { fixedGas, perLeaf } = chunkCosts(BigInt(inDim));
  if (fixedGas + perLeaf > MAX_HONEST_MOVE_GAS) return 0;
  return Number((MAX_HONEST_MOVE_GAS - fixedGas) / perLeaf);
}

/** `GasBounds.discloseChunk(count, inDim)`: the gas bound of one `discloseLeaves` with `count` leaves. */
export function discloseChunkGas(count: number, inDim: number): bigint {
  const { fixedGas, perLeaf } = chunkCosts(BigInt(inDim));
  return fixedGas + BigInt(count) * perLeaf;
}

// ------------------------------------------------------------------ model bounds (GasBounds.ofModel)

const STANDARD_PER_BYTE = 16n;
const PARAMS_BYTES = 4n + 14n * 32n;
const EXEC_OPEN = 220_000n;
const EXEC_MOVE = 60_000n;
const EXEC_RESOLVE = 260_000n;
const EXEC_REVEAL_LAYER = 110_000n;
const EXEC_PER_HASH = 400n;
const EXEC_PER_MAC = 70n;
const EXEC_PER_PROOF_NODE = 300n;
const EXEC_REGISTRY_CALL = 20_000n;
const EXEC_FINISH = 200_000n;
const EXEC_FINISH_PER_LEAF = 1_000n;
/** `PolicyBounds.MAX_BATCH_LEAVES` and `MAX_DISCLOSURE_GAS`. */
const MAX_BATCH_LEAVES = 1_024;
const MAX_DISCLOSURE_GAS = 64_000_000n;

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const memory = memoryGas;
const txGas = (bytes: bigint, exec: bigint) => {
  const standard = STANDARD_PER_BYTE * bytes + exec;
  const floor = FLOOR_PER_BYTE * bytes;
  return TX_BASE + max(standard, floor);
};

function finishDisclosure(count: bigint): bigint {
  return txGas(4n + 5n * 32n + 64n + 32n * count, EXEC_FINISH + EXEC_FINISH_PER_LEAF * count + memory(64n * count));
}

function disclosure(count: number, inDim: number): bigint | undefined {
  const perChunk = leavesPerChunk(inDim);
  if (perChunk === 0) return undefined;
  const full = Math.floor(count / perChunk);
  const rest = count % perChunk;
  let gas = BigInt(full) * discloseChunkGas(perChunk, inDim) + finishDisclosure(BigInt(count));
  if (rest !== 0) gas += discloseChunkGas(rest, inDim);
  return gas;
}

/** `GasBounds.maxBatchLeaves(inDim)`: most leaves a batch may hold so that its disclosure fits the budget. */
export function maxBatchLeaves(inDim: number): number {
  if (leavesPerChunk(inDim) === 0) return 0;
  let lo = 0;
  let hi = MAX_BATCH_LEAVES;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (disclosure(mid, inDim)! <= MAX_DISCLOSURE_GAS) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** One honest move's gas bound and what it is. */
export interface MoveBound {
  /** The move (`proveNeuron in layer 1 (784 -> 128)`). */
  move: string;
  /** Its gas bound. */
  gas: bigint;
}

/** `GasBounds.ofModel(layers)`, with the move that is the worst. */
export interface ModelGasBounds {
  /** The largest single transaction of any game on the model. */
  worst: MoveBound;
  /** What the provider spends on one full game. */
  providerGame: bigint;
  /** What a challenger spends on one full game. */
  challengerGame: bigint;
}

/**
 * `GasBounds.ofModel`: the worst honest move of a game on a model with these layers (disclosure
 * included) and each side's full game.
 *
 * @param layers - The model's layer specs (at least one).
 * @returns The bounds.
 */
export function gasBoundsOfModel(layers: readonly Pick<LayerSpec, "inDim" | "outDim">[]): ModelGasBounds {
  const numLayers = BigInt(layers.length);
  const neurons = layers.reduce((s, l) => s + l.outDim, 0);
  let depth = 0n;
  while (1n << depth < BigInt(neurons)) depth++;
  const hashes = numLayers + 1n;

  const open = txGas(4n + 5n * 32n + 32n + 3n * 32n + 2n * 32n + 32n + 32n * 11n, EXEC_OPEN);
  const resolve = txGas(PARAMS_BYTES + 32n, EXEC_RESOLVE);
  const fixed = max(open, resolve);
  const inDim0 = BigInt(layers[0].inDim);
  const padded0 = pad(inDim0);
  const input = txGas(
    PARAMS_BYTES + 64n + padded0,
    EXEC_MOVE + EXEC_REGISTRY_CALL + EXEC_PER_BYTE * padded0 + memory(padded0),
  );
  const trace = txGas(PARAMS_BYTES + 64n + 32n * hashes, EXEC_MOVE + EXEC_PER_HASH * hashes + memory(32n * hashes));
  const moves: MoveBound[] = [
    { move: "opening or resolving a dispute", gas: fixed },
    { move: `revealInput (${layers[0].inDim}-byte input)`, gas: input },
    { move: `revealTrace (${layers.length} layers)`, gas: trace },
  ];
  let maxReveal = 0n;
  let maxProve = 0n;
  layers.forEach((l, i) => {
    const outDim = BigInt(l.outDim);
    const inDim = BigInt(l.inDim);
    const paddedOut = pad(outDim);
    const reveal = txGas(
      PARAMS_BYTES + 32n + 128n + 32n * hashes + paddedOut,
      EXEC_REVEAL_LAYER + EXEC_PER_HASH * hashes + EXEC_PER_BYTE * paddedOut + memory(32n * hashes + paddedOut),
    );
    const vectors = 2n * pad(inDim) + paddedOut;
    const prove = txGas(
      PARAMS_BYTES + 32n + 6n * 32n + 4n * 32n + vectors + 32n * depth,
      EXEC_RESOLVE +
        EXEC_REGISTRY_CALL +
        EXEC_PER_MAC * inDim +
        EXEC_PER_BYTE * vectors +
        EXEC_PER_PROOF_NODE * depth +
        memory(vectors + 256n),
    );
    moves.push({ move: `revealLayer of layer ${i + 1} (${l.outDim} outputs)`, gas: reveal });
    moves.push({ move: `proveNeuron in layer ${i + 1} (${l.inDim} -> ${l.outDim})`, gas: prove });
    maxReveal = max(maxReveal, reveal);
    maxProve = max(maxProve, prove);
  });
  moves.push({ move: "discloseLeaves of one leaf", gas: discloseChunkGas(1, layers[0].inDim) });
  moves.push({
    move: "finishDisclosure of a full batch",
    gas: finishDisclosure(BigInt(Math.max(1, maxBatchLeaves(layers[0].inDim)))),
  });
  // The first of the largest, as the Solidity max() chain keeps the earlier operand on ties.
  const worst = moves.reduce((a, b) => (b.gas > a.gas ? b : a));
  return { worst, providerGame: input + trace + maxReveal + fixed, challengerGame: 3n * fixed + maxProve };
}

/**
 * The batch-disclosure part of `contracts/libraries/GasBounds.sol`, mirrored in TypeScript so that a
 * provider can size its `discloseLeaves` chunks without a call. test/sdk/gasBounds.test.ts checks every
 * function against the Solidity library (through contracts/mocks/GasBoundsHarness.sol).
 */

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

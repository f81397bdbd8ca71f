import * as snarkjs from "snarkjs";

/**
 * The part of ffjavascript's BN254 curve object (as snarkjs builds it) this module uses. snarkjs ships no
 * types, so the shape is stated here and checked by use in the tests.
 */
export interface Bn128Field {
  e(v: bigint | number | string): Uint8Array;
  one: Uint8Array;
  mul(a: Uint8Array, b: Uint8Array): Uint8Array;
  sub(a: Uint8Array, b: Uint8Array): Uint8Array;
  inv(a: Uint8Array): Uint8Array;
  eq(a: Uint8Array, b: Uint8Array): boolean;
  toRprLE(buff: Uint8Array, offset: number, e: Uint8Array): void;
  w: Uint8Array[];
  n8: number;
}

/** One group of the curve (G1 or G2) in ffjavascript's Montgomery little-endian ("LEM") representation. */
export interface Bn128Group {
  F: { n8: number };
  oneAffine: Uint8Array;
  zeroAffine: Uint8Array;
  batchApplyKey(buff: Uint8Array, first: Uint8Array, inc: Uint8Array): Promise<Uint8Array>;
}

/** The curve object (see {@link Bn128Field}). */
export interface Bn128Curve {
  q: bigint;
  r: bigint;
  Fr: Bn128Field;
  G1: Bn128Group;
  G2: Bn128Group;
  tm: {
    concurrency: number;
    queueAction(task: unknown[]): Promise<Uint8Array[]>;
  };
  terminate(): Promise<void>;
}

/**
 * Builds snarkjs' BN254 curve (wasm, with worker threads). Callers must `terminate()` it, or node waits for
 * the workers.
 *
 * @returns The curve.
 */
export async function bn128(): Promise<Bn128Curve> {
  const curves = (snarkjs as unknown as { curves: { getCurveFromName(n: string): Promise<Bn128Curve> } }).curves;
  return curves.getCurveFromName("bn128");
}

/**
 * Stops the worker threads of snarkjs' shared BN254 curve (snarkjs keeps one per process and never stops
 * it; node would not exit). Call once the process is done with ZK work; the next use builds a new curve.
 */
export async function releaseZkWorkers(): Promise<void> {
  const g = globalThis as { curve_bn128?: Bn128Curve | null };
  if (g.curve_bn128) await g.curve_bn128.terminate();
  g.curve_bn128 = null;
}

import type { NetworkConnection } from "hardhat/types/network";

/** What one bench section reports; sections are merged into bench/results.json. */
export interface BenchSection {
  /** Transaction gasUsed per operation. */
  gas?: Record<string, number>;
  /** Off-chain measurements (throughput, sizes). */
  offchain?: Record<string, number>;
  /** Load-test measurements. */
  load?: Record<string, number>;
  /** Derived figures worth recording (for example gas per multiply-accumulate). */
  derived?: Record<string, number>;
}

/** A bench section receives a fresh in-process chain. */
export type BenchRunner = (connection: NetworkConnection) => Promise<BenchSection>;

/** Reads `gasUsed` from a sent transaction. */
export async function gasOf(tx: { wait(): Promise<{ gasUsed: bigint } | null> }): Promise<number> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("transaction was dropped");
  return Number(receipt.gasUsed);
}

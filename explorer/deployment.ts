/**
 * What the explorer needs to know about the deployment it shows, beyond its addresses: the first block
 * worth scanning (where the deployment began), so that the page's log scans never start at block 0.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Provider } from "ethers";

/** Ignition's journal of a deployment: one JSON message per line, with each confirmed transaction's receipt. */
const JOURNAL_FILE = "journal.jsonl";

/**
 * The first block of a deployment: the lowest block of a transaction Ignition confirmed, read from the
 * folder's `journal.jsonl`; undefined when there is no journal (a deployment recorded by hand) or it
 * holds no receipt.
 */
export function journalFirstBlock(folder: string): number | undefined {
  const file = path.join(folder, JOURNAL_FILE);
  if (!existsSync(file)) return undefined;
  let first: number | undefined;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let message: { type?: unknown; receipt?: { blockNumber?: unknown } };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      continue; // a line cut short by an interrupted deployment: the others still count
    }
    const block = message.receipt?.blockNumber;
    if (message.type === "TRANSACTION_CONFIRM" && typeof block === "number" && Number.isSafeInteger(block)) {
      first = first === undefined ? block : Math.min(first, block);
    }
  }
  return first;
}

/**
 * The block in which `address` got its code: a binary search of `eth_getCode` over `[0, head]` (about
 * log2(head) calls). Undefined when the node cannot answer for old blocks (a pruned, non-archive node).
 */
export async function codeBlockOf(provider: Provider, address: string, head: number): Promise<number | undefined> {
  try {
    if ((await provider.getCode(address, head)) === "0x") return undefined;
    let [lo, hi] = [0, head]; // invariant: no code at lo - 1 (or lo = 0), code at hi
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if ((await provider.getCode(address, mid)) === "0x") lo = mid + 1;
      else hi = mid;
    }
    return lo;
  } catch {
    return undefined;
  }
}

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * Where a challenger keeps the nonce of each dispute it opens. A game's id hashes its params, nonce
 * included, and not the block it opens in: an opening re-sent after a reorg with the same nonce lands on
 * the same game (or fails as `DisputeGameDuplicate` when the first one survived), never on a second game.
 */
export interface NonceBook {
  /** The nonce for an opening on `targetKey` (a commitment id or a leaf key): chosen once, then the same. */
  nonceFor(targetKey: string): bigint;
}

/** A random 64-bit nonce. */
export function randomNonce(): bigint {
  return randomBytes(8).readBigUInt64BE();
}

/** Nonces kept in memory (one process). */
export class MemoryNonceBook implements NonceBook {
  private readonly nonces = new Map<string, bigint>();

  nonceFor(targetKey: string): bigint {
    const key = targetKey.toLowerCase();
    let nonce = this.nonces.get(key);
    if (nonce === undefined) {
      nonce = randomNonce();
      this.nonces.set(key, nonce);
    }
    return nonce;
  }
}

/**
 * Nonces journaled in a JSON file, written (atomically: temporary file, then rename) before the nonce is
 * used, so that an opening re-sent after a crash or a reorg reuses it.
 */
export class FileNonceBook implements NonceBook {
  private nonces: Record<string, string>;

  constructor(readonly file: string) {
    this.nonces = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>) : {};
  }

  nonceFor(targetKey: string): bigint {
    const key = targetKey.toLowerCase();
    const known = this.nonces[key];
    if (known !== undefined) return BigInt(known);
    const nonce = randomNonce();
    this.nonces = { ...this.nonces, [key]: nonce.toString() };
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.nonces, null, 2));
    renameSync(tmp, this.file);
    return nonce;
  }
}

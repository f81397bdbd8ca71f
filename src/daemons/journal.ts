import { appendFileSync, existsSync, readFileSync, statSync, truncateSync } from "node:fs";

/**
 * An append-only journal whose committed length is recorded elsewhere (in the daemon's state file).
 * Lines appended after the last commit are discarded on recovery, so each line is recorded exactly once
 * even if the process dies between appending and committing. Its folder must exist.
 */
export class Journal {
  constructor(readonly file: string) {}

  /** Discards anything past `committedBytes` (an interrupted range) and returns the current size. */
  recover(committedBytes: number): number {
    if (!existsSync(this.file)) return 0;
    if (statSync(this.file).size > committedBytes) truncateSync(this.file, committedBytes);
    return statSync(this.file).size;
  }

  /** Appends lines; returns the new size to commit. */
  append(lines: readonly string[]): number {
    if (lines.length > 0) appendFileSync(this.file, lines.map((l) => `${l}\n`).join(""));
    return existsSync(this.file) ? statSync(this.file).size : 0;
  }

  /** All committed lines. */
  lines(): string[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, "utf8").split("\n").filter(Boolean);
  }
}

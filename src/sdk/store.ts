import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";

/**
 * A JSON document on disk, written atomically (temporary file, then rename) so that a process killed
 * mid-write leaves the previous version intact.
 */
export class JsonFile<T> {
  constructor(
    readonly file: string,
    private readonly initial: () => T,
  ) {}

  /** The stored value, or the initial value when the file does not exist yet. */
  read(): T {
    if (!existsSync(this.file)) return this.initial();
    return JSON.parse(readFileSync(this.file, "utf8"), reviveBigInt) as T;
  }

  /** Replaces the stored value. */
  write(value: T): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value, replaceBigInt, 2));
    renameSync(tmp, this.file);
  }
}

/** JSON cannot hold bigints: they are written as `{"$bigint": "123"}`. */
export function replaceBigInt(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? { $bigint: value.toString() } : value;
}

/** Reads back what `replaceBigInt` wrote. */
export function reviveBigInt(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && "$bigint" in value) {
    return BigInt((value as { $bigint: string }).$bigint);
  }
  return value;
}

/** What a provider keeps about each of its inferences to defend it in a dispute. */
export interface StoredTrace {
  modelId: string;
  /** Hex of every activation, input first (`activations[l]` = output of layer l). */
  activations: string[];
  layerHashes: string[];
}

/**
 * A provider's traces on disk, one file per commitment (or batch leaf), so that the provider daemon can
 * answer any dispute after a restart.
 */
export class TraceStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Key of a single commitment, or of one leaf of a batch. */
  static key(target: string, leafHash?: string): string {
    return leafHash === undefined ? target.toLowerCase() : `${target.toLowerCase()}-${leafHash.toLowerCase()}`;
  }

  put(key: string, trace: StoredTrace): void {
    new JsonFile<StoredTrace>(path.join(this.dir, `${key}.json`), () => trace).write(trace);
  }

  get(key: string): StoredTrace | undefined {
    const file = path.join(this.dir, `${key}.json`);
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as StoredTrace) : undefined;
  }
}

import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { InferenceHashes } from "./clients/ledger.js";
import { fetchBounded, readRegularFileSync, type FetchOptions } from "./fetch.js";

/** Leaf encoding of batch trees: OpenZeppelin standard leaf of (inputHash, outputHash, traceRoot). */
export const BATCH_LEAF_ENCODING = ["bytes32", "bytes32", "bytes32"] as const;

/** The batch data file a provider publishes at the batch's `dataURI`. */
export interface BatchDataFile {
  format: "verity.batch.v1";
  modelId: string;
  provider: string;
  root: string;
  count: number;
  /** Leaves in tree order; `input` (hex bytes) may be withheld, in which case challengers demand it. */
  leaves: (InferenceHashes & { input?: string })[];
}

/** Builds the batch tree of some inferences. */
export function batchTree(leaves: readonly InferenceHashes[]): StandardMerkleTree<[string, string, string]> {
  return StandardMerkleTree.of(
    leaves.map((l) => [l.inputHash, l.outputHash, l.traceRoot] as [string, string, string]),
    [...BATCH_LEAF_ENCODING],
  );
}

/** Writes a batch data file and returns its `file://` URI. */
export function writeBatchFile(file: string, data: BatchDataFile): string {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(data));
  return pathToFileURL(path.resolve(file)).href;
}

/**
 * Reads a batch data file from a `file://` URI, synchronously (`fetchBatchFile` reads any URI, within
 * configurable limits). The file must be a regular file of at most 64 MiB.
 */
export function readBatchFile(dataURI: string): BatchDataFile {
  if (!dataURI.startsWith("file://")) throw new Error(`unsupported batch data URI ${dataURI}`);
  return parseBatchFile(readRegularFileSync(fileURLToPath(dataURI)), dataURI);
}

/** Fetches and parses the batch data file at `dataURI` (any scheme `fetchBounded` reads, within its limits). */
export async function fetchBatchFile(dataURI: string, options?: FetchOptions): Promise<BatchDataFile> {
  return parseBatchFile(await fetchBounded(dataURI, options), dataURI);
}

/** Parses the bytes of a batch data file; throws unless they are a `verity.batch.v1` document. */
function parseBatchFile(bytes: Uint8Array, dataURI: string): BatchDataFile {
  let data: BatchDataFile;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as BatchDataFile;
  } catch {
    throw new Error(`${dataURI}: not a UTF-8 JSON document`);
  }
  if (data?.format !== "verity.batch.v1" || !Array.isArray(data.leaves))
    throw new Error(`${dataURI}: not a verity.batch.v1 file`);
  return data;
}

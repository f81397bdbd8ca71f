import { formatEther, getAddress, isHexString, parseEther } from "ethers";
import type { DenseInt8Model } from "../engine/index.js";
import type { Fault } from "../protocol/faults.js";
import { CliError } from "./errors.js";
import { parseIndex } from "./context.js";

/**
 * Parses an amount in decimal token units (18 decimals), e.g. `100` or `0.5`, into base units; with
 * `positive`, zero is refused (`zero` says why, e.g. "minting 0 does nothing").
 */
export function parseAmount(
  value: string,
  name = "amount",
  options: { positive?: boolean; zero?: string } = {},
): bigint {
  const trimmed = value.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) throw new CliError(`${name}: "${value}" is not a decimal token amount`);
  let amount: bigint;
  try {
    amount = parseEther(trimmed);
  } catch {
    throw new CliError(`${name}: "${value}" has more than 18 decimals`);
  }
  if (options.positive && amount === 0n) {
    throw new CliError(`${name}: ${options.zero ?? `${value} is zero`}; give an amount above 0`);
  }
  return amount;
}

/** Formats base units as decimal token units. */
export function formatAmount(value: bigint): string {
  const s = formatEther(value);
  return s.endsWith(".0") ? s.slice(0, -2) : s;
}

/** Parses a checksummed or lower-case address. */
export function parseAddress(value: string, name = "address"): string {
  try {
    return getAddress(value.trim());
  } catch {
    throw new CliError(`${name}: "${value}" is not an address`);
  }
}

/** Parses a 0x-prefixed 32-byte hex id (model, commitment, batch or dispute id). */
export function parseBytes32(value: string, name = "id"): string {
  const trimmed = value.trim();
  if (!isHexString(trimmed, 32)) throw new CliError(`${name}: "${value}" is not a 0x-prefixed 32-byte hex id`);
  return trimmed.toLowerCase();
}

/** Parses a positive integer number of seconds that fits a uint32. */
export function parseSeconds(value: string, name: string): number {
  const n = parseIndex(value, name);
  if (n === 0 || n > 0xffff_ffff) throw new CliError(`${name}: ${value} is outside 1..4294967295 seconds`);
  return n;
}

/** Help of `--fault` (commit): where layers and neurons are counted from. */
export const FAULT_HELP =
  "cheat on purpose (local chains, demos): [<input>@]<layer>:<neuron>[:<delta>] adds delta (default 1) to one " +
  "neuron's output; layers count from 1 (1 = the first layer's output, L = the model's output), neurons from 0, " +
  "inputs from 0 (default: every input); e.g. 2@1:5 or 3:0:-7";

/**
 * Parses a fault spec `[<input>@]<layer>:<neuron>[:<delta>]` (the input index defaults to every input,
 * the delta to 1). Layers count from 1, neurons and inputs from 0; with `model`, the layer and neuron are
 * checked against its layers, so a bad spec is refused before anything is sent.
 */
export function parseFault(value: string, model?: DenseInt8Model): { input?: number; fault: Fault } {
  const match = /^(?:(\d+)@)?(\d+):(\d+)(?::(-?\d+))?$/.exec(value.trim());
  if (match === null) throw new CliError(`--fault: "${value}" is not [<input>@]<layer>:<neuron>[:<delta>]`);
  const [, input, layer, neuron, delta] = match;
  const fault = { layer: Number(layer), neuron: Number(neuron), delta: delta === undefined ? 1 : Number(delta) };
  const layers = model?.layers.length;
  if (fault.layer === 0) {
    throw new CliError(
      `--fault ${value}: layers count from 1 (the first layer's output)${layers ? ` to ${layers}` : ""}`,
    );
  }
  if (layers !== undefined && fault.layer > layers) {
    throw new CliError(`--fault ${value}: layer ${fault.layer} outside 1..${layers} (layers count from 1)`);
  }
  const outDim = model?.layers[fault.layer - 1].spec.outDim;
  if (outDim !== undefined && fault.neuron >= outDim) {
    throw new CliError(
      `--fault ${value}: neuron ${fault.neuron} outside 0..${outDim - 1} of layer ${fault.layer} (neurons count from 0)`,
    );
  }
  if (fault.delta % 256 === 0) throw new CliError(`--fault ${value}: a delta of ${fault.delta} changes nothing`);
  return { input: input === undefined ? undefined : Number(input), fault };
}

/** Parses a list of indices such as `3`, `0,4,7` or `0-9` (ranges inclusive). */
export function parseIndexList(value: string, name: string): number[] {
  const out: number[] = [];
  for (const part of value
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range !== null) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new CliError(`${name}: range ${part} is empty`);
      for (let i = from; i <= to; i++) out.push(i);
    } else {
      out.push(parseIndex(part, name));
    }
  }
  if (out.length === 0) throw new CliError(`${name}: no index given`);
  return out;
}

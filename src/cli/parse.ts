import { formatEther, getAddress, isHexString, parseEther } from "ethers";
import type { Fault } from "../protocol/faults.js";
import { CliError } from "./errors.js";
import { parseIndex } from "./context.js";

/** Parses an amount in decimal token units (18 decimals), e.g. `100` or `0.5`, into base units. */
export function parseAmount(value: string, name = "amount"): bigint {
  const trimmed = value.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) throw new CliError(`${name}: "${value}" is not a decimal token amount`);
  try {
    return parseEther(trimmed);
  } catch {
    throw new CliError(`${name}: "${value}" has more than 18 decimals`);
  }
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

/**
 * Parses a fault spec `[<input>@]<layer>:<neuron>[:<delta>]` (the input index defaults to every input,
 * the delta to 1).
 */
export function parseFault(value: string): { input?: number; fault: Fault } {
  const match = /^(?:(\d+)@)?(\d+):(\d+)(?::(-?\d+))?$/.exec(value.trim());
  if (match === null) throw new CliError(`--fault: "${value}" is not [<input>@]<layer>:<neuron>[:<delta>]`);
  const [, input, layer, neuron, delta] = match;
  return {
    input: input === undefined ? undefined : Number(input),
    fault: { layer: Number(layer), neuron: Number(neuron), delta: delta === undefined ? 1 : Number(delta) },
  };
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

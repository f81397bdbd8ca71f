import { hexlify, keccak256, toUtf8String } from "ethers";
import { fetchBounded, type FetchOptions } from "../fetch.js";

/**
 * What a challenger knows of a committed input, checked against the committed `inputHash` before it
 * opens anything:
 * - `valid`: bytes hashing to inputHash, exactly the model's input width (re-execute them);
 * - `malformed`: bytes hashing to inputHash but of another length: the commitment is structural fraud
 *   whatever its outputs (no honest run exists), proven at layer 1 with these bytes as the input;
 * - `missing`: nothing, or bytes that do not hash to inputHash (they are not the committed input: demand it).
 */
export type InputCheck = { kind: "valid"; input: string } | { kind: "malformed"; input: string } | { kind: "missing" };

/** Checks candidate input bytes (hex) against the committed hash and the model's input width. */
export function checkInput(data: string | undefined, inputHash: string, inDim: number): InputCheck {
  if (data === undefined || !/^0x([0-9a-fA-F]{2})*$/.test(data)) return { kind: "missing" };
  if (keccak256(data).toLowerCase() !== inputHash.toLowerCase()) return { kind: "missing" };
  return (data.length - 2) / 2 === inDim ? { kind: "valid", input: data } : { kind: "malformed", input: data };
}

/** The URI an event's input data names, or undefined when the bytes are not a UTF-8 URI. */
export function uriOf(inputData: string): string | undefined {
  let text: string;
  try {
    text = toUtf8String(inputData);
  } catch {
    return undefined;
  }
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(text) ? text : undefined;
}

/**
 * Reads an input published behind a URI through the bounded fetcher, and checks it. The document is the
 * raw input bytes, or (as text) their `0x` hex. A read that fails, or bytes that do not hash to inputHash,
 * are `missing` (never thrown): the caller then demands the input on-chain.
 */
export async function readInputURI(
  uri: string,
  inputHash: string,
  inDim: number,
  fetch?: FetchOptions,
): Promise<InputCheck> {
  let body: Buffer;
  try {
    body = await fetchBounded(uri, fetch);
  } catch {
    return { kind: "missing" };
  }
  const raw = checkInput(hexlify(body), inputHash, inDim);
  if (raw.kind !== "missing") return raw;
  const text = body.toString("utf8").trim();
  return checkInput(text.startsWith("0x") ? text : undefined, inputHash, inDim);
}

import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { AbiCoder } from "ethers";
import { ENGINE_ID } from "./constants.js";
import type { DenseInt8Model, Hex, LayerSpec } from "./types.js";
import { vectorBytes } from "./vector.js";

const GRAPH_TYPE = "tuple(uint32 inDim, uint32 outDim, uint32 multiplier, uint8 shift, bool relu)[]";

function toHex(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(bytes)}`;
}

/**
 * Hash of an int8 vector: keccak256 of its bytes (`DenseInt8.hashVector`).
 *
 * @param v - The vector.
 * @returns The 32-byte hash as hex.
 */
export function hashVector(v: Int8Array): Hex {
  return toHex(keccak_256(vectorBytes(v)));
}

/**
 * Root of a trace: `keccak256(abi.encodePacked(s_0, ..., s_L))` (`DenseInt8.traceRoot`).
 *
 * @param layerHashes - `s_0 .. s_L`.
 * @returns The trace root.
 */
export function traceRoot(layerHashes: readonly string[]): Hex {
  const buf = new Uint8Array(32 * layerHashes.length);
  layerHashes.forEach((h, i) => {
    const bytes = hexToBytes(h.startsWith("0x") ? h.slice(2) : h);
    if (bytes.length !== 32) throw new RangeError(`layerHashes[${i}] is not 32 bytes`);
    buf.set(bytes, 32 * i);
  });
  return toHex(keccak_256(buf));
}

/**
 * The graph of a model: its layer specs in order.
 *
 * @param model - The model.
 * @returns Copies of the specs of layers 1..L.
 */
export function graphOf(model: DenseInt8Model): LayerSpec[] {
  return model.layers.map(({ spec }) => ({ ...spec }));
}

/**
 * ABI encoding of a graph, `abi.encode(LayerSpec[] graph)`.
 *
 * @param graph - Layer specs, layer 1 first.
 * @returns The encoding as hex.
 */
export function encodeGraph(graph: readonly LayerSpec[]): Hex {
  const tuples = graph.map((s) => [s.inDim, s.outDim, s.multiplier, s.shift, s.relu]);
  return AbiCoder.defaultAbiCoder().encode([GRAPH_TYPE], [tuples]) as Hex;
}

/**
 * `graphHash = keccak256(abi.encode(LayerSpec[] graph))` (`DenseInt8.graphHash`).
 *
 * @param graph - Layer specs, layer 1 first.
 * @returns The graph hash.
 */
export function graphHash(graph: readonly LayerSpec[]): Hex {
  return toHex(keccak_256(hexToBytes(encodeGraph(graph).slice(2))));
}

/**
 * `contentHash = keccak256(abi.encode(bytes32 weightsRoot, bytes32 graphHash, bytes32 engineId))`
 * (`DenseInt8.contentHash`, `ModelRegistry.computeContentHash`).
 *
 * @param weightsRoot - Root of the weights tree.
 * @param graphHashValue - Hash of the graph.
 * @param engineId - Engine id; defaults to this engine's `ENGINE_ID`.
 * @returns The content hash.
 */
export function contentHashOf(weightsRoot: string, graphHashValue: string, engineId: string = ENGINE_ID): Hex {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["bytes32", "bytes32", "bytes32"],
    [weightsRoot, graphHashValue, engineId],
  );
  return toHex(keccak_256(hexToBytes(encoded.slice(2))));
}

/**
 * `modelId = keccak256(abi.encode(address publisher, bytes32 contentHash))` (`ModelRegistry.computeModelId`):
 * a model's id binds the publisher that registered it.
 *
 * @param publisher - The registering address.
 * @param contentHash - The model's content hash.
 * @returns The model id.
 */
export function modelIdOf(publisher: string, contentHash: string): Hex {
  const encoded = AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [publisher, contentHash]);
  return toHex(keccak_256(hexToBytes(encoded.slice(2))));
}

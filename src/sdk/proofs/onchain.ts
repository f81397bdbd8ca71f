import { AbiCoder, concat, getBytes, hexlify, toBeHex, type BytesLike } from "ethers";
import { run, weightLeafHash, type DenseInt8Model, type Hex, type RunResult } from "../../engine/index.js";

/**
 * Proof bytes for the on-chain evaluation verifiers (contracts/settlement/onchain; docs/protocol.md, "15. Proof
 * settlement"): they run the whole model in the transaction, so the "proof" is the input and the weights.
 */

/** ABI type of `LayerSpec[]` (contracts/types/LayerSpec.sol). */
const LAYERS_TYPE = "tuple(uint32 inDim, uint32 outDim, uint32 multiplier, uint8 shift, bool relu)[]";

/** Blob bytes per data contract of `StoredWeightsVerifier` (`CHUNK`): EIP-170's 24,576 minus the STOP byte. */
export const STORED_CHUNK_BYTES = 24_575;

/** Most neurons the verifiers accept (the leaf order packs each index in two bytes). */
export const MAX_PROOF_NEURONS = 65_536;

/**
 * The weights blob: for each layer, for each neuron, its row (`inDim` int8 bytes) then its bias as four
 * big-endian two's-complement bytes.
 *
 * @param model - The model.
 * @returns The blob.
 */
export function weightsBlob(model: DenseInt8Model): Uint8Array {
  let length = 0;
  for (const { spec } of model.layers) length += spec.outDim * (spec.inDim + 4);
  const blob = new Uint8Array(length);
  const view = new DataView(blob.buffer);
  let at = 0;
  for (const { spec, weights, biases } of model.layers) {
    for (let j = 0; j < spec.outDim; j++) {
      blob.set(new Uint8Array(weights.buffer, weights.byteOffset + j * spec.inDim, spec.inDim), at);
      at += spec.inDim;
      view.setInt32(at, biases[j], false);
      at += 4;
    }
  }
  return blob;
}

/**
 * The sorting permutation of the weights-tree leaves: entry `i` (two bytes, big-endian) is the natural index
 * (layer by layer, neuron by neuron) of the `i`-th smallest leaf hash, as OpenZeppelin's StandardMerkleTree sorts them.
 *
 * @param model - The model.
 * @returns The packed permutation.
 * @throws RangeError when the model has more than `MAX_PROOF_NEURONS` neurons.
 */
export function leafOrder(model: DenseInt8Model): Uint8Array {
  const hashes: string[] = [];
  model.layers.forEach(({ spec, weights, biases }, l) => {
    for (let j = 0; j < spec.outDim; j++) {
      hashes.push(weightLeafHash(l + 1, j, biases[j], weights.subarray(j * spec.inDim, (j + 1) * spec.inDim)));
    }
  });
  if (hashes.length > MAX_PROOF_NEURONS) {
    throw new RangeError(`${hashes.length} neurons: on-chain evaluation takes at most ${MAX_PROOF_NEURONS}`);
  }
  // Lower-case hex of equal length sorts as the bytes do.
  const order = hashes.map((_, i) => i).sort((a, b) => (hashes[a] < hashes[b] ? -1 : hashes[a] > hashes[b] ? 1 : 0));
  const packed = new Uint8Array(2 * order.length);
  order.forEach((k, i) => {
    packed[2 * i] = k >> 8;
    packed[2 * i + 1] = k & 0xff;
  });
  return packed;
}

/** The layer specs as the contracts' ABI encodes them. */
function layerTuples(model: DenseInt8Model) {
  return model.layers.map(({ spec }) => [spec.inDim, spec.outDim, spec.multiplier, spec.shift, spec.relu]);
}

/** Everything `commitVerified` needs for one input, and the engine's run. */
export interface OnchainProof {
  /** The engine's run of the model on the input. */
  result: RunResult;
  /** The output bytes (`keccak256(output) = result.outputHash`). */
  output: Hex;
  /** `abi.encode(bytes input, address prover, bytes systemProof)`. */
  proof: Hex;
}

/**
 * Wraps a system proof with the input and prover, as every `IInferenceVerifier` reads it.
 *
 * @param input - The input bytes.
 * @param prover - The account that will send `commitVerified`.
 * @param systemProof - The verifier-specific part.
 * @returns `abi.encode(bytes input, address prover, bytes systemProof)`.
 */
export function encodeProof(input: BytesLike, prover: string, systemProof: BytesLike): Hex {
  return AbiCoder.defaultAbiCoder().encode(["bytes", "address", "bytes"], [input, prover, systemProof]) as Hex;
}

/**
 * The proof `OnchainEvalVerifier` checks: the input, the prover, and the layers, weights blob and leaf order.
 *
 * @param model - The model (its weights must be the registered ones).
 * @param input - The int8 input (`inDim` of layer 1).
 * @param prover - The account that will send `commitVerified` (the proof is bound to it).
 * @returns The run, output bytes and proof.
 */
export function buildOnchainProof(model: DenseInt8Model, input: Int8Array, prover: string): OnchainProof {
  const result = run(model, input);
  const systemProof = AbiCoder.defaultAbiCoder().encode(
    [LAYERS_TYPE, "bytes", "bytes"],
    [layerTuples(model), weightsBlob(model), leafOrder(model)],
  );
  return {
    result,
    output: hexlify(bytesOf(result.output)) as Hex,
    proof: encodeProof(bytesOf(input), prover, systemProof),
  };
}

/**
 * The proof `StoredWeightsVerifier` checks: the input, the prover, and the layers and data contract list.
 *
 * @param model - The model.
 * @param input - The int8 input.
 * @param prover - The account that will send `commitVerified`.
 * @param chunks - The data contracts holding the blob, in order (as given to the verifier's constructor).
 * @returns The run, output bytes and proof.
 */
export function buildStoredProof(
  model: DenseInt8Model,
  input: Int8Array,
  prover: string,
  chunks: readonly string[],
): OnchainProof {
  const result = run(model, input);
  const systemProof = AbiCoder.defaultAbiCoder().encode([LAYERS_TYPE, "address[]"], [layerTuples(model), chunks]);
  return {
    result,
    output: hexlify(bytesOf(result.output)) as Hex,
    proof: encodeProof(bytesOf(input), prover, systemProof),
  };
}

/**
 * Creation codes of the data contracts of `StoredWeightsVerifier`: each deploys `0x00 ‖ chunk` (a leading STOP,
 * so a call does nothing) for one `STORED_CHUNK_BYTES` slice of the blob. Send each as a contract creation.
 *
 * @param model - The model.
 * @returns One creation code per chunk, in blob order.
 */
export function storedChunkInitcodes(model: DenseInt8Model): Hex[] {
  const blob = weightsBlob(model);
  const codes: Hex[] = [];
  for (let at = 0; at < blob.length; at += STORED_CHUNK_BYTES) {
    const chunk = blob.subarray(at, at + STORED_CHUNK_BYTES);
    const size = chunk.length + 1;
    // PUSH2 size, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN: returns the 12 bytes' tail as the code.
    const prefix = getBytes(`0x61${toBeHex(size, 2).slice(2)}80600c6000396000f3`);
    codes.push(hexlify(concat([prefix, new Uint8Array([0]), chunk])) as Hex);
  }
  return codes;
}

/** The two's-complement bytes of an int8 vector. */
function bytesOf(v: Int8Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.length);
}

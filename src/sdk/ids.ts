import { AbiCoder, ZeroHash, keccak256 } from "ethers";
import type { BatchHeader, InferenceHashes } from "./clients/ledger.js";

const coder = AbiCoder.defaultAbiCoder();

/**
 * Id of a single commitment: `keccak256(abi.encode(CommitmentKey))` =
 * `keccak256(abi.encode(provider, modelId, inputHash, outputHash, traceRoot, binding))`; `binding` is zero
 * for `InferenceLedger.commit`.
 */
export function commitmentIdOf(
  provider: string,
  modelId: string,
  inference: InferenceHashes,
  binding: string = ZeroHash,
): string {
  return keccak256(
    coder.encode(
      ["address", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32"],
      [provider, modelId, inference.inputHash, inference.outputHash, inference.traceRoot, binding],
    ),
  );
}

/** Id of a batch: `keccak256(abi.encode(provider, modelId, root, count, binding))`. */
export function batchIdOf(header: BatchHeader): string {
  return keccak256(
    coder.encode(
      ["address", "bytes32", "bytes32", "uint32", "bytes32"],
      [header.provider, header.modelId, header.root, header.count, header.binding ?? ZeroHash],
    ),
  );
}

/** OpenZeppelin standard leaf hash of a batch leaf. */
export function leafHashOf(leaf: InferenceHashes): string {
  return keccak256(
    keccak256(coder.encode(["bytes32", "bytes32", "bytes32"], [leaf.inputHash, leaf.outputHash, leaf.traceRoot])),
  );
}

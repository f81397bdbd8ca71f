/**
 * Fixtures of the proof settlement tests and bench: small random `dense-int8-v1` models registered with a
 * policy that accepts proofs, and their on-chain evaluation verifiers.
 */
import type { NetworkConnection } from "hardhat/types/network";
import { modelCommitments, modelIdOf, type DenseInt8Model } from "../../src/engine/index.js";
import { mulberry32 } from "../../src/engine/mnist.js";
import { storedChunkInitcodes, leafOrder } from "../../src/sdk/proofs/onchain.js";
import type { OnchainEvalVerifier, StoredWeightsVerifier } from "../../typechain-types/index.js";
import { defaultPolicy, deployVerity } from "../helpers/fixtures.js";
import { mnistSpec } from "../helpers/disputeFixture.js";

type Ethers = NetworkConnection["ethers"];

/**
 * A pseudo-random model with widths `dims` (e.g. [16, 16, 4]): weights and biases uniform over their ranges,
 * shifts chosen so that outputs are mostly not saturated, relu on every layer but the last.
 */
export function randomModel(dims: readonly number[], seed: number, extremes = false): DenseInt8Model {
  const rand = mulberry32(seed);
  const layers = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const inDim = dims[l];
    const outDim = dims[l + 1];
    const weights = new Int8Array(inDim * outDim);
    for (let i = 0; i < weights.length; i++) weights[i] = Math.floor(rand() * 256) - 128;
    const biases = new Int32Array(outDim);
    for (let j = 0; j < outDim; j++) biases[j] = Math.floor((rand() - 0.5) * (extremes ? 2 ** 32 - 2 : 2 ** 16));
    // |acc| ~ 128 * 128 * sqrt(inDim); multiplier ~ 2^30 and a shift near 30 + log2 of that keep outputs in range.
    const shift = extremes
      ? [0, 1, 62][Math.floor(rand() * 3)]
      : 30 + Math.round(Math.log2(128 * 128 * Math.sqrt(inDim)) - 8);
    const multiplier = extremes ? [1, 2 ** 31 - 1][Math.floor(rand() * 2)] : 2 ** 30 + Math.floor(rand() * 2 ** 30);
    layers.push({ spec: { inDim, outDim, multiplier, shift, relu: l + 2 < dims.length }, weights, biases });
  }
  return { layers };
}

/** A pseudo-random int8 input of `n` elements. */
export function randomInput(n: number, seed: number): Int8Array {
  const rand = mulberry32(seed ^ 0x5eed);
  return Int8Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);
}

/** The protocol with no model yet; signers: 0 admin (governor), 1 publisher, 2 provider, 3 other provider. */
export async function deployProofCore(connection: NetworkConnection) {
  const core = await deployVerity(connection);
  const [admin, publisher, provider, other, disputer] = core.signers;
  await core.ledger.connect(admin).grantRole(await core.ledger.DISPUTE_ROLE(), disputer.address);
  return { ...core, admin, publisher, provider, other, disputer };
}

export type ProofCore = Awaited<ReturnType<typeof deployProofCore>>;

/** Registers `model` (publisher signer 1) with the default policy, `proofAccepted` as given; returns its id. */
export async function registerProofModel(
  ethers: Ethers,
  core: ProofCore,
  model: DenseInt8Model,
  proofAccepted = true,
  metadataURI = "ipfs://proof-model",
): Promise<string> {
  const commitments = modelCommitments(model);
  const policy = { ...defaultPolicy(ethers), proofAccepted };
  await core.registry.connect(core.publisher).registerModel(mnistSpec(commitments, metadataURI), policy);
  return modelIdOf(core.publisher.address, commitments.contentHash);
}

/** Deploys an `OnchainEvalVerifier` for a registered model. */
export async function deployOnchainVerifier(ethers: Ethers, core: ProofCore, modelId: string) {
  const factory = await ethers.getContractFactory("OnchainEvalVerifier");
  const verifier = (await factory.deploy(await core.registry.getAddress(), modelId)) as unknown as OnchainEvalVerifier;
  await verifier.waitForDeployment();
  return verifier;
}

/**
 * Writes the model's weights blob into data contracts and deploys a `StoredWeightsVerifier` over them; returns the
 * verifier, the chunk addresses and the gas all the transactions used (the registration cost of this path).
 */
export async function deployStoredVerifier(ethers: Ethers, core: ProofCore, modelId: string, model: DenseInt8Model) {
  let gas = 0n;
  const chunks: string[] = [];
  for (const data of storedChunkInitcodes(model)) {
    const tx = await core.publisher.sendTransaction({ data });
    const receipt = (await tx.wait())!;
    gas += receipt.gasUsed;
    chunks.push(receipt.contractAddress!);
  }
  const factory = await ethers.getContractFactory("StoredWeightsVerifier");
  const verifier = (await factory
    .connect(core.publisher)
    .deploy(await core.registry.getAddress(), modelId, chunks, leafOrder(model))) as unknown as StoredWeightsVerifier;
  const receipt = (await verifier.deploymentTransaction()!.wait())!;
  gas += receipt.gasUsed;
  return { verifier, chunks, registrationGas: Number(gas) };
}

/** The commitment key binding of a proven record: the verifier's address as a word. */
export function proofBinding(ethers: Ethers, verifier: string): string {
  return ethers.zeroPadValue(verifier, 32);
}

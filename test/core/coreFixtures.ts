import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { deployVerity, defaultPolicy, HOUR } from "../helpers/fixtures.js";
import { ENGINE_ID, contentHashOf, graphHash as graphHashOf, modelIdOf } from "../../src/engine/index.js";
import type { InferenceLedger, MockERC20, ModelRegistry, StakeManager } from "../../typechain-types/index.js";

/** Mirrors of the Solidity enums (contracts/types). */
export const ModelStatus = { None: 0n, Active: 1n, Deprecated: 2n, Revoked: 3n } as const;
export const CommitmentStatus = { None: 0n, Pending: 1n, Final: 2n, Disputed: 3n, Overturned: 4n } as const;
export const RecordKind = { None: 0n, Single: 1n, Batch: 2n } as const;
export const Finality = { None: 0n, ChallengeWindow: 1n, Tee: 2n, Proof: 3n } as const;
/** Mirror of contracts/libraries/RecordFlags.sol. */
export const RecordFlags = {
  OVERTURNED: 1n,
  LEAF_OVERTURNED: 2n,
  INPUT_PUBLIC: 4n,
  DISCLOSURE_OPEN: 8n,
  DISCLOSED: 16n,
} as const;

/** Mirrors of contracts/libraries/PolicyBounds.sol. */
const DAY = 24 * HOUR;
export const Bounds = {
  MIN_CHALLENGE_WINDOW: 5 * 60,
  MAX_CHALLENGE_WINDOW: 30 * DAY,
  MIN_RESPONSE_WINDOW: 10 * 60,
  MAX_RESPONSE_WINDOW: 7 * DAY,
  MAX_DEPRECATION_GRACE: 90 * DAY,
  /** 2 * MAX_CHALLENGE_WINDOW + MAX_RESPONSE_WINDOW + 6 * MAX_RESPONSE_WINDOW = 109 days. */
  MIN_UNBONDING_DELAY: 2 * 30 * DAY + 7 * DAY + 6 * 7 * DAY,
  MIN_CHALLENGER_SHARE_BPS: 2_000,
  MAX_CHALLENGER_SHARE_BPS: 5_000,
  BPS: 10_000,
  MAX_BATCH_LEAVES: 1_024,
  MAX_DISCLOSURE_GAS: 64_000_000,
  MAX_HONEST_MOVE_GAS: 8_000_000,
  /** DenseInt8.MAX_LAYERS and MAX_DIM. */
  MAX_LAYERS: 256,
  MAX_DIM: 65_536,
  /** InferenceLedger.MAX_URI_BYTES. */
  MAX_URI_BYTES: 256,
} as const;

export const UINT48_MAX = 2n ** 48n - 1n;
/** The ledger's "never" in `CommitTerms` (the registry's type(uint48).max, clamped to 40 bits). */
export const UINT40_MAX = 2n ** 40n - 1n;
export const UINT96_MAX = 2n ** 96n - 1n;
export const ZERO_HASH = "0x" + "00".repeat(32);
export const DEFAULT_ADMIN_ROLE = ZERO_HASH;

type Ethers = NetworkConnection["ethers"];
type Signer = Awaited<ReturnType<Ethers["getSigners"]>>[number];

/** The Merkle leaf encoding of the ledger's batches. */
export const LEAF_TYPES = ["bytes32", "bytes32", "bytes32"];

/**
 * Ids computed off-chain with ethers.AbiCoder, as IModelRegistry/IInferenceLedger define them (independent
 * of the engine and SDK helpers, which the tests compare against these).
 */
export function ids(ethers: Ethers) {
  const abi = ethers.AbiCoder.defaultAbiCoder();
  return {
    contentHash: (weightsRoot: string, graphHash: string, engineId: string) =>
      ethers.keccak256(abi.encode(["bytes32", "bytes32", "bytes32"], [weightsRoot, graphHash, engineId])),
    modelId: (publisher: string, contentHash: string) =>
      ethers.keccak256(abi.encode(["address", "bytes32"], [publisher, contentHash])),
    graphHash: (layers: readonly Layer[]) =>
      ethers.keccak256(
        abi.encode(
          ["tuple(uint32,uint32,uint32,uint8,bool)[]"],
          [layers.map((l) => [l.inDim, l.outDim, l.multiplier, l.shift, l.relu])],
        ),
      ),
    commitmentId: (
      provider: string,
      modelId: string,
      inputHash: string,
      outputHash: string,
      traceRoot: string,
      binding: string = ZERO_HASH,
    ) =>
      ethers.keccak256(
        abi.encode(
          ["address", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32"],
          [provider, modelId, inputHash, outputHash, traceRoot, binding],
        ),
      ),
    batchId: (provider: string, modelId: string, root: string, count: bigint | number, binding: string = ZERO_HASH) =>
      ethers.keccak256(
        abi.encode(["address", "bytes32", "bytes32", "uint32", "bytes32"], [provider, modelId, root, count, binding]),
      ),
    leafHash: (leaf: readonly [string, string, string]) =>
      ethers.keccak256(ethers.keccak256(abi.encode(LEAF_TYPES, [...leaf]))),
  };
}

// ------------------------------------------------------------------ model specs

/** A `LayerSpec` (contracts/types/LayerSpec.sol). */
export interface Layer {
  inDim: number;
  outDim: number;
  multiplier: number;
  shift: number;
  relu: boolean;
}

/** A `ModelSpec` (contracts/types/Model.sol). */
export interface Spec {
  engineId: string;
  weightsRoot: string;
  layers: Layer[];
  graphHash: string;
  metadataURI: string;
}

/** `keccak256("verity.dense-int8.v1")`, the engine whose models are stored, validated and disputable. */
export const DENSE_ENGINE_ID = ENGINE_ID;

/** A valid dense layer `inDim -> outDim` (multiplier 1, shift 0). */
export function layer(inDim: number, outDim: number, relu = true): Layer {
  return { inDim, outDim, multiplier: 1, shift: 0, relu };
}

/** An MNIST-shaped graph, 784 -> 32 -> 10: the default graph of the core tests. */
export const MNIST_LAYERS: Layer[] = [layer(784, 32), layer(32, 10, false)];
/** A tiny graph, 16 -> 4. */
export const TINY_LAYERS: Layer[] = [layer(16, 4, false)];

/**
 * A `dense-int8-v1` spec with weights root and metadata named by `label` and graph hash 0 (the registry
 * computes it). The weights root is arbitrary: nothing in the core contracts opens the weights tree.
 */
export function denseSpec(ethers: Ethers, label: string, layers: Layer[] = MNIST_LAYERS): Spec {
  return {
    engineId: DENSE_ENGINE_ID,
    weightsRoot: h(ethers, `${label}/weights`),
    layers,
    graphHash: ZERO_HASH,
    metadataURI: `ipfs://${label}`,
  };
}

/** A spec of another (opaque) engine: no layers, a non-zero graph hash named by `label`. */
export function opaqueSpec(ethers: Ethers, label: string, engineId = h(ethers, "engine/opaque")): Spec {
  return {
    engineId,
    weightsRoot: h(ethers, `${label}/weights`),
    layers: [],
    graphHash: h(ethers, `${label}/graph`),
    metadataURI: `ipfs://${label}`,
  };
}

/** The graph hash the registry stores for `spec`: computed for dense specs, as given for opaque ones. */
export function graphHashOfSpec(spec: Spec): string {
  return spec.engineId === DENSE_ENGINE_ID ? graphHashOf(spec.layers) : spec.graphHash;
}

/** The content hash of `spec` (engine's `contentHashOf`). */
export function contentHashOfSpec(spec: Spec): string {
  return contentHashOf(spec.weightsRoot, graphHashOfSpec(spec), spec.engineId);
}

/** The id `publisher` gets for `spec` (engine's `modelIdOf`). */
export function modelIdOfSpec(publisher: string, spec: Spec): string {
  return modelIdOf(publisher, contentHashOfSpec(spec));
}

// ------------------------------------------------------------------ gas bounds

/**
 * A TypeScript mirror of contracts/libraries/GasBounds.sol, written from its text, so that tests check the
 * registry's bounds against an independent computation (and the mirror against GasBoundsHarness).
 */
export const GasBounds = (() => {
  const TX_BASE = 21_000n;
  const STANDARD_PER_BYTE = 16n;
  const FLOOR_PER_BYTE = 40n;
  const PARAMS_BYTES = 4n + 14n * 32n;
  const EXEC_OPEN = 220_000n;
  const EXEC_MOVE = 60_000n;
  const EXEC_RESOLVE = 260_000n;
  const EXEC_REVEAL_LAYER = 110_000n;
  const EXEC_PER_HASH = 400n;
  const EXEC_PER_BYTE = 12n;
  const EXEC_PER_MAC = 70n;
  const EXEC_PER_PROOF_NODE = 300n;
  const EXEC_REGISTRY_CALL = 20_000n;
  const EXEC_DISCLOSE_CHUNK = 80_000n;
  const EXEC_DISCLOSE_LEAF = 3_000n;
  const EXEC_FINISH = 200_000n;
  const EXEC_FINISH_PER_LEAF = 1_000n;
  const MAX_MOVE = BigInt(Bounds.MAX_HONEST_MOVE_GAS);
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const pad = (n: bigint) => ((n + 31n) / 32n) * 32n;
  const memory = (bytes: bigint) => {
    const words = (bytes + 31n) / 32n;
    return 3n * words + (words * words) / 512n;
  };
  const ceilLog2 = (n: bigint) => {
    let r = 0n;
    while (1n << r < n) r++;
    return r;
  };
  const txGas = (bytes: bigint, exec: bigint) =>
    TX_BASE + max(STANDARD_PER_BYTE * bytes + exec, FLOOR_PER_BYTE * bytes);
  const fixedMove = () =>
    max(
      txGas(4n + 5n * 32n + 32n + 3n * 32n + 2n * 32n + 32n + 32n * 11n, EXEC_OPEN),
      txGas(PARAMS_BYTES + 32n, EXEC_RESOLVE),
    );
  const revealInput = (inDim: bigint) => {
    const padded = pad(inDim);
    return txGas(PARAMS_BYTES + 64n + padded, EXEC_MOVE + EXEC_REGISTRY_CALL + EXEC_PER_BYTE * padded + memory(padded));
  };
  const revealTrace = (numLayers: bigint) => {
    const hashes = numLayers + 1n;
    return txGas(PARAMS_BYTES + 64n + 32n * hashes, EXEC_MOVE + EXEC_PER_HASH * hashes + memory(32n * hashes));
  };
  const revealLayer = (numLayers: bigint, outDim: bigint) => {
    const hashes = numLayers + 1n;
    const padded = pad(outDim);
    return txGas(
      PARAMS_BYTES + 32n + 128n + 32n * hashes + padded,
      EXEC_REVEAL_LAYER + EXEC_PER_HASH * hashes + EXEC_PER_BYTE * padded + memory(32n * hashes + padded),
    );
  };
  const proveNeuron = (inDim: bigint, outDim: bigint, depth: bigint) => {
    const vectors = 2n * pad(inDim) + pad(outDim);
    const size = PARAMS_BYTES + 32n + 6n * 32n + 4n * 32n + vectors + 32n * depth;
    const exec =
      EXEC_RESOLVE +
      EXEC_REGISTRY_CALL +
      EXEC_PER_MAC * inDim +
      EXEC_PER_BYTE * vectors +
      EXEC_PER_PROOF_NODE * depth +
      memory(vectors + 256n);
    return txGas(size, exec);
  };
  const chunkCosts = (inDim: bigint) => {
    const padded = pad(inDim);
    const leafBytes = 32n + 96n + 64n + padded;
    return {
      fixedGas: TX_BASE + FLOOR_PER_BYTE * (4n + 5n * 32n + 64n) + EXEC_DISCLOSE_CHUNK + memory(padded + 256n),
      perLeaf: FLOOR_PER_BYTE * leafBytes + EXEC_DISCLOSE_LEAF + EXEC_PER_BYTE * padded,
    };
  };
  const leavesPerChunk = (inDim: bigint) => {
    const { fixedGas, perLeaf } = chunkCosts(inDim);
    if (fixedGas + perLeaf > MAX_MOVE) return 0n;
    return (MAX_MOVE - fixedGas) / perLeaf;
  };
  const discloseChunk = (count: bigint, inDim: bigint) => {
    const { fixedGas, perLeaf } = chunkCosts(inDim);
    return fixedGas + count * perLeaf;
  };
  const finishDisclosure = (count: bigint) =>
    txGas(4n + 5n * 32n + 64n + 32n * count, EXEC_FINISH + EXEC_FINISH_PER_LEAF * count + memory(64n * count));
  const disclosure = (count: bigint, inDim: bigint) => {
    const perChunk = leavesPerChunk(inDim);
    if (perChunk === 0n) return 2n ** 256n - 1n;
    let gas = (count / perChunk) * discloseChunk(perChunk, inDim) + finishDisclosure(count);
    if (count % perChunk !== 0n) gas += discloseChunk(count % perChunk, inDim);
    return gas;
  };
  const maxBatchLeaves = (inDim: bigint) => {
    if (leavesPerChunk(inDim) === 0n) return 0n;
    const limit = BigInt(Bounds.MAX_DISCLOSURE_GAS);
    let hi = BigInt(Bounds.MAX_BATCH_LEAVES);
    if (disclosure(hi, inDim) <= limit) return hi;
    let lo = 0n;
    while (lo < hi) {
      const mid = (lo + hi + 1n) / 2n;
      if (disclosure(mid, inDim) <= limit) lo = mid;
      else hi = mid - 1n;
    }
    return lo;
  };
  const ofModel = (layers: readonly Layer[]) => {
    const numLayers = BigInt(layers.length);
    const depth = ceilLog2(layers.reduce((n, l) => n + BigInt(l.outDim), 0n));
    const fixedGas = fixedMove();
    const inDim = BigInt(layers[0].inDim);
    const input = revealInput(inDim);
    const trace = revealTrace(numLayers);
    let maxReveal = 0n;
    let maxProve = 0n;
    for (const l of layers) {
      maxReveal = max(maxReveal, revealLayer(numLayers, BigInt(l.outDim)));
      maxProve = max(maxProve, proveNeuron(BigInt(l.inDim), BigInt(l.outDim), depth));
    }
    const disclose = max(discloseChunk(1n, inDim), finishDisclosure(max(1n, maxBatchLeaves(inDim))));
    const worst = max(max(max(fixedGas, input), max(trace, maxReveal)), max(maxProve, disclose));
    return { worst, providerGame: input + trace + maxReveal + fixedGas, challengerGame: 3n * fixedGas + maxProve };
  };
  return { ofModel, maxBatchLeaves, proveNeuron, leavesPerChunk, disclosure };
})();

/** A deterministic, non-zero 32-byte value named by `label`. */
export const h = (ethers: Ethers, label: string) => ethers.id(label);

/** Recursively turns ethers Results and bigints into plain JSON-comparable values. */
export function plain(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const maybe = value as { toArray?: () => unknown[] };
    if (typeof maybe.toArray === "function") return maybe.toArray().map(plain);
  }
  return value;
}

/** Timestamp of the block that mined `tx`. */
export async function txTime(ethers: Ethers, tx: ContractTransactionResponse): Promise<number> {
  const receipt = await tx.wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return block!.timestamp;
}

/** A batch of `n` leaves and its OpenZeppelin standard Merkle tree. */
export function makeBatch(ethers: Ethers, label: string, n: number) {
  const leaves: [string, string, string][] = [];
  for (let i = 0; i < n; i++) {
    leaves.push([h(ethers, `${label}/in/${i}`), h(ethers, `${label}/out/${i}`), h(ethers, `${label}/trace/${i}`)]);
  }
  const tree = StandardMerkleTree.of(leaves, LEAF_TYPES);
  const leaf = (i: number) => ({ inputHash: leaves[i][0], outputHash: leaves[i][1], traceRoot: leaves[i][2] });
  const proof = (i: number) => tree.getProof(i);
  return { leaves, tree, root: tree.root, leaf, proof };
}

export interface Core {
  token: MockERC20;
  ledger: InferenceLedger;
  registry: ModelRegistry;
  stakeManager: StakeManager;
  admin: Signer;
  publisher: Signer;
  provider: Signer;
  provider2: Signer;
  challenger: Signer;
  disputer: Signer;
  outsider: Signer;
  treasury: Signer;
  disputeRole: string;
  governorRole: string;
  policy: ReturnType<typeof defaultPolicy>;
}

/**
 * The protocol deployed with the Ignition module, with named signers. `disputer` holds DISPUTE_ROLE on
 * the ledger and the stake manager (granted by the admin, signer 0), the way a dispute game would.
 */
export async function deployCore(connection: NetworkConnection): Promise<Core> {
  const { ethers } = connection;
  const { token, ledger, registry, stakeManager, signers } = await deployVerity(connection);
  const [admin, publisher, provider, provider2, challenger, disputer, outsider, treasury] = signers;
  const disputeRole = await ledger.DISPUTE_ROLE();
  await ledger.connect(admin).grantRole(disputeRole, disputer.address);
  await stakeManager.connect(admin).grantRole(await stakeManager.DISPUTE_ROLE(), disputer.address);
  return {
    token,
    ledger,
    registry,
    stakeManager,
    admin,
    publisher,
    provider,
    provider2,
    challenger,
    disputer,
    outsider,
    treasury,
    disputeRole,
    governorRole: await registry.GOVERNOR_ROLE(),
    policy: defaultPolicy(ethers),
  };
}

/**
 * Registers a first `dense-int8-v1` version by `publisher` (default graph: MNIST_LAYERS) with content named
 * by `label`; returns its id, computed off-chain.
 */
export async function registerModel(
  ethers: Ethers,
  core: Core,
  label = "model",
  policy: ReturnType<typeof defaultPolicy> = core.policy,
  layers: Layer[] = MNIST_LAYERS,
): Promise<string> {
  const spec = denseSpec(ethers, label, layers);
  await core.registry.connect(core.publisher).registerModel(spec, policy);
  return modelIdOfSpec(core.publisher.address, spec);
}

/** Asserts the vault invariant: what the stake manager owes equals the tokens it holds. */
export async function expectSolvent(core: Core): Promise<void> {
  const held = await core.token.balanceOf(await core.stakeManager.getAddress());
  const [active, unbonding, bonds, credits] = await Promise.all([
    core.stakeManager.totalActive(),
    core.stakeManager.totalUnbonding(),
    core.stakeManager.totalBonds(),
    core.stakeManager.totalCredits(),
  ]);
  expect(await core.stakeManager.totalOwed()).to.equal(held);
  expect(active + unbonding + bonds + credits).to.equal(held);
}

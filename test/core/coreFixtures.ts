import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { deployVerity, defaultPolicy, HOUR } from "../helpers/fixtures.js";
import type { InferenceLedger, MockERC20, ModelRegistry, StakeManager } from "../../typechain-types/index.js";

/** Mirrors of the Solidity enums (contracts/types). */
export const ModelStatus = { None: 0n, Active: 1n, Deprecated: 2n, Revoked: 3n } as const;
export const CommitmentStatus = { None: 0n, Pending: 1n, Final: 2n, Disputed: 3n, Overturned: 4n } as const;
export const RecordKind = { None: 0n, Single: 1n, Batch: 2n } as const;

/** Mirrors of contracts/libraries/PolicyBounds.sol. */
const DAY = 24 * HOUR;
export const Bounds = {
  MIN_CHALLENGE_WINDOW: 5 * 60,
  MAX_CHALLENGE_WINDOW: 30 * DAY,
  MIN_RESPONSE_WINDOW: 10 * 60,
  MAX_RESPONSE_WINDOW: 7 * DAY,
  MAX_DEPRECATION_GRACE: 90 * DAY,
  MIN_UNBONDING_DELAY: 30 * DAY + 6 * 7 * DAY,
} as const;

export const UINT48_MAX = 2n ** 48n - 1n;
export const UINT96_MAX = 2n ** 96n - 1n;
export const ZERO_HASH = "0x" + "00".repeat(32);
export const DEFAULT_ADMIN_ROLE = ZERO_HASH;

type Ethers = NetworkConnection["ethers"];
type Signer = Awaited<ReturnType<Ethers["getSigners"]>>[number];

/** The Merkle leaf encoding of the ledger's batches. */
export const LEAF_TYPES = ["bytes32", "bytes32", "bytes32"];

/** Ids computed off-chain with ethers.AbiCoder, as IModelRegistry/IInferenceLedger define them. */
export function ids(ethers: Ethers) {
  const abi = ethers.AbiCoder.defaultAbiCoder();
  return {
    modelId: (weightsRoot: string, graphHash: string, engineId: string) =>
      ethers.keccak256(abi.encode(["bytes32", "bytes32", "bytes32"], [weightsRoot, graphHash, engineId])),
    commitmentId: (provider: string, modelId: string, inputHash: string, outputHash: string, traceRoot: string) =>
      ethers.keccak256(
        abi.encode(
          ["address", "bytes32", "bytes32", "bytes32", "bytes32"],
          [provider, modelId, inputHash, outputHash, traceRoot],
        ),
      ),
    batchId: (provider: string, modelId: string, root: string, count: bigint | number) =>
      ethers.keccak256(abi.encode(["address", "bytes32", "bytes32", "uint32"], [provider, modelId, root, count])),
    leafHash: (leaf: readonly [string, string, string]) =>
      ethers.keccak256(ethers.keccak256(abi.encode(LEAF_TYPES, [...leaf]))),
  };
}

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

/** Registers a first version by `publisher` with content named by `label`; returns its id. */
export async function registerModel(
  ethers: Ethers,
  core: Core,
  label = "model",
  policy: ReturnType<typeof defaultPolicy> = core.policy,
): Promise<string> {
  const [w, g, e] = [h(ethers, `${label}/weights`), h(ethers, `${label}/graph`), h(ethers, `${label}/engine`)];
  await core.registry.connect(core.publisher).registerModel(w, g, e, `ipfs://${label}`, policy);
  return ids(ethers).modelId(w, g, e);
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

import { expect } from "chai";
import type { NetworkConnection } from "hardhat/types/network";
import { AbiCoder, ZeroHash, keccak256 } from "ethers";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { vectorToHex, type RunResult } from "../../src/engine/index.js";
import type { Fault } from "../../src/protocol/faults.js";
import { leafHashOf } from "../../src/sdk/ids.js";
import type { GasBoundsHarness } from "../../typechain-types/index.js";
import type {
  BatchHeaderStruct,
  DisclosedLeafStruct,
} from "../../typechain-types/contracts/disputes/BatchDisclosure.js";
import { deployWithMnist, infer, pseudoDigit } from "../helpers/disputeFixture.js";

/** The MNIST model's input length: every disclosed input is exactly this many bytes. */
export const IN_DIM = 784;
/** PolicyBounds.MAX_HONEST_MOVE_GAS: no honest move may need more. */
export const MAX_HONEST_MOVE_GAS = 8_000_000n;
export const BPS = 10_000n;

/** Mirrors of contracts/types/Dispute.sol, Commitment.sol and libraries/RecordFlags.sol. */
export const DisclosurePhase = { None: 0n, Open: 1n, Disclosed: 2n, Failed: 3n } as const;
export const Status = { None: 0n, Pending: 1n, Final: 2n, Disputed: 3n, Overturned: 4n } as const;
export const Outcome = { None: 0n, ChallengerWon: 1n, ProviderWon: 2n, Refunded: 3n } as const;
export const Flags = {
  OVERTURNED: 1n,
  LEAF_OVERTURNED: 2n,
  INPUT_PUBLIC: 4n,
  DISCLOSURE_OPEN: 8n,
  DISCLOSED: 16n,
} as const;

/**
 * The MNIST fixture (test/helpers/disputeFixture.ts) plus a treasury of its own (signer 7, so its part of
 * a slash is not mixed with the admin's), a watcher (signer 6) who demands disclosures and calls
 * timeouts, and the GasBounds harness.
 */
export async function deployDisclosure(connection: NetworkConnection) {
  const f = await deployWithMnist(connection);
  const [admin, , , , , , watcher, treasury] = f.signers;
  await f.stakeManager.connect(admin).setTreasury(treasury.address);
  const harness = (await connection.ethers.deployContract("GasBoundsHarness")) as unknown as GasBoundsHarness;
  return { ...f, admin, watcher, treasury, harness };
}

export type Disc = Awaited<ReturnType<typeof deployDisclosure>>;
export type Signer = Disc["provider"];
export interface Leaf {
  inputHash: string;
  outputHash: string;
  traceRoot: string;
}

/** One inference of a batch: its input, what the provider claims, what an honest run gives. */
export interface BatchItem {
  input: Int8Array;
  claimed: RunResult;
  honest: RunResult;
  leaf: Leaf;
  /** The OpenZeppelin standard leaf hash. */
  hash: string;
}

/** MNIST inferences on `pseudoDigit(seed)` for each seed, with an optional fault per item. */
export function buildItems(f: Pick<Disc, "model">, seeds: number[], faults: (Fault | undefined)[] = []): BatchItem[] {
  return seeds.map((seed, i) => {
    const input = pseudoDigit(seed);
    const honest = infer(f.model, input);
    const claimed = faults[i] === undefined ? honest : infer(f.model, input, faults[i]);
    const leaf = { inputHash: claimed.inputHash, outputHash: claimed.outputHash, traceRoot: claimed.traceRoot };
    return { input, claimed, honest, leaf, hash: leafHashOf(leaf) };
  });
}

/** The batch tree the SDK builds (src/sdk/batch.ts): OpenZeppelin standard tree of (bytes32, bytes32, bytes32). */
export function treeOf(items: BatchItem[]) {
  return StandardMerkleTree.of(
    items.map(({ leaf }) => [leaf.inputHash, leaf.outputHash, leaf.traceRoot] as [string, string, string]),
    ["bytes32", "bytes32", "bytes32"],
  );
}

/** The items in the order the contract takes them: ascending leaf hash (the tree's leaf order). */
export const sortedByHash = (items: BatchItem[]): BatchItem[] =>
  [...items].sort((a, b) => (BigInt(a.hash) < BigInt(b.hash) ? -1 : BigInt(a.hash) > BigInt(b.hash) ? 1 : 0));

/** A committed batch: its header and id, its items (in commit order and by hash), its tree. */
export interface Batch {
  batchId: string;
  header: BatchHeaderStruct & { provider: string; modelId: string; root: string; count: number; binding: string };
  items: BatchItem[];
  sorted: BatchItem[];
  tree: ReturnType<typeof treeOf>;
  committedAt: bigint;
  /** The Merkle proof of item `i` (commit order). */
  proof(i: number): string[];
}

/** Commits `root` as a batch of `count` leaves; returns the header and the batch id from the event. */
export async function commitRoot(f: Disc, root: string, count: number, provider: Signer = f.provider) {
  const tx = await f.ledger.connect(provider).commitBatch(f.modelId, root, count, "ipfs://batch");
  const receipt = (await tx.wait())!;
  const batchId = f.ledger.interface.parseLog(receipt.logs[0])!.args.batchId as string;
  const header = { provider: provider.address, modelId: f.modelId, root, count, binding: ZeroHash };
  expect(await f.ledger.batchIdOf(header)).to.equal(batchId);
  const block = await receipt.getBlock();
  return { batchId, header, committedAt: BigInt(block.timestamp) };
}

/** Builds and commits a batch of MNIST inferences (honest unless a fault is given for an item). */
export async function commitMnistBatch(
  f: Disc,
  seeds: number[],
  faults: (Fault | undefined)[] = [],
  provider: Signer = f.provider,
): Promise<Batch> {
  return commitItems(f, buildItems(f, seeds, faults), provider);
}

/** Commits the tree of `items` as a batch. */
export async function commitItems(f: Disc, items: BatchItem[], provider: Signer = f.provider): Promise<Batch> {
  const tree = treeOf(items);
  const { batchId, header, committedAt } = await commitRoot(f, tree.root, items.length, provider);
  return { batchId, header, items, sorted: sortedByHash(items), tree, committedAt, proof: (i) => tree.getProof(i) };
}

/** What `discloseLeaves` takes for these items. */
export const disclosed = (items: BatchItem[]): DisclosedLeafStruct[] =>
  items.map((it) => ({ leaf: it.leaf, input: vectorToHex(it.input) }));

/** Splits `items` into consecutive chunks of the given sizes (the last size repeats). */
export function chunksOf<T>(items: T[], sizes: number[]): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (let k = 0; at < items.length; k++) {
    const n = sizes[Math.min(k, sizes.length - 1)];
    out.push(items.slice(at, at + n));
    at += n;
  }
  return out;
}

/** Demands a disclosure of `batch` by `demander`. */
export const demand = (f: Disc, batch: { header: Batch["header"] }, demander: Signer = f.watcher) =>
  f.batchDisclosure.connect(demander).demandDisclosure(batch.header);

/** The provider discloses `items` in chunks of `sizes`; returns the receipts. */
export async function discloseInChunks(
  f: Disc,
  batch: { header: Batch["header"] },
  items: BatchItem[],
  sizes: number[],
  provider: Signer = f.provider,
): Promise<ContractTransactionReceipt[]> {
  const receipts: ContractTransactionReceipt[] = [];
  for (const chunk of chunksOf(items, sizes)) {
    const tx = await f.batchDisclosure.connect(provider).discloseLeaves(batch.header, disclosed(chunk));
    receipts.push((await tx.wait())!);
  }
  return receipts;
}

/** The provider completes the disclosure with the hashes of `items` (the disclosed leaves, in order). */
export const finish = (
  f: Disc,
  batch: { header: Batch["header"] },
  items: BatchItem[],
  provider: Signer = f.provider,
) =>
  f.batchDisclosure.connect(provider).finishDisclosure(
    batch.header,
    items.map((it) => it.hash),
  );

/** The disclosure's running chain `h_k = keccak256(abi.encode(h_(k-1), leafHash_k))` over `items`. */
export function chainOf(items: BatchItem[]): string {
  const coder = AbiCoder.defaultAbiCoder();
  let chain = ZeroHash;
  for (const it of items) chain = keccak256(coder.encode(["bytes32", "bytes32"], [chain, it.hash]));
  return chain;
}

/** A disclosure's state as a plain array. */
export async function disclosureState(f: Disc, batchId: string): Promise<unknown[]> {
  return [...(await f.batchDisclosure.disclosureOf(batchId))];
}

/**
 * Everything a refused call must leave untouched: the disclosure, the ledger record, the vault's totals and
 * balance, the provider's stake, the credits and token balances of the parties.
 */
export async function snapshot(f: Disc, batchIds: string[]): Promise<unknown[]> {
  const parts: unknown[] = [];
  for (const id of batchIds) {
    parts.push(await disclosureState(f, id));
    parts.push([...(await f.ledger.recordOf(id))].map(String));
    parts.push(await f.ledger.status(id));
  }
  const vault = await f.stakeManager.getAddress();
  parts.push(await f.stakeManager.totalOwed(), await f.stakeManager.totalBonds(), await f.token.balanceOf(vault));
  for (const p of [f.provider, f.provider2]) parts.push([...(await f.stakeManager.stakeOf(p.address))].map(String));
  for (const a of [f.provider, f.watcher, f.challenger, f.treasury]) {
    parts.push(await f.stakeManager.creditOf(a.address), await f.token.balanceOf(a.address));
  }
  return parts;
}

/** Asserts that `call` reverts (checked by `check`) and changes nothing in `snapshot`. */
export async function expectRefused(
  f: Disc,
  batchIds: string[],
  call: () => Promise<ContractTransactionResponse>,
  check: (p: Promise<ContractTransactionResponse>) => Promise<unknown>,
): Promise<void> {
  const before = await snapshot(f, batchIds);
  await check(call());
  expect(await snapshot(f, batchIds)).to.deep.equal(before);
}

/** The vault's token balance, which must always equal what it owes. */
export async function expectFundsConserved(f: Disc): Promise<void> {
  const balance = await f.token.balanceOf(await f.stakeManager.getAddress());
  expect(await f.stakeManager.totalOwed()).to.equal(balance);
}

/** The timestamp of a mined transaction. */
export async function timeOf(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = (await tx.wait())!;
  return BigInt((await receipt.getBlock()).timestamp);
}

/**
 * What a watcher rebuilds from the LeafDisclosed logs of a batch alone: the leaves and inputs in disclosure
 * order (`index` checked to run 0, 1, 2, ...).
 */
export async function leavesFromLogs(f: Disc, batchId: string): Promise<{ leaf: Leaf; input: string }[]> {
  const logs = await f.batchDisclosure.queryFilter(f.batchDisclosure.filters.LeafDisclosed(batchId));
  return logs.map((log, i) => {
    expect(log.args.batchId).to.equal(batchId);
    expect(log.args.index).to.equal(BigInt(i));
    const [inputHash, outputHash, traceRoot] = log.args.leaf;
    return { leaf: { inputHash, outputHash, traceRoot }, input: log.args.input };
  });
}

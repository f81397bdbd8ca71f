import { dataLength, hexlify, type BytesLike, type ContractRunner, type Provider } from "ethers";
import { BatchDisclosure__factory, type BatchDisclosure } from "../../../typechain-types/index.js";
import { leavesPerChunk } from "../../protocol/gasBounds.js";
import { decodingReverts } from "../errors.js";
import { batchIdOf, leafHashOf } from "../ids.js";
import { findEvent, sendTx, type VerityTx } from "../tx.js";
import type { BatchHeader, InferenceHashes } from "./ledger.js";

/** Phases of a batch's disclosure demand (`DisclosurePhase` in contracts/types/Dispute.sol). */
export enum DisclosurePhase {
  None = 0,
  Open = 1,
  Disclosed = 2,
  Failed = 3,
}

/** State of a batch's disclosure demand. */
export interface DisclosureState {
  demander: string;
  deadline: bigint;
  /** Leaves disclosed so far. */
  disclosed: number;
  phase: DisclosurePhase;
  bond: bigint;
  slashAmount: bigint;
  challengerShareBps: number;
}

/** One batch leaf with its input bytes. */
export interface DisclosedLeaf {
  leaf: InferenceHashes;
  input: BytesLike;
}

/** A leaf disclosed on-chain (a `LeafDisclosed` event). */
export interface DisclosedLeafEvent {
  index: number;
  leaf: InferenceHashes;
  input: string;
  blockNumber: number;
}

/** The leaves in disclosure order: ascending leaf hash (the order of the batch tree's sorted leaves). */
export function disclosureOrder<T extends { leaf: InferenceHashes }>(leaves: readonly T[]): T[] {
  return leaves
    .map((l) => ({ l, hash: BigInt(leafHashOf(l.leaf)) }))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    .map(({ l }) => l);
}

/**
 * Client of BatchDisclosure: demand that a batch's provider post every leaf and input on-chain, and
 * (as the provider) answer the demand in chunks that each fit the honest-move gas bound.
 */
export class DisclosureClient {
  /** The TypeChain binding. */
  readonly contract: BatchDisclosure;

  constructor(address: string, runner: ContractRunner) {
    this.contract = BatchDisclosure__factory.connect(address, runner);
  }

  /**
   * Demands the disclosure of a batch, posting the disclosure bond (approve the stake manager for
   * `disclosureBond(header)` first); `wait()` resolves to the batch id.
   */
  async demand(header: BatchHeader): Promise<VerityTx<string>> {
    return sendTx(
      () => this.contract.demandDisclosure(header),
      (r) => findEvent(r, this.contract.interface, "DisclosureDemanded").args.batchId,
    );
  }

  /** Provider: discloses the next leaves (one transaction), in ascending leaf-hash order. */
  async discloseLeaves(header: BatchHeader, leaves: readonly DisclosedLeaf[]): Promise<VerityTx<void>> {
    const items = leaves.map((l) => ({ leaf: { ...l.leaf }, input: hexlify(l.input) }));
    return sendTx(
      () => this.contract.discloseLeaves(header, items),
      () => undefined,
    );
  }

  /** Provider: completes the disclosure with every leaf hash, in disclosure order. */
  async finish(header: BatchHeader, leafHashes: readonly string[]): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.finishDisclosure(header, [...leafHashes]),
      () => undefined,
    );
  }

  /**
   * Provider: answers an open demand in full. Sorts the leaves by leaf hash, sends those not disclosed
   * yet in chunks of `leavesPerChunk(inDim)` (`GasBounds.leavesPerChunk`), one transaction at a time,
   * then `finishDisclosure`. Resumes where an interrupted run stopped. Returns the transactions sent.
   */
  async discloseAll(
    header: BatchHeader,
    leaves: readonly DisclosedLeaf[],
    options: { onChunk?: (disclosed: number, total: number) => void } = {},
  ): Promise<{ chunks: number; hashes: string[] }> {
    if (leaves.length !== header.count) {
      throw new Error(
        `disclosure of batch ${batchIdOf(header)}: ${leaves.length} leaves for a count of ${header.count}`,
      );
    }
    const ordered = disclosureOrder(leaves);
    const inDim = dataLength(hexlify(ordered[0].input));
    const perChunk = leavesPerChunk(inDim);
    if (perChunk === 0) throw new Error(`inputs of ${inDim} bytes do not fit one disclosure transaction`);
    const state = await this.disclosureOf(batchIdOf(header));
    let chunks = 0;
    for (let from = state.disclosed; from < ordered.length; from += perChunk) {
      await (await this.discloseLeaves(header, ordered.slice(from, from + perChunk))).wait();
      chunks++;
      options.onChunk?.(Math.min(ordered.length, from + perChunk), ordered.length);
    }
    const hashes = ordered.map((l) => leafHashOf(l.leaf));
    await (await this.finish(header, hashes)).wait();
    return { chunks, hashes };
  }

  /** Anyone: ends a demand the provider did not complete in time (the whole batch is overturned). */
  async timeout(header: BatchHeader): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.timeoutDisclosure(header),
      () => undefined,
    );
  }

  /** The state of a batch's disclosure (phase None when never demanded). */
  async disclosureOf(batchId: string): Promise<DisclosureState> {
    const d = await this.contract.disclosureOf(batchId);
    return {
      demander: d.demander,
      deadline: d.deadline,
      disclosed: Number(d.disclosed),
      phase: Number(d.phase) as DisclosurePhase,
      bond: d.bond,
      slashAmount: d.slashAmount,
      challengerShareBps: Number(d.challengerShareBps),
    };
  }

  /** The bond a disclosure demand on this batch costs now. */
  async disclosureBond(header: BatchHeader): Promise<bigint> {
    return decodingReverts(() => this.contract.disclosureBond(header));
  }

  /** The leaves of a batch disclosed on-chain so far, in disclosure order. */
  async disclosedLeaves(batchId: string, fromBlock = 0, toBlock?: number): Promise<DisclosedLeafEvent[]> {
    const events = await this.contract.queryFilter(this.contract.filters.LeafDisclosed(batchId), fromBlock, toBlock);
    return events.map((e) => ({
      index: Number(e.args.index),
      leaf: { inputHash: e.args.leaf.inputHash, outputHash: e.args.leaf.outputHash, traceRoot: e.args.leaf.traceRoot },
      input: e.args.input,
      blockNumber: e.blockNumber,
    }));
  }

  /** Disclosure demands opened in `[fromBlock, toBlock]`. */
  async scanDemanded(
    fromBlock: number,
    toBlock: number,
  ): Promise<{ batchId: string; demander: string; deadline: bigint; blockNumber: number }[]> {
    const events = await this.contract.queryFilter(this.contract.filters.DisclosureDemanded(), fromBlock, toBlock);
    return events.map((e) => ({
      batchId: e.args.batchId,
      demander: e.args.demander,
      deadline: e.args.deadline,
      blockNumber: e.blockNumber,
    }));
  }

  /** The chain's current timestamp. */
  async now(): Promise<bigint> {
    const provider = this.contract.runner?.provider as Provider;
    return BigInt((await provider.getBlock("latest"))!.timestamp);
  }
}

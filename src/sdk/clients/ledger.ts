import type { ContractRunner, Log, Provider } from "ethers";
import { InferenceLedger__factory, type InferenceLedger } from "../../../typechain-types/index.js";
import { decodingReverts } from "../errors.js";
import { findEvent, sendTx, type VerityTx } from "../tx.js";

/** The three hashes of one inference. */
export interface InferenceHashes {
  inputHash: string;
  outputHash: string;
  traceRoot: string;
}

/** Everything a batch id commits to. */
export interface BatchHeader {
  provider: string;
  modelId: string;
  root: string;
  count: number;
}

/** Commitment status as the ledger reports it. */
export enum CommitmentStatus {
  None = 0,
  Pending = 1,
  Final = 2,
  Disputed = 3,
  Overturned = 4,
}

/** A commitment event seen on-chain: a single inference or a batch. */
export type CommitmentEvent =
  | {
      kind: "single";
      id: string;
      modelId: string;
      provider: string;
      inference: InferenceHashes;
      inputData: string;
      blockNumber: number;
      logIndex: number;
    }
  | {
      kind: "batch";
      id: string;
      modelId: string;
      provider: string;
      root: string;
      count: number;
      dataURI: string;
      blockNumber: number;
      logIndex: number;
    };

/** Client of the InferenceLedger. */
export class LedgerClient {
  /** The TypeChain binding. */
  readonly contract: InferenceLedger;

  constructor(address: string, runner: ContractRunner) {
    this.contract = InferenceLedger__factory.connect(address, runner);
  }

  /** Commits one inference; `wait()` resolves to the commitment id. */
  async commit(request: { modelId: string; inference: InferenceHashes; inputData: string }): Promise<VerityTx<string>> {
    const { modelId, inference, inputData } = request;
    return sendTx(
      () => this.contract.commit(modelId, inference.inputHash, inference.outputHash, inference.traceRoot, inputData),
      (receipt) => findEvent(receipt, this.contract.interface, "InferenceCommitted").args.id,
    );
  }

  /** Commits a batch root; `wait()` resolves to the batch id. */
  async commitBatch(request: {
    modelId: string;
    root: string;
    count: number;
    dataURI: string;
  }): Promise<VerityTx<string>> {
    return sendTx(
      () => this.contract.commitBatch(request.modelId, request.root, request.count, request.dataURI),
      (receipt) => findEvent(receipt, this.contract.interface, "BatchCommitted").args.batchId,
    );
  }

  /** Status of a commitment or batch. */
  async status(id: string): Promise<CommitmentStatus> {
    return Number(await this.contract.status(id)) as CommitmentStatus;
  }

  /** Whether a commitment (or whole batch) is final. */
  async isFinal(id: string): Promise<boolean> {
    return this.contract.isFinal(id);
  }

  /** Status of one leaf of a batch (reverts if the leaf is not in it). */
  async leafStatus(header: BatchHeader, proof: string[], leaf: InferenceHashes): Promise<CommitmentStatus> {
    return Number(await decodingReverts(() => this.contract.leafStatus(header, proof, leaf))) as CommitmentStatus;
  }

  /** The stored record of a commitment or batch. */
  async recordOf(id: string) {
    return this.contract.recordOf(id);
  }

  /**
   * Every commitment and batch event in `[fromBlock, toBlock]`, in chain order, in one `eth_getLogs`.
   * Callers bound the range (providers cap it).
   */
  async scan(fromBlock: number, toBlock: number): Promise<CommitmentEvent[]> {
    const provider = this.contract.runner?.provider as Provider | undefined;
    if (provider === undefined || provider === null) throw new Error("the ledger client has no provider");
    const iface = this.contract.interface;
    const logs = await provider.getLogs({
      address: await this.contract.getAddress(),
      fromBlock,
      toBlock,
      topics: [[iface.getEvent("InferenceCommitted").topicHash, iface.getEvent("BatchCommitted").topicHash]],
    });
    return logs.map((log) => this.parseCommitment(log));
  }

  /** Decodes one InferenceCommitted or BatchCommitted log. */
  parseCommitment(log: Log): CommitmentEvent {
    const parsed = this.contract.interface.parseLog(log);
    if (parsed === null) throw new Error(`log ${log.transactionHash}:${log.index} is not a ledger event`);
    const a = parsed.args;
    if (parsed.name === "InferenceCommitted") {
      return {
        kind: "single",
        id: a.id,
        modelId: a.modelId,
        provider: a.provider,
        inference: { inputHash: a.inputHash, outputHash: a.outputHash, traceRoot: a.traceRoot },
        inputData: a.inputData,
        blockNumber: log.blockNumber,
        logIndex: log.index,
      };
    }
    return {
      kind: "batch",
      id: a.batchId,
      modelId: a.modelId,
      provider: a.provider,
      root: a.root,
      count: Number(a.count),
      dataURI: a.dataURI,
      blockNumber: log.blockNumber,
      logIndex: log.index,
    };
  }
}

import type { ContractRunner, Log, Provider } from "ethers";
import { InferenceLedger__factory, type InferenceLedger } from "../../../typechain-types/index.js";
import { decodingReverts } from "../errors.js";
import { parseCommitmentLog, scanCommitments, type CommitmentEvent, type SkippedLog } from "../logs.js";
import { findEvent, sendTx, type VerityTx } from "../tx.js";

export type { CommitmentEvent, SkippedLog } from "../logs.js";

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
   * Every commitment and batch event in `[fromBlock, toBlock]`, in chain order, in one `eth_getLogs`; a log
   * that cannot be decoded is passed to `onSkip` and left out (see `scanCommitments`).
   */
  async scan(fromBlock: number, toBlock: number, onSkip?: (skipped: SkippedLog) => void): Promise<CommitmentEvent[]> {
    const provider = this.contract.runner?.provider as Provider | undefined | null;
    if (provider === undefined || provider === null) throw new Error("the ledger client has no provider");
    return scanCommitments(provider, await this.contract.getAddress(), fromBlock, toBlock, onSkip);
  }

  /** Decodes one InferenceCommitted or BatchCommitted log (strictly, with ethers' `parseLog`). */
  parseCommitment(log: Log): CommitmentEvent {
    return parseCommitmentLog(log);
  }
}

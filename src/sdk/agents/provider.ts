import {
  modelCommitments,
  run,
  vectorToHex,
  type DenseInt8Model,
  type ModelCommitments,
  type RunResult,
} from "../../engine/index.js";
import { runWithFault, type Fault } from "../../protocol/faults.js";
import { batchTree, writeBatchFile } from "../batch.js";
import { Phase, type DisputeParams } from "../clients/disputes.js";
import { TraceStore, type StoredTrace } from "../store.js";
import { leafHashOf } from "../ids.js";
import type { Verity } from "../verity.js";

/** What a provider did in one dispute (for logs). */
export type ProviderAction = "revealInput" | "revealTrace" | "revealLayer" | "none";

/**
 * A provider: runs the engine, commits inferences (singly or in batches), keeps every trace on disk,
 * and answers every dispute against its commitments from those traces.
 */
export class ProviderAgent {
  readonly commitments: ModelCommitments;

  constructor(
    readonly verity: Verity,
    readonly model: DenseInt8Model,
    readonly store: TraceStore,
  ) {
    this.commitments = modelCommitments(model);
  }

  /** Runs the model; with a fault, the way a cheating provider would (tests and the demo). */
  infer(input: Int8Array, fault?: Fault): RunResult {
    return fault === undefined ? run(this.model, input) : runWithFault(this.model, input, fault);
  }

  /** Runs and commits one inference; returns its id and run. */
  async commit(input: Int8Array, fault?: Fault): Promise<{ id: string; result: RunResult }> {
    const result = this.infer(input, fault);
    const tx = await this.verity.ledger.commit({
      modelId: this.commitments.modelId,
      inference: result,
      inputData: vectorToHex(input),
    });
    const id = await tx.wait();
    this.store.put(TraceStore.key(id), this.stored(result));
    return { id, result };
  }

  /**
   * Runs and commits a batch; writes the batch data file (leaves and inputs) to `dataFile` and commits
   * its `file://` URI. `faults[i]` tampers with inference i.
   */
  async commitBatch(
    inputs: readonly Int8Array[],
    dataFile: string,
    faults: readonly (Fault | undefined)[] = [],
    options: { withholdInputs?: boolean; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ batchId: string; results: RunResult[]; root: string }> {
    const results = inputs.map((input, i) => {
      const result = this.infer(input, faults[i]);
      options.onProgress?.(i + 1, inputs.length);
      return result;
    });
    const tree = batchTree(results);
    const provider = await (this.verity.runner as unknown as { getAddress(): Promise<string> }).getAddress();
    const dataURI = writeBatchFile(dataFile, {
      format: "verity.batch.v1",
      modelId: this.commitments.modelId,
      provider,
      root: tree.root,
      count: results.length,
      leaves: results.map((r, i) => ({
        inputHash: r.inputHash,
        outputHash: r.outputHash,
        traceRoot: r.traceRoot,
        ...(options.withholdInputs ? {} : { input: vectorToHex(inputs[i]) }),
      })),
    });
    const tx = await this.verity.ledger.commitBatch({
      modelId: this.commitments.modelId,
      root: tree.root,
      count: results.length,
      dataURI,
    });
    const batchId = await tx.wait();
    for (const r of results) this.store.put(TraceStore.key(batchId, leafHashOf(r)), this.stored(r));
    return { batchId, results, root: tree.root };
  }

  /** Makes this provider's move in a game, if it is its turn and it still can; returns what it did. */
  async answer(disputeId: string, params: DisputeParams): Promise<ProviderAction> {
    const game = await this.verity.disputes.game(disputeId);
    const trace = this.store.get(
      TraceStore.key(params.target, params.isLeaf ? leafHashOf(params.inference) : undefined),
    );
    if (trace === undefined) throw new Error(`no stored trace for dispute ${disputeId} (target ${params.target})`);
    if (game.deadline < (await this.verity.disputes.now())) return "none";
    switch (game.phase) {
      case Phase.AwaitingInput:
        await (await this.verity.disputes.revealInput(params, trace.activations[0])).wait();
        return "revealInput";
      case Phase.AwaitingTrace:
        await (await this.verity.disputes.revealTrace(params, trace.layerHashes)).wait();
        return "revealTrace";
      case Phase.AwaitingLayerReveal:
        await (
          await this.verity.disputes.revealLayer(params, game.layer, trace.layerHashes, trace.activations[game.layer])
        ).wait();
        return "revealLayer";
      default:
        return "none";
    }
  }

  private stored(result: RunResult): StoredTrace {
    return {
      modelId: this.commitments.modelId,
      activations: result.activations.map(vectorToHex),
      layerHashes: [...result.layerHashes],
    };
  }
}

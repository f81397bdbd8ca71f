import {
  modelCommitments,
  run,
  vectorFromHex,
  type DenseInt8Model,
  type ModelCommitments,
  type RunResult,
} from "../../engine/index.js";
import { keccak256 } from "ethers";
import { buildNeuronProof, firstDisputedLayer } from "../../protocol/dispute.js";
import { batchTree, readBatchFile } from "../batch.js";
import { Phase, type DisputeParams } from "../clients/disputes.js";
import type { BatchHeader, CommitmentEvent, InferenceHashes } from "../clients/ledger.js";
import { leafHashOf } from "../ids.js";
import type { Verity } from "../verity.js";

/** A commitment (or batch leaf) whose claimed hashes differ from an honest re-execution. */
export type Finding =
  | {
      kind: "single";
      id: string;
      modelId: string;
      provider: string;
      inference: InferenceHashes;
      /** The event's input data is not the committed input (a URI, or other bytes): demand it on-chain. */
      demandInput: boolean;
    }
  | {
      kind: "leaf";
      id: string;
      header: BatchHeader;
      proof: string[];
      leaf: InferenceHashes;
      /** The leaf's input was withheld: open the dispute with an input demand. */
      demandInput: boolean;
    };

/** What a challenger did in one game (for logs). */
export type ChallengerAction = "continue" | "selectLayer" | "proveNeuron" | "timeout" | "closeOverturned" | "none";

/** A followed model with everything needed to re-execute and prove. */
interface FollowedModel {
  model: DenseInt8Model;
  commitments: ModelCommitments;
}

/**
 * A challenger: re-executes commitments from their on-chain (or published) inputs, reports mismatches,
 * opens disputes, and plays each game to the end.
 */
export class ChallengerAgent {
  private readonly models = new Map<string, FollowedModel>();

  constructor(
    readonly verity: Verity,
    models: readonly DenseInt8Model[],
  ) {
    for (const model of models) {
      const commitments = modelCommitments(model);
      this.models.set(commitments.modelId.toLowerCase(), { model, commitments });
    }
  }

  /** Whether this challenger re-executes commitments of `modelId`. */
  follows(modelId: string): boolean {
    return this.models.has(modelId.toLowerCase());
  }

  /** Re-executes one commitment event; returns what is wrong in it (empty when all is right). */
  verify(event: CommitmentEvent): Finding[] {
    const followed = this.models.get(event.modelId.toLowerCase());
    if (followed === undefined) return [];
    if (event.kind === "single") {
      const claimed = event.inference;
      const honest = this.honestRun(followed.model, event.inputData);
      if (honest !== undefined && sameInference(honest, claimed)) return [];
      // Input data that does not hash to the input hash (a URI, or other bytes) hides the input: demand it.
      const demandInput = keccak256(event.inputData).toLowerCase() !== claimed.inputHash.toLowerCase();
      const { id, modelId, provider } = event;
      return [{ kind: "single", id, modelId, provider, inference: claimed, demandInput }];
    }
    const data = readBatchFile(event.dataURI);
    const tree = batchTree(data.leaves);
    if (tree.root.toLowerCase() !== event.root.toLowerCase()) {
      throw new Error(`batch ${event.id}: data file root ${tree.root} differs from the committed root ${event.root}`);
    }
    const header: BatchHeader = {
      provider: event.provider,
      modelId: event.modelId,
      root: event.root,
      count: event.count,
    };
    const findings: Finding[] = [];
    data.leaves.forEach((leaf, i) => {
      const inference = { inputHash: leaf.inputHash, outputHash: leaf.outputHash, traceRoot: leaf.traceRoot };
      const withheld = leaf.input === undefined;
      if (!withheld) {
        const honest = this.honestRun(followed.model, leaf.input!);
        if (honest !== undefined && sameInference(honest, inference)) return;
      }
      findings.push({
        kind: "leaf",
        id: event.id,
        header,
        proof: tree.getProof(i),
        leaf: inference,
        demandInput: withheld,
      });
    });
    return findings;
  }

  /** Opens the dispute a finding calls for; resolves to the game's params. */
  async open(finding: Finding): Promise<DisputeParams> {
    const tx =
      finding.kind === "single"
        ? await this.verity.disputes.open(finding.id, finding.modelId, finding.inference, finding.demandInput)
        : await this.verity.disputes.openLeaf(finding.header, finding.proof, finding.leaf, finding.demandInput);
    return tx.wait();
  }

  /**
   * Makes this challenger's move in a game, or ends it by timeout when the provider missed its deadline,
   * or closes it when another game already overturned the target. Returns what it did.
   */
  async advance(disputeId: string, params: DisputeParams): Promise<ChallengerAction> {
    const d = this.verity.disputes;
    const game = await d.game(disputeId);
    if (game.phase === Phase.Resolved || game.phase === Phase.None) return "none";
    if (await this.targetOverturned(params)) {
      await (await d.closeOverturned(params)).wait();
      return "closeOverturned";
    }
    if ((await d.now()) > game.deadline) {
      // Only a provider's missed move is worth ending: ours would lose us the bond.
      if (providerMoves(game.phase) || game.phase === Phase.InputRevealed) {
        await (await d.timeout(params)).wait();
        return "timeout";
      }
      return "none";
    }
    const followed = this.models.get(params.modelId.toLowerCase());
    if (followed === undefined) throw new Error(`dispute ${disputeId}: model ${params.modelId} is not followed`);
    switch (game.phase) {
      case Phase.InputRevealed: {
        const input = await d.revealedInput(disputeId);
        const honest = input === undefined ? undefined : this.honestRun(followed.model, input);
        // The revealed input shows the leaf is right: let the game lapse (bond refunded at timeout).
        if (honest !== undefined && sameInference(honest, params.inference)) return "none";
        await (await d.continueDispute(params)).wait();
        return "continue";
      }
      case Phase.AwaitingLayerSelection: {
        const { honest, claimed } = await this.traces(disputeId, params, followed);
        await (await d.selectLayer(params, firstDisputedLayer(claimed, honest))).wait();
        return "selectLayer";
      }
      case Phase.AwaitingNeuronProof: {
        const { honest, claimed } = await this.traces(disputeId, params, followed);
        const revealed = await d.revealedLayer(disputeId);
        if (revealed === undefined) throw new Error(`dispute ${disputeId}: no revealed layer`);
        const proof = buildNeuronProof(
          followed.model,
          followed.commitments.tree,
          honest,
          claimed as `0x${string}`[],
          revealed.layer,
          vectorFromHex(revealed.activation),
        );
        await (await d.proveNeuron(params, proof)).wait();
        return "proveNeuron";
      }
      default:
        return "none";
    }
  }

  private async traces(disputeId: string, params: DisputeParams, followed: FollowedModel) {
    const d = this.verity.disputes;
    const claimed = await d.revealedTrace(disputeId);
    if (claimed === undefined) throw new Error(`dispute ${disputeId}: no revealed trace`);
    const input = await this.inputOf(disputeId, params);
    const honest = this.honestRun(followed.model, input);
    if (honest === undefined) throw new Error(`dispute ${disputeId}: the committed input is not a valid model input`);
    return { honest, claimed };
  }

  /** The disputed inference's input: from the commitment event, the batch file, or the on-chain reveal. */
  private async inputOf(disputeId: string, params: DisputeParams): Promise<string> {
    const revealed = await this.verity.disputes.revealedInput(disputeId);
    if (revealed !== undefined) return revealed;
    const ledger = this.verity.ledger.contract;
    if (!params.isLeaf) {
      const events = await ledger.queryFilter(ledger.filters.InferenceCommitted(params.target));
      if (events.length === 0) throw new Error(`commitment ${params.target} not found`);
      return events[0].args.inputData;
    }
    const events = await ledger.queryFilter(ledger.filters.BatchCommitted(params.target));
    if (events.length === 0) throw new Error(`batch ${params.target} not found`);
    const data = readBatchFile(events[0].args.dataURI);
    const leaf = data.leaves.find((l) => l.inputHash.toLowerCase() === params.inference.inputHash.toLowerCase());
    if (leaf?.input === undefined) throw new Error(`batch ${params.target}: input of the disputed leaf is unavailable`);
    return leaf.input;
  }

  private async targetOverturned(params: DisputeParams): Promise<boolean> {
    const ledger = this.verity.ledger.contract;
    if (!params.isLeaf) return (await ledger.recordOf(params.target)).overturned;
    return (await ledger.leafRecordOf(params.target, leafHashOf(params.inference))).overturned;
  }

  /** An honest run, or undefined when the input is not a valid model input (malformed commitment). */
  private honestRun(model: DenseInt8Model, inputHex: string): RunResult | undefined {
    let input: Int8Array;
    try {
      input = vectorFromHex(inputHex);
    } catch {
      return undefined;
    }
    if (input.length !== model.layers[0].spec.inDim) return undefined;
    return run(model, input);
  }
}

function sameInference(a: InferenceHashes, b: InferenceHashes): boolean {
  return (
    a.inputHash.toLowerCase() === b.inputHash.toLowerCase() &&
    a.outputHash.toLowerCase() === b.outputHash.toLowerCase() &&
    a.traceRoot.toLowerCase() === b.traceRoot.toLowerCase()
  );
}

function providerMoves(phase: Phase): boolean {
  return phase === Phase.AwaitingInput || phase === Phase.AwaitingTrace || phase === Phase.AwaitingLayerReveal;
}

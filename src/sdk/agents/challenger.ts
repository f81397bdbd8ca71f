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
import { DisclosurePhase } from "../clients/disclosure.js";
import { Phase, targetKeyOf, type DisputeParams } from "../clients/disputes.js";
import {
  RecordFlags,
  batchHeaderOf,
  hasFlag,
  type BatchHeader,
  type CommitmentEvent,
  type InferenceHashes,
} from "../clients/ledger.js";
import type { LogRangeOptions } from "../clients/registry.js";
import { batchIdOf, leafHashOf } from "../ids.js";
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
      /**
       * The leaf's input is neither in the data file nor disclosed on-chain: open with an input demand
       * (or demand the whole batch's disclosure first, `ChallengerAgent.demandDisclosure`).
       */
      demandInput: boolean;
    };

/** What a challenger did in one game (for logs). */
export type ChallengerAction = "continue" | "selectLayer" | "proveNeuron" | "timeout" | "claimReward" | "none";

/** A followed model with everything needed to re-execute and prove. */
interface FollowedModel {
  model: DenseInt8Model;
  commitments: ModelCommitments;
}

/**
 * A challenger (the watchtower's brain): follows model files, that is every registration of their content
 * by any publisher (the content is what it can re-execute); re-executes commitments from their on-chain
 * (or published, or disclosed) inputs, reports mismatches, opens disputes (demanding the input only when
 * it is not public), plays each game to the end, and claims its share of pooled rewards.
 */
export class ChallengerAgent {
  /** Followed models by content hash. */
  private readonly contents = new Map<string, FollowedModel>();
  /** Registrations of followed content, by model id. */
  private readonly registered = new Map<string, FollowedModel>();
  /** Last block whose registrations were read (-1 before the first search). */
  private registrationsCursor = -1;

  constructor(
    readonly verity: Verity,
    models: readonly DenseInt8Model[],
    /** Model ids known to be registrations of these models (more are found by `syncRegistrations`). */
    modelIds: readonly string[] = [],
  ) {
    for (const model of models) {
      const commitments = modelCommitments(model);
      this.contents.set(commitments.contentHash.toLowerCase(), { model, commitments });
    }
    if (modelIds.length > 0 && this.contents.size !== 1) {
      throw new Error("explicit model ids need exactly one followed model (use syncRegistrations otherwise)");
    }
    const only = [...this.contents.values()][0];
    for (const id of modelIds) this.registered.set(id.toLowerCase(), only);
  }

  /** A challenger that already knows every registration of its models up to the head. */
  static async create(
    verity: Verity,
    models: readonly DenseInt8Model[],
    options: LogRangeOptions = {},
  ): Promise<ChallengerAgent> {
    const agent = new ChallengerAgent(verity, models);
    await agent.syncRegistrations(options);
    return agent;
  }

  /**
   * Finds the registrations of the followed content (all publishers) made since the last search, up to
   * `toBlock` (default the head), in bounded log ranges. Call it before handling the commitments of a
   * block range, so that a model registered mid-way is followed from its first commitment.
   */
  async syncRegistrations(options: LogRangeOptions = {}): Promise<number> {
    const to = options.toBlock ?? (await this.verity.provider.getBlockNumber());
    const from = Math.max(options.fromBlock ?? 0, this.registrationsCursor + 1);
    if (from > to) return 0;
    let added = 0;
    for (const [contentHash, followed] of this.contents) {
      const found = await this.verity.registry.registrationsOf(contentHash, {
        fromBlock: from,
        toBlock: to,
        maxRange: options.maxRange,
      });
      for (const r of found) {
        if (!this.registered.has(r.modelId.toLowerCase())) added++;
        this.registered.set(r.modelId.toLowerCase(), followed);
      }
    }
    this.registrationsCursor = to;
    return added;
  }

  /** The model ids this challenger follows (every known registration of its models). */
  modelIds(): string[] {
    return [...this.registered.keys()];
  }

  /** Whether this challenger re-executes commitments of `modelId`. */
  follows(modelId: string): boolean {
    return this.registered.has(modelId.toLowerCase());
  }

  /**
   * Re-executes one commitment event; returns what is wrong in it (empty when all is right). A batch is
   * checked against its on-chain disclosure when it was disclosed, else against its data file.
   */
  async verify(event: CommitmentEvent): Promise<Finding[]> {
    const followed = this.registered.get(event.modelId.toLowerCase());
    if (followed === undefined) return [];
    if (event.kind === "single") {
      const claimed = event.inference;
      const demandInput = !isInputOf(event.inputData, claimed, followed.model);
      if (!demandInput && sameInference(this.honestRun(followed.model, event.inputData)!, claimed)) return [];
      const { id, modelId, provider } = event;
      return [{ kind: "single", id, modelId, provider, inference: claimed, demandInput }];
    }
    const header = batchHeaderOf(event.provider, event.modelId, event.root, event.count);
    const record = await this.verity.ledger.record(event.id);
    let leaves: (InferenceHashes & { input?: string })[];
    if (hasFlag(record.flags, RecordFlags.DISCLOSED)) {
      leaves = (await this.verity.disclosure.disclosedLeaves(event.id)).map((l) => ({ ...l.leaf, input: l.input }));
    } else {
      leaves = readBatchFile(event.dataURI).leaves;
    }
    const tree = batchTree(leaves);
    if (tree.root.toLowerCase() !== event.root.toLowerCase()) {
      throw new Error(`batch ${event.id}: its leaves build root ${tree.root}, not the committed root ${event.root}`);
    }
    const findings: Finding[] = [];
    leaves.forEach((l, i) => {
      const leaf = { inputHash: l.inputHash, outputHash: l.outputHash, traceRoot: l.traceRoot };
      const known = l.input !== undefined && isInputOf(l.input, leaf, followed.model);
      if (known && sameInference(this.honestRun(followed.model, l.input!)!, leaf)) return;
      findings.push({ kind: "leaf", id: event.id, header, proof: tree.getProof(i), leaf, demandInput: !known });
    });
    return findings;
  }

  /**
   * Opens the dispute a finding calls for; resolves to the game's params. The input is demanded only
   * when it is not public: never on an INPUT_PUBLIC commitment, never on a leaf of a disclosed batch
   * (whose disclosed input is re-executed first: a right leaf is not disputed).
   */
  async open(finding: Finding): Promise<DisputeParams> {
    const d = this.verity.disputes;
    if (finding.kind === "single") {
      const record = await this.verity.ledger.record(finding.id);
      const demandInput = finding.demandInput && !hasFlag(record.flags, RecordFlags.INPUT_PUBLIC);
      const key = { provider: finding.provider, modelId: finding.modelId, inference: finding.inference };
      return (await d.open(key, demandInput)).wait();
    }
    let demandInput = finding.demandInput;
    if (demandInput && hasFlag((await this.verity.ledger.record(finding.id)).flags, RecordFlags.DISCLOSED)) {
      const hash = leafHashOf(finding.leaf).toLowerCase();
      const disclosed = (await this.verity.disclosure.disclosedLeaves(finding.id)).find(
        (l) => leafHashOf(l.leaf).toLowerCase() === hash,
      );
      const followed = this.followed(finding.header.modelId);
      if (disclosed !== undefined && sameInference(this.honestRun(followed.model, disclosed.input)!, finding.leaf)) {
        throw new Error(`leaf ${hash} of batch ${finding.id} is right: its disclosed input re-executes to it`);
      }
      demandInput = false;
    }
    return (await d.openLeaf(finding.header, finding.proof, finding.leaf, demandInput)).wait();
  }

  /**
   * Demands the disclosure of a batch (its leaves and inputs on-chain), approving the stake manager for
   * the bond when needed; resolves to the batch id.
   */
  async demandDisclosure(header: BatchHeader): Promise<string> {
    const bond = await this.verity.disclosure.disclosureBond(header);
    await this.verity.staking.ensureAllowance(bond);
    return (await this.verity.disclosure.demand(header)).wait();
  }

  /** Ends a disclosure demand whose provider missed the deadline (the batch is overturned). */
  async advanceDisclosure(header: BatchHeader): Promise<"timeout" | "none"> {
    const c = this.verity.disclosure;
    const state = await c.disclosureOf(batchIdOf(header));
    if (state.phase !== DisclosurePhase.Open || (await c.now()) <= state.deadline) return "none";
    await (await c.timeout(header)).wait();
    return "timeout";
  }

  /**
   * Makes this challenger's move in a game, or ends it by timeout when the provider missed its deadline,
   * or, once the game is won, claims its part of a pooled reward when the pool is settled. Returns what it
   * did. A game whose target another game overturned is played on: winning it shares the reward.
   */
  async advance(disputeId: string, params: DisputeParams): Promise<ChallengerAction> {
    const d = this.verity.disputes;
    const game = await d.game(disputeId);
    if (game.phase === Phase.None) return "none";
    if (game.phase === Phase.Resolved)
      return (await this.claimReward(disputeId, params)) === "claimed" ? "claimReward" : "none";
    if ((await d.now()) > game.deadline) {
      // Only a provider's missed move is worth ending (and an answered demand, for the bond back).
      if (providerMoves(game.phase) || game.phase === Phase.InputRevealed) {
        await (await d.timeout(params)).wait();
        return "timeout";
      }
      return "none";
    }
    const followed = this.followed(params.modelId);
    switch (game.phase) {
      case Phase.InputRevealed: {
        const input = await d.revealedInput(disputeId);
        const honest = input === undefined ? undefined : this.honestRun(followed.model, input);
        // The revealed input shows the inference is right: let the game lapse (bond refunded at timeout).
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
        const { honest } = await this.traces(disputeId, params, followed);
        const revealed = await d.revealedLayer(disputeId);
        if (revealed === undefined) throw new Error(`dispute ${disputeId}: no revealed layer`);
        const proof = buildNeuronProof(
          followed.model,
          followed.commitments.tree,
          honest,
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

  /**
   * Claims a won game's part of its target's reward pool when every game on the target has ended.
   * Resolves to "claimed", "pending" (other games still open), or "none" (nothing owed).
   */
  async claimReward(disputeId: string, params: DisputeParams): Promise<"claimed" | "pending" | "none"> {
    const status = await this.verity.disputes.rewardStatus(disputeId, params);
    if (status === "none" || status === "paid") return "none";
    if (status !== "claimable") return "pending";
    await (await this.verity.disputes.claimReward(params)).wait();
    return "claimed";
  }

  /** The target key of a game (commitment id or leaf key), as the dispute game computes it. */
  targetKeyOf(params: DisputeParams): string {
    return targetKeyOf(params);
  }

  private followed(modelId: string): FollowedModel {
    const followed = this.registered.get(modelId.toLowerCase());
    if (followed === undefined) throw new Error(`model ${modelId} is not followed`);
    return followed;
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

  /** The disputed inference's input: the on-chain reveal, the commitment event, the disclosure or the data file. */
  private async inputOf(disputeId: string, params: DisputeParams): Promise<string> {
    const revealed = await this.verity.disputes.revealedInput(disputeId);
    if (revealed !== undefined) return revealed;
    const ledger = this.verity.ledger.contract;
    if (!params.isLeaf) {
      const events = await ledger.queryFilter(ledger.filters.InferenceCommitted(params.target));
      if (events.length === 0) throw new Error(`commitment ${params.target} not found`);
      return events[0].args.inputData;
    }
    const hash = leafHashOf(params.inference).toLowerCase();
    const disclosed = (await this.verity.disclosure.disclosedLeaves(params.target)).find(
      (l) => leafHashOf(l.leaf).toLowerCase() === hash,
    );
    if (disclosed !== undefined) return disclosed.input;
    const events = await ledger.queryFilter(ledger.filters.BatchCommitted(params.target));
    if (events.length === 0) throw new Error(`batch ${params.target} not found`);
    const data = readBatchFile(events[0].args.dataURI);
    const leaf = data.leaves.find((l) => leafHashOf(l).toLowerCase() === hash);
    if (leaf?.input === undefined) throw new Error(`batch ${params.target}: input of the disputed leaf is unavailable`);
    return leaf.input;
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

/** Whether `data` is the inference's input itself: the model's input length, hashing to its inputHash. */
function isInputOf(data: string, inference: InferenceHashes, model: DenseInt8Model): boolean {
  const bytes = (data.length - 2) / 2;
  return bytes === model.layers[0].spec.inDim && keccak256(data).toLowerCase() === inference.inputHash.toLowerCase();
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

import {
  modelCommitments,
  run,
  vectorFromHex,
  type DenseInt8Model,
  type ModelCommitments,
  type RunResult,
} from "../../engine/index.js";
import { buildNeuronProof, firstDisputedLayer, type NeuronProofArgs } from "../../protocol/dispute.js";
import { batchTree, fetchBatchFile } from "../batch.js";
import { DisclosurePhase, type DisclosedLeafEvent } from "../clients/disclosure.js";
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
import type { FetchOptions } from "../fetch.js";
import { batchIdOf, leafHashOf } from "../ids.js";
import { findCommitmentEvent } from "../logs.js";
import type { Verity } from "../verity.js";
import { checkInput, readInputURI, uriOf, type InputCheck } from "./inputs.js";

/** A commitment (or batch leaf) whose claimed hashes differ from an honest re-execution. */
export type Finding =
  | {
      kind: "single";
      id: string;
      modelId: string;
      provider: string;
      inference: InferenceHashes;
      /**
       * The commitment's `binding`: set for a TEE-signed commitment (the digest its enclave key signed),
       * absent (zero) for `commit`. Its dispute names it in `CommitmentKey.binding`.
       */
      binding?: string;
      /** The committed input is not public (behind a URI, missing, or other bytes): demand it on-chain. */
      demandInput: boolean;
      /** The committed input (hashing to inputHash) has the wrong length: structural fraud, proven with these bytes. */
      malformedInput?: string;
      /** Block of the commitment (log reads start there). */
      blockNumber?: number;
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
      /** The leaf's input (hashing to its inputHash) has the wrong length: structural fraud, proven with these bytes. */
      malformedInput?: string;
      /** Block of the batch commitment (log reads start there). */
      blockNumber?: number;
    };

/** How a challenger reads published data. */
export interface ChallengerOptions {
  /** Limits and rules for reading input and batch URIs (see `fetchBounded`). */
  fetch?: FetchOptions;
  /** Blocks per `eth_getLogs` when reading disclosed leaves (default 2,000). */
  maxRange?: number;
}

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
 * it is not public), plays each game to the end, and claims its share of pooled rewards. TEE-signed
 * commitments are re-executed like the others: a signature vouches for nothing a re-execution can check,
 * and a won game against one revokes its enclave key. Their findings carry the commitment's `binding`.
 */
export class ChallengerAgent {
  /** Followed models by content hash. */
  private readonly contents = new Map<string, FollowedModel>();
  /** Registrations of followed content, by model id. */
  private readonly registered = new Map<string, FollowedModel>();
  /** Last block whose registrations were read (-1 before the first search). */
  private registrationsCursor = -1;
  /** Committed inputs read from URIs or data files for the findings, by target key (the games need them again). */
  private readonly inputs = new Map<string, string>();
  /** Limits of URI reads; a watchtower sets its own when the agent has none. */
  fetchOptions?: FetchOptions;
  /** Blocks per `eth_getLogs` of disclosed-leaf reads. */
  maxRange: number;

  constructor(
    readonly verity: Verity,
    models: readonly DenseInt8Model[],
    /** Model ids known to be registrations of these models (more are found by `syncRegistrations`). */
    modelIds: readonly string[] = [],
    options: ChallengerOptions = {},
  ) {
    this.fetchOptions = options.fetch;
    this.maxRange = options.maxRange ?? 2_000;
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
   * Re-executes one commitment event; returns what is wrong in it (empty when all is right). Before any
   * finding, each input is checked against its committed hash (see `InputCheck`): a single commitment's
   * input is in its event or behind the URI its event carries (read through the bounded fetcher); a batch
   * is checked against its on-chain disclosure when it was disclosed, else against its data file (any URI
   * `fetchBatchFile` reads). A missing or wrong input makes an input-demanding finding (never on public
   * inputs); a malformed one (right hash, wrong length) a structural one; an input read from a remote URI
   * is demanded too, since the data may vanish before the game needs it. Throws when the batch data
   * cannot be read or does not build the committed root.
   */
  async verify(event: CommitmentEvent): Promise<Finding[]> {
    const followed = this.registered.get(event.modelId.toLowerCase());
    if (followed === undefined) return [];
    const inDim = followed.model.layers[0].spec.inDim;
    const { blockNumber } = event;
    if (event.kind === "single") {
      const claimed = event.inference;
      // An oracle answer's input is in its request's event (the ledger's record is flagged input-public).
      const inputData =
        event.request === undefined ? event.inputData : await this.requestInput(event.request.requestId);
      let check = checkInput(inputData, claimed.inputHash, inDim);
      const uri = check.kind === "missing" && event.request === undefined ? uriOf(inputData) : undefined;
      if (uri !== undefined) check = await readInputURI(uri, claimed.inputHash, inDim, this.fetchOptions);
      if (check.kind === "valid" && sameInference(this.honestRun(followed.model, check.input)!, claimed)) return [];
      const { id, modelId, provider } = event;
      const finding: Finding = {
        kind: "single",
        id,
        modelId,
        provider,
        inference: claimed,
        ...(event.tee === undefined ? {} : { binding: event.tee.binding }),
        ...(event.request === undefined ? {} : { binding: event.request.binding }),
        demandInput: check.kind === "missing" || (check.kind === "valid" && uri !== undefined),
        blockNumber,
      };
      return [this.withInput(finding, check)];
    }
    const header = headerOf(event);
    const record = await this.verity.ledger.record(event.id);
    const disclosed = hasFlag(record.flags, RecordFlags.DISCLOSED);
    let leaves: (InferenceHashes & { input?: string })[];
    if (disclosed) {
      leaves = (await this.disclosedLeaves(event.id, blockNumber)).map((l) => ({ ...l.leaf, input: l.input }));
    } else {
      if (event.unreadableURI) throw new Error(`batch ${event.id}: its data URI is not valid UTF-8`);
      leaves = (await fetchBatchFile(event.dataURI, this.fetchOptions)).leaves;
    }
    const tree = batchTree(leaves);
    if (tree.root.toLowerCase() !== event.root.toLowerCase()) {
      throw new Error(`batch ${event.id}: its leaves build root ${tree.root}, not the committed root ${event.root}`);
    }
    const remote = !disclosed && !event.dataURI.startsWith("file:");
    const findings: Finding[] = [];
    leaves.forEach((l, i) => {
      const leaf = { inputHash: l.inputHash, outputHash: l.outputHash, traceRoot: l.traceRoot };
      const check = checkInput(l.input, leaf.inputHash, inDim);
      if (check.kind === "valid" && sameInference(this.honestRun(followed.model, check.input)!, leaf)) return;
      const demandInput = !disclosed && (check.kind === "missing" || (check.kind === "valid" && remote));
      const finding: Finding = { kind: "leaf", id: event.id, header, proof: tree.getProof(i), leaf, demandInput };
      findings.push(this.withInput({ ...finding, blockNumber }, check));
    });
    return findings;
  }

  /** Remembers the input a finding was checked with (the game needs it), and marks a malformed one. */
  /**
   * The input of an oracle request, from its `InferenceRequested` event (checked against the request's id
   * and input hash). Throws when the node has no such event: the answer cannot be verified, and since its
   * input is public on-chain no game may demand it, so no game is opened on it.
   */
  private async requestInput(requestId: string): Promise<string> {
    const found = await this.verity.oracle.find(requestId);
    if (found === undefined) throw new Error(`the oracle has no request ${requestId}: its input cannot be read`);
    return found.input;
  }

  private withInput(finding: Finding, check: InputCheck): Finding {
    if (check.kind === "missing") return finding;
    const key = finding.kind === "single" ? finding.id : leafKey(finding.id, finding.leaf);
    this.inputs.set(key.toLowerCase(), check.input);
    return check.kind === "malformed" ? { ...finding, demandInput: false, malformedInput: check.input } : finding;
  }

  /** The leaves of a batch disclosed on-chain, read in bounded log ranges from `fromBlock` to the head. */
  async disclosedLeaves(batchId: string, fromBlock = 0): Promise<DisclosedLeafEvent[]> {
    const head = await this.verity.provider.getBlockNumber();
    const found: DisclosedLeafEvent[] = [];
    for (let from = fromBlock; from <= head; from += this.maxRange) {
      const to = Math.min(head, from + this.maxRange - 1);
      found.push(...(await this.verity.disclosure.disclosedLeaves(batchId, from, to)));
    }
    return found;
  }

  /**
   * Opens the dispute a finding calls for; resolves to the game's params. The input is demanded only
   * when it is not public: never on an INPUT_PUBLIC commitment, never on a leaf of a disclosed batch
   * (whose disclosed input is re-executed first: a right leaf is not disputed). `nonce` defaults to the
   * nonce book's (give the old game's to open again, under the same id, a game a reorg dropped).
   */
  async open(finding: Finding, nonce?: bigint): Promise<DisputeParams> {
    const d = this.verity.disputes;
    if (finding.kind === "single") {
      const record = await this.verity.ledger.record(finding.id);
      const demandInput = finding.demandInput && !hasFlag(record.flags, RecordFlags.INPUT_PUBLIC);
      const { provider, modelId, inference, binding } = finding;
      const key = { provider, modelId, inference, ...(binding === undefined ? {} : { binding }) };
      return (await d.open(key, demandInput, nonce)).wait();
    }
    let demandInput = finding.demandInput;
    if (demandInput && hasFlag((await this.verity.ledger.record(finding.id)).flags, RecordFlags.DISCLOSED)) {
      const hash = leafHashOf(finding.leaf).toLowerCase();
      const disclosed = (await this.disclosedLeaves(finding.id, finding.blockNumber)).find(
        (l) => leafHashOf(l.leaf).toLowerCase() === hash,
      );
      const followed = this.followed(finding.header.modelId);
      const honest = disclosed === undefined ? undefined : this.honestRun(followed.model, disclosed.input);
      if (honest !== undefined && sameInference(honest, finding.leaf)) {
        throw new Error(`leaf ${hash} of batch ${finding.id} is right: its disclosed input re-executes to it`);
      }
      demandInput = false;
    }
    return (await d.openLeaf(finding.header, finding.proof, finding.leaf, demandInput, nonce)).wait();
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

  /**
   * Follows a disclosure demand: ends it by timeout when the provider missed the deadline (the batch is
   * overturned, the demander paid). Returns "timeout", "disclosed" (the provider finished: verify the
   * batch again, from its disclosed leaves), "failed" (ended by someone's timeout), "open" (waiting for
   * the provider) or "none" (never demanded).
   */
  async advanceDisclosure(header: BatchHeader): Promise<"timeout" | "disclosed" | "failed" | "open" | "none"> {
    const c = this.verity.disclosure;
    const state = await c.disclosureOf(batchIdOf(header));
    if (state.phase === DisclosurePhase.Disclosed) return "disclosed";
    if (state.phase === DisclosurePhase.Failed) return "failed";
    if (state.phase !== DisclosurePhase.Open) return "none";
    if ((await c.now()) <= state.deadline) return "open";
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
        // A malformed input: layer 1, whose proof the contract ends on the input's length (structural fraud).
        await (await d.selectLayer(params, honest === undefined ? 1 : firstDisputedLayer(claimed, honest))).wait();
        return "selectLayer";
      }
      case Phase.AwaitingNeuronProof: {
        const { honest, input } = await this.traces(disputeId, params, followed);
        const revealed = await d.revealedLayer(disputeId);
        if (revealed === undefined) throw new Error(`dispute ${disputeId}: no revealed layer`);
        const proof =
          honest === undefined
            ? structuralProof(followed, input, revealed.activation)
            : buildNeuronProof(
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

  /**
   * The revealed trace, the committed input, and its honest run (undefined for a malformed input: one
   * hashing to inputHash with the wrong length, which only a structural proof at layer 1 answers).
   */
  private async traces(disputeId: string, params: DisputeParams, followed: FollowedModel) {
    const d = this.verity.disputes;
    const claimed = await d.revealedTrace(disputeId);
    if (claimed === undefined) throw new Error(`dispute ${disputeId}: no revealed trace`);
    const input = await this.inputOf(disputeId, params);
    const check = checkInput(input, params.inference.inputHash, followed.model.layers[0].spec.inDim);
    if (check.kind === "missing") throw new Error(`dispute ${disputeId}: the committed input is unavailable`);
    const honest = check.kind === "valid" ? this.honestRun(followed.model, input) : undefined;
    return { honest, claimed, input };
  }

  /**
   * The disputed inference's input: the on-chain reveal, the one remembered from `verify`, the commitment
   * event (its bytes, or its URI read through the bounded fetcher), the disclosure or the data file.
   */
  private async inputOf(disputeId: string, params: DisputeParams): Promise<string> {
    const revealed = await this.verity.disputes.revealedInput(disputeId);
    if (revealed !== undefined) return revealed;
    const key = (params.isLeaf ? leafKey(params.target, params.inference) : params.target).toLowerCase();
    const known = this.inputs.get(key);
    if (known !== undefined) return known;
    const inDim = this.followed(params.modelId).model.layers[0].spec.inDim;
    if (!params.isLeaf) {
      const event = await findCommitmentEvent(this.verity.ledger.contract, params.target, "single");
      if (event === undefined) throw new Error(`commitment ${params.target} not found`);
      const data = event.inputData;
      const uri = checkInput(data, params.inference.inputHash, inDim).kind === "missing" ? uriOf(data) : undefined;
      if (uri === undefined) return data;
      const check = await readInputURI(uri, params.inference.inputHash, inDim, this.fetchOptions);
      if (check.kind === "missing") throw new Error(`commitment ${params.target}: its input at ${uri} is unavailable`);
      return check.input;
    }
    const hash = leafHashOf(params.inference).toLowerCase();
    const event = await findCommitmentEvent(this.verity.ledger.contract, params.target, "batch");
    if (event === undefined) throw new Error(`batch ${params.target} not found`);
    const disclosed = (await this.disclosedLeaves(params.target, event.blockNumber)).find(
      (l) => leafHashOf(l.leaf).toLowerCase() === hash,
    );
    if (disclosed !== undefined) return disclosed.input;
    if (event.unreadableURI) throw new Error(`batch ${params.target}: its data URI is not valid UTF-8`);
    const data = await fetchBatchFile(event.dataURI, this.fetchOptions);
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

/** The header a batch event's disputes and disclosures name (`binding` zero unless TEE-signed). */
export function headerOf(event: Extract<CommitmentEvent, { kind: "batch" }>): BatchHeader {
  const header = batchHeaderOf(event.provider, event.modelId, event.root, event.count);
  return event.tee === undefined ? header : { ...header, binding: event.tee.binding };
}

/** The key inputs are remembered under: the batch id and the leaf hash. */
function leafKey(batchId: string, leaf: InferenceHashes): string {
  return `${batchId}-${leafHashOf(leaf)}`;
}

/**
 * The proof of structural fraud for a malformed input: the committed bytes as layer 1's input, the revealed
 * activation as its output, and any row with a valid proof (neuron 0). The contract checks the input's
 * length first and ends the game for the challenger.
 */
function structuralProof(followed: FollowedModel, input: string, activation: string): NeuronProofArgs {
  const row = followed.commitments.tree.proof(1, 0);
  return {
    input: input as `0x${string}`,
    output: activation as `0x${string}`,
    neuron: row.neuron,
    bias: row.bias,
    row: row.row,
    rowProof: row.proof,
  };
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

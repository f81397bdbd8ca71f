import path from "node:path";
import type { Signer } from "ethers";
import type { RunResult } from "../engine/index.js";
import type { Fault } from "../protocol/faults.js";
import { EnclaveRefusedError, type CommitOptions, type ProviderAgent } from "../sdk/agents/provider.js";
import { DisclosurePhase } from "../sdk/clients/disclosure.js";
import { Outcome, Phase, type DisputeParams } from "../sdk/clients/disputes.js";
import { CommitmentStatus, type BatchHeader } from "../sdk/clients/ledger.js";
import { Accept, RequestStatus } from "../sdk/clients/oracle.js";
import { VerityRevertError } from "../sdk/errors.js";
import { JsonFile } from "../sdk/store.js";
import { DataDir, FatalDaemonError, assertCursorWithin, checkedTick } from "./datadir.js";
import type { Logger } from "./log.js";
import { retryingWith, sleep, type RetryOptions } from "./retry.js";

/** What the provider daemon keeps on disk. */
export interface ProviderDaemonState {
  cursor: number;
  games: Record<string, { params: DisputeParams; resolved: boolean; outcome?: Outcome }>;
  /** Disclosure demands on this provider's batches, by batch id; `done` once answered or ended. */
  disclosures: Record<string, { header: BatchHeader; done: boolean; outcome?: "disclosed" | "failed" }>;
  /**
   * Oracle requests for this provider's model (fulfill mode), by request id: `pending` (to answer, or answered
   * and possibly overturned and reopened later), `answered` (our live commitment, until it is Final and settled,
   * or overturned: pending again), then `settled` or `skipped` (with the reason).
   */
  requests?: Record<
    string,
    { status: "pending" | "answered" | "settled" | "skipped"; commitmentId?: string; reason?: string }
  >;
  stats: {
    defended: number;
    won: number;
    lost: number;
    refunded: number;
    claimed: string;
    disclosed?: number;
    /** Commitments (singles and batches) made from `submit` requests. */
    committed?: number;
    /** Requests refused: by the ledger, or because the enclave key was refused before. */
    refused?: number;
  };
}

/** A commitment request `ProviderDaemon.submit` queued, and how to settle its promise. */
type CommitJob =
  | {
      kind: "single";
      input: Int8Array;
      fault?: Fault;
      options?: CommitOptions;
      settle: Settle<{ id: string; result: RunResult }>;
    }
  | {
      kind: "batch";
      inputs: readonly Int8Array[];
      dataFile: string;
      faults: readonly (Fault | undefined)[];
      settle: Settle<{ batchId: string; results: RunResult[]; root: string; header: BatchHeader }>;
    };

interface Settle<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** Options of the provider daemon. */
export interface ProviderDaemonOptions {
  agent: ProviderAgent;
  /** Folder for provider-state.json (held exclusively, bound to one chain: see `DataDir`). */
  dataDir: string;
  /** Move the folder's existing state aside and start over. */
  resetState?: boolean;
  fromBlock?: number;
  maxRange?: number;
  log?: Logger;
  retry?: RetryOptions;
  autoClaim?: boolean;
  /** Called after each scanned range (for progress bars). */
  onProgress?: (cursor: number, head: number) => void;
  /**
   * Fulfill mode: answer the oracle's requests for the agent's model whose fee is at least `minFee` (default
   * any) and that accept challenge-window finality, settle the answers once Final, and withdraw the fees.
   * `fault` alters the answer to a request (tests and the demo only).
   */
  fulfill?: { minFee?: bigint; fault?: (requestId: string) => Fault | undefined };
}

/**
 * The provider daemon: finds every dispute against this provider's commitments, answers each move before
 * its deadline from the stored traces, answers every disclosure demand on its batches (all leaves and
 * inputs, in gas-bounded chunks, then finish), ends every game whose deadline passed (a challenger gone
 * silent, an answered input demand left to lapse, or its own missed move: nothing of its stake stays
 * locked by a lapsed game), and claims the bonds it wins. It also makes the commitments `submit` and
 * `submitBatch` queue, each tick, through its agent: sealed with the enclave key when the agent is in TEE mode.
 * When the ledger refuses that key (revoked, expired, environment revoked or no longer allowed) it logs one
 * line naming the error, refuses every later request without sending it, and goes on defending what it
 * committed. In fulfill mode it also answers the oracle's requests for its model (each request on its own: a
 * refused or failed answer is logged and never stops the others), settles its answers once Final and
 * withdraws the fees. Like the watchtower, it stops (a `FatalDaemonError`) only when its folder belongs to another
 * chain or the deployment's contracts are gone.
 */
export class ProviderDaemon {
  private readonly state: JsonFile<ProviderDaemonState>;
  private readonly log: Logger;
  private readonly rpc: <T>(fn: () => Promise<T>) => Promise<T>;
  private current!: ProviderDaemonState;
  private me = "";
  private folder?: DataDir;
  /** Whether a game failed during the current tick (then the deployment is checked). */
  private troubled = false;
  /** The enclave key refusal already logged (each is logged once). */
  private loggedRefusal?: EnclaveRefusedError;
  /** Commitment requests not made yet, in submission order. */
  private readonly queue: CommitJob[] = [];

  constructor(private readonly options: ProviderDaemonOptions) {
    this.state = new JsonFile(path.join(options.dataDir, "provider-state.json"), () => ({
      cursor: (options.fromBlock ?? 0) - 1,
      games: {},
      disclosures: {},
      stats: { defended: 0, won: 0, lost: 0, refunded: 0, claimed: "0" },
    }));
    this.log = options.log ?? (() => {});
    this.rpc = retryingWith(this.log, options.retry);
  }

  /**
   * Takes the data folder (see `DataDir`) and loads the state. Throws a `FatalDaemonError` when the folder is
   * held by another process, belongs to another chain or deployment, or has scanned past the chain head.
   */
  async init(): Promise<void> {
    const { verity } = this.options.agent;
    this.folder = await DataDir.open({
      dir: this.options.dataDir,
      verity,
      resetState: this.options.resetState,
      log: this.log,
    });
    try {
      this.current = this.state.read();
      this.current.disclosures ??= {};
      this.current.requests ??= {};
      assertCursorWithin(this.current.cursor, await this.rpc(() => verity.provider.getBlockNumber()), this.folder.dir);
      this.me = (await (verity.runner as Signer).getAddress()).toLowerCase();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Releases the data folder's lock (it is also released when the process exits); drops queued requests. */
  close(): void {
    for (const job of this.queue.splice(0)) job.settle.reject(new Error("the provider daemon was closed"));
    this.folder?.close();
    this.folder = undefined;
  }

  /**
   * Queues one inference to run and commit at the next tick (`ProviderAgent.commit`: sealed with the enclave
   * key in TEE mode); resolves to its id and run. Rejects with the error of a failed commit, and with an
   * `EnclaveRefusedError` once the ledger refused the enclave key.
   */
  submit(input: Int8Array, fault?: Fault, options?: CommitOptions): Promise<{ id: string; result: RunResult }> {
    return new Promise((resolve, reject) =>
      this.queue.push({ kind: "single", input, fault, options, settle: { resolve, reject } }),
    );
  }

  /** Queues a batch for the next tick (`ProviderAgent.commitBatch`); settles like `submit`. */
  submitBatch(
    inputs: readonly Int8Array[],
    dataFile: string,
    faults: readonly (Fault | undefined)[] = [],
  ): Promise<{ batchId: string; results: RunResult[]; root: string; header: BatchHeader }> {
    return new Promise((resolve, reject) =>
      this.queue.push({ kind: "batch", inputs, dataFile, faults, settle: { resolve, reject } }),
    );
  }

  /** Requests queued by `submit` / `submitBatch` and not made yet. */
  queued(): number {
    return this.queue.length;
  }

  /** The current state (a copy). */
  snapshot(): ProviderDaemonState {
    return structuredClone(this.current);
  }

  /**
   * One round: find new games against us, answer every open one, claim. When something failed, checks
   * that the deployment still has code, and throws a `FatalDaemonError` if not.
   */
  async tick(): Promise<{ moves: number; resolved: number }> {
    this.troubled = false;
    return checkedTick(
      this.folder,
      () => this.work(),
      () => this.troubled,
    );
  }

  private async work(): Promise<{ moves: number; resolved: number }> {
    const { verity } = this.options.agent;
    const head = await this.rpc(() => verity.provider.getBlockNumber());
    const range = this.options.maxRange ?? 2_000;
    if (head < this.current.cursor) {
      this.troubled = true;
      this.log(`the chain head ${head} is behind the cursor ${this.current.cursor}`);
    }
    while (this.current.cursor < head) {
      const from = this.current.cursor + 1;
      const to = Math.min(head, from + range - 1);
      for (const { disputeId, params } of await this.rpc(() => verity.disputes.scanOpened(from, to))) {
        if (params.provider.toLowerCase() !== this.me || this.current.games[disputeId] !== undefined) continue;
        this.current.games[disputeId] = { params, resolved: false };
        this.current.stats.defended++;
        this.log(`defending dispute ${disputeId} on ${params.target}`);
      }
      if (this.options.fulfill !== undefined) {
        for (const requestId of await this.rpc(() => this.requestsIn(from, to))) {
          this.current.requests![requestId] ??= { status: "pending" };
        }
      }
      for (const { batchId, header } of await this.rpc(() => this.options.agent.disclosureDemands(from, to))) {
        if (this.current.disclosures[batchId] !== undefined) continue;
        this.current.disclosures[batchId] = { header, done: false };
        this.log(`disclosure of batch ${batchId} demanded`);
      }
      this.current.cursor = to;
      this.state.write(this.current);
      this.options.onProgress?.(to, head);
    }

    let moves = await this.answerDisclosures();
    let resolved = 0;
    for (const [disputeId, game] of Object.entries(this.current.games)) {
      if (game.resolved) continue;
      try {
        const action = await this.rpc(() => this.options.agent.answer(disputeId, game.params));
        if (action !== "none") {
          moves++;
          this.log(`dispute ${disputeId}: ${action}`);
        }
        let state = await this.rpc(() => verity.disputes.game(disputeId));
        // A lapsed game: the challenger's move is late (a selection or proof: we win; continuing after our
        // input reveal: refunded), or ours is (a lost trace: we lose the slash, but the rest of our stake
        // is no longer held by an open dispute, which nobody else may bother to end).
        const open = state.phase !== Phase.None && state.phase !== Phase.Resolved;
        if (open && (await this.rpc(() => verity.disputes.now())) > state.deadline) {
          await (await verity.disputes.timeout(game.params)).wait();
          const whose = CHALLENGER_MOVES.has(state.phase) ? "the challenger's" : "our";
          this.log(`dispute ${disputeId}: timeout (${whose} move ${Phase[state.phase]} lapsed)`);
          state = await this.rpc(() => verity.disputes.game(disputeId));
        }
        if (state.phase === Phase.Resolved) {
          game.resolved = true;
          game.outcome = state.outcome;
          resolved++;
          if (state.outcome === Outcome.ProviderWon) this.current.stats.won++;
          else if (state.outcome === Outcome.ChallengerWon) this.current.stats.lost++;
          else this.current.stats.refunded++;
          this.log(`dispute ${disputeId} resolved: ${Outcome[state.outcome]}`);
        }
      } catch (error) {
        this.troubled = true;
        this.log(`dispute ${disputeId}: ${(error as Error).message}`);
      }
    }
    this.state.write(this.current);
    await this.commitQueued();
    if (this.options.fulfill !== undefined) await this.serveRequests();
    if (this.options.autoClaim ?? true) await this.claim();
    return { moves, resolved };
  }

  /** Ids of the oracle's requests for the agent's model made in `[from, to]`. */
  private async requestsIn(from: number, to: number): Promise<string[]> {
    const { agent } = this.options;
    const oracle = agent.verity.oracle.contract;
    const logs = await oracle.queryFilter(oracle.filters.InferenceRequested(undefined, agent.modelId), from, to);
    return logs.map((log) => log.args.requestId as string);
  }

  /**
   * Answers pending requests, settles answered ones once Final. Each request on its own: a revert (someone
   * answered first, the model was deprecated) or a failed read is logged and the next one is served.
   */
  private async serveRequests(): Promise<void> {
    const { agent, fulfill } = this.options;
    const { verity } = agent;
    for (const [requestId, entry] of Object.entries(this.current.requests!)) {
      if (entry.status !== "pending" && entry.status !== "answered") continue;
      try {
        if (entry.status === "answered") {
          const status = await this.rpc(() => verity.ledger.status(entry.commitmentId!));
          if (status === CommitmentStatus.Overturned) {
            // Lost (the stake manager slashed it); the request may be answered again, honestly, once reopened.
            Object.assign(entry, { status: "pending", commitmentId: undefined });
            this.current.stats.lost++;
            this.log(`request ${requestId}: our answer was overturned`);
          } else if (status === CommitmentStatus.Final) {
            await (await verity.oracle.settle(requestId)).wait();
            entry.status = "settled";
            this.log(`request ${requestId}: settled, fee earned`);
          }
          continue;
        }
        const found = await this.rpc(() => verity.oracle.find(requestId));
        if (found === undefined) {
          Object.assign(entry, { status: "skipped", reason: "no such request on the oracle" });
          continue;
        }
        const state = RequestStatus[Number((await this.rpc(() => verity.oracle.contract.stateOf(requestId))).status)];
        const now = await this.rpc(() => verity.disputes.now());
        const skip =
          state === "Settled" || state === "Refunded"
            ? `it is ${state.toLowerCase()}`
            : now > found.request.fulfillBy
              ? "answers closed"
              : found.request.fee < (fulfill!.minFee ?? 0n)
                ? `its fee ${found.request.fee} is below ${fulfill!.minFee}`
                : (found.request.accepts & BigInt(Accept.Window)) === 0n
                  ? "it does not accept challenge-window finality"
                  : undefined;
        if (skip !== undefined) {
          Object.assign(entry, { status: "skipped", reason: skip });
          this.log(`request ${requestId}: skipped (${skip})`);
          continue;
        }
        if (state === "Fulfilled") {
          // Answered already: if that answer was overturned, reopen the request (anyone may; the requester gets
          // the compensation) and answer it; otherwise wait, it may still be overturned before fulfillBy.
          const live = await this.rpc(() => verity.oracle.liveAnswer(requestId));
          if (
            live === undefined ||
            (await this.rpc(() => verity.ledger.status(live.commitmentId))) !== CommitmentStatus.Overturned
          ) {
            continue;
          }
          await (await verity.oracle.reopen(requestId)).wait();
          this.log(`request ${requestId}: reopened after the overturn of ${live.commitmentId}`);
        }
        const { id } = await agent.answerRequest(found, fulfill!.fault?.(requestId));
        Object.assign(entry, { status: "answered", commitmentId: id });
        this.log(`request ${requestId}: answered with ${id}`);
      } catch (error) {
        const name = error instanceof VerityRevertError ? error.errorName : undefined;
        this.log(`request ${requestId}: ${name ?? (error as Error).message}`);
      } finally {
        this.state.write(this.current);
      }
    }
  }

  /**
   * Makes the queued commitments, in order; each failure settles its own request only. A refused enclave
   * key is logged once (the agent then refuses every later request itself, without sending).
   */
  private async commitQueued(): Promise<void> {
    const { agent } = this.options;
    const stats = this.current.stats;
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      try {
        if (job.kind === "single") {
          const made = await agent.commit(job.input, job.fault, job.options);
          this.log(`committed ${made.id}${agent.tee === undefined ? "" : " (TEE-sealed)"}`);
          job.settle.resolve(made);
        } else {
          const made = await agent.commitBatch(job.inputs, job.dataFile, job.faults);
          this.log(
            `committed batch ${made.batchId} of ${made.results.length}${agent.tee === undefined ? "" : " (TEE-sealed)"}`,
          );
          job.settle.resolve(made);
        }
        stats.committed = (stats.committed ?? 0) + 1;
      } catch (error) {
        if (error instanceof EnclaveRefusedError) {
          stats.refused = (stats.refused ?? 0) + 1;
          if (this.loggedRefusal !== error) {
            this.loggedRefusal = error;
            this.log(
              `${error.errorName}: the ledger refused enclave key ${error.enclaveKey} (${error.refusal.message}); ` +
                `no more commitments with it, disputes on the existing ones are still answered`,
            );
          }
        } else {
          this.troubled = true;
          this.log(`commit failed: ${(error as Error).message}`);
        }
        job.settle.reject(error);
      }
    }
    this.state.write(this.current);
  }

  /** Ticks every `intervalMs` until `signal` aborts; a `FatalDaemonError` ends it (rethrown). */
  async run(intervalMs: number, signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted) {
      try {
        await this.tick();
      } catch (error) {
        if (error instanceof FatalDaemonError) throw error;
        this.log(`tick failed: ${(error as Error).message}`);
      }
      await sleep(intervalMs, signal);
    }
  }

  /**
   * Answers each open disclosure demand on our batches (see `ProviderAgent.answerDisclosure`); ends by
   * timeout one whose deadline passed unanswered (the batch is overturned either way; this frees the rest
   * of our stake). One failing demand never stops the others. Returns the demands answered or ended.
   */
  private async answerDisclosures(): Promise<number> {
    const { agent } = this.options;
    let moves = 0;
    for (const [batchId, item] of Object.entries(this.current.disclosures)) {
      if (item.done) continue;
      try {
        if ((await this.rpc(() => agent.answerDisclosure(item.header))) === "disclosed") {
          moves++;
          item.done = true;
          item.outcome = "disclosed";
          this.current.stats.disclosed = (this.current.stats.disclosed ?? 0) + 1;
          this.log(`disclosed batch ${batchId}`);
          continue;
        }
        const c = agent.verity.disclosure;
        const state = await this.rpc(() => c.disclosureOf(batchId));
        if (state.phase === DisclosurePhase.Open && (await this.rpc(() => c.now())) > state.deadline) {
          await (await c.timeout(item.header)).wait();
          moves++;
          this.log(`disclosure of batch ${batchId}: timeout (our answer lapsed)`);
        } else if (state.phase === DisclosurePhase.Open) continue;
        item.done = true;
        item.outcome = state.phase === DisclosurePhase.Disclosed ? "disclosed" : "failed";
      } catch (error) {
        this.troubled = true;
        this.log(`disclosure of batch ${batchId}: ${(error as Error).message}`);
      }
    }
    this.state.write(this.current);
    return moves;
  }

  private async claim(): Promise<void> {
    const { staking, oracle } = this.options.agent.verity;
    if (this.options.fulfill !== undefined && (await this.rpc(() => oracle.contract.creditOf(this.me))) !== 0n) {
      const fees = await (await oracle.withdraw()).wait();
      this.log(`withdrew ${fees} of oracle fees`);
    }
    if ((await this.rpc(() => staking.creditOf(this.me))) === 0n) return;
    const amount = await (await staking.claim()).wait();
    this.current.stats.claimed = (BigInt(this.current.stats.claimed) + amount).toString();
    this.state.write(this.current);
    this.log(`claimed ${amount}`);
  }
}

/** Phases in which the challenger must move: the provider ends them by timeout once their deadline passed. */
const CHALLENGER_MOVES = new Set([Phase.InputRevealed, Phase.AwaitingLayerSelection, Phase.AwaitingNeuronProof]);

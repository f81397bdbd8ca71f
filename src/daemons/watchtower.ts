import path from "node:path";
import type { Signer } from "ethers";
import type { ChallengerAgent, Finding } from "../sdk/agents/challenger.js";
import { Outcome, Phase, toDisputeParams, type DisputeParams } from "../sdk/clients/disputes.js";
import { VerityRevertError } from "../sdk/errors.js";
import { FetchError, type FetchOptions } from "../sdk/fetch.js";
import { leafHashOf } from "../sdk/ids.js";
import { Disclosures } from "./disclosures.js";
import type { CommitmentEvent, SkippedLog } from "../sdk/logs.js";
import { JsonFile } from "../sdk/store.js";
import type { Verity } from "../sdk/verity.js";
import { DataDir, FatalDaemonError, assertCursorWithin, checkedTick } from "./datadir.js";
import { Journal } from "./journal.js";
import type { Logger } from "./log.js";
import { retryingWith, sleep, type RetryOptions } from "./retry.js";

/** A game this watchtower plays. */
export interface TrackedGame {
  params: DisputeParams;
  /** The commitment or `batchId-leafHash` it disputes. */
  targetKey: string;
  resolved: boolean;
  outcome?: Outcome;
  /** Whether its reward was paid (a won game is advanced until it is: a pooled reward must be claimed). */
  rewardPaid?: boolean;
  /** The finding it was opened on (to open it again, same nonce, if a reorg drops the opening). */
  finding?: Finding;
}

/** A batch commitment event. */
export type BatchEvent = Extract<CommitmentEvent, { kind: "batch" }>;

/** A batch of a followed model whose data has not been read yet. */
export interface PendingBatch {
  event: BatchEvent;
  /** Failed reads so far. */
  attempts: number;
  /** When to read again, in ms since the epoch (the delay doubles with every failure). */
  retryAt: number;
  lastError: string;
  /** No read can succeed (the URI is not UTF-8, or its scheme or address is refused): only `onDataMissing` is left. */
  unfetchable?: boolean;
  /** The batch's challenge deadline (unix seconds, from its ledger record), once read. */
  deadline?: number;
  /**
   * The window in force in seconds, once read: the model's challenge window (from its policy), or for a
   * TEE-signed batch its deadline in force less its commit time.
   */
  window?: number;
  /** A TEE-signed batch's commit time (unix seconds, its block's timestamp), once read. */
  committedAt?: number;
  /** Whether `onDataMissing` ran for it (by default: its disclosure was demanded). */
  reportedMissing?: boolean;
  /** A disclosure demand on it is being followed (ours, or someone else's). */
  disclosure?: "demanded" | "following";
}

/** Backoff of unreadable batch data. */
export interface BatchRetryOptions {
  /** Delay after the first failure, doubled after each further one (default 5 s). */
  baseDelayMs?: number;
  /** Longest delay (default 10 min). */
  maxDelayMs?: number;
}

/** What the watchtower keeps on disk. */
export interface WatchtowerState {
  /** Last block whose commitments were fully processed (-1 before the first). */
  cursor: number;
  /** Committed length of the journal of seen commitments. */
  journalBytes: number;
  games: Record<string, TrackedGame>;
  /** Findings whose dispute could not be opened yet, by target key; retried every tick. */
  pending: Record<string, Finding>;
  /** Batches whose data has not been read yet, by batch id; read after each scan, and again with backoff until their window closes. */
  batches: Record<string, PendingBatch>;
  stats: {
    seen: number;
    findings: number;
    opened: number;
    won: number;
    lost: number;
    refunded: number;
    claimed: string;
  };
}

/** Options of a watchtower. */
export interface WatchtowerOptions {
  /** A signer-connected Verity. */
  verity: Verity;
  challenger: ChallengerAgent;
  /** Folder for state.json and seen.log (held exclusively, bound to one chain: see `DataDir`). */
  dataDir: string;
  /** Move the folder's existing state aside and start over. */
  resetState?: boolean;
  /** First block to scan when there is no state yet (default 0). */
  fromBlock?: number;
  /** Blocks per `eth_getLogs` (default 2,000). */
  maxRange?: number;
  log?: Logger;
  retry?: RetryOptions;
  /** Called after each scanned range (for progress bars). */
  onProgress?: (cursor: number, head: number) => void;
  /** Claim credits whenever some are owed (default true). */
  autoClaim?: boolean;
  /** Limits and rules for reading batch data (see `fetchBounded`). */
  fetch?: FetchOptions;
  /** Backoff of batches whose data cannot be read yet. */
  batchRetry?: BatchRetryOptions;
  /**
   * Called once for a batch whose data is still unreadable when half its challenge window is left. By
   * default the watchtower demands the batch's disclosure on-chain (posting the disclosure bond), follows
   * it, and verifies the disclosed leaves (or ends the demand by timeout: the batch is overturned).
   */
  onDataMissing?: (batch: PendingBatch) => void | Promise<void>;
}

/** What one tick did. */
export interface TickReport {
  scannedTo: number;
  seen: number;
  opened: number;
  moves: number;
  resolved: number;
  claimed: bigint;
}

/**
 * The challenger daemon. Each tick: scans commitment events (plain and TEE-signed alike) in bounded block
 * ranges from its cursor, re-executes every commitment of the models it follows, opens a dispute on every
 * mismatch (a TEE-signed one under its binding, until the deadline in force the ledger reports), plays every
 * open game one move forward (or ends it by timeout), and claims what it won. Its cursor, its games and a
 * journal of the commitments it has seen live on disk: a restart loses nothing and repeats nothing.
 * Each log, batch and game is handled on its own: one that fails is logged (and, for a batch whose data
 * cannot be read, retried) without stopping the others. It stops (a `FatalDaemonError`) only when its
 * folder belongs to another chain or the deployment's contracts are gone.
 */
export class Watchtower {
  private readonly state: JsonFile<WatchtowerState>;
  private readonly journal: Journal;
  private readonly log: Logger;
  private readonly rpc: <T>(fn: () => Promise<T>) => Promise<T>;
  private readonly maxRange: number;
  /** Keys of the undecodable logs reported so far (each is reported once). */
  private readonly skipped = new Set<string>();
  private me = "";
  private current!: WatchtowerState;
  private folder?: DataDir;
  /** Whether something failed during the current tick (then the deployment is checked). */
  private troubled = false;
  private readonly disclosures: Disclosures;

  constructor(private readonly options: WatchtowerOptions) {
    this.state = new JsonFile(path.join(options.dataDir, "state.json"), () => ({
      cursor: (options.fromBlock ?? 0) - 1,
      journalBytes: 0,
      games: {},
      pending: {},
      batches: {},
      stats: { seen: 0, findings: 0, opened: 0, won: 0, lost: 0, refunded: 0, claimed: "0" },
    }));
    this.journal = new Journal(path.join(options.dataDir, "seen.log"));
    this.log = options.log ?? (() => {});
    this.rpc = retryingWith(this.log, options.retry);
    this.maxRange = options.maxRange ?? 2_000;
    // The agent reads input and batch URIs with the watchtower's limits unless it was given its own.
    options.challenger.fetchOptions ??= options.fetch;
    options.challenger.maxRange = this.maxRange;
    this.disclosures = new Disclosures(options.challenger, this.log);
  }

  /**
   * Takes the data folder (see `DataDir`), loads the state, drops an interrupted range from the journal,
   * and recovers games from the chain. Throws a `FatalDaemonError` when the folder is held by another
   * process, belongs to another chain or deployment, or has scanned past the chain head.
   */
  async init(): Promise<void> {
    const { verity, dataDir, resetState } = this.options;
    this.folder = await DataDir.open({ dir: dataDir, verity, resetState, log: this.log });
    try {
      this.current = this.state.read();
      this.current.pending ??= {};
      this.current.batches ??= {};
      const head = await this.rpc(() => verity.provider.getBlockNumber());
      assertCursorWithin(this.current.cursor, head, this.folder.dir);
      this.current.journalBytes = this.journal.recover(this.current.journalBytes);
      this.me = (await (verity.runner as Signer).getAddress()).toLowerCase();
      await this.recoverGames(head);
      this.save();
    } catch (error) {
      this.close();
      throw error;
    }
    this.log(`started at block ${this.current.cursor + 1} with ${this.openGames().length} open games`);
  }

  /** Releases the data folder's lock (it is also released when the process exits). */
  close(): void {
    this.folder?.close();
    this.folder = undefined;
  }

  /** The current state (a copy). */
  snapshot(): WatchtowerState {
    return structuredClone(this.current);
  }

  /** Commitment ids (or `batchId` for batches) seen so far, in order, each once. */
  seenIds(): string[] {
    return this.journal.lines().map((l) => l.split(" ")[0]);
  }

  /**
   * One round of work. When something failed, checks that the deployment still has code, and throws a
   * `FatalDaemonError` if not.
   */
  async tick(): Promise<TickReport> {
    this.troubled = false;
    return checkedTick(
      this.folder,
      () => this.work(),
      () => this.troubled,
    );
  }

  private async work(): Promise<TickReport> {
    const report: TickReport = {
      scannedTo: this.current.cursor,
      seen: 0,
      opened: 0,
      moves: 0,
      resolved: 0,
      claimed: 0n,
    };
    const head = await this.rpc(() => this.options.verity.provider.getBlockNumber());
    if (head < this.current.cursor) this.fault(`the chain head ${head} is behind the cursor ${this.current.cursor}`);
    while (this.current.cursor < head) {
      const from = this.current.cursor + 1;
      const to = Math.min(head, from + this.maxRange - 1);
      await this.processRange(from, to, report);
      this.options.onProgress?.(to, head);
    }
    report.scannedTo = this.current.cursor;
    await this.retryBatches(report);
    await this.retryPending(report);
    await this.playGames(report);
    if (this.options.autoClaim ?? true) report.claimed = await this.claim();
    return report;
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

  /** Games not yet resolved. */
  openGames(): [string, TrackedGame][] {
    return Object.entries(this.current.games).filter(([, g]) => !g.resolved);
  }

  private async processRange(from: number, to: number, report: TickReport): Promise<void> {
    const { verity, challenger } = this.options;
    await this.rpc(() => challenger.syncRegistrations({ toBlock: to, maxRange: this.maxRange }));
    const events = await this.rpc(() => verity.ledger.scan(from, to, this.reportSkipped));
    const lines: string[] = [];
    for (const event of events) {
      lines.push(`${event.id} ${event.kind} ${event.modelId} ${event.blockNumber}`);
      if (!challenger.follows(event.modelId)) continue;
      if (event.kind === "batch") {
        // Read after the scan (retryBatches), so that a slow or dead URI never holds up the scan.
        this.current.batches[event.id] ??= { event, attempts: 0, retryAt: 0, lastError: "" };
        continue;
      }
      let findings: Finding[];
      try {
        findings = await challenger.verify(event);
      } catch (error) {
        this.log(`cannot verify ${event.kind} ${event.id}: ${(error as Error).message}`);
        continue;
      }
      await this.disputeAll(findings, report);
    }
    // Commit the range: journal first, then the state that records the journal's length.
    this.current.stats.seen += events.length;
    report.seen += events.length;
    this.current.journalBytes = this.journal.append(lines);
    this.current.cursor = to;
    this.save();
  }

  /** Logs an undecodable ledger log, once per log. */
  private readonly reportSkipped = (skipped: SkippedLog): void => {
    if (this.skipped.has(skipped.key)) return;
    this.skipped.add(skipped.key);
    this.log(`skipped ledger log ${skipped.key} (block ${skipped.blockNumber}): ${skipped.reason}`);
  };

  /**
   * Reads a batch's data (its file through the bounded fetcher, or its on-chain disclosure) and disputes
   * each wrong leaf. Data that cannot be read (or does not match the batch) keeps the batch pending, to
   * be read again with backoff.
   */
  private async checkBatch(batch: PendingBatch, report: TickReport): Promise<void> {
    const { event } = batch;
    let findings: Finding[];
    try {
      if (event.unreadableURI) throw new FetchError("its data URI is not valid UTF-8", true);
      findings = await this.options.challenger.verify(event);
    } catch (error) {
      this.keepPending(batch, error);
      return;
    }
    if (batch.attempts > 0) this.log(`read the data of batch ${event.id} after ${batch.attempts} failed attempts`);
    delete this.current.batches[event.id];
    await this.disputeAll(findings, report);
  }

  private async disputeAll(findings: Finding[], report: TickReport): Promise<void> {
    for (const finding of findings) {
      this.current.stats.findings++;
      await this.dispute(finding, report);
    }
  }

  private keepPending(batch: PendingBatch, error: unknown): void {
    const { baseDelayMs = 5_000, maxDelayMs = 600_000 } = this.options.batchRetry ?? {};
    batch.attempts++;
    batch.lastError = (error as Error).message;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (batch.attempts - 1));
    batch.retryAt = Date.now() + delay;
    if (error instanceof FetchError && error.permanent) batch.unfetchable = true;
    this.current.batches[batch.event.id] = batch;
    const id = batch.event.id;
    this.log(
      batch.unfetchable
        ? `cannot read the data of batch ${id}: ${batch.lastError}`
        : `cannot read the data of batch ${id} yet (attempt ${batch.attempts}, again in ${delay} ms): ${batch.lastError}`,
    );
  }

  /**
   * Reads each pending batch whose backoff is over. Of those still unread, drops the ones whose challenge
   * window closed, and calls `onDataMissing` for those with half their window left.
   */
  private async retryBatches(report: TickReport): Promise<void> {
    const { verity } = this.options;
    let now: number | undefined;
    for (const batch of Object.values(this.current.batches)) {
      const { id, modelId } = batch.event;
      try {
        if (batch.disclosure !== undefined) {
          const findings = await this.disclosures.follow(batch);
          if (findings === undefined) continue;
          delete this.current.batches[id];
          await this.disputeAll(findings, report);
          continue;
        }
        if (!batch.unfetchable && Date.now() >= batch.retryAt) await this.checkBatch(batch, report);
        if (this.current.batches[id] === undefined) continue;
        if (batch.deadline === undefined || batch.window === undefined || batch.event.tee !== undefined) {
          // The deadline in force is the ledger's: for a TEE-signed batch, its shortened window (or an
          // instant batch's accountability period), moved out to the model's full window from the commit
          // once its key or environment lost trust in time. So a TEE batch's is read again on every pass.
          batch.deadline = Number((await this.rpc(() => verity.ledger.recordOf(id))).challengeDeadline);
          if (batch.event.tee === undefined) {
            batch.window = Number((await this.rpc(() => verity.registry.contract.policyOf(modelId))).challengeWindow);
          } else {
            batch.committedAt ??= await this.blockTime(batch.event.blockNumber);
            batch.window = batch.deadline - batch.committedAt;
          }
        }
        now ??= Number(await this.rpc(() => verity.disputes.now()));
        if (now > batch.deadline) {
          delete this.current.batches[id];
          this.log(
            `gave up on batch ${id}: its challenge window closed before its data could be read (${batch.lastError})`,
          );
        } else if (!batch.reportedMissing && batch.deadline - now <= batch.window / 2) {
          const hook = this.options.onDataMissing;
          if (hook !== undefined) await hook(batch);
          else await this.disclosures.demand(batch);
          batch.reportedMissing = true;
        }
      } catch (error) {
        this.fault(`batch ${id}: ${(error as Error).message}`);
      }
    }
    this.save();
  }

  /** The timestamp of block `blockNumber`. */
  private async blockTime(blockNumber: number): Promise<number> {
    const block = await this.rpc(() => this.options.verity.provider.getBlock(blockNumber));
    if (block === null) throw new Error(`block ${blockNumber} is not on the chain`);
    return block.timestamp;
  }

  /**
   * Opens the dispute a finding calls for. A finding that cannot be disputed now (no tokens for the bond,
   * an RPC failure) is kept and retried every tick until its challenge window closes.
   */
  private async dispute(finding: Finding, report: TickReport): Promise<void> {
    const key = targetKeyOf(finding);
    if (this.disputed(key)) {
      delete this.current.pending[key];
      return;
    }
    try {
      const params = await this.options.challenger.open(finding);
      const disputeId = await this.options.verity.disputes.idOf(params);
      this.current.games[disputeId] = { params, targetKey: key, resolved: false, finding };
      delete this.current.pending[key];
      this.current.stats.opened++;
      report.opened++;
      this.log(`disputed ${finding.kind} ${key} (dispute ${disputeId})`);
    } catch (error) {
      const reason = error instanceof VerityRevertError ? error.errorName : "";
      if (reason === "DisputeGameDuplicate") {
        // Our opening landed after all (a re-send with the same nonce): play that game.
        await this.adopt(String((error as VerityRevertError).args[0]), key, finding);
      } else if (reason === "DisputeGameInputAlreadyPublic" && finding.demandInput) {
        // The input became public while we decided (its batch was disclosed): dispute without the demand.
        this.current.pending[key] = { ...finding, demandInput: false };
        this.log(`${key}: its input is public now; disputing it without an input demand`);
      } else if (GIVE_UP.has(reason)) {
        delete this.current.pending[key];
        this.log(`gave up on ${key}: ${(error as Error).message}`);
      } else {
        this.current.pending[key] = finding;
        this.fault(`could not dispute ${key} yet (will retry): ${(error as Error).message}`);
      }
    }
  }

  /** Takes over a game this signer already opened on `key` (found by its `DisputeOpened` log). */
  private async adopt(disputeId: string, key: string, finding: Finding): Promise<void> {
    const opened = await this.findOpened(disputeId);
    if (opened === undefined) {
      this.current.pending[key] = finding;
      this.fault(`dispute ${disputeId} on ${key} exists but its DisputeOpened log was not found (will retry)`);
      return;
    }
    this.current.games[disputeId] = { params: opened, targetKey: key, resolved: false, finding };
    delete this.current.pending[key];
    this.current.stats.opened++;
    this.log(`adopted the existing dispute ${disputeId} on ${key}`);
  }

  /** The params of a game this signer opened, from its `DisputeOpened` log (bounded log ranges). */
  private async findOpened(disputeId: string): Promise<DisputeParams | undefined> {
    const game = this.options.verity.disputes.contract;
    const head = await this.rpc(() => this.options.verity.provider.getBlockNumber());
    for (let from = this.options.fromBlock ?? 0; from <= head; from += this.maxRange) {
      const to = Math.min(head, from + this.maxRange - 1);
      const events = await this.rpc(() => game.queryFilter(game.filters.DisputeOpened(disputeId), from, to));
      if (events.length > 0) return toDisputeParams(events[0].args.params);
    }
    return undefined;
  }

  private async retryPending(report: TickReport): Promise<void> {
    for (const finding of Object.values(this.current.pending)) await this.dispute(finding, report);
    this.save();
  }

  /**
   * Plays each open game one move; advances each won game until its reward is paid (a pooled reward is
   * claimed once every game on the target ended); opens again, with the same nonce, a game a reorg dropped.
   */
  private async playGames(report: TickReport): Promise<void> {
    const { verity, challenger } = this.options;
    const live = Object.entries(this.current.games).filter(([, g]) => !g.resolved || unpaidWin(g));
    for (const [disputeId, game] of live) {
      try {
        const action = await this.rpc(() => challenger.advance(disputeId, game.params));
        if (action !== "none") {
          report.moves++;
          this.log(`dispute ${disputeId}: ${action}`);
        }
        const state = await this.rpc(() => verity.disputes.game(disputeId));
        if (state.phase === Phase.None) {
          await this.reopen(disputeId, game, report);
          continue;
        }
        game.rewardPaid = state.rewardPaid;
        if (state.phase === Phase.Resolved && !game.resolved) {
          game.resolved = true;
          game.outcome = state.outcome;
          report.resolved++;
          if (state.outcome === Outcome.ChallengerWon) this.current.stats.won++;
          else if (state.outcome === Outcome.ProviderWon) this.current.stats.lost++;
          else this.current.stats.refunded++;
          this.log(`dispute ${disputeId} resolved: ${Outcome[state.outcome]}`);
        }
      } catch (error) {
        this.fault(`dispute ${disputeId}: ${(error as Error).message}`);
      }
    }
    this.save();
  }

  /**
   * A game this watchtower opened that the chain does not have (a reorg dropped its opening): opens it
   * again with the same nonce, hence the same id. When its target can no longer be disputed (window
   * closed, overturned) it is forgotten.
   */
  private async reopen(disputeId: string, game: TrackedGame, report: TickReport): Promise<void> {
    if (game.finding === undefined) {
      this.fault(`dispute ${disputeId} on ${game.targetKey} is not on the chain and cannot be reopened (no finding)`);
      return;
    }
    try {
      const params = await this.options.challenger.open(game.finding, game.params.nonce);
      const id = await this.options.verity.disputes.idOf(params);
      if (id !== disputeId) {
        delete this.current.games[disputeId];
        this.current.games[id] = { ...game, params };
      }
      report.moves++;
      this.log(`dispute ${disputeId} vanished (a reorg?): opened it again as ${id}`);
    } catch (error) {
      const reason = error instanceof VerityRevertError ? error.errorName : "";
      if (reason === "DisputeGameDuplicate") return; // it is back (the opening was re-mined)
      if (!GIVE_UP.has(reason)) throw error;
      delete this.current.games[disputeId];
      this.log(`dispute ${disputeId} on ${game.targetKey} vanished and cannot be opened again: ${reason}`);
    }
  }

  private async claim(): Promise<bigint> {
    const { staking } = this.options.verity;
    const credit = await this.rpc(() => staking.creditOf(this.me));
    if (credit === 0n) return 0n;
    const amount = await (await staking.claim()).wait();
    this.current.stats.claimed = (BigInt(this.current.stats.claimed) + amount).toString();
    this.save();
    this.log(`claimed ${amount}`);
    return amount;
  }

  /** Rebuilds the games this signer opened from the chain, so a crash between sending and saving repeats nothing. */
  private async recoverGames(head: number): Promise<void> {
    const { disputes } = this.options.verity;
    const game = disputes.contract;
    for (let from = this.options.fromBlock ?? 0; from <= head; from += this.maxRange) {
      const to = Math.min(head, from + this.maxRange - 1);
      const events = await this.rpc(() =>
        game.queryFilter(game.filters.DisputeOpened(undefined, undefined, this.me), from, to),
      );
      for (const e of events) {
        const id = e.args.disputeId;
        if (this.current.games[id] !== undefined) continue;
        const params = toDisputeParams(e.args.params);
        const key = params.isLeaf
          ? `${params.target}-${leafHashOf(params.inference)}`.toLowerCase()
          : params.target.toLowerCase();
        this.current.games[id] = { params, targetKey: key, resolved: false };
        this.current.stats.opened++;
        this.log(`recovered dispute ${id} from the chain`);
      }
    }
  }

  private disputed(key: string): boolean {
    return Object.values(this.current.games).some((g) => g.targetKey === key);
  }

  /** Logs a failure of one item and marks the tick troubled. */
  private fault(message: string): void {
    this.troubled = true;
    this.log(message);
  }

  private save(): void {
    this.state.write(this.current);
  }
}

/** Reverts after which retrying a finding is pointless. */
const GIVE_UP = new Set([
  "InferenceLedgerChallengeWindowClosed",
  "InferenceLedgerAlreadyOverturned",
  "InferenceLedgerNotOptimistic",
  "DisputeGameUnsupportedModel",
  "DisputeGameInputAlreadyPublic",
]);

/** A won game whose reward was not paid yet (it is claimed once its pool settles). */
function unpaidWin(game: TrackedGame): boolean {
  return game.outcome === Outcome.ChallengerWon && game.rewardPaid !== true;
}

function targetKeyOf(finding: Finding): string {
  if (finding.kind === "single") return finding.id.toLowerCase();
  return `${finding.id}-${leafHashOf(finding.leaf)}`.toLowerCase();
}

import path from "node:path";
import type { Signer } from "ethers";
import type { ChallengerAgent, Finding } from "../sdk/agents/challenger.js";
import { Outcome, Phase, toDisputeParams, type DisputeParams } from "../sdk/clients/disputes.js";
import { VerityRevertError } from "../sdk/errors.js";
import { leafHashOf } from "../sdk/ids.js";
import { JsonFile } from "../sdk/store.js";
import type { Verity } from "../sdk/verity.js";
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
  /** Folder for state.json and seen.log. */
  dataDir: string;
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
 * The challenger daemon. Each tick: scans commitment events in bounded block ranges from its cursor,
 * re-executes every commitment of the models it follows, opens a dispute on every mismatch, plays every
 * open game one move forward (or ends it by timeout), and claims what it won. Its cursor, its games and a
 * journal of the commitments it has seen live on disk: a restart loses nothing and repeats nothing.
 */
export class Watchtower {
  private readonly state: JsonFile<WatchtowerState>;
  private readonly journal: Journal;
  private readonly log: Logger;
  private readonly rpc: <T>(fn: () => Promise<T>) => Promise<T>;
  private readonly maxRange: number;
  private me = "";
  private current!: WatchtowerState;

  constructor(private readonly options: WatchtowerOptions) {
    this.state = new JsonFile(path.join(options.dataDir, "state.json"), () => ({
      cursor: (options.fromBlock ?? 0) - 1,
      journalBytes: 0,
      games: {},
      pending: {},
      stats: { seen: 0, findings: 0, opened: 0, won: 0, lost: 0, refunded: 0, claimed: "0" },
    }));
    this.journal = new Journal(path.join(options.dataDir, "seen.log"));
    this.log = options.log ?? (() => {});
    this.rpc = retryingWith(this.log, options.retry);
    this.maxRange = options.maxRange ?? 2_000;
  }

  /** Loads the state, drops an interrupted range from the journal, and recovers games from the chain. */
  async init(): Promise<void> {
    this.current = this.state.read();
    this.current.pending ??= {};
    this.current.journalBytes = this.journal.recover(this.current.journalBytes);
    this.me = (await (this.options.verity.runner as Signer).getAddress()).toLowerCase();
    await this.recoverGames();
    this.save();
    this.log(`started at block ${this.current.cursor + 1} with ${this.openGames().length} open games`);
  }

  /** The current state (a copy). */
  snapshot(): WatchtowerState {
    return structuredClone(this.current);
  }

  /** Commitment ids (or `batchId` for batches) seen so far, in order, each once. */
  seenIds(): string[] {
    return this.journal.lines().map((l) => l.split(" ")[0]);
  }

  /** One round of work. */
  async tick(): Promise<TickReport> {
    const report: TickReport = {
      scannedTo: this.current.cursor,
      seen: 0,
      opened: 0,
      moves: 0,
      resolved: 0,
      claimed: 0n,
    };
    const head = await this.rpc(() => this.options.verity.provider.getBlockNumber());
    while (this.current.cursor < head) {
      const from = this.current.cursor + 1;
      const to = Math.min(head, from + this.maxRange - 1);
      await this.processRange(from, to, report);
      this.options.onProgress?.(to, head);
    }
    report.scannedTo = this.current.cursor;
    await this.retryPending(report);
    await this.playGames(report);
    if (this.options.autoClaim ?? true) report.claimed = await this.claim();
    return report;
  }

  /** Ticks every `intervalMs` until `signal` aborts. */
  async run(intervalMs: number, signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted) {
      try {
        await this.tick();
      } catch (error) {
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
    const events = await this.rpc(() => verity.ledger.scan(from, to));
    const lines: string[] = [];
    for (const event of events) {
      lines.push(`${event.id} ${event.kind} ${event.modelId} ${event.blockNumber}`);
      if (!challenger.follows(event.modelId)) continue;
      let findings: Finding[];
      try {
        findings = await challenger.verify(event);
      } catch (error) {
        this.log(`cannot verify ${event.kind} ${event.id}: ${(error as Error).message}`);
        continue;
      }
      for (const finding of findings) {
        this.current.stats.findings++;
        await this.dispute(finding, report);
      }
    }
    // Commit the range: journal first, then the state that records the journal's length.
    this.current.stats.seen += events.length;
    report.seen += events.length;
    this.current.journalBytes = this.journal.append(lines);
    this.current.cursor = to;
    this.save();
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
      this.current.games[disputeId] = { params, targetKey: key, resolved: false };
      delete this.current.pending[key];
      this.current.stats.opened++;
      report.opened++;
      this.log(`disputed ${finding.kind} ${key} (dispute ${disputeId})`);
    } catch (error) {
      const reason = error instanceof VerityRevertError ? error.errorName : "";
      if (GIVE_UP.has(reason)) {
        delete this.current.pending[key];
        this.log(`gave up on ${key}: ${(error as Error).message}`);
      } else {
        this.current.pending[key] = finding;
        this.log(`could not dispute ${key} yet (will retry): ${(error as Error).message}`);
      }
    }
  }

  private async retryPending(report: TickReport): Promise<void> {
    for (const finding of Object.values(this.current.pending)) await this.dispute(finding, report);
    this.save();
  }

  private async playGames(report: TickReport): Promise<void> {
    const { verity, challenger } = this.options;
    for (const [disputeId, game] of this.openGames()) {
      try {
        const action = await this.rpc(() => challenger.advance(disputeId, game.params));
        if (action !== "none") {
          report.moves++;
          this.log(`dispute ${disputeId}: ${action}`);
        }
        const state = await this.rpc(() => verity.disputes.game(disputeId));
        if (state.phase === Phase.Resolved) {
          game.resolved = true;
          game.outcome = state.outcome;
          report.resolved++;
          if (state.outcome === Outcome.ChallengerWon) this.current.stats.won++;
          else if (state.outcome === Outcome.ProviderWon) this.current.stats.lost++;
          else this.current.stats.refunded++;
          this.log(`dispute ${disputeId} resolved: ${Outcome[state.outcome]}`);
        }
      } catch (error) {
        this.log(`dispute ${disputeId}: ${(error as Error).message}`);
      }
    }
    this.save();
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
  private async recoverGames(): Promise<void> {
    const { disputes } = this.options.verity;
    const head = await this.rpc(() => this.options.verity.provider.getBlockNumber());
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

  private save(): void {
    this.state.write(this.current);
  }
}

/** Reverts after which retrying a finding is pointless. */
const GIVE_UP = new Set([
  "InferenceLedgerChallengeWindowClosed",
  "InferenceLedgerAlreadyOverturned",
  "DisputeGameUnsupportedEngine",
]);

function targetKeyOf(finding: Finding): string {
  if (finding.kind === "single") return finding.id.toLowerCase();
  return `${finding.id}-${leafHashOf(finding.leaf)}`.toLowerCase();
}

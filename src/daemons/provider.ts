import path from "node:path";
import type { Signer } from "ethers";
import type { ProviderAgent } from "../sdk/agents/provider.js";
import { Outcome, Phase, type DisputeParams } from "../sdk/clients/disputes.js";
import { JsonFile } from "../sdk/store.js";
import type { Logger } from "./log.js";
import { retryingWith, sleep, type RetryOptions } from "./retry.js";

/** What the provider daemon keeps on disk. */
export interface ProviderDaemonState {
  cursor: number;
  games: Record<string, { params: DisputeParams; resolved: boolean; outcome?: Outcome }>;
  stats: { defended: number; won: number; lost: number; refunded: number; claimed: string };
}

/** Options of the provider daemon. */
export interface ProviderDaemonOptions {
  agent: ProviderAgent;
  dataDir: string;
  fromBlock?: number;
  maxRange?: number;
  log?: Logger;
  retry?: RetryOptions;
  autoClaim?: boolean;
  /** Called after each scanned range (for progress bars). */
  onProgress?: (cursor: number, head: number) => void;
}

/**
 * The provider daemon: finds every dispute against this provider's commitments, answers each move before
 * its deadline from the stored traces, ends games whose challenger went silent, and claims the bonds it wins.
 */
export class ProviderDaemon {
  private readonly state: JsonFile<ProviderDaemonState>;
  private readonly log: Logger;
  private readonly rpc: <T>(fn: () => Promise<T>) => Promise<T>;
  private current!: ProviderDaemonState;
  private me = "";

  constructor(private readonly options: ProviderDaemonOptions) {
    this.state = new JsonFile(path.join(options.dataDir, "provider-state.json"), () => ({
      cursor: (options.fromBlock ?? 0) - 1,
      games: {},
      stats: { defended: 0, won: 0, lost: 0, refunded: 0, claimed: "0" },
    }));
    this.log = options.log ?? (() => {});
    this.rpc = retryingWith(this.log, options.retry);
  }

  /** Loads the state. */
  async init(): Promise<void> {
    this.current = this.state.read();
    this.me = (await (this.options.agent.verity.runner as Signer).getAddress()).toLowerCase();
  }

  /** The current state (a copy). */
  snapshot(): ProviderDaemonState {
    return structuredClone(this.current);
  }

  /** One round: find new games against us, answer every open one, claim. */
  async tick(): Promise<{ moves: number; resolved: number }> {
    const { verity } = this.options.agent;
    const head = await this.rpc(() => verity.provider.getBlockNumber());
    const range = this.options.maxRange ?? 2_000;
    while (this.current.cursor < head) {
      const from = this.current.cursor + 1;
      const to = Math.min(head, from + range - 1);
      for (const { disputeId, params } of await this.rpc(() => verity.disputes.scanOpened(from, to))) {
        if (params.provider.toLowerCase() !== this.me || this.current.games[disputeId] !== undefined) continue;
        this.current.games[disputeId] = { params, resolved: false };
        this.current.stats.defended++;
        this.log(`defending dispute ${disputeId} on ${params.target}`);
      }
      this.current.cursor = to;
      this.state.write(this.current);
      this.options.onProgress?.(to, head);
    }

    let moves = 0;
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
        const challengerSilent =
          (state.phase === Phase.AwaitingLayerSelection || state.phase === Phase.AwaitingNeuronProof) &&
          (await verity.disputes.now()) > state.deadline;
        if (challengerSilent) {
          await (await verity.disputes.timeout(game.params)).wait();
          this.log(`dispute ${disputeId}: timeout (challenger silent)`);
          state = await verity.disputes.game(disputeId);
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
        this.log(`dispute ${disputeId}: ${(error as Error).message}`);
      }
    }
    this.state.write(this.current);
    if (this.options.autoClaim ?? true) await this.claim();
    return { moves, resolved };
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

  private async claim(): Promise<void> {
    const { staking } = this.options.agent.verity;
    if ((await this.rpc(() => staking.creditOf(this.me))) === 0n) return;
    const amount = await (await staking.claim()).wait();
    this.current.stats.claimed = (BigInt(this.current.stats.claimed) + amount).toString();
    this.state.write(this.current);
    this.log(`claimed ${amount}`);
  }
}

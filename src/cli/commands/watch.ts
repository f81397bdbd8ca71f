import path from "node:path";
import type { Command } from "commander";
import { consoleLogger } from "../../daemons/log.js";
import { Watchtower } from "../../daemons/watchtower.js";
import { ChallengerAgent, Outcome } from "../../sdk/index.js";
import { CliContext, parseIndex } from "../context.js";
import { runLoop } from "../daemon.js";
import { loadModel } from "../inputs.js";
import { formatAmount, parseAmount } from "../parse.js";

interface WatchOptions {
  model: string[];
  dataDir?: string;
  interval: string;
  once: boolean;
  fromBlock: string;
  maxRange: string;
  bondAllowance: string;
  claim: boolean;
}

/** Registers `verity watch`. */
export function registerWatch(program: Command): void {
  program
    .command("watch")
    .description(
      "run the watchtower: re-execute commitments of the given models, dispute every wrong one, play the games",
    )
    .requiredOption("--model <file...>", "model files to follow")
    .option("--data-dir <dir>", "state folder (default .verity/watchtower/<chainId>-<ledger>)")
    .option("--interval <ms>", "milliseconds between ticks", "5000")
    .option("--once", "run one tick and exit", false)
    .option("--from-block <n>", "first block to scan when there is no state yet", "0")
    .option("--max-range <n>", "blocks per eth_getLogs", "2000")
    .option("--bond-allowance <n>", "keep the stake manager approved for this many tokens of bonds", "100")
    .option("--no-claim", "do not claim credits automatically")
    .action(async (options: WatchOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const intervalMs = parseIndex(options.interval, "--interval");
      const fromBlock = parseIndex(options.fromBlock, "--from-block");
      const maxRange = Math.max(1, parseIndex(options.maxRange, "--max-range"));
      const allowance = parseAmount(options.bondAllowance, "--bond-allowance");
      const models = await Promise.all(options.model.map(loadModel));
      const verity = await ctx.verity();
      const chainId = await ctx.chainId();
      const dataDir = path.resolve(
        options.dataDir ?? path.join(".verity", "watchtower", `${chainId}-${verity.addresses.ledger.toLowerCase()}`),
      );
      const log = consoleLogger("watchtower", ctx.options.quiet);

      const scan = ctx.scanProgress(maxRange);
      const watchtower = new Watchtower({
        verity,
        challenger: new ChallengerAgent(verity, models),
        dataDir,
        fromBlock,
        maxRange,
        log,
        autoClaim: options.claim,
        onProgress: scan.onProgress,
      });
      await watchtower.init();
      const head = await verity.provider.getBlockNumber();
      if (watchtower.snapshot().cursor > head) {
        log(
          `warning: state cursor ${watchtower.snapshot().cursor} is past the chain head ${head}: is ${dataDir} from another chain?`,
        );
      }
      log(`watching ${models.length} model(s) as ${await ctx.address()}, state in ${dataDir}`);

      await runLoop({ intervalMs, once: options.once, log }, async () => {
        if (allowance > 0n) await verity.staking.ensureAllowance(allowance);
        scan.begin(watchtower.snapshot().cursor);
        try {
          const report = await watchtower.tick();
          if (report.seen + report.opened + report.moves + report.resolved > 0 || report.claimed > 0n) {
            log(
              `tick to block ${report.scannedTo}: ${report.seen} seen, ${report.opened} disputed, ${report.moves} moves, ${report.resolved} resolved` +
                (report.claimed > 0n ? `, claimed ${formatAmount(report.claimed)}` : ""),
            );
          }
        } finally {
          scan.end();
        }
      });

      const state = watchtower.snapshot();
      const games = Object.entries(state.games).map(([disputeId, g]) => ({
        disputeId,
        target: g.targetKey,
        resolved: g.resolved,
        outcome: g.outcome === undefined ? undefined : Outcome[g.outcome],
      }));
      const open = games.filter((g) => !g.resolved).length;
      ctx.emit(
        { dataDir, cursor: state.cursor, stats: state.stats, openGames: open, games },
        `watchtower at block ${state.cursor}: ${state.stats.seen} seen, ${state.stats.findings} findings, ${state.stats.opened} disputed, ` +
          `${state.stats.won} won, ${state.stats.lost} lost, ${state.stats.refunded} refunded, ${open} open, claimed ${formatAmount(BigInt(state.stats.claimed))}`,
      );
    });
}

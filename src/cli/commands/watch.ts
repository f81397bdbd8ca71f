import path from "node:path";
import type { Command } from "commander";
import { consoleLogger } from "../../daemons/log.js";
import { Watchtower, type WatchtowerOptions } from "../../daemons/watchtower.js";
import { ChallengerAgent, FileNonceBook, Outcome } from "../../sdk/index.js";
import { meaningContext } from "../errors.js";
import { CliContext } from "../context.js";
import { parseDaemonOptions, resolveDataDir, runLoop, withDaemonOptions, type DaemonCliOptions } from "../daemon.js";
import { loadModel } from "../inputs.js";
import { formatAmount, parseAmount } from "../parse.js";

interface WatchOptions extends DaemonCliOptions {
  model: string[];
  bondAllowance: string;
}

/** The watchtower options the daemon flags set (where to start, log ranges, batch reads, --reset-state). */
export function watchtowerSettings(
  options: DaemonCliOptions,
): Pick<WatchtowerOptions, "fromBlock" | "maxRange" | "fetch" | "resetState"> {
  const { fromBlock, maxRange, fetch, resetState } = parseDaemonOptions(options);
  return { fromBlock, maxRange, fetch, resetState };
}

/** Registers `verity watch`. */
export function registerWatch(program: Command): void {
  withDaemonOptions(program.command("watch"), ".verity/watchtower/<chainId>-<ledger>")
    .description(
      "run the watchtower: re-execute commitments of the given models, dispute every wrong one, play the games",
    )
    .usage("--model <file...> [options]")
    .requiredOption(
      "--model <file...>",
      "(required) model files to follow (every registration of their content, by any publisher)",
    )
    .option("--bond-allowance <n>", "keep the stake manager approved for this many tokens of bonds", "100")
    .addHelpText(
      "after",
      `
Examples:
  $ verity --account 2 watch --model models/mnist-784-128-64-10.json
  $ verity --account 2 watch --model models/mnist-784-128-64-10.json --data-dir .verity/tower --once
  $ verity --rpc https://rpc.example --key-env CHALLENGER_KEY watch --model models/mnist-784-128-64-10.json \\
      --from-block 5000000 --max-range 500`,
    )
    .action(async (options: WatchOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const { intervalMs } = parseDaemonOptions(options);
      const settings = watchtowerSettings(options);
      const allowance = parseAmount(options.bondAllowance, "--bond-allowance");
      const models = await Promise.all(options.model.map(loadModel));
      if (options.dataDir !== undefined) resolveDataDir(options.dataDir, options.dataDir); // before connecting
      const connected = await ctx.verity();
      const chainId = await ctx.chainId();
      const dataDir = resolveDataDir(
        options.dataDir,
        path.join(".verity", "watchtower", `${chainId}-${connected.addresses.ledger.toLowerCase()}`),
      );
      // Opening nonces are journaled with the state: an opening re-sent after a crash or reorg reuses its nonce.
      const verity = connected.connect(connected.runner, new FileNonceBook(path.join(dataDir, "nonces.json")));
      const log = consoleLogger("watchtower", ctx.options.quiet);

      const scan = ctx.scanProgress(settings.maxRange!);
      const watchtower = new Watchtower({
        verity,
        challenger: new ChallengerAgent(verity, models, [], { fetch: settings.fetch, maxRange: settings.maxRange }),
        dataDir,
        ...settings,
        log,
        autoClaim: options.claim,
        onProgress: scan.onProgress,
      });
      await watchtower.init(); // stops on a folder of another chain, or a cursor past the head
      log(`watching ${models.length} model(s) as ${await ctx.address()}, state in ${dataDir}`);

      const meaning = await meaningContext(verity.provider, verity.addresses.token);
      await runLoop({ intervalMs, once: options.once, log, meaning }, async () => {
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

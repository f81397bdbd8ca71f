import path from "node:path";
import type { Command } from "commander";
import { consoleLogger } from "../../daemons/log.js";
import { ProviderDaemon, type ProviderDaemonOptions } from "../../daemons/provider.js";
import { Outcome, ProviderAgent, TraceStore } from "../../sdk/index.js";
import { CliError, meaningContext } from "../errors.js";
import { CliContext, existingPath } from "../context.js";
import { parseDaemonOptions, resolveDataDir, runLoop, withDaemonOptions, type DaemonCliOptions } from "../daemon.js";
import { loadModel, resolveModelId, type ModelIdOptions } from "../inputs.js";
import { formatAmount, parseAmount } from "../parse.js";
import { DEFAULT_TRACE_DIR } from "./commit.js";

interface ProvideOptions extends DaemonCliOptions, ModelIdOptions {
  model: string;
  traceDir: string;
  fulfill?: boolean;
  minFee?: string;
}

/** The provider daemon options the daemon flags set (where to start, log ranges, --reset-state). */
export function providerSettings(
  options: DaemonCliOptions,
): Pick<ProviderDaemonOptions, "fromBlock" | "maxRange" | "resetState"> {
  const { fromBlock, maxRange, resetState } = parseDaemonOptions(options);
  return { fromBlock, maxRange, resetState };
}

/** Registers `verity provide`. */
export function registerProvide(program: Command): void {
  withDaemonOptions(program.command("provide"), ".verity/provider/<chainId>-<address>")
    .description(
      "run the provider daemon: answer every dispute against the signer's commitments from the stored traces",
    )
    .usage("--model <file> [options]")
    .requiredOption("--model <file>", "(required) the model file the commitments were made with")
    .option("--trace-dir <dir>", "traces written by `verity commit`", DEFAULT_TRACE_DIR)
    .option("--model-id <id>", "the registration the commitments were made under (default: the file's only one)")
    .option("--publisher <address>", "the commitments were made under this publisher's registration")
    .option("--fulfill", "also answer the oracle's requests for the model, settle the answers and withdraw the fees")
    .option("--min-fee <amount>", "with --fulfill: answer only requests paying at least this fee (token units)")
    .addHelpText(
      "after",
      `
Run it as the account that committed (the same --account, --key-env or --keystore as \`verity commit\`),
with the traces \`verity commit\` stored (--trace-dir, default ${DEFAULT_TRACE_DIR}).

Examples:
  $ verity --account 1 provide --model models/mnist-784-128-64-10.json
  $ verity --account 1 provide --model models/mnist-784-128-64-10.json --trace-dir .verity/traces --once
  $ verity --account 1 provide --model models/mnist-784-128-64-10.json --fulfill --min-fee 0.5
  $ verity --account 1 provide --model models/mnist-784-128-64-10.json --publisher 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266`,
    )
    .action(async (options: ProvideOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const { intervalMs } = parseDaemonOptions(options);
      const settings = providerSettings(options);
      if (options.minFee !== undefined && !options.fulfill) throw new CliError("--min-fee needs --fulfill");
      const minFee = options.minFee === undefined ? undefined : parseAmount(options.minFee, "--min-fee");
      const model = await loadModel(options.model);
      const traceDir = existingPath(options.traceDir, "trace folder");
      if (options.dataDir !== undefined) resolveDataDir(options.dataDir, options.dataDir); // before connecting
      const verity = await ctx.verity();
      if (options.fulfill && verity.addresses.oracle === undefined) {
        throw new CliError("--fulfill: this deployment has no inference oracle");
      }
      const me = await ctx.address();
      const chainId = await ctx.chainId();
      const dataDir = resolveDataDir(
        options.dataDir,
        path.join(".verity", "provider", `${chainId}-${me.toLowerCase()}`),
      );
      const log = consoleLogger("provider", ctx.options.quiet);

      const scan = ctx.scanProgress(settings.maxRange!);
      const daemon = new ProviderDaemon({
        agent: new ProviderAgent(verity, model, new TraceStore(traceDir), await resolveModelId(verity, model, options)),
        dataDir,
        ...settings,
        log,
        autoClaim: options.claim,
        onProgress: scan.onProgress,
        ...(options.fulfill ? { fulfill: { minFee } } : {}),
      });
      await daemon.init();
      log(`defending commitments of ${me}, traces in ${traceDir}, state in ${dataDir}`);
      if (options.fulfill) {
        log(`answering oracle requests${minFee === undefined ? "" : ` paying at least ${formatAmount(minFee)}`}`);
      }

      const meaning = await meaningContext(verity.provider, verity.addresses.token);
      await runLoop({ intervalMs, once: options.once, log, meaning }, async () => {
        scan.begin(daemon.snapshot().cursor);
        try {
          const report = await daemon.tick();
          if (report.moves + report.resolved > 0) log(`tick: ${report.moves} moves, ${report.resolved} resolved`);
        } finally {
          scan.end();
        }
      });

      const state = daemon.snapshot();
      const games = Object.entries(state.games).map(([disputeId, g]) => ({
        disputeId,
        target: g.params.target,
        resolved: g.resolved,
        outcome: g.outcome === undefined ? undefined : Outcome[g.outcome],
      }));
      const open = games.filter((g) => !g.resolved).length;
      ctx.emit(
        { dataDir, cursor: state.cursor, stats: state.stats, openGames: open, games },
        `provider at block ${state.cursor}: ${state.stats.defended} defended, ${state.stats.won} won, ${state.stats.lost} lost, ` +
          `${state.stats.refunded} refunded, ${open} open, claimed ${formatAmount(BigInt(state.stats.claimed))}`,
      );
    });
}

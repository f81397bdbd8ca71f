/**
 * `verity`: the command line of the Verity protocol, a thin layer over the SDK and the daemons.
 * Every failure is one line on stderr and exit code 1 (`VERITY_DEBUG=1` adds the stack); with `--json`,
 * one JSON document on stdout instead (see `ERRORS_HELP`).
 * @packageDocumentation
 */
import { Command, CommanderError } from "commander";
import { VerityRevertError, toVerityError, type MeaningContext } from "../sdk/errors.js";
import { CliContext, addGlobalOptions, toJson, type GlobalOptions } from "./context.js";
import { PartialFailure, commanderMessage, describeError, errorJson, isHelpExit, meaningContext } from "./errors.js";
import { registerClaim } from "./commands/claim.js";
import { registerCommit } from "./commands/commit.js";
import { registerDeploy } from "./commands/deploy.js";
import { registerDisclose } from "./commands/disclose.js";
import { registerEnv } from "./commands/env.js";
import { registerInfer } from "./commands/infer.js";
import { registerModel } from "./commands/model.js";
import { registerProvide } from "./commands/provide.js";
import { registerStake } from "./commands/stake.js";
import { registerStatus } from "./commands/status.js";
import { registerToken } from "./commands/token.js";
import { registerWatch } from "./commands/watch.js";
import { registerZk } from "./commands/zk.js";

/** What `verity --help` says about failures and JSON output. */
export const ERRORS_HELP = `
Errors:
  A failure prints one line on stderr, "error: ...", and exits with code 1. A contract revert keeps its
  custom error's name and arguments and adds what they mean in token units, dates and durations:
    error: StakeManagerStillUnbonding(0x90F7..., 1802434621): the stake is unbonding until 2027-02-12 12:17 UTC, in 71 days
  A multi-input commit that fails partway prints the ids it committed on stdout first.

JSON (--json):
  Results are one JSON document on stdout. So are failures (exit code 1, nothing on stderr):
    {"error": {"name": "StakeManagerStillUnbonding", "message": "<the error line>", "meaning": "...",
               "args": {"provider": "0x90F7...", "readyAt": 1802434621}, "data": "0x..."}}
  name: the custom error of a revert, CliError (a mistake the CLI found), UsageError (a bad command line),
  or an ethers or Node error code. A commit that fails partway adds "partial": what it committed, in the
  shape of its usual result. In every document, token amounts and integers wider than 48 bits are decimal
  strings, and times (unix seconds) and durations (seconds) are numbers.
`;

/** Builds the `verity` program with every command group. */
export function buildProgram(): Command {
  const program = new Command("verity")
    .description("Verity: verifiable AI inference on EVM chains")
    .version("0.1.0")
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false);
  addGlobalOptions(program);
  registerDeploy(program);
  registerToken(program);
  registerModel(program);
  registerStake(program);
  registerInfer(program);
  registerCommit(program);
  registerWatch(program);
  registerProvide(program);
  registerStatus(program);
  registerDisclose(program);
  registerClaim(program);
  registerEnv(program);
  registerZk(program);
  program.addHelpText("after", ERRORS_HELP);

  // Commander's own errors (unknown command, missing argument) are printed by `main`, like every other.
  const quietCommander = (command: Command) => {
    command.exitOverride();
    command.configureOutput({ outputError: () => {} });
    command.commands.forEach(quietCommander);
  };
  quietCommander(program);
  return program;
}

/**
 * Runs the CLI on `argv` (process.argv shape) and returns the exit code: 0 on success, 1 on any error,
 * which is printed as one `error: ...` line on stderr (with `--json`, as one JSON document on stdout).
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (isHelpExit(error)) return 0;
    const options = program.opts<GlobalOptions>();
    // A command line commander refused may stop before `--json` was parsed.
    const json = options.json === true || (error instanceof CommanderError && argv.includes("--json"));
    const context = await contextFor(error, options);
    if (json) {
      process.stdout.write(`${toJson(errorJson(error, context))}\n`);
    } else {
      if (error instanceof PartialFailure && error.lines.length > 0)
        process.stdout.write(`${error.lines.join("\n")}\n`);
      const message = error instanceof CommanderError ? commanderMessage(error) : describeError(error, context);
      process.stderr.write(`error: ${message}\n`);
    }
    if (process.env.VERITY_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

/**
 * The token units and chain time a revert's meaning needs, read from the node and deployment the options
 * name; empty for other errors (and whatever cannot be read is left out).
 */
async function contextFor(error: unknown, options: GlobalOptions): Promise<MeaningContext> {
  const revert = toVerityError(error instanceof PartialFailure ? error.error : error);
  if (!(revert instanceof VerityRevertError) || typeof options.rpc !== "string") return {};
  try {
    const ctx = new CliContext(options);
    const provider = await ctx.provider();
    const token = await ctx.addresses().then(
      (a) => a.token,
      () => undefined,
    );
    return await meaningContext(provider, token);
  } catch {
    return meaningContext(undefined, undefined);
  }
}

process.on("unhandledRejection", (error) => {
  process.stderr.write(`error: ${describeError(error)}\n`);
  if (process.env.VERITY_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});

const code = await main();
// Daemons and providers may hold timers or sockets open: leave once the output is flushed.
process.stdout.write("", () => process.exit(code));

/**
 * `verity`: the command line of the Verity protocol, a thin layer over the SDK and the daemons.
 * Every failure is one line on stderr and exit code 1 (`VERITY_DEBUG=1` adds the stack).
 * @packageDocumentation
 */
import { Command, CommanderError } from "commander";
import { addGlobalOptions } from "./context.js";
import { describeError, isHelpExit } from "./errors.js";
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
 * which is printed as one `error: ...` line on stderr.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (isHelpExit(error)) return 0;
    const message =
      error instanceof CommanderError
        ? error.message.replace(/^error:\s*/, "").replace(/\s*\n\s*/g, " ")
        : describeError(error);
    process.stderr.write(`error: ${message}\n`);
    if (process.env.VERITY_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
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

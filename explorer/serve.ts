/**
 * `npm run explorer`: serves the read-only Verity explorer on localhost against any node and deployment.
 *
 *   npm run explorer -- --rpc http://127.0.0.1:8545 [--deployment <folder>] [--port 8645] [--bench <file>]
 *
 * Mistakes (no node, no deployment, a bad option) are one line on stderr and exit code 1.
 * @packageDocumentation
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The port `npm run explorer` listens on unless told otherwise. */
export const DEFAULT_PORT = 8645;

/** Options of the command. */
interface ServeOptions {
  rpc: string;
  deployment?: string;
  port: number;
  bench: string;
  fromBlock?: number;
  maxRange: number;
  maxBlocks: number;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`"${value}" is not a non-negative integer`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

/** The command line of the explorer. */
export function buildExplorerProgram(): Command {
  return new Command("explorer")
    .description("read-only web explorer of a Verity deployment: models, providers, commitments, disputes, gas")
    .option(
      "--rpc <url>",
      "JSON-RPC URL of the node (env VERITY_RPC_URL)",
      process.env.VERITY_RPC_URL || process.env.VERITY_RPC || "http://127.0.0.1:8545",
    )
    .option(
      "--deployment <path>",
      "Ignition deployment folder or its deployed_addresses.json (env VERITY_DEPLOYMENT; default: the live deployment of this node under ignition/deployments)",
      process.env.VERITY_DEPLOYMENT,
    )
    .option("--port <n>", "port on 127.0.0.1 (0: any free port)", integer("--port", 0, 65_535), DEFAULT_PORT)
    .option("--bench <file>", "bench results for the gas chart", path.join(ROOT, "bench", "results.json"))
    .option(
      "--from-block <n>",
      "first block the page scans (default: the deployment's first block)",
      integer("--from-block", 0, Number.MAX_SAFE_INTEGER),
    )
    .option("--max-range <n>", "blocks per eth_getLogs", integer("--max-range", 1, 100_000), 2_000)
    .option(
      "--max-blocks <n>",
      "how many blocks back from the head the page scans for events",
      integer("--max-blocks", 1, 10_000_000),
      100_000,
    )
    .showSuggestionAfterError(true);
}

/** Resolves the node and deployment, starts the server and prints its URL; resolves to the exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildExplorerProgram().exitOverride();
  program.configureOutput({ outputError: () => {} });
  try {
    program.parse(argv);
  } catch (error) {
    const e = error as { code?: string; message?: string; exitCode?: number };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
    const message = (e.message ?? String(error)).split("\n")[0];
    process.stderr.write(`${message.startsWith("error: ") ? message : `error: ${message}`}\n`);
    return 1;
  }
  const options = program.opts<ServeOptions>();
  if (!existsSync(path.join(ROOT, "typechain-types", "index.ts"))) {
    process.stderr.write("error: the contracts are not built (no typechain-types/): run `npm run build` first\n");
    return 1;
  }
  // Imported once the build is known to exist: the SDK and the server read the TypeChain bindings.
  const [{ CliError, describeError }, context, { DeploymentError, findDeployment }, server, deployment] =
    await Promise.all([
      import("../src/cli/errors.js"),
      import("../src/cli/context.js"),
      import("../src/sdk/deployments.js"),
      import("./server.js"),
      import("./deployment.js"),
    ]);
  try {
    const provider = await context.connectProvider(options.rpc);
    let found;
    try {
      found = await findDeployment(provider, options.deployment || context.DEPLOYMENTS_ROOT);
    } catch (error) {
      if (error instanceof DeploymentError) throw new CliError(error.message);
      throw error;
    }
    const head = await provider.getBlockNumber();
    const fromBlock =
      options.fromBlock ??
      deployment.journalFirstBlock(found.folder) ??
      (await deployment.codeBlockOf(provider, found.addresses.ledger, head)) ??
      Math.max(0, head - options.maxBlocks + 1);
    provider.destroy();
    const running = await server.startExplorerServer({
      rpcUrl: options.rpc,
      benchFile: path.resolve(options.bench),
      port: options.port,
      config: {
        chainId: found.instance.chainId.toString(),
        genesisHash: found.instance.genesisHash,
        deployment: path.basename(found.folder),
        addresses: found.addresses,
        fromBlock,
        maxRange: options.maxRange,
        maxBlocks: options.maxBlocks,
        rpcHost: new URL(options.rpc).host,
      },
    });
    process.stdout.write(
      `Verity explorer on ${running.url} (chain ${found.instance.chainId}, deployment ${path.basename(found.folder)}, ` +
        `events from block ${fromBlock}); Ctrl-C stops it\n`,
    );
    await new Promise<void>((resolve) => {
      // `on`, not `once`: a second signal (tsx's parent relays them too) must not kill the process mid-close.
      const stop = () => resolve();
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await running.close();
    return 0;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const line =
      e.code === "EADDRINUSE"
        ? `port ${options.port} is in use: pass --port <n> (0 for any free port)`
        : describeError(error);
    process.stderr.write(`error: ${line}\n`);
    if (process.env.VERITY_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}

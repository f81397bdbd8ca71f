/**
 * Stand-in for `verity watch` while the CLI does not exist: the same global flags and `watch` options,
 * running the SDK's Watchtower. The e2e suite prefers `node bin/verity.js watch` whenever it exists.
 *
 *   tsx test/e2e/helpers/watch-runner.ts [--rpc URL] [--deployment f] [--account n] watch --model f
 *     --data-dir d [--interval ms] [--once] [--from-block n] [--max-range n]
 */
import { realpathSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { JsonRpcProvider } from "ethers";
import { consoleLogger } from "../../../src/daemons/log.js";
import { Watchtower } from "../../../src/daemons/watchtower.js";
import { readModelFile } from "../../../src/engine/index.js";
import { ChallengerAgent, Verity } from "../../../src/sdk/index.js";

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rpc: { type: "string", default: "http://127.0.0.1:8545" },
      deployment: { type: "string" },
      account: { type: "string", default: "0" },
      quiet: { type: "boolean", default: false },
      model: { type: "string" },
      "data-dir": { type: "string" },
      interval: { type: "string", default: "1000" },
      once: { type: "boolean", default: false },
      "from-block": { type: "string" },
      "max-range": { type: "string" },
    },
  });
  if (positionals[0] !== "watch") throw new Error(`unsupported command ${positionals.join(" ")} (only watch)`);
  if (values.model === undefined || values["data-dir"] === undefined)
    throw new Error("--model and --data-dir are required");

  const provider = new JsonRpcProvider(values.rpc);
  const signer = await provider.getSigner(Number(values.account));
  const verity = await Verity.connect({ runner: signer, deployment: values.deployment });
  const model = await readModelFile(path.resolve(values.model));
  const log = consoleLogger("watchtower", values.quiet);
  const watchtower = new Watchtower({
    verity,
    challenger: await ChallengerAgent.create(verity, [model]),
    dataDir: values["data-dir"],
    fromBlock: values["from-block"] === undefined ? undefined : Number(values["from-block"]),
    maxRange: values["max-range"] === undefined ? undefined : Number(values["max-range"]),
    log,
  });
  await watchtower.init();
  if (values.once) {
    const report = await watchtower.tick();
    log(`tick: scanned to ${report.scannedTo}, seen ${report.seen}, opened ${report.opened}`);
  } else {
    const stop = new AbortController();
    process.once("SIGTERM", () => stop.abort());
    process.once("SIGINT", () => stop.abort());
    await watchtower.run(Number(values.interval), stop.signal);
    log("stopped");
  }
  provider.destroy();
}

// Mocha loads every .ts under test/: run only when executed directly.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`watch-runner: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}

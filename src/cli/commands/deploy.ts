import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import {
  DEPLOYMENT_IDENTITY_FILE,
  DeploymentError,
  cancunRequiredMessage,
  isMissingOpcodeError,
  planDeployment,
  supportsCancun,
  writeDeploymentIdentity,
  type DeploymentPlan,
} from "../../sdk/deployments.js";
import { addressesFromIgnition } from "../../sdk/index.js";
import { CliContext, DEPLOYMENTS_ROOT, HARDHAT_BIN, REPO_ROOT, existingPath } from "../context.js";
import { CliError } from "../errors.js";
import { parseAddress } from "../parse.js";

/** Chain ids of local development nodes, where Ignition's confirmation prompt is skipped. */
const LOCAL_CHAIN_IDS = new Set([31337n, 1337n]);

interface DeployOptions {
  deploymentId?: string;
  token?: string;
  parameters?: string;
  buildProfile?: string;
  fresh: boolean;
  yes: boolean;
}

/** Registers `verity deploy`. */
export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description("deploy the protocol with Hardhat Ignition (VerityLocal with a test token, or Verity with --token)")
    .option(
      "--deployment-id <id>",
      "Ignition deployment id (default chain-<chainId>, or chain-<chainId>-<genesis> when chain-<chainId> is another chain instance's)",
    )
    .option("--token <address>", "stake an existing ERC-20 (module Verity) instead of deploying a test token")
    .option("--parameters <file>", "Ignition parameters JSON file")
    .option(
      "--build-profile <name>",
      "Hardhat build profile (default: `default` on local chains, whose build tests and `hardhat node` share; `production` elsewhere)",
    )
    .option(
      "--fresh",
      "deploy a new instance even though this node already has a live deployment (the old folder is kept)",
      false,
    )
    .option("--yes", "do not ask for confirmation on a non-local chain", false)
    .addHelpText(
      "after",
      [
        "",
        "Each deployment records the chain instance it belongs to (chain id and genesis block hash) in",
        `${DEPLOYMENT_IDENTITY_FILE} next to Ignition's deployed_addresses.json. Local nodes (hardhat node, anvil) all`,
        "use chain id 31337: when ignition/deployments/chain-31337 belongs to another node (or to an earlier",
        "run of this one), the deployment goes to chain-31337-<first 8 hex digits of the genesis hash>, and",
        "commands find it there. A live deployment is never replaced: deploy stops and says so (--fresh deploys",
        "another one beside it). The chain must support Cancun (the EVM version the contracts are built for).",
        "",
        "Examples:",
        "  verity deploy                                  # test token + protocol on the node at --rpc",
        "  verity deploy --fresh                          # a second deployment on the same node",
        "  verity deploy --rpc <url> --key-env VERITY_PRIVATE_KEY --token <erc20> --parameters p.json --yes",
      ].join("\n"),
    )
    .action(async (options: DeployOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const provider = await ctx.provider();
      const chainId = await ctx.chainId();
      const moduleName = options.token === undefined ? "VerityLocal" : "Verity";
      if (options.deploymentId !== undefined && !/^[a-zA-Z0-9_-]+$/.test(options.deploymentId)) {
        throw new CliError(`--deployment-id ${options.deploymentId}: use letters, digits, - and _ only`);
      }
      if ((await supportsCancun(provider)) === false)
        throw new CliError(cancunRequiredMessage(chainId, ctx.options.rpc));

      let plan: DeploymentPlan;
      try {
        plan = await planDeployment(provider, DEPLOYMENTS_ROOT, {
          deploymentId: options.deploymentId,
          fresh: options.fresh,
        });
      } catch (error) {
        if (error instanceof DeploymentError) throw new CliError(error.message);
        throw error;
      }
      const { deploymentId, folder } = plan;
      const relative = path.relative(process.cwd(), folder) || ".";
      if (plan.action === "live") {
        const since = plan.existing?.identity?.deployedAt;
        throw new CliError(
          `chain ${chainId} at ${ctx.options.rpc} already has a live Verity deployment in ${relative}` +
            (since === undefined ? "" : ` (deployed ${since.slice(0, 16).replace("T", " ")} UTC)`) +
            (options.deploymentId === undefined
              ? ": commands use it; pass --fresh to deploy another one beside it"
              : ": use it (--deployment), or choose another --deployment-id"),
        );
      }

      const scratch = mkdtempSync(path.join(os.tmpdir(), "verity-deploy-"));
      try {
        const local = LOCAL_CHAIN_IDS.has(chainId);
        const profile = options.buildProfile ?? (local ? "default" : "production");
        const args = [
          "--build-profile",
          profile,
          "ignition",
          "deploy",
          path.join("ignition", "modules", `${moduleName}.ts`),
        ];
        args.push("--network", ctx.privateKey() === undefined ? "verity" : "verityKeyed");
        args.push("--deployment-id", deploymentId);
        const parameters = buildParameters(options.parameters, moduleName, options.token);
        if (parameters !== undefined) {
          const file = path.join(scratch, "parameters.json");
          writeFileSync(file, JSON.stringify(parameters, null, 2));
          args.push("--parameters", file);
        }

        const env: NodeJS.ProcessEnv = {
          ...process.env,
          CI: "true",
          VERITY_RPC_URL: ctx.options.rpc,
          PATH: `${path.join(REPO_ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
        };
        const key = ctx.privateKey();
        if (key !== undefined) env.VERITY_PRIVATE_KEY = key;
        const interactive = !local && !options.yes;
        if (interactive && !(process.stdin.isTTY && process.stderr.isTTY)) {
          throw new CliError(`deploying to chain ${chainId} needs confirmation: pass --yes`);
        }
        if (!interactive) env.HARDHAT_IGNITION_CONFIRM_DEPLOYMENT = "true";

        ctx.log(
          `${plan.action === "resume" ? "resuming" : "deploying"} ${moduleName} to chain ${chainId} at ${ctx.options.rpc} (deployment ${deploymentId})`,
        );
        await runHardhat(args, env, { echo: ctx.chatty, interactive, chainId, rpc: ctx.options.rpc });
      } finally {
        rmSync(scratch, { recursive: true, force: true });
        // Recorded once Ignition has run (on chain 31337 it wipes a folder it did not write on this node),
        // also after a failure that left a journal, so that the next `verity deploy` here resumes it.
        if (plan.action === "deploy" && existsSync(folder))
          writeDeploymentIdentity(folder, plan.instance, ctx.options.rpc);
      }

      const file = path.join(folder, "deployed_addresses.json");
      let raw: Record<string, string>;
      try {
        raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
      } catch {
        throw new CliError(`Ignition finished but wrote no ${file}`);
      }
      const addresses = addressesFromIgnition(raw, file);
      const found = new RegExp(`^chain-${chainId}(-|$)`).test(deploymentId);
      ctx.emit(
        {
          chainId,
          genesisHash: plan.instance.genesisHash,
          deploymentId,
          module: moduleName,
          deployment: folder,
          addresses,
        },
        [
          `deployed ${moduleName} on chain ${chainId}`,
          ...Object.entries(addresses).map(([role, address]) => `  ${role.padEnd(13)} ${address}`),
          `deployment: ${relative}` +
            (found ? " (commands on this node find it by default)" : ` (pass --deployment ${relative} to use it)`),
        ],
        { always: true },
      );
    });
}

/** The Ignition parameters: the user's file, plus `Verity.stakingToken` when `--token` is given. */
function buildParameters(file: string | undefined, moduleName: string, token: string | undefined) {
  let parameters: Record<string, Record<string, unknown>> = {};
  if (file !== undefined) {
    try {
      parameters = JSON.parse(readFileSync(existingPath(file, "parameters file"), "utf8")) as typeof parameters;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`${file}: not a JSON parameters file (${(error as Error).message})`);
    }
  }
  if (token !== undefined) {
    parameters[moduleName] = { ...parameters[moduleName], stakingToken: parseAddress(token, "--token") };
  }
  return file === undefined && token === undefined ? undefined : parameters;
}

/**
 * Runs `hardhat <args>` in the repository root. Its output goes to stderr when `echo`, and is kept so
 * that a failure can be reported as the one line that explains it.
 */
function runHardhat(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { echo: boolean; interactive: boolean; chainId: bigint; rpc: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(HARDHAT_BIN, args, {
      cwd: REPO_ROOT,
      env,
      stdio: [options.interactive ? "inherit" : "ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) => reject(new CliError(`cannot run hardhat: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) return resolve();
      if (isMissingOpcodeError(output))
        return reject(new CliError(cancunRequiredMessage(options.chainId, options.rpc)));
      reject(new CliError(`ignition deploy failed: ${failureLine(output) ?? `hardhat exited with code ${code}`}`));
    });
  });
}

/** The line of Hardhat's output that says what went wrong. */
function failureLine(output: string): string | undefined {
  const lines = output
    .split("\n")
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
    .filter(Boolean);
  return (
    lines.find((l) => /^(Error|HardhatError|IgnitionError)\b/.test(l)) ??
    lines.find((l) => /error|failed|cancelled/i.test(l) && !/show-stack-traces/.test(l)) ??
    lines.at(-1)
  );
}

import { existsSync } from "node:fs";
import type { Command } from "commander";
import { modelCommitments } from "../../engine/index.js";
import type { PolicyInput } from "../../sdk/index.js";
import { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { loadModel } from "../inputs.js";
import { formatAmount, parseAmount, parseBytes32, parseSeconds } from "../parse.js";

/** Model status names (contracts/types/Model.sol). */
const MODEL_STATUS = ["None", "Active", "Deprecated", "Revoked"] as const;

interface RegisterOptions {
  challengeWindow?: string;
  responseWindow?: string;
  minStake?: string;
  slash?: string;
  bond?: string;
  uri?: string;
}

/** Registers `verity model register|show|id`. */
export function registerModel(program: Command): void {
  const model = program.command("model").description("the model registry");

  model
    .command("register")
    .description("register a dense-int8-v1 model file; prints its modelId")
    .argument("<model-file>", "model JSON file (e.g. models/mnist-784-128-64-10.json)")
    .option("--challenge-window <s>", "seconds a commitment can be challenged (default 3600)")
    .option("--response-window <s>", "seconds each dispute party has to move (default 3600)")
    .option("--min-stake <n>", "minimum provider stake, token units (default 100)")
    .option("--slash <n>", "amount slashed from a provider proven wrong, token units (default 50)")
    .option("--bond <n>", "challenger bond, token units (default 10)")
    .option("--uri <u>", "metadata URI (default: the model file path)")
    .action(async (file: string, options: RegisterOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const parsed = await loadModel(file);
      const policy: Partial<PolicyInput> = {};
      if (options.challengeWindow !== undefined)
        policy.challengeWindow = parseSeconds(options.challengeWindow, "--challenge-window");
      if (options.responseWindow !== undefined)
        policy.responseWindow = parseSeconds(options.responseWindow, "--response-window");
      if (options.minStake !== undefined) policy.minStake = parseAmount(options.minStake, "--min-stake");
      if (options.slash !== undefined) policy.slashAmount = parseAmount(options.slash, "--slash");
      if (options.bond !== undefined) policy.challengerBond = parseAmount(options.bond, "--bond");
      const verity = await ctx.verity();
      const tx = await verity.registry.registerModel(parsed, { metadataURI: options.uri ?? file, policy });
      const modelId = await tx.wait();
      ctx.emit({ modelId, tx: tx.hash }, modelId, { always: true });
    });

  model
    .command("show")
    .description("the registry record of a model (by id, or by model file)")
    .argument("<model>", "modelId (0x...) or a model file")
    .action(async (idOrFile: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const modelId = await resolveModelId(idOrFile);
      const verity = await ctx.verity({ readOnly: true });
      const m = await verity.registry.get(modelId);
      const accepts = await verity.registry.acceptsCommitments(modelId);
      const record = {
        modelId,
        publisher: m.publisher,
        status: MODEL_STATUS[Number(m.status)] ?? String(m.status),
        version: Number(m.version),
        registeredAt: Number(m.registeredAt),
        acceptsUntil: m.acceptsUntil,
        acceptsCommitments: accepts,
        weightsRoot: m.weightsRoot,
        graphHash: m.graphHash,
        engineId: m.engineId,
        predecessor: m.predecessor,
        successor: m.successor,
        metadataURI: m.metadataURI,
        policy: {
          challengeWindow: Number(m.policy.challengeWindow),
          responseWindow: Number(m.policy.responseWindow),
          minStake: m.policy.minStake,
          slashAmount: m.policy.slashAmount,
          challengerBond: m.policy.challengerBond,
        },
      };
      ctx.emit(
        record,
        [
          `model ${modelId}`,
          `  status          ${record.status}${accepts ? " (accepting commitments)" : " (not accepting commitments)"}`,
          `  version         ${record.version}`,
          `  publisher       ${record.publisher}`,
          `  registered      ${new Date(record.registeredAt * 1000).toISOString()}`,
          `  weightsRoot     ${record.weightsRoot}`,
          `  graphHash       ${record.graphHash}`,
          `  engineId        ${record.engineId}`,
          `  metadataURI     ${record.metadataURI}`,
          `  challengeWindow ${record.policy.challengeWindow} s`,
          `  responseWindow  ${record.policy.responseWindow} s`,
          `  minStake        ${formatAmount(record.policy.minStake)}`,
          `  slashAmount     ${formatAmount(record.policy.slashAmount)}`,
          `  challengerBond  ${formatAmount(record.policy.challengerBond)}`,
        ],
        { always: true },
      );
    });

  model
    .command("id")
    .description("the content-addressed modelId of a model file (off-chain)")
    .argument("<model-file>", "model JSON file")
    .action(async (file: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const c = modelCommitments(await loadModel(file));
      ctx.emit(
        { modelId: c.modelId, weightsRoot: c.weightsRoot, graphHash: c.graphHash, engineId: c.engineId },
        c.modelId,
        { always: true },
      );
    });
}

/** A modelId given directly, or computed from a model file. */
async function resolveModelId(idOrFile: string): Promise<string> {
  if (idOrFile.startsWith("0x")) return parseBytes32(idOrFile, "<model>");
  if (!existsSync(idOrFile)) throw new CliError(`<model>: "${idOrFile}" is neither a 0x modelId nor a model file`);
  return modelCommitments(await loadModel(idOrFile)).modelId;
}

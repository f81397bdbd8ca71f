import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { modelCommitments, modelIdOf, stringifyModel } from "../../engine/index.js";
import { OnnxImportError, importOnnx } from "../../sdk/onnx/index.js";
import type { PolicyInput, Verity } from "../../sdk/index.js";
import { CliContext, parseIndex } from "../context.js";
import { CliError } from "../errors.js";
import { loadModel, resolveModelId } from "../inputs.js";
import { formatAmount, parseAddress, parseAmount, parseBytes32, parseSeconds } from "../parse.js";
import { formatDuration, parseDuration, parseTeeMode } from "./env.js";

/** Model status names (contracts/types/Model.sol). */
const MODEL_STATUS = ["None", "Active", "Deprecated", "Revoked"] as const;

/** TEE mode names (contracts/types/Environment.sol `TeeMode`). */
const TEE_MODE = ["none", "window", "instant"] as const;

interface RegisterOptions {
  challengeWindow?: string;
  responseWindow?: string;
  minStake?: string;
  slash?: string;
  bond?: string;
  uri?: string;
  teeMode?: string;
  teeWindow?: string;
  proofAccepted?: boolean;
}

/** Largest `.onnx` and calibration files `model import` reads. */
const MAX_IMPORT_BYTES = 1 << 30;

/** Registers `verity model register|show|id|registrations|import`. */
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
    .option(
      "--tee-mode <mode>",
      "how enclave-signed commitments settle: none (refused, default), window (a shorter challenge window), instant (final at once, slashable during an accountability period)",
    )
    .option(
      "--tee-window <duration>",
      "window: the shortened challenge window (60 s .. challenge window - 1 s); instant: the accountability period (0 .. 30 d); e.g. 10m, 1h, 7d",
    )
    .option(
      "--proof-accepted",
      "accept commitments settled by a proof (final at once) through a verifier governance approves for the model",
    )
    .addHelpText(
      "after",
      `
Examples:
  $ verity model register models/mnist-784-128-64-10.json
  $ verity model register models/mnist-784-128-64-10.json --min-stake 100 --slash 50 --bond 10 --challenge-window 600
  $ verity model register models/mnist-784-128-64-10.json --tee-mode window --tee-window 10m`,
    )
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
      const teeMode = options.teeMode === undefined ? 0 : parseTeeMode(options.teeMode);
      if (teeMode === 0 && options.teeWindow !== undefined)
        throw new CliError("--tee-window needs --tee-mode window or instant");
      if (teeMode !== 0 && options.teeWindow === undefined) {
        throw new CliError(`--tee-mode ${TEE_MODE[teeMode]} needs --tee-window <duration>`);
      }
      policy.teeMode = teeMode;
      policy.teeWindow = options.teeWindow === undefined ? 0 : parseDuration(options.teeWindow, "--tee-window");
      policy.proofAccepted = options.proofAccepted === true;
      const verity = await ctx.verity();
      const tx = await verity.registry.registerModel(parsed, { metadataURI: options.uri ?? file, policy });
      const modelId = await tx.wait();
      const { contentHash } = modelCommitments(parsed);
      const publisher = await ctx.address();
      ctx.emit(
        { modelId, contentHash, publisher, tx: tx.hash },
        [modelId, ...(ctx.options.quiet ? [] : [`  contentHash ${contentHash}, publisher ${publisher}`])],
        { always: true },
      );
    });

  model
    .command("show")
    .description("the registry record of a model (by id, or by model file and its registration)")
    .argument("<model>", "modelId (0x...) or a model file")
    .option("--publisher <address>", "with a model file: this publisher's registration of it")
    .addHelpText(
      "after",
      `
Examples:
  $ verity model show models/mnist-784-128-64-10.json
  $ verity model show 0x<modelId printed by verity model register>
  $ verity --json model show models/mnist-784-128-64-10.json --publisher 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266`,
    )
    .action(async (idOrFile: string, options: { publisher?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const verity = await ctx.verity({ readOnly: true });
      const modelId = await modelIdFromArgument(verity, idOrFile, options.publisher);
      const m = await verity.registry.get(modelId);
      const accepts = await verity.registry.acceptsCommitments(modelId);
      const bounds = await verity.registry.gasBoundsOf(modelId);
      const environments = await verity.registry.environmentsOf(modelId);
      const teeMode = TEE_MODE[Number(m.policy.teeMode)] ?? String(m.policy.teeMode);
      const record = {
        modelId,
        contentHash: m.contentHash,
        publisher: m.publisher,
        status: MODEL_STATUS[Number(m.status)] ?? String(m.status),
        version: Number(m.version),
        registeredAt: Number(m.registeredAt),
        acceptsUntil: Number(m.acceptsUntil), // seconds, like every time in --json output
        acceptsCommitments: accepts,
        weightsRoot: m.weightsRoot,
        graphHash: m.graphHash,
        engineId: m.engineId,
        optimistic: m.optimistic,
        maxBatchLeaves: Number(m.maxBatchLeaves),
        gasBounds: bounds,
        predecessor: m.predecessor,
        successor: m.successor,
        metadataURI: m.metadataURI,
        policy: {
          challengeWindow: Number(m.policy.challengeWindow),
          responseWindow: Number(m.policy.responseWindow),
          minStake: m.policy.minStake,
          slashAmount: m.policy.slashAmount,
          challengerBond: m.policy.challengerBond,
          teeMode,
          teeWindow: Number(m.policy.teeWindow),
          proofAccepted: m.policy.proofAccepted,
        },
        environments,
      };
      ctx.emit(
        record,
        [
          `model ${modelId}`,
          `  status          ${record.status}${accepts ? " (accepting commitments)" : " (not accepting commitments)"}`,
          `  version         ${record.version}`,
          `  contentHash     ${record.contentHash}`,
          `  publisher       ${record.publisher}`,
          `  registered      ${new Date(record.registeredAt * 1000).toISOString()}`,
          `  weightsRoot     ${record.weightsRoot}`,
          `  graphHash       ${record.graphHash}`,
          `  engineId        ${record.engineId}${record.optimistic ? "" : " (not optimistic: commitments refused)"}`,
          `  maxBatchLeaves  ${record.maxBatchLeaves}`,
          `  worst move gas  ${bounds.worstHonestMove}`,
          `  metadataURI     ${record.metadataURI}`,
          `  challengeWindow ${record.policy.challengeWindow} s`,
          `  responseWindow  ${record.policy.responseWindow} s`,
          `  minStake        ${formatAmount(record.policy.minStake)}`,
          `  slashAmount     ${formatAmount(record.policy.slashAmount)}`,
          `  challengerBond  ${formatAmount(record.policy.challengerBond)}`,
          `  TEE mode        ${teeMode}${
            teeMode === "window"
              ? ` (TEE-sealed commitments final after ${formatDuration(record.policy.teeWindow)})`
              : teeMode === "instant"
                ? ` (TEE-sealed commitments final at once, slashable for ${formatDuration(record.policy.teeWindow)})`
                : ""
          }`,
          `  proofs          ${record.policy.proofAccepted ? "accepted (final at once, through the approved verifier)" : "refused"}`,
          ...(environments.length === 0 && teeMode === "none"
            ? []
            : [`  environments    ${environments.length === 0 ? "none allowed" : environments.join(", ")}`]),
        ],
        { always: true },
      );
    });

  model
    .command("id")
    .description("the content hash of a model file (off-chain), and its modelId for a publisher")
    .argument("<model-file>", "model JSON file")
    .option("--publisher <address>", "also print the modelId this publisher's registration has")
    .addHelpText(
      "after",
      `
Examples:
  $ verity model id models/mnist-784-128-64-10.json
  $ verity model id models/mnist-784-128-64-10.json --publisher 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266`,
    )
    .action(async (file: string, options: { publisher?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const c = modelCommitments(await loadModel(file));
      const publisher = options.publisher === undefined ? undefined : parseAddress(options.publisher, "--publisher");
      const modelId = publisher === undefined ? undefined : modelIdOf(publisher, c.contentHash);
      ctx.emit(
        {
          contentHash: c.contentHash,
          weightsRoot: c.weightsRoot,
          graphHash: c.graphHash,
          engineId: c.engineId,
          ...(modelId === undefined ? {} : { publisher, modelId }),
        },
        modelId === undefined ? c.contentHash : [c.contentHash, modelId],
        { always: true },
      );
    });

  model
    .command("registrations")
    .description("every registration of a model file's content, by any publisher (from ModelRegistered logs)")
    .argument("<model-file>", "model JSON file")
    .option("--from-block <n>", "first block to search", "0")
    .option("--max-range <n>", "blocks per eth_getLogs", "2000")
    .addHelpText(
      "after",
      `
Examples:
  $ verity model registrations models/mnist-784-128-64-10.json
  $ verity --rpc https://rpc.example model registrations models/mnist-784-128-64-10.json --from-block 5000000 --max-range 500`,
    )
    .action(async (file: string, options: { fromBlock: string; maxRange: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const { contentHash } = modelCommitments(await loadModel(file));
      const verity = await ctx.verity({ readOnly: true });
      const registrations = await verity.registry.registrationsOf(contentHash, {
        fromBlock: parseIndex(options.fromBlock, "--from-block"),
        maxRange: Math.max(1, parseIndex(options.maxRange, "--max-range")),
      });
      ctx.emit(
        { contentHash, registrations },
        [
          `${registrations.length} registration(s) of content ${contentHash}`,
          ...registrations.map(
            (r) => `  ${r.modelId} by ${r.publisher} (version ${r.version}, block ${r.blockNumber})`,
          ),
        ],
        { always: true },
      );
    });

  model
    .command("import")
    .description("import an ONNX MLP: extract its dense layers, check the registry's bounds, quantize to int8")
    .argument("<model.onnx>", "ONNX file (Gemm/MatMul+Add/Relu chain, as PyTorch, tf2onnx or skl2onnx write it)")
    .requiredOption("--calibration <file>", "JSON array of float input vectors, one per sample (docs/onnx-import.md)")
    .requiredOption("-o, --out <model.json>", "dense-int8-v1 model file to write")
    .option("--name <name>", "model name stored in the file (not committed on-chain)")
    .option("--force", "overwrite --out if it exists", false)
    .addHelpText(
      "after",
      `
Examples:
  $ verity model import mlp.onnx --calibration calibration.json -o models/mlp.json
  $ verity model register models/mlp.json`,
    )
    .action(
      (
        file: string,
        options: { calibration: string; out: string; name?: string; force: boolean },
        command: Command,
      ) => {
        const ctx = CliContext.of(command);
        if (existsSync(options.out) && !options.force) {
          throw new CliError(`--out: ${options.out} exists (pass --force to overwrite it)`);
        }
        const bytes = readLimited(file, "<model.onnx>");
        const started = performance.now();
        const calibration = readLimited(options.calibration, "--calibration").toString("utf8");
        let result;
        try {
          result = importOnnx(bytes, calibration, {
            name: options.name,
            source: path.basename(file),
          });
        } catch (error) {
          if (error instanceof OnnxImportError) throw new CliError(`${file}: ${error.message}`);
          throw error;
        }
        writeFileSync(options.out, stringifyModel(result.model));
        const seconds = (performance.now() - started) / 1000;
        const { contentHash } = modelCommitments(result.model);
        const layers = result.model.layers.map((l) => l.spec);
        ctx.emit(
          {
            out: options.out,
            contentHash,
            layers,
            input: result.chain.input,
            inputScale: result.inputScale,
            percentile: result.percentile,
            calibrationInputs: (result.model.metadata?.quantization as { calibrationInputs: number }).calibrationInputs,
            calibrationAgreement: result.calibrationAgreement,
            worstHonestMove: { move: result.gas.worst.move, gas: result.gas.worst.gas },
            providerGame: result.gas.providerGame,
            challengerGame: result.gas.challengerGame,
            notes: result.chain.notes,
            seconds: Number(seconds.toFixed(3)),
          },
          [
            `wrote ${options.out}: ${layers.map((l) => l.inDim).join("-")}-${layers[layers.length - 1].outDim} int8 MLP`,
            ...(ctx.options.quiet
              ? []
              : [
                  `  contentHash     ${contentHash}`,
                  `  input           ${result.chain.input.name} ${result.chain.input.shape}, x = round(${result.inputScale} * v)`,
                  ...layers.map(
                    (l, i) =>
                      `  layer ${i + 1}         ${l.inDim} -> ${l.outDim}, multiplier ${l.multiplier}, shift ${l.shift}${l.relu ? ", relu" : ""}`,
                  ),
                  `  calibration     percentile ${result.percentile}, int8 argmax = float argmax on ${(100 * result.calibrationAgreement).toFixed(2)}% of the inputs`,
                  `  worst move gas  ${result.gas.worst.gas} (${result.gas.worst.move}; the registry's bound is 8000000)`,
                  ...result.chain.notes.map((n) => `  note: ${n}`),
                ]),
          ],
          { always: true },
        );
      },
    );
}

/** A modelId given directly, or the registration of a model file (its only one, or `--publisher`'s). */
async function modelIdFromArgument(verity: Verity, idOrFile: string, publisher: string | undefined): Promise<string> {
  if (idOrFile.startsWith("0x")) {
    if (publisher !== undefined) throw new CliError("--publisher applies to a model file, not a modelId");
    return parseBytes32(idOrFile, "<model>");
  }
  if (!existsSync(idOrFile)) throw new CliError(`<model>: "${idOrFile}" is neither a 0x modelId nor a model file`);
  return resolveModelId(verity, await loadModel(idOrFile), { publisher });
}

/** A file's bytes, refused with one line when missing or larger than `MAX_IMPORT_BYTES`. */
function readLimited(file: string, what: string): Buffer {
  if (!existsSync(file)) throw new CliError(`${what}: ${file} does not exist`);
  const size = statSync(file).size;
  if (size > MAX_IMPORT_BYTES)
    throw new CliError(`${what}: ${file} is ${size} bytes, more than the ${MAX_IMPORT_BYTES} read`);
  return readFileSync(file);
}

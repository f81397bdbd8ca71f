import type { DenseInt8Model } from "../../engine/index.js";

/** One dense layer in floating point: `y = relu?(W x + b)`, `W` row-major (`outDim` rows of `inDim`). */
export interface FloatLayer {
  /** Input width. */
  inDim: number;
  /** Output width. */
  outDim: number;
  /** `outDim * inDim` weights, row `j` holds neuron `j`'s weights. */
  weights: Float64Array;
  /** `outDim` biases. */
  biases: Float64Array;
  /** Whether a ReLU follows the layer. */
  relu: boolean;
}

/** A chain of dense layers in floating point: what the importer extracts from an ONNX graph. */
export interface FloatMlp {
  /** Layers in order; layer `l + 1` takes layer `l`'s output. */
  layers: FloatLayer[];
}

/**
 * Evaluates the chain in double precision, summing each neuron's products in index order after its bias.
 * Double, not float32, is the reference: float32 results depend on the summation order of the runtime.
 *
 * @param mlp - The chain.
 * @param input - `layers[0].inDim` values.
 * @returns Every layer's output; the last is the model's output (its logits for a classifier).
 * @throws RangeError when the input has the wrong length.
 */
export function evaluateLayers(mlp: FloatMlp, input: ArrayLike<number>): Float64Array[] {
  if (input.length !== mlp.layers[0].inDim) {
    throw new RangeError(`input length ${input.length} != inDim ${mlp.layers[0].inDim} of layer 1`);
  }
  let x = Float64Array.from(input);
  const outputs: Float64Array[] = [];
  for (const { inDim, outDim, weights, biases, relu } of mlp.layers) {
    const y = new Float64Array(outDim);
    for (let j = 0, o = 0; j < outDim; j++, o += inDim) {
      let s = biases[j];
      for (let k = 0; k < inDim; k++) s += weights[o + k] * x[k];
      y[j] = relu && s < 0 ? 0 : s;
    }
    outputs.push(y);
    x = y;
  }
  return outputs;
}

/**
 * The chain's output for one input, in double precision (see `evaluateLayers`).
 *
 * @param mlp - The chain.
 * @param input - `layers[0].inDim` values.
 * @returns The last layer's output.
 */
export function evaluate(mlp: FloatMlp, input: ArrayLike<number>): Float64Array {
  const outputs = evaluateLayers(mlp, input);
  return outputs[outputs.length - 1];
}

/**
 * The float twin of an int8 model: the MLP whose activations are the int8 model's divided by
 * `inputScale` (before rounding and clamping). With `m_l = multiplier_l / 2^shift_l`, layer `l` gets
 * weights `m_l * W_q` and biases `m_l * b_q / inputScale`: then `W_f a + b_f = m_l (W_q q + b_q) / inputScale`
 * when `a = q / inputScale`, which is what the engine rounds and clamps. ReLU commutes with the positive
 * scale, so the twin classifies like the int8 model up to rounding.
 *
 * @param model - A valid int8 model.
 * @param inputScale - The model's input encoding `x = round(inputScale * v)` (127 for the shipped MNIST model).
 * @returns The float MLP.
 */
export function dequantize(model: DenseInt8Model, inputScale: number): FloatMlp {
  return {
    layers: model.layers.map(({ spec, weights, biases }) => {
      const m = spec.multiplier / 2 ** spec.shift;
      return {
        inDim: spec.inDim,
        outDim: spec.outDim,
        weights: Float64Array.from(weights, (w) => w * m),
        biases: Float64Array.from(biases, (b) => (b * m) / inputScale),
        relu: spec.relu,
      };
    }),
  };
}

import { forwardLayer, hashVector, traceRoot, type DenseInt8Model, type RunResult } from "../engine/index.js";

/** Where a dishonest provider tampers with an inference: one neuron of one layer gets `delta` added. */
export interface Fault {
  /** 1-based layer whose output is altered. */
  layer: number;
  /** 0-based neuron of that layer. */
  neuron: number;
  /** Added to the neuron's int8 output (wrapped into [-128, 127], never a no-op). */
  delta?: number;
}

/**
 * Runs an inference the way a cheating provider would: computes honestly, alters one neuron of one layer,
 * then carries the altered activation forward, so the trace is self-consistent but wrong from that layer on.
 * Used by tests and the demo to inject fraud that only the dispute game can catch.
 */
export function runWithFault(model: DenseInt8Model, input: Int8Array, fault: Fault): RunResult {
  const { layer, neuron } = fault;
  if (layer < 1 || layer > model.layers.length)
    throw new RangeError(`fault layer ${layer} outside 1..${model.layers.length}`);
  const outDim = model.layers[layer - 1].spec.outDim;
  if (neuron < 0 || neuron >= outDim) throw new RangeError(`fault neuron ${neuron} outside 0..${outDim - 1}`);
  const delta = fault.delta ?? 1;
  if (delta % 256 === 0) throw new RangeError("fault delta must change the value");

  const activations: Int8Array[] = [input.slice()];
  let x = activations[0];
  for (let l = 1; l <= model.layers.length; l++) {
    x = forwardLayer(model.layers[l - 1], x);
    if (l === layer) x[neuron] = ((((x[neuron] + delta + 128) % 256) + 256) % 256) - 128;
    activations.push(x);
  }
  const layerHashes = activations.map(hashVector);
  return {
    output: x,
    activations,
    layerHashes,
    inputHash: layerHashes[0],
    outputHash: layerHashes[layerHashes.length - 1],
    traceRoot: traceRoot(layerHashes),
  };
}

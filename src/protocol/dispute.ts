import { vectorToHex, type DenseInt8Model, type Hex, type RunResult, type WeightsTree } from "../engine/index.js";

/**
 * The arguments of `DisputeGame.proveNeuron`'s `NeuronProof`, ready for the TypeChain binding. The game
 * recorded the trace and the revealed activation's hash, so only the two vectors travel again.
 */
export interface NeuronProofArgs {
  input: Hex;
  output: Hex;
  neuron: number;
  bias: number;
  row: Hex;
  rowProof: Hex[];
}

/**
 * The layer a challenger disputes: the first `l >= 1` whose claimed hash differs from the honest one.
 * @throws Error when the claimed trace equals the honest trace (there is nothing to dispute).
 */
export function firstDisputedLayer(claimedLayerHashes: readonly string[], honest: RunResult): number {
  if (claimedLayerHashes[0]?.toLowerCase() !== honest.layerHashes[0].toLowerCase()) {
    throw new Error("the claimed trace is about a different input");
  }
  const layers = Math.min(claimedLayerHashes.length, honest.layerHashes.length);
  for (let l = 1; l < layers; l++) {
    if (claimedLayerHashes[l].toLowerCase() !== honest.layerHashes[l].toLowerCase()) return l;
  }
  // A trace with the wrong number of layers is structural fraud at any layer: dispute the first.
  if (claimedLayerHashes.length !== honest.layerHashes.length) return 1;
  throw new Error("the claimed trace matches the honest execution: no layer to dispute");
}

/**
 * Builds the challenger's final move: layer `layer` recomputed at the first neuron where the provider's
 * revealed activation differs from the honest one. `previous` is layer `layer - 1`'s vector as committed
 * (for layer 1 the committed input bytes, which may be malformed: the contract then proves structural
 * fraud); it defaults to the honest activation.
 */
export function buildNeuronProof(
  model: DenseInt8Model,
  tree: WeightsTree,
  honest: RunResult,
  layer: number,
  claimedActivation: Int8Array,
  previous: Int8Array = honest.activations[layer - 1],
): NeuronProofArgs {
  const expected = honest.activations[layer];
  let neuron = 0;
  if (claimedActivation.length === expected.length) {
    neuron = expected.findIndex((v, j) => v !== claimedActivation[j]);
    if (neuron < 0) throw new Error(`layer ${layer}: the revealed activation equals the honest one`);
  }
  const row = tree.proof(layer, Math.min(neuron, model.layers[layer - 1].spec.outDim - 1));
  return {
    input: vectorToHex(previous),
    output: vectorToHex(claimedActivation),
    neuron: row.neuron,
    bias: row.bias,
    row: row.row,
    rowProof: row.proof,
  };
}

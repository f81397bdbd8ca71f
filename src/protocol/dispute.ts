import {
  graphOf,
  vectorToHex,
  type DenseInt8Model,
  type Hex,
  type LayerSpec,
  type RunResult,
  type WeightsTree,
} from "../engine/index.js";

/** The arguments of `DisputeGame.proveNeuron`'s `NeuronProof`, ready for the TypeChain binding. */
export interface NeuronProofArgs {
  layerHashes: Hex[];
  graph: LayerSpec[];
  weightsRoot: Hex;
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
 * revealed activation differs from the honest one (any neuron when the activation has the wrong length,
 * which the contract treats as structural fraud).
 */
export function buildNeuronProof(
  model: DenseInt8Model,
  tree: WeightsTree,
  honest: RunResult,
  claimedLayerHashes: readonly Hex[],
  layer: number,
  claimedActivation: Int8Array,
): NeuronProofArgs {
  const expected = honest.activations[layer];
  let neuron = 0;
  if (claimedActivation.length === expected.length) {
    neuron = expected.findIndex((v, j) => v !== claimedActivation[j]);
    if (neuron < 0) throw new Error(`layer ${layer}: the revealed activation equals the honest one`);
  }
  const row = tree.proof(layer, Math.min(neuron, model.layers[layer - 1].spec.outDim - 1));
  return {
    layerHashes: [...claimedLayerHashes],
    graph: graphOf(model),
    weightsRoot: tree.root,
    input: vectorToHex(honest.activations[layer - 1]),
    output: vectorToHex(claimedActivation),
    neuron: row.neuron,
    bias: row.bias,
    row: row.row,
    rowProof: row.proof,
  };
}

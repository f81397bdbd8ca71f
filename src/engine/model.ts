import { ENGINE_ID } from "./constants.js";
import { contentHashOf, graphHash, graphOf, modelIdOf } from "./hash.js";
import type { DenseInt8Model, Hex, LayerSpec } from "./types.js";
import { WeightsTree } from "./weights.js";

/** Everything a model is registered with on-chain. */
export interface ModelCommitments {
  /** Layer specs 1..L. */
  graph: LayerSpec[];
  /** `keccak256(abi.encode(graph))`. */
  graphHash: Hex;
  /** Root of the weights tree. */
  weightsRoot: Hex;
  /** `keccak256("verity.dense-int8.v1")`. */
  engineId: Hex;
  /** `keccak256(abi.encode(weightsRoot, graphHash, engineId))`; the model id also binds the publisher. */
  contentHash: Hex;
  /** The weights tree, for row proofs. */
  tree: WeightsTree;
}

/**
 * Computes a model's graph hash, weights root and model id (and keeps its weights tree).
 *
 * @param model - A valid model.
 * @returns The commitments.
 */
export function modelCommitments(model: DenseInt8Model): ModelCommitments {
  const graph = graphOf(model);
  const tree = WeightsTree.of(model);
  const gh = graphHash(graph);
  return {
    graph,
    graphHash: gh,
    weightsRoot: tree.root,
    engineId: ENGINE_ID,
    contentHash: contentHashOf(tree.root, gh),
    tree,
  };
}

/**
 * The id of a model registered by `publisher`: `keccak256(abi.encode(publisher, contentHash))`.
 *
 * @param model - A valid model.
 * @param publisher - The registering address.
 * @returns The model id.
 */
export function modelIdFor(model: DenseInt8Model, publisher: string): Hex {
  return modelIdOf(publisher, modelCommitments(model).contentHash);
}

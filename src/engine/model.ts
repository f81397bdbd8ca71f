import { ENGINE_ID } from "./constants.js";
import { graphHash, graphOf, modelIdOf } from "./hash.js";
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
  /** `keccak256(abi.encode(weightsRoot, graphHash, engineId))`. */
  modelId: Hex;
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
  return { graph, graphHash: gh, weightsRoot: tree.root, engineId: ENGINE_ID, modelId: modelIdOf(tree.root, gh), tree };
}

/**
 * The model id of a model: `keccak256(abi.encode(weightsRoot, graphHash, ENGINE_ID))`.
 *
 * @param model - A valid model.
 * @returns The model id.
 */
export function modelId(model: DenseInt8Model): Hex {
  return modelCommitments(model).modelId;
}

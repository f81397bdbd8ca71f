/**
 * The registry's check of a model's gas bound (`ModelRegistry._checkGame`) for the importer, over the
 * TypeScript mirror of `GasBounds.ofModel` in src/protocol/gasBounds.ts.
 */
import type { LayerSpec } from "../../engine/index.js";
import { MAX_HONEST_MOVE_GAS, gasBoundsOfModel, type ModelGasBounds } from "../../protocol/gasBounds.js";
import { OnnxImportError } from "./errors.js";

export { gasBoundsOfModel, maxBatchLeaves, type ModelGasBounds, type MoveBound } from "../../protocol/gasBounds.js";

/**
 * Refuses a model the registry would refuse for its gas bound (`ModelRegistryGasBoundExceeded`).
 *
 * @param layers - The layer specs.
 * @returns The bounds, when within.
 * @throws OnnxImportError naming the move and its gas.
 */
export function checkGasBound(layers: readonly Pick<LayerSpec, "inDim" | "outDim">[]): ModelGasBounds {
  const bounds = gasBoundsOfModel(layers);
  if (bounds.worst.gas > MAX_HONEST_MOVE_GAS) {
    const fmt = (n: bigint) => n.toLocaleString("en-US");
    throw new OnnxImportError(
      `the model breaks the registry's gas bound: ${bounds.worst.move} needs ${fmt(bounds.worst.gas)} gas, above MAX_HONEST_MOVE_GAS ${fmt(MAX_HONEST_MOVE_GAS)} (ModelRegistryGasBoundExceeded)`,
    );
  }
  return bounds;
}

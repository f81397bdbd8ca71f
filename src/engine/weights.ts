import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { AbiCoder } from "ethers";
import type { DenseInt8Model, Hex } from "./types.js";
import { vectorToHex } from "./vector.js";

/** A weights-tree leaf value: `(uint32 layer, uint32 neuron, int32 bias, bytes row)`; layer 1-based, neuron 0-based. */
export type WeightLeaf = [layer: number, neuron: number, bias: number, row: Hex];

/** The StandardMerkleTree leaf encoding of the weights tree. */
export const WEIGHT_LEAF_ENCODING: readonly string[] = ["uint32", "uint32", "int32", "bytes"];

/** One neuron's row with everything `DenseInt8.verifyRow` needs. */
export interface RowProof {
  /** 1-based layer number. */
  layer: number;
  /** 0-based neuron index. */
  neuron: number;
  /** The neuron's bias. */
  bias: number;
  /** The neuron's weight row as hex bytes. */
  row: Hex;
  /** The leaf hash, `keccak256(keccak256(abi.encode(layer, neuron, bias, row)))`. */
  leaf: Hex;
  /** Sibling hashes from the leaf to the root. */
  proof: Hex[];
}

/**
 * The leaf hash of one neuron, as `DenseInt8.weightLeaf` and OpenZeppelin's StandardMerkleTree compute it.
 *
 * @param layer - 1-based layer number.
 * @param neuron - 0-based neuron index.
 * @param bias - int32 bias.
 * @param row - Weight row (vector or hex bytes).
 * @returns `keccak256(keccak256(abi.encode(layer, neuron, bias, row)))`.
 */
export function weightLeafHash(layer: number, neuron: number, bias: number, row: Int8Array | string): Hex {
  const rowHex = typeof row === "string" ? row : vectorToHex(row);
  const encoded = AbiCoder.defaultAbiCoder().encode([...WEIGHT_LEAF_ENCODING], [layer, neuron, bias, rowHex]);
  return `0x${bytesToHex(keccak_256(keccak_256(hexToBytes(encoded.slice(2)))))}`;
}

/**
 * Every leaf of a model's weights tree, layer by layer, neuron by neuron.
 *
 * @param model - The model.
 * @returns One `[layer, neuron, bias, row]` per neuron.
 */
export function weightLeaves(model: DenseInt8Model): WeightLeaf[] {
  const leaves: WeightLeaf[] = [];
  model.layers.forEach(({ spec, weights, biases }, l) => {
    for (let j = 0; j < spec.outDim; j++) {
      const row = weights.subarray(j * spec.inDim, (j + 1) * spec.inDim);
      leaves.push([l + 1, j, biases[j], vectorToHex(row)]);
    }
  });
  return leaves;
}

/** The weights tree of a model (OpenZeppelin StandardMerkleTree) with proofs by (layer, neuron). */
export class WeightsTree {
  /** The underlying OpenZeppelin tree. */
  readonly tree: StandardMerkleTree<WeightLeaf>;
  private readonly index = new Map<string, number>();

  private constructor(tree: StandardMerkleTree<WeightLeaf>) {
    this.tree = tree;
    for (const [i, [layer, neuron]] of tree.entries()) this.index.set(`${layer}:${neuron}`, i);
  }

  /**
   * Builds the tree of a model.
   *
   * @param model - The model.
   * @returns Its weights tree.
   */
  static of(model: DenseInt8Model): WeightsTree {
    return new WeightsTree(StandardMerkleTree.of(weightLeaves(model), [...WEIGHT_LEAF_ENCODING]));
  }

  /** The weights root committed in the model id. */
  get root(): Hex {
    return this.tree.root as Hex;
  }

  /**
   * The row of one neuron with its Merkle proof.
   *
   * @param layer - 1-based layer number.
   * @param neuron - 0-based neuron index.
   * @returns The row, bias, leaf and proof.
   * @throws RangeError when the model has no such neuron.
   */
  proof(layer: number, neuron: number): RowProof {
    const i = this.index.get(`${layer}:${neuron}`);
    if (i === undefined) throw new RangeError(`no neuron ${neuron} in layer ${layer}`);
    const [, , bias, row] = this.tree.at(i)!;
    return {
      layer,
      neuron,
      bias,
      row,
      leaf: this.tree.leafHash(this.tree.at(i)!) as Hex,
      proof: this.tree.getProof(i) as Hex[],
    };
  }
}

/**
 * The weights root of a model (builds the whole tree; keep a `WeightsTree` to produce proofs).
 *
 * @param model - The model.
 * @returns The root.
 */
export function weightsRoot(model: DenseInt8Model): Hex {
  return WeightsTree.of(model).root;
}

import { keccak_256 } from "@noble/hashes/sha3.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { AbiCoder } from "ethers";
import { modelCommitments, readModelFile, weightLeaves } from "../../src/engine/index.js";
import type { DenseInt8Model } from "../../src/engine/index.js";
import golden from "../fixtures/mnist-golden.json" with { type: "json" };

// An independent implementation of docs/protocol.md section 2.1 ("Merkle trees"), written from the text:
// no ABI coder, no OpenZeppelin code, only keccak-256. Every test compares it with the libraries the
// protocol actually uses (ethers' AbiCoder, @openzeppelin/merkle-tree 1.0.8) and with the numbers printed
// in the spec.

type Bytes = Uint8Array;

const hex = (b: Bytes): string => `0x${Buffer.from(b).toString("hex")}`;
const bytes = (h: string): Bytes => Uint8Array.from(Buffer.from(h.replace(/^0x/, ""), "hex"));
const concat = (...parts: Bytes[]): Bytes => Uint8Array.from(Buffer.concat(parts));

/** A 32-byte big-endian two's-complement word (uintN left-padded with zeros, intN sign-extended). */
function word(v: bigint): Bytes {
  const u = BigInt.asUintN(256, v);
  return bytes(u.toString(16).padStart(64, "0"));
}

/** `abi.encode(bytes32 a, bytes32 b, bytes32 c)`: the three words, 96 bytes. */
function encodeBatchLeaf(inputHash: string, outputHash: string, traceRoot: string): Bytes {
  return concat(bytes(inputHash), bytes(outputHash), bytes(traceRoot));
}

/** `abi.encode(uint32 layer, uint32 neuron, int32 bias, bytes row)`: head of 4 words, then length, data, padding. */
function encodeWeightLeaf(layer: number, neuron: number, bias: number, row: Bytes): Bytes {
  const padded = new Uint8Array(32 * Math.ceil(row.length / 32));
  padded.set(row);
  return concat(
    word(BigInt(layer)),
    word(BigInt(neuron)),
    word(BigInt(bias)),
    word(128n),
    word(BigInt(row.length)),
    padded,
  );
}

const keccak = (b: Bytes): Bytes => keccak_256(b);
const leafHash = (encoded: Bytes): Bytes => keccak(keccak(encoded));

/** Bytewise comparison, which for 32-byte values is the comparison as unsigned 256-bit big-endian integers. */
function compare(a: Bytes, b: Bytes): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** `hashPair(a, b) = keccak256(min(a, b) || max(a, b))`. */
const hashPair = (a: Bytes, b: Bytes): Bytes => (compare(a, b) <= 0 ? keccak(concat(a, b)) : keccak(concat(b, a)));

/** The tree array: leaves sorted ascending, sorted leaf i at index 2n-2-i, node i = hashPair(2i+1, 2i+2). */
function buildTree(leaves: readonly Bytes[]): Bytes[] {
  const n = leaves.length;
  if (n === 0) throw new RangeError("empty tree");
  const sorted = [...leaves].sort(compare);
  const tree = new Array<Bytes>(2 * n - 1);
  sorted.forEach((leaf, i) => (tree[2 * n - 2 - i] = leaf));
  for (let i = n - 2; i >= 0; i--) tree[i] = hashPair(tree[2 * i + 1], tree[2 * i + 2]);
  return tree;
}

/** Proof of the node at index k: its sibling, its parent's sibling, ... up to (not including) the root. */
function proofOf(tree: readonly Bytes[], k: number): Bytes[] {
  const proof: Bytes[] = [];
  while (k > 0) {
    proof.push(tree[k % 2 === 1 ? k + 1 : k - 1]);
    k = Math.floor((k - 1) / 2);
  }
  return proof;
}

/** `MerkleProof.verify`: fold the proof with the commutative hashPair and compare with the root. */
const verify = (root: Bytes, leaf: Bytes, proof: readonly Bytes[]): boolean =>
  compare(proof.reduce(hashPair, leaf), root) === 0;

/** A misreading, to show that the layout matters: pair level by level, promoting an odd last node. */
function levelByLevelRoot(leaves: readonly Bytes[]): Bytes {
  let level = [...leaves].sort(compare);
  while (level.length > 1) {
    const next: Bytes[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? hashPair(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

const w = (n: number): string => `0x${n.toString(16).padStart(64, "0")}`;
const BATCH = ["bytes32", "bytes32", "bytes32"];

/** The example batch leaves of the spec: (1, 2, 3), (4, 5, 6), (7, 8, 9), ... as bytes32 words. */
const batchValues = (count: number): [string, string, string][] =>
  Array.from({ length: count }, (_, k) => [w(3 * k + 1), w(3 * k + 2), w(3 * k + 3)]);

/** Weights-tree leaf hashes of a model with the independent encoder. */
function independentWeightLeaves(model: DenseInt8Model): Bytes[] {
  return model.layers.flatMap(({ spec, weights, biases }, l) =>
    Array.from({ length: spec.outDim }, (_, j) => {
      const row = Uint8Array.from(weights.subarray(j * spec.inDim, (j + 1) * spec.inDim), (x) => x & 0xff);
      return leafHash(encodeWeightLeaf(l + 1, j, biases[j], row));
    }),
  );
}

describe("Merkle trees (docs/protocol.md section 2.1), independent implementation", function () {
  it("reproduces the three-leaf batch example hash by hash", function () {
    const values = batchValues(3);
    const leaves = values.map(([a, b, c]) => leafHash(encodeBatchLeaf(a, b, c)));
    expect(leaves.map(hex)).to.deep.equal([
      "0x6bf4e61b5cdb00b5d13973040b7e7c9690fc0e3e3509eabf38ee45a4fe1a3c0a",
      "0x2f4131d11f8ef30f7002edf164e0e5fcc20ab3c43f4f502be14bd6ef0307cbd9",
      "0x890ebc210cb0a709ce2f1663dd099b9979f33a596213bb624fc09c6a882c4768",
    ]);
    const tree = buildTree(leaves);
    expect(tree.map(hex)).to.deep.equal([
      "0x3ca2b15d228cd08ed6eb253a9694c7eeb1236224a2651172bc1393fe7e4c4220",
      "0x5bde4ac6d69df94b7a5c951292544dd54392790127239f56881a79eef5264aca",
      "0x890ebc210cb0a709ce2f1663dd099b9979f33a596213bb624fc09c6a882c4768",
      "0x6bf4e61b5cdb00b5d13973040b7e7c9690fc0e3e3509eabf38ee45a4fe1a3c0a",
      "0x2f4131d11f8ef30f7002edf164e0e5fcc20ab3c43f4f502be14bd6ef0307cbd9",
    ]);
    // T[1] = keccak256(B || A) (B < A), T[0] = keccak256(T[1] || C) (T[1] < C).
    expect(hex(keccak(concat(leaves[1], leaves[0])))).to.equal(hex(tree[1]));
    expect(hex(keccak(concat(tree[1], tree[2])))).to.equal(hex(tree[0]));
    // Proofs: A at index 3 -> [T4, T2]; B at 4 -> [T3, T2]; C at 2 -> [T1].
    expect(proofOf(tree, 3).map(hex)).to.deep.equal([hex(tree[4]), hex(tree[2])]);
    expect(proofOf(tree, 4).map(hex)).to.deep.equal([hex(tree[3]), hex(tree[2])]);
    expect(proofOf(tree, 2).map(hex)).to.deep.equal([hex(tree[1])]);
    for (const k of [2, 3, 4]) expect(verify(tree[0], tree[k], proofOf(tree, k))).to.equal(true);

    // The library agrees on every node, every leaf position and every proof.
    const oz = StandardMerkleTree.of(values, BATCH);
    expect(oz.dump().tree).to.deep.equal(tree.map(hex));
    expect(oz.dump().values.map((v) => v.treeIndex)).to.deep.equal([3, 4, 2]);
    for (const [i, v] of oz.entries()) {
      expect(oz.leafHash(v)).to.equal(hex(leaves[i]));
      expect(oz.getProof(i)).to.deep.equal(proofOf(tree, oz.dump().values[i].treeIndex).map(hex));
    }
  });

  it("places a five-leaf tree as a heap, which a level-by-level reading gets wrong", function () {
    const values = batchValues(5);
    const leaves = values.map(([a, b, c]) => leafHash(encodeBatchLeaf(a, b, c)));
    const tree = buildTree(leaves);
    const s = [...leaves].sort(compare);
    // T[0] = H(H(H(s0, s1), s4), H(s2, s3)).
    expect(hex(tree[0])).to.equal(hex(hashPair(hashPair(hashPair(s[0], s[1]), s[4]), hashPair(s[2], s[3]))));
    expect(hex(tree[0])).to.equal("0x9f2b6ea9e7ae0fba95b1c533089e6b77ec1cb4a737a1099b0952e481d5f6c288");
    expect(StandardMerkleTree.of(values, BATCH).root).to.equal(hex(tree[0]));
    const misread = levelByLevelRoot(leaves);
    expect(hex(misread)).to.equal(hex(hashPair(hashPair(hashPair(s[0], s[1]), hashPair(s[2], s[3])), s[4])));
    expect(hex(misread)).to.equal("0xeeb0d3bb4197c947299d790641af7151872532b8a76509d0183b2f200d2dc680");
    expect(hex(misread)).not.to.equal(hex(tree[0]));
  });

  it("sorts leaves by hash, not in the order given", function () {
    const values = batchValues(3);
    const root = StandardMerkleTree.of(values, BATCH).root;
    const permutations = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of permutations) {
      const permuted = order.map((i) => values[i]);
      expect(StandardMerkleTree.of(permuted, BATCH).root).to.equal(root);
      expect(hex(buildTree(permuted.map((v) => leafHash(encodeBatchLeaf(...v))))[0])).to.equal(root);
    }
    // Placing the leaves in the order given (C, A, B) would give another root: H(H(C, A), B).
    const [a, b, c] = values.map((v) => leafHash(encodeBatchLeaf(...v)));
    const unsorted = hashPair(hashPair(c, a), b);
    expect(hex(unsorted)).to.equal("0xcfcfc00af10d9adb073e506607755badaecf9bc151813ae2efab02fe46738afe");
    expect(StandardMerkleTree.of([values[2], values[0], values[1]], BATCH, { sortLeaves: false }).root).to.equal(
      hex(unsorted),
    );
    expect(hex(unsorted)).not.to.equal(root);
  });

  it("has the leaf itself as the root of a one-leaf tree, with an empty proof", function () {
    const [v] = batchValues(1);
    const tree = buildTree([leafHash(encodeBatchLeaf(...v))]);
    expect(tree).to.have.length(1);
    expect(hex(tree[0])).to.equal("0x6bf4e61b5cdb00b5d13973040b7e7c9690fc0e3e3509eabf38ee45a4fe1a3c0a");
    expect(proofOf(tree, 0)).to.deep.equal([]);
    const oz = StandardMerkleTree.of([v], BATCH);
    expect(oz.root).to.equal(hex(tree[0]));
    expect(oz.getProof(0)).to.deep.equal([]);
  });

  it("keeps both copies of a duplicate leaf (which is why a batch must not contain one)", function () {
    const [a, b] = batchValues(2);
    const tree = buildTree([a, b, a].map((v) => leafHash(encodeBatchLeaf(...v))));
    const oz = StandardMerkleTree.of([a, b, a], BATCH);
    expect(oz.dump().tree).to.deep.equal(tree.map(hex));
    expect(oz.root).to.equal("0x5955c12dded8243685e449015354e607fee012fd13714d0e58189e20251026a5");
    expect(oz.root).not.to.equal(StandardMerkleTree.of([a, b], BATCH).root);
    // Both copies sit in the tree (indices 2 and 3) and both proofs verify: two positions, one leaf hash.
    expect(hex(tree[2])).to.equal(hex(tree[3]));
    expect(hex(tree[1])).to.equal("0x5bde4ac6d69df94b7a5c951292544dd54392790127239f56881a79eef5264aca");
    expect(hex(tree[4])).to.equal(hex(leafHash(encodeBatchLeaf(...b))));
    expect(verify(tree[0], tree[2], proofOf(tree, 2))).to.equal(true);
    expect(verify(tree[0], tree[3], proofOf(tree, 3))).to.equal(true);
    expect(oz.getProof(0)).not.to.deep.equal(oz.getProof(2));
  });

  it("verifies like MerkleProof.verify: commutative, no position bits, and fails on a wrong sibling", function () {
    const leaves = batchValues(5).map((v) => leafHash(encodeBatchLeaf(...v)));
    const tree = buildTree(leaves);
    for (let k = 4; k <= 8; k++) {
      const proof = proofOf(tree, k);
      expect(verify(tree[0], tree[k], proof), `leaf at ${k}`).to.equal(true);
      const bad = [...proof];
      bad[0] = keccak(bad[0]);
      expect(verify(tree[0], tree[k], bad)).to.equal(false);
    }
    // An internal node is not a leaf of the tree for a caller that hashes leaf values (double hash).
    expect(verify(tree[0], leafHash(tree[3]), proofOf(tree, 3))).to.equal(false);
  });

  it("encodes a weight leaf exactly as abi.encode(uint32, uint32, int32, bytes)", function () {
    const row = bytes("0x807f00");
    const encoded = encodeWeightLeaf(1, 1, -1, row);
    expect(hex(encoded)).to.equal(
      AbiCoder.defaultAbiCoder().encode(["uint32", "uint32", "int32", "bytes"], [1, 1, -1, "0x807f00"]),
    );
    expect(encoded).to.have.length(192);
    expect(hex(encoded)).to.equal(
      "0x" +
        "0000000000000000000000000000000000000000000000000000000000000001" +
        "0000000000000000000000000000000000000000000000000000000000000001" +
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
        "0000000000000000000000000000000000000000000000000000000000000080" +
        "0000000000000000000000000000000000000000000000000000000000000003" +
        "807f000000000000000000000000000000000000000000000000000000000000",
    );
    expect(hex(leafHash(encoded))).to.equal("0xe6b998d8601ec3879ca03a11152585028d4c7a2b60f1566da27dacef3efa7ba3");
    // A row of exactly 32 bytes has no padding; 33 bytes take two data words.
    expect(encodeWeightLeaf(1, 0, 0, new Uint8Array(32))).to.have.length(160 + 32);
    expect(encodeWeightLeaf(1, 0, 0, new Uint8Array(33))).to.have.length(160 + 64);
    for (const n of [1, 31, 32, 33, 784]) {
      const r = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      expect(hex(encodeWeightLeaf(3, 70_000, -2_147_483_648, r))).to.equal(
        AbiCoder.defaultAbiCoder().encode(["uint32", "uint32", "int32", "bytes"], [3, 70_000, -2_147_483_648, hex(r)]),
      );
    }
  });

  it("rebuilds the worked example's weights tree node by node (section 8.5)", async function () {
    const model = await readModelFile("test/fixtures/example-model.json");
    const tree = buildTree(independentWeightLeaves(model));
    expect(tree.map(hex)).to.deep.equal([
      "0xd3aed3ed502d34649fa535c612232176971f3bafe49a6af8ca65e9e1e29e4bcd",
      "0x9bf0b33ee9c66414ad04184b591d924b01a2de56a1f2a2f9851667427608832e",
      "0xdc420735f16b56e8bb5c225e5c5d5aab5ae10855432ada1fc021f85cf87d82ab",
      "0xf9d2951446bfb46cad6a925c91090b067c77105ee59618f40df439f409e87ddf",
      "0xeae177323cc7d9f11aaa8701921491c6ee8303d1fd3ec9472f4fd6f267d6991f",
      "0xe6b998d8601ec3879ca03a11152585028d4c7a2b60f1566da27dacef3efa7ba3",
      "0xc413d55de5e2441728f86219aaf8324d31dcb58bc7328045863dd667202d5a04",
    ]);
    const c = modelCommitments(model);
    expect(c.tree.tree.dump().tree).to.deep.equal(tree.map(hex));
    // proof(1, 0) = [T4, T2], proof(1, 1) = [T6, T1], proof(2, 0) = [T3, T2], proof(2, 1) = [T5, T1].
    for (const [l, j, k, siblings] of [
      [1, 0, 3, [4, 2]],
      [1, 1, 5, [6, 1]],
      [2, 0, 4, [3, 2]],
      [2, 1, 6, [5, 1]],
    ] as const) {
      expect(c.tree.proof(l, j).leaf).to.equal(hex(tree[k]));
      expect(c.tree.proof(l, j).proof).to.deep.equal(siblings.map((i) => hex(tree[i])));
      expect(proofOf(tree, k).map(hex)).to.deep.equal(c.tree.proof(l, j).proof);
    }
  });

  it("rebuilds the shipped MNIST model's weights root and every proof", async function () {
    const model = await readModelFile(golden.model);
    const leaves = independentWeightLeaves(model);
    expect(leaves).to.have.length(weightLeaves(model).length);
    const tree = buildTree(leaves);
    expect(hex(tree[0])).to.equal(golden.weightsRoot);
    const c = modelCommitments(model);
    const index = new Map(tree.map((node, k) => [hex(node), k]));
    for (const [l, j] of [
      [1, 0],
      [1, 127],
      [2, 31],
      [3, 9],
    ]) {
      const p = c.tree.proof(l, j);
      const k = index.get(p.leaf)!;
      expect(k).to.be.at.least(tree.length - leaves.length);
      expect(proofOf(tree, k).map(hex)).to.deep.equal(p.proof);
      expect(verify(tree[0], bytes(p.leaf), p.proof.map(bytes))).to.equal(true);
    }
  });
});

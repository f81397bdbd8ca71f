import { expect } from "chai";
import type { NetworkConnection } from "hardhat/types/network";
import {
  AbiCoder,
  ZeroHash,
  hexlify,
  toUtf8Bytes,
  keccak256 as keccak,
  type ContractTransactionResponse,
  type Typed,
} from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { hashVector, traceRoot, type RunResult } from "../../src/engine/index.js";
import type { NeuronProofArgs } from "../../src/protocol/dispute.js";
import { leafHashOf } from "../../src/sdk/ids.js";
import {
  buildNeuronProof,
  deployWithMnist,
  firstDisputedLayer,
  infer,
  paramsFrom,
  pseudoDigit,
  vectorToHex,
} from "../helpers/disputeFixture.js";
import type { Fault } from "../../src/protocol/faults.js";
import type { DisputeGame } from "../../typechain-types/index.js";

const coder = AbiCoder.defaultAbiCoder();

/**
 * The MNIST fixture of test/helpers plus a treasury of its own (signer 7, so that its share is not mixed
 * with the admin's) and a third party (signer 6) who calls timeouts and plays the extra challenger.
 */
export async function deployDisputes(connection: NetworkConnection) {
  const f = await deployWithMnist(connection);
  const [admin, , , , , , watcher, treasury] = f.signers;
  await f.stakeManager.connect(admin).setTreasury(treasury.address);
  return { ...f, admin, watcher, treasury };
}

/** The dispute fixture: the protocol, the shipped model registered, two providers staked. */
export type Mnist = Awaited<ReturnType<typeof deployDisputes>>;
export type Signer = Mnist["provider"];
/** The `DisputeParams` a move passes (typed from the binding, whatever TypeChain's file layout). */
export type Params = Exclude<Parameters<DisputeGame["revealTrace"]>[0], Typed>;
export interface Inference {
  inputHash: string;
  outputHash: string;
  traceRoot: string;
}
/** A single commitment's `CommitmentKey` (its hash is the commitment id). */
export interface Key {
  provider: string;
  modelId: string;
  inference: Inference;
  binding: string;
}

/** Mirrors of contracts/types/Dispute.sol and Commitment.sol. */
export const Phase = {
  None: 0n,
  AwaitingInput: 1n,
  InputRevealed: 2n,
  AwaitingTrace: 3n,
  AwaitingLayerSelection: 4n,
  AwaitingLayerReveal: 5n,
  AwaitingNeuronProof: 6n,
  Resolved: 7n,
} as const;
export const Outcome = { None: 0n, ChallengerWon: 1n, ProviderWon: 2n, Refunded: 3n } as const;
export const Status = { None: 0n, Pending: 1n, Final: 2n, Disputed: 3n, Overturned: 4n } as const;
/** `RecordFlags` bits of a ledger record. */
export const Flags = { OVERTURNED: 1n, LEAF_OVERTURNED: 2n, INPUT_PUBLIC: 4n, DISCLOSURE_OPEN: 8n, DISCLOSED: 16n };
/** `DisputeGame.STRUCTURAL_FRAUD`: the neuron of a FraudProven event for fraud by shape. */
export const STRUCTURAL = 2n ** 32n - 1n;
export const BPS = 10_000n;
/** The MNIST model's layer count (784-128-64-10) and widths. */
export const L = 3;
export const DIMS = [784, 128, 64, 10] as const;

/** What a challenger gets from a slash of `slash` at `bps`: `floor(slash * bps / 10000)`. */
export const shareOf = (slash: bigint, bps: bigint) => (slash * bps) / BPS;

export const inferenceOf = (r: Inference): Inference => ({
  inputHash: r.inputHash,
  outputHash: r.outputHash,
  traceRoot: r.traceRoot,
});

/** One committed inference: what the provider claimed and what an honest run gives. */
export interface Committed {
  /** The commitment id, or the batch id for a batch leaf. */
  id: string;
  modelId: string;
  input: Int8Array;
  claimed: RunResult;
  honest: RunResult;
  inference: Inference;
  provider: Signer;
  /** What the commitment's event carried (the input itself, or a URI). */
  inputData: string;
}

/** An open game and what it is about. */
export interface Game {
  params: Params;
  id: string;
  c: Committed;
  challenger: Signer;
  tx: ContractTransactionResponse;
}

/** The key of a single commitment (binding 0, as `InferenceLedger.commit` uses). */
export const keyOf = (c: Committed): Key => ({
  provider: c.provider.address,
  modelId: c.modelId,
  inference: c.inference,
  binding: ZeroHash,
});

/** A URI (not the input) for a commitment's `inputData`: the input is then not public. */
export const uriOf = (seed: number) => hexlify(toUtf8Bytes(`ipfs://input-${seed}`));

/** A trace built by hand from vectors (for claims no fault of `runWithFault` produces). */
export function traceOf(activations: Int8Array[]): RunResult {
  const layerHashes = activations.map(hashVector);
  return {
    output: activations[activations.length - 1],
    activations,
    layerHashes,
    inputHash: layerHashes[0],
    outputHash: layerHashes[layerHashes.length - 1],
    traceRoot: traceRoot(layerHashes),
  };
}

/**
 * Commits one inference of the MNIST model on `pseudoDigit(seed)`: honest, with a `fault`, or exactly the
 * `claimed` run and `inference` given (for commitments whose hashes do not fit together). The event
 * carries the input (`uri: false`, the default) or a URI.
 */
export async function commitInference(
  f: Mnist,
  opts: {
    seed: number;
    fault?: Fault;
    claimed?: RunResult;
    inference?: Inference;
    provider?: Signer;
    modelId?: string;
    inputData?: string;
    uri?: boolean;
  },
): Promise<Committed> {
  const provider = opts.provider ?? f.provider;
  const modelId = opts.modelId ?? f.modelId;
  const input = opts.claimed?.activations[0] ?? pseudoDigit(opts.seed);
  const honest = infer(f.model, input.length === DIMS[0] ? input : pseudoDigit(opts.seed));
  const claimed = opts.claimed ?? infer(f.model, input, opts.fault);
  const inference = opts.inference ?? inferenceOf(claimed);
  const inputData = opts.inputData ?? (opts.uri ? uriOf(opts.seed) : vectorToHex(input));
  const tx = await f.ledger
    .connect(provider)
    .commit(modelId, inference.inputHash, inference.outputHash, inference.traceRoot, inputData);
  const receipt = await tx.wait();
  const id = receipt!.logs[0].topics[1]; // InferenceCommitted's indexed id
  return { id, modelId, input, claimed, honest, inference, provider, inputData };
}

let nonces = 0n;
/** A nonce no other opening of this process used (tests that need a given nonce pass it). */
export const freshNonce = () => ++nonces;

/** Opens a dispute on a single commitment (no input demand unless asked, a fresh nonce unless given). */
export async function openGame(
  f: Mnist,
  c: Committed,
  challenger: Signer = f.challenger,
  opts: { demandInput?: boolean; nonce?: bigint } = {},
): Promise<Game> {
  const tx = await f.disputeGame
    .connect(challenger)
    .openDispute(keyOf(c), opts.demandInput ?? false, opts.nonce ?? freshNonce());
  const params = await paramsFrom(f.disputeGame, tx);
  return { params, id: await f.disputeGame.disputeIdOf(params), c, challenger, tx };
}

/** The provider reveals the input it committed to. */
export const revealInput = (f: Mnist, g: Game) =>
  f.disputeGame.connect(g.c.provider).revealInput(g.params, vectorToHex(g.c.input));

/** The provider reveals its claimed trace. */
export const revealTrace = (f: Mnist, g: Game) =>
  f.disputeGame.connect(g.c.provider).revealTrace(g.params, g.c.claimed.layerHashes);

/** The challenger selects `layer`. */
export const selectLayer = (f: Mnist, g: Game, layer: number) =>
  f.disputeGame.connect(g.challenger).selectLayer(g.params, layer);

/** The provider reveals its claimed activation of `layer`. */
export const revealLayer = (f: Mnist, g: Game, layer: number) =>
  f.disputeGame
    .connect(g.c.provider)
    .revealLayer(g.params, layer, g.c.claimed.layerHashes, vectorToHex(g.c.claimed.activations[layer]));

/** Plays the game honestly on both sides up to the neuron proof at `layer` (the first disputed one by default). */
export async function playToProof(f: Mnist, g: Game, layer?: number): Promise<number> {
  const l = layer ?? firstDisputedLayer(g.c.claimed.layerHashes, g.c.honest);
  await revealTrace(f, g);
  await selectLayer(f, g, l);
  await revealLayer(f, g, l);
  return l;
}

/** The honest challenger's proof at `layer` (the first neuron where the claim differs). */
export const fraudProof = (f: Mnist, g: Game, layer: number): NeuronProofArgs =>
  buildNeuronProof(
    f.model,
    f.commitments.tree,
    g.c.honest,
    layer,
    g.c.claimed.activations[layer],
    g.c.claimed.activations[layer - 1],
  );

/** A proof about any `neuron` of `layer` from the claimed trace's own vectors (what a liar would send). */
export function neuronProofAt(f: Mnist, g: Game, layer: number, neuron: number): NeuronProofArgs {
  const row = f.commitments.tree.proof(layer, neuron);
  return {
    input: vectorToHex(g.c.claimed.activations[layer - 1]),
    output: vectorToHex(g.c.claimed.activations[layer]),
    neuron,
    bias: row.bias,
    row: row.row,
    rowProof: row.proof,
  };
}

/** The game's current deadline. */
export async function deadlineOf(f: Mnist, g: Game): Promise<bigint> {
  return (await f.disputeGame.gameOf(g.id)).deadline;
}

/** Moves the clock one second past the game's current deadline (if it is not past already). */
export async function passDeadline(connection: NetworkConnection, f: Mnist, g: Game): Promise<void> {
  const deadline = await deadlineOf(f, g);
  if (BigInt(await connection.networkHelpers.time.latest()) <= deadline) {
    await connection.networkHelpers.time.increaseTo(deadline + 1n);
  }
}

/** Moves the clock past the commitment's challenge window. */
export async function passChallengeWindow(connection: NetworkConnection, f: Mnist, id: string): Promise<void> {
  const record = await f.ledger.recordOf(id);
  const now = BigInt(await connection.networkHelpers.time.latest());
  if (now <= record.challengeDeadline) await connection.networkHelpers.time.increaseTo(record.challengeDeadline + 1n);
}

/** A game's state as a plain array `[deadline, phase, outcome, layer, rewardPaid]`. */
export async function stateOf(game: DisputeGame, id: string): Promise<unknown[]> {
  const s = await game.gameOf(id);
  return [s.deadline, s.phase, s.outcome, s.layer, s.rewardPaid];
}

/** Asserts a game's phase and outcome. */
export async function expectState(game: DisputeGame, id: string, phase: bigint, outcome: bigint = Outcome.None) {
  const s = await game.gameOf(id);
  expect([s.phase, s.outcome]).to.deep.equal([phase, outcome]);
}

/** The reward pool of a game's target as `[overturned, amount, pending, winners, paid]`. */
export async function poolOf(f: Mnist, g: Game): Promise<unknown[]> {
  const p = await f.disputeGame.rewardPoolOf(await f.disputeGame.targetKeyOf(g.params));
  return [p.overturned, p.amount, p.pending, p.winners, p.paid];
}

/**
 * Everything a reverted move must leave untouched: the games' states and reward pools, the vault's totals
 * and balance, every party's credit, the providers' stake records, and the ledger records of `targets`.
 */
export async function fingerprint(f: Mnist, ids: string[], targets: string[] = []): Promise<unknown[]> {
  const parts: unknown[] = [];
  for (const id of ids) parts.push(await stateOf(f.disputeGame, id));
  for (const t of targets) {
    const p = await f.disputeGame.rewardPoolOf(t);
    parts.push([p.overturned, p.amount, p.pending, p.winners, p.paid]);
    parts.push([...(await f.ledger.recordOf(t))].map(String));
  }
  parts.push(await f.stakeManager.totalOwed());
  parts.push(await f.stakeManager.totalBonds());
  parts.push(await f.stakeManager.totalCredits());
  parts.push(await f.token.balanceOf(await f.stakeManager.getAddress()));
  const parties = [f.provider, f.provider2, f.challenger, f.challenger2, f.watcher, f.treasury];
  for (const p of parties) parts.push(await f.stakeManager.creditOf(p.address));
  for (const p of [f.provider, f.provider2]) parts.push([...(await f.stakeManager.stakeOf(p.address))]);
  return parts;
}

/** The vault invariant: what the stake manager owes (active + unbonding + bonds + credits) is what it holds. */
export async function expectFundsConserved(f: Pick<Mnist, "stakeManager" | "token">): Promise<void> {
  const balance = await f.token.balanceOf(await f.stakeManager.getAddress());
  const [active, unbonding, bonds, credits] = await Promise.all([
    f.stakeManager.totalActive(),
    f.stakeManager.totalUnbonding(),
    f.stakeManager.totalBonds(),
    f.stakeManager.totalCredits(),
  ]);
  expect(await f.stakeManager.totalOwed()).to.equal(balance);
  expect(active + unbonding + bonds + credits).to.equal(balance);
}

/**
 * Registers an `afterEach` that checks the vault invariant on the deployment the running test used; call
 * it inside a `describe`, and pass every deployment a test loads through the returned function.
 */
export function checkVaultAfterEach() {
  let current: Pick<Mnist, "stakeManager" | "token"> | undefined;
  afterEach(async () => {
    if (current !== undefined) await expectFundsConserved(current);
    current = undefined;
  });
  return <T extends Pick<Mnist, "stakeManager" | "token">>(f: T): T => {
    current = f;
    return f;
  };
}

/** Token balances of `accounts`, in order. */
export async function balancesOf(f: Mnist, accounts: Signer[]): Promise<bigint[]> {
  return Promise.all(accounts.map((a) => f.token.balanceOf(a.address)));
}

/** Unclaimed credits of `accounts`, in order. */
export async function creditsOf(f: Mnist, accounts: Signer[]): Promise<bigint[]> {
  return Promise.all(accounts.map((a) => f.stakeManager.creditOf(a.address)));
}

/** A batch of MNIST inferences committed as one Merkle root; `claims` replaces a leaf's claimed run. */
export async function commitBatch(
  f: Mnist,
  seeds: number[],
  faults: (Fault | undefined)[] = [],
  provider: Signer = f.provider,
  claims: (RunResult | undefined)[] = [],
) {
  const runs = seeds.map((seed, i) => {
    const claimed = claims[i] ?? infer(f.model, pseudoDigit(seed), faults[i]);
    const input = claimed.activations[0];
    return { input, claimed, honest: infer(f.model, pseudoDigit(seed)) };
  });
  const tree = StandardMerkleTree.of(
    runs.map(({ claimed }) => [claimed.inputHash, claimed.outputHash, claimed.traceRoot]),
    ["bytes32", "bytes32", "bytes32"],
  );
  const tx = await f.ledger.connect(provider).commitBatch(f.modelId, tree.root, runs.length, "ipfs://batch");
  const receipt = await tx.wait();
  const batchId = f.ledger.interface.parseLog(receipt!.logs[0])!.args.batchId as string;
  const header = {
    provider: provider.address,
    modelId: f.modelId,
    root: tree.root,
    count: runs.length,
    binding: ZeroHash,
  };
  const leaf = (i: number): Committed => ({
    id: batchId,
    modelId: f.modelId,
    input: runs[i].input,
    claimed: runs[i].claimed,
    honest: runs[i].honest,
    inference: inferenceOf(runs[i].claimed),
    provider,
    inputData: "ipfs://batch",
  });
  /** The ledger's key of leaf `i` (and the game's target key): `keccak256(abi.encode(batchId, leafHash))`. */
  const leafKey = (i: number) => leafIdOf(batchId, leafHashOf(leaf(i).inference));
  return { batchId, header, tree, runs, leaf, leafKey, proof: (i: number) => tree.getProof(i) };
}

export type Batch = Awaited<ReturnType<typeof commitBatch>>;

/** `Commitments.leafId(batchId, leafHash)`. */
export function leafIdOf(batchId: string, leafHash: string): string {
  return keccak(coder.encode(["bytes32", "bytes32"], [batchId, leafHash]));
}
/** Opens a dispute on leaf `i` of a batch, demanding its input or not. */
export async function openLeafGame(
  f: Mnist,
  batch: Batch,
  i: number,
  demandInput: boolean,
  challenger: Signer = f.challenger,
  nonce: bigint = freshNonce(),
): Promise<Game> {
  const tx = await f.disputeGame
    .connect(challenger)
    .openLeafDispute(batch.header, batch.proof(i), batch.leaf(i).inference, demandInput, nonce);
  const params = await paramsFrom(f.disputeGame, tx);
  return { params, id: await f.disputeGame.disputeIdOf(params), c: batch.leaf(i), challenger, tx };
}

export { buildNeuronProof, firstDisputedLayer, vectorToHex };

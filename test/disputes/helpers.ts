import { expect } from "chai";
import type { NetworkConnection } from "hardhat/types/network";
import type { ContractTransactionResponse, Typed } from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { hashVector, traceRoot, type Hex, type RunResult } from "../../src/engine/index.js";
import type { NeuronProofArgs } from "../../src/protocol/dispute.js";
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
/** `DisputeGame.STRUCTURAL_FRAUD`: the neuron of a FraudProven event for fraud by shape. */
export const STRUCTURAL = 2n ** 32n - 1n;
export const BPS = 10_000n;
/** The MNIST model's layer count (784-128-64-10). */
export const L = 3;

/** What a challenger gets from a slash of `slash` at `bps`: `floor(slash * bps / 10000)`. */
export const shareOf = (slash: bigint, bps: bigint) => (slash * bps) / BPS;

export const inferenceOf = (r: Inference): Inference => ({
  inputHash: r.inputHash,
  outputHash: r.outputHash,
  traceRoot: r.traceRoot,
});

/** One committed inference: what the provider claimed and what an honest run gives. */
export interface Committed {
  id: string;
  input: Int8Array;
  claimed: RunResult;
  honest: RunResult;
  inference: Inference;
  provider: Signer;
}

/** An open game and what it is about. */
export interface Game {
  params: Params;
  id: string;
  c: Committed;
  challenger: Signer;
  tx: ContractTransactionResponse;
}

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
 * `claimed` run and `inference` given (for commitments whose hashes do not fit together).
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
  },
): Promise<Committed> {
  const provider = opts.provider ?? f.provider;
  const input = pseudoDigit(opts.seed);
  const honest = infer(f.model, input);
  const claimed = opts.claimed ?? infer(f.model, input, opts.fault);
  const inference = opts.inference ?? inferenceOf(claimed);
  const tx = await f.ledger
    .connect(provider)
    .commit(
      opts.modelId ?? f.commitments.modelId,
      inference.inputHash,
      inference.outputHash,
      inference.traceRoot,
      opts.inputData ?? vectorToHex(input),
    );
  const receipt = await tx.wait();
  const id = receipt!.logs[0].topics[1]; // InferenceCommitted's indexed id
  return { id, input, claimed, honest, inference, provider };
}

/** Opens a dispute on a single commitment. */
export async function openGame(f: Mnist, c: Committed, challenger: Signer = f.challenger): Promise<Game> {
  const tx = await f.disputeGame.connect(challenger).openDispute(c.id, f.commitments.modelId, c.inference);
  const params = await paramsFrom(f.disputeGame, tx);
  return { params, id: await f.disputeGame.disputeIdOf(params), c, challenger, tx };
}

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
    g.c.claimed.layerHashes,
    layer,
    g.c.claimed.activations[layer],
  );

/** A proof about any `neuron` of `layer` from the claimed trace's own vectors (what a liar would send). */
export function neuronProofAt(f: Mnist, g: Game, layer: number, neuron: number): NeuronProofArgs {
  const row = f.commitments.tree.proof(layer, neuron);
  return {
    layerHashes: [...g.c.claimed.layerHashes],
    graph: f.commitments.graph,
    weightsRoot: f.commitments.weightsRoot as Hex,
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

/** Moves the clock one second past the game's current deadline. */
export async function passDeadline(connection: NetworkConnection, f: Mnist, g: Game): Promise<void> {
  await connection.networkHelpers.time.increaseTo((await deadlineOf(f, g)) + 1n);
}

/** Moves the clock past the commitment's challenge window. */
export async function passChallengeWindow(connection: NetworkConnection, f: Mnist, id: string): Promise<void> {
  const record = await f.ledger.recordOf(id);
  const now = BigInt(await connection.networkHelpers.time.latest());
  if (now <= record.challengeDeadline) await connection.networkHelpers.time.increaseTo(record.challengeDeadline + 1n);
}

/** A game's state as a plain array `[deadline, phase, outcome, numLayers, layer]`. */
export async function stateOf(game: DisputeGame, id: string): Promise<bigint[]> {
  const s = await game.gameOf(id);
  return [s.deadline, s.phase, s.outcome, s.numLayers, s.layer];
}

/** Asserts a game's phase and outcome. */
export async function expectState(game: DisputeGame, id: string, phase: bigint, outcome: bigint = Outcome.None) {
  const s = await game.gameOf(id);
  expect([s.phase, s.outcome]).to.deep.equal([phase, outcome]);
}

/**
 * Everything a reverted move must leave untouched: the games' states, the vault's totals and balance, the
 * provider's stake record, and the ledger records of `targets`.
 */
export async function fingerprint(f: Mnist, ids: string[], targets: string[] = []): Promise<unknown[]> {
  const parts: unknown[] = [];
  for (const id of ids) parts.push(await stateOf(f.disputeGame, id));
  parts.push(await f.stakeManager.totalOwed());
  parts.push(await f.stakeManager.totalBonds());
  parts.push(await f.token.balanceOf(await f.stakeManager.getAddress()));
  parts.push([...(await f.stakeManager.stakeOf(f.provider.address))]);
  for (const t of targets) parts.push([...(await f.ledger.recordOf(t))].map(String));
  return parts;
}

/** The vault's token balance, which must always equal what it owes. */
export async function expectFundsConserved(f: Mnist): Promise<void> {
  const balance = await f.token.balanceOf(await f.stakeManager.getAddress());
  expect(await f.stakeManager.totalOwed()).to.equal(balance);
}

/** Token balances of `accounts`, in order. */
export async function balancesOf(f: Mnist, accounts: Signer[]): Promise<bigint[]> {
  return Promise.all(accounts.map((a) => f.token.balanceOf(a.address)));
}

/** Unclaimed credits of `accounts`, in order. */
export async function creditsOf(f: Mnist, accounts: Signer[]): Promise<bigint[]> {
  return Promise.all(accounts.map((a) => f.stakeManager.creditOf(a.address)));
}

/** A batch of MNIST inferences committed as one Merkle root. */
export async function commitBatch(
  f: Mnist,
  seeds: number[],
  faults: (Fault | undefined)[] = [],
  provider: Signer = f.provider,
) {
  const runs = seeds.map((seed, i) => {
    const input = pseudoDigit(seed);
    return { input, claimed: infer(f.model, input, faults[i]), honest: infer(f.model, input) };
  });
  const tree = StandardMerkleTree.of(
    runs.map(({ claimed }) => [claimed.inputHash, claimed.outputHash, claimed.traceRoot]),
    ["bytes32", "bytes32", "bytes32"],
  );
  const tx = await f.ledger
    .connect(provider)
    .commitBatch(f.commitments.modelId, tree.root, runs.length, "ipfs://batch");
  const receipt = await tx.wait();
  const batchId = f.ledger.interface.parseLog(receipt!.logs[0])!.args.batchId as string;
  const header = { provider: provider.address, modelId: f.commitments.modelId, root: tree.root, count: runs.length };
  const leaf = (i: number): Committed => ({
    id: batchId,
    input: runs[i].input,
    claimed: runs[i].claimed,
    honest: runs[i].honest,
    inference: inferenceOf(runs[i].claimed),
    provider,
  });
  return { batchId, header, tree, runs, leaf, proof: (i: number) => tree.getProof(i) };
}

export type Batch = Awaited<ReturnType<typeof commitBatch>>;

/** Opens a dispute on leaf `i` of a batch, demanding its input or not. */
export async function openLeafGame(
  f: Mnist,
  batch: Batch,
  i: number,
  demandInput: boolean,
  challenger: Signer = f.challenger,
): Promise<Game> {
  const tx = await f.disputeGame
    .connect(challenger)
    .openLeafDispute(batch.header, batch.proof(i), batch.leaf(i).inference, demandInput);
  const params = await paramsFrom(f.disputeGame, tx);
  return { params, id: await f.disputeGame.disputeIdOf(params), c: batch.leaf(i), challenger, tx };
}

export { buildNeuronProof, firstDisputedLayer, vectorToHex };

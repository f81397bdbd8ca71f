import {
  AbiCoder,
  ZeroHash,
  keccak256,
  type ContractRunner,
  type ContractTransactionResponse,
  type Provider,
} from "ethers";
import { DisputeGame__factory, type DisputeGame } from "../../../typechain-types/index.js";
import type { DisputeParamsStruct } from "../../../typechain-types/contracts/disputes/DisputeGame.js";
import type { NeuronProofArgs } from "../../protocol/dispute.js";
import { decodingReverts } from "../errors.js";
import { batchIdOf, commitmentIdOf, leafHashOf } from "../ids.js";
import { MemoryNonceBook, type NonceBook } from "../nonces.js";
import { findEvent, sendTx, type VerityTx } from "../tx.js";
import type { BatchHeader, InferenceHashes } from "./ledger.js";

/** Phases of a dispute game (contracts/types/Dispute.sol). */
export enum Phase {
  None = 0,
  AwaitingInput = 1,
  InputRevealed = 2,
  AwaitingTrace = 3,
  AwaitingLayerSelection = 4,
  AwaitingLayerReveal = 5,
  AwaitingNeuronProof = 6,
  Resolved = 7,
}

/** How a dispute ended. */
export enum Outcome {
  None = 0,
  ChallengerWon = 1,
  ProviderWon = 2,
  Refunded = 3,
}

/** The immutable parameters of a game; every move passes them (their hash is the dispute id). */
export interface DisputeParams {
  target: string;
  isLeaf: boolean;
  modelId: string;
  provider: string;
  challenger: string;
  inference: InferenceHashes;
  bond: bigint;
  slashAmount: bigint;
  responseWindow: bigint;
  challengerShareBps: bigint;
  numLayers: bigint;
  nonce: bigint;
}

/** The mutable state of a game. */
export interface GameState {
  deadline: bigint;
  phase: Phase;
  outcome: Outcome;
  layer: number;
  rewardPaid: boolean;
}

/** A single commitment, as a dispute names it (`CommitmentKey`; its hash is the commitment id). */
export interface CommitmentKey {
  provider: string;
  modelId: string;
  inference: InferenceHashes;
  /** Zero for `InferenceLedger.commit` (the default). */
  binding?: string;
}

/** The challengers' escrowed share of an overturned target's slash (`RewardPool`). */
export interface RewardPool {
  overturned: boolean;
  amount: bigint;
  pending: number;
  winners: number;
  paid: number;
}

/** Key of a batch leaf as a target: `keccak256(abi.encode(batchId, leafHash))` (`Commitments.leafId`). */
export function leafTargetKeyOf(batchId: string, leafHash: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [batchId, leafHash]));
}

/** The key of a game's target (`DisputeGame.targetKeyOf`): the commitment id, or the leaf key. */
export function targetKeyOf(params: Pick<DisputeParams, "target" | "isLeaf" | "inference">): string {
  return params.isLeaf ? leafTargetKeyOf(params.target, leafHashOf(params.inference)) : params.target;
}

type MoveMethod =
  | "revealInput"
  | "continueDispute"
  | "revealTrace"
  | "selectLayer"
  | "revealLayer"
  | "proveNeuron"
  | "timeout"
  | "closeOverturned"
  | "claimReward";

/** A move's transaction: `wait()` resolves to the game's state after it. */
export type MoveTx = VerityTx<GameState>;

/** Converts an ethers struct result into plain `DisputeParams`. */
export function toDisputeParams(p: any): DisputeParams {
  return {
    target: p.target,
    isLeaf: p.isLeaf,
    modelId: p.modelId,
    provider: p.provider,
    challenger: p.challenger,
    inference: {
      inputHash: p.inference.inputHash,
      outputHash: p.inference.outputHash,
      traceRoot: p.inference.traceRoot,
    },
    bond: BigInt(p.bond),
    slashAmount: BigInt(p.slashAmount),
    responseWindow: BigInt(p.responseWindow),
    challengerShareBps: BigInt(p.challengerShareBps),
    numLayers: BigInt(p.numLayers),
    nonce: BigInt(p.nonce),
  };
}

/**
 * Client of the DisputeGame. Opening resolves to the game's params; moves resolve to the new state.
 * Openings take a nonce from the client's `NonceBook` (one per target, chosen at random once), so an
 * opening re-sent after a reorg lands on the same game id.
 */
export class DisputeClient {
  /** The TypeChain binding. */
  readonly contract: DisputeGame;

  constructor(
    address: string,
    runner: ContractRunner,
    /** Where opening nonces are kept (default: in memory). */
    readonly nonces: NonceBook = new MemoryNonceBook(),
  ) {
    this.contract = DisputeGame__factory.connect(address, runner);
  }

  /**
   * Opens a dispute on a single commitment (posts the bond: approve the stake manager first). With
   * `demandInput` the provider must first reveal the input (refused on-chain for a commitment whose
   * event carries it). `nonce` defaults to the nonce book's for this commitment.
   */
  async open(key: CommitmentKey, demandInput = false, nonce?: bigint): Promise<VerityTx<DisputeParams>> {
    const binding = key.binding ?? ZeroHash;
    const id = commitmentIdOf(key.provider, key.modelId, key.inference, binding);
    const n = nonce ?? this.nonces.nonceFor(id);
    const struct = { provider: key.provider, modelId: key.modelId, inference: { ...key.inference }, binding };
    return sendTx(
      () => this.contract.openDispute(struct, demandInput, n),
      (r) => this.openedParams(r),
    );
  }

  /** Opens a dispute on a batch leaf, optionally demanding its input (refused once the batch is disclosed). */
  async openLeaf(
    header: BatchHeader,
    proof: string[],
    leaf: InferenceHashes,
    demandInput = false,
    nonce?: bigint,
  ): Promise<VerityTx<DisputeParams>> {
    const n = nonce ?? this.nonces.nonceFor(leafTargetKeyOf(batchIdOf(header), leafHashOf(leaf)));
    const h = { ...header, binding: header.binding ?? ZeroHash };
    return sendTx(
      () => this.contract.openLeafDispute(h, proof, { ...leaf }, demandInput, n),
      (r) => this.openedParams(r),
    );
  }

  /** Provider: reveals a demanded input. */
  revealInput(params: DisputeParams, input: string): Promise<MoveTx> {
    return this.move(params, "revealInput", [input]);
  }

  /** Challenger: goes on after an input reveal. */
  continueDispute(params: DisputeParams): Promise<MoveTx> {
    return this.move(params, "continueDispute", []);
  }

  /** Provider: reveals the trace s_0..s_L. */
  revealTrace(params: DisputeParams, layerHashes: string[]): Promise<MoveTx> {
    return this.move(params, "revealTrace", [layerHashes]);
  }

  /** Challenger: names the first disputed layer. */
  selectLayer(params: DisputeParams, layer: number): Promise<MoveTx> {
    return this.move(params, "selectLayer", [layer]);
  }

  /** Provider: reveals the selected layer's activation. */
  revealLayer(params: DisputeParams, layer: number, layerHashes: string[], activation: string): Promise<MoveTx> {
    return this.move(params, "revealLayer", [layer, layerHashes, activation]);
  }

  /** Challenger: proves one neuron wrong (see `buildNeuronProof`). */
  proveNeuron(params: DisputeParams, proof: NeuronProofArgs): Promise<MoveTx> {
    return this.move(params, "proveNeuron", [proof]);
  }

  /** Anyone: ends a game whose party to move missed its deadline. */
  timeout(params: DisputeParams): Promise<MoveTx> {
    return this.move(params, "timeout", []);
  }

  /** The game's challenger: withdraws from a game whose target another game overturned (bond back, no reward). */
  closeOverturned(params: DisputeParams): Promise<MoveTx> {
    return this.move(params, "closeOverturned", []);
  }

  /**
   * Anyone: pays a ChallengerWon game its part of the target's reward pool, once every game open on the
   * target has ended (the credit goes to the game's challenger).
   */
  claimReward(params: DisputeParams): Promise<MoveTx> {
    return this.move(params, "claimReward", []);
  }

  /** The reward pool of a target key (see `targetKeyOf`); all zero until a game overturned the target. */
  async rewardPoolOf(targetKey: string): Promise<RewardPool> {
    const p = await this.contract.rewardPoolOf(targetKey);
    return {
      overturned: p.overturned,
      amount: p.amount,
      pending: Number(p.pending),
      winners: Number(p.winners),
      paid: Number(p.paid),
    };
  }

  /**
   * Where a game's reward stands: "none" (it did not end ChallengerWon), "paid", "claimable" (its pool is
   * settled: `claimReward` pays it), or still waiting for `pending` other games on the target.
   */
  async rewardStatus(
    disputeId: string,
    params: DisputeParams,
  ): Promise<"none" | "paid" | { pending: number } | "claimable"> {
    const game = await this.game(disputeId);
    if (game.outcome !== Outcome.ChallengerWon) return "none";
    if (game.rewardPaid) return "paid";
    const pool = await this.rewardPoolOf(targetKeyOf(params));
    return pool.pending === 0 ? "claimable" : { pending: pool.pending };
  }

  /** The dispute id of a game (the hash of its params). */
  async idOf(params: DisputeParams): Promise<string> {
    return this.contract.disputeIdOf(params as DisputeParamsStruct);
  }

  /** The current state of a game. */
  async game(disputeId: string): Promise<GameState> {
    const g = await this.contract.gameOf(disputeId);
    return {
      deadline: g.deadline,
      phase: Number(g.phase) as Phase,
      outcome: Number(g.outcome) as Outcome,
      layer: Number(g.layer),
      rewardPaid: g.rewardPaid,
    };
  }

  /** The trace the provider revealed in a game, or undefined before it did. */
  async revealedTrace(disputeId: string, fromBlock = 0): Promise<string[] | undefined> {
    const events = await this.contract.queryFilter(this.contract.filters.TraceRevealed(disputeId), fromBlock);
    return events.length === 0 ? undefined : [...events[events.length - 1].args.layerHashes];
  }

  /** The activation the provider revealed in a game, or undefined before it did. */
  async revealedLayer(disputeId: string, fromBlock = 0): Promise<{ layer: number; activation: string } | undefined> {
    const events = await this.contract.queryFilter(this.contract.filters.LayerRevealed(disputeId), fromBlock);
    if (events.length === 0) return undefined;
    const last = events[events.length - 1].args;
    return { layer: Number(last.layer), activation: last.activation };
  }

  /** The input the provider revealed on demand, or undefined before it did. */
  async revealedInput(disputeId: string, fromBlock = 0): Promise<string | undefined> {
    const events = await this.contract.queryFilter(this.contract.filters.InputRevealed(disputeId), fromBlock);
    return events.length === 0 ? undefined : events[events.length - 1].args.input;
  }

  /** Every game opened in `[fromBlock, toBlock]`, with its params. */
  async scanOpened(
    fromBlock: number,
    toBlock: number,
  ): Promise<{ disputeId: string; params: DisputeParams; blockNumber: number }[]> {
    const events = await this.contract.queryFilter(this.contract.filters.DisputeOpened(), fromBlock, toBlock);
    return events.map((e) => ({
      disputeId: e.args.disputeId,
      params: toDisputeParams(e.args.params),
      blockNumber: e.blockNumber,
    }));
  }

  /** Every game `challenger` opened in `[fromBlock, toBlock]` (the `challenger` topic is indexed). */
  async scanOpenedBy(
    challenger: string,
    fromBlock: number,
    toBlock: number,
  ): Promise<{ disputeId: string; params: DisputeParams; blockNumber: number }[]> {
    const filter = this.contract.filters.DisputeOpened(undefined, undefined, challenger);
    const events = await this.contract.queryFilter(filter, fromBlock, toBlock);
    return events.map((e) => ({
      disputeId: e.args.disputeId,
      params: toDisputeParams(e.args.params),
      blockNumber: e.blockNumber,
    }));
  }

  /** The chain's current timestamp (the clock deadlines are measured against). */
  async now(): Promise<bigint> {
    const provider = this.contract.runner?.provider as Provider;
    const block = await provider.getBlock("latest");
    return BigInt(block!.timestamp);
  }

  /**
   * Sends one move after simulating it with `staticCall`: a move that would revert is never sent, and
   * its custom error is thrown instead.
   */
  private async move(params: DisputeParams, method: MoveMethod, args: unknown[]): Promise<MoveTx> {
    const fn = this.contract.getFunction(method);
    const callArgs = [params as DisputeParamsStruct, ...args];
    await decodingReverts(() => fn.staticCall(...callArgs));
    const id = await this.idOf(params);
    const send = () => fn.send(...callArgs) as Promise<ContractTransactionResponse>;
    return sendTx(send, () => undefined).then((tx) => ({
      ...tx,
      wait: async (confirmations?: number) => {
        await tx.wait(confirmations);
        return this.game(id);
      },
    }));
  }

  private openedParams(receipt: Parameters<typeof findEvent>[0]): DisputeParams {
    return toDisputeParams(findEvent(receipt, this.contract.interface, "DisputeOpened").args.params);
  }
}

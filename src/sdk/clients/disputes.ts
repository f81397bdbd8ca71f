import type { ContractRunner, ContractTransactionResponse, Provider } from "ethers";
import { DisputeGame__factory, type DisputeGame } from "../../../typechain-types/index.js";
import type { DisputeParamsStruct, NeuronProofStruct } from "../../../typechain-types/contracts/DisputeGame.js";
import { decodingReverts } from "../errors.js";
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

type MoveMethod =
  | "revealInput"
  | "continueDispute"
  | "revealTrace"
  | "selectLayer"
  | "revealLayer"
  | "proveNeuron"
  | "timeout"
  | "closeOverturned";

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

/** Client of the DisputeGame. Opening resolves to the game's params; moves resolve to the new state. */
export class DisputeClient {
  /** The TypeChain binding. */
  readonly contract: DisputeGame;

  constructor(address: string, runner: ContractRunner) {
    this.contract = DisputeGame__factory.connect(address, runner);
  }

  /**
   * Opens a dispute on a single commitment (posts the bond: approve the stake manager first). With
   * `demandInput` the provider must first reveal the input (for a commitment whose event lacks it).
   */
  async open(
    commitmentId: string,
    modelId: string,
    inference: InferenceHashes,
    demandInput = false,
  ): Promise<VerityTx<DisputeParams>> {
    const send = demandInput
      ? () => this.contract.openDisputeWithInputDemand(commitmentId, modelId, inference)
      : () => this.contract.openDispute(commitmentId, modelId, inference);
    return sendTx(send, (r) => this.openedParams(r));
  }

  /** Opens a dispute on a batch leaf, optionally demanding its input. */
  async openLeaf(
    header: BatchHeader,
    proof: string[],
    leaf: InferenceHashes,
    demandInput = false,
  ): Promise<VerityTx<DisputeParams>> {
    return sendTx(
      () => this.contract.openLeafDispute(header, proof, leaf, demandInput),
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

  /** Challenger: proves one neuron wrong. */
  proveNeuron(params: DisputeParams, proof: NeuronProofStruct): Promise<MoveTx> {
    return this.move(params, "proveNeuron", [proof]);
  }

  /** Anyone: ends a game whose party to move missed its deadline. */
  timeout(params: DisputeParams): Promise<MoveTx> {
    return this.move(params, "timeout", []);
  }

  /** Anyone: ends a game whose target another game overturned. */
  closeOverturned(params: DisputeParams): Promise<MoveTx> {
    return this.move(params, "closeOverturned", []);
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
      numLayers: Number(g.numLayers),
      layer: Number(g.layer),
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

import { hexlify, randomBytes } from "ethers";
import {
  modelCommitments,
  run,
  vectorFromHex,
  vectorToHex,
  type DenseInt8Model,
  type ModelCommitments,
  type RunResult,
} from "../../engine/index.js";
import { runWithFault, type Fault } from "../../protocol/faults.js";
import { teeBatchDigest, type TypedDataSigner } from "../../protocol/tee.js";
import { batchTree, fetchBatchFile, writeBatchFile } from "../batch.js";
import { DisclosurePhase } from "../clients/disclosure.js";
import { Phase, type DisputeParams } from "../clients/disputes.js";
import { batchHeaderOf, type BatchHeader, type TeeSealRequest } from "../clients/ledger.js";
import type { LogRangeOptions } from "../clients/registry.js";
import { VerityRevertError } from "../errors.js";
import { TraceStore, type StoredTrace } from "../store.js";
import { batchIdOf, leafHashOf } from "../ids.js";
import { findCommitmentEvent } from "../logs.js";
import type { Verity } from "../verity.js";
import type { FoundRequest } from "../clients/oracle.js";

/** What a provider did in one dispute (for logs). */
export type ProviderAction = "revealInput" | "revealTrace" | "revealLayer" | "timeout" | "none";

/** How `ProviderAgent.commit` publishes the input. */
export interface CommitOptions {
  /**
   * Publish this URI (at most 256 bytes) instead of the input bytes: challengers then demand the input
   * on-chain. By default the exact input goes in the event and the commitment is marked INPUT_PUBLIC.
   */
  uri?: string;
}

/**
 * How a TEE-mode provider seals its commitments: with an enclave key registered in the EnvironmentRegistry
 * (through an attestation verifier) for this provider, in an environment the model allows.
 */
export interface TeeSigning {
  /** The registered enclave key (any EIP-712 signer; in production it never leaves the enclave). */
  enclave: TypedDataSigner;
  /** The environment the key was registered in (`environmentIdOf(teeType, measurement)`). */
  environment: string;
  /** Seconds of chain time a seal stays valid (default 600). */
  sealLifetime?: number;
}

/** Default seconds of chain time a TEE-mode agent's seal stays valid. */
export const DEFAULT_SEAL_LIFETIME = 600;

/** What else a provider agent is built with. */
export interface ProviderAgentOptions {
  /** Seal every commitment with this enclave key (`commitTee` / `commitTeeBatch`) instead of `commit`. */
  tee?: TeeSigning;
}

/**
 * Ledger refusals of a seal that no retry can fix: the key (or its environment) is revoked, expired, not
 * this provider's, or not allowed for the model. After one, a TEE-mode agent stops committing with the key.
 */
export const ENCLAVE_REFUSALS: ReadonlySet<string> = new Set([
  "InferenceLedgerEnclaveRevoked",
  "InferenceLedgerEnclaveExpired",
  "InferenceLedgerEnvironmentRevoked",
  "InferenceLedgerEnvironmentNotAllowed",
  "InferenceLedgerEnvironmentMismatch",
  "InferenceLedgerUnknownEnclave",
  "InferenceLedgerEnclaveOfOtherOperator",
  "InferenceLedgerTeeNotAccepted",
]);

/**
 * The ledger refused this agent's enclave key for good (one of `ENCLAVE_REFUSALS`); every later commit
 * with the key throws it again without sending anything. Disputes are still answered.
 */
export class EnclaveRefusedError extends Error {
  constructor(
    /** The refused key. */
    readonly enclaveKey: string,
    /** The ledger's refusal (`refusal.errorName`, e.g. `InferenceLedgerEnclaveRevoked`). */
    readonly refusal: VerityRevertError,
  ) {
    super(`enclave key ${enclaveKey} refused by the ledger: ${refusal.message}`);
    this.name = "EnclaveRefusedError";
  }

  /** The ledger error's name. */
  get errorName(): string {
    return this.refusal.errorName;
  }
}

/**
 * A provider: runs the engine, commits inferences (singly or in batches) of one registered model id,
 * keeps every trace on disk, answers every dispute against its commitments from those traces (ending
 * games whose challenger lapsed), answers disclosure demands on its batches, and claims its credit. In TEE
 * mode (`options.tee`) each commitment is sealed with the enclave key; once the ledger refuses the key (see
 * `ENCLAVE_REFUSALS`) it commits no more, and keeps answering disputes on what it committed.
 */
export class ProviderAgent {
  readonly commitments: ModelCommitments;
  /** The enclave key this agent seals with (TEE mode), if any. */
  readonly tee?: TeeSigning;
  /** Set once the ledger refused the enclave key: every later commit throws it. */
  teeRefusal?: EnclaveRefusedError;

  /**
   * @param modelId The registration this provider commits under (`modelIdOf(publisher, contentHash)`);
   * `ProviderAgent.create` finds it from the model file.
   */
  constructor(
    readonly verity: Verity,
    readonly model: DenseInt8Model,
    readonly store: TraceStore,
    readonly modelId: string,
    options: ProviderAgentOptions = {},
  ) {
    this.commitments = modelCommitments(model);
    this.tee = options.tee;
  }

  /**
   * A provider of `model` under `options.modelId`, or the registration by `options.publisher`, or the
   * only registration of the model's content (see `RegistryClient.resolveModelId`).
   */
  static async create(
    verity: Verity,
    model: DenseInt8Model,
    store: TraceStore,
    options: { modelId?: string; publisher?: string } & LogRangeOptions & ProviderAgentOptions = {},
  ): Promise<ProviderAgent> {
    const modelId = await verity.registry.resolveModelId(model, options);
    return new ProviderAgent(verity, model, store, modelId, { tee: options.tee });
  }

  /** Runs the model; with a fault, the way a cheating provider would (tests and the demo). */
  infer(input: Int8Array, fault?: Fault): RunResult {
    return fault === undefined ? run(this.model, input) : runWithFault(this.model, input, fault);
  }

  /**
   * Runs and commits one inference (sealed with the enclave key in TEE mode); returns its id and run. The
   * exact input bytes go in the event (INPUT_PUBLIC) unless `options.uri` is given. In TEE mode, throws an
   * `EnclaveRefusedError` when the ledger refuses the key (then, and ever after, without sending).
   */
  async commit(
    input: Int8Array,
    fault?: Fault,
    options: CommitOptions = {},
  ): Promise<{ id: string; result: RunResult }> {
    const result = this.infer(input, fault);
    const data = options.uri === undefined ? { input: vectorToHex(input) } : { uri: options.uri };
    const inference = { inputHash: result.inputHash, outputHash: result.outputHash, traceRoot: result.traceRoot };
    const id =
      this.tee === undefined
        ? await (await this.verity.ledger.commit({ modelId: this.modelId, inference, ...data })).wait()
        : await this.sealed(async (seal) => {
            return (await this.verity.ledger.commitTee({ modelId: this.modelId, inference, ...data, ...seal })).wait();
          });
    this.store.put(TraceStore.key(id), this.stored(result));
    return { id, result };
  }

  /**
   * Answers an oracle request (read back with `verity.oracle.find`, which checked its id and input hash):
   * runs the model on its input (altered by `fault`, for tests and the demo) and fulfills it with a
   * commitment bound to the request, whose trace is stored for the disputes it may face. Optimistic
   * answers only: TEE-sealed answers go through `verity.oracle.contract.fulfillTee`.
   */
  async answerRequest(found: FoundRequest, fault?: Fault): Promise<{ id: string; result: RunResult }> {
    if (found.request.modelId.toLowerCase() !== this.modelId.toLowerCase()) {
      throw new Error(`request ${found.requestId} is for model ${found.request.modelId}, not ${this.modelId}`);
    }
    const input = vectorFromHex(found.input);
    const result = this.infer(input, fault);
    const inference = { inputHash: result.inputHash, outputHash: result.outputHash, traceRoot: result.traceRoot };
    const id = await (await this.verity.oracle.fulfill(found.request, inference, vectorToHex(result.output))).wait();
    this.store.put(TraceStore.key(id), this.stored(result));
    return { id, result };
  }

  /**
   * Runs and commits a batch (sealed with the enclave key in TEE mode: its header then carries the sealed
   * digest as `binding`); writes the batch data file (leaves and inputs) to `dataFile` and commits
   * its `file://` URI. `faults[i]` tampers with inference i. Inputs that repeat, or more than the
   * model's `maxBatchLeaves`, are refused before anything is sent.
   */
  async commitBatch(
    inputs: readonly Int8Array[],
    dataFile: string,
    faults: readonly (Fault | undefined)[] = [],
    options: { withholdInputs?: boolean; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ batchId: string; results: RunResult[]; root: string; header: BatchHeader }> {
    const results = inputs.map((input, i) => {
      const result = this.infer(input, faults[i]);
      options.onProgress?.(i + 1, inputs.length);
      return result;
    });
    const seen = new Map<string, number>();
    results.forEach((r, i) => {
      const hash = leafHashOf(r);
      const first = seen.get(hash);
      if (first !== undefined)
        throw new Error(`batch inputs ${first} and ${i} are the same inference: a batch holds distinct leaves`);
      seen.set(hash, i);
    });
    const tree = batchTree(results);
    const provider = await (this.verity.runner as unknown as { getAddress(): Promise<string> }).getAddress();
    const dataURI = writeBatchFile(dataFile, {
      format: "verity.batch.v1",
      modelId: this.modelId,
      provider,
      root: tree.root,
      count: results.length,
      leaves: results.map((r, i) => ({
        inputHash: r.inputHash,
        outputHash: r.outputHash,
        traceRoot: r.traceRoot,
        ...(options.withholdInputs ? {} : { input: vectorToHex(inputs[i]) }),
      })),
    });
    const request = { modelId: this.modelId, root: tree.root, count: results.length, dataURI, leaves: results };
    let header = batchHeaderOf(provider, this.modelId, tree.root, results.length);
    let batchId: string;
    if (this.tee === undefined) {
      batchId = await (await this.verity.ledger.commitBatch(request)).wait();
    } else {
      batchId = await this.sealed(async (seal) => {
        const { chainId } = await this.verity.provider.getNetwork();
        const domain = { chainId, ledger: await this.verity.ledger.contract.getAddress() };
        const { environment, nonce, deadline } = seal;
        const fields = { environment, enclaveKey: await seal.enclave.getAddress(), nonce, deadline };
        header = { ...header, binding: teeBatchDigest(domain, this.modelId, tree.root, results.length, fields) };
        return (await this.verity.ledger.commitTeeBatch({ ...request, ...seal })).wait();
      });
      if (batchIdOf(header).toLowerCase() !== batchId.toLowerCase()) {
        throw new Error(`TEE batch ${batchId}: the ledger's id is not the one of the sealed header`);
      }
    }
    for (const r of results) this.store.put(TraceStore.key(batchId, leafHashOf(r)), this.stored(r));
    return { batchId, results, root: tree.root, header };
  }

  /**
   * Makes this provider's move in a game, if it is its turn and it still can; ends the game by timeout
   * when the challenger let its own move lapse (a demand answered and not continued, a layer not
   * selected, a neuron not proven). Returns what it did.
   */
  async answer(disputeId: string, params: DisputeParams): Promise<ProviderAction> {
    const d = this.verity.disputes;
    const game = await d.game(disputeId);
    if (game.phase === Phase.Resolved || game.phase === Phase.None) return "none";
    if ((await d.now()) > game.deadline) {
      if (!challengerMoves(game.phase)) return "none";
      await (await d.timeout(params)).wait();
      return "timeout";
    }
    if (!providerMoves(game.phase)) return "none";
    const trace = this.store.get(
      TraceStore.key(params.target, params.isLeaf ? leafHashOf(params.inference) : undefined),
    );
    if (trace === undefined) throw new Error(`no stored trace for dispute ${disputeId} (target ${params.target})`);
    switch (game.phase) {
      case Phase.AwaitingInput:
        await (await d.revealInput(params, trace.activations[0])).wait();
        return "revealInput";
      case Phase.AwaitingTrace:
        await (await d.revealTrace(params, trace.layerHashes)).wait();
        return "revealTrace";
      case Phase.AwaitingLayerReveal:
        await (await d.revealLayer(params, game.layer, trace.layerHashes, trace.activations[game.layer])).wait();
        return "revealLayer";
      default:
        return "none";
    }
  }

  /** The headers of this provider's batches with a disclosure demanded in `[fromBlock, toBlock]`. */
  async disclosureDemands(fromBlock: number, toBlock: number): Promise<{ batchId: string; header: BatchHeader }[]> {
    const me = (await (this.verity.runner as unknown as { getAddress(): Promise<string> }).getAddress()).toLowerCase();
    const found: { batchId: string; header: BatchHeader }[] = [];
    for (const demand of await this.verity.disclosure.scanDemanded(fromBlock, toBlock)) {
      const header = await this.batchHeader(demand.batchId);
      if (header !== undefined && header.provider.toLowerCase() === me) found.push({ batchId: demand.batchId, header });
    }
    return found;
  }

  /**
   * Answers an open disclosure demand on one of this provider's batches: every leaf with its input (from
   * the stored traces), in ascending leaf-hash order and gas-bounded chunks, then `finishDisclosure`.
   * Returns "disclosed", or "none" when no demand is open (or its deadline passed).
   */
  async answerDisclosure(header: BatchHeader): Promise<"disclosed" | "none"> {
    const batchId = batchIdOf(header);
    const state = await this.verity.disclosure.disclosureOf(batchId);
    if (state.phase !== DisclosurePhase.Open || (await this.verity.disclosure.now()) > state.deadline) return "none";
    const leaves = (await this.batchLeaves(batchId)).map((leaf) => {
      const trace = this.store.get(TraceStore.key(batchId, leafHashOf(leaf)));
      if (trace === undefined) throw new Error(`batch ${batchId}: no stored trace for leaf ${leafHashOf(leaf)}`);
      return { leaf, input: trace.activations[0] };
    });
    await this.verity.disclosure.discloseAll(header, leaves);
    return "disclosed";
  }

  /** Claims this provider's credit (won bonds, disclosure bonds); resolves to the amount (0 when none). */
  async claim(): Promise<bigint> {
    const me = await (this.verity.runner as unknown as { getAddress(): Promise<string> }).getAddress();
    if ((await this.verity.staking.creditOf(me)) === 0n) return 0n;
    return (await this.verity.staking.claim()).wait();
  }

  /**
   * Seals a commitment through `send` with the enclave key; a permanent refusal of the key (see
   * `ENCLAVE_REFUSALS`) is remembered and thrown as an `EnclaveRefusedError`, now and on every later call.
   */
  private async sealed<T>(send: (seal: Required<TeeSealRequest>) => Promise<T>): Promise<T> {
    const tee = this.tee!;
    if (this.teeRefusal !== undefined) throw this.teeRefusal;
    try {
      const fields = await sealFields(this.verity, tee.sealLifetime ?? DEFAULT_SEAL_LIFETIME);
      return await send({ enclave: tee.enclave, environment: tee.environment, ...fields });
    } catch (error) {
      if (error instanceof VerityRevertError && ENCLAVE_REFUSALS.has(error.errorName)) {
        this.teeRefusal = new EnclaveRefusedError(await tee.enclave.getAddress(), error);
        throw this.teeRefusal;
      }
      throw error;
    }
  }

  /** A batch's header from its `BatchCommitted` or `TeeBatchCommitted` event (undefined if the node has none). */
  private async batchHeader(batchId: string): Promise<BatchHeader | undefined> {
    const event = await findCommitmentEvent(this.verity.ledger.contract, batchId, "batch");
    if (event === undefined) return undefined;
    const header = batchHeaderOf(event.provider, event.modelId, event.root, event.count);
    return event.tee === undefined ? header : { ...header, binding: event.tee.binding };
  }

  /**
   * The leaves of one of this provider's batches, from its data file, read through the bounded fetcher
   * (any scheme it reads; private addresses allowed: the URI is the provider's own, from its own commit).
   */
  private async batchLeaves(batchId: string) {
    const event = await findCommitmentEvent(this.verity.ledger.contract, batchId, "batch");
    if (event === undefined) throw new Error(`batch ${batchId} not found`);
    return (await fetchBatchFile(event.dataURI, { allowPrivate: true })).leaves.map((l) => ({
      inputHash: l.inputHash,
      outputHash: l.outputHash,
      traceRoot: l.traceRoot,
    }));
  }

  private stored(result: RunResult): StoredTrace {
    return {
      modelId: this.modelId,
      activations: result.activations.map(vectorToHex),
      layerHashes: [...result.layerHashes],
    };
  }
}

function providerMoves(phase: Phase): boolean {
  return phase === Phase.AwaitingInput || phase === Phase.AwaitingTrace || phase === Phase.AwaitingLayerReveal;
}

function challengerMoves(phase: Phase): boolean {
  return phase === Phase.InputRevealed || phase === Phase.AwaitingLayerSelection || phase === Phase.AwaitingNeuronProof;
}

/**
 * A seal's nonce (random 64 bits: with the signed inference it makes the id, so no two seals make the same
 * one) and deadline (`sealLifetime` seconds past the latest block). Chosen here rather than by the ledger
 * client so that a batch's binding (the digest they enter) is known for its header.
 */
async function sealFields(verity: Verity, sealLifetime: number): Promise<{ nonce: bigint; deadline: bigint }> {
  const latest = await verity.provider.getBlock("latest");
  if (latest === null) throw new Error("the node has no latest block");
  return { nonce: BigInt(hexlify(randomBytes(8))), deadline: BigInt(latest.timestamp + sealLifetime) };
}

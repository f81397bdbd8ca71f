import type { ContractRunner, Provider } from "ethers";
import { modelCommitments, modelIdOf, type DenseInt8Model, type LayerSpec } from "../../engine/index.js";
import { ModelRegistry__factory, type ModelRegistry } from "../../../typechain-types/index.js";
import { decodingReverts } from "../errors.js";
import { findEvent, sendTx, type VerityTx } from "../tx.js";

/** A model policy (see `ModelPolicy` in contracts/types/Model.sol). Amounts in token base units. */
export interface PolicyInput {
  challengeWindow: number;
  responseWindow: number;
  minStake: bigint;
  slashAmount: bigint;
  challengerBond: bigint;
  /** How TEE signatures settle commitments: 0 not accepted, 1 shortened window, 2 instant. */
  teeMode: number;
  /** Shortened window (mode 1) or accountability period (mode 2), seconds; 0 for mode 0. */
  teeWindow: number;
  /** Whether commitments settled by a proof (through a verifier governance approves) are accepted. */
  proofAccepted: boolean;
}

/** Sensible defaults: 1 h windows, 100 / 50 / 10 tokens (18 decimals) for stake, slash and bond. */
export const DEFAULT_POLICY: PolicyInput = {
  challengeWindow: 3600,
  responseWindow: 3600,
  minStake: 100n * 10n ** 18n,
  slashAmount: 50n * 10n ** 18n,
  challengerBond: 10n * 10n ** 18n,
  teeMode: 0,
  teeWindow: 0,
  proofAccepted: false,
};

/**
 * A model's content as registered (`ModelSpec` in contracts/types/Model.sol). For dense-int8-v1 the layers
 * are given and `graphHash` may be zero (the registry computes it); other engines give no layers and an
 * opaque non-zero `graphHash`.
 */
export interface ModelSpecInput {
  engineId: string;
  weightsRoot: string;
  layers: readonly LayerSpec[];
  graphHash: string;
  metadataURI: string;
}

/** What `register` needs; `policy` fields default to DEFAULT_POLICY. */
export interface RegisterModelRequest {
  spec: ModelSpecInput;
  policy?: Partial<PolicyInput>;
  /** Registers a new version of this model id instead of a first version. */
  predecessor?: string;
}

/** Options of `registerModel` (the spec comes from the model file). */
export interface RegisterModelOptions {
  metadataURI?: string;
  policy?: Partial<PolicyInput>;
  predecessor?: string;
}

/** One `ModelRegistered` event: a publisher's registration of some content. */
export interface ModelRegistration {
  modelId: string;
  publisher: string;
  contentHash: string;
  predecessor: string;
  version: number;
  metadataURI: string;
  blockNumber: number;
}

/** Options of a bounded log search. */
export interface LogRangeOptions {
  /** First block to search (default 0). */
  fromBlock?: number;
  /** Last block to search (default: the head). */
  toBlock?: number;
  /** Blocks per `eth_getLogs` (default 2,000). */
  maxRange?: number;
}

/** Gas bounds of games on a model (`ModelRegistry.gasBoundsOf`). */
export interface GasBoundsOfModel {
  worstHonestMove: bigint;
  providerGame: bigint;
  challengerGame: bigint;
}

/** The spec of a dense-int8-v1 model file: its layers, weights root and graph hash. */
export function specOf(model: DenseInt8Model, metadataURI = ""): ModelSpecInput {
  const c = modelCommitments(model);
  return { engineId: c.engineId, weightsRoot: c.weightsRoot, layers: c.graph, graphHash: c.graphHash, metadataURI };
}

/**
 * A model file resolves to no registration, or to several (publishers registered the same content):
 * the message is one line saying what to pass.
 */
export class ModelResolutionError extends Error {
  constructor(
    message: string,
    readonly contentHash: string,
    readonly registrations: readonly ModelRegistration[],
  ) {
    super(message);
    this.name = "ModelResolutionError";
  }
}

/** Client of the ModelRegistry. */
export class RegistryClient {
  /** The TypeChain binding. */
  readonly contract: ModelRegistry;

  constructor(address: string, runner: ContractRunner) {
    this.contract = ModelRegistry__factory.connect(address, runner);
  }

  /** Registers a model (or a new version) from its spec; `wait()` resolves to the model id. */
  async register(request: RegisterModelRequest): Promise<VerityTx<string>> {
    const policy = { ...DEFAULT_POLICY, ...request.policy };
    const spec = {
      engineId: request.spec.engineId,
      weightsRoot: request.spec.weightsRoot,
      layers: request.spec.layers.map((l) => ({ ...l })),
      graphHash: request.spec.graphHash,
      metadataURI: request.spec.metadataURI,
    };
    const send =
      request.predecessor === undefined
        ? () => this.contract.registerModel(spec, policy)
        : () => this.contract.registerVersion(request.predecessor!, spec, policy);
    return sendTx(send, (receipt) => findEvent(receipt, this.contract.interface, "ModelRegistered").args.modelId);
  }

  /** Registers a dense-int8 model from its parsed file (layers, weights root and graph hash computed). */
  async registerModel(model: DenseInt8Model, options: RegisterModelOptions = {}): Promise<VerityTx<string>> {
    return this.register({
      spec: specOf(model, options.metadataURI ?? ""),
      policy: options.policy,
      predecessor: options.predecessor,
    });
  }

  /**
   * Every registration of `contentHash` (all publishers, all versions), found through the indexed
   * `contentHash` topic of `ModelRegistered`, in bounded block ranges; in chain order.
   */
  async registrationsOf(contentHash: string, options: LogRangeOptions = {}): Promise<ModelRegistration[]> {
    const provider = this.contract.runner?.provider as Provider | null | undefined;
    if (provider === null || provider === undefined) throw new Error("the registry client has no provider");
    const to = options.toBlock ?? (await provider.getBlockNumber());
    const range = Math.max(1, options.maxRange ?? 2_000);
    const filter = this.contract.filters.ModelRegistered(undefined, undefined, contentHash);
    const found: ModelRegistration[] = [];
    for (let from = options.fromBlock ?? 0; from <= to; from += range) {
      const events = await this.contract.queryFilter(filter, from, Math.min(to, from + range - 1));
      for (const e of events) {
        found.push({
          modelId: e.args.modelId,
          publisher: e.args.publisher,
          contentHash: e.args.contentHash,
          predecessor: e.args.predecessor,
          version: Number(e.args.version),
          metadataURI: e.args.metadataURI,
          blockNumber: e.blockNumber,
        });
      }
    }
    return found;
  }

  /**
   * The one model id a model file stands for: `modelId` when given (checked to be registered with this
   * content), else the registration by `publisher`, else the only registration of the file's content.
   * @throws ModelResolutionError when there is none, or several and neither option picks one.
   */
  async resolveModelId(
    model: DenseInt8Model,
    options: { modelId?: string; publisher?: string } & LogRangeOptions = {},
  ): Promise<string> {
    const { contentHash } = modelCommitments(model);
    if (options.modelId !== undefined || options.publisher !== undefined) {
      const modelId = options.modelId ?? modelIdOf(options.publisher!, contentHash);
      const record = await this.contract.getModel(modelId).catch(() => undefined);
      if (record === undefined) {
        throw new ModelResolutionError(
          options.modelId !== undefined
            ? `model ${modelId} is not registered`
            : `${options.publisher} has not registered this model (content ${contentHash})`,
          contentHash,
          [],
        );
      }
      if (record.contentHash.toLowerCase() !== contentHash.toLowerCase()) {
        throw new ModelResolutionError(
          `model ${modelId} has content ${record.contentHash}, not this model file's ${contentHash}`,
          contentHash,
          [],
        );
      }
      return modelId;
    }
    const registrations = await this.registrationsOf(contentHash, options);
    if (registrations.length === 1) return registrations[0].modelId;
    if (registrations.length === 0) {
      throw new ModelResolutionError(
        `no publisher has registered this model (content ${contentHash}): register it first`,
        contentHash,
        registrations,
      );
    }
    throw new ModelResolutionError(
      `${registrations.length} publishers registered this model (content ${contentHash}): pass --publisher <address> or --model-id <id> ` +
        `(${registrations.map((r) => `${r.publisher} -> ${r.modelId}`).join(", ")})`,
      contentHash,
      registrations,
    );
  }

  /** Deprecates a model: commitments are accepted for `gracePeriod` more seconds. */
  async deprecate(modelId: string, gracePeriod: number): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.deprecateModel(modelId, gracePeriod),
      () => undefined,
    );
  }

  /** Revokes a model at once (publisher or governor). */
  async revoke(modelId: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.revokeModel(modelId),
      () => undefined,
    );
  }

  /** The registry record of a model. */
  async get(modelId: string) {
    return decodingReverts(() => this.contract.getModel(modelId));
  }

  /** The layers of a dense-int8-v1 model (empty for opaque engines). */
  async layersOf(modelId: string): Promise<LayerSpec[]> {
    const layers = await decodingReverts(() => this.contract.layersOf(modelId));
    // Positional: on an ethers Result, `.shift` is Array.prototype.shift, not the field.
    return layers.map((l) => ({
      inDim: Number(l[0]),
      outDim: Number(l[1]),
      multiplier: Number(l[2]),
      shift: Number(l[3]),
      relu: l[4],
    }));
  }

  /** Gas bounds of a game on the model: its largest honest move and each side's full game. */
  async gasBoundsOf(modelId: string): Promise<GasBoundsOfModel> {
    const [worstHonestMove, providerGame, challengerGame] = await decodingReverts(() =>
      this.contract.gasBoundsOf(modelId),
    );
    return { worstHonestMove, providerGame, challengerGame };
  }

  /** Token base units one unit of gas is worth (bonds are sized against it). */
  async referenceGasPrice(): Promise<bigint> {
    return this.contract.referenceGasPrice();
  }

  /** Whether a commitment of the model would be accepted now. */
  async acceptsCommitments(modelId: string): Promise<boolean> {
    return this.contract.acceptsCommitments(modelId);
  }

  /**
   * Allows an approved environment for a model whose policy accepts TEE signatures (publisher or governor):
   * keys attested in it may then seal the model's commitments.
   */
  async allowEnvironment(modelId: string, environment: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.allowEnvironment(modelId, environment),
      () => undefined,
    );
  }

  /** Disallows an environment for a model (publisher or governor); seals from its keys are refused at once. */
  async disallowEnvironment(modelId: string, environment: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.disallowEnvironment(modelId, environment),
      () => undefined,
    );
  }

  /** The environments allowed for a model. */
  async environmentsOf(modelId: string): Promise<string[]> {
    return [...(await decodingReverts(() => this.contract.environmentsOf(modelId)))];
  }

  /** Whether an environment is allowed for a model. */
  async isEnvironmentAllowed(modelId: string, environment: string): Promise<boolean> {
    return this.contract.isEnvironmentAllowed(modelId, environment);
  }

  /**
   * Approves a verifier contract for a model whose policy accepts proofs (governor only): its proofs then
   * settle the model's commitments at once (`InferenceLedger.commitVerified`).
   */
  async approveVerifier(modelId: string, verifier: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.approveVerifier(modelId, verifier),
      () => undefined,
    );
  }

  /** Revokes an approved verifier (governor only): its later proofs are refused; what it proved stays Final. */
  async revokeVerifier(verifier: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.revokeVerifier(verifier),
      () => undefined,
    );
  }

  /** The verifier approved for a model (or its last revoked one) and when it was approved and revoked. */
  async verifierOf(
    modelId: string,
  ): Promise<{ verifier: string; serial: number; approvedAt: number; revokedAt: number }> {
    const [verifier, info] = await this.contract.verifierOf(modelId);
    return {
      verifier,
      serial: Number(info.serial),
      approvedAt: Number(info.approvedAt),
      revokedAt: Number(info.revokedAt),
    };
  }

  /** The newest version in the model's chain. */
  async latestVersion(modelId: string): Promise<string> {
    return decodingReverts(() => this.contract.latestVersion(modelId));
  }
}

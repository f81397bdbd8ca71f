import type { ContractRunner } from "ethers";
import { ENGINE_ID, modelCommitments, type DenseInt8Model } from "../../engine/index.js";
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
}

/** Sensible defaults: 1 h windows, 100 / 50 / 10 tokens (18 decimals) for stake, slash and bond. */
export const DEFAULT_POLICY: PolicyInput = {
  challengeWindow: 3600,
  responseWindow: 3600,
  minStake: 100n * 10n ** 18n,
  slashAmount: 50n * 10n ** 18n,
  challengerBond: 10n * 10n ** 18n,
};

/** What `registerModel` needs; `engineId` defaults to dense-int8-v1, `policy` fields to DEFAULT_POLICY. */
export interface RegisterModelRequest {
  weightsRoot: string;
  graphHash: string;
  engineId?: string;
  metadataURI?: string;
  policy?: Partial<PolicyInput>;
  /** Registers a new version of this model id instead of a first version. */
  predecessor?: string;
}

/** Client of the ModelRegistry. */
export class RegistryClient {
  /** The TypeChain binding. */
  readonly contract: ModelRegistry;

  constructor(address: string, runner: ContractRunner) {
    this.contract = ModelRegistry__factory.connect(address, runner);
  }

  /** Registers a model (or a new version); `wait()` resolves to the model id. */
  async register(request: RegisterModelRequest): Promise<VerityTx<string>> {
    const policy = { ...DEFAULT_POLICY, ...request.policy };
    const engineId = request.engineId ?? ENGINE_ID;
    const uri = request.metadataURI ?? "";
    const send =
      request.predecessor === undefined
        ? () => this.contract.registerModel(request.weightsRoot, request.graphHash, engineId, uri, policy)
        : () =>
            this.contract.registerVersion(
              request.predecessor!,
              request.weightsRoot,
              request.graphHash,
              engineId,
              uri,
              policy,
            );
    return sendTx(send, (receipt) => findEvent(receipt, this.contract.interface, "ModelRegistered").args.modelId);
  }

  /** Registers a dense-int8 model from its parsed file (computes weights root and graph hash). */
  async registerModel(
    model: DenseInt8Model,
    options: Omit<RegisterModelRequest, "weightsRoot" | "graphHash" | "engineId"> = {},
  ): Promise<VerityTx<string>> {
    const c = modelCommitments(model);
    return this.register({ ...options, weightsRoot: c.weightsRoot, graphHash: c.graphHash, engineId: c.engineId });
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

  /** Whether a commitment of the model would be accepted now. */
  async acceptsCommitments(modelId: string): Promise<boolean> {
    return this.contract.acceptsCommitments(modelId);
  }

  /** The newest version in the model's chain. */
  async latestVersion(modelId: string): Promise<string> {
    return decodingReverts(() => this.contract.latestVersion(modelId));
  }
}

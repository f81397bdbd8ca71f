import path from "node:path";
import { fileURLToPath } from "node:url";
import type { NetworkConnection } from "hardhat/types/network";
import type { ContractTransactionResponse } from "ethers";
import {
  modelCommitments,
  modelIdOf,
  readModelFile,
  run,
  vectorToHex,
  type DenseInt8Model,
  type RunResult,
} from "../../src/engine/index.js";
import { runWithFault, type Fault } from "../../src/protocol/faults.js";
import { buildNeuronProof, firstDisputedLayer } from "../../src/protocol/dispute.js";
import { toDisputeParams } from "../../src/sdk/clients/disputes.js";
import type { DisputeGame } from "../../typechain-types/index.js";
import type { DisputeParamsStruct } from "../../typechain-types/contracts/disputes/DisputeGame.js";
import { defaultPolicy, deployVerity } from "./fixtures.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const MNIST_MODEL_PATH = path.join(here, "../../models/mnist-784-128-64-10.json");

let cachedModel: DenseInt8Model | undefined;
/** The shipped MNIST model (parsed once per process). */
export async function mnistModel(): Promise<DenseInt8Model> {
  cachedModel ??= await readModelFile(MNIST_MODEL_PATH);
  return cachedModel;
}

/** A deterministic pseudo-random 784-pixel int8 input in [0, 127] (a stand-in digit). */
export function pseudoDigit(seed: number): Int8Array {
  const x = new Int8Array(784);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    x[i] = s % 128;
  }
  return x;
}

/**
 * Deploys the protocol, registers the MNIST model, and stakes a provider; signers:
 * 0 admin, 1 publisher, 2 provider, 3 and 4 challengers, 5 second provider.
 */
export async function deployWithMnist(connection: NetworkConnection) {
  const core = await deployVerity(connection);
  const { ethers } = connection;
  const model = await mnistModel();
  const commitments = modelCommitments(model);
  const [, publisher, provider, challenger, challenger2, provider2] = core.signers;
  const policy = defaultPolicy(ethers);
  await core.registry.connect(publisher).registerModel(mnistSpec(commitments), policy);
  const modelId = modelIdOf(publisher.address, commitments.contentHash);
  for (const p of [provider, provider2]) await core.stakeManager.connect(p).deposit(ethers.parseEther("1000"));
  return { ...core, model, commitments, modelId, policy, publisher, provider, provider2, challenger, challenger2 };
}

/** The `ModelSpec` a publisher registers a `dense-int8-v1` model with (the graph hash is computed). */
export function mnistSpec(commitments: ReturnType<typeof modelCommitments>, metadataURI = "ipfs://mnist") {
  return {
    engineId: commitments.engineId,
    weightsRoot: commitments.weightsRoot,
    layers: commitments.graph,
    graphHash: commitments.graphHash,
    metadataURI,
  };
}

/** Runs the model honestly, or with a fault when given one. */
export function infer(model: DenseInt8Model, input: Int8Array, fault?: Fault): RunResult {
  return fault === undefined ? run(model, input) : runWithFault(model, input, fault);
}

/** Reads the DisputeOpened params out of a transaction. */
export async function paramsFrom(game: DisputeGame, tx: ContractTransactionResponse): Promise<DisputeParamsStruct> {
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = game.interface.parseLog(log);
    if (parsed?.name === "DisputeOpened") return structToParams(parsed.args.params);
  }
  throw new Error("no DisputeOpened event");
}

/** Converts an ethers Result of DisputeParams into a plain object the binding accepts. */
export function structToParams(p: unknown): DisputeParamsStruct {
  return toDisputeParams(p) as DisputeParamsStruct;
}

export { buildNeuronProof, firstDisputedLayer, vectorToHex };

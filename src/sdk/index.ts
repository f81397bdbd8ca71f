/**
 * The Verity TypeScript SDK: typed clients over the TypeChain bindings, revert decoding, deployment
 * discovery, and the provider and challenger agents the daemons run.
 * @packageDocumentation
 */
export { Verity, type ConnectOptions } from "./verity.js";
export { loadDeployment, addressesFromIgnition, DEFAULT_DEPLOYMENTS_DIR, type VerityAddresses } from "./deployments.js";
export { VerityRevertError, toVerityError, decodeRevertData, decodingReverts } from "./errors.js";
export { sendTx, type VerityTx } from "./tx.js";
export { RegistryClient, DEFAULT_POLICY, type PolicyInput, type RegisterModelRequest } from "./clients/registry.js";
export { StakingClient } from "./clients/staking.js";
export {
  LedgerClient,
  CommitmentStatus,
  type BatchHeader,
  type CommitmentEvent,
  type InferenceHashes,
} from "./clients/ledger.js";
export {
  DisputeClient,
  Phase,
  Outcome,
  toDisputeParams,
  type DisputeParams,
  type GameState,
} from "./clients/disputes.js";
export { commitmentIdOf, batchIdOf, leafHashOf } from "./ids.js";
export { batchTree, readBatchFile, writeBatchFile, BATCH_LEAF_ENCODING, type BatchDataFile } from "./batch.js";
export { JsonFile, TraceStore, type StoredTrace } from "./store.js";
export { ProviderAgent, type ProviderAction } from "./agents/provider.js";
export { ChallengerAgent, type Finding, type ChallengerAction } from "./agents/challenger.js";

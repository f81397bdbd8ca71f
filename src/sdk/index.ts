/**
 * The Verity TypeScript SDK: typed clients over the TypeChain bindings, revert decoding, deployment
 * discovery, and the provider and challenger agents the daemons run.
 * @packageDocumentation
 */
export { Verity, type ConnectOptions } from "./verity.js";
export {
  loadDeployment,
  addressesFromIgnition,
  DEFAULT_DEPLOYMENTS_DIR,
  findDeployment,
  planDeployment,
  inspectDeployment,
  chainInstanceOf,
  instanceDeploymentId,
  writeDeploymentIdentity,
  readDeploymentIdentity,
  supportsCancun,
  isMissingOpcodeError,
  cancunRequiredMessage,
  DeploymentError,
  DEPLOYMENT_IDENTITY_FILE,
  BUILD_EVM_VERSION,
  type ChainReader,
  type ChainInstance,
  type DeploymentIdentity,
  type FoundDeployment,
  type DeploymentPlan,
  type InspectedDeployment,
  type VerityAddresses,
} from "./deployments.js";
export {
  VerityRevertError,
  toVerityError,
  decodeRevertData,
  decodingReverts,
  formatTime,
  formatDuration,
  meaningOf,
} from "./errors.js";
export { sendTx, type VerityTx } from "./tx.js";
export {
  RegistryClient,
  DEFAULT_POLICY,
  ModelResolutionError,
  specOf,
  type GasBoundsOfModel,
  type LogRangeOptions,
  type ModelRegistration,
  type ModelSpecInput,
  type PolicyInput,
  type RegisterModelOptions,
  type RegisterModelRequest,
} from "./clients/registry.js";
export { StakingClient } from "./clients/staking.js";
export {
  LedgerClient,
  CommitmentStatus,
  Finality,
  MAX_URI_BYTES,
  RecordFlags,
  batchHeaderOf,
  batchRootOf,
  hasFlag,
  finalityName,
  DEFAULT_SEAL_LIFETIME,
  type TeeSealRequest,
  type CommitTeeRequest,
  type CommitTeeBatchRequest,
  type TeeRecordInfo,
  type BatchHeader,
  type CommitBatchRequest,
  type CommitRequest,
  type CommitmentEvent,
  type InferenceHashes,
  type LedgerRecord,
} from "./clients/ledger.js";
export {
  DisputeClient,
  Phase,
  Outcome,
  leafTargetKeyOf,
  targetKeyOf,
  toDisputeParams,
  type CommitmentKey,
  type DisputeParams,
  type GameState,
  type RewardPool,
} from "./clients/disputes.js";
export {
  DisclosureClient,
  DisclosurePhase,
  disclosureOrder,
  type DisclosedLeaf,
  type DisclosedLeafEvent,
  type DisclosureState,
} from "./clients/disclosure.js";
export { FileNonceBook, MemoryNonceBook, randomNonce, type NonceBook } from "./nonces.js";
export { commitmentIdOf, batchIdOf, leafHashOf } from "./ids.js";
export { batchTree, readBatchFile, writeBatchFile, BATCH_LEAF_ENCODING, type BatchDataFile } from "./batch.js";
export { JsonFile, TraceStore, type StoredTrace } from "./store.js";
export {
  EnvironmentClient,
  serviceSignerIdOf,
  type ApprovalStatus,
  type EnclaveInfo,
  type EnvironmentInfo,
  type RegisterEnclaveRequest,
  type ServiceSignerInfo,
  type ServiceSignerKey,
} from "./clients/environments.js";
export {
  ProviderAgent,
  EnclaveRefusedError,
  ENCLAVE_REFUSALS,
  type ProviderAction,
  type TeeSigning,
} from "./agents/provider.js";
export { findCommitmentEvent } from "./logs.js";
export { ChallengerAgent, type Finding, type ChallengerAction } from "./agents/challenger.js";
export * from "./attestation/index.js";
export {
  OracleClient,
  Accept,
  RequestStatus,
  ResultStatus,
  toOracleRequest,
  type FoundAnswer,
  type FoundRequest,
  type OracleFulfillment,
  type OracleRequest,
  type RequestArgs as OracleRequestArgs,
} from "./clients/oracle.js";
export * as onnx from "./onnx/index.js";
export {
  STORED_CHUNK_BYTES,
  buildOnchainProof,
  buildStoredProof,
  encodeProof,
  leafOrder,
  storedChunkInitcodes,
  weightsBlob,
  type OnchainProof,
} from "./proofs/onchain.js";
export type { CommitVerifiedRequest, ProofRecordInfo } from "./clients/ledger.js";

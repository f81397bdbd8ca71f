import {
  dataLength,
  hexlify,
  keccak256,
  randomBytes,
  toBigInt,
  toUtf8Bytes,
  type BytesLike,
  type ContractRunner,
  type Log,
  type Provider,
} from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { InferenceLedger__factory, type InferenceLedger } from "../../../typechain-types/index.js";
import { signTeeBatch, signTeeCommitment, type SealFields, type TypedDataSigner } from "../../protocol/tee.js";
import { decodingReverts } from "../errors.js";
import { leafHashOf } from "../ids.js";
import { parseCommitmentLog, scanCommitments, type CommitmentEvent, type SkippedLog } from "../logs.js";
import { findEvent, sendTx, type VerityTx } from "../tx.js";

export type { CommitmentEvent, SkippedLog } from "../logs.js";

/** The three hashes of one inference. */
export interface InferenceHashes {
  inputHash: string;
  outputHash: string;
  traceRoot: string;
}

/** Everything a batch id commits to. */
export interface BatchHeader {
  provider: string;
  modelId: string;
  root: string;
  count: number;
  /** Zero for `commitBatch` (other settlement paths bind a request or enclave nonce here). */
  binding: string;
}

/** A batch header of `commitBatch` (binding zero). */
export function batchHeaderOf(provider: string, modelId: string, root: string, count: number): BatchHeader {
  return { provider, modelId, root, count, binding: ZERO_BINDING };
}

const ZERO_BINDING = "0x" + "00".repeat(32);

/** The OpenZeppelin standard Merkle root over batch leaves `(inputHash, outputHash, traceRoot)`. */
export function batchRootOf(leaves: readonly InferenceHashes[]): string {
  return StandardMerkleTree.of(
    leaves.map((l) => [l.inputHash, l.outputHash, l.traceRoot]),
    ["bytes32", "bytes32", "bytes32"],
  ).root;
}

/** Commitment status as the ledger reports it. */
export enum CommitmentStatus {
  None = 0,
  Pending = 1,
  Final = 2,
  Disputed = 3,
  Overturned = 4,
}

/**
 * How a Final commitment became final (`Finality` in contracts/types/Commitment.sol), by name:
 * `None` unless Final; `ChallengeWindow` (the window passed undisputed), `Tee` (an enclave signature
 * settled it), `Proof`.
 */
export const Finality = {
  None: "None",
  ChallengeWindow: "ChallengeWindow",
  Tee: "Tee",
  Proof: "Proof",
} as const;
export type Finality = (typeof Finality)[keyof typeof Finality];

/** The contract's `Finality` values, in order. */
const FINALITY_NAMES: readonly Finality[] = ["None", "ChallengeWindow", "Tee", "Proof"];

/** The name of a contract `Finality` value. */
export function finalityName(value: bigint | number): Finality {
  const name = FINALITY_NAMES[Number(value)];
  if (name === undefined) throw new Error(`unknown finality ${value}`);
  return name;
}

/** The bits of a record's `flags` (contracts/libraries/RecordFlags.sol). */
export const RecordFlags = {
  /** Single: fraud proven. Batch: the whole batch is overturned (its disclosure failed). */
  OVERTURNED: 1,
  /** Batch: at least one leaf is overturned. */
  LEAF_OVERTURNED: 2,
  /** Single: the commitment's event carries its exact input; no input demand is ever needed. */
  INPUT_PUBLIC: 4,
  /** Batch: a disclosure demand is open. */
  DISCLOSURE_OPEN: 8,
  /** Batch: every leaf and input was disclosed on-chain. */
  DISCLOSED: 16,
  /** Signed by an enclave key (`commitTee` / `commitTeeBatch`): see `teeRecordOf`. */
  TEE: 32,
  /** TEE record under the model's Instant mode: Final from its commit on. */
  TEE_INSTANT: 64,
} as const;

/** Whether `flags` has `bit`. */
export function hasFlag(flags: number, bit: number): boolean {
  return (flags & bit) === bit;
}

/** Longest `inputData` URI of a single commitment, and longest batch `dataURI`, in bytes. */
export const MAX_URI_BYTES = 256;

/** A ledger record, decoded. */
export interface LedgerRecord {
  provider: string;
  challengeDeadline: number;
  openDisputes: number;
  kind: "None" | "Single" | "Batch";
  flags: number;
  finality: Finality;
}

/**
 * What `LedgerClient.commit` commits. Give the exact input bytes (`input`): they go in the event, and
 * the commitment is marked INPUT_PUBLIC, so no dispute ever has to demand them. Otherwise give a `uri`
 * (at most 256 bytes) where watchers can fetch the input; `inputData` passes raw bytes as they are.
 */
export interface CommitRequest {
  modelId: string;
  inference: InferenceHashes;
  /** The input bytes (hex or bytes). */
  input?: BytesLike;
  /** Where the input is served (at most 256 bytes of UTF-8). */
  uri?: string;
  /** Raw event data, for callers that build it themselves. */
  inputData?: BytesLike;
}

/** What `LedgerClient.commitBatch` commits. */
export interface CommitBatchRequest {
  modelId: string;
  root: string;
  count: number;
  /** Where the leaves and inputs are served (at most 256 bytes of UTF-8). */
  dataURI: string;
  /**
   * The leaves, when the caller has them: checked client-side to be distinct and to build `root`
   * (a batch with a repeated leaf could never be disclosed: the contract wants strictly ascending hashes).
   */
  leaves?: readonly InferenceHashes[];
}

/**
 * What seals a TEE-signed commitment or batch: the enclave key that signs it (an ethers `Wallet` or any
 * EIP-712 signer) and the environment it was attested in; `nonce` defaults to a random 64-bit value,
 * `deadline` (the last second the seal may be submitted) to the latest block's time plus one hour.
 */
export interface TeeSealRequest {
  enclave: TypedDataSigner;
  environment: string;
  nonce?: bigint;
  deadline?: bigint;
}

/** What `LedgerClient.commitTee` commits: a `CommitRequest` and its seal. */
export type CommitTeeRequest = CommitRequest & TeeSealRequest;

/** What `LedgerClient.commitTeeBatch` commits: a `CommitBatchRequest` and its seal. */
export type CommitTeeBatchRequest = CommitBatchRequest & TeeSealRequest;

/** Default seal lifetime: one hour past the latest block. */
export const DEFAULT_SEAL_LIFETIME = 3600n;

const UINT64_MAX = (1n << 64n) - 1n;

/** The TEE side of a commitment or batch signed by an enclave key (`InferenceLedger.teeRecordOf`). */
export interface TeeRecordInfo {
  enclaveKey: string;
  /** The key's operator: the provider. */
  operator: string;
  environment: string;
  mode: "Window" | "Instant";
  /** End of the shortened window (Window) or of the accountability period (Instant), unix seconds. */
  teeDeadline: number;
  /** Window: end of the model's full window, which applies once trust is lost in time; 0 under Instant. */
  fallbackDeadline: number;
  /** When the key or its environment was revoked (the earlier), unix seconds; 0 while both are trusted. */
  trustLostAt: number;
  /** Overturned by a lost game (a batch: some leaf); an Instant record stays Final but is slashed. */
  provenWrong: boolean;
  /** A batch whose demanded disclosure was not given: its data was withheld. */
  withheld: boolean;
}

/** A proof-settled commitment (`InferenceLedger.commitVerified`): the prover is the sending account. */
export interface CommitVerifiedRequest {
  modelId: string;
  /** `inputHash` must hash the input inside `proof`, `outputHash` must be `keccak256(output)`. */
  inference: InferenceHashes;
  /** The model's output bytes. */
  output: BytesLike;
  /** `abi.encode(bytes input, address prover, bytes systemProof)`, e.g. from `buildOnchainProof`. */
  proof: BytesLike;
}

/** What the ledger knows of a proven commitment (`proofRecordOf`). */
export interface ProofRecordInfo {
  verifier: string;
  serial: number;
  /** When it was proven (and became Final), unix seconds. */
  provenAt: number;
  /** When governance revoked its verifier (the record stays Final), 0 while approved. */
  verifierRevokedAt: number;
}

/** Client of the InferenceLedger. */
export class LedgerClient {
  /** The TypeChain binding. */
  readonly contract: InferenceLedger;

  constructor(address: string, runner: ContractRunner) {
    this.contract = InferenceLedger__factory.connect(address, runner);
  }

  /**
   * Commits one inference; `wait()` resolves to the commitment id. A URI (or raw data) longer than 256
   * bytes that is not the input itself is refused before anything is sent.
   */
  async commit(request: CommitRequest): Promise<VerityTx<string>> {
    const { modelId, inference } = request;
    const data = inputDataOf(request, "commit");
    return sendTx(
      () => this.contract.commit(modelId, inference.inputHash, inference.outputHash, inference.traceRoot, data),
      (receipt) => findEvent(receipt, this.contract.interface, "InferenceCommitted").args.id,
    );
  }

  /**
   * Commits one inference sealed by an enclave key the signer operates (`InferenceLedger.commitTee`);
   * `wait()` resolves to the commitment id. The input data is checked as for `commit`; the seal is signed
   * for this ledger and chain with `request.enclave`.
   */
  async commitTee(request: CommitTeeRequest): Promise<VerityTx<string>> {
    const { modelId, inference } = request;
    const data = inputDataOf(request, "commitTee");
    const { domain, fields } = await this.sealFields(request, "commitTee");
    const seal = await signTeeCommitment(request.enclave, domain, modelId, inference, fields);
    const struct = { inputHash: inference.inputHash, outputHash: inference.outputHash, traceRoot: inference.traceRoot };
    return sendTx(
      () => this.contract.commitTee(modelId, struct, data, seal),
      (receipt) => findEvent(receipt, this.contract.interface, "TeeInferenceCommitted").args.id,
    );
  }

  /**
   * Commits one inference settled by a proof (`InferenceLedger.commitVerified`): Final at once, never
   * disputable. `wait()` resolves to the commitment id. The model's approved verifier checks the proof; the
   * ledger binds it to the sending account.
   */
  async commitVerified(request: CommitVerifiedRequest): Promise<VerityTx<string>> {
    const { modelId, inference, output, proof } = request;
    const struct = { inputHash: inference.inputHash, outputHash: inference.outputHash, traceRoot: inference.traceRoot };
    return sendTx(
      () => this.contract.commitVerified(modelId, struct, output, proof),
      (receipt) => findEvent(receipt, this.contract.interface, "ProofCommitted").args.id,
    );
  }

  /** What the ledger knows of a proven commitment, or undefined if the record is not proven. */
  async proofRecordOf(id: string): Promise<ProofRecordInfo | undefined> {
    const r = await this.contract.proofRecordOf(id);
    if (Number(r.serial) === 0) return undefined;
    return {
      verifier: r.verifier,
      serial: Number(r.serial),
      provenAt: Number(r.provenAt),
      verifierRevokedAt: Number(r.verifierRevokedAt),
    };
  }

  /**
   * Commits a batch root sealed by an enclave key (`InferenceLedger.commitTeeBatch`); `wait()` resolves to
   * the batch id. Refused before anything is sent as `commitBatch` refuses.
   */
  async commitTeeBatch(request: CommitTeeBatchRequest): Promise<VerityTx<string>> {
    const { modelId, root, count, dataURI } = request;
    await this.checkBatch(request, "commitTeeBatch");
    const { domain, fields } = await this.sealFields(request, "commitTeeBatch");
    const seal = await signTeeBatch(request.enclave, domain, modelId, root, count, fields);
    return sendTx(
      () => this.contract.commitTeeBatch(modelId, root, count, dataURI, seal),
      (receipt) => findEvent(receipt, this.contract.interface, "TeeBatchCommitted").args.batchId,
    );
  }

  /** The ledger domain and seal fields of a TEE request, defaults filled in and ranges checked. */
  private async sealFields(
    request: TeeSealRequest,
    label: string,
  ): Promise<{ domain: { chainId: bigint; ledger: string }; fields: SealFields }> {
    const provider = this.contract.runner?.provider as Provider | undefined | null;
    if (provider === undefined || provider === null) throw new Error("the ledger client has no provider");
    const nonce = request.nonce ?? toBigInt(randomBytes(8));
    let deadline = request.deadline;
    if (deadline === undefined) {
      const latest = await provider.getBlock("latest");
      if (latest === null) throw new Error(`${label}: the node returned no latest block`);
      deadline = BigInt(latest.timestamp) + DEFAULT_SEAL_LIFETIME;
    }
    if (nonce < 0n || nonce > UINT64_MAX) throw new Error(`${label}: the seal nonce ${nonce} does not fit 64 bits`);
    if (deadline < 0n || deadline > UINT64_MAX)
      throw new Error(`${label}: the seal deadline ${deadline} does not fit 64 bits`);
    const { chainId } = await provider.getNetwork();
    return {
      domain: { chainId, ledger: await this.contract.getAddress() },
      fields: { environment: request.environment, enclaveKey: await request.enclave.getAddress(), nonce, deadline },
    };
  }

  /**
   * Commits a batch root; `wait()` resolves to the batch id. Refused before anything is sent: a data URI
   * above 256 bytes, more leaves than the model's `maxBatchLeaves`, and (when the leaves are given)
   * a repeated leaf or leaves that do not build `root`.
   */
  async commitBatch(request: CommitBatchRequest): Promise<VerityTx<string>> {
    const { modelId, root, count, dataURI } = request;
    await this.checkBatch(request, "commitBatch");
    return sendTx(
      () => this.contract.commitBatch(modelId, root, count, dataURI),
      (receipt) => findEvent(receipt, this.contract.interface, "BatchCommitted").args.batchId,
    );
  }

  /** The client-side checks of a batch commit (URI length, leaves, the model's `maxBatchLeaves`). */
  private async checkBatch(request: CommitBatchRequest, label: string): Promise<void> {
    const { modelId, root, count, dataURI } = request;
    const uriLength = toUtf8Bytes(dataURI).length;
    if (uriLength > MAX_URI_BYTES) {
      throw new Error(`${label}: the data URI is ${uriLength} bytes, the ledger takes at most ${MAX_URI_BYTES}`);
    }
    if (request.leaves !== undefined) {
      if (request.leaves.length !== count) {
        throw new Error(`${label}: ${request.leaves.length} leaves given for a count of ${count}`);
      }
      const seen = new Map<string, number>();
      request.leaves.forEach((leaf, i) => {
        const hash = leafHashOf(leaf).toLowerCase();
        const first = seen.get(hash);
        if (first !== undefined) throw new Error(`${label}: leaves ${first} and ${i} are the same inference`);
        seen.set(hash, i);
      });
      const built = batchRootOf(request.leaves);
      if (built.toLowerCase() !== root.toLowerCase()) {
        throw new Error(`${label}: the leaves build root ${built}, not ${root}`);
      }
    }
    const terms = await this.contract.commitTermsOf(modelId);
    const max = Number(terms.maxBatchLeaves);
    if (Number(terms.status) !== 0 && count > max) {
      throw new Error(`${label}: ${count} leaves, the model allows at most ${max} per batch`);
    }
  }

  /** Status of a commitment or batch. */
  async status(id: string): Promise<CommitmentStatus> {
    return Number(await this.contract.status(id)) as CommitmentStatus;
  }

  /** Status of a commitment or batch, and how it became final (`"None"` unless Final). */
  async finalityOf(id: string): Promise<{ status: CommitmentStatus; finality: Finality }> {
    const [status, finality] = await this.contract.finalityOf(id);
    return { status: Number(status) as CommitmentStatus, finality: finalityName(finality) };
  }

  /** The TEE side of a commitment or batch, or undefined when no enclave key signed it. */
  async teeRecordOf(id: string): Promise<TeeRecordInfo | undefined> {
    const t = await this.contract.teeRecordOf(id);
    if (/^0x0{40}$/i.test(t.enclaveKey)) return undefined;
    return {
      enclaveKey: t.enclaveKey,
      operator: t.operator,
      environment: t.environment,
      mode: Number(t.mode) === 2 ? "Instant" : "Window",
      teeDeadline: Number(t.teeDeadline),
      fallbackDeadline: Number(t.fallbackDeadline),
      trustLostAt: Number(t.trustLostAt),
      provenWrong: t.provenWrong,
      withheld: t.withheld,
    };
  }

  /** Whether a commitment (or whole batch) is final. */
  async isFinal(id: string): Promise<boolean> {
    return this.contract.isFinal(id);
  }

  /** Status of one leaf of a batch (reverts if the leaf is not in it). */
  async leafStatus(header: BatchHeader, proof: string[], leaf: InferenceHashes): Promise<CommitmentStatus> {
    return Number(await decodingReverts(() => this.contract.leafStatus(header, proof, leaf))) as CommitmentStatus;
  }

  /** The stored record of a commitment or batch, decoded (kind None if unknown). */
  async record(id: string): Promise<LedgerRecord> {
    const r = await this.contract.recordOf(id);
    return {
      provider: r.provider,
      challengeDeadline: Number(r.challengeDeadline),
      openDisputes: Number(r.openDisputes),
      kind: (["None", "Single", "Batch"] as const)[Number(r.kind)] ?? "None",
      flags: Number(r.flags),
      finality: finalityName(r.finality),
    };
  }

  /** The stored record of a commitment or batch, as the binding returns it. */
  async recordOf(id: string) {
    return this.contract.recordOf(id);
  }

  /**
   * Every commitment and batch event in `[fromBlock, toBlock]`, in chain order, in one `eth_getLogs`; a log
   * that cannot be decoded is passed to `onSkip` and left out (see `scanCommitments`).
   */
  async scan(fromBlock: number, toBlock: number, onSkip?: (skipped: SkippedLog) => void): Promise<CommitmentEvent[]> {
    const provider = this.contract.runner?.provider as Provider | undefined | null;
    if (provider === undefined || provider === null) throw new Error("the ledger client has no provider");
    return scanCommitments(provider, await this.contract.getAddress(), fromBlock, toBlock, onSkip);
  }

  /** Decodes one InferenceCommitted or BatchCommitted log (strictly, with ethers' `parseLog`). */
  parseCommitment(log: Log): CommitmentEvent {
    return parseCommitmentLog(log);
  }
}

/** The `inputData` of a single commit: the input bytes, a URI of at most 256 bytes, or raw data (checked). */
function inputDataOf(request: CommitRequest, label: string): string {
  const { inference } = request;
  const given = [request.input, request.uri, request.inputData].filter((v) => v !== undefined).length;
  if (given !== 1) throw new Error(`${label}: give exactly one of input, uri or inputData`);
  if (request.input !== undefined) {
    const data = hexlify(request.input);
    if (keccak256(data).toLowerCase() !== inference.inputHash.toLowerCase()) {
      throw new Error(`${label}: the input does not hash to the inference's inputHash ${inference.inputHash}`);
    }
    return data;
  }
  if (request.uri !== undefined) {
    const data = hexlify(toUtf8Bytes(request.uri));
    const length = dataLength(data);
    if (length > MAX_URI_BYTES) {
      throw new Error(
        `${label}: the input URI is ${length} bytes, the ledger takes at most ${MAX_URI_BYTES} (commit the input bytes instead)`,
      );
    }
    return data;
  }
  const data = hexlify(request.inputData!);
  const length = dataLength(data);
  if (length > MAX_URI_BYTES && keccak256(data).toLowerCase() !== inference.inputHash.toLowerCase()) {
    throw new Error(
      `${label}: ${length} bytes of input data that are not the input; the ledger takes the input or at most ${MAX_URI_BYTES} bytes`,
    );
  }
  return data;
}

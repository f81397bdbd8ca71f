import { hexlify, keccak256, type BytesLike, type ContractRunner, type Signer } from "ethers";
import { InferenceOracle__factory, MockERC20__factory, type InferenceOracle } from "../../../typechain-types/index.js";
import type { InferenceHashes } from "./ledger.js";
import { decodingReverts } from "../errors.js";
import { sendTx, type VerityTx } from "../tx.js";

/** `accepts` bits of a request: the finality kinds its consumer accepts (`1 << Finality`). */
export const Accept = { Window: 2, Tee: 4, Proof: 8, Any: 14 } as const;
/** Mirror of `RequestStatus` (contracts/types/Oracle.sol). */
export const RequestStatus = ["None", "Open", "Fulfilled", "Settled", "Refunded"] as const;
/** Mirror of `ResultStatus`: what a consumer's callback is told. */
export const ResultStatus = ["None", "Provisional", "Final", "Expired"] as const;

/** A request as the oracle's calls take it (by content: `requestId = keccak256(abi.encode(oracle, request))`). */
export interface OracleRequest {
  modelId: string;
  inputHash: string;
  requester: string;
  consumer: string;
  fee: bigint;
  callbackGasLimit: bigint;
  deadline: bigint;
  fulfillBy: bigint;
  accepts: bigint;
  provisional: boolean;
  outputLength: bigint;
  nonce: bigint;
}

/** The commitment that answers a request. */
export interface OracleFulfillment {
  provider: string;
  inference: InferenceHashes;
  binding: string;
}

/** A request as read back from its event, with its input. */
export interface FoundRequest {
  requestId: string;
  request: OracleRequest;
  input: string;
  blockNumber: number;
}

/** The live answer of a request, read back from its latest `RequestFulfilled` event. */
export interface FoundAnswer {
  commitmentId: string;
  fulfillment: OracleFulfillment;
  output: string;
}

/** What `request` asks. */
export interface RequestArgs {
  modelId: string;
  input: BytesLike;
  fee: bigint;
  /** Receives `onInferenceResult`; the zero address for none. */
  consumer: string;
  callbackGasLimit: number;
  /** Unix seconds. */
  deadline: bigint;
  /** `Accept` bits (default Any). */
  accepts?: number;
  provisional?: boolean;
}

/** Converts an ethers `Result` of a `Request` into plain values. */
export function toOracleRequest(r: OracleRequest): OracleRequest {
  return {
    modelId: r.modelId,
    inputHash: r.inputHash,
    requester: r.requester,
    consumer: r.consumer,
    fee: BigInt(r.fee),
    callbackGasLimit: BigInt(r.callbackGasLimit),
    deadline: BigInt(r.deadline),
    fulfillBy: BigInt(r.fulfillBy),
    accepts: BigInt(r.accepts),
    provisional: Boolean(r.provisional),
    outputLength: BigInt(r.outputLength),
    nonce: BigInt(r.nonce),
  };
}

/**
 * Client of the InferenceOracle: ask, answer, settle, reopen, refund, withdraw. Calls that take a request
 * by content are given its id: the client reads the request (and its live answer) back from the oracle's
 * events, filtered by the indexed request id, so the node returns at most a few logs.
 */
export class OracleClient {
  private readonly binding?: InferenceOracle;

  constructor(
    address: string | undefined,
    private readonly runner: ContractRunner,
    /** First block of the deployment: event lookups start there. */
    private readonly fromBlock = 0,
  ) {
    if (address !== undefined) this.binding = InferenceOracle__factory.connect(address, runner);
  }

  /** The TypeChain binding (throws for a deployment without an oracle). */
  get contract(): InferenceOracle {
    if (this.binding === undefined) throw new Error("this deployment has no inference oracle");
    return this.binding;
  }

  /** Approves the oracle for `amount` of its fee token when the allowance is short. */
  async ensureAllowance(amount: bigint): Promise<void> {
    const owner = await (this.runner as Signer).getAddress();
    const token = MockERC20__factory.connect(await this.contract.token(), this.runner);
    const oracle = await this.contract.getAddress();
    if ((await token.allowance(owner, oracle)) >= amount) return;
    await (await decodingReverts(() => token.approve(oracle, amount))).wait();
  }

  /** Makes a request (approving the fee first); `wait()` resolves to its id and contents. */
  async request(args: RequestArgs): Promise<VerityTx<{ requestId: string; request: OracleRequest }>> {
    await this.ensureAllowance(args.fee);
    return sendTx(
      () =>
        this.contract.request(
          args.modelId,
          hexlify(args.input),
          args.fee,
          args.consumer,
          args.callbackGasLimit,
          args.deadline,
          args.accepts ?? Accept.Any,
          args.provisional ?? false,
        ),
      (receipt) => {
        for (const log of receipt.logs) {
          const parsed = this.contract.interface.parseLog(log);
          if (parsed?.name === "InferenceRequested") {
            return { requestId: parsed.args.requestId as string, request: toOracleRequest(parsed.args.request) };
          }
        }
        throw new Error("the request's transaction has no InferenceRequested event");
      },
    );
  }

  /** The request `requestId` and its input, from its event; undefined when the node has none. */
  async find(requestId: string): Promise<FoundRequest | undefined> {
    const logs = await this.contract.queryFilter(this.contract.filters.InferenceRequested(requestId), this.fromBlock);
    for (const log of logs) {
      const request = toOracleRequest(log.args.request);
      const input = log.args.input as string;
      // INVARIANT: a request is only believed when its contents hash to its id and its input to its hash.
      if ((await this.contract.requestIdOf(request)).toLowerCase() !== requestId.toLowerCase()) continue;
      if (keccak256(input).toLowerCase() !== request.inputHash.toLowerCase()) continue;
      return { requestId, request, input, blockNumber: log.blockNumber };
    }
    return undefined;
  }

  /** The request's live answer (its latest fulfillment), or undefined when it has none. */
  async liveAnswer(requestId: string): Promise<FoundAnswer | undefined> {
    const state = await this.contract.stateOf(requestId);
    if (RequestStatus[Number(state.status)] !== "Fulfilled") return undefined;
    const logs = await this.contract.queryFilter(this.contract.filters.RequestFulfilled(requestId), this.fromBlock);
    for (const log of logs.reverse()) {
      const id = log.args.commitmentId as string;
      if (id.slice(0, 42).toLowerCase() !== state.commitment.toLowerCase()) continue;
      const f = log.args.fulfillment;
      const { inputHash, outputHash, traceRoot } = f.inference;
      return {
        commitmentId: id,
        fulfillment: { provider: f.provider, inference: { inputHash, outputHash, traceRoot }, binding: f.binding },
        output: log.args.output as string,
      };
    }
    return undefined;
  }

  /** Answers a request with the caller's commitment; `wait()` resolves to the commitment id. */
  async fulfill(request: OracleRequest, inference: InferenceHashes, output: BytesLike): Promise<VerityTx<string>> {
    return sendTx(
      () => this.contract.fulfill(request, inference, hexlify(output)),
      (receipt) => this.eventArg(receipt, "RequestFulfilled", "commitmentId") as string,
    );
  }

  /** Settles `requestId` (its answer must be final in an accepted way). */
  async settle(requestId: string): Promise<VerityTx<void>> {
    const { request, answer } = await this.fulfilled(requestId);
    return sendTx(
      () => this.contract.settle(request, answer.fulfillment, answer.output),
      () => undefined,
    );
  }

  /** Reopens `requestId` after its answer was overturned. */
  async reopen(requestId: string): Promise<VerityTx<void>> {
    const { request, answer } = await this.fulfilled(requestId);
    return sendTx(
      () => this.contract.reopen(request, answer.fulfillment),
      () => undefined,
    );
  }

  /** Refunds `requestId` after its deadline (it must be open: reopen an overturned answer first). */
  async refundExpired(requestId: string): Promise<VerityTx<void>> {
    const found = await this.find(requestId);
    if (found === undefined) throw new Error(`no request ${requestId} on this oracle`);
    return sendTx(
      () => this.contract.refundExpired(found.request),
      () => undefined,
    );
  }

  /** Withdraws the caller's credit; `wait()` resolves to the amount. */
  async withdraw(): Promise<VerityTx<bigint>> {
    return sendTx(
      () => this.contract.withdraw(),
      (receipt) => this.eventArg(receipt, "Withdrawn", "amount") as bigint,
    );
  }

  private async fulfilled(requestId: string) {
    const found = await this.find(requestId);
    if (found === undefined) throw new Error(`no request ${requestId} on this oracle`);
    const answer = await this.liveAnswer(requestId);
    if (answer === undefined) throw new Error(`request ${requestId} has no live answer`);
    return { request: found.request, answer };
  }

  private eventArg(receipt: { logs: readonly unknown[] }, event: string, arg: string): unknown {
    for (const log of receipt.logs) {
      const parsed = this.contract.interface.parseLog(log as Parameters<InferenceOracle["interface"]["parseLog"]>[0]);
      if (parsed?.name === event) return parsed.args[arg];
    }
    throw new Error(`the transaction has no ${event} event`);
  }
}

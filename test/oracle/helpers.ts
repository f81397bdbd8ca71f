import { expect } from "chai";
import type { NetworkConnection } from "hardhat/types/network";
import { AbiCoder, keccak256, type ContractTransactionResponse } from "ethers";
import { vectorToHex } from "../../src/engine/index.js";
import type { Fault } from "../../src/protocol/faults.js";
import { infer, pseudoDigit } from "../helpers/disputeFixture.js";
import { deployDisputes, inferenceOf, type Committed, type Key } from "../disputes/helpers.js";
import { deployWithTee, TeeMode } from "../helpers/teeFixture.js";
import { toOracleRequest, type OracleFulfillment, type OracleRequest } from "../../src/sdk/clients/oracle.js";
import type { InferenceOracle, RecordingConsumer } from "../../typechain-types/index.js";

export const ACCEPT = { WINDOW: 2, TEE: 4, PROOF: 8, ANY: 14 } as const;
export const RequestStatus = { None: 0n, Open: 1n, Fulfilled: 2n, Settled: 3n, Refunded: 4n } as const;
export const ResultStatus = { None: 0n, Provisional: 1n, Final: 2n, Expired: 3n } as const;
/** PolicyBounds.MAX_DISPUTE_MOVES. */
export const MAX_DISPUTE_MOVES = 6;
/** PolicyBounds.DEFAULT_HARMED_SHARE_BPS. */
export const HARMED_SHARE_BPS = 2_000n;

const coder = AbiCoder.defaultAbiCoder();
const REQUEST_TYPE =
  "tuple(bytes32 modelId,bytes32 inputHash,address requester,address consumer,uint96 fee,uint32 callbackGasLimit," +
  "uint40 deadline,uint40 fulfillBy,uint8 accepts,bool provisional,uint24 outputLength,uint64 nonce)";

/** A request as the oracle's calls take it (by content): the SDK's type. */
export type RequestArgs = OracleRequest;

/** The commitment answering a request. */
export type FulfillmentArgs = OracleFulfillment;

/** `requestId = keccak256(abi.encode(oracle, request))`, computed independently of the contract. */
export const requestIdOf = (oracle: string, r: RequestArgs) =>
  keccak256(coder.encode(["address", REQUEST_TYPE], [oracle, r]));

/**
 * The disputes fixture (MNIST model, two staked providers, challengers) plus a requester (signer 8) with
 * tokens approved to the oracle, and a recording consumer.
 */
export async function deployOracle(connection: NetworkConnection) {
  return withRequester(connection, await deployDisputes(connection));
}

/** As `deployOracle` on the TEE fixture (the MNIST model accepts seals of environment 1 in `mode`). */
export async function deployTeeOracle(connection: NetworkConnection, mode: TeeMode = TeeMode.Window) {
  return withRequester(connection, await deployWithTee(connection, mode));
}

async function withRequester<F extends Awaited<ReturnType<typeof deployDisputes>>>(
  connection: NetworkConnection,
  f: F,
) {
  const { ethers } = connection;
  const requester = f.signers[8];
  await f.token.mint(requester.address, ethers.parseEther("1000000"));
  const oracleAddress = await f.oracle.getAddress();
  for (const s of [requester, ...f.signers.slice(0, 8)]) {
    await f.token.connect(s).approve(oracleAddress, ethers.MaxUint256);
  }
  const consumer = (await ethers.deployContract("RecordingConsumer")) as unknown as RecordingConsumer;
  return { ...f, requester, consumer, oracleAddress };
}

export type OracleFixture = Awaited<ReturnType<typeof deployOracle>>;
export type TeeOracleFixture = Awaited<ReturnType<typeof deployTeeOracle>>;
type Signer = OracleFixture["provider"];

/** A made request: its arguments by content, its id and input. */
export interface Made {
  request: RequestArgs;
  requestId: string;
  input: Int8Array;
  tx: ContractTransactionResponse;
}

/** Converts the ethers Result of a `Request` into plain arguments (the SDK's conversion). */
export const toRequest = toOracleRequest;

/** Seconds from now to a deadline that leaves `slack` seconds to answer: window + 6 responses + slack. */
export function settlingTime(f: OracleFixture): number {
  return Number(f.policy.challengeWindow) + MAX_DISPUTE_MOVES * Number(f.policy.responseWindow);
}

/** Makes a request for the MNIST model's answer on `pseudoDigit(seed)`. */
export async function makeRequest(
  connection: NetworkConnection,
  f: OracleFixture,
  opts: {
    seed?: number;
    fee?: bigint;
    consumer?: string;
    callbackGasLimit?: number;
    deadline?: bigint;
    accepts?: number;
    provisional?: boolean;
    requester?: Signer;
    oracle?: InferenceOracle;
  } = {},
): Promise<Made> {
  const { ethers, networkHelpers } = connection;
  const input = pseudoDigit(opts.seed ?? 1);
  const now = BigInt(await networkHelpers.time.latest());
  const deadline = opts.deadline ?? now + BigInt(settlingTime(f) + 3600);
  const oracle = opts.oracle ?? f.oracle;
  const tx = await oracle
    .connect(opts.requester ?? f.requester)
    .request(
      f.modelId,
      vectorToHex(input),
      opts.fee ?? ethers.parseEther("2"),
      opts.consumer ?? (await f.consumer.getAddress()),
      opts.callbackGasLimit ?? 100_000,
      deadline,
      opts.accepts ?? ACCEPT.ANY,
      opts.provisional ?? false,
    );
  const receipt = (await tx.wait())!;
  for (const log of receipt.logs) {
    const parsed = oracle.interface.parseLog(log);
    if (parsed?.name === "InferenceRequested") {
      return { request: toRequest(parsed.args.request), requestId: parsed.args.requestId, input, tx };
    }
  }
  throw new Error("no InferenceRequested event");
}

/** An answer: the commitment (as the dispute helpers know one), its fulfillment and output bytes. */
export interface Answer {
  c: Committed;
  fulfillment: FulfillmentArgs;
  output: string;
  key: Key;
  tx: ContractTransactionResponse;
}

/** A provider answers `made` honestly, or with a `fault`. */
export async function answer(f: OracleFixture, made: Made, opts: { provider?: Signer; fault?: Fault } = {}) {
  const provider = opts.provider ?? f.provider;
  const honest = infer(f.model, made.input);
  const claimed = infer(f.model, made.input, opts.fault);
  const inference = inferenceOf(claimed);
  const output = vectorToHex(claimed.output);
  const tx = await f.oracle.connect(provider).fulfill(made.request, inference, output);
  const fulfillment = { provider: provider.address, inference, binding: made.requestId };
  const id = await f.oracle.commitmentIdOf(made.request, fulfillment);
  const c: Committed = {
    id,
    modelId: f.modelId,
    input: made.input,
    claimed,
    honest,
    inference,
    provider,
    inputData: vectorToHex(made.input),
  };
  const key: Key = { provider: provider.address, modelId: f.modelId, inference, binding: made.requestId };
  return { c, fulfillment, output, key, tx } satisfies Answer;
}

/**
 * INVARIANT: the oracle's token balance equals what it owes (escrowed fees plus credits), and the credits
 * of `accounts` plus the fees of `open` requests add up to it.
 */
export async function expectConserved(
  f: OracleFixture,
  accounts: string[],
  escrowed: bigint,
  oracle: InferenceOracle = f.oracle,
): Promise<void> {
  const address = await oracle.getAddress();
  const owed = await oracle.totalOwed();
  expect(await f.token.balanceOf(address)).to.equal(owed);
  let credits = 0n;
  for (const a of new Set(accounts)) credits += await oracle.creditOf(a);
  expect(credits + escrowed).to.equal(owed);
}

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import {
  Wallet,
  id as labelHash,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { contentHashOf, modelCommitments, modelIdOf, type RunResult } from "../../src/engine/index.js";
import type { Fault } from "../../src/protocol/faults.js";
import { batchIdOf, commitmentIdOf, leafHashOf } from "../../src/sdk/ids.js";
import { encodeEvidence, signStatement, TcbStatus, TeeType } from "../../src/sdk/attestation/index.js";
import {
  TeeKind,
  TeeMode,
  environmentIdOf,
  reportBindingOf,
  signTeeBatch,
  signTeeCommitment,
  teeBatchDigest,
  teeCommitmentDigest,
  type SealFields,
  type TeeInference,
  type TeeSealArgs,
} from "../../src/protocol/tee.js";
import {
  inferenceOf,
  leafIdOf,
  uriOf,
  type Committed,
  type Game,
  type Inference,
  type Key,
  type Signer as Party,
} from "../disputes/helpers.js";
import { infer, mnistModel, mnistSpec, paramsFrom, pseudoDigit, vectorToHex } from "./disputeFixture.js";
import { DAY, HOUR, defaultPolicy, deployVerity } from "./fixtures.js";

export { TeeKind, TeeMode };

/** A fixed, recognisable TDX measurement (MRTD ‖ RTMR0..3) for environment `n`. */
export function tdxMeasurement(n: number): string {
  return "0x" + n.toString(16).padStart(2, "0").repeat(240);
}

/**
 * The protocol with the MNIST model registered under a TEE policy (`mode`, `teeWindow`), one approved TDX
 * environment allowed for it by the publisher, a secp256k1 attestation-service key approved, the provider and provider2 staked,
 * and one enclave key registered for the provider. Signers: 0 admin/governor, 1 publisher, 2 provider,
 * 3 and 4 challengers, 5 second provider, 6 watcher, 7 treasury (the stake manager's, as in the dispute
 * suites' fixture, so that the helpers of test/disputes/helpers.ts play games on this deployment too).
 */
export async function deployWithTee(
  connection: NetworkConnection,
  mode: TeeMode = TeeMode.Window,
  teeWindow: number = mode === TeeMode.Window ? 10 * 60 : DAY,
) {
  const core = await deployVerity(connection);
  const { ethers } = connection;
  const [admin, publisher, provider, challenger, challenger2, provider2, watcher, treasury] = core.signers;
  await core.stakeManager.connect(admin).setTreasury(treasury.address);
  const model = await mnistModel();
  const commitments = modelCommitments(model);
  const policy = { ...defaultPolicy(ethers), teeMode: mode, teeWindow };
  await core.registry.connect(publisher).registerModel(mnistSpec(commitments), policy);
  const modelId = modelIdOf(publisher.address, commitments.contentHash);
  for (const p of [provider, provider2]) await core.stakeManager.connect(p).deposit(ethers.parseEther("1000"));

  const service = Wallet.createRandom();
  await core.attestationService.connect(admin).approveSecp256k1Signer(service.address);
  const { chainId } = await ethers.provider.getNetwork();
  const environment = await approveEnvironment(1);
  await core.registry.connect(publisher).allowEnvironment(modelId, environment);

  /** Approves TDX environment `n` (governance). */
  async function approveEnvironment(n: number): Promise<string> {
    await core.environmentRegistry
      .connect(admin)
      .approveEnvironment(TeeKind.IntelTdx, tdxMeasurement(n), `ipfs://env-${n}`);
    return environmentIdOf(TeeKind.IntelTdx, tdxMeasurement(n));
  }

  /** The attestation-service evidence for `key` running environment `n`, bound to `nonce`. */
  async function evidenceFor(key: string, nonce: string, n = 1, overrides: { expiry?: bigint; tcb?: TcbStatus } = {}) {
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const statement = {
      teeType: TeeType.IntelTdx,
      measurement: tdxMeasurement(n),
      enclaveKey: key,
      binding: reportBindingOf(chainId, await core.environmentRegistry.getAddress(), key, nonce),
      tcbStatus: overrides.tcb ?? TcbStatus.UpToDate,
      expiry: overrides.expiry ?? now + BigInt(30 * DAY),
    };
    const signed = await signStatement(
      statement,
      { kind: "secp256k1", wallet: service },
      { chainId, verifyingContract: await core.attestationService.getAddress() },
    );
    return encodeEvidence(signed.statement, signed.signerId, signed.signature);
  }

  /** Issues a nonce to `operator` and returns it. */
  async function issueNonce(operator: Signer): Promise<string> {
    const receipt = await (await core.environmentRegistry.connect(operator).issueNonce()).wait();
    const log = receipt!.logs
      .map((l) => core.environmentRegistry.interface.parseLog(l))
      .find((p) => p?.name === "NonceIssued");
    return log!.args.nonce as string;
  }

  /** Registers a fresh enclave key for `operator` in environment `n`; returns the key's wallet. */
  async function registerEnclave(operator: Signer, n = 1, lifetime = 7 * DAY): Promise<Wallet> {
    const key = new Wallet(Wallet.createRandom().privateKey);
    const nonce = await issueNonce(operator);
    const evidence = await evidenceFor(key.address, nonce, n);
    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    await core.environmentRegistry
      .connect(operator)
      .registerEnclave(await core.attestationService.getAddress(), evidence, nonce, now + lifetime);
    return key;
  }

  const ledgerAddress = await core.ledger.getAddress();
  const domain = { chainId, ledger: ledgerAddress };
  const enclave = await registerEnclave(provider);

  /** Seal fields with a deadline an hour ahead and a fresh nonce (overridable). */
  async function fields(key: Wallet, overrides: Partial<SealFields> = {}): Promise<SealFields> {
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    return {
      environment,
      enclaveKey: key.address,
      nonce: BigInt(Math.floor(Math.random() * 2 ** 48)),
      deadline: now + BigInt(HOUR),
      ...overrides,
    };
  }

  /** `key`'s seal over one inference of `id` (default: the fixture's model). */
  async function seal(
    key: Wallet,
    inference: TeeInference,
    overrides: Partial<SealFields> = {},
    id: string = modelId,
  ): Promise<TeeSealArgs> {
    return signTeeCommitment(key, domain, id, inference, await fields(key, overrides));
  }

  /** `key`'s seal over a batch. */
  async function batchSeal(
    key: Wallet,
    root: string,
    count: number,
    overrides: Partial<SealFields> = {},
    id: string = modelId,
  ): Promise<TeeSealArgs> {
    return signTeeBatch(key, domain, id, root, count, await fields(key, overrides));
  }

  return {
    ...core,
    model,
    commitments,
    modelId,
    policy,
    admin,
    publisher,
    provider,
    provider2,
    challenger,
    challenger2,
    watcher,
    treasury,
    service,
    chainId,
    domain,
    environment,
    enclave,
    approveEnvironment,
    evidenceFor,
    issueNonce,
    registerEnclave,
    seal,
    batchSeal,
  };
}

/** The TEE fixture (a superset of the dispute suites' `Mnist` fixture). */
export type Tee = Awaited<ReturnType<typeof deployWithTee>>;

/** A TEE-signed single commitment: what test/disputes/helpers.ts knows of a commitment, and its seal. */
export interface TeeCommitted extends Committed {
  /** The EIP-712 digest the key signed: the commitment's `binding`. */
  digest: string;
  seal: TeeSealArgs;
  key: Wallet;
  tx: ContractTransactionResponse;
  receipt: ContractTransactionReceipt;
}

/**
 * Commits one inference of the fixture's MNIST model on `pseudoDigit(seed)` with `key`'s seal (the
 * fixture's enclave by default): honest, with a `fault`, or exactly the `claimed` run and `inference`
 * given. The event carries the input (the default) or a URI, or the `inputData` given.
 */
export async function commitTee(
  f: Tee,
  opts: {
    seed: number;
    fault?: Fault;
    claimed?: RunResult;
    inference?: Inference;
    provider?: Party;
    key?: Wallet;
    inputData?: string;
    uri?: boolean;
    seal?: Partial<SealFields>;
  },
): Promise<TeeCommitted> {
  const provider = opts.provider ?? f.provider;
  const key = opts.key ?? f.enclave;
  const input = opts.claimed?.activations[0] ?? pseudoDigit(opts.seed);
  const honest = infer(f.model, pseudoDigit(opts.seed));
  const claimed = opts.claimed ?? infer(f.model, input, opts.fault);
  const inference = opts.inference ?? inferenceOf(claimed);
  const inputData = opts.inputData ?? (opts.uri ? uriOf(opts.seed) : vectorToHex(input));
  const seal = await f.seal(key, inference, opts.seal ?? {});
  const digest = teeCommitmentDigest(f.domain, f.modelId, inference, seal);
  const tx = await f.ledger.connect(provider).commitTee(f.modelId, inference, inputData, seal);
  const receipt = (await tx.wait())!;
  const id = commitmentIdOf(provider.address, f.modelId, inference, digest);
  return {
    id,
    modelId: f.modelId,
    input,
    claimed,
    honest,
    inference,
    provider,
    inputData,
    digest,
    seal,
    key,
    tx,
    receipt,
  };
}

/** The `CommitmentKey` a challenger disputes a TEE single with: its binding is the signed digest. */
export const teeKeyOf = (c: TeeCommitted): Key => ({
  provider: c.provider.address,
  modelId: c.modelId,
  inference: c.inference,
  binding: c.digest,
});

/** Opens a dispute on a TEE-signed single commitment (no input demand unless asked). */
export async function openTeeGame(
  f: Tee,
  c: TeeCommitted,
  challenger: Party = f.challenger,
  opts: { demandInput?: boolean; nonce?: bigint } = {},
): Promise<Game> {
  const tx = await f.disputeGame
    .connect(challenger)
    .openDispute(teeKeyOf(c), opts.demandInput ?? false, opts.nonce ?? nextNonce());
  const params = await paramsFrom(f.disputeGame, tx);
  return { params, id: await f.disputeGame.disputeIdOf(params), c, challenger, tx };
}

// Game nonces far from those of test/disputes/helpers.ts (freshNonce counts up from 1).
let gameNonce = 1n << 40n;
const nextNonce = () => ++gameNonce;

/**
 * A TEE-signed batch of MNIST inferences (`faults[i]` makes leaf i wrong), shaped like `commitBatch` of
 * test/disputes/helpers.ts so that `openLeafGame` plays it; its header's binding is the signed digest.
 */
export async function commitTeeBatch(
  f: Tee,
  seeds: number[],
  faults: (Fault | undefined)[] = [],
  key: Wallet = f.enclave,
  provider: Party = f.provider,
) {
  const runs = seeds.map((seed, i) => {
    const claimed = infer(f.model, pseudoDigit(seed), faults[i]);
    return { input: claimed.activations[0], claimed, honest: infer(f.model, pseudoDigit(seed)) };
  });
  const tree = StandardMerkleTree.of(
    runs.map(({ claimed }) => [claimed.inputHash, claimed.outputHash, claimed.traceRoot]),
    ["bytes32", "bytes32", "bytes32"],
  );
  const seal = await f.batchSeal(key, tree.root, runs.length);
  const digest = teeBatchDigest(f.domain, f.modelId, tree.root, runs.length, seal);
  const tx = await f.ledger.connect(provider).commitTeeBatch(f.modelId, tree.root, runs.length, "ipfs://batch", seal);
  const header = {
    provider: provider.address,
    modelId: f.modelId,
    root: tree.root,
    count: runs.length,
    binding: digest,
  };
  const batchId = batchIdOf(header);
  const leaf = (i: number): Committed => ({
    id: batchId,
    modelId: f.modelId,
    input: runs[i].input,
    claimed: runs[i].claimed,
    honest: runs[i].honest,
    inference: inferenceOf(runs[i].claimed),
    provider,
    inputData: "ipfs://batch",
  });
  const leafKey = (i: number) => leafIdOf(batchId, leafHashOf(leaf(i).inference));
  return { batchId, header, tree, runs, leaf, leafKey, proof: (i: number) => tree.getProof(i), seal, digest, tx };
}

/**
 * Registers a model of an opaque engine (no layers, a given graph hash: no dispute game can recompute it)
 * under TEE policy (`mode`, `teeWindow`), allows the fixture's environment for it, and returns its id.
 */
export async function registerOpaqueModel(f: Tee, mode: TeeMode, teeWindow: number, label = "opaque"): Promise<string> {
  const spec = {
    engineId: labelHash(`engine/${label}`),
    weightsRoot: labelHash(`${label}/weights`),
    layers: [],
    graphHash: labelHash(`${label}/graph`),
    metadataURI: `ipfs://${label}`,
  };
  await f.registry.connect(f.publisher).registerModel(spec, { ...f.policy, teeMode: mode, teeWindow });
  const modelId = modelIdOf(f.publisher.address, contentHashOf(spec.weightsRoot, spec.graphHash, spec.engineId));
  if (mode !== TeeMode.None) await f.registry.connect(f.publisher).allowEnvironment(modelId, f.environment);
  return modelId;
}

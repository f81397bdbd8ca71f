import { Wallet, type Signer } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { modelCommitments, modelIdOf } from "../../src/engine/index.js";
import { encodeEvidence, signStatement, TcbStatus, TeeType } from "../../src/sdk/attestation/index.js";
import {
  TeeKind,
  TeeMode,
  environmentIdOf,
  reportBindingOf,
  signTeeBatch,
  signTeeCommitment,
  type SealFields,
  type TeeInference,
  type TeeSealArgs,
} from "../../src/protocol/tee.js";
import { mnistModel, mnistSpec } from "./disputeFixture.js";
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
 * 3 and 4 challengers, 5 second provider.
 */
export async function deployWithTee(
  connection: NetworkConnection,
  mode: TeeMode = TeeMode.Window,
  teeWindow: number = mode === TeeMode.Window ? 10 * 60 : DAY,
) {
  const core = await deployVerity(connection);
  const { ethers } = connection;
  const [admin, publisher, provider, challenger, challenger2, provider2] = core.signers;
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
    await core.environmentRegistry.connect(admin).approveEnvironment(TeeKind.IntelTdx, tdxMeasurement(n), `ipfs://env-${n}`);
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
    id = modelId,
  ): Promise<TeeSealArgs> {
    return signTeeCommitment(key, domain, id, inference, await fields(key, overrides));
  }

  /** `key`'s seal over a batch. */
  async function batchSeal(
    key: Wallet,
    root: string,
    count: number,
    overrides: Partial<SealFields> = {},
    id = modelId,
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

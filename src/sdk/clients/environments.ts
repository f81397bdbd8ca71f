import {
  getAddress,
  hexlify,
  isAddress,
  isHexString,
  type BytesLike,
  type ContractRunner,
  type Provider,
} from "ethers";
import {
  AttestationServiceVerifier__factory,
  EnvironmentRegistry__factory,
  type AttestationServiceVerifier,
  type EnvironmentRegistry,
} from "../../../typechain-types/index.js";
import { TeeKind, environmentIdOf, reportBindingOf, reportDataOf } from "../../protocol/tee.js";
import { TcbStatus, p256SignerId, secp256k1SignerId } from "../attestation/index.js";
import { decodingReverts } from "../errors.js";
import { findEvent, sendTx, type VerityTx } from "../tx.js";
import type { LogRangeOptions } from "./registry.js";

export { TcbStatus, TeeKind };

/** Lifecycle of an environment or a service signing key (`EnvironmentStatus`, `ServiceSignerStatus`). */
export type ApprovalStatus = "None" | "Approved" | "Revoked";
const APPROVAL: readonly ApprovalStatus[] = ["None", "Approved", "Revoked"];

/** A TEE measurement approved by governance (`EnvironmentRegistry.environmentOf`), decoded. */
export interface EnvironmentInfo {
  environment: string;
  kind: TeeKind;
  status: ApprovalStatus;
  /** A fraud was proven against a key attested in it. */
  compromised: boolean;
  serial: number;
  /** Unix seconds. */
  approvedAt: number;
  /** Unix seconds; 0 while approved. */
  revokedAt: number;
  measurement: string;
  metadataURI: string;
}

/** An enclave key as registered (`EnvironmentRegistry.enclaveOf`), decoded, with its validity now. */
export interface EnclaveInfo {
  key: string;
  operator: string;
  environment: string;
  verifier: string;
  serial: number;
  tcbStatus: TcbStatus;
  /** Unix seconds. */
  registeredAt: number;
  /** Unix seconds (the key is valid while `now < expiresAt`). */
  expiresAt: number;
  /** Unix seconds; 0 while not revoked. */
  revokedAt: number;
  revokedForFraud: boolean;
  /** `isValidEnclave`: registered, not revoked, not expired, environment approved. */
  valid: boolean;
}

/** What `registerEnclave` sends: the verifier's evidence, bound to a nonce the operator was issued. */
export interface RegisterEnclaveRequest {
  /** An approved attestation verifier (for example the deployment's attestation-service verifier). */
  verifier: string;
  evidence: BytesLike;
  /** A nonce from `issueNonce` (32 bytes), issued to the signer within the last hour. */
  nonce: string;
  /** Unix seconds after now and at most 30 days ahead (and no later than the attestation's own expiry). */
  expiresAt: bigint | number;
}

/** An attestation-service signing key: a secp256k1 address, or a P-256 public key. */
export type ServiceSignerKey = string | { qx: string; qy: string };

/** An attestation-service signing key as governance approved it. */
export interface ServiceSignerInfo {
  signerId: string;
  kind: "None" | "P256" | "Secp256k1";
  status: ApprovalStatus;
  account: string;
  qx: string;
  qy: string;
}

const ZERO_ADDRESS = /^0x0{40}$/i;

/**
 * Client of the EnvironmentRegistry (approved TEE measurements, attestation verifiers, the TCB policy, and
 * the enclave keys operators register) and of the governance of the attestation-service verifier.
 */
export class EnvironmentClient {
  private readonly registryBinding?: EnvironmentRegistry;
  private readonly serviceBinding?: AttestationServiceVerifier;

  /**
   * @param address The EnvironmentRegistry (undefined for deployments without one: every call then throws).
   * @param serviceAddress The AttestationServiceVerifier, for `approveServiceSigner` and friends.
   */
  constructor(address: string | undefined, runner: ContractRunner, serviceAddress?: string) {
    if (address !== undefined) this.registryBinding = EnvironmentRegistry__factory.connect(address, runner);
    if (serviceAddress !== undefined) {
      this.serviceBinding = AttestationServiceVerifier__factory.connect(serviceAddress, runner);
    }
  }

  /** The TypeChain binding of the EnvironmentRegistry. */
  get contract(): EnvironmentRegistry {
    if (this.registryBinding === undefined) throw new Error("this deployment has no EnvironmentRegistry address");
    return this.registryBinding;
  }

  /** The TypeChain binding of the AttestationServiceVerifier. */
  get attestationService(): AttestationServiceVerifier {
    if (this.serviceBinding === undefined) {
      throw new Error("this deployment has no AttestationServiceVerifier address");
    }
    return this.serviceBinding;
  }

  // ------------------------------------------------------------------ environments (governance)

  /**
   * Approves a measurement of `kind` (TDX 240 bytes MRTD ‖ RTMR0..3, SGX 64 bytes MRENCLAVE ‖ MRSIGNER, Nitro
   * 144 bytes PCR0..2; checked before anything is sent); `wait()` resolves to the environment id.
   */
  async approveEnvironment(kind: TeeKind, measurementHex: BytesLike, uri = ""): Promise<VerityTx<string>> {
    const measurement = hexlify(measurementHex);
    environmentIdOf(kind, measurement); // throws on a wrong length, before a transaction is sent
    return sendTx(
      () => this.contract.approveEnvironment(kind, measurement, uri),
      (receipt) => findEvent(receipt, this.contract.interface, "EnvironmentApproved").args.environment,
    );
  }

  /** Revokes an environment for good: every key attested in it stops being accepted at once. */
  async revokeEnvironment(environment: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.revokeEnvironment(environment),
      () => undefined,
    );
  }

  /** An environment's record, or undefined if it was never approved. */
  async environmentOf(environment: string): Promise<EnvironmentInfo | undefined> {
    const e = await decodingReverts(() => this.contract.environmentOf(environment));
    if (Number(e.status) === 0) return undefined;
    return {
      environment,
      kind: Number(e.teeType) as TeeKind,
      status: APPROVAL[Number(e.status)] ?? "None",
      compromised: e.compromised,
      serial: Number(e.serial),
      approvedAt: Number(e.approvedAt),
      revokedAt: Number(e.revokedAt),
      measurement: e.measurement,
      metadataURI: e.metadataURI,
    };
  }

  /**
   * Every environment ever approved, in approval order, found in EnvironmentApproved / EnvironmentRevoked
   * logs (bounded block ranges), with its current record.
   */
  async listEnvironments(options: LogRangeOptions = {}): Promise<EnvironmentInfo[]> {
    const ids: string[] = [];
    const seen = new Set<string>();
    await this.scan(options, async (from, to) => {
      const approved = await this.contract.queryFilter(this.contract.filters.EnvironmentApproved(), from, to);
      const revoked = await this.contract.queryFilter(this.contract.filters.EnvironmentRevoked(), from, to);
      for (const e of [...approved, ...revoked].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)) {
        const id = e.args.environment.toLowerCase();
        if (!seen.has(id)) {
          seen.add(id);
          ids.push(e.args.environment);
        }
      }
    });
    const records = await Promise.all(ids.map((id) => this.environmentOf(id)));
    return records.filter((r): r is EnvironmentInfo => r !== undefined);
  }

  // ------------------------------------------------------------------ verifiers and TCB policy (governance)

  /** Approves an attestation verifier (it must answer `verifierKind()`). */
  async approveVerifier(verifier: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.approveVerifier(verifier),
      () => undefined,
    );
  }

  /** Revokes an attestation verifier: no new key registers through it (registered keys stay). */
  async revokeVerifier(verifier: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.revokeVerifier(verifier),
      () => undefined,
    );
  }

  /** Whether a verifier is approved. */
  async isApprovedVerifier(verifier: string): Promise<boolean> {
    return this.contract.isApprovedVerifier(verifier);
  }

  /**
   * Sets the TCB statuses a key's platform may have at registration (UpToDate must be among them,
   * Unrecognized and Revoked never are); `wait()` resolves to the mask.
   */
  async setAcceptedTcbStatuses(statuses: readonly TcbStatus[] | bigint): Promise<VerityTx<bigint>> {
    const mask = typeof statuses === "bigint" ? statuses : statuses.reduce((m, s) => m | (1n << BigInt(s)), 0n);
    return sendTx(
      () => this.contract.setAcceptedTcbStatuses(mask),
      (receipt) => findEvent(receipt, this.contract.interface, "TcbPolicyUpdated").args.acceptedMask as bigint,
    );
  }

  /** The TCB statuses accepted at registration, in enum order. */
  async acceptedTcbStatuses(): Promise<TcbStatus[]> {
    const mask = await this.contract.acceptedTcbStatuses();
    const out: TcbStatus[] = [];
    for (let s = 0; s <= TcbStatus.Revoked; s++) if ((mask >> BigInt(s)) & 1n) out.push(s as TcbStatus);
    return out;
  }

  // ------------------------------------------------------------------ enclave keys (operators)

  /** Issues a registration nonce to the signer (valid one hour, single use); `wait()` resolves to it. */
  async issueNonce(): Promise<VerityTx<string>> {
    return sendTx(
      () => this.contract.issueNonce(),
      (receipt) => findEvent(receipt, this.contract.interface, "NonceIssued").args.nonce,
    );
  }

  /**
   * The 64 bytes of report data the enclave must put in its attestation for `enclaveKey` and `nonce`:
   * the registry's answer, checked against the same bytes computed here (src/protocol/tee.ts).
   */
  async reportDataFor(enclaveKey: string, nonce: string): Promise<string> {
    const onChain = await decodingReverts(() => this.contract.reportDataOf(enclaveKey, nonce));
    const { chainId } = await this.provider().getNetwork();
    const local = reportDataOf(
      enclaveKey,
      reportBindingOf(chainId, await this.contract.getAddress(), enclaveKey, nonce),
    );
    if (onChain.toLowerCase() !== local.toLowerCase()) {
      throw new Error(`the registry's report data ${onChain} differs from the protocol's ${local}`);
    }
    return local;
  }

  /** Registers an attested enclave key for the signer (a staked provider); `wait()` resolves to the key. */
  async registerEnclave(request: RegisterEnclaveRequest): Promise<VerityTx<string>> {
    if (!isHexString(request.nonce, 32))
      throw new Error(`registerEnclave: nonce ${request.nonce} is not 32 bytes of hex`);
    return sendTx(
      () => this.contract.registerEnclave(request.verifier, request.evidence, request.nonce, request.expiresAt),
      (receipt) => findEvent(receipt, this.contract.interface, "EnclaveRegistered").args.enclaveKey,
    );
  }

  /** Revokes an enclave key (its operator or a governor). */
  async revokeEnclave(key: string): Promise<VerityTx<void>> {
    return sendTx(
      () => this.contract.revokeEnclave(key),
      () => undefined,
    );
  }

  /** A registered key's record and validity, or undefined if it was never registered. */
  async enclaveOf(key: string): Promise<EnclaveInfo | undefined> {
    const e = await decodingReverts(() => this.contract.enclaveOf(key));
    if (ZERO_ADDRESS.test(e.operator)) return undefined;
    return {
      key: getAddress(key),
      operator: e.operator,
      environment: e.environment,
      verifier: e.verifier,
      serial: Number(e.serial),
      tcbStatus: Number(e.tcbStatus) as TcbStatus,
      registeredAt: Number(e.registeredAt),
      expiresAt: Number(e.expiresAt),
      revokedAt: Number(e.revokedAt),
      revokedForFraud: e.revokedForFraud,
      valid: await this.isValidEnclave(key),
    };
  }

  /** Whether a key is registered, unrevoked, unexpired, and its environment approved. */
  async isValidEnclave(key: string): Promise<boolean> {
    return this.contract.isValidEnclave(key);
  }

  /**
   * Every key registered (optionally by one operator), in registration order, from EnclaveRegistered /
   * EnclaveRevoked logs in bounded block ranges, with its current record.
   */
  async listEnclaves(options: { operator?: string } & LogRangeOptions = {}): Promise<EnclaveInfo[]> {
    const operator = options.operator === undefined ? undefined : getAddress(options.operator);
    const keys: string[] = [];
    const seen = new Set<string>();
    await this.scan(options, async (from, to) => {
      const registered = await this.contract.queryFilter(
        this.contract.filters.EnclaveRegistered(undefined, operator),
        from,
        to,
      );
      const revoked = await this.contract.queryFilter(this.contract.filters.EnclaveRevoked(), from, to);
      for (const e of [...registered, ...revoked].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)) {
        const key = getAddress(e.args.enclaveKey);
        if (!seen.has(key)) {
          seen.add(key);
          keys.push(key);
        }
      }
    });
    const records = await Promise.all(keys.map((key) => this.enclaveOf(key)));
    return records.filter(
      (r): r is EnclaveInfo => r !== undefined && (operator === undefined || r.operator === operator),
    );
  }

  // ------------------------------------------------------------------ attestation-service signers (governance)

  /**
   * Approves an attestation-service signing key on the attestation-service verifier: a secp256k1 address,
   * or a P-256 public key `{ qx, qy }`; `wait()` resolves to its signer id.
   */
  async approveServiceSigner(key: ServiceSignerKey): Promise<VerityTx<string>> {
    const service = this.attestationService;
    if (typeof key === "string") {
      return sendTx(
        () => service.approveSecp256k1Signer(key),
        (receipt) => findEvent(receipt, service.interface, "Secp256k1SignerApproved").args.signerId,
      );
    }
    return sendTx(
      () => service.approveP256Signer(key.qx, key.qy),
      (receipt) => findEvent(receipt, service.interface, "P256SignerApproved").args.signerId,
    );
  }

  /** Revokes a signing key for good, named by its signer id, its secp256k1 address or its P-256 key. */
  async revokeServiceSigner(key: ServiceSignerKey): Promise<VerityTx<void>> {
    const signerId = serviceSignerIdOf(key);
    return sendTx(
      () => this.attestationService.revokeSigner(signerId),
      () => undefined,
    );
  }

  /** A signing key as approved (kind None if unknown). */
  async serviceSignerOf(key: ServiceSignerKey): Promise<ServiceSignerInfo> {
    const signerId = serviceSignerIdOf(key);
    const s = await this.attestationService.signerOf(signerId);
    return {
      signerId,
      kind: (["None", "P256", "Secp256k1"] as const)[Number(s.kind)] ?? "None",
      status: APPROVAL[Number(s.status)] ?? "None",
      account: s.account,
      qx: s.qx,
      qy: s.qy,
    };
  }

  // ------------------------------------------------------------------ internals

  private provider(): Provider {
    const provider = this.contract.runner?.provider as Provider | null | undefined;
    if (provider === null || provider === undefined) throw new Error("the environment client has no provider");
    return provider;
  }

  /** Calls `visit` over `[fromBlock, toBlock]` in chunks of at most `maxRange` blocks, in order. */
  private async scan(options: LogRangeOptions, visit: (from: number, to: number) => Promise<void>): Promise<void> {
    const to = options.toBlock ?? (await this.provider().getBlockNumber());
    const range = Math.max(1, options.maxRange ?? 2_000);
    for (let from = options.fromBlock ?? 0; from <= to; from += range)
      await visit(from, Math.min(to, from + range - 1));
  }
}

/** The signer id of a service key: a 32-byte id as given, an address's secp256k1 id, or a P-256 key's id. */
export function serviceSignerIdOf(key: ServiceSignerKey): string {
  if (typeof key !== "string") return p256SignerId(key.qx, key.qy);
  if (isHexString(key, 32)) return key;
  if (isAddress(key)) return secp256k1SignerId(key);
  throw new Error(`${key} is neither a signer id, an address nor a P-256 key`);
}

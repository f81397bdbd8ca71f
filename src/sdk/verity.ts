import type { ContractRunner, Provider } from "ethers";
import { findDeployment, type VerityAddresses } from "./deployments.js";
import { DisclosureClient } from "./clients/disclosure.js";
import { DisputeClient } from "./clients/disputes.js";
import { EnvironmentClient } from "./clients/environments.js";
import { LedgerClient } from "./clients/ledger.js";
import { OracleClient } from "./clients/oracle.js";
import { RegistryClient } from "./clients/registry.js";
import { StakingClient } from "./clients/staking.js";
import type { NonceBook } from "./nonces.js";

/** Options of `Verity.connect`. */
export interface ConnectOptions {
  /** A signer (for writes) or a provider (read-only). */
  runner: ContractRunner;
  /** Explicit addresses; otherwise read from Ignition's deployment folder for the runner's chain id. */
  addresses?: VerityAddresses;
  /** Deployment folder, file, or deployments root (default ignition/deployments). */
  deployment?: string;
  /** Where dispute openings keep their nonces (default: in memory; see `FileNonceBook`). */
  nonces?: NonceBook;
}

/** One connection to a Verity deployment: a client per contract. */
export class Verity {
  readonly registry: RegistryClient;
  readonly staking: StakingClient;
  readonly ledger: LedgerClient;
  readonly disputes: DisputeClient;
  readonly disclosure: DisclosureClient;
  /** Environments, enclave keys and the attestation-service verifier's signing keys. */
  readonly environments: EnvironmentClient;
  /** The inference oracle (its client throws when used on a deployment without one). */
  readonly oracle: OracleClient;

  private constructor(
    readonly runner: ContractRunner,
    readonly addresses: VerityAddresses,
    nonces?: NonceBook,
  ) {
    this.registry = new RegistryClient(addresses.registry, runner);
    this.staking = new StakingClient(addresses.stakeManager, runner);
    this.ledger = new LedgerClient(addresses.ledger, runner);
    this.disputes = new DisputeClient(addresses.disputeGame, runner, nonces);
    this.disclosure = new DisclosureClient(addresses.batchDisclosure, runner);
    // Addresses built by hand for older deployments may lack these: the client then throws when used.
    this.environments = new EnvironmentClient(addresses.environments, runner, addresses.attestationService);
    this.oracle = new OracleClient(addresses.oracle, runner);
  }

  /** Connects to a deployment; addresses come from `options.addresses` or the Ignition deployment folder. */
  static async connect(options: ConnectOptions): Promise<Verity> {
    let addresses = options.addresses;
    if (addresses === undefined) {
      const provider = options.runner.provider as Provider | null;
      if (provider === null || provider === undefined) throw new Error("the runner has no provider");
      // The live deployment of this chain instance (local nodes share chain id 31337: the genesis tells them apart).
      addresses = (await findDeployment(provider, options.deployment)).addresses;
    }
    return new Verity(options.runner, addresses, options.nonces);
  }

  /** The provider behind the runner. */
  get provider(): Provider {
    const provider = this.runner.provider;
    if (provider === null || provider === undefined) throw new Error("the runner has no provider");
    return provider;
  }

  /**
   * A connection with the same addresses and another runner (for example another signer). Nonces are
   * per signer: the new connection keeps its own (in memory unless `nonces` is given).
   */
  connect(runner: ContractRunner, nonces?: NonceBook): Verity {
    return new Verity(runner, this.addresses, nonces);
  }
}

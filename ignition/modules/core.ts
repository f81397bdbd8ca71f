import { id } from "ethers";
import type { ContractFuture, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";

/**
 * 110 days: just over the latest a commitment can be disputed (two 30-day challenge windows around a
 * 7-day batch disclosure) plus the 42-day longest dispute.
 */
export const DEFAULT_UNBONDING_DELAY = 110 * 24 * 60 * 60;

/** Token base units one unit of gas is worth, for bond checks (1 gwei of an 18-decimal token). */
export const DEFAULT_REFERENCE_GAS_PRICE = 1_000_000_000n;

/** keccak256("verity.role.dispute"): held by dispute games on the ledger and the stake manager. */
export const DISPUTE_ROLE = id("verity.role.dispute");

/** keccak256("verity.role.oracle"): held by the inference oracle on the ledger and the stake manager. */
export const ORACLE_ROLE = id("verity.role.oracle");

/**
 * Deploys and wires the protocol around an existing staking token future: the ledger, the registry,
 * the stake manager, the dispute game, the batch disclosure, the environment registry and the attestation-service
 * verifier; binds the ledger's admission cache to the registry, stake manager and environment registry, approves
 * the verifier, gives the dispute game and the batch disclosure DISPUTE_ROLE on the ledger and the stake manager,
 * and deploys the inference oracle (fees in the staking token) with ORACLE_ROLE on both.
 * The deployer (account 0) is the admin; hand DEFAULT_ADMIN_ROLE to governance afterwards.
 */
export function buildCore(m: IgnitionModuleBuilder, token: ContractFuture<string>) {
  const admin = m.getAccount(0);
  const treasury = m.getParameter("treasury", admin);
  const challengerShareBps = m.getParameter("challengerShareBps", 5_000);
  const unbondingDelay = m.getParameter("unbondingDelay", DEFAULT_UNBONDING_DELAY);
  const referenceGasPrice = m.getParameter("referenceGasPrice", DEFAULT_REFERENCE_GAS_PRICE);

  const ledger = m.contract("InferenceLedger", [admin]);
  const registry = m.contract("ModelRegistry", [admin, ledger, referenceGasPrice]);
  const stakeManager = m.contract("StakeManager", [token, ledger, admin, treasury, challengerShareBps, unbondingDelay]);
  m.call(ledger, "bindSources", [registry, stakeManager]);

  const disputeGame = m.contract("DisputeGame", [admin, registry, ledger, stakeManager]);
  m.call(ledger, "grantRole", [DISPUTE_ROLE, disputeGame], { id: "ledger_grantDisputeRole" });
  m.call(stakeManager, "grantRole", [DISPUTE_ROLE, disputeGame], { id: "stakeManager_grantDisputeRole" });

  const batchDisclosure = m.contract("BatchDisclosure", [registry, ledger, stakeManager]);
  m.call(ledger, "grantRole", [DISPUTE_ROLE, batchDisclosure], { id: "ledger_grantDisclosureRole" });
  m.call(stakeManager, "grantRole", [DISPUTE_ROLE, batchDisclosure], { id: "stakeManager_grantDisclosureRole" });

  // Environments: the registry of measurements and enclave keys writes the ledger's TEE admission cache;
  // the attestation-service verifier is approved (its signing keys are added by governance).
  const environmentRegistry = m.contract("EnvironmentRegistry", [admin, ledger]);
  m.call(ledger, "bindEnvironments", [environmentRegistry]);
  const attestationService = m.contract("AttestationServiceVerifier", [admin]);
  m.call(environmentRegistry, "approveVerifier", [attestationService]);

  // The oracle: requests paid in the staking token, answered by commitments it records on the ledger; it
  // releases the requesters' compensation from the stake manager.
  const oracle = m.contract("InferenceOracle", [token, ledger, registry, stakeManager]);
  m.call(ledger, "grantRole", [ORACLE_ROLE, oracle], { id: "ledger_grantOracleRole" });
  m.call(stakeManager, "grantRole", [ORACLE_ROLE, oracle], { id: "stakeManager_grantOracleRole" });

  return {
    ledger,
    registry,
    stakeManager,
    disputeGame,
    batchDisclosure,
    environmentRegistry,
    attestationService,
    oracle,
  };
}

import { id } from "ethers";
import type { ContractFuture, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";

/** 73 days: just over the 30-day longest challenge window plus the 42-day longest dispute. */
export const DEFAULT_UNBONDING_DELAY = 73 * 24 * 60 * 60;

/** keccak256("verity.role.dispute"): held by dispute games on the ledger and the stake manager. */
export const DISPUTE_ROLE = id("verity.role.dispute");

/**
 * Deploys and wires the protocol around an existing staking token future: the ledger, the registry,
 * the stake manager and the dispute game; binds the ledger's admission cache to the registry and stake
 * manager, and gives the dispute game DISPUTE_ROLE on the ledger and the stake manager.
 * The deployer (account 0) is the admin; hand DEFAULT_ADMIN_ROLE to governance afterwards.
 */
export function buildCore(m: IgnitionModuleBuilder, token: ContractFuture<string>) {
  const admin = m.getAccount(0);
  const treasury = m.getParameter("treasury", admin);
  const challengerShareBps = m.getParameter("challengerShareBps", 5_000);
  const unbondingDelay = m.getParameter("unbondingDelay", DEFAULT_UNBONDING_DELAY);

  const ledger = m.contract("InferenceLedger", [admin]);
  const registry = m.contract("ModelRegistry", [admin, ledger]);
  const stakeManager = m.contract("StakeManager", [token, ledger, admin, treasury, challengerShareBps, unbondingDelay]);
  m.call(ledger, "bindSources", [registry, stakeManager]);

  const disputeGame = m.contract("DisputeGame", [admin, registry, ledger, stakeManager]);
  m.call(ledger, "grantRole", [DISPUTE_ROLE, disputeGame], { id: "ledger_grantDisputeRole" });
  m.call(stakeManager, "grantRole", [DISPUTE_ROLE, disputeGame], { id: "stakeManager_grantDisputeRole" });

  return { ledger, registry, stakeManager, disputeGame };
}

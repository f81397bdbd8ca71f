import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import type { ContractFuture } from "@nomicfoundation/ignition-core";

/** 73 days: just over the 30-day longest challenge window plus the 42-day longest dispute. */
export const DEFAULT_UNBONDING_DELAY = 73 * 24 * 60 * 60;

/**
 * Deploys and wires the core protocol around an existing staking token future: the ledger, the registry
 * and the stake manager, then binds the ledger's admission cache to the other two.
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

  return { ledger, registry, stakeManager };
}

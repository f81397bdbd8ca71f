import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Adds Intel TDX/SGX quote verification on-chain to an existing deployment: deploys the adapter for
 * Automata's DCAP attestation contract (parameter `automata`: its address on this chain; release v1.1.4
 * ABI, deployed with a zero fee, since the adapter sends none) and approves it in the environment registry
 * (parameter `environmentRegistry`). The deployer must hold GOVERNOR_ROLE there.
 */
export default buildModule("AutomataDcap", (m) => {
  const adapter = m.contract("AutomataDcapAdapter", [m.getParameter<string>("automata")]);
  const registry = m.contractAt("EnvironmentRegistry", m.getParameter<string>("environmentRegistry"));
  m.call(registry, "approveVerifier", [adapter]);
  return { adapter };
});

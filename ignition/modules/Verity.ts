import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildCore } from "./core.js";

/**
 * The core protocol on a real network, staking an existing ERC-20 given by the `stakingToken`
 * parameter (see ignition/parameters/<network>.json).
 */
export default buildModule("Verity", (m) => {
  const token = m.contractAt("IERC20", m.getParameter<string>("stakingToken"));
  return { token, ...buildCore(m, token) };
});

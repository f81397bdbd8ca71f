import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildCore } from "./core.js";

/**
 * The whole protocol on a local chain (in-process or `hardhat node`): a mintable test staking token
 * plus the core. Tests use this module as their fixture.
 */
export default buildModule("VerityLocal", (m) => {
  const token = m.contract("MockERC20", [
    m.getParameter("tokenName", "Verity Stake"),
    m.getParameter("tokenSymbol", "VST"),
  ]);
  return { token, ...buildCore(m, token) };
});

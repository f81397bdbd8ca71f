// Hardhat 3 needs Node >= 22.13 and its native EDR package. When `npm install` itself runs under an
// older system Node, npm silently skips EDR's platform package (its engines field says node >= 22).
// This postinstall re-runs the install once under the Node binary that the `node` devDependency put in
// node_modules/.bin (npm puts that folder first on PATH for scripts), which then fetches it.
"use strict";
const { execSync } = require("node:child_process");

function edrLoads() {
  try {
    require("@nomicfoundation/edr");
    return true;
  } catch {
    return false;
  }
}

if (edrLoads()) process.exit(0);
if (process.env.VERITY_EDR_RETRY === "1") {
  console.error("verity: @nomicfoundation/edr still fails to load after a second install under Node " + process.version);
  process.exit(1);
}
console.log(`verity: installing Hardhat's native EDR package again under Node ${process.version}`);
execSync("npm install --no-audit --no-fund", {
  stdio: "inherit",
  env: { ...process.env, VERITY_EDR_RETRY: "1" },
});

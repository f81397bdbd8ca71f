import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
// The compiler is the wasm build shipped in the npm `solc` package: nothing is ever downloaded.
// Its version is read from the package so that `version` and `path` cannot drift apart.
const solcVersion: string = require("solc/package.json").version;
const solcPath = require.resolve("solc/soljson.js");

const compiler = {
  version: solcVersion,
  path: solcPath,
  settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun", viaIR: true },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    // The network deployment module stakes an existing token through this interface's artifact.
    npmFilesToBuild: ["@openzeppelin/contracts/token/ERC20/IERC20.sol"],
    profiles: {
      default: compiler,
      production: compiler,
    },
  },
  typechain: { outDir: "typechain-types" },
  test: {
    solidity: {
      fuzz: { runs: 256 },
      invariant: { runs: 64, depth: 32, failOnRevert: false },
    },
    mocha: { timeout: 600_000 },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    // Any node by URL, signing with its unlocked accounts (`hardhat node`, anvil): used by `verity deploy`.
    verity: { type: "http", chainType: "l1", url: configVariable("VERITY_RPC_URL") },
    // Any network by URL, signing with a key from the environment or the Hardhat keystore.
    verityKeyed: {
      type: "http",
      chainType: "l1",
      url: configVariable("VERITY_RPC_URL"),
      accounts: [configVariable("VERITY_PRIVATE_KEY")],
    },
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
});

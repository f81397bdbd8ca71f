import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { ZkToolchainError } from "./errors.js";

const require = createRequire(import.meta.url);

/** A compiled contract, in the shape ethers' `ContractFactory` and Hardhat Ignition's `m.contract` take. */
export interface VerifierArtifact {
  _format: "hh-sol-artifact-1";
  contractName: string;
  sourceName: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
  linkReferences: Record<string, never>;
  deployedLinkReferences: Record<string, never>;
}

/** Name of the contract snarkjs' Groth16 template declares. */
export const GENERATED_VERIFIER_NAME = "Groth16Verifier";

/**
 * The Solidity source of a `.zkey`'s Groth16 verifier, from snarkjs' own template. It is generated per model
 * and compiled at deploy time ({@link compileVerifier}); nothing generated is committed.
 *
 * @param zkey - The final `.zkey` bytes.
 * @returns The source.
 */
export async function exportVerifierSource(zkey: Uint8Array): Promise<string> {
  // the package exports no subpaths: its main entry is build/main.cjs, the templates sit beside build/
  const root = path.dirname(path.dirname(require.resolve("snarkjs")));
  const template = await readFile(path.join(root, "templates", "verifier_groth16.sol.ejs"), "utf8");
  return snarkjs.zKey.exportSolidityVerifier({ type: "mem", data: zkey }, { groth16: template });
}

/**
 * Compiles a generated verifier with the npm `solc` (the wasm compiler the project builds with; see
 * hardhat.config.ts), optimizer on, for Cancun.
 *
 * @param source - From {@link exportVerifierSource}.
 * @returns The artifact.
 * @throws ZkToolchainError with solc's first error.
 */
export function compileVerifier(source: string): VerifierArtifact {
  const solc = require("solc") as { compile(input: string): string };
  const sourceName = "generated/Groth16Verifier.sol";
  const input = {
    language: "Solidity",
    sources: { [sourceName]: { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<
      string,
      Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
    >;
  };
  const error = output.errors?.find((e) => e.severity === "error");
  if (error) throw new ZkToolchainError("solc", error.formattedMessage.split("\n")[0]);
  const c = output.contracts?.[sourceName]?.[GENERATED_VERIFIER_NAME];
  if (!c) throw new ZkToolchainError("solc", `no ${GENERATED_VERIFIER_NAME} in the generated source`);
  return {
    _format: "hh-sol-artifact-1",
    contractName: GENERATED_VERIFIER_NAME,
    sourceName,
    abi: c.abi,
    bytecode: `0x${c.evm.bytecode.object}`,
    deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    linkReferences: {},
    deployedLinkReferences: {},
  };
}

import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

/** Addresses of one Verity deployment. */
export interface VerityAddresses {
  token: string;
  registry: string;
  stakeManager: string;
  ledger: string;
  disputeGame: string;
  batchDisclosure: string;
  environments: string;
  attestationService: string;
}

const CONTRACT_KEYS: Record<string, keyof VerityAddresses> = {
  MockERC20: "token",
  IERC20: "token",
  ModelRegistry: "registry",
  StakeManager: "stakeManager",
  InferenceLedger: "ledger",
  DisputeGame: "disputeGame",
  BatchDisclosure: "batchDisclosure",
  EnvironmentRegistry: "environments",
  AttestationServiceVerifier: "attestationService",
};

/** Default folder where Ignition writes deployments (`<folder>/chain-<chainId>/deployed_addresses.json`). */
export const DEFAULT_DEPLOYMENTS_DIR = "ignition/deployments";

/**
 * Reads a deployment's addresses from Ignition's `deployed_addresses.json`, whose keys look like
 * `VerityLocal#InferenceLedger`. `source` is a deployment folder, the JSON file itself, or the
 * deployments root, in which case `chain-<chainId>` is used.
 */
export function loadDeployment(chainId: bigint | number, source: string = DEFAULT_DEPLOYMENTS_DIR): VerityAddresses {
  const file = resolveAddressesFile(chainId, source);
  const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  return addressesFromIgnition(raw, file);
}

/** Maps Ignition's `Module#Contract` keys onto Verity's contract roles. */
export function addressesFromIgnition(raw: Record<string, string>, origin = "deployment"): VerityAddresses {
  const found: Partial<VerityAddresses> = {};
  for (const [key, address] of Object.entries(raw)) {
    const contract = key.split("#").pop() ?? key;
    const role = CONTRACT_KEYS[contract];
    if (role !== undefined) found[role] = address;
  }
  const missing = (Object.values(CONTRACT_KEYS) as (keyof VerityAddresses)[]).filter((k) => found[k] === undefined);
  if (missing.length > 0) throw new Error(`${origin} has no address for ${[...new Set(missing)].join(", ")}`);
  return found as VerityAddresses;
}

function resolveAddressesFile(chainId: bigint | number, source: string): string {
  if (source.endsWith(".json")) {
    if (!existsSync(source)) throw new Error(`no deployment file at ${source}`);
    return source;
  }
  const direct = path.join(source, "deployed_addresses.json");
  if (existsSync(direct)) return direct;
  const perChain = path.join(source, `chain-${chainId}`, "deployed_addresses.json");
  if (existsSync(perChain)) return perChain;
  const known = existsSync(source) ? readdirSync(source).filter((d) => d.startsWith("chain-")) : [];
  throw new Error(
    `no Verity deployment for chain ${chainId} under ${source}` +
      (known.length > 0 ? ` (found ${known.join(", ")})` : " (run `verity deploy` first)"),
  );
}

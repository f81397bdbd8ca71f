import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Provider } from "ethers";

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
  /** The inference oracle (absent from deployments made before it existed). */
  oracle?: string;
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
  InferenceOracle: "oracle",
};

/** Roles a deployment may lack (contracts added later). */
const OPTIONAL_KEYS = new Set<keyof VerityAddresses>(["oracle"]);

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
  const missing = (Object.values(CONTRACT_KEYS) as (keyof VerityAddresses)[]).filter(
    (k) => found[k] === undefined && !OPTIONAL_KEYS.has(k),
  );
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

/**
 * The file Verity writes next to Ignition's `deployed_addresses.json`: which chain instance the deployment
 * belongs to. Local nodes (`hardhat node`, anvil) all use chain id 31337, so the chain id alone cannot tell
 * them apart; the genesis block's hash can (it differs between nodes and between restarts of one node).
 */
export const DEPLOYMENT_IDENTITY_FILE = "verity.json";

/** The EVM version the contracts are built for (`evmVersion` in hardhat.config.ts; a test keeps them equal). */
export const BUILD_EVM_VERSION = "cancun";

/** What these functions read from the node (an ethers Provider, or Hardhat's). */
export type ChainReader = Pick<Provider, "getNetwork" | "getBlock" | "getCode" | "call">;

/** One chain instance: its chain id and its genesis block. */
export interface ChainInstance {
  chainId: bigint;
  genesisHash: string;
}

/** The content of `verity.json`. */
export interface DeploymentIdentity {
  chainId: string;
  genesisHash: string;
  /** When the deployment was started (ISO 8601). */
  deployedAt: string;
  /** The RPC URL it was deployed through, for the reader's information. */
  rpc?: string;
}

/** A deployment that cannot be used on this node, or a deployment that cannot be made: one line saying what to do. */
export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeploymentError";
  }
}

/** The chain id and genesis block hash of the node. */
export async function chainInstanceOf(provider: ChainReader): Promise<ChainInstance> {
  const [network, genesis] = await Promise.all([provider.getNetwork(), provider.getBlock(0)]);
  if (genesis === null || genesis.hash === null) throw new DeploymentError("the node has no genesis block");
  return { chainId: network.chainId, genesisHash: genesis.hash.toLowerCase() };
}

/** `chain-<chainId>-<first 8 hex digits of the genesis hash>`: the deployment id of a chain instance. */
export function instanceDeploymentId(instance: ChainInstance): string {
  return `chain-${instance.chainId}-${instance.genesisHash.slice(2, 10)}`;
}

/** Reads `verity.json` of a deployment folder (undefined when there is none, or it is not one Verity wrote). */
export function readDeploymentIdentity(folder: string): DeploymentIdentity | undefined {
  try {
    const identity = JSON.parse(
      readFileSync(path.join(folder, DEPLOYMENT_IDENTITY_FILE), "utf8"),
    ) as DeploymentIdentity;
    return typeof identity.chainId === "string" && typeof identity.genesisHash === "string" ? identity : undefined;
  } catch {
    return undefined;
  }
}

/** Records in `folder` (created if needed) the chain instance its deployment belongs to. */
export function writeDeploymentIdentity(folder: string, instance: ChainInstance, rpc?: string): DeploymentIdentity {
  const identity: DeploymentIdentity = {
    chainId: instance.chainId.toString(),
    genesisHash: instance.genesisHash,
    deployedAt: new Date().toISOString(),
    ...(rpc === undefined ? {} : { rpc }),
  };
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, DEPLOYMENT_IDENTITY_FILE), `${JSON.stringify(identity, null, 2)}\n`);
  return identity;
}

/**
 * What a deployment folder is to this node:
 * - `absent`: no deployment there;
 * - `live`: every contract of the deployment has code here (and `verity.json`, if any, names this chain);
 * - `incomplete`: a deployment of this chain instance that Ignition has not finished (resumable);
 * - `foreign`: `verity.json` names another chain instance;
 * - `stale`: contracts it records have no code on this node (another node, or this one restarted).
 */
export type DeploymentState = "absent" | "live" | "incomplete" | "foreign" | "stale";

/** A deployment folder inspected against the node. */
export interface InspectedDeployment {
  folder: string;
  state: DeploymentState;
  identity?: DeploymentIdentity;
  /** The Ignition module of the addresses (`VerityLocal`, `Verity`), when any are recorded. */
  module?: string;
  /** The addresses, when every role has one. */
  addresses?: VerityAddresses;
  /** Roles whose recorded address has no code here (`stale`). */
  missing: string[];
  /** Why it is `foreign` or `stale`, in a few words. */
  reason?: string;
}

/** Inspects the deployment in `folder` against the node (`instance` is read from the node when not given). */
export async function inspectDeployment(
  provider: ChainReader,
  folder: string,
  instance?: ChainInstance,
): Promise<InspectedDeployment> {
  const base = { folder, missing: [] as string[] };
  if (!existsSync(folder)) return { ...base, state: "absent" };
  instance ??= await chainInstanceOf(provider);
  const identity = readDeploymentIdentity(folder);
  if (identity !== undefined && !sameInstance(identity, instance)) {
    return { ...base, identity, state: "foreign", reason: `it belongs to ${describeIdentity(identity)}` };
  }
  const file = path.join(folder, "deployed_addresses.json");
  if (!existsSync(file)) {
    if (identity !== undefined) return { ...base, identity, state: "incomplete" };
    if (existsSync(path.join(folder, "journal.jsonl")))
      return { ...base, state: "foreign", reason: "it holds an unfinished deployment with no record of its chain" };
    return { ...base, state: "absent" };
  }
  let raw: Record<string, string>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  } catch {
    return { ...base, identity, state: "stale", reason: `${file} is not JSON` };
  }
  const roles = rolesOf(raw);
  const module = Object.keys(raw)[0]?.split("#")[0];
  const entries = Object.entries(roles);
  const codes = await Promise.all(entries.map(([, address]) => provider.getCode(address)));
  const missing = entries.filter((_, i) => codes[i] === "0x").map(([role, address]) => `${role} ${address}`);
  if (missing.length > 0) {
    return { ...base, identity, module, missing, state: "stale", reason: `no contract code at ${missing.join(", ")}` };
  }
  const complete = ROLES.every((role) => roles[role] !== undefined);
  if (!complete && identity === undefined)
    return { ...base, module, state: "stale", reason: "it records only some of the contracts" };
  if (!complete) return { ...base, identity, module, state: "incomplete" };
  return { ...base, identity, module, addresses: roles as VerityAddresses, state: "live" };
}

/** A deployment found for the node. */
export interface FoundDeployment {
  folder: string;
  /** The file the addresses come from. */
  file: string;
  addresses: VerityAddresses;
  instance: ChainInstance;
  /** Absent for a deployment Verity did not record (made by Ignition directly, or before verity.json). */
  identity?: DeploymentIdentity;
}

/**
 * Finds the deployment to use on the node, and checks that it is live there: its contracts have code and
 * its `verity.json` (if any) names this chain instance.
 *
 * `source` is a deployment folder, its `deployed_addresses.json`, or a deployments root (default
 * `ignition/deployments`), in which the folders `chain-<chainId>` and `chain-<chainId>-*` are candidates:
 * the newest deployment recorded for this chain instance that is live wins, then one Verity did not record.
 * @throws DeploymentError (one line saying what to do) when there is no such deployment.
 */
export async function findDeployment(
  provider: ChainReader,
  source: string = DEFAULT_DEPLOYMENTS_DIR,
): Promise<FoundDeployment> {
  const instance = await chainInstanceOf(provider);
  const explicit = explicitFolder(source);
  if (explicit !== undefined) {
    const inspected = await inspectDeployment(provider, explicit.folder, instance);
    if (inspected.state === "live") return found(inspected, explicit.file, instance);
    throw new DeploymentError(unusable(inspected, instance));
  }
  const all = await deploymentsIn(provider, source, instance);
  const candidates = all.filter((d) => d.state !== "foreign");
  const live = candidates.find((c) => c.state === "live");
  if (live !== undefined) return found(live, path.join(live.folder, "deployed_addresses.json"), instance);
  if (candidates.length === 0 && all.length > 0) {
    throw new DeploymentError(
      `the deployments for chain ${instance.chainId} under ${shown(source)} (${all.map((d) => path.basename(d.folder)).join(", ")}) ` +
        `belong to other chain instances, not to this node (genesis ${instance.genesisHash.slice(0, 10)}…): ` +
        "run `verity deploy` to deploy on this node, or pass --deployment <folder> of a deployment on it",
    );
  }
  if (candidates.length === 0) {
    const known = existsSync(source) ? readdirSync(source).filter((d) => d.startsWith("chain-")) : [];
    throw new DeploymentError(
      `no Verity deployment for chain ${instance.chainId} under ${shown(source)}` +
        (known.length > 0
          ? ` (found ${known.join(", ")}): run \`verity deploy\`, or pass --deployment <folder>`
          : ": run `verity deploy` first"),
    );
  }
  throw new DeploymentError(unusable(candidates[0], instance));
}

/** What `verity deploy` (or the demo) does on this node. */
export interface DeploymentPlan {
  /** `deploy`: a new deployment; `resume`: finish an incomplete one; `live`: one is already live here. */
  action: "deploy" | "resume" | "live";
  deploymentId: string;
  folder: string;
  instance: ChainInstance;
  /** The deployment that is already there (`live`, `resume`). */
  existing?: InspectedDeployment;
}

/**
 * Decides where a deployment goes, without ever replacing a live one or one of another chain instance.
 *
 * With `deploymentId`: that folder, unless it is live (`live`), or belongs to another chain instance or has
 * no code here (a `DeploymentError`: choose another id). Without: a live deployment of this chain instance
 * under `root` is reported (`live`) unless `fresh`; an unfinished one is resumed; otherwise the first free
 * name of `chain-<id>`, `chain-<id>-<genesis>`, `chain-<id>-<genesis>-2`, ... (a folder of another chain
 * instance, or whose contracts are gone, is left as it is).
 */
export async function planDeployment(
  provider: ChainReader,
  root: string = DEFAULT_DEPLOYMENTS_DIR,
  options: { deploymentId?: string; fresh?: boolean } = {},
): Promise<DeploymentPlan> {
  const instance = await chainInstanceOf(provider);
  if (options.deploymentId !== undefined) {
    const folder = path.join(root, options.deploymentId);
    const existing = await inspectDeployment(provider, folder, instance);
    const plan = { deploymentId: options.deploymentId, folder, instance, existing };
    if (existing.state === "absent") return { ...plan, action: "deploy" };
    if (existing.state === "incomplete") return { ...plan, action: "resume" };
    if (existing.state === "live") return { ...plan, action: "live" };
    throw new DeploymentError(
      `${shown(folder)} holds a deployment that is not on this node (${existing.reason}): ` +
        `choose another --deployment-id, or remove that folder to reuse the name`,
    );
  }
  const candidates = (await deploymentsIn(provider, root, instance)).filter((d) => d.state !== "foreign");
  if (!options.fresh) {
    for (const state of ["live", "incomplete"] as const) {
      const existing = candidates.find((c) => c.state === state);
      if (existing !== undefined) {
        const deploymentId = path.basename(existing.folder);
        return {
          action: state === "live" ? "live" : "resume",
          deploymentId,
          folder: existing.folder,
          instance,
          existing,
        };
      }
    }
  }
  const keyed = instanceDeploymentId(instance);
  const names = [`chain-${instance.chainId}`, keyed];
  for (let n = 2; names.length < 1_000; n++) names.push(`${keyed}-${n}`);
  const deploymentId = names.find((name) => !existsSync(path.join(root, name)))!;
  return { action: "deploy", deploymentId, folder: path.join(root, deploymentId), instance };
}

/**
 * Whether the node runs Cancun (MCOPY, TLOAD, BLOBBASEFEE), which the contracts' bytecode needs: an
 * `eth_call` of creation code using those opcodes. Undefined when the probe failed for another reason.
 */
export async function supportsCancun(provider: ChainReader): Promise<boolean | undefined> {
  // PUSH1 0 PUSH1 0 PUSH1 0 MCOPY, PUSH1 0 TLOAD POP, BLOBBASEFEE POP, STOP
  const probe = "0x6000600060005e60005c504a5000";
  try {
    await provider.call({ data: probe });
    return true;
  } catch (error) {
    return isMissingOpcodeError(error) ? false : undefined;
  }
}

/** Whether an error (a failed call or deployment, or its text) says the EVM lacks an opcode. */
export function isMissingOpcodeError(error: unknown): boolean {
  const text =
    typeof error === "string"
      ? error
      : [
          (error as { message?: unknown })?.message,
          (error as { shortMessage?: unknown })?.shortMessage,
          JSON.stringify((error as { info?: unknown; error?: unknown })?.info ?? null),
          JSON.stringify((error as { error?: unknown })?.error ?? null),
        ].join(" ");
  return /NotActivated|not activated|invalid opcode|InvalidFEOpcode|opcode not (found|defined|supported)|undefined opcode|OpcodeNotFound/i.test(
    text,
  );
}

/** The one line for a chain that lacks the opcodes of the build's EVM version. */
export function cancunRequiredMessage(chainId: bigint | number, rpc?: string): string {
  return (
    `chain ${chainId}${rpc === undefined ? "" : ` at ${rpc}`} does not support Cancun (no MCOPY, TSTORE or ` +
    `BLOBBASEFEE), the EVM version the contracts are built for (evmVersion "${BUILD_EVM_VERSION}" in hardhat.config.ts): ` +
    `use a node or chain with Cancun or later (anvil: --hardfork ${BUILD_EVM_VERSION} or later)`
  );
}

/** The roles a complete deployment has (optional ones, added later, are not required). */
const ROLES = [...new Set(Object.values(CONTRACT_KEYS))].filter((role) => !OPTIONAL_KEYS.has(role));

/** The roles an Ignition address map has (possibly not all of them). */
function rolesOf(raw: Record<string, string>): Partial<VerityAddresses> {
  const roles: Partial<VerityAddresses> = {};
  for (const [key, address] of Object.entries(raw)) {
    const role = CONTRACT_KEYS[key.split("#").pop() ?? key];
    if (role !== undefined) roles[role] = address;
  }
  return roles;
}

function sameInstance(identity: DeploymentIdentity, instance: ChainInstance): boolean {
  return (
    identity.chainId === instance.chainId.toString() && identity.genesisHash.toLowerCase() === instance.genesisHash
  );
}

function describeIdentity(identity: DeploymentIdentity): string {
  return `another chain instance (chain ${identity.chainId}, genesis ${identity.genesisHash.slice(0, 10)}…)`;
}

/** The one line for a deployment that cannot be used on this node. */
function unusable(inspected: InspectedDeployment, instance: ChainInstance): string {
  const where = shown(inspected.folder);
  const node = `this node (chain ${instance.chainId}, genesis ${instance.genesisHash.slice(0, 10)}…)`;
  const todo = "run `verity deploy` to deploy on this node, or pass --deployment <folder> of a deployment on it";
  switch (inspected.state) {
    case "absent":
      return `no Verity deployment in ${where}: ${todo}`;
    case "incomplete":
      return `the deployment in ${where} is unfinished: run \`verity deploy\` again to finish it`;
    case "foreign":
      return `the deployment in ${where} is not on ${node}: ${inspected.reason}; ${todo}`;
    default:
      return (
        `no Verity contracts on ${node} at the addresses in ${where} (${inspected.reason}): it was deployed to ` +
        `another node or this node was restarted; ${todo}`
      );
  }
}

/** The folder (and file) a `source` names, or undefined when it is a deployments root. */
function explicitFolder(source: string): { folder: string; file: string } | undefined {
  if (source.endsWith(".json")) {
    if (!existsSync(source))
      throw new DeploymentError(
        `no Verity deployment at ${source} (no such file): check --deployment, or run \`verity deploy\``,
      );
    return { folder: path.dirname(source), file: source };
  }
  const file = path.join(source, "deployed_addresses.json");
  if (existsSync(file) || existsSync(path.join(source, DEPLOYMENT_IDENTITY_FILE))) return { folder: source, file };
  if (!existsSync(source))
    throw new DeploymentError(
      `no Verity deployment at ${source} (no such folder): check --deployment, or run \`verity deploy\``,
    );
  return undefined;
}

/**
 * The deployments under `root` named for this chain id (`chain-<id>`, `chain-<id>-*`), inspected: newest
 * recorded first, then those Verity did not record.
 */
async function deploymentsIn(
  provider: ChainReader,
  root: string,
  instance: ChainInstance,
): Promise<InspectedDeployment[]> {
  if (!existsSync(root)) return [];
  const prefix = `chain-${instance.chainId}`;
  const folders = readdirSync(root)
    .filter((name) => name === prefix || name.startsWith(`${prefix}-`))
    .map((name) => path.join(root, name));
  const inspected = await Promise.all(folders.map((folder) => inspectDeployment(provider, folder, instance)));
  const order = (d: InspectedDeployment) => (d.identity === undefined ? "" : d.identity.deployedAt);
  return inspected.filter((d) => d.state !== "absent").sort((a, b) => order(b).localeCompare(order(a)));
}

function found(inspected: InspectedDeployment, file: string, instance: ChainInstance): FoundDeployment {
  return { folder: inspected.folder, file, addresses: inspected.addresses!, instance, identity: inspected.identity };
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(p: string): string {
  const relative = path.relative(process.cwd(), p);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : p;
}

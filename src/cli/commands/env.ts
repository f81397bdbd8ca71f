import { existsSync, readFileSync } from "node:fs";
import { createPublicKey } from "node:crypto";
import type { Command } from "commander";
import { Wallet, getAddress, hexlify, isHexString, isKeystoreJson } from "ethers";
import { loadEnclaveKey } from "../../daemons/tee.js";
import { TeeKind } from "../../protocol/tee.js";
import { TcbStatus, p256PublicKeyOf, type Verity } from "../../sdk/index.js";
import {
  serviceSignerIdOf,
  type EnclaveInfo,
  type EnvironmentInfo,
  type ServiceSignerKey,
} from "../../sdk/clients/environments.js";
import { formatDuration, formatTime } from "../../sdk/errors.js";
import { CliContext, existingPath, parseIndex } from "../context.js";
import { CliError } from "../errors.js";
import { parseAddress, parseBytes32 } from "../parse.js";

/** `--type` names of the TEE kinds. */
const KIND_BY_NAME: Record<string, TeeKind> = {
  tdx: TeeKind.IntelTdx,
  sgx: TeeKind.IntelSgx,
  nitro: TeeKind.AwsNitro,
};
const NAME_OF_KIND: Record<number, string> = { 1: "tdx", 2: "sgx", 3: "nitro" };

/** Longest enclave key lifetime the registry accepts (EnvironmentRegistry.MAX_KEY_LIFETIME). */
const MAX_KEY_LIFETIME = 30 * 86_400;

/** Environment variable holding the password of an encrypted `--tee-key` keystore file. */
export const TEE_KEY_PASSWORD_ENV = "VERITY_TEE_KEY_PASSWORD";

interface RangeOptions {
  fromBlock: string;
  maxRange: string;
}

/** Registers `verity env ...`: environments, enclave keys and the attestation service's signing keys. */
export function registerEnv(program: Command): void {
  const env = program
    .command("env")
    .description("TEE environments (approved measurements), enclave keys, and attestation-service signers");

  env
    .command("approve")
    .description("approve a TEE measurement (governance); prints its environment id")
    .requiredOption(
      "--type <kind>",
      "tdx (MRTD‖RTMR0..3, 240 bytes), sgx (MRENCLAVE‖MRSIGNER, 64), nitro (PCR0..2, 144)",
    )
    .requiredOption("--measurement <hex|file>", "the measurement: 0x hex, or a file holding hex or the raw bytes")
    .option("--uri <u>", "metadata URI (build recipe, source, audit)", "")
    .action(async (options: { type: string; measurement: string; uri: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const kind = parseTeeKind(options.type);
      const measurement = readHexOrFile(options.measurement, "--measurement");
      const verity = await ctx.verity();
      let tx;
      try {
        tx = await verity.environments.approveEnvironment(kind, measurement, options.uri);
      } catch (error) {
        if (error instanceof Error && / measurement is \d+ bytes/.test(error.message)) {
          throw new CliError(`--measurement: ${error.message}, not ${(measurement.length - 2) / 2}`);
        }
        throw error;
      }
      const environment = await tx.wait();
      ctx.emit(
        { environment, type: options.type.toLowerCase(), measurement, uri: options.uri, tx: tx.hash },
        environment,
        { always: true },
      );
    });

  env
    .command("revoke")
    .description("revoke an environment for good (governance): every key attested in it stops being accepted")
    .argument("<environment>", "environment id")
    .action(async (envArg: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const environment = parseBytes32(envArg, "<environment>");
      const verity = await ctx.verity();
      const tx = await verity.environments.revokeEnvironment(environment);
      await tx.wait();
      const record = await verity.environments.environmentOf(environment);
      ctx.emit({ environment, status: record?.status, revokedAt: record?.revokedAt, tx: tx.hash }, [
        `revoked ${environment} at ${formatTime(record?.revokedAt)}`,
      ]);
    });

  withRange(
    env.command("list").description("every environment ever approved (from EnvironmentApproved/Revoked logs)"),
  ).action(async (options: RangeOptions, command: Command) => {
    const ctx = CliContext.of(command);
    const verity = await ctx.verity({ readOnly: true });
    const environments = await verity.environments.listEnvironments(rangeOf(options));
    ctx.emit(
      { environments: environments.map(environmentJson) },
      [
        `${environments.length} environment(s)`,
        ...environments.map(
          (e) =>
            `  ${e.environment} ${NAME_OF_KIND[e.kind] ?? e.kind} ${e.status}${e.compromised ? " (compromised)" : ""}${e.metadataURI === "" ? "" : ` ${e.metadataURI}`}`,
        ),
      ],
      { always: true },
    );
  });

  env
    .command("show")
    .description("an environment's record")
    .argument("<environment>", "environment id")
    .action(async (envArg: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const environment = parseBytes32(envArg, "<environment>");
      const verity = await ctx.verity({ readOnly: true });
      const e = await verity.environments.environmentOf(environment);
      if (e === undefined) throw new CliError(`no environment ${environment} was ever approved on this deployment`);
      ctx.emit(
        environmentJson(e),
        [
          `environment ${environment}`,
          `  type            ${NAME_OF_KIND[e.kind] ?? e.kind}`,
          `  status          ${e.status}${e.compromised ? " (compromised: fraud was proven against one of its keys)" : ""}`,
          `  approved        ${formatTime(e.approvedAt)}`,
          ...(e.revokedAt === 0 ? [] : [`  revoked         ${formatTime(e.revokedAt)}`]),
          `  measurement     ${e.measurement}`,
          `  metadataURI     ${e.metadataURI}`,
        ],
        { always: true },
      );
    });

  for (const [name, allow] of [
    ["allow", true],
    ["disallow", false],
  ] as const) {
    env
      .command(name)
      .description(
        allow
          ? "allow an environment for a model (publisher or governor; the model's policy must accept TEE seals)"
          : "disallow an environment for a model (publisher or governor)",
      )
      .argument("<modelId>", "model id")
      .argument("<environment>", "environment id")
      .action(async (modelArg: string, envArg: string, _options: unknown, command: Command) => {
        const ctx = CliContext.of(command);
        const modelId = parseBytes32(modelArg, "<modelId>");
        const environment = parseBytes32(envArg, "<environment>");
        const verity = await ctx.verity();
        const tx = allow
          ? await verity.registry.allowEnvironment(modelId, environment)
          : await verity.registry.disallowEnvironment(modelId, environment);
        await tx.wait();
        const environments = await verity.registry.environmentsOf(modelId);
        ctx.emit({ modelId, environment, allowed: allow, environments, tx: tx.hash }, [
          `${allow ? "allowed" : "disallowed"} ${environment} for ${modelId} (${environments.length} allowed)`,
        ]);
      });
  }

  env
    .command("nonce")
    .description("issue a registration nonce to the signer (valid 1 h, single use); with --key, the report data")
    .option("--key <address>", "the enclave key's address: also print the 64 bytes of report data to attest")
    .action(async (options: { key?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const key = options.key === undefined ? undefined : parseAddress(options.key, "--key");
      const verity = await ctx.verity();
      const tx = await verity.environments.issueNonce();
      const nonce = await tx.wait();
      const receipt = await verity.provider.getTransactionReceipt(tx.hash);
      const issuedAt = (await verity.provider.getBlock(receipt!.blockNumber))!.timestamp;
      const lifetime = Number(await verity.environments.contract.NONCE_LIFETIME());
      const reportData = key === undefined ? undefined : await verity.environments.reportDataFor(key, nonce);
      ctx.emit(
        {
          nonce,
          operator: await ctx.address(),
          issuedAt,
          expiresAt: issuedAt + lifetime,
          ...(key === undefined ? {} : { enclaveKey: key, reportData }),
          tx: tx.hash,
        },
        [
          nonce,
          ...(ctx.options.quiet ? [] : [`  valid until ${formatTime(issuedAt + lifetime)} for ${await ctx.address()}`]),
          ...(reportData === undefined ? [] : [`  report data ${reportData}`]),
        ],
        { always: true },
      );
    });

  env
    .command("register-key")
    .description("register an attested enclave key for the signer (a staked provider); prints the key")
    .requiredOption("--verifier <address|service>", "an approved verifier, or `service` for the attestation service")
    .requiredOption("--evidence <hex|file>", "the verifier's evidence: 0x hex, or a file holding hex or the raw bytes")
    .requiredOption("--nonce <nonce>", "the nonce from `verity env nonce` (0x, 32 bytes) the evidence binds")
    .option(
      "--expires <duration|date>",
      "when the key expires: a duration (90s, 10m, 12h, 7d) or a date (2030-01-01, ISO time); at most 30 d (default 30 d, or the service statement's expiry if sooner)",
    )
    .action(
      async (options: { verifier: string; evidence: string; nonce: string; expires?: string }, command: Command) => {
        const ctx = CliContext.of(command);
        const nonce = parseBytes32(options.nonce, "--nonce");
        const evidence = readHexOrFile(options.evidence, "--evidence");
        const verity = await ctx.verity();
        const service = verity.addresses.attestationService;
        const verifier =
          options.verifier.toLowerCase() === "service" ? service : parseAddress(options.verifier, "--verifier");
        const now = (await verity.provider.getBlock("latest"))!.timestamp;
        let expiresAt: number;
        if (options.expires !== undefined) {
          expiresAt = parseExpiry(options.expires, now, "--expires");
        } else {
          expiresAt = now + MAX_KEY_LIFETIME;
          if (verifier.toLowerCase() === service.toLowerCase()) {
            // The attestation service's statement caps the key's life.
            const decoded = await verity.environments.attestationService
              .decodeEvidence(evidence)
              .catch(() => undefined);
            if (decoded !== undefined) expiresAt = Math.min(expiresAt, Number(decoded[0].expiry));
          }
        }
        const tx = await verity.environments.registerEnclave({ verifier, evidence, nonce, expiresAt });
        const key = await tx.wait();
        const record = (await verity.environments.enclaveOf(key))!;
        ctx.emit(
          { ...enclaveJson(record), tx: tx.hash },
          [
            key,
            ...(ctx.options.quiet
              ? []
              : [`  environment ${record.environment}, expires ${formatTime(record.expiresAt)}`]),
          ],
          { always: true },
        );
      },
    );

  env
    .command("key")
    .description("an enclave key's record and whether it is valid now")
    .argument("<address>", "the enclave key's address")
    .action(async (keyArg: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const key = parseAddress(keyArg, "<address>");
      const verity = await ctx.verity({ readOnly: true });
      const e = await verity.environments.enclaveOf(key);
      if (e === undefined) throw new CliError(`${key} is not a registered enclave key on this deployment`);
      ctx.emit(enclaveJson(e), enclaveText(e), { always: true });
    });

  env
    .command("revoke-key")
    .description("revoke an enclave key (its operator or a governor)")
    .argument("<address>", "the enclave key's address")
    .action(async (keyArg: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const key = parseAddress(keyArg, "<address>");
      const verity = await ctx.verity();
      const tx = await verity.environments.revokeEnclave(key);
      await tx.wait();
      const record = await verity.environments.enclaveOf(key);
      ctx.emit({ key, revokedAt: record?.revokedAt, tx: tx.hash }, [
        `revoked ${key} at ${formatTime(record?.revokedAt)}`,
      ]);
    });

  withRange(
    env
      .command("keys")
      .description("registered enclave keys (from EnclaveRegistered/Revoked logs)")
      .option("--operator <address>", "only this operator's keys"),
  ).action(async (options: RangeOptions & { operator?: string }, command: Command) => {
    const ctx = CliContext.of(command);
    const operator = options.operator === undefined ? undefined : parseAddress(options.operator, "--operator");
    const verity = await ctx.verity({ readOnly: true });
    const keys = await verity.environments.listEnclaves({ operator, ...rangeOf(options) });
    ctx.emit(
      { keys: keys.map(enclaveJson) },
      [
        `${keys.length} enclave key(s)${operator === undefined ? "" : ` of ${operator}`}`,
        ...keys.map(
          (k) =>
            `  ${k.key} ${k.valid ? "valid" : k.revokedAt !== 0 ? "revoked" : "invalid"} until ${formatTime(k.revokedAt || k.expiresAt)}, operator ${k.operator}`,
        ),
      ],
      { always: true },
    );
  });

  const signer = env
    .command("service-signer")
    .description("the attestation-service verifier's signing keys (governance)");
  for (const [name, approve] of [
    ["approve", true],
    ["revoke", false],
  ] as const) {
    signer
      .command(name)
      .description(
        approve
          ? "approve a signing key: a secp256k1 address, or a P-256 key (--qx/--qy or --pem); prints its signer id"
          : "revoke a signing key for good: a signer id, a secp256k1 address, or a P-256 key (--qx/--qy or --pem)",
      )
      .argument("[key]", approve ? "secp256k1 address" : "signer id (0x, 32 bytes) or secp256k1 address")
      .option("--qx <hex>", "P-256 public key x coordinate (32 bytes)")
      .option("--qy <hex>", "P-256 public key y coordinate (32 bytes)")
      .option("--pem <file>", "P-256 public (or private) key in PEM")
      .action(
        async (keyArg: string | undefined, options: { qx?: string; qy?: string; pem?: string }, command: Command) => {
          const ctx = CliContext.of(command);
          const key = serviceKeyOf(keyArg, options, approve);
          const verity = await ctx.verity();
          const signerId = serviceSignerIdOf(key);
          if (approve) {
            const tx = await verity.environments.approveServiceSigner(key);
            const id = await tx.wait();
            ctx.emit({ signerId: id, key, tx: tx.hash }, id, { always: true });
          } else {
            const tx = await verity.environments.revokeServiceSigner(key);
            await tx.wait();
            ctx.emit({ signerId, revoked: true, tx: tx.hash }, `revoked service signer ${signerId}`);
          }
        },
      );
  }
}

/** Adds `--from-block` and `--max-range` to a log-scanning command. */
function withRange(command: Command): Command {
  return command
    .option("--from-block <n>", "first block to search", "0")
    .option("--max-range <n>", "blocks per eth_getLogs", "2000");
}

function rangeOf(options: RangeOptions) {
  return {
    fromBlock: parseIndex(options.fromBlock, "--from-block"),
    maxRange: Math.max(1, parseIndex(options.maxRange, "--max-range")),
  };
}

function environmentJson(e: EnvironmentInfo) {
  return { ...e, type: NAME_OF_KIND[e.kind] ?? String(e.kind) };
}

function enclaveJson(e: EnclaveInfo) {
  return { ...e, tcbStatus: TcbStatus[e.tcbStatus] ?? String(e.tcbStatus) };
}

function enclaveText(e: EnclaveInfo): string[] {
  return [
    `enclave key ${e.key}: ${e.valid ? "valid" : "not valid"}`,
    `  operator        ${e.operator}`,
    `  environment     ${e.environment}`,
    `  verifier        ${e.verifier}`,
    `  TCB status      ${TcbStatus[e.tcbStatus] ?? e.tcbStatus}`,
    `  registered      ${formatTime(e.registeredAt)}`,
    `  expires         ${formatTime(e.expiresAt)}`,
    ...(e.revokedAt === 0
      ? []
      : [`  revoked         ${formatTime(e.revokedAt)}${e.revokedForFraud ? " (fraud proven)" : ""}`]),
  ];
}

/** Parses `--type`. */
export function parseTeeKind(value: string): TeeKind {
  const kind = KIND_BY_NAME[value.trim().toLowerCase()];
  if (kind === undefined) throw new CliError(`--type: "${value}" is not tdx, sgx or nitro`);
  return kind;
}

/**
 * Bytes given as 0x hex, or as a file holding hex (with or without 0x, whitespace ignored) or the raw
 * bytes themselves.
 */
export function readHexOrFile(value: string, name: string): string {
  const trimmed = value.trim();
  if (/^0x([0-9a-fA-F]{2})*$/.test(trimmed)) return trimmed.toLowerCase();
  if (!existsSync(trimmed)) throw new CliError(`${name}: "${value}" is neither 0x hex nor a file`);
  const bytes = readFileSync(existingPath(trimmed, `${name} file`));
  const text = bytes.toString("utf8").replace(/\s+/g, "");
  const hex = text.startsWith("0x") ? text.slice(2) : text;
  if (hex.length > 0 && /^([0-9a-fA-F]{2})+$/.test(hex)) return `0x${hex.toLowerCase()}`;
  if (bytes.length === 0) throw new CliError(`${name}: ${value} is empty`);
  return hexlify(bytes);
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3_600, d: 86_400 };

/** Parses a duration: `90`, `90s`, `10m`, `10min`, `12h`, `7d` (seconds, minutes, hours, days). */
export function parseDuration(value: string, name: string): number {
  const match = /^(\d+)\s*(s|m|min|h|d)?$/.exec(value.trim().toLowerCase());
  if (match === null) throw new CliError(`${name}: "${value}" is not a duration such as 90s, 10m, 12h or 7d`);
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] ?? "s"];
  if (!Number.isSafeInteger(seconds) || seconds > 0xffff_ffff) throw new CliError(`${name}: ${value} is too long`);
  return seconds;
}

/** Parses an expiry: a duration from `now`, or a date (YYYY-MM-DD or an ISO time); unix seconds. */
export function parseExpiry(value: string, now: number, name: string): number {
  const trimmed = value.trim();
  if (/^\d+\s*(s|m|min|h|d)?$/i.test(trimmed)) return now + parseDuration(trimmed, name);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) throw new CliError(`${name}: "${value}" is neither a duration (7d) nor a date (2030-01-01)`);
  const at = Math.floor(ms / 1000);
  if (at <= now) throw new CliError(`${name}: ${formatTime(at)} is not in the future (chain time ${formatTime(now)})`);
  return at;
}

/** The service key a `service-signer` command names. */
function serviceKeyOf(
  keyArg: string | undefined,
  options: { qx?: string; qy?: string; pem?: string },
  approve: boolean,
): ServiceSignerKey {
  const p256 = options.qx !== undefined || options.qy !== undefined;
  const given = [keyArg !== undefined, p256, options.pem !== undefined].filter(Boolean).length;
  if (given !== 1) throw new CliError("give one key: an address, --qx with --qy, or --pem");
  if (options.pem !== undefined) {
    try {
      return p256PublicKeyOf(createPublicKey(readFileSync(existingPath(options.pem, "PEM file"))));
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`--pem ${options.pem}: not a P-256 key (${(error as Error).message})`);
    }
  }
  if (p256) {
    if (options.qx === undefined || options.qy === undefined) throw new CliError("--qx and --qy go together");
    return { qx: parseBytes32(options.qx, "--qx"), qy: parseBytes32(options.qy, "--qy") };
  }
  if (!approve && isHexString(keyArg!.trim(), 32)) return keyArg!.trim().toLowerCase();
  return parseAddress(keyArg!, "[key]");
}

/**
 * Reads an enclave key for `--tee-key`: a JSON file `{ "privateKey": "0x..." }`, or an encrypted Ethereum
 * JSON keystore (Web3 Secret Storage v3, as geth and ethers write) whose password is in VERITY_TEE_KEY_PASSWORD.
 */
export async function loadTeeKey(file: string): Promise<Wallet> {
  const text = readFileSync(existingPath(file, "--tee-key file"), "utf8");
  if (isKeystoreJson(text)) {
    const password = process.env[TEE_KEY_PASSWORD_ENV];
    if (password === undefined) {
      throw new CliError(`--tee-key ${file} is an encrypted keystore: set ${TEE_KEY_PASSWORD_ENV} to its password`);
    }
    try {
      return (await Wallet.fromEncryptedJson(text, password)) as Wallet;
    } catch (error) {
      throw new CliError(`--tee-key ${file}: cannot decrypt the keystore (${(error as Error).message})`);
    }
  }
  try {
    return loadEnclaveKey(file);
  } catch (error) {
    throw new CliError(`--tee-key: ${(error as Error).message} (or an encrypted keystore)`);
  }
}

/** The TEE mode of `--tee-mode`. */
export function parseTeeMode(value: string): number {
  const mode = ["none", "window", "instant"].indexOf(value.trim().toLowerCase());
  if (mode < 0) throw new CliError(`--tee-mode: "${value}" is not none, window or instant`);
  return mode;
}

/** The environment an enclave key was registered in, checked to be what `--environment` says (if given). */
export async function environmentForKey(verity: Verity, key: string, given: string | undefined): Promise<string> {
  const record = await verity.environments.enclaveOf(key);
  if (record === undefined) throw new CliError(`--tee-key ${getAddress(key)} is not a registered enclave key`);
  if (given === undefined) return record.environment;
  const environment = parseBytes32(given, "--environment");
  if (environment !== record.environment.toLowerCase()) {
    throw new CliError(`--environment ${environment}: enclave key ${record.key} was attested in ${record.environment}`);
  }
  return environment;
}

export { formatDuration };

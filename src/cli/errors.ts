import { CommanderError } from "commander";
import { isError, type Provider } from "ethers";
import {
  VerityRevertError,
  readTokenUnits,
  toVerityError,
  type MeaningContext,
  type TokenUnits,
} from "../sdk/errors.js";

/**
 * A mistake the user can fix (a missing file, a bad number, no deployment for this chain): printed as
 * one plain sentence, never with a stack.
 */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/**
 * A command failed after part of its work was done (a multi-input `commit` that committed some inputs):
 * `partial` is that part in the command's usual `--json` shape, `lines` its text output, `note` what the
 * error line adds (`2 of 5 inputs were committed ...`).
 */
export class PartialFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly partial: unknown,
    readonly lines: string[],
    readonly note: string,
  ) {
    super(`${describeError(error)}; ${note}`);
    this.name = "PartialFailure";
  }
}

/**
 * Turns any error into the one line the CLI prints after `error: `.
 *
 * A contract revert becomes its custom error's name and arguments, then its meaning in user units when it
 * has one (`InferenceLedgerInsufficientStake(0x..., 0, 100000000000000000000): 0x... has 0 VRT of active
 * stake, the model requires 100 VRT: ...`; amounts need `context.token`, relative times `context.now`);
 * an ethers error its short message; a file-system error a sentence naming the path; anything else the
 * first line of its message.
 */
export function describeError(error: unknown, context: MeaningContext = {}): string {
  if (error instanceof PartialFailure) return `${describeError(error.error, context)}; ${error.note}`;
  const decoded = toVerityError(error);
  if (decoded instanceof VerityRevertError) return decoded.explain(context);
  if (decoded instanceof CliError) return decoded.message;
  if (isError(decoded, "CALL_EXCEPTION")) {
    return decoded.reason ? `execution reverted: ${decoded.reason}` : "execution reverted (no reason given)";
  }
  if (isError(decoded, "INSUFFICIENT_FUNDS")) return "the signer cannot pay for gas (insufficient funds)";
  if (isError(decoded, "NONCE_EXPIRED"))
    return "nonce already used (another transaction from this signer won the race)";
  const code = (decoded as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    const e = decoded as NodeJS.ErrnoException;
    if (e.code === "ENOENT") return `no such file or directory: ${e.path ?? e.message}`;
    if (e.code === "EACCES") return `permission denied: ${e.path ?? e.message}`;
    if (e.code === "EISDIR") return `is a directory: ${e.path ?? e.message}`;
    if (e.code === "ECONNREFUSED") return `connection refused (${e.message})`;
  }
  const short = (decoded as { shortMessage?: unknown } | null)?.shortMessage;
  if (typeof short === "string" && short.length > 0) return oneLine(short);
  if (decoded instanceof Error) return oneLine(decoded.message);
  return oneLine(String(decoded));
}

/** One JSON field set for an error: `{name, message, meaning?, args?, data?}` (see `errorJson`). */
export interface ErrorJson {
  name: string;
  message: string;
  meaning?: string;
  args?: Record<string, unknown>;
  data?: string;
}

/**
 * The document `--json` prints on stdout for a failure: `{"error": {name, message, meaning?, args?, data?}}`,
 * plus `partial` (what was done, in the command's usual shape) for a `PartialFailure`. `name` is the custom
 * error's name for a revert (`args` then holds its arguments by parameter name: token amounts and wide
 * integers as decimal strings, times as unix seconds), `CliError` for a mistake the CLI found, `UsageError`
 * for a command line it could not parse, an ethers error code (`INSUFFICIENT_FUNDS`) or a Node error code
 * (`ENOENT`), else `Error`. `message` is the line text mode prints after `error: `.
 */
export function errorJson(error: unknown, context: MeaningContext = {}): { error: ErrorJson; partial?: unknown } {
  if (error instanceof PartialFailure) {
    const inner = errorJson(error.error, context).error;
    return { error: { ...inner, message: `${inner.message}; ${error.note}` }, partial: error.partial };
  }
  const decoded = toVerityError(error);
  if (decoded instanceof VerityRevertError) return { error: decoded.toJSON(context) };
  if (error instanceof CommanderError) return { error: { name: "UsageError", message: commanderMessage(error) } };
  const message = describeError(decoded, context);
  if (decoded instanceof CliError) return { error: { name: "CliError", message } };
  const code = (decoded as { code?: unknown } | null)?.code;
  return { error: { name: typeof code === "string" && code !== "" ? code : "Error", message } };
}

/** Commander's message without its `error: ` prefix, on one line. */
export function commanderMessage(error: CommanderError): string {
  return error.message.replace(/^error:\s*/, "").replace(/\s*\n\s*/g, " ");
}

const tokenUnitsCache = new Map<string, Promise<TokenUnits>>();

/**
 * What revert meanings need from the chain: the staking token's decimals and symbol (read once per token
 * and process) and the latest block's time. Whatever cannot be read within `timeoutMs` is left out (the
 * time then falls back to this machine's clock).
 */
export async function meaningContext(
  provider: Provider | undefined,
  token: string | undefined,
  timeoutMs = 5_000,
): Promise<MeaningContext> {
  const within = <T>(promise: Promise<T>): Promise<T | undefined> =>
    Promise.race([
      promise.catch(() => undefined),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
    ]);
  let units: Promise<TokenUnits> | undefined;
  if (provider !== undefined && token !== undefined) {
    const key = token.toLowerCase();
    units = tokenUnitsCache.get(key) ?? readTokenUnits(provider, token);
    tokenUnitsCache.set(key, units);
    units.catch(() => tokenUnitsCache.delete(key));
  }
  const [tokenUnits, block] = await Promise.all([
    units === undefined ? undefined : within(units),
    provider === undefined ? undefined : within(provider.getBlock("latest")),
  ]);
  return {
    ...(tokenUnits === undefined ? {} : { token: tokenUnits }),
    now: block?.timestamp ?? Math.floor(Date.now() / 1000),
  };
}

/** Collapses a message onto its first non-empty line. */
export function oneLine(message: string): string {
  const line = message
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ?? "unknown error";
}

/** Whether an error is commander's normal exit after `--help` or `--version`. */
export function isHelpExit(error: unknown): boolean {
  return (
    error instanceof CommanderError &&
    (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help")
  );
}

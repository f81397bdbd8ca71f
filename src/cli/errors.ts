import { CommanderError } from "commander";
import { isError } from "ethers";
import { VerityRevertError, toVerityError } from "../sdk/errors.js";

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
 * Turns any error into the one line the CLI prints after `error: `.
 *
 * A contract revert becomes its custom error's name and arguments (`InferenceLedgerInsufficientStake(0x..., 0, 100)`);
 * an ethers error its short message; a file-system error a sentence naming the path; anything else the
 * first line of its message.
 */
export function describeError(error: unknown): string {
  const decoded = toVerityError(error);
  if (decoded instanceof VerityRevertError) return decoded.message;
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

import { Interface, isCallException, type ErrorDescription, type Result } from "ethers";
import {
  BatchDisclosure__factory,
  DenseInt8__factory,
  DisputeGame__factory,
  InferenceLedger__factory,
  MockERC20__factory,
  ModelRegistry__factory,
  StakeManager__factory,
} from "../../typechain-types/index.js";

/** Every custom error any Verity contract (or OpenZeppelin code inside it) can revert with. */
const errorInterface = new Interface(
  dedupeErrors([
    ...ModelRegistry__factory.abi,
    ...StakeManager__factory.abi,
    ...InferenceLedger__factory.abi,
    ...DisputeGame__factory.abi,
    ...BatchDisclosure__factory.abi,
    ...DenseInt8__factory.abi,
    ...MockERC20__factory.abi,
  ]),
);

function dedupeErrors(abi: readonly { type: string; name?: string }[]) {
  const seen = new Set<string>();
  return abi.filter((item) => {
    if (item.type !== "error") return false;
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A transaction or call reverted with a named custom error; `message` reads `Name(arg, ...)`. */
export class VerityRevertError extends Error {
  constructor(
    /** The custom error's name, e.g. `InferenceLedgerInsufficientStake`. */
    readonly errorName: string,
    /** Its decoded arguments, in order. */
    readonly args: readonly unknown[],
    /** The raw revert data. */
    readonly data: string,
  ) {
    super(`${errorName}(${args.map(formatArg).join(", ")})`);
    this.name = "VerityRevertError";
  }
}

function formatArg(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(formatArg).join(", ")}]`;
  return String(value);
}

/** Finds revert data in whatever shape ethers or a provider wraps it. */
export function revertDataOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): string | undefined => {
    if (e === null || typeof e !== "object" || seen.has(e)) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === "string" && /^0x[0-9a-fA-F]{8}/.test(o.data)) return o.data;
    for (const key of ["error", "info", "cause", "data", "revert"]) {
      const found = visit(o[key]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(error);
}

/** Decodes revert data into the custom error it encodes, or undefined for unknown data. */
export function decodeRevertData(data: string): ErrorDescription | undefined {
  try {
    return errorInterface.parseError(data) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns an error thrown by a contract call into a `VerityRevertError` when it carries a known custom
 * error (or a Solidity panic / require string); anything else is returned unchanged.
 */
export function toVerityError(error: unknown): unknown {
  if (error instanceof VerityRevertError) return error;
  const data = revertDataOf(error);
  if (data !== undefined) {
    const decoded = decodeRevertData(data);
    if (decoded !== null && decoded !== undefined) {
      return new VerityRevertError(decoded.name, resultToArray(decoded.args), data);
    }
  }
  if (isCallException(error) && error.revert) {
    return new VerityRevertError(error.revert.name, [...error.revert.args], error.data ?? "0x");
  }
  return error;
}

function resultToArray(result: Result): unknown[] {
  return Array.from(result, (v) =>
    v !== null && typeof v === "object" && "toArray" in v ? (v as Result).toArray() : v,
  );
}

/** Runs `fn`, rethrowing a contract revert as a `VerityRevertError`. */
export async function decodingReverts<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toVerityError(error);
  }
}

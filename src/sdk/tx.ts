import type { ContractTransactionReceipt, ContractTransactionResponse, Interface, LogDescription } from "ethers";
import { decodingReverts } from "./errors.js";

/** A sent transaction whose `wait()` resolves to what it created (an id), decoded from its event. */
export interface VerityTx<T> {
  /** The transaction hash. */
  readonly hash: string;
  /** The underlying ethers response. */
  readonly response: ContractTransactionResponse;
  /** Waits for the receipt and decodes the result; a revert surfaces as a `VerityRevertError`. */
  wait(confirmations?: number): Promise<T>;
}

/** Sends a write through `send` (reverts decoded) and decodes its receipt with `decode`. */
export async function sendTx<T>(
  send: () => Promise<ContractTransactionResponse>,
  decode: (receipt: ContractTransactionReceipt) => T,
): Promise<VerityTx<T>> {
  const response = await decodingReverts(send);
  return {
    hash: response.hash,
    response,
    wait: async (confirmations = 1) => {
      const receipt = await decodingReverts(() => response.wait(confirmations));
      if (receipt === null) throw new Error(`transaction ${response.hash} was dropped`);
      return decode(receipt);
    },
  };
}

/** The first log of `receipt` that `iface` parses as `eventName`. */
export function findEvent(receipt: ContractTransactionReceipt, iface: Interface, eventName: string): LogDescription {
  for (const log of receipt.logs) {
    let parsed: LogDescription | null = null;
    try {
      parsed = iface.parseLog(log);
    } catch {
      continue;
    }
    if (parsed?.name === eventName) return parsed;
  }
  throw new Error(`transaction ${receipt.hash} emitted no ${eventName}`);
}

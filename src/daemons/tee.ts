import { readFileSync } from "node:fs";
import { Wallet, isHexString } from "ethers";

/**
 * The enclave key of a TEE-mode provider, from a JSON file `{ "privateKey": "0x<64 hex digits>" }`.
 *
 * In production the key is generated inside the enclave and never leaves it: the daemon then gets a
 * signer that forwards EIP-712 requests to the enclave. A key file is for tests, local chains and
 * demos; keep it readable by the daemon's user only. Errors name the file, never its contents.
 */
export function loadEnclaveKey(file: string): Wallet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "not valid JSON";
    throw new Error(`enclave key file ${file}: cannot read it (${reason})`);
  }
  const key = (parsed as { privateKey?: unknown } | null)?.privateKey;
  if (typeof key !== "string" || !isHexString(key, 32)) {
    throw new Error(`enclave key file ${file}: expected { "privateKey": "0x<64 hex digits>" }`);
  }
  try {
    return new Wallet(key);
  } catch {
    throw new Error(`enclave key file ${file}: the private key is not a valid secp256k1 key`);
  }
}

/** Whether `value` is an environment id (32 bytes of hex). */
export function isEnvironmentId(value: string): boolean {
  return isHexString(value, 32);
}

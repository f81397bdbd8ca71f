import { JsonRpcProvider, type Provider } from "ethers";

/** Sends one JSON-RPC request. */
export type RpcSend = (method: string, params: unknown[]) => Promise<unknown>;

let requestId = 0;

/**
 * A transport for large read-only responses (`eth_getLogs` over wide ranges). For a plain HTTP
 * `JsonRpcProvider` (no credentials, no custom headers) it posts with Node's built-in `fetch`: ethers' own
 * fetcher grows the response buffer chunk by chunk and decodes UTF-8 in JavaScript, which made log scans
 * about 8x slower (`npm run bench`, offchain.logFetchPerSec vs logRpcPerSec). Any other provider is used as is.
 */
export function bulkRpc(provider: Provider): RpcSend | undefined {
  if (provider instanceof JsonRpcProvider) {
    const connection = provider._getConnection();
    const plain =
      /^https?:\/\//.test(connection.url) &&
      !connection.credentials &&
      Object.keys(connection.headers).every((h) =>
        ["accept", "accept-encoding", "content-type"].includes(h.toLowerCase()),
      );
    if (plain) {
      return async (method, params) => {
        const response = await fetch(connection.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: ++requestId, method, params }),
        });
        if (!response.ok) throw new Error(`${method}: HTTP ${response.status} from ${connection.url}`);
        const body = (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
        if (body.error !== undefined) throw new Error(`${method}: ${body.error.message} (code ${body.error.code})`);
        return body.result;
      };
    }
  }
  const send = (provider as { send?: RpcSend }).send;
  return typeof send === "function" ? send.bind(provider) : undefined;
}

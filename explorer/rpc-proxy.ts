/**
 * The explorer's same-origin JSON-RPC proxy: the page's requests are checked here before they reach the
 * node, so the page can only read (no transaction, no signing, no node-control method) and every log
 * query is bounded. Pure functions, tested without a node (test/explorer/server.test.ts).
 */

/** The JSON-RPC methods the page may use: all of them read, none of them signs or changes the node. */
export const READ_METHODS: ReadonlySet<string> = new Set([
  "eth_call",
  "eth_getLogs",
  "eth_blockNumber",
  "eth_getBlockByNumber",
  "eth_chainId",
  "eth_getTransactionReceipt",
  "eth_getCode",
  "net_version",
]);

/** Most requests in one JSON-RPC batch (ethers batches up to 100 by default; the page sends at most 20). */
export const MAX_BATCH = 50;

/** One JSON-RPC request as the page sends it. */
export interface RpcRequest {
  jsonrpc: "2.0";
  id: number | string | null;
  method: string;
  params: unknown[];
}

/** The outcome of checking a request body: the requests to forward, or why not. */
export type ProxyCheck = { ok: true; requests: RpcRequest[]; batch: boolean } | { ok: false; reason: string };

const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]{0,15})$/i;

/**
 * Checks a parsed request body (one request or a batch): every method must be a read method, and every
 * `eth_getLogs` must name an explicit block range (hex quantities) of at most `maxRange` blocks, or one
 * block hash, so that the page cannot ask the node for an unbounded scan.
 */
export function checkRpcBody(body: unknown, maxRange: number): ProxyCheck {
  const batch = Array.isArray(body);
  const list = batch ? (body as unknown[]) : [body];
  if (list.length === 0) return { ok: false, reason: "empty batch" };
  if (list.length > MAX_BATCH) return { ok: false, reason: `batch of ${list.length} requests (at most ${MAX_BATCH})` };
  const requests: RpcRequest[] = [];
  for (const item of list) {
    const r = item as Partial<RpcRequest> | null;
    if (r === null || typeof r !== "object" || r.jsonrpc !== "2.0" || typeof r.method !== "string") {
      return { ok: false, reason: "not a JSON-RPC 2.0 request" };
    }
    const params = r.params ?? [];
    if (!Array.isArray(params)) return { ok: false, reason: `${r.method}: params must be an array` };
    const id = r.id ?? null;
    if (id !== null && typeof id !== "number" && typeof id !== "string") return { ok: false, reason: "bad request id" };
    if (!READ_METHODS.has(r.method)) return { ok: false, reason: `${r.method.slice(0, 60)} is not a read method` };
    if (r.method === "eth_getLogs") {
      const why = unboundedLogQuery(params[0], maxRange);
      if (why !== undefined) return { ok: false, reason: `eth_getLogs: ${why}` };
    }
    if (r.method === "eth_getBlockByNumber" && params[1] !== false) {
      return { ok: false, reason: "eth_getBlockByNumber: only headers (full transactions = false)" };
    }
    requests.push({ jsonrpc: "2.0", id, method: r.method, params });
  }
  return { ok: true, requests, batch };
}

/** Why a log filter is not a bounded query, or undefined when it is. */
function unboundedLogQuery(filter: unknown, maxRange: number): string | undefined {
  if (filter === null || typeof filter !== "object") return "no filter";
  const f = filter as { fromBlock?: unknown; toBlock?: unknown; blockHash?: unknown; address?: unknown };
  if (f.address === undefined || f.address === null) return "the filter names no contract address";
  if (typeof f.blockHash === "string") {
    return f.fromBlock === undefined && f.toBlock === undefined ? undefined : "blockHash with a block range";
  }
  if (typeof f.fromBlock !== "string" || typeof f.toBlock !== "string") return "fromBlock and toBlock must be given";
  if (!QUANTITY.test(f.fromBlock) || !QUANTITY.test(f.toBlock)) return "fromBlock and toBlock must be block numbers";
  const span = BigInt(f.toBlock) - BigInt(f.fromBlock) + 1n;
  if (span < 1n) return "toBlock is before fromBlock";
  if (span > BigInt(maxRange)) return `a range of ${span} blocks (at most ${maxRange})`;
  return undefined;
}

/** A JSON-RPC error answer for each request of a refused body (one object when it was not a batch). */
export function refusal(body: unknown, reason: string): unknown {
  const ids = (Array.isArray(body) ? body : [body]).map((r) => {
    const id = (r as { id?: unknown } | null)?.id;
    return typeof id === "number" || typeof id === "string" ? id : null;
  });
  const answers = ids.map((id) => ({
    jsonrpc: "2.0",
    id,
    error: { code: -32601, message: `refused by the explorer: ${reason}` },
  }));
  return Array.isArray(body) ? answers : answers[0];
}

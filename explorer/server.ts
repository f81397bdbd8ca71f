/**
 * The explorer's HTTP server: the static page (plain ES modules, no build step), the ethers ESM bundle,
 * the contracts' ABIs, a small JSON config (chain, addresses, first block to scan), the bench results for
 * the gas chart, and a same-origin JSON-RPC proxy that forwards only bounded read requests to the node.
 * It listens on loopback only and answers only requests addressed to it by a loopback host name, so a
 * web page elsewhere cannot reach the node through it (DNS rebinding).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  IDisputeGame__factory,
  IInferenceLedger__factory,
  IModelRegistry__factory,
  IStakeManager__factory,
} from "../typechain-types/index.js";
import type { VerityAddresses } from "../src/sdk/deployments.js";
import { targets } from "../scripts/bench/targets.js";
import { checkRpcBody, refusal } from "./rpc-proxy.js";

const require = createRequire(import.meta.url);

/** The page's files (flat: only these names are ever served from it). */
export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "public");

/** The ESM build of ethers the page imports as `/vendor/ethers.js`. */
export const ETHERS_ESM = path.join(path.dirname(require.resolve("ethers")), "..", "dist", "ethers.min.js");

/** Largest request body the proxy reads (the page's calls are a few kilobytes). */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Largest node answer the proxy passes on (a full `eth_getLogs` range of commitments fits easily). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** How long the proxy waits for the node. */
const UPSTREAM_TIMEOUT_MS = 20_000;

/** What the page is told about the deployment (`/config.json`). */
export interface ExplorerConfig {
  chainId: string;
  /** The node's genesis block hash: the page checks the chain it reads is this one. */
  genesisHash: string;
  /** The deployment folder's name (`chain-31337-…`). */
  deployment: string;
  addresses: VerityAddresses;
  /** Block the page's scans start at, at the earliest: the deployment's first block. */
  fromBlock: number;
  /** Blocks per `eth_getLogs`. */
  maxRange: number;
  /** How many blocks back from the head the page scans, at most. */
  maxBlocks: number;
  /** The node's host (never its full URL, which may carry an API key). */
  rpcHost: string;
}

/** Options of `startExplorerServer`. */
export interface ExplorerServerOptions {
  /** The node the proxy forwards to. */
  rpcUrl: string;
  config: ExplorerConfig;
  /** bench/results.json, or a file that does not exist (the gas page then says so). */
  benchFile: string;
  /** 0: any free port. */
  port: number;
}

/** A running explorer. */
export interface ExplorerServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * The page runs only its own scripts: no inline script, no inline handler, no other origin. This is a
 * second wall; the first is that the page puts chain data in the DOM as text only.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** The ABIs the page decodes events and calls with: the protocol's interfaces, as the SDK's TypeChain has them. */
export function explorerAbis(): Record<string, unknown> {
  return {
    InferenceLedger: IInferenceLedger__factory.abi,
    DisputeGame: IDisputeGame__factory.abi,
    ModelRegistry: IModelRegistry__factory.abi,
    StakeManager: IStakeManager__factory.abi,
  };
}

/** Starts the server on 127.0.0.1. */
export async function startExplorerServer(options: ExplorerServerOptions): Promise<ExplorerServer> {
  const files = new Map<string, string>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    if (CONTENT_TYPES[path.extname(name)] !== undefined) files.set(`/${name}`, path.join(PUBLIC_DIR, name));
  }
  files.set("/", path.join(PUBLIC_DIR, "index.html"));
  files.set("/vendor/ethers.js", ETHERS_ESM);
  const abis = JSON.stringify(explorerAbis());
  const config = JSON.stringify(options.config);
  let port = options.port;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", `explorer error: ${(error as Error).message}`);
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!loopbackHost(req.headers.host, port)) {
      send(res, 421, "text/plain; charset=utf-8", "the explorer answers only to 127.0.0.1 and localhost");
      return;
    }
    const url = new URL(req.url ?? "/", "http://explorer.invalid");
    if (url.pathname === "/rpc") {
      await proxy(req, res);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "text/plain; charset=utf-8", "read-only");
      return;
    }
    if (url.pathname === "/config.json") return send(res, 200, CONTENT_TYPES[".json"], config);
    if (url.pathname === "/abi.json") return send(res, 200, CONTENT_TYPES[".json"], abis);
    if (url.pathname === "/bench.json") return send(res, 200, CONTENT_TYPES[".json"], benchJson(options.benchFile));
    const file = files.get(url.pathname);
    if (file === undefined) return send(res, 404, "text/plain; charset=utf-8", "not found");
    send(res, 200, CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream", readFileSync(file));
  }

  async function proxy(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== "POST") return send(res, 405, "text/plain; charset=utf-8", "POST JSON-RPC requests here");
    const origin = req.headers.origin;
    if (origin !== undefined && !loopbackHost(safeHost(origin), port)) {
      return send(res, 403, "text/plain; charset=utf-8", "cross-origin requests are refused");
    }
    const raw = await readBody(req, MAX_REQUEST_BYTES);
    if (raw === undefined) return send(res, 413, "text/plain; charset=utf-8", `at most ${MAX_REQUEST_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJson(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    }
    const check = checkRpcBody(body, options.config.maxRange);
    if (!check.ok) return sendJson(res, 403, refusal(body, check.reason));
    let upstream: Response;
    try {
      upstream = await fetch(options.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(check.batch ? check.requests : check.requests[0]),
        signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      });
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      return sendJson(res, 502, refusal(body, `the node did not answer (${reason})`));
    }
    const text = await readLimited(upstream, MAX_RESPONSE_BYTES);
    if (text === undefined)
      return sendJson(res, 502, refusal(body, `the node's answer is above ${MAX_RESPONSE_BYTES} bytes`));
    send(res, upstream.ok ? 200 : 502, CONTENT_TYPES[".json"], text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The bench results with the targets they are checked against, or why there are none. */
function benchJson(file: string): string {
  if (!existsSync(file))
    return JSON.stringify({ error: `no bench results at ${shownPath(file)} (run \`npm run bench\`)` });
  try {
    const results = JSON.parse(readFileSync(file, "utf8")) as unknown;
    return JSON.stringify({ file: shownPath(file), results, targets });
  } catch (error) {
    return JSON.stringify({ error: `${shownPath(file)} is not JSON (${(error as Error).message})` });
  }
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shownPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

/** Whether a Host header names this server by a loopback name. */
function loopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return ["127.0.0.1", "localhost", "[::1]"].some((name) => host === `${name}:${port}`);
}

/** The `host:port` of an Origin header (empty when it is not a URL, e.g. "null"). */
function safeHost(origin: string): string {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" ? url.host : "";
  } catch {
    return "";
  }
}

/**
 * The request body as text, or undefined when it is longer than `max` bytes: then the rest is read and
 * dropped (so that the client gets the answer, not a reset), up to a hard cap past which the connection
 * is cut.
 */
function readBody(req: http.IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > 16 * max) req.destroy();
      else if (size <= max) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > max ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => resolve(undefined));
  });
}

/** A fetch response's body as text, or undefined when it is longer than `max` bytes (then it is cancelled). */
async function readLimited(response: Response, max: number): Promise<string | undefined> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, CONTENT_TYPES[".json"], JSON.stringify(value));
}

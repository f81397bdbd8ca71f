import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { fileURLToPath } from "node:url";

/** Limits and rules of `fetchBounded`. */
export interface FetchOptions {
  /** URI schemes it may read, without the colon (default file, http, https, ipfs). */
  schemes?: readonly string[];
  /** HTTP(S) gateway that serves `ipfs://CID/path` as `<gateway>/CID/path` (e.g. https://ipfs.io/ipfs/); none by default. */
  ipfsGateway?: string;
  /** Largest body it reads, in bytes (default 64 MiB). */
  maxBytes?: number;
  /** Time limit of one fetch, redirects and body included, in ms (default 30 s). */
  timeoutMs?: number;
  /** Whether http(s) may reach private, loopback, link-local, unspecified or multicast addresses (default false). */
  allowPrivate?: boolean;
  /** Aborts the fetch. */
  signal?: AbortSignal;
}

/** Defaults of `FetchOptions`. */
export const FETCH_DEFAULTS = {
  schemes: ["file", "http", "https", "ipfs"],
  maxBytes: 64 * 1024 * 1024,
  timeoutMs: 30_000,
} as const;

/** Redirects followed per fetch, each target checked again. */
export const MAX_REDIRECTS = 3;

/**
 * Why a fetch failed. `permanent` means retrying the same URI under the same options cannot succeed (a
 * refused scheme or address, a malformed URI); anything else (missing file, HTTP error, timeout) may.
 */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = "FetchError";
  }
}

/**
 * Reads the bytes a URI names, within a size and a time limit, refusing what is unsafe to read on someone
 * else's word: a `file://` URI must name a regular file (never a device, FIFO, socket or directory), and
 * http(s) never reaches a private address unless `allowPrivate` (every address the host resolves to is
 * checked, on each redirect, by the lookup the connection itself uses, so DNS cannot answer differently
 * between the check and the connection). `ipfs://` goes through `ipfsGateway`, which is trusted.
 */
export async function fetchBounded(uri: string, options: FetchOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? FETCH_DEFAULTS.maxBytes;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? FETCH_DEFAULTS.timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const url = parseURI(uri);
  const scheme = url.protocol.slice(0, -1);
  if (!(options.schemes ?? FETCH_DEFAULTS.schemes).includes(scheme))
    throw new FetchError(`${scheme}:// is not an allowed scheme (${uri})`, true);
  try {
    if (scheme === "file") return await readRegularFile(fileURLToPath(url), maxBytes, signal);
    if (scheme === "http" || scheme === "https") return await getHttp(url, maxBytes, signal, options.allowPrivate);
    if (scheme === "ipfs") {
      if (options.ipfsGateway === undefined) throw new FetchError(`no IPFS gateway configured for ${uri}`, true);
      return await getHttp(gatewayURL(url, options.ipfsGateway), maxBytes, signal, options.allowPrivate, true);
    }
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if (signal.aborted) throw new FetchError(`${uri}: ${timeout.aborted ? "timed out" : "aborted"}`);
    throw new FetchError(`${uri}: ${(error as Error).message}`);
  }
  throw new FetchError(`unsupported scheme ${scheme}:// (${uri})`, true);
}

function parseURI(uri: string): URL {
  try {
    return new URL(uri);
  } catch {
    throw new FetchError(`not a URI: ${JSON.stringify(uri.slice(0, 200))}`, true);
  }
}

/** `<gateway>/CID/path` for `ipfs://CID/path`; never a URL outside the gateway's path. */
function gatewayURL(url: URL, gateway: string): URL {
  const rest = url.href.slice("ipfs://".length).replace(/^ipfs\//, "");
  const base = new URL(gateway.endsWith("/") ? gateway : `${gateway}/`);
  const target = /^[A-Za-z0-9]+(\/[^?#%]*)?$/.test(rest) ? new URL(rest, base) : undefined;
  if (target === undefined || !target.href.startsWith(base.href))
    throw new FetchError(`not an IPFS path: ${url.href}`, true);
  return target;
}

// ------------------------------------------------------------------ files

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const notRegular = (file: string) => new FetchError(`${file} is not a regular file`);
const grew = (file: string) => new FetchError(`${file} grew while being read`);
const tooLarge = (what: string, maxBytes: number) => new FetchError(`${what} is larger than ${maxBytes} bytes`);

/**
 * Reads a regular file, at most `maxBytes`. Checked by `stat` before opening (a device is never opened) and by
 * `fstat` after (the name may have been swapped); opened non-blocking so that a FIFO cannot hang the open.
 */
async function readRegularFile(file: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  if (!(await stat(file)).isFile()) throw notRegular(file);
  const handle = await open(file, OPEN_FLAGS);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notRegular(file);
    if (info.size > maxBytes) throw tooLarge(file, maxBytes);
    // One byte more than the size: filling it means the file grew past what was checked.
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) return buffer.subarray(0, length);
      length += bytesRead;
      if (length === buffer.length) throw grew(file);
    }
  } finally {
    await handle.close();
  }
}

/** `readRegularFile` for synchronous callers (same checks). */
export function readRegularFileSync(file: string, maxBytes: number = FETCH_DEFAULTS.maxBytes): Buffer {
  if (!statSync(file).isFile()) throw notRegular(file);
  const fd = openSync(file, OPEN_FLAGS);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw notRegular(file);
    if (info.size > maxBytes) throw tooLarge(file, maxBytes);
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    for (let n; (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0;) {
      length += n;
      if (length === buffer.length) throw grew(file);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

// ------------------------------------------------------------------ http

async function getHttp(
  start: URL,
  maxBytes: number,
  signal: AbortSignal,
  allowPrivate = false,
  trustedStart = false,
): Promise<Buffer> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const checked = allowPrivate || (trustedStart && hop === 0) ? undefined : publicOnly;
    if (checked !== undefined) refusePrivateLiteral(url);
    const response = await request(url, signal, checked);
    const status = response.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      response.destroy();
      const location = response.headers.location;
      if (location === undefined) throw new FetchError(`${url.href}: redirect without a location`);
      if (hop >= MAX_REDIRECTS) throw new FetchError(`${start.href}: more than ${MAX_REDIRECTS} redirects`);
      url = new URL(location, url);
      if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new FetchError(`${start.href}: redirect to ${url.protocol}// refused`, true);
      continue;
    }
    if (status < 200 || status > 299) {
      response.destroy();
      throw new FetchError(`${url.href}: HTTP ${status}`);
    }
    if (Number(response.headers["content-length"] ?? 0) > maxBytes) {
      response.destroy();
      throw tooLarge(url.href, maxBytes);
    }
    return readBody(response, url, maxBytes);
  }
}

function request(url: URL, signal: AbortSignal, lookup: LookupFunction | undefined): Promise<http.IncomingMessage> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    // No connection pooling: a pooled socket would skip the address check of `lookup`.
    const req = client.get(
      url,
      { agent: false, signal, lookup, headers: { accept: "application/json, */*" } },
      resolve,
    );
    req.on("error", reject);
  });
}

async function readBody(response: http.IncomingMessage, url: URL, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response) {
    length += (chunk as Buffer).length;
    if (length > maxBytes) {
      response.destroy();
      throw tooLarge(url.href, maxBytes);
    }
    chunks.push(chunk as Buffer);
  }
  if (!response.complete) throw new FetchError(`${url.href}: connection closed before the end of the body`);
  return Buffer.concat(chunks, length);
}

// ------------------------------------------------------------------ addresses

const IPV4_PRIVATE: [string, number][] = [
  ["0.0.0.0", 8], // unspecified, "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];
const IPV6_PRIVATE: [string, number][] = [
  ["::", 96], // unspecified, loopback, IPv4-compatible
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
];
const privateAddresses = new BlockList();
for (const [net, prefix] of IPV4_PRIVATE) {
  privateAddresses.addSubnet(net, prefix, "ipv4");
  // The same IPv4 ranges inside IPv6: IPv4-mapped and NAT64.
  privateAddresses.addSubnet(`::ffff:${net}`, 96 + prefix, "ipv6");
  privateAddresses.addSubnet(`64:ff9b::${net}`, 96 + prefix, "ipv6");
}
for (const [net, prefix] of IPV6_PRIVATE) privateAddresses.addSubnet(net, prefix, "ipv6");

/** Whether an IP address is private, loopback, link-local, unique-local, unspecified or multicast (v4 or v6). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  return privateAddresses.check(address, family === 4 ? "ipv4" : "ipv6");
}

function refusePrivateLiteral(url: URL): void {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) !== 0 && isPrivateAddress(host))
    throw new FetchError(`${url.href}: ${host} is a private address (refused)`, true);
}

/** A `lookup` for connections that resolves every address of the host and refuses it if any is private. */
const publicOnly: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { family: options.family, hints: options.hints, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad !== undefined) {
      return callback(new FetchError(`${hostname} resolves to private address ${bad.address} (refused)`, true), "", 0);
    }
    if (list.length === 0) return callback(new FetchError(`${hostname} has no address`), "", 0);
    if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { fetchBatchFile, readBatchFile } from "../../src/sdk/batch.js";
import {
  FetchError,
  fetchBounded,
  isPrivateAddress,
  readRegularFileSync,
  type FetchOptions,
} from "../../src/sdk/fetch.js";

const BATCH = JSON.stringify({
  format: "verity.batch.v1",
  modelId: "0x01",
  provider: "0x02",
  root: "0x03",
  count: 0,
  leaves: [],
});

/** Rejects with the FetchError `fetchBounded` throws, and how long it took. */
async function refusal(uri: string, options: FetchOptions = {}): Promise<{ error: FetchError; ms: number }> {
  const started = Date.now();
  const error = await fetchBounded(uri, options).then(
    () => expect.fail(`${uri} was fetched`),
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(FetchError);
  return { error: error as FetchError, ms: Date.now() - started };
}

describe("fetchBounded: files", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "verity-fetch-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a FIFO, /dev/zero and a directory at once, sync and async (never opens or blocks on them)", async () => {
    const fifo = path.join(dir, "batch.fifo");
    execFileSync("mkfifo", [fifo]);
    for (const file of [fifo, "/dev/zero", dir]) {
      const { error, ms } = await refusal(pathToFileURL(file).href);
      expect(error.message).to.match(/is not a regular file/);
      expect(ms).to.be.below(1_000);
      expect(() => readRegularFileSync(file)).to.throw(/is not a regular file/);
      expect(() => readBatchFile(pathToFileURL(file).href)).to.throw(/is not a regular file/);
    }
  });

  it("reads a file up to the size limit and refuses one byte more", async () => {
    const file = path.join(dir, "sized.bin");
    writeFileSync(file, Buffer.alloc(1000, 7));
    expect((await fetchBounded(pathToFileURL(file).href, { maxBytes: 1000 })).length).to.equal(1000);
    const { error } = await refusal(pathToFileURL(file).href, { maxBytes: 999 });
    expect(error.message).to.match(/larger than 999 bytes/);
    expect(() => readRegularFileSync(file, 999)).to.throw(/larger than 999 bytes/);
  });

  it("a missing file is a transient failure; a refused scheme or a gateway-less ipfs:// URI a permanent one", async () => {
    const missing = await refusal(pathToFileURL(path.join(dir, "later.json")).href);
    expect(missing.error.permanent).to.equal(false);
    const file = path.join(dir, "batch.json");
    writeFileSync(file, BATCH);
    const scheme = await refusal(pathToFileURL(file).href, { schemes: ["https"] });
    expect(scheme.error.permanent).to.equal(true);
    expect((await refusal("ipfs://bafybeigdyr/batch.json")).error.message).to.match(/no IPFS gateway/);
    expect((await refusal("not a uri")).error.permanent).to.equal(true);
  });
});

describe("fetchBounded: http(s)", () => {
  let server: http.Server;
  let base: string;
  let port: number;
  const sockets = new Set<import("node:net").Socket>();

  before(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? "/";
      if (url === "/good" || url === "/ipfs/bafygood/batch.json") return res.end(BATCH);
      if (url === "/slow") return res.writeHead(200).write("{"); // and never ends
      if (url === "/huge") {
        // Chunked, no length: the cap must stop it while streaming.
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 32);
        const pump = () => {
          while (res.write(chunk));
        };
        res.on("drain", pump);
        return pump();
      }
      if (url === "/declared") return res.writeHead(200, { "content-length": String(1 << 30) }).write("{");
      const redirects: Record<string, string> = {
        "/ipfs/bafylocal/batch.json": `http://localhost:${port}/good`,
        "/ipfs/bafymeta/batch.json": "http://169.254.169.254/latest/meta-data",
        "/ipfs/bafyv6/batch.json": `http://[::ffff:127.0.0.1]:${port}/good`,
        "/to-file": "file:///etc/passwd",
        "/loop": "/loop",
        "/hop": "/good",
      };
      if (redirects[url] !== undefined) return res.writeHead(302, { location: redirects[url] }).end();
      res.writeHead(404).end();
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  });

  const local: FetchOptions = { allowPrivate: true };

  it("fetches a good file, following a redirect, when private addresses are allowed", async () => {
    expect((await fetchBounded(`${base}/good`, local)).toString()).to.equal(BATCH);
    expect((await fetchBounded(`${base}/hop`, local)).toString()).to.equal(BATCH);
    expect((await fetchBatchFile(`${base}/good`, local)).format).to.equal("verity.batch.v1");
  });

  it("refuses loopback and private addresses by default, by literal and by name", async () => {
    for (const uri of [`${base}/good`, `http://localhost:${port}/good`, `http://[::1]:${port}/good`]) {
      const { error } = await refusal(uri);
      expect(error.message, uri).to.match(/private address/);
      expect(error.permanent, uri).to.equal(true);
    }
  });

  it("gives up on a slow body at the time limit", async () => {
    const { error, ms } = await refusal(`${base}/slow`, { ...local, timeoutMs: 200 });
    expect(error.message).to.match(/timed out/);
    expect(ms).to.be.within(150, 2_000);
  });

  it("stops a huge body at the size cap, whether streamed or declared", async () => {
    const streamed = await refusal(`${base}/huge`, { ...local, maxBytes: 1 << 20 });
    expect(streamed.error.message).to.match(/larger than 1048576 bytes/);
    const declared = await refusal(`${base}/declared`, { ...local, maxBytes: 1 << 20 });
    expect(declared.error.message).to.match(/larger than 1048576 bytes/);
  });

  it("checks every redirect target: a trusted gateway may not send it to a private address", async () => {
    const gateway = { ipfsGateway: `${base}/ipfs/` };
    expect((await fetchBounded("ipfs://bafygood/batch.json", gateway)).toString()).to.equal(BATCH);
    for (const cid of ["bafylocal", "bafymeta", "bafyv6"]) {
      const { error } = await refusal(`ipfs://${cid}/batch.json`, gateway);
      expect(error.message, cid).to.match(/private address/);
    }
    expect((await fetchBounded("ipfs://bafylocal/batch.json", { ...gateway, ...local })).toString()).to.equal(BATCH);
  });

  it("keeps ipfs:// paths inside the gateway's path", async () => {
    const gateway = { ipfsGateway: `${base}/ipfs/`, allowPrivate: true };
    for (const uri of ["ipfs://bafygood/x?y", "ipfs://../good", "ipfs://bafy%2e/good"]) {
      expect((await refusal(uri, gateway)).error.message, uri).to.match(/not an IPFS path/);
    }
    // Dot segments stay below the CID (`/to-file` itself would redirect): 404 from the gateway.
    const escaped = await refusal("ipfs://bafygood/%2e%2e/%2e%2e/%2e%2e/to-file", gateway);
    expect(escaped.error.message).to.match(/\/ipfs\/bafygood\/to-file: HTTP 404$/);
  });

  it("follows at most a few redirects, and never to another scheme", async () => {
    expect((await refusal(`${base}/loop`, local)).error.message).to.match(/more than 3 redirects/);
    expect((await refusal(`${base}/to-file`, local)).error.message).to.match(/redirect to file:\/\/ refused/);
  });
});

describe("isPrivateAddress", () => {
  it("knows private, loopback, link-local, unique-local, unspecified and multicast addresses, v4, v6 and v4-mapped", () => {
    const private_ = [
      "0.0.0.0",
      "10.1.2.3",
      "100.64.0.1",
      "127.0.0.1",
      "169.254.169.254",
      "172.16.5.4",
      "172.31.255.255",
      "192.168.1.1",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "::1",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "64:ff9b::a9fe:a9fe",
    ];
    const public_ = ["8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2001:4860::8888"];
    for (const a of private_) expect(isPrivateAddress(a), a).to.equal(true);
    for (const a of public_) expect(isPrivateAddress(a), a).to.equal(false);
  });
});

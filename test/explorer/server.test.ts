/**
 * The explorer's server without a browser or a chain: the read-only JSON-RPC proxy (what it forwards, what
 * it refuses and that a refused request never reaches the node), the files and headers it serves, the
 * page's enum names against the SDK's, and the command's one-line refusals.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { journalFirstBlock } from "../../explorer/deployment.js";
import { checkRpcBody, MAX_BATCH } from "../../explorer/rpc-proxy.js";
import { MAX_REQUEST_BYTES, startExplorerServer, type ExplorerServer } from "../../explorer/server.js";
import { CommitmentStatus, Finality, Outcome, Phase, RecordFlags, finalityName } from "../../src/sdk/index.js";
import { ROOT, runExplorer } from "./helpers.js";

const ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const ZERO = "0x0000000000000000000000000000000000000000";

const rpc = (method: string, params: unknown[] = [], id: number = 1) => ({ jsonrpc: "2.0", id, method, params });
const logs = (fromBlock: string, toBlock: string, extra: Record<string, unknown> = {}) =>
  rpc("eth_getLogs", [{ address: ADDRESS, fromBlock, toBlock, ...extra }]);

describe("Explorer server: read-only proxy, files, enums, command line", function () {
  this.timeout(60_000);

  describe("checkRpcBody", () => {
    it("passes read methods, alone or batched", () => {
      const one = checkRpcBody(rpc("eth_call", [{ to: ADDRESS, data: "0x" }, "latest"]), 2_000);
      expect(one).to.deep.include({ ok: true, batch: false });
      const batch = checkRpcBody([rpc("eth_blockNumber"), rpc("eth_chainId", [], 2), logs("0x0", "0x7cf")], 2_000);
      expect(batch.ok && batch.requests.map((r) => r.method)).to.deep.equal([
        "eth_blockNumber",
        "eth_chainId",
        "eth_getLogs",
      ]);
    });

    it("refuses every method that signs, sends or controls the node, even inside a batch of reads", () => {
      for (const method of [
        "eth_sendTransaction",
        "eth_sendRawTransaction",
        "eth_sign",
        "personal_sign",
        "eth_signTypedData_v4",
        "eth_accounts",
        "hardhat_setBalance",
        "anvil_setCode",
        "evm_mine",
        "evm_increaseTime",
        "debug_traceTransaction",
      ]) {
        const alone = checkRpcBody(rpc(method), 2_000);
        expect(alone.ok, method).to.equal(false);
        expect(checkRpcBody([rpc("eth_blockNumber"), rpc(method, [], 2)], 2_000).ok, method).to.equal(false);
      }
    });

    it("refuses log queries that are not bounded: no range, tags, too wide, reversed, no address", () => {
      const refused = [
        rpc("eth_getLogs", [{ address: ADDRESS }]),
        logs("earliest", "latest"),
        logs("0x0", "latest"),
        logs("0x0", "0x7d0"), // 2,001 blocks
        logs("0x10", "0xf"),
        rpc("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x1" }]),
        rpc("eth_getLogs", [{ address: null, fromBlock: "0x0", toBlock: "0x1" }]),
        rpc("eth_getLogs", []),
      ];
      for (const body of refused) expect(checkRpcBody(body, 2_000).ok, JSON.stringify(body)).to.equal(false);
      expect(checkRpcBody(logs("0x0", "0x7cf"), 2_000).ok).to.equal(true); // exactly 2,000
      expect(
        checkRpcBody(rpc("eth_getLogs", [{ address: ADDRESS, blockHash: `0x${"ab".repeat(32)}` }]), 1).ok,
      ).to.equal(true);
    });

    it("refuses full blocks, oversized batches and what is not JSON-RPC 2.0", () => {
      expect(checkRpcBody(rpc("eth_getBlockByNumber", ["latest", true]), 2_000).ok).to.equal(false);
      expect(checkRpcBody(rpc("eth_getBlockByNumber", ["latest", false]), 2_000).ok).to.equal(true);
      const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => rpc("eth_blockNumber", [], i));
      expect(checkRpcBody(many, 2_000).ok).to.equal(false);
      expect(checkRpcBody(many.slice(0, MAX_BATCH), 2_000).ok).to.equal(true);
      for (const body of [[], null, "eth_call", { method: "eth_call" }, { jsonrpc: "1.0", method: "eth_call" }]) {
        expect(checkRpcBody(body, 2_000).ok, JSON.stringify(body)).to.equal(false);
      }
    });
  });

  describe("the HTTP server", () => {
    let upstream: http.Server;
    let received: unknown[];
    let explorer: ExplorerServer;

    before(async () => {
      // A stand-in node: answers every request with its method name and records what reached it.
      received = [];
      upstream = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          const parsed = JSON.parse(body) as unknown;
          received.push(parsed);
          const answer = (r: { id: unknown; method: string }) => ({ jsonrpc: "2.0", id: r.id, result: r.method });
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed as never)));
        });
      });
      await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
      const addresses = {
        token: ZERO,
        registry: ZERO,
        stakeManager: ZERO,
        ledger: ADDRESS,
        disputeGame: ZERO,
        batchDisclosure: ZERO,
        environments: ZERO,
        attestationService: ZERO,
      };
      explorer = await startExplorerServer({
        rpcUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        benchFile: path.join(ROOT, "bench", "no-such-results.json"),
        port: 0,
        config: {
          chainId: "31337",
          genesisHash: `0x${"11".repeat(32)}`,
          deployment: "chain-31337-test",
          addresses,
          fromBlock: 5,
          maxRange: 100,
          maxBlocks: 1_000,
          rpcHost: "127.0.0.1:1",
        },
      });
    });

    after(async () => {
      await explorer?.close();
      await new Promise((resolve) => upstream?.close(resolve));
    });

    /** A raw request, so that the Host and Origin headers can be anything. */
    function request(
      method: string,
      pathname: string,
      body?: string,
      headers: Record<string, string> = {},
    ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port: explorer.port,
            method,
            path: pathname,
            headers: { host: `127.0.0.1:${explorer.port}`, "content-type": "application/json", ...headers },
          },
          (res) => {
            let text = "";
            res.on("data", (c: Buffer) => (text += c.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    }

    it("forwards read requests to the node and its answers back", async () => {
      received.length = 0;
      const one = await request("POST", "/rpc", JSON.stringify(rpc("eth_blockNumber", [], 7)));
      expect(one.status).to.equal(200);
      expect(JSON.parse(one.text)).to.deep.equal({ jsonrpc: "2.0", id: 7, result: "eth_blockNumber" });
      const batch = await request("POST", "/rpc", JSON.stringify([rpc("eth_chainId"), logs("0x5", "0x68")]));
      expect((JSON.parse(batch.text) as { result: string }[]).map((r) => r.result)).to.deep.equal([
        "eth_chainId",
        "eth_getLogs",
      ]);
      expect(received).to.have.length(2);
    });

    it("refuses writes, wide scans, big bodies, other hosts and other origins without reaching the node", async () => {
      received.length = 0;
      const write = await request("POST", "/rpc", JSON.stringify(rpc("eth_sendTransaction", [{ to: ADDRESS }])));
      expect(write.status).to.equal(403);
      expect((JSON.parse(write.text) as { error: { message: string } }).error.message).to.include(
        "eth_sendTransaction is not a read method",
      );
      const wide = await request("POST", "/rpc", JSON.stringify(logs("0x0", "0x64"))); // 101 > maxRange 100
      expect(wide.status).to.equal(403);
      const big = await request(
        "POST",
        "/rpc",
        JSON.stringify(rpc("eth_call", [{ data: `0x${"00".repeat(MAX_REQUEST_BYTES)}` }])),
      );
      expect(big.status).to.equal(413);
      const notJson = await request("POST", "/rpc", "{");
      expect(notJson.status).to.equal(400);
      const rebound = await request("POST", "/rpc", JSON.stringify(rpc("eth_blockNumber")), {
        host: `attacker.example:${explorer.port}`,
      });
      expect(rebound.status).to.equal(421);
      const page = await request("GET", "/", undefined, { host: `attacker.example:${explorer.port}` });
      expect(page.status).to.equal(421);
      const crossOrigin = await request("POST", "/rpc", JSON.stringify(rpc("eth_blockNumber")), {
        origin: "http://attacker.example",
      });
      expect(crossOrigin.status).to.equal(403);
      const get = await request("GET", "/rpc");
      expect(get.status).to.equal(405);
      expect(received, "a refused request reached the node").to.deep.equal([]);
      // The same host under its other loopback name works.
      const localhost = await request("POST", "/rpc", JSON.stringify(rpc("eth_blockNumber")), {
        host: `localhost:${explorer.port}`,
        origin: `http://localhost:${explorer.port}`,
      });
      expect(localhost.status).to.equal(200);
    });

    it("serves the page with a strict CSP, the config, the ABIs, ethers' ESM build, and nothing else", async () => {
      const index = await request("GET", "/");
      expect(index.status).to.equal(200);
      expect(index.headers["content-type"]).to.match(/^text\/html/);
      expect(index.headers["content-security-policy"]).to.include("script-src 'self'").and.not.include("unsafe");
      expect(index.headers["x-content-type-options"]).to.equal("nosniff");
      expect(index.text).to.include('<script type="module" src="/app.js">');

      const config = JSON.parse((await request("GET", "/config.json")).text) as { fromBlock: number; maxRange: number };
      expect(config).to.include({ fromBlock: 5, maxRange: 100, chainId: "31337" });
      const abis = JSON.parse((await request("GET", "/abi.json")).text) as Record<string, { name?: string }[]>;
      expect(Object.keys(abis).sort()).to.deep.equal([
        "DisputeGame",
        "InferenceLedger",
        "ModelRegistry",
        "StakeManager",
      ]);
      expect(abis.InferenceLedger.map((f) => f.name)).to.include.members([
        "finalityOf",
        "teeRecordOf",
        "BatchCommitted",
      ]);
      expect(abis.DisputeGame.map((f) => f.name)).to.include.members(["gameOf", "FraudProven", "RewardPaid"]);

      const ethers = await request("GET", "/vendor/ethers.js");
      expect(ethers.headers["content-type"]).to.match(/^text\/javascript/);
      expect(ethers.text).to.match(/export\s*\{[^}]*JsonRpcProvider/);

      for (const missing of ["/../package.json", "/%2e%2e/package.json", "/explorer/serve.ts", "/server.ts", "/x"]) {
        expect((await request("GET", missing)).status, missing).to.equal(404);
      }
      expect((await request("PUT", "/app.js")).status).to.equal(405);
      const bench = JSON.parse((await request("GET", "/bench.json")).text) as { error: string };
      expect(bench.error).to.include("no bench results at").and.include("npm run bench");
    });
  });

  it("names every enum value and record flag as the SDK does", async () => {
    const protocol = (await import(pathToFileURL(path.join(ROOT, "explorer/public/protocol.js")).href)) as {
      PHASE: string[];
      OUTCOME: string[];
      COMMITMENT_STATUS: string[];
      FINALITY: string[];
      RECORD_FLAGS: Record<string, number>;
      statusText(status: number, finality: number): string;
      partyToMove(phase: number): string;
    };
    const names = (e: Record<string, string | number>) => Object.values(e).filter((v) => typeof v === "string");
    expect(protocol.PHASE).to.deep.equal(names(Phase));
    expect(protocol.OUTCOME).to.deep.equal(names(Outcome));
    expect(protocol.COMMITMENT_STATUS).to.deep.equal(names(CommitmentStatus));
    expect(protocol.FINALITY).to.deep.equal([0, 1, 2, 3].map((i) => finalityName(i)));
    const code = (name: Finality) => protocol.FINALITY.indexOf(name);
    expect(protocol.RECORD_FLAGS).to.deep.equal(RecordFlags);
    expect(protocol.statusText(CommitmentStatus.Final, code(Finality.Tee))).to.equal("Final (TEE-signed)");
    expect(protocol.statusText(CommitmentStatus.Final, code(Finality.ChallengeWindow))).to.equal(
      "Final (challenge window passed)",
    );
    expect(protocol.statusText(CommitmentStatus.Final, code(Finality.Proof))).to.equal("Final (proof verified)");
    expect(protocol.statusText(CommitmentStatus.Disputed, code(Finality.None))).to.equal("Disputed");
    expect(protocol.partyToMove(Phase.AwaitingTrace)).to.equal("provider");
    expect(protocol.partyToMove(Phase.AwaitingNeuronProof)).to.equal("challenger");
  });

  it("never hands the page's strings to an HTML parser (no innerHTML and kin in its scripts)", () => {
    const dir = path.join(ROOT, "explorer", "public");
    const scripts = readdirSync(dir).filter((f) => f.endsWith(".js"));
    expect(scripts).to.include.members(["app.js", "chain.js", "chart.js", "dom.js", "protocol.js"]);
    for (const file of scripts) {
      const code = readFileSync(path.join(dir, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""); // comments may name them
      expect(code, file).to.not.match(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|\beval\(|new Function/,
      );
    }
  });

  it("starts the scans at the deployment's first block, read from Ignition's journal", () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), "verity-explorer-journal-"));
    try {
      expect(journalFirstBlock(folder)).to.equal(undefined);
      const lines = [
        { type: "RUN_START", chainId: 31337 },
        { type: "TRANSACTION_CONFIRM", futureId: "VerityLocal#StakeManager", receipt: { blockNumber: 9 } },
        { type: "TRANSACTION_CONFIRM", futureId: "VerityLocal#MockERC20", receipt: { blockNumber: 7 } },
        { type: "TRANSACTION_CONFIRM", futureId: "VerityLocal#Ledger", receipt: { blockNumber: "3" } },
      ].map((m) => JSON.stringify(m));
      writeFileSync(path.join(folder, "journal.jsonl"), `${lines.join("\n")}\n{"type":"TRANSACTION_CONF`);
      expect(journalFirstBlock(folder)).to.equal(7);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("says in one line when the node cannot be reached or an option is wrong", async () => {
    const unreachable = await runExplorer(["--rpc", "http://127.0.0.1:1", "--port", "0"]);
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr.trim().split("\n")).to.have.length(1);
    expect(unreachable.stderr).to.match(/^error: cannot reach a node at http:\/\/127\.0\.0\.1:1 \(/);
    const badPort = await runExplorer(["--port", "http"]);
    expect(badPort.code).to.equal(1);
    expect(badPort.stderr.trim()).to.match(/^error: option '--port <n>' argument 'http' is invalid/);
    expect(badPort.stderr.trim().split("\n")).to.have.length(1);
  });
});

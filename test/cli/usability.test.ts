import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Command } from "commander";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { readModelFile } from "../../src/engine/index.js";
import { heldOutDigits } from "../../src/engine/mnist.js";
import { registerDisclose } from "../../src/cli/commands/disclose.js";
import { registerInfer } from "../../src/cli/commands/infer.js";
import { registerModel } from "../../src/cli/commands/model.js";
import { registerProvide } from "../../src/cli/commands/provide.js";
import { findLatestLogs, lastBlockAtOrBefore, registerStatus } from "../../src/cli/commands/status.js";
import { registerToken } from "../../src/cli/commands/token.js";
import { registerWatch } from "../../src/cli/commands/watch.js";
import { CliError } from "../../src/cli/errors.js";
import { minStakeWarning, mnistInputs, readInputFile } from "../../src/cli/inputs.js";
import { parseAmount, parseFault } from "../../src/cli/parse.js";
import { ProviderAgent, TraceStore } from "../../src/sdk/index.js";
import { connectedMnist } from "../helpers/verityFixture.js";

/**
 * What a new user hits in the first hour (issue 13, "Also seen"): a shipped sample input, `--sample` /
 * `--label` instead of the ambiguous `--digit`, the dataset loader in src/, help that says what is
 * required and shows examples, one-line refusals, and event lookups in bounded ranges that RPC providers
 * with capped `eth_getLogs` answer.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "verity.js");
const MODEL = "models/mnist-784-128-64-10.json";
const SAMPLE = "examples/mnist-7.json";

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/verity.js ...args` from the repository root. */
function cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, VERITY_DEBUG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`verity ${args.join(" ")} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function expectOneLineError(result: CliResult, pattern: string): void {
  expect(result.code, result.stderr).to.equal(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^error: /);
  expect(lines[0]).to.include(pattern);
}

/** The full help of a subcommand (`path` from the root), including the text added after it. */
function helpOf(register: (program: Command) => void, ...names: string[]): string {
  const program = new Command("verity");
  register(program);
  let command = program;
  for (const name of names) command = command.commands.find((c) => c.name() === name)!;
  let out = "";
  command.configureOutput({ writeOut: (s) => (out += s) });
  command.outputHelp();
  return out;
}

/** Every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("verity CLI: first-hour usability", function () {
  this.timeout(120_000);

  describe("inputs: a shipped sample, --sample and --label", function () {
    it("ships a sample input file of the MNIST model, which is held-out sample 8, a 7", async function () {
      const model = await readModelFile(path.join(ROOT, MODEL));
      const input = readInputFile(path.join(ROOT, SAMPLE), model);
      expect(input.length).to.equal(784);
      const digit = heldOutDigits()[8];
      expect(digit.label).to.equal(7);
      expect(Array.from(input)).to.deep.equal(Array.from(digit.input));
    });

    it("infers from the sample file; --sample n is the n-th held-out digit, --label d a held-out d", async function () {
      const fromFile = await cli(["--json", "infer", MODEL, SAMPLE]);
      expect(fromFile.code, fromFile.stderr).to.equal(0);
      const file = JSON.parse(fromFile.stdout);
      expect(file.argmax).to.equal(7);

      const [bySample] = await mnistInputs({ sample: "8" }, () => {});
      expect(bySample.sample).to.equal(8);
      expect(bySample.label).to.equal(7);
      const byLabel = await mnistInputs({ label: "5,5,0" }, () => {});
      expect(byLabel.map((d) => d.label)).to.deep.equal([5, 5, 0]);
      expect(byLabel[0].sample).to.not.equal(byLabel[1].sample); // naming 5 again picks the next 5
      const heldOut = heldOutDigits();
      expect(byLabel[0].sample).to.equal(heldOut.findIndex((d) => d.label === 5));

      const labelled = await cli(["--json", "infer", MODEL, "--label", "5"]);
      expect(labelled.code, labelled.stderr).to.equal(0);
      expect(JSON.parse(labelled.stdout)).to.include({ label: 5, sample: byLabel[0].sample });
    });

    it("keeps --digit as a deprecated alias of --sample that says so", async function () {
      const result = await cli(["--json", "infer", MODEL, "--digit", "8"]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.include("--digit is deprecated");
      expect(result.stderr).to.include("--label");
      expect(JSON.parse(result.stdout)).to.include({ sample: 8, label: 7 });
      const warnings: string[] = [];
      await mnistInputs({ digit: "3" }, (line) => warnings.push(line));
      expect(warnings).to.have.length(1);
    });

    it("refuses a label outside 0..9, a sample past the held-out set, and both at once, in one line", async function () {
      await expectRejected(
        mnistInputs({ label: "10" }, () => {}),
        "MNIST digits are 0..9",
      );
      await expectRejected(
        mnistInputs({ sample: "2000" }, () => {}),
        "there are 2000 held-out digits",
      );
      await expectRejected(
        mnistInputs({ sample: "1", digit: "1" }, () => {}),
        "not both",
      );
      expectOneLineError(await cli(["infer", MODEL, SAMPLE, "--label", "3"]), "give exactly one of");
    });

    it("explains the inputs and the sample file in the help of infer", function () {
      const help = helpOf(registerInfer, "infer");
      for (const text of ["--sample <n>", "--label <d>", "deprecated", SAMPLE, "Examples:"]) {
        expect(help).to.include(text);
      }
    });
  });

  describe("layout", function () {
    it("nothing in src/ imports scripts/ (the MNIST loader lives in src/engine/mnist.ts)", function () {
      const offenders = tsFiles(path.join(ROOT, "src")).filter((file) =>
        /\bfrom\s+["'][^"']*scripts\/|import\(\s*["'][^"']*scripts\//.test(readFileSync(file, "utf8")),
      );
      expect(offenders.map((f) => path.relative(ROOT, f))).to.deep.equal([]);
    });
  });

  describe("help and one-line refusals", function () {
    it("marks --model as required on watch and provide, and shows examples on the main commands", function () {
      for (const help of [helpOf(registerWatch, "watch"), helpOf(registerProvide, "provide")]) {
        expect(help).to.match(/Usage: verity (watch|provide) --model <file(\.\.\.)?> \[options\]/);
        expect(help).to.match(/--model <file(\.\.\.)?>\s+\(required\)/);
        expect(help).to.include("Examples:");
      }
      const helps = [
        helpOf(registerInfer, "infer"),
        helpOf(registerToken, "token", "mint"),
        helpOf(registerModel, "model", "register"),
        helpOf(registerModel, "model", "show"),
        helpOf(registerStatus, "status"),
        helpOf(registerStatus, "dispute"),
        helpOf(registerDisclose, "disclose", "demand"),
      ];
      for (const help of helps) expect(help).to.include("Examples:\n  $ verity");
    });

    it("says in --fault's help and errors that layers count from 1 and neurons from 0", async function () {
      const model = await readModelFile(path.join(ROOT, MODEL));
      expect(parseFault("2@1:5:-3", model)).to.deep.equal({ input: 2, fault: { layer: 1, neuron: 5, delta: -3 } });
      expect(() => parseFault("0:5")).to.throw(CliError, "layers count from 1");
      expect(() => parseFault("4:0", model)).to.throw(CliError, "outside 1..3 (layers count from 1)");
      expect(() => parseFault("3:10", model)).to.throw(CliError, "outside 0..9 of layer 3 (neurons count from 0)");
      expect(() => parseFault("1:0:256", model)).to.throw(CliError, "changes nothing");
    });

    it("refuses to mint 0 tokens in one line, before connecting", async function () {
      expect(() => parseAmount("0", "<amount>", { positive: true })).to.throw(CliError, "give an amount above 0");
      expect(parseAmount("0", "<amount>")).to.equal(0n);
      const result = await cli([
        "--rpc",
        "http://127.0.0.1:9",
        "token",
        "mint",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0.0",
      ]);
      expectOneLineError(result, "minting 0 tokens does nothing");
    });

    it("says in one line that a file given as --data-dir is not a folder (not EEXIST)", async function () {
      const work = mkdtempSync(path.join(os.tmpdir(), "verity-usability-"));
      const file = path.join(work, "state.json");
      writeFileSync(file, "{}");
      mkdirSync(path.join(work, "traces"));
      const dead = ["--rpc", "http://127.0.0.1:9"];
      const watch = await cli([...dead, "watch", "--model", MODEL, "--data-dir", file, "--once"]);
      expectOneLineError(watch, "is a file, not a folder");
      expect(watch.stderr).to.not.include("EEXIST");
      const provide = await cli([
        ...dead,
        "provide",
        "--model",
        MODEL,
        "--trace-dir",
        path.join(work, "traces"),
        "--data-dir",
        path.join(file, "sub"),
        "--once",
      ]);
      expectOneLineError(provide, "is a file, not a folder");
      expect(provide.stderr).to.not.match(/ENOTDIR|EEXIST/);
    });
  });

  describe("against a node that caps eth_getLogs at 1,000 blocks", function () {
    const CAP = 1_000;
    let connection: NetworkConnection;
    let f: Awaited<ReturnType<typeof connectedMnist>>;
    let server: http.Server;
    let rpc: string;
    let deployment: string;
    let commitmentId: string;
    let commitBlock: number;
    let batchId: string;
    let disputeId: string;
    const getLogsRanges: number[] = [];

    before(async function () {
      connection = await network.create();
      f = await connectedMnist(connection, "verity-usability-");
      const { networkHelpers } = connection;
      await networkHelpers.mine(3_000);
      const agent = new ProviderAgent(
        await f.as(f.provider),
        f.model,
        new TraceStore(path.join(f.work, "traces")),
        f.modelId,
      );
      const digits = heldOutDigits();
      const committed = await agent.commit(digits[0].input);
      commitmentId = committed.id;
      commitBlock = await connection.ethers.provider.getBlockNumber();
      const batch = await agent.commitBatch([digits[1].input, digits[2].input], path.join(f.work, "batch.json"));
      batchId = batch.batchId;
      const challenger = await f.as(f.challenger);
      const { result } = committed;
      const opened = await challenger.disputes.open({
        provider: f.provider.address,
        modelId: f.modelId,
        inference: { inputHash: result.inputHash, outputHash: result.outputHash, traceRoot: result.traceRoot },
      });
      disputeId = await challenger.disputes.idOf(await opened.wait());
      // Past the commitments' 1-hour deadlines (1 s per mined block): the lookups start from the deadline.
      await networkHelpers.mine(5_000);

      deployment = path.join(f.work, "deployment");
      mkdirSync(deployment);
      const a = f.addresses;
      writeFileSync(
        path.join(deployment, "deployed_addresses.json"),
        JSON.stringify({
          "VerityLocal#MockERC20": a.token,
          "VerityLocal#ModelRegistry": a.registry,
          "VerityLocal#StakeManager": a.stakeManager,
          "VerityLocal#InferenceLedger": a.ledger,
          "VerityLocal#DisputeGame": a.disputeGame,
          "VerityLocal#BatchDisclosure": a.batchDisclosure,
          "VerityLocal#EnvironmentRegistry": a.environments,
          "VerityLocal#AttestationServiceVerifier": a.attestationService,
        }),
      );
      server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", async () => {
          const parsed = JSON.parse(body);
          const answer = Array.isArray(parsed) ? await Promise.all(parsed.map(relay)) : await relay(parsed);
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify(answer));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      rpc = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    });

    after(async function () {
      await new Promise((resolve) => server?.close(resolve));
      await connection?.close();
    });

    /** Forwards one JSON-RPC request to the in-process chain, refusing log ranges above CAP blocks. */
    async function relay(request: { id: unknown; method: string; params?: unknown[] }) {
      try {
        if (request.method === "eth_getLogs") {
          const filter = (request.params?.[0] ?? {}) as { fromBlock?: string; toBlock?: string; blockHash?: string };
          if (filter.blockHash === undefined) {
            const head = Number(await connection.provider.request({ method: "eth_blockNumber" }));
            const block = (tag: string | undefined, fallback: number) =>
              tag === undefined || tag === "latest" || tag === "pending" || tag === "safe" || tag === "finalized"
                ? head
                : tag === "earliest"
                  ? 0
                  : Number(tag);
            const span = block(filter.toBlock, head) - block(filter.fromBlock ?? "latest", head) + 1;
            getLogsRanges.push(span);
            if (span > CAP) {
              return { jsonrpc: "2.0", id: request.id, error: { code: -32005, message: `range above ${CAP} blocks` } };
            }
          }
        }
        const result = await connection.provider.request({ method: request.method, params: request.params ?? [] });
        return { jsonrpc: "2.0", id: request.id, result };
      } catch (error) {
        return { jsonrpc: "2.0", id: request.id, error: { code: -32000, message: (error as Error).message } };
      }
    }

    async function cliJson(args: string[]) {
      const result = await cli(["--rpc", rpc, "--deployment", deployment, "--json", ...args]);
      expect(result.code, result.stderr).to.equal(0);
      return JSON.parse(result.stdout);
    }

    it("the capped node refuses a lookup from block 0 (what status and dispute did)", async function () {
      const ledger = (await f.as(f.provider)).ledger.contract;
      const { JsonRpcProvider } = await import("ethers");
      const capped = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
      await expectRejected(
        capped.getLogs({ address: await ledger.getAddress(), fromBlock: 0, toBlock: "latest" }),
        `range above ${CAP} blocks`,
      );
      capped.destroy();
    });

    it("finds the newest logs in ranges of at most maxRange blocks, from the last block before a time", async function () {
      const provider = connection.ethers.provider;
      const head = await provider.getBlockNumber();
      const ranges: [number, number][] = [];
      const ledger = (await f.as(f.provider)).ledger.contract;
      const found = await findLatestLogs(
        provider,
        (from, to) => {
          ranges.push([from, to]);
          return ledger.queryFilter(ledger.filters.InferenceCommitted(commitmentId), from, to);
        },
        { maxRange: 500 },
      );
      expect(found).to.have.length(1);
      expect(found[0].blockNumber).to.equal(commitBlock);
      expect(ranges[0][1]).to.equal(head); // newest first
      for (const [from, to] of ranges) expect(to - from + 1).to.be.at.most(500);
      expect(ranges.at(-1)![0]).to.be.at.most(commitBlock); // stopped at the first range with the event
      expect(ranges.at(-1)![0]).to.be.greaterThan(commitBlock - 500);

      const time = (await provider.getBlock(commitBlock))!.timestamp;
      expect(await lastBlockAtOrBefore(provider, time, 0, head)).to.equal(commitBlock);
      expect(await lastBlockAtOrBefore(provider, time + 10 ** 9, 0, head)).to.equal(head);
    });

    it("verity status of a commitment and of a batch reads their events through the capped node", async function () {
      getLogsRanges.length = 0;
      const single = await cliJson(["status", commitmentId, "--max-range", "500"]);
      expect(single).to.include({ id: commitmentId, kind: "single", modelId: f.modelId, block: commitBlock });
      expect(getLogsRanges).to.not.be.empty;
      expect(Math.max(...getLogsRanges)).to.be.at.most(500);
      const batchSmall = await cliJson(["status", batchId, "--max-range", "1000"]);
      expect(batchSmall).to.include({ kind: "batch", count: 2, modelId: f.modelId });
      expect(batchSmall.block).to.be.a("number");
    });

    it("verity dispute and verity disclose status read their events through the capped node", async function () {
      const dispute = await cliJson(["dispute", disputeId, "--max-range", "1000"]);
      expect(dispute).to.include({ disputeId, provider: f.provider.address, modelId: f.modelId });
      expect(dispute.deadline).to.be.a("number");
      const disclosure = await cliJson(["disclose", "status", batchId, "--max-range", "1000"]);
      expect(disclosure).to.include({ batchId, phase: "None", count: 2 });
      expect(disclosure.bond).to.be.a("string"); // token amounts as decimal strings
    });

    it("warns in token units, naming the models, when a stake is below their minimum", async function () {
      const verity = await f.as(f.provider);
      const warning = await minStakeWarning(verity, 50n * 10n ** 18n);
      expect(warning).to.be.a("string");
      expect(warning).to.include(f.modelId);
      expect(warning).to.match(/active stake 50\b.* needs 100\b/);
      expect(await minStakeWarning(verity, 100n * 10n ** 18n)).to.equal(undefined);
    });
  });
});

async function expectRejected(promise: Promise<unknown>, text: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.include(text);
    return;
  }
  expect.fail(`expected a rejection with "${text}"`);
}

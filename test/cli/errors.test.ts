import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { CommanderError } from "commander";
import { CliError, PartialFailure, describeError, errorJson } from "../../src/cli/errors.js";
import { VerityRevertError } from "../../src/sdk/errors.js";

/**
 * How the CLI reports failures: reverts with their meaning in token units and dates, JSON errors under
 * `--json`, and a multi-input commit that fails partway. Unit tests of the formatting first, then the
 * command driven as child processes against a `hardhat node`, as in test/cli/cli.test.ts.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "verity.js");
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");
const MODEL = "models/mnist-784-128-64-10.json";
/** Hardhat node's default account 1. */
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const VST = { decimals: 18, symbol: "VST" };
const E18 = 10n ** 18n;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForNode(url: string, node: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.exitCode !== null) throw new Error(`hardhat node exited with ${node.exitCode}: ${output().slice(-2000)}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`hardhat node did not answer within ${timeoutMs} ms: ${output().slice(-2000)}`);
}

/** Asserts exactly one `error:` line on stderr, no stack frames, and returns it. */
function oneLineError(result: CliResult): string {
  expect(result.code, result.stderr).to.equal(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^error: /);
  expect(result.stderr).to.not.match(/\n\s+at /);
  return lines[0];
}

/** Asserts a `--json` failure: exit code 1, nothing on stderr, one JSON document on stdout. */
function jsonError(result: CliResult): { error: Record<string, any>; partial?: any } {
  expect(result.code, result.stderr).to.equal(1);
  expect(result.stderr, "stderr").to.equal("");
  const doc = JSON.parse(result.stdout);
  expect(doc.error.message, "error.message").to.be.a("string");
  return doc;
}

describe("verity CLI errors", function () {
  describe("formatting (no node)", () => {
    const revert = new VerityRevertError("ERC20InsufficientBalance", [PROVIDER, 20n * E18, 50n * E18], "0x");

    it("describes a revert with its name, arguments and meaning in token units", () => {
      expect(describeError(revert, { token: VST })).to.equal(
        `ERC20InsufficientBalance(${PROVIDER}, 20000000000000000000, 50000000000000000000): ${PROVIDER} holds 20 VST, 50 VST needed`,
      );
      // Without the token's units, the name and arguments alone (the amounts would be base units).
      expect(describeError(revert)).to.equal(
        `ERC20InsufficientBalance(${PROVIDER}, 20000000000000000000, 50000000000000000000)`,
      );
    });

    it("turns every kind of error into one JSON object with a name and a message", () => {
      expect(errorJson(revert, { token: VST })).to.deep.equal({
        error: {
          name: "ERC20InsufficientBalance",
          message: describeError(revert, { token: VST }),
          meaning: `${PROVIDER} holds 20 VST, 50 VST needed`,
          args: { sender: PROVIDER, balance: "20000000000000000000", needed: "50000000000000000000" },
          data: "0x",
        },
      });
      expect(errorJson(new CliError("no such file: x"))).to.deep.equal({
        error: { name: "CliError", message: "no such file: x" },
      });
      expect(errorJson(new CommanderError(1, "commander.unknownCommand", "error: unknown command 'x'"))).to.deep.equal({
        error: { name: "UsageError", message: "unknown command 'x'" },
      });
      const enoent = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT", path: "/nope" });
      expect(errorJson(enoent)).to.deep.equal({
        error: { name: "ENOENT", message: "no such file or directory: /nope" },
      });
    });

    it("adds what a partial failure did: the note on the error line, the partial result in JSON", () => {
      const partial = new PartialFailure(revert, { commitments: [{ id: "0xaa" }] }, ["0xaa"], "1 committed");
      expect(describeError(partial, { token: VST })).to.equal(`${describeError(revert, { token: VST })}; 1 committed`);
      const json = errorJson(partial, { token: VST });
      expect(json.error.name).to.equal("ERC20InsufficientBalance");
      expect(json.error.message).to.equal(`${describeError(revert, { token: VST })}; 1 committed`);
      expect(json.partial).to.deep.equal({ commitments: [{ id: "0xaa" }] });
    });
  });

  describe("against a hardhat node", function () {
    let node: ChildProcess;
    let nodeOutput = "";
    let rpc = "";
    const deploymentId = `cli-errors-test-${process.pid}-${Date.now()}`;
    const deploymentDir = path.join(ROOT, "ignition", "deployments", deploymentId);
    let work = "";

    function cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
      const child = spawn(process.execPath, [BIN, "--rpc", rpc, "--deployment", deploymentDir, ...args], {
        cwd: ROOT,
        env: { ...process.env, CI: "true", VERITY_PRIVATE_KEY: "", VERITY_DEPLOYMENT: "", VERITY_DEBUG: "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      return new Promise((resolve, reject) => {
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`verity timed out after ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    }

    async function cliJson<T = any>(args: string[], timeoutMs?: number): Promise<T> {
      const result = await cli(["--json", ...args], timeoutMs);
      expect(result.code, result.stderr).to.equal(0);
      return JSON.parse(result.stdout) as T;
    }

    before(async function () {
      this.timeout(600_000);
      work = mkdtempSync(path.join(os.tmpdir(), "verity-cli-errors-"));
      const port = await freePort();
      rpc = `http://127.0.0.1:${port}`;
      node = spawn(HARDHAT, ["node", "--hostname", "127.0.0.1", "--port", String(port)], {
        cwd: ROOT,
        env: {
          ...process.env,
          CI: "true",
          PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}`,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const keep = (d: Buffer) => (nodeOutput = (nodeOutput + d.toString()).slice(-20_000));
      node.stdout!.on("data", keep);
      node.stderr!.on("data", keep);
      await waitForNode(rpc, node, () => nodeOutput, 90_000);
      await cliJson(["deploy", "--deployment-id", deploymentId], 590_000);
      await cliJson(["token", "mint", PROVIDER, "1000"]);
      await cliJson(["--account", "2", "model", "register", MODEL]);
    });

    after(async function () {
      this.timeout(20_000);
      if (node !== undefined && node.exitCode === null) {
        const exited = new Promise((resolve) => node.once("exit", resolve));
        node.kill("SIGTERM");
        const timer = setTimeout(() => node.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(deploymentDir, { recursive: true, force: true });
      if (work !== "") rmSync(work, { recursive: true, force: true });
    });

    it("reads ERC20InsufficientBalance in the token's units and symbol", async function () {
      const line = oneLineError(await cli(["--account", "1", "stake", "deposit", "5000"]));
      expect(line).to.equal(
        `error: ERC20InsufficientBalance(${PROVIDER}, 1000000000000000000000, 5000000000000000000000): ${PROVIDER} holds 1000 VST, 5000 VST needed`,
      );
    });

    it("reads StakeManagerStillUnbonding as a date and a time from now; readyAt is a number in --json", async function () {
      await cliJson(["--account", "1", "stake", "deposit", "300"]);
      const unbond = await cliJson(["--account", "1", "stake", "unbond", "10"]);
      expect(unbond.readyAt).to.be.a("number");
      const shown = await cliJson(["stake", "show", PROVIDER]);
      expect(shown.unbondingReadyAt).to.equal(unbond.readyAt);
      const date = new Date(unbond.readyAt * 1000).toISOString();
      const line = oneLineError(await cli(["--account", "1", "stake", "withdraw"]));
      // The deployment's unbonding delay is 110 days.
      expect(line).to.equal(
        `error: StakeManagerStillUnbonding(${PROVIDER}, ${unbond.readyAt}): the stake is unbonding until ${date.slice(0, 10)} ${date.slice(11, 16)} UTC, in 110 days`,
      );
    });

    it("prints errors as one JSON document on stdout under --json", async function () {
      const unbonding = jsonError(await cli(["--json", "--account", "1", "stake", "withdraw"]));
      expect(unbonding.error.name).to.equal("StakeManagerStillUnbonding");
      expect(unbonding.error.args.provider).to.equal(PROVIDER);
      expect(unbonding.error.args.readyAt).to.be.a("number");
      expect(unbonding.error.meaning).to.match(
        /^the stake is unbonding until \d{4}-\d\d-\d\d \d\d:\d\d UTC, in 110 days$/,
      );
      expect(unbonding.error.data).to.match(/^0x[0-9a-f]+$/);

      const balance = jsonError(await cli(["--json", "--account", "1", "stake", "deposit", "5000"]));
      expect(balance.error.args).to.deep.equal({
        sender: PROVIDER,
        balance: "700000000000000000000",
        needed: "5000000000000000000000",
      });
      expect(balance.error.meaning).to.equal(`${PROVIDER} holds 700 VST, 5000 VST needed`);

      expect(jsonError(await cli(["--json", "stake", "deposit", "lots"])).error).to.deep.equal({
        name: "CliError",
        message: '<amount>: "lots" is not a decimal token amount',
      });
      expect(jsonError(await cli(["--json", "frobnicate"])).error.name).to.equal("UsageError");
    });

    it("prints the ids a multi-input commit committed before it failed", async function () {
      this.timeout(120_000);
      const traces = ["--trace-dir", path.join(work, "traces")];
      // The third input repeats the first: its commitment exists, the ledger refuses it.
      const text = await cli(["--account", "1", "commit", MODEL, "--sample", "30,31,30", ...traces]);
      const line = oneLineError(text);
      expect(line).to.match(
        /^error: InferenceLedgerDuplicate\(0x[0-9a-f]{64}\): this exact commitment already exists, as 0x[0-9a-f]{64}; input 3 of 3 failed; the 2 committed before it are listed on stdout$/,
      );
      const ids = text.stdout.trim().split("\n");
      expect(ids).to.have.length(2);
      for (const id of ids) expect((await cliJson(["status", id])).status).to.equal("Pending");
      expect(line).to.include(ids[0]); // the duplicate is the first one

      const json = jsonError(await cli(["--json", "--account", "1", "commit", MODEL, "--sample", "32,32", ...traces]));
      expect(json.error.name).to.equal("InferenceLedgerDuplicate");
      expect(json.error.message).to.match(
        /; input 2 of 2 failed; the 1 committed before it are in partial.commitments$/,
      );
      expect(json.partial.kind).to.equal("single");
      expect(json.partial.commitments).to.have.length(1);
      expect(json.error.args.id).to.equal(json.partial.commitments[0].id);
    });
  });
});

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { TeeKind, environmentIdOf, reportBindingOf, reportDataOf } from "../../src/protocol/tee.js";
import {
  TcbStatus,
  TeeType,
  encodeEvidence,
  secp256k1SignerId,
  signStatement,
} from "../../src/sdk/attestation/index.js";

/**
 * End-to-end tests of `verity env` and the TEE options of `model register`, `commit` and `status`: a real
 * `hardhat node` child process and the CLI run as child processes, as in test/cli/cli.test.ts.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "verity.js");
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");
const MODEL = "models/mnist-784-128-64-10.json";
const CHAIN_ID = 31337n;

/** Hardhat node's default accounts 1 (provider) and 2 (publisher); 0 is the deployer and governor. */
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

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

/** Asserts the CLI failed with exactly one `error:` line and no stack frames. */
function expectOneLineError(result: CliResult, pattern: string | RegExp): void {
  expect(result.code, result.stderr).to.equal(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^error: /);
  expect(result.stderr).to.not.match(/\n\s+at /);
  if (typeof pattern === "string") expect(lines[0]).to.include(pattern);
  else expect(lines[0]).to.match(pattern);
}

/** A time as the CLI prints it. */
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");

describe("verity env (CLI end to end)", function () {
  let node: ChildProcess;
  let nodeOutput = "";
  let rpc = "";
  const deploymentId = `cli-env-test-${process.pid}-${Date.now()}`;
  const deploymentDir = path.join(ROOT, "ignition", "deployments", deploymentId);
  let work = "";
  let addresses: Record<string, string> = {};
  let modelId = "";
  let environment = "";
  let commitmentId = "";
  const enclave = Wallet.createRandom();
  const service = Wallet.createRandom();
  const measurement = "0x" + "01".repeat(240);

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

  /** The attestation service's evidence for the enclave key, bound to `nonce`, written to a file. */
  async function evidenceFile(nonce: string, name: string): Promise<string> {
    const { signerId, statement, signature } = await signStatement(
      {
        teeType: TeeType.IntelTdx,
        measurement,
        enclaveKey: enclave.address,
        binding: reportBindingOf(CHAIN_ID, addresses.environments, enclave.address, nonce),
        tcbStatus: TcbStatus.UpToDate,
        expiry: BigInt(Math.floor(Date.now() / 1000) + 30 * 86_400),
      },
      { kind: "secp256k1", wallet: service },
      { chainId: CHAIN_ID, verifyingContract: addresses.attestationService },
    );
    const file = path.join(work, name);
    writeFileSync(file, encodeEvidence(statement, signerId, signature));
    return file;
  }

  before(async function () {
    this.timeout(120_000);
    work = mkdtempSync(path.join(os.tmpdir(), "verity-cli-env-test-"));
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

  it("lists the env commands in its help", async function () {
    const result = await cli(["env", "--help"]);
    expect(result.code).to.equal(0);
    for (const command of [
      "approve",
      "revoke",
      "list",
      "show",
      "allow",
      "disallow",
      "nonce",
      "register-key",
      "key",
      "revoke-key",
      "keys",
      "service-signer",
    ]) {
      expect(result.stdout).to.include(command);
    }
    expect((await cli(["commit", "--help"])).stdout).to.include('{"privateKey": "0x..."}');
  });

  it("deploys, stakes the provider and registers a model under a TEE window policy", async function () {
    this.timeout(600_000);
    const out = await cliJson(["deploy", "--deployment-id", deploymentId], 590_000);
    addresses = out.addresses;
    expect(addresses.environments).to.match(/^0x[0-9a-fA-F]{40}$/);
    await cliJson(["token", "mint", PROVIDER, "1000"]);
    await cliJson(["--account", "1", "stake", "deposit", "200"]);

    expectOneLineError(
      await cli(["--account", "2", "model", "register", MODEL, "--tee-mode", "window"]),
      "--tee-mode window needs --tee-window <duration>",
    );
    expectOneLineError(
      await cli(["--account", "2", "model", "register", MODEL, "--tee-mode", "window", "--tee-window", "30s"]),
      "ModelRegistryInvalidTeeWindow(1, 30, 60, 3599): a TEE Window window of 30 s is outside 1 min..3599 s",
    );
    ({ modelId } = await cliJson([
      "--account",
      "2",
      "model",
      "register",
      MODEL,
      "--tee-mode",
      "window",
      "--tee-window",
      "10m",
    ]));
    const shown = await cliJson(["model", "show", modelId]);
    expect(shown.policy.teeMode).to.equal("window");
    expect(shown.policy.teeWindow).to.equal(600);
    expect(shown.environments).to.deep.equal([]);
  });

  it("approves an environment from a measurement file, lists, shows and allows it for the model", async function () {
    const file = path.join(work, "measurement.hex");
    writeFileSync(file, `${measurement.slice(2)}\n`);
    expectOneLineError(
      await cli(["env", "approve", "--type", "tdx", "--measurement", "0x" + "02".repeat(64)]),
      "--measurement: a IntelTdx measurement is 240 bytes of hex, not 64",
    );
    expectOneLineError(await cli(["env", "approve", "--type", "sev", "--measurement", file]), '--type: "sev" is not');
    ({ environment } = await cliJson(["env", "approve", "--type", "tdx", "--measurement", file, "--uri", "ipfs://e1"]));
    expect(environment).to.equal(environmentIdOf(TeeKind.IntelTdx, measurement));
    expectOneLineError(
      await cli(["env", "approve", "--type", "tdx", "--measurement", file]),
      `EnvironmentRegistryEnvironmentExists(${environment}, 1): environment `,
    );

    const listed = await cliJson(["env", "list", "--max-range", "5"]);
    expect(listed.environments.map((e: any) => [e.environment, e.type, e.status])).to.deep.equal([
      [environment, "tdx", "Approved"],
    ]);
    const shown = await cliJson(["env", "show", environment]);
    expect(shown.measurement).to.equal(measurement);
    expect(shown.metadataURI).to.equal("ipfs://e1");

    const allowed = await cliJson(["--account", "2", "env", "allow", modelId, environment]);
    expect(allowed.environments).to.deep.equal([environment]);
    expect((await cliJson(["model", "show", modelId])).environments).to.deep.equal([environment]);
    const text = await cli(["model", "show", modelId]);
    expect(text.stdout).to.include(`environments    ${environment}`);
    expect(text.stdout).to.include("TEE mode        window (TEE-sealed commitments final after 10 min)");
  });

  it("approves a service signer, issues a nonce with report data, registers and shows an enclave key", async function () {
    const approved = await cliJson(["env", "service-signer", "approve", service.address]);
    expect(approved.signerId).to.equal(secp256k1SignerId(service.address));

    const issued = await cliJson(["--account", "1", "env", "nonce", "--key", enclave.address]);
    expect(issued.operator).to.equal(PROVIDER);
    expect(issued.expiresAt - issued.issuedAt).to.equal(3600);
    expect(issued.reportData).to.equal(
      reportDataOf(enclave.address, reportBindingOf(CHAIN_ID, addresses.environments, enclave.address, issued.nonce)),
    );
    const evidence = await evidenceFile(issued.nonce, "evidence.hex");
    const args = ["env", "register-key", "--verifier", "service", "--evidence", evidence, "--nonce", issued.nonce];
    expectOneLineError(
      await cli(["--account", "1", ...args, "--expires", "soon"]),
      '--expires: "soon" is neither a duration (7d) nor a date (2030-01-01)',
    );
    const key = await cliJson(["--account", "1", ...args, "--expires", "7d"]);
    expect(key.key).to.equal(enclave.address);
    expect(key.operator).to.equal(PROVIDER);
    expect(key.environment).to.equal(environment);
    expect(key.valid).to.equal(true);
    expect(key.expiresAt - key.registeredAt).to.be.within(7 * 86_400 - 60, 7 * 86_400);
    expectOneLineError(
      await cli(["--account", "1", ...args]),
      `EnvironmentRegistryNonceUsed(${issued.nonce}): this nonce already registered a key: issue a new one`,
    );

    const shown = await cliJson(["env", "key", enclave.address]);
    expect(shown.tcbStatus).to.equal("UpToDate");
    expect(shown.verifier).to.equal(addresses.attestationService);
    const keys = await cliJson(["env", "keys", "--operator", PROVIDER]);
    expect(keys.keys.map((k: any) => k.key)).to.deep.equal([enclave.address]);
    expect((await cliJson(["env", "keys", "--operator", enclave.address])).keys).to.deep.equal([]);
  });

  it("commits with --tee-key and shows the TEE record and finality in status", async function () {
    const keyFile = path.join(work, "enclave.json");
    writeFileSync(keyFile, JSON.stringify({ privateKey: enclave.privateKey }));
    const traces = path.join(work, "traces");
    const badFile = path.join(work, "bad.json");
    writeFileSync(badFile, JSON.stringify({ privateKey: "0x12" }));
    expectOneLineError(
      await cli(["--account", "1", "commit", MODEL, "--sample", "0", "--tee-key", badFile]),
      `--tee-key: enclave key file ${badFile}: expected { "privateKey": "0x<64 hex digits>" }`,
    );
    const out = await cliJson([
      "--account",
      "1",
      "commit",
      MODEL,
      "--sample",
      "0",
      "--tee-key",
      keyFile,
      "--trace-dir",
      traces,
    ]);
    expect(out.tee).to.deep.equal({ enclaveKey: enclave.address, environment });
    commitmentId = out.commitments[0].id;

    const status = await cliJson(["status", commitmentId]);
    expect(status.status).to.equal("Pending");
    expect(status.finality).to.equal("None");
    expect(status.provider).to.equal(PROVIDER);
    expect(status.tee).to.deep.include({
      enclaveKey: enclave.address,
      environment,
      mode: "Window",
      trustLostAt: 0,
      provenWrong: false,
    });
    expect(status.traceRoot).to.equal(out.commitments[0].traceRoot);
    const text = await cli(["status", commitmentId]);
    expect(text.stdout).to.include(`enclave key     ${enclave.address}`);
    expect(text.stdout).to.include("trust lost at   never (key and environment trusted)");
  });

  it("revokes the key: status shows when trust was lost and a new commit fails with the date", async function () {
    const revoked = await cliJson(["--account", "1", "env", "revoke-key", enclave.address]);
    const status = await cliJson(["status", commitmentId]);
    expect(status.tee.trustLostAt).to.equal(revoked.revokedAt);
    expect((await cliJson(["env", "key", enclave.address])).valid).to.equal(false);

    const keyFile = path.join(work, "enclave.json");
    expectOneLineError(
      await cli([
        "--account",
        "1",
        "commit",
        MODEL,
        "--sample",
        "1",
        "--tee-key",
        keyFile,
        "--trace-dir",
        path.join(work, "traces"),
      ]),
      `InferenceLedgerEnclaveRevoked(${enclave.address}, ${revoked.revokedAt}): enclave key ${enclave.address} was revoked at ${iso(revoked.revokedAt)}`,
    );
  });

  it("disallows and revokes the environment; revokes the service signer", async function () {
    const disallowed = await cliJson(["--account", "2", "env", "disallow", modelId, environment]);
    expect(disallowed.environments).to.deep.equal([]);
    expectOneLineError(
      await cli(["--account", "2", "env", "disallow", modelId, environment]),
      `ModelRegistryEnvironmentNotAllowed(${modelId}, ${environment}): environment `,
    );
    await cliJson(["env", "revoke", environment]);
    expect((await cliJson(["env", "show", environment])).status).to.equal("Revoked");
    expectOneLineError(
      await cli(["--account", "2", "env", "allow", modelId, environment]),
      `ModelRegistryEnvironmentNotApproved(${environment})`,
    );
    const revoked = await cliJson(["env", "service-signer", "revoke", service.address]);
    expect(revoked.signerId).to.equal(secp256k1SignerId(service.address));
    expectOneLineError(
      await cli(["env", "service-signer", "revoke", service.address]),
      "AttestationServiceVerifierRevokedSigner(",
    );
  });
});

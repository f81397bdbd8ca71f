/**
 * End to end against a real `hardhat node`: TEE-signed commitments. The MNIST model is registered with a
 * shortened TEE window, an environment is approved and allowed, an attestation-service key is approved, and
 * the provider registers an enclave key through the attestation-service verifier. The provider daemon, in TEE
 * mode (its enclave key read from a key file), seals four held-out MNIST inferences, one of them wrong. The
 * watchtower (`verity watch`, its own process) catches the wrong one and wins the game, which revokes the key
 * at once: the daemon's later commitments are refused with InferenceLedgerEnclaveRevoked (one log line), and
 * the key's pending commitments fall back to the model's full challenge window.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, MaxUint256, Wallet, parseEther, type JsonRpcSigner } from "ethers";
import { quantizeInput, readModelFile } from "../../src/engine/index.js";
import { TeeKind, TeeMode, environmentIdOf, reportBindingOf } from "../../src/protocol/tee.js";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { loadEnclaveKey } from "../../src/daemons/tee.js";
import type { WatchtowerState } from "../../src/daemons/watchtower.js";
import { EnclaveRefusedError } from "../../src/sdk/agents/provider.js";
import { encodeEvidence, signStatement, TcbStatus, TeeType } from "../../src/sdk/attestation/index.js";
import {
  CommitmentStatus,
  Finality,
  Outcome,
  ProviderAgent,
  TraceStore,
  Verity,
  loadDeployment,
} from "../../src/sdk/index.js";
import {
  AttestationServiceVerifier__factory,
  EnvironmentRegistry__factory,
  MockERC20__factory,
} from "../../typechain-types/index.js";
import { MNIST_INPUT_SCALE, splitMnist } from "../../src/engine/mnist.js";
import { deployWithCli, spawnWatchtower, type DaemonProcess } from "./helpers/cli.js";
import { startNode, type LocalNode } from "./helpers/node.js";

const MODEL_FILE = "models/mnist-784-128-64-10.json";
const TEE_WINDOW = 600;
const MEASUREMENT = "0x" + "5a".repeat(240);
/** The second of the four commitments is wrong: one neuron of layer 2 altered. */
const WRONG = 1;

/** Bounded polling: resolves once `check` returns a value, throws after `timeoutMs`. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function readState(dataDir: string): WatchtowerState | undefined {
  const file = path.join(dataDir, "state.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as WatchtowerState;
  } catch {
    return undefined;
  }
}

describe("TEE end to end: a sealed fraud caught by the CLI watchtower revokes the enclave key", function () {
  this.timeout(90_000);

  let node: LocalNode | undefined;
  let deploymentDir: string | undefined;
  let work: string;
  let rpc: JsonRpcProvider;
  let verity: Verity;
  let watch: DaemonProcess | undefined;
  let daemon: ProviderDaemon | undefined;
  const stopDaemon = new AbortController();
  let daemonDone: Promise<void> | undefined;
  const daemonLines: string[] = [];
  let enclave: Wallet;
  let environment: string;
  let firstBlock = 0;
  let ids: string[] = [];
  let modelId: string;
  const watcherAccount = 4;

  before(async function () {
    node = await startNode();
    deploymentDir = await deployWithCli(node.url, `e2e-tee-${randomBytes(6).toString("hex")}`);
    work = mkdtempSync(path.join(os.tmpdir(), "verity-e2e-tee-"));
    rpc = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
    const addresses = loadDeployment(31337n, deploymentDir);
    const [admin, publisher, providerSigner, watcher] = await Promise.all(
      [0, 1, 2, watcherAccount].map((i): Promise<JsonRpcSigner> => rpc.getSigner(i)),
    );
    verity = await Verity.connect({ runner: admin, addresses });
    const model = await readModelFile(path.resolve(MODEL_FILE));

    const token = MockERC20__factory.connect(addresses.token, admin);
    for (const s of [providerSigner, watcher]) await (await token.mint(s.address, parseEther("100000"))).wait();
    await (await token.connect(watcher).approve(addresses.stakeManager, MaxUint256)).wait();
    modelId = await (
      await verity.connect(publisher).registry.registerModel(model, {
        metadataURI: MODEL_FILE,
        policy: { teeMode: TeeMode.Window, teeWindow: TEE_WINDOW },
      })
    ).wait();

    // Governance approves the environment and a service key; the publisher allows the environment.
    const environments = EnvironmentRegistry__factory.connect(addresses.environments, admin);
    const service = AttestationServiceVerifier__factory.connect(addresses.attestationService, admin);
    await (await environments.approveEnvironment(TeeKind.IntelTdx, MEASUREMENT, "ipfs://verity-e2e-env")).wait();
    environment = environmentIdOf(TeeKind.IntelTdx, MEASUREMENT);
    await (await verity.registry.contract.connect(publisher).allowEnvironment(modelId, environment)).wait();
    const serviceKey = Wallet.createRandom();
    await (await service.approveSecp256k1Signer(serviceKey.address)).wait();

    // The provider stakes, then registers its enclave key with the service's evidence bound to a nonce.
    const providerVerity = verity.connect(providerSigner);
    await (await providerVerity.staking.deposit(parseEther("5000"))).wait();
    const keyFile = path.join(work, "enclave-key.json");
    writeFileSync(keyFile, JSON.stringify({ privateKey: Wallet.createRandom().privateKey }), { mode: 0o600 });
    enclave = loadEnclaveKey(keyFile);
    const issued = await (await environments.connect(providerSigner).issueNonce()).wait();
    const nonce = issued!.logs.map((l) => environments.interface.parseLog(l)).find((p) => p?.name === "NonceIssued")!
      .args.nonce as string;
    const now = (await rpc.getBlock("latest"))!.timestamp;
    const signed = await signStatement(
      {
        teeType: TeeType.IntelTdx,
        measurement: MEASUREMENT,
        enclaveKey: enclave.address,
        binding: reportBindingOf(31337n, addresses.environments, enclave.address, nonce),
        tcbStatus: TcbStatus.UpToDate,
        expiry: BigInt(now + 30 * 86_400),
      },
      { kind: "secp256k1", wallet: serviceKey },
      { chainId: 31337n, verifyingContract: addresses.attestationService },
    );
    const evidence = encodeEvidence(signed.statement, signed.signerId, signed.signature);
    await (
      await environments
        .connect(providerSigner)
        .registerEnclave(addresses.attestationService, evidence, nonce, now + 7 * 86_400)
    ).wait();

    const agent = new ProviderAgent(providerVerity, model, new TraceStore(path.join(work, "traces")), modelId, {
      tee: { enclave, environment },
    });
    firstBlock = Number(await rpc.send("eth_blockNumber", [])) + 1;
    daemon = new ProviderDaemon({
      agent,
      dataDir: path.join(work, "provider"),
      fromBlock: firstBlock,
      log: (line) => daemonLines.push(line),
    });
    await daemon.init();
    daemonDone = daemon.run(200, stopDaemon.signal);

    const inputs = splitMnist()
      .test.slice(0, 4)
      .map((d) => quantizeInput(d.pixels, MNIST_INPUT_SCALE));
    const made = await Promise.all(
      inputs.map((input, i) => daemon!.submit(input, i === WRONG ? { layer: 2, neuron: 11, delta: 2 } : undefined)),
    );
    ids = made.map((m) => m.id);
  });

  after(async function () {
    stopDaemon.abort();
    await watch?.stop("SIGKILL");
    if (daemonDone !== undefined) await Promise.race([daemonDone, new Promise((r) => setTimeout(r, 10_000))]);
    daemon?.close();
    rpc?.destroy();
    await node?.stop();
    if (deploymentDir !== undefined) rmSync(deploymentDir, { recursive: true, force: true });
    if (work !== undefined && process.env.E2E_KEEP === undefined) rmSync(work, { recursive: true, force: true });
  });

  it("seals every commitment with the registered key under the shortened window", async function () {
    expect(ids).to.have.length(4);
    for (const id of ids) {
      const tee = await verity.ledger.contract.teeRecordOf(id);
      expect(tee.enclaveKey).to.equal(enclave.address);
      expect(tee.environment).to.equal(environment);
      expect(Number(tee.mode)).to.equal(TeeMode.Window);
      expect(tee.trustLostAt).to.equal(0n);
      expect((await verity.ledger.recordOf(id)).challengeDeadline).to.equal(tee.teeDeadline);
    }
  });

  it("the CLI watchtower disputes the wrong one, wins, and the proven fraud revokes the key", async function () {
    const dataDir = path.join(work, "watchtower");
    watch = spawnWatchtower(
      { rpc: node!.url, deployment: deploymentDir!, account: watcherAccount },
      { model: MODEL_FILE, dataDir, intervalMs: 200, fromBlock: firstBlock },
    );
    expect(watch.viaCli, "bin/verity.js is missing: the watchtower must run through the CLI").to.equal(true);
    const game = await until("the watchtower's game to be won", 45_000, async () => {
      if (watch!.child.exitCode !== null) throw new Error(`watchtower exited early:\n${watch!.output()}`);
      const games = Object.values(readState(dataDir)?.games ?? {});
      return games.length > 0 && games.every((g) => g.resolved) ? games : undefined;
    });
    await watch.stop("SIGTERM", 15_000);
    expect(game.map((g) => [g.targetKey, g.outcome])).to.deep.equal([
      [ids[WRONG].toLowerCase(), Outcome.ChallengerWon],
    ]);
    expect(await verity.ledger.status(ids[WRONG])).to.equal(CommitmentStatus.Overturned);
    const key = await EnvironmentRegistry__factory.connect(verity.addresses.environments, rpc).enclaveOf(
      enclave.address,
    );
    expect(key.revokedAt).to.not.equal(0n);
    await until("the provider daemon to record its loss", 10_000, async () =>
      daemon!.snapshot().stats.lost === 1 ? true : undefined,
    );
  });

  it("refuses the key's later commitments with InferenceLedgerEnclaveRevoked, and the daemon says so once", async function () {
    const inputs = splitMnist()
      .test.slice(10, 12)
      .map((d) => quantizeInput(d.pixels, MNIST_INPUT_SCALE));
    const outcomes = await Promise.all(inputs.map((input) => daemon!.submit(input).catch((e: unknown) => e)));
    for (const error of outcomes) {
      expect(error).to.be.instanceOf(EnclaveRefusedError);
      expect((error as EnclaveRefusedError).errorName).to.equal("InferenceLedgerEnclaveRevoked");
    }
    const lines = daemonLines.filter((l) => l.includes("InferenceLedgerEnclaveRevoked"));
    expect(lines, daemonLines.join("\n")).to.have.length(1);
    expect(lines[0]).to.include(enclave.address);
    expect(daemon!.snapshot().stats).to.include({ committed: 4, refused: 2 });
  });

  it("the key's pending commitments fall back to the model's full window", async function () {
    const honest = ids.filter((_, i) => i !== WRONG);
    for (const id of honest) {
      const tee = await verity.ledger.contract.teeRecordOf(id);
      expect(tee.trustLostAt).to.not.equal(0n);
      expect(tee.fallbackDeadline).to.be.above(tee.teeDeadline);
      expect((await verity.ledger.recordOf(id)).challengeDeadline).to.equal(tee.fallbackDeadline);
    }
    // Past the shortened window they are still Pending (they would be Final by the TEE otherwise) ...
    await rpc.send("evm_increaseTime", [TEE_WINDOW + 1]);
    await rpc.send("evm_mine", []);
    for (const id of honest) {
      expect(await verity.ledger.finalityOf(id)).to.deep.equal({
        status: CommitmentStatus.Pending,
        finality: Finality.None,
      });
    }
    // ... and Final by the challenge window once the model's full window passed.
    const { challengeWindow } = await verity.registry.contract.policyOf(modelId);
    await rpc.send("evm_increaseTime", [Number(challengeWindow)]);
    await rpc.send("evm_mine", []);
    for (const id of honest) {
      expect(await verity.ledger.finalityOf(id)).to.deep.equal({
        status: CommitmentStatus.Final,
        finality: Finality.ChallengeWindow,
      });
    }
  });
});

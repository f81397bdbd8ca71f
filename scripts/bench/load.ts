import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, parseEther, type TransactionReceipt } from "ethers";
import { network } from "hardhat";
import VerityLocal from "../../ignition/modules/VerityLocal.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import { quantizeInput, readModelFile, run, vectorToHex } from "../../src/engine/index.js";
import { ChallengerAgent, Verity, type VerityAddresses } from "../../src/sdk/index.js";
import { MockERC20__factory } from "../../typechain-types/index.js";
import { startNode } from "../../test/e2e/helpers/node.js";
import { MNIST_INPUT_SCALE, splitMnist } from "../../src/engine/mnist.js";
import type { BenchRunner } from "./types.js";

const MODEL_PATH = "models/mnist-784-128-64-10.json";
/** Concurrent senders, each a staked provider with its own account and nonce. */
const SENDERS = 32;
/** Commitments sent in all (one held-out MNIST digit each). */
const COMMITMENTS = 2_000;
/** Blocks per `eth_getLogs` when scanning (the watchtower's default range). */
const SCAN_RANGE = 2_000;
/** Passes of the log scan whose total time is measured. */
const SCAN_PASSES = 5;
/** Bound on waiting for any one receipt. */
const RECEIPT_TIMEOUT_MS = 30_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Polls for a receipt every few ms, bounded (automine answers on the first or second poll). */
async function receiptOf(provider: JsonRpcProvider, hash: string): Promise<TransactionReceipt> {
  const deadline = performance.now() + RECEIPT_TIMEOUT_MS;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt !== null) return receipt;
    if (performance.now() > deadline) throw new Error(`no receipt for ${hash} after ${RECEIPT_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Load on a real `hardhat node` (its own, on a free port; the in-process connection is not used):
 * 32 staked providers, each its own account with its own nonce sequence, send 2,000 MNIST commitments
 * concurrently. Reports submit-to-receipt latency (p50, p99) and throughput, then how fast the
 * commitment logs of the whole range are fetched and decoded (`LedgerClient.scan` in bounded ranges),
 * and checks that a watchtower on that node journals every commitment exactly once and disputes none.
 */
export const benchLoad: BenchRunner = async () => {
  const node = await startNode();
  const deploymentId = `bench-load-${randomBytes(6).toString("hex")}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "verity-bench-load-"));
  const rpc = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  try {
    // Deploy with Ignition through a connection to the node, register MNIST, fund and stake 32 providers.
    const deployed = await connection.ignition.deploy(VerityLocal, { deploymentId });
    const addresses: VerityAddresses = {
      token: await deployed.token.getAddress(),
      registry: await deployed.registry.getAddress(),
      stakeManager: await deployed.stakeManager.getAddress(),
      ledger: await deployed.ledger.getAddress(),
      disputeGame: await deployed.disputeGame.getAddress(),
      batchDisclosure: await deployed.batchDisclosure.getAddress(),
      environments: await deployed.environmentRegistry.getAddress(),
      attestationService: await deployed.attestationService.getAddress(),
    };
    const admin = await rpc.getSigner(0);
    const verity = await Verity.connect({ runner: admin, addresses });
    const model = await readModelFile(MODEL_PATH);
    const modelId = await (await verity.registry.registerModel(model, { metadataURI: MODEL_PATH })).wait();

    const senders = Array.from({ length: SENDERS }, () => Wallet.createRandom().connect(rpc));
    const token = MockERC20__factory.connect(addresses.token, admin);
    for (const s of senders) {
      await (await admin.sendTransaction({ to: s.address, value: parseEther("10") })).wait();
      await (await token.mint(s.address, parseEther("1000"))).wait();
    }
    await Promise.all(senders.map(async (s) => (await verity.connect(s).staking.deposit(parseEther("500"))).wait()));

    // Every commitment is a real inference of a held-out digit, computed before the clock starts.
    const digits = splitMnist().test;
    if (digits.length < COMMITMENTS) throw new Error(`only ${digits.length} held-out digits`);
    const ledger = verity.ledger.contract;
    const calldata = digits.slice(0, COMMITMENTS).map((d) => {
      const input = quantizeInput(d.pixels, MNIST_INPUT_SCALE);
      const r = run(model, input);
      return ledger.interface.encodeFunctionData("commit", [
        modelId,
        r.inputHash,
        r.outputHash,
        r.traceRoot,
        vectorToHex(input),
      ]);
    });
    const ledgerAddress = addresses.ledger;
    const gasLimit =
      ((await rpc.estimateGas({ from: senders[0].address, to: ledgerAddress, data: calldata[0] })) * 3n) / 2n;
    const fees = await rpc.getFeeData();
    const maxFeePerGas = (fees.maxFeePerGas ?? 10n ** 10n) * 2n;
    const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 10n ** 9n;
    const chainId = (await rpc.getNetwork()).chainId;
    const firstBlock = Number(await rpc.send("eth_blockNumber", [])) + 1;

    // 32 senders in parallel; each signs and sends its share in order with nonces it tracks itself.
    const latencies: number[] = [];
    const ids: string[] = [];
    const started = performance.now();
    await Promise.all(
      senders.map(async (sender, k) => {
        let nonce = await rpc.getTransactionCount(sender.address, "pending");
        for (let i = k; i < COMMITMENTS; i += SENDERS) {
          const t0 = performance.now();
          const signed = await sender.signTransaction({
            type: 2,
            chainId,
            nonce: nonce++,
            to: ledgerAddress,
            data: calldata[i],
            gasLimit,
            maxFeePerGas,
            maxPriorityFeePerGas,
          });
          const hash = (await rpc.send("eth_sendRawTransaction", [signed])) as string;
          const receipt = await receiptOf(rpc, hash);
          latencies.push(performance.now() - t0);
          if (receipt.status !== 1) throw new Error(`commitment ${i} reverted (${hash})`);
          ids.push(ledger.interface.parseLog(receipt.logs[0])!.args.id as string);
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    const lastBlock = Number(await rpc.send("eth_blockNumber", []));
    if (new Set(ids).size !== COMMITMENTS)
      throw new Error(`${new Set(ids).size} distinct commitment ids, expected ${COMMITMENTS}`);
    latencies.sort((a, b) => a - b);

    // Log scan: fetch and decode every commitment event of the range, in bounded ranges, several passes.
    let decoded = 0;
    const scanStarted = performance.now();
    for (let pass = 0; pass < SCAN_PASSES; pass++) {
      let passEvents = 0;
      for (let from = firstBlock; from <= lastBlock; from += SCAN_RANGE) {
        passEvents += (await verity.ledger.scan(from, Math.min(lastBlock, from + SCAN_RANGE - 1))).length;
      }
      if (passEvents !== COMMITMENTS)
        throw new Error(`scan pass ${pass} decoded ${passEvents} events, expected ${COMMITMENTS}`);
      decoded += passEvents;
    }
    const logScanPerSec = decoded / ((performance.now() - scanStarted) / 1000);
    // The same split in two: the node's eth_getLogs alone, and decoding alone (where the time goes).
    const filter = { address: ledgerAddress, fromBlock: firstBlock, toBlock: lastBlock };
    const fetchStarted = performance.now();
    const logs = await rpc.getLogs(filter);
    const logFetchPerSec = logs.length / ((performance.now() - fetchStarted) / 1000);
    const rawStarted = performance.now();
    const raw = await fetch(node.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "eth_getLogs",
        params: [
          { address: ledgerAddress, fromBlock: `0x${firstBlock.toString(16)}`, toBlock: `0x${lastBlock.toString(16)}` },
        ],
      }),
    });
    const rawLogs = ((await raw.json()) as { result: unknown[] }).result.length;
    const logRpcPerSec = rawLogs / ((performance.now() - rawStarted) / 1000);
    const decodeStarted = performance.now();
    for (const log of logs) verity.ledger.parseCommitment(log);
    const logDecodePerSec = logs.length / ((performance.now() - decodeStarted) / 1000);

    // A watchtower on the same node (in-process) re-executes the whole range: every id once, no dispute.
    const watcher = verity.connect(await rpc.getSigner(1));
    const watchtower = new Watchtower({
      verity: watcher,
      challenger: new ChallengerAgent(watcher, [model]),
      dataDir,
      fromBlock: firstBlock,
      maxRange: SCAN_RANGE,
      autoClaim: false,
    });
    await watchtower.init();
    const watchStarted = performance.now();
    for (let tick = 0; tick < 5 && watchtower.snapshot().cursor < lastBlock; tick++) await watchtower.tick();
    const watchMs = performance.now() - watchStarted;
    const seen = watchtower.seenIds();
    const unique = new Set(seen.map((id) => id.toLowerCase()));
    const missing = ids.filter((id) => !unique.has(id.toLowerCase())).length;
    if (seen.length !== COMMITMENTS || unique.size !== COMMITMENTS || missing !== 0) {
      throw new Error(
        `watchtower journal: ${seen.length} lines, ${unique.size} unique, ${missing} commitments missing`,
      );
    }
    const opened = watchtower.snapshot().stats.opened;
    if (opened !== 0) throw new Error(`the watchtower opened ${opened} disputes against honest commitments`);

    return {
      load: {
        commitments: ids.length,
        senders: SENDERS,
        commitsPerSec: ids.length / (elapsedMs / 1000),
        p50ms: percentile(latencies, 50),
        p99ms: percentile(latencies, 99),
        watchtowerSeen: unique.size,
        watchtowerVerifyPerSec: unique.size / (watchMs / 1000),
      },
      offchain: { logScanPerSec, logRpcPerSec, logFetchPerSec, logDecodePerSec },
    };
  } finally {
    rpc.destroy();
    await connection.close().catch(() => undefined);
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(path.join("ignition", "deployments", deploymentId), { recursive: true, force: true });
  }
};

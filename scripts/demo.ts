/**
 * `npm run demo`: the main job end to end on the embedded in-process chain (or `-- --rpc URL` for a node
 * such as `npx hardhat node`). Deploys with Ignition, registers the shipped MNIST model, stakes an honest
 * and a cheating provider, commits real MNIST inferences singly and in batches (the cheater alters one
 * neuron in some of them), runs the watchtower and both provider daemons until every dispute has ended,
 * and prints what happened.
 *
 * On a node it runs any number of times: it reuses the node's live deployment (or deploys one, in a folder
 * of its own when ignition/deployments/chain-<id> is another node's or its contracts are gone), the
 * publisher's registration of the model, and commits held-out digits no earlier run committed. A failure
 * is one `error:` line (VERITY_DEBUG=1 for the stack).
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { ContractTransactionReceipt } from "ethers";
import hre, { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import VerityLocal from "../ignition/modules/VerityLocal.js";
import { describeError } from "../src/cli/errors.js";
import { argmax, quantizeInput, readModelFile, run, type DenseInt8Model } from "../src/engine/index.js";
import { MNIST_INPUT_SCALE, splitMnist, type Digit } from "../src/engine/mnist.js";
import type { Fault } from "../src/protocol/faults.js";
import {
  cancunRequiredMessage,
  planDeployment,
  supportsCancun,
  writeDeploymentIdentity,
  type ChainReader,
} from "../src/sdk/deployments.js";
import {
  ChallengerAgent,
  CommitmentStatus,
  ModelResolutionError,
  commitmentIdOf,
  type LedgerClient,
  Outcome,
  ProviderAgent,
  TraceStore,
  Verity,
  type RegistryClient,
  type VerityAddresses,
} from "../src/sdk/index.js";
import { ProviderDaemon } from "../src/daemons/provider.js";
import { Watchtower } from "../src/daemons/watchtower.js";

/** Held-out digits one run commits: 12 singly and 12 in a batch by each provider. */
export const DEMO_DIGITS = 48;

/**
 * The first window of `DEMO_DIGITS` held-out digits (its offset) that `provider` has not committed under
 * `modelId` (a run commits a whole window, starting with its first digit, singly), or undefined if every
 * window was committed.
 */
export async function unusedDigitWindow(
  ledger: LedgerClient,
  provider: string,
  modelId: string,
  model: DenseInt8Model,
  digits: readonly Digit[],
): Promise<number | undefined> {
  for (let offset = 0; offset + DEMO_DIGITS <= digits.length; offset += DEMO_DIGITS) {
    const result = run(model, quantizeInput(digits[offset].pixels, MNIST_INPUT_SCALE));
    const id = commitmentIdOf(provider, modelId, result);
    if ((await ledger.status(id)) === CommitmentStatus.None) return offset;
  }
  return undefined;
}

/** A failure the demo explains in one line (no stack). */
class DemoError extends Error {}

/**
 * The deployment the demo runs on. In process: a new one. On a node: the live deployment of that node
 * under ignition/deployments when there is one (the demo runs any number of times on one node), else a
 * new one, in a folder of its own when `chain-<id>` belongs to another node or an earlier run of this one.
 */
export async function demoDeployment(
  connection: NetworkConnection,
  onNode: boolean,
  say: (line: string) => void,
  options: { fresh?: boolean } = {},
): Promise<VerityAddresses> {
  const { ethers, ignition } = connection;
  let deploymentId: string | undefined;
  if (onNode) {
    const provider = ethers.provider as unknown as ChainReader;
    const { chainId } = await provider.getNetwork();
    if ((await supportsCancun(provider)) === false) throw new DemoError(cancunRequiredMessage(chainId));
    const root = path.join(hre.config.paths.ignition, "deployments");
    let plan = await planDeployment(provider, root, { fresh: options.fresh });
    // The demo mints test tokens: a deployment staking an existing token (module Verity) will not do.
    if (plan.action === "live" && plan.existing?.module !== "VerityLocal")
      plan = await planDeployment(provider, root, { fresh: true });
    const shown = path.relative(process.cwd(), plan.folder);
    if (plan.action === "live") {
      say(`using the deployment already live on this node: ${shown}`);
      return plan.existing!.addresses!;
    }
    if (plan.action === "deploy") writeDeploymentIdentity(plan.folder, plan.instance);
    say(`${plan.action === "resume" ? "resuming" : "deploying"} into ${shown}`);
    deploymentId = plan.deploymentId;
  }
  const deployed = await ignition.deploy(VerityLocal, { deploymentId });
  return {
    token: await deployed.token.getAddress(),
    registry: await deployed.registry.getAddress(),
    stakeManager: await deployed.stakeManager.getAddress(),
    ledger: await deployed.ledger.getAddress(),
    disputeGame: await deployed.disputeGame.getAddress(),
    batchDisclosure: await deployed.batchDisclosure.getAddress(),
    environments: await deployed.environmentRegistry.getAddress(),
    attestationService: await deployed.attestationService.getAddress(),
  };
}

/**
 * The publisher's registration of `model`: the existing one (a registration of the same content by the
 * same publisher, from an earlier run), else a new one. `reused` says which.
 */
export async function demoRegistration(
  registry: RegistryClient,
  publisher: string,
  model: DenseInt8Model,
  metadataURI: string,
): Promise<{ modelId: string; reused: boolean }> {
  let modelId: string;
  let reused = true;
  try {
    modelId = await registry.resolveModelId(model, { publisher });
  } catch (error) {
    if (!(error instanceof ModelResolutionError)) throw error;
    modelId = await (await registry.registerModel(model, { metadataURI })).wait();
    reused = false;
  }
  if (!(await registry.acceptsCommitments(modelId)))
    throw new DemoError(
      `model ${modelId} of ${publisher} no longer accepts commitments (deprecated or revoked): ` +
        "run the demo on a fresh node, or deploy anew with `verity deploy --fresh`",
    );
  return { modelId, reused };
}

let flags: { rpc?: string; quiet: boolean } = { quiet: false };
const started = performance.now();
const say = (line: string) => console.log(line);
const ether = (v: bigint) => `${Number(v / 10n ** 14n) / 10_000}`;

// Run as a script (not when a test imports the helpers above).
if (import.meta.filename === path.resolve(process.argv[1] ?? "")) {
  let connection: NetworkConnection | undefined;
  try {
    flags = parseArgs({ options: { rpc: { type: "string" }, quiet: { type: "boolean", default: false } } })
      .values as typeof flags;
    connection = await network.create(
      flags.rpc === undefined ? undefined : { network: "localhost", override: { url: flags.rpc } },
    );
    await demo(connection);
  } catch (error) {
    const message = error instanceof DemoError ? error.message : describeError(error);
    console.error(`error: ${message}${flags.rpc === undefined ? "" : ` (node ${flags.rpc})`}`);
    if (process.env.VERITY_DEBUG) console.error((error as Error)?.stack ?? String(error));
    process.exitCode = 1;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function demo(connection: NetworkConnection): Promise<void> {
  const { ethers } = connection;
  const [admin, publisher, honestSigner, cheaterSigner, watcherSigner] = await ethers.getSigners();

  say(`Verity demo on ${flags.rpc ?? "the in-process chain"}`);
  const model = await readModelFile(path.resolve("models/mnist-784-128-64-10.json"));
  const heldOut = splitMnist().test;
  // A run commits 48 held-out digits that no earlier run on this deployment committed (commitment ids are
  // deterministic); once every window is used, it deploys anew.
  let addresses: VerityAddresses;
  let modelId: string;
  let window: number | undefined;
  for (let fresh = false; ; fresh = true) {
    addresses = await demoDeployment(connection, flags.rpc !== undefined, say, { fresh });
    const token = await ethers.getContractAt("MockERC20", addresses.token);
    for (const s of [honestSigner, cheaterSigner, watcherSigner])
      await (await token.mint(s.address, ethers.parseEther("10000"))).wait();
    say(`deployed: ledger ${addresses.ledger}, disputes ${addresses.disputeGame}`);
    const registration = await demoRegistration(
      (await Verity.connect({ runner: publisher, addresses })).registry,
      publisher.address,
      model,
      "models/mnist-784-128-64-10.json",
    );
    modelId = registration.modelId;
    say(
      `${registration.reused ? "reusing the registration of" : "registered"} MNIST 784-128-64-10 as ${modelId} (publisher ${publisher.address})`,
    );
    const ledger = (await Verity.connect({ runner: ethers.provider as never, addresses })).ledger;
    window = await unusedDigitWindow(ledger, honestSigner.address, modelId, model, heldOut);
    if (window !== undefined || fresh) break;
    say("every window of held-out digits was committed on this deployment by earlier runs: deploying anew");
  }
  if (window === undefined) throw new DemoError("no unused held-out digits even on a fresh deployment");
  const token = await ethers.getContractAt("MockERC20", addresses.token);
  const verity = (signer: typeof admin) => Verity.connect({ runner: signer, addresses });
  // Everything below is this run's: earlier runs on the same node are left out of the scans and the summary.
  const firstBlock = (await ethers.provider.getBlockNumber()) + 1;

  const work = mkdtempSync(path.join(os.tmpdir(), "verity-demo-"));
  const honest = new ProviderAgent(
    await verity(honestSigner),
    model,
    new TraceStore(path.join(work, "honest")),
    modelId,
  );
  const cheater = new ProviderAgent(
    await verity(cheaterSigner),
    model,
    new TraceStore(path.join(work, "cheater")),
    modelId,
  );
  const stakeManager = honest.verity.staking.contract;
  const staked = async (who: string) => {
    const s = await stakeManager.stakeOf(who);
    return s.active + s.unbonding;
  };
  const [honestBefore, cheaterBefore, treasuryBefore] = [
    await staked(honestSigner.address),
    await staked(cheaterSigner.address),
    await stakeManager.creditOf(admin.address),
  ];
  for (const p of [honest, cheater]) await (await p.verity.staking.deposit(ethers.parseEther("1000"))).wait();
  say("staked 1000 VST for the honest provider and for the cheater");

  // 48 held-out digits: each provider commits 12 singly and 12 in one batch.
  const digits = heldOut.slice(window, window + DEMO_DIGITS);
  const inputs = digits.map((d) => quantizeInput(d.pixels, MNIST_INPUT_SCALE));
  const faultFor = (i: number): Fault | undefined =>
    i % 4 === 1 ? { layer: 1 + (i % 3), neuron: (i * 7) % 10, delta: 5 } : undefined;
  let commitments = 0;
  let wrong = 0;
  let correctPredictions = 0;
  for (let i = 0; i < 12; i++) {
    await honest.commit(inputs[i]);
    const fault = faultFor(i);
    await cheater.commit(inputs[12 + i], fault);
    if (fault !== undefined) wrong++;
    commitments += 2;
  }
  const batchFaults = Array.from({ length: 12 }, (_, i) =>
    i === 3 || i === 8 ? { layer: 2, neuron: i, delta: -3 } : undefined,
  );
  await honest.commitBatch(inputs.slice(24, 36), path.join(work, "honest-batch.json"));
  await cheater.commitBatch(inputs.slice(36, 48), path.join(work, "cheater-batch.json"), batchFaults);
  wrong += batchFaults.filter(Boolean).length;
  commitments += 24;
  inputs.forEach((x, i) => {
    if (argmax(honest.infer(x).output) === digits[i].label) correctPredictions++;
  });
  say(`committed ${commitments} inferences (24 single, 2 batches of 12); the cheater altered ${wrong}`);

  const watcherVerity = await verity(watcherSigner);
  await token.connect(watcherSigner).approve(addresses.stakeManager, ethers.MaxUint256);
  const logLine = (who: string) => (m: string) => flags.quiet || console.log(`  [${who}] ${m}`);
  const watchtower = new Watchtower({
    verity: watcherVerity,
    challenger: new ChallengerAgent(watcherVerity, [model], [modelId]),
    dataDir: path.join(work, "watchtower"),
    fromBlock: firstBlock,
    log: logLine("watchtower"),
  });
  const daemons = [honest, cheater].map(
    (agent, i) =>
      new ProviderDaemon({
        agent,
        dataDir: path.join(work, `provider-${i}`),
        fromBlock: firstBlock,
        log: logLine(i === 0 ? "honest" : "cheater"),
      }),
  );
  await watchtower.init();
  for (const d of daemons) await d.init();

  for (let round = 0; round < 20; round++) {
    const report = await watchtower.tick();
    for (const d of daemons) await d.tick();
    if (round > 0 && report.opened === 0 && watchtower.openGames().length === 0) break;
  }
  await watchtower.tick(); // claim anything credited by the last moves

  // Let every challenge window pass, then read the final statuses.
  await connection.provider.request({ method: "evm_increaseTime", params: [3601] }).catch(() => undefined);
  await connection.provider.request({ method: "evm_mine", params: [] }).catch(() => undefined);

  const state = watchtower.snapshot();
  const games = Object.values(state.games);
  const caught = new Set(games.map((g) => g.targetKey)).size;
  const proved = games.filter((g) => g.outcome === Outcome.ChallengerWon).length;
  const deposited = ethers.parseEther("1000");
  const cheaterLost = cheaterBefore + deposited - (await staked(cheaterSigner.address));
  const honestLost = honestBefore + deposited - (await staked(honestSigner.address));
  const treasuryGained = (await stakeManager.creditOf(admin.address)) - treasuryBefore;
  const claimed = BigInt(state.stats.claimed);

  // Gas of each dispute step, from the receipts of the game's events.
  const gasByStep = new Map<string, number[]>();
  const game = watcherVerity.disputes.contract;
  for (const name of ["DisputeOpened", "TraceRevealed", "LayerSelected", "LayerRevealed", "DisputeResolved"] as const) {
    for (const e of await game.queryFilter(game.filters[name](), firstBlock)) {
      const receipt = (await ethers.provider.getTransactionReceipt(e.transactionHash)) as ContractTransactionReceipt;
      const step = name === "DisputeResolved" ? "proveNeuron (resolves)" : name;
      gasByStep.set(step, [...(gasByStep.get(step) ?? []), Number(receipt.gasUsed)]);
    }
  }

  say("");
  say("Summary");
  console.table({
    "commitments made": commitments,
    "model accuracy on these digits": `${((100 * correctPredictions) / inputs.length).toFixed(1)}%`,
    "wrong (cheater altered one neuron)": wrong,
    "caught by the watchtower": caught,
    "proved on-chain (fraud proofs)": proved,
    "disputes lost by the watchtower": state.stats.lost,
    "cheater stake slashed (VST, of 1000 staked)": ether(cheaterLost),
    "honest stake lost (VST, of 1000 staked)": ether(honestLost),
    "watchtower rewards claimed (VST)": ether(claimed),
    "treasury credit gained (VST)": ether(treasuryGained),
  });
  console.table(
    Object.fromEntries(
      [...gasByStep].map(([step, gases]) => [
        step,
        {
          games: gases.length,
          "avg gas": Math.round(gases.reduce((a, b) => a + b, 0) / gases.length),
          "max gas": Math.max(...gases),
        },
      ]),
    ),
  );
  say(`finished in ${((performance.now() - started) / 1000).toFixed(1)} s (state in ${work})`);
  if (caught !== wrong || proved !== wrong || state.stats.lost !== 0) {
    console.error(`demo check failed: ${wrong} wrong, ${caught} caught, ${proved} proved, ${state.stats.lost} lost`);
    process.exitCode = 1;
  }
}

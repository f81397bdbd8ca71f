/**
 * `npm run demo`: the main job end to end on the embedded in-process chain (or `-- --rpc URL` for a node
 * such as `npx hardhat node`). Deploys with Ignition, registers the shipped MNIST model, stakes an honest
 * and a cheating provider, commits real MNIST inferences singly and in batches (the cheater alters one
 * neuron in some of them), runs the watchtower and both provider daemons until every dispute has ended,
 * and prints what happened.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { ContractTransactionReceipt } from "ethers";
import { network } from "hardhat";
import VerityLocal from "../ignition/modules/VerityLocal.js";
import { argmax, quantizeInput, readModelFile } from "../src/engine/index.js";
import type { Fault } from "../src/protocol/faults.js";
import { ChallengerAgent, Outcome, ProviderAgent, TraceStore, Verity } from "../src/sdk/index.js";
import { ProviderDaemon } from "../src/daemons/provider.js";
import { Watchtower } from "../src/daemons/watchtower.js";
import { MNIST_INPUT_SCALE, splitMnist } from "./mnist-data.js";

const { values: flags } = parseArgs({
  options: { rpc: { type: "string" }, quiet: { type: "boolean", default: false } },
});
const started = performance.now();
const say = (line: string) => console.log(line);
const ether = (v: bigint) => `${Number(v / 10n ** 14n) / 10_000}`;

const connection = await network.create(
  flags.rpc === undefined ? undefined : { network: "localhost", override: { url: flags.rpc } },
);
const { ethers, ignition } = connection;
const [admin, publisher, honestSigner, cheaterSigner, watcherSigner] = await ethers.getSigners();

say(`Verity demo on ${flags.rpc ?? "the in-process chain"}`);
const deployed = await ignition.deploy(VerityLocal);
const addresses = {
  token: await deployed.token.getAddress(),
  registry: await deployed.registry.getAddress(),
  stakeManager: await deployed.stakeManager.getAddress(),
  ledger: await deployed.ledger.getAddress(),
  disputeGame: await deployed.disputeGame.getAddress(),
  batchDisclosure: await deployed.batchDisclosure.getAddress(),
  environments: await deployed.environmentRegistry.getAddress(),
  attestationService: await deployed.attestationService.getAddress(),
};
const token = await ethers.getContractAt("MockERC20", addresses.token);
for (const s of [honestSigner, cheaterSigner, watcherSigner])
  await (await token.mint(s.address, ethers.parseEther("10000"))).wait();
say(`deployed: ledger ${addresses.ledger}, disputes ${addresses.disputeGame}`);

const model = await readModelFile(path.resolve("models/mnist-784-128-64-10.json"));
const verity = (signer: typeof admin) => Verity.connect({ runner: signer, addresses });
const modelId = await (
  await (await verity(publisher)).registry.registerModel(model, { metadataURI: "models/mnist-784-128-64-10.json" })
).wait();
say(`registered MNIST 784-128-64-10 as ${modelId} (publisher ${publisher.address})`);

const work = mkdtempSync(path.join(os.tmpdir(), "verity-demo-"));
// Both providers find the model id from the model file: its content has exactly one registration.
const honest = await ProviderAgent.create(await verity(honestSigner), model, new TraceStore(path.join(work, "honest")));
const cheater = await ProviderAgent.create(
  await verity(cheaterSigner),
  model,
  new TraceStore(path.join(work, "cheater")),
);
for (const p of [honest, cheater]) await (await p.verity.staking.deposit(ethers.parseEther("1000"))).wait();
say("staked 1000 VST for the honest provider and for the cheater");

// 48 held-out digits: each provider commits 12 singly and 12 in one batch.
const digits = splitMnist().test.slice(0, 48);
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
  challenger: new ChallengerAgent(watcherVerity, [model]),
  dataDir: path.join(work, "watchtower"),
  log: logLine("watchtower"),
});
const daemons = [honest, cheater].map(
  (agent, i) =>
    new ProviderDaemon({
      agent,
      dataDir: path.join(work, `provider-${i}`),
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
const stakeManager = watcherVerity.staking.contract;
const cheaterStake = await stakeManager.stakeOf(cheaterSigner.address);
const honestStake = await stakeManager.stakeOf(honestSigner.address);
const treasuryCredit = await stakeManager.creditOf(admin.address);
const claimed = BigInt(state.stats.claimed);

// Gas of each dispute step, from the receipts of the game's events.
const gasByStep = new Map<string, number[]>();
const game = watcherVerity.disputes.contract;
for (const name of ["DisputeOpened", "TraceRevealed", "LayerSelected", "LayerRevealed", "DisputeResolved"] as const) {
  for (const e of await game.queryFilter(game.filters[name]())) {
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
  "cheater stake left (VST)": ether(cheaterStake.active + cheaterStake.unbonding),
  "honest stake left (VST)": ether(honestStake.active + honestStake.unbonding),
  "watchtower rewards claimed (VST)": ether(claimed),
  "treasury credit (VST)": ether(treasuryCredit),
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
await connection.close();

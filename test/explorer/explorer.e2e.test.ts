/**
 * The explorer in a real browser (Debian's Chromium through playwright-core) against a `hardhat node`:
 * the test deploys through the CLI, registers the MNIST model, stakes, commits a Final, a Pending, two
 * faulted commitments and a batch whose data URI is an HTML/script payload, wins one dispute to the
 * fraud proof and leaves another live, then starts `npm run explorer`'s command and checks what the page
 * shows: every commitment with its status (and how it became Final), the live dispute with its phase and
 * a ticking countdown, the proven neuron with its expected and claimed values and who was paid, the gas
 * chart, the search box; that the payload shows as text and runs nothing; and that the page logs no
 * console error and loads nothing but its own files. Screenshots go to test-output/explorer/.
 * Skipped, with a line saying why, when no Chromium is installed.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  JsonRpcProvider,
  MaxUint256,
  formatEther,
  id as hashOf,
  parseEther,
  type Interface,
  type JsonRpcSigner,
} from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";
import { quantizeInput, readModelFile, type DenseInt8Model } from "../../src/engine/index.js";
import { MNIST_INPUT_SCALE, splitMnist } from "../../src/engine/mnist.js";
import {
  ChallengerAgent,
  CommitmentStatus,
  Outcome,
  Phase,
  ProviderAgent,
  TraceStore,
  Verity,
  loadDeployment,
  type DisputeParams,
} from "../../src/sdk/index.js";
import { MockERC20__factory } from "../../typechain-types/index.js";
import { deployWithCli } from "../e2e/helpers/cli.js";
import { rpcCall } from "../e2e/helpers/node.js";
import { startChain, type ChainNode } from "../helpers/nodes.js";
import { CHROMIUM_ARGS, OUTPUT_DIR, ROOT, chromiumPath, startExplorer, type ExplorerProcess } from "./helpers.js";

const MODEL_FILE = "models/mnist-784-128-64-10.json";
/** A batch data URI that would run script if the page parsed chain strings as HTML. */
const PAYLOAD = `"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;
/** The fault of the commitment whose dispute is won: the page must show this layer and neuron. */
const WON_FAULT = { layer: 2, neuron: 5, delta: 3 };
const LIVE_FAULT = { layer: 1, neuron: 7, delta: 2 };
/** The files the page may load; anything else (an injected image, another origin) is a failure. */
const OWN_PATHS = new Set([
  "/",
  "/app.js",
  "/chain.js",
  "/chart.js",
  "/dom.js",
  "/protocol.js",
  "/style.css",
  "/favicon.svg",
  "/vendor/ethers.js",
  "/config.json",
  "/abi.json",
  "/bench.json",
  "/rpc",
]);

const executablePath = chromiumPath();
if (executablePath === undefined) {
  console.warn(
    `explorer browser test skipped: no Chromium at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"} ` +
      "(apt-get install chromium, or set CHROMIUM_PATH)",
  );
}

/** "4,900 VRT"-style amounts, as the page writes them (whole part grouped, no trailing zeros). */
function amountText(value: bigint): string {
  const [whole, fraction] = formatEther(value).split(".");
  const digits = /^0*$/.test(fraction ?? "") ? "" : `.${fraction.replace(/0+$/, "")}`;
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${digits}`;
}

(executablePath === undefined ? describe.skip : describe)("Explorer in Chromium against a hardhat node", function () {
  this.timeout(180_000);

  let node: ChainNode | undefined;
  let deploymentDir: string | undefined;
  let work: string | undefined;
  let rpc: JsonRpcProvider | undefined;
  let explorer: ExplorerProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let verity: Verity;
  let modelId: string;
  let providerAddress: string;
  let watcherAddress: string;
  const ids = { final: "", pending: "", won: "", live: "", xssBatch: "" };
  let wonDispute = "";
  let liveDispute = "";
  const problems: string[] = [];

  /** Shows a route and waits until the page rendered it. */
  async function show(hash: string): Promise<void> {
    await page.evaluate(`window.location.hash = ${JSON.stringify(hash)}`);
    await page.waitForSelector(`main[data-route="${hash}"]:not([data-state="loading"])`, { timeout: 20_000 });
    const state = await page.locator("main").getAttribute("data-state");
    if (state !== "ready") throw new Error(`${hash}: ${await page.locator("main").innerText()}`);
  }

  async function rowText(selector: string): Promise<string> {
    const row = page.locator(selector);
    expect(await row.count(), `${selector} is on the page`).to.equal(1);
    return (await row.innerText()).replace(/\s+/g, " ");
  }

  before(async function () {
    const started = Date.now();
    node = await startChain("hardhat");
    deploymentDir = await deployWithCli(node.url, `explorer-${randomBytes(6).toString("hex")}`);
    work = mkdtempSync(path.join(os.tmpdir(), "verity-explorer-"));
    rpc = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
    const addresses = loadDeployment(31337n, deploymentDir);
    const signer = (i: number): Promise<JsonRpcSigner> => rpc!.getSigner(i);
    const [admin, publisher, providerSigner, watcher] = await Promise.all([0, 1, 2, 4].map(signer));
    providerAddress = providerSigner.address;
    watcherAddress = watcher.address;
    verity = await Verity.connect({ runner: admin, addresses });
    const model: DenseInt8Model = await readModelFile(path.join(ROOT, MODEL_FILE));

    const token = MockERC20__factory.connect(addresses.token, admin);
    for (const s of [providerSigner, watcher]) await (await token.mint(s.address, parseEther("100000"))).wait();
    await (await token.connect(watcher).approve(addresses.stakeManager, MaxUint256)).wait();
    modelId = await (await verity.connect(publisher).registry.registerModel(model, { metadataURI: MODEL_FILE })).wait();
    const provider = new ProviderAgent(
      verity.connect(providerSigner),
      model,
      new TraceStore(path.join(work, "traces")),
      modelId,
    );
    await (await provider.verity.staking.deposit(parseEther("5000"))).wait();
    const inputs = splitMnist()
      .test.slice(0, 4)
      .map((d) => quantizeInput(d.pixels, MNIST_INPUT_SCALE));

    // One commitment whose window has passed (Final), then the rest inside their window.
    ids.final = (await provider.commit(inputs[0])).id;
    const window = Number((await verity.registry.get(modelId)).policy.challengeWindow);
    await rpcCall(node.url, "evm_increaseTime", [window + 1]);
    await rpcCall(node.url, "evm_mine");
    ids.pending = (await provider.commit(inputs[1])).id;
    ids.won = (await provider.commit(inputs[2], WON_FAULT)).id;
    ids.live = (await provider.commit(inputs[3], LIVE_FAULT)).id;
    ids.xssBatch = await (
      await provider.verity.ledger.commitBatch({ modelId, root: hashOf("explorer xss"), count: 1, dataURI: PAYLOAD })
    ).wait();

    // The watcher re-executes both faulted commitments and disputes them; one game is played to the end.
    const challenger = new ChallengerAgent(verity.connect(watcher), [model], [modelId]);
    const events = await challenger.verity.ledger.scan(0, await rpc.getBlockNumber());
    const openOn = async (id: string): Promise<{ disputeId: string; params: DisputeParams }> => {
      const findings = await challenger.verify(events.find((e) => e.id === id)!);
      expect(findings, `findings on ${id}`).to.have.length(1);
      const params = await challenger.open(findings[0]);
      return { disputeId: await verity.disputes.idOf(params), params };
    };
    const won = await openOn(ids.won);
    wonDispute = won.disputeId;
    for (let round = 0; round < 8; round++) {
      await provider.answer(won.disputeId, won.params);
      await challenger.advance(won.disputeId, won.params);
      if ((await verity.disputes.game(won.disputeId)).phase === Phase.Resolved) break;
    }
    expect((await verity.disputes.game(won.disputeId)).outcome).to.equal(Outcome.ChallengerWon);
    const live = await openOn(ids.live);
    liveDispute = live.disputeId;
    expect(await provider.answer(live.disputeId, live.params)).to.equal("revealTrace");
    expect((await verity.disputes.game(live.disputeId)).phase).to.equal(Phase.AwaitingLayerSelection);

    expect(await verity.ledger.status(ids.final)).to.equal(CommitmentStatus.Final);
    expect(await verity.ledger.status(ids.pending)).to.equal(CommitmentStatus.Pending);
    expect(await verity.ledger.status(ids.won)).to.equal(CommitmentStatus.Overturned);
    expect(await verity.ledger.status(ids.live)).to.equal(CommitmentStatus.Disputed);

    explorer = await startExplorer(["--rpc", node.url, "--deployment", deploymentDir, "--port", "0"]);
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    const origin = new URL(explorer.url).origin;
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.origin !== origin || !OWN_PATHS.has(url.pathname)) problems.push(`unexpected request: ${r.url()}`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.goto(explorer.url);
    await page.waitForSelector('main[data-state="ready"]', { timeout: 30_000 });
    console.log(`      (set up in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });

  after(async function () {
    await browser?.close();
    const code = await explorer?.stop();
    rpc?.destroy();
    await node?.stop();
    if (deploymentDir !== undefined) rmSync(deploymentDir, { recursive: true, force: true });
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    if (explorer !== undefined) expect(code, `the explorer did not stop cleanly:\n${explorer.output()}`).to.equal(0);
  });

  it("lists the model, the provider's stake and every commitment with its status and how it became final", async function () {
    const model = await rowText(`#models tr[data-model="${modelId.toLowerCase()}"]`);
    expect(model).to.include("v1").and.include("Active").and.include(MODEL_FILE);
    const stake = await verity.staking.stakeOf(providerAddress);
    expect(stake.active < parseEther("5000"), "the provider was slashed").to.equal(true);
    const provider = await rowText(`#providers tr[data-provider="${providerAddress.toLowerCase()}"]`);
    expect(provider).to.include(amountText(stake.active));
    expect(provider).to.include(amountText(parseEther("5000") - stake.active)); // slashed

    const expected: [string, string][] = [
      [ids.final, "Final (challenge window passed)"],
      [ids.pending, "Pending"],
      [ids.won, "Overturned"],
      [ids.live, "Disputed"],
      [ids.xssBatch, "Pending"],
    ];
    for (const [id, status] of expected) {
      const row = await rowText(`#commitments tr[data-commitment="${id.toLowerCase()}"]`);
      expect(row, id).to.include(status);
    }
    expect(await rowText(`#commitments tr[data-commitment="${ids.pending.toLowerCase()}"]`)).to.include(
      "the input itself (784 bytes, public)",
    );
    await page.screenshot({ path: path.join(OUTPUT_DIR, "overview.png"), fullPage: true });
  });

  it("shows the batch's HTML/script data URI as text and runs none of it", async function () {
    expect(await page.evaluate("typeof window.__xss")).to.equal("undefined");
    const cell = page.locator(`#commitments tr[data-commitment="${ids.xssBatch.toLowerCase()}"] .uri`);
    expect(await cell.textContent()).to.equal(PAYLOAD);
    await show(`#/commitment/${ids.xssBatch.toLowerCase()}`);
    expect(await page.locator('[data-field="dataURI"]').textContent()).to.equal(PAYLOAD);
    expect(await page.locator('[data-field="dataURI"]').isVisible()).to.equal(true);
    expect(await page.locator("main img, main script").count(), "an element was made from chain data").to.equal(0);
    expect(await page.evaluate("typeof window.__xss")).to.equal("undefined");
  });

  it("would catch the payload if it were parsed as HTML (the check above can fail)", async function () {
    // The same assertions on a scratch page that renders the payload with innerHTML, as a careless page would.
    const scratch = await page.context().newPage();
    try {
      await scratch.setContent('<div id="cell"></div>');
      await scratch.evaluate(`document.getElementById("cell").innerHTML = ${JSON.stringify(PAYLOAD)}`);
      await scratch.waitForFunction("window.__xss !== undefined", undefined, { timeout: 5_000 });
      expect(await scratch.locator("#cell").textContent()).to.not.equal(PAYLOAD);
      expect(await scratch.locator("#cell img, #cell script").count()).to.be.above(0);
    } finally {
      await scratch.close();
    }
  });

  it("shows how a Final commitment became final", async function () {
    await show(`#/commitment/${ids.final.toLowerCase()}`);
    expect(await page.locator("#status").innerText()).to.equal("Final (challenge window passed)");
    await show(`#/commitment/${ids.won.toLowerCase()}`);
    expect(await page.locator("#status").innerText()).to.equal("Overturned");
    expect(await rowText(`#disputes tr:has(a[data-id="${wonDispute.toLowerCase()}"])`)).to.include("ChallengerWon");
  });

  it("lists the live dispute with its phase, the party to move and a deadline countdown that ticks", async function () {
    await show("#/");
    const row = await rowText(`#live-disputes tr[data-dispute="${liveDispute.toLowerCase()}"]`);
    expect(row)
      .to.include("AwaitingLayerSelection")
      .and.include("challenger")
      .and.match(/\d+ min( \d+ s)? left/);
    expect(await page.locator(`#live-disputes tr[data-dispute="${wonDispute.toLowerCase()}"]`).count()).to.equal(0);
    expect(await rowText(`#resolved-disputes tr[data-dispute="${wonDispute.toLowerCase()}"]`)).to.include(
      "ChallengerWon",
    );

    await show(`#/dispute/${liveDispute.toLowerCase()}`);
    expect(await page.locator("#phase").innerText()).to.equal("AwaitingLayerSelection");
    const countdown = page.locator("span.countdown");
    const before = await countdown.innerText();
    expect(before).to.match(/^\d+ min( \d+ s)? left$/);
    await page.locator("span.countdown").filter({ hasNotText: before }).waitFor({ timeout: 5_000 });
    const moves = await page
      .locator("#moves tr[data-event]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-event")));
    expect(moves).to.deep.equal(["DisputeOpened", "TraceRevealed"]);
  });

  it("shows the fraud proof of the won game: layer, neuron, expected and claimed values, who was paid", async function () {
    const game = verity.disputes.contract;
    const [proven] = await game.queryFilter(game.filters.FraudProven(wonDispute));
    const [paid] = await game.queryFilter(game.filters.RewardPaid(wonDispute));
    expect(Number(proven.args.layer)).to.equal(WON_FAULT.layer);
    expect(Number(proven.args.neuron)).to.equal(WON_FAULT.neuron);

    await show(`#/dispute/${wonDispute.toLowerCase()}`);
    const field = (name: string) => page.locator(`#fraud-proof [data-field="${name}"]`).innerText();
    expect(await field("layer")).to.equal(String(WON_FAULT.layer));
    expect(await field("neuron")).to.equal(String(WON_FAULT.neuron));
    expect(await field("expected")).to.equal(String(proven.args.expected));
    expect(await field("claimed")).to.equal(String(proven.args.claimed));
    expect(proven.args.expected).to.not.equal(proven.args.claimed);
    const reward = await page.locator('[data-field="paid"]').innerText();
    expect(reward).to.include(amountText(paid.args.amount)).and.include(watcherAddress);
    expect(await page.locator("#phase").innerText()).to.equal("Resolved");

    // Every event of the game, in chain order, straight from the node.
    const iface: Interface = game.interface;
    const names = ["DisputeOpened", "InputRevealed", "DisputeContinued", "TraceRevealed", "LayerSelected"];
    names.push("LayerRevealed", "FraudProven", "DisputeResolved", "RewardPaid");
    const logs = await rpc!.getLogs({
      address: await game.getAddress(),
      topics: [names.map((n) => iface.getEvent(n)!.topicHash), wonDispute],
      fromBlock: 0,
    });
    const onChain = logs.map((l) => iface.parseLog(l)!.name);
    expect(onChain).to.include("FraudProven");
    const moves = await page
      .locator("#moves tr[data-event]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-event")));
    expect(moves).to.deep.equal(onChain);
    await page.screenshot({ path: path.join(OUTPUT_DIR, "dispute.png"), fullPage: true });
  });

  it("finds a dispute by id from the search box, and says so when an id is unknown", async function () {
    await show("#/");
    await page.fill("#search-id", wonDispute);
    await page.click('#search button[type="submit"]');
    await page.waitForSelector(`main[data-route="#/dispute/${wonDispute.toLowerCase()}"][data-state="ready"]`);
    await page.fill("#search-id", ids.xssBatch.toUpperCase().replace("0X", "0x"));
    await page.click('#search button[type="submit"]');
    await page.waitForSelector(`main[data-route="#/commitment/${ids.xssBatch.toLowerCase()}"][data-state="ready"]`);
    await page.fill("#search-id", hashOf("nothing has this id"));
    await page.click('#search button[type="submit"]');
    await page.locator("#search-message").filter({ hasText: /./ }).waitFor();
    expect(await page.locator("#search-message").innerText()).to.equal(
      "No commitment, batch, dispute or model has this id.",
    );
  });

  it("draws the gas chart from bench/results.json", async function () {
    const bench = JSON.parse(readFileSync(path.join(ROOT, "bench", "results.json"), "utf8")) as {
      gas: Record<string, number>;
    };
    await show("#/gas");
    const bars = await page
      .locator("svg.chart rect.bar")
      .evaluateAll((rects) => rects.map((r) => [r.getAttribute("data-metric"), Number(r.getAttribute("data-value"))]));
    expect(Object.fromEntries(bars)).to.deep.equal(bench.gas);
    expect(await page.locator('#gas-chart rect[data-metric="commit"]').count()).to.equal(1);
    await page.screenshot({ path: path.join(OUTPUT_DIR, "gas.png"), fullPage: true });
  });

  it("logged no console error and loaded nothing but its own files", function () {
    expect(problems).to.deep.equal([]);
  });
});

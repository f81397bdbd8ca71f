/**
 * An ONNX model end to end on a real `hardhat node`, through the CLI as a user runs it: a small MLP
 * trained here is exported to ONNX, `verity model import` quantizes it, `verity model register` registers
 * it, the provider commits two inferences of it with `verity commit` (one honest, one with an altered
 * neuron), and a challenger (the SDK's ChallengerAgent, as the watchtower runs it) re-executes both,
 * disputes only the wrong one and proves the fraud against the provider's answers from its traces.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, MaxUint256, parseEther } from "ethers";
import { quantizeInput, readModelFile } from "../../src/engine/index.js";
import { exportOnnx } from "../../src/sdk/onnx/index.js";
import {
  ChallengerAgent,
  CommitmentStatus,
  Outcome,
  ProviderAgent,
  TraceStore,
  Verity,
  loadDeployment,
} from "../../src/sdk/index.js";
import { MockERC20__factory } from "../../typechain-types/index.js";
import { deployWithCli, verity, type GlobalFlags } from "./helpers/cli.js";
import { startChain, type ChainNode } from "../helpers/nodes.js";
import { mnist, smallMlp } from "../onnx/helpers.js";

describe("An imported ONNX model end to end on hardhat node: import, register, commit, dispute", function () {
  this.timeout(120_000);

  let node: ChainNode | undefined;
  let deploymentDir: string | undefined;
  let work = "";
  let rpc: JsonRpcProvider | undefined;

  before(async function () {
    node = await startChain("hardhat");
    work = mkdtempSync(path.join(os.tmpdir(), "verity-onnx-e2e-"));
    deploymentDir = await deployWithCli(node.url, `onnx-${randomBytes(6).toString("hex")}`);
  });

  after(async function () {
    rpc?.destroy();
    await node?.stop();
    if (deploymentDir !== undefined) rmSync(deploymentDir, { recursive: true, force: true });
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("catches a wrong output of the imported model and slashes its provider", async () => {
    const flags = (account?: number): GlobalFlags => ({ rpc: node!.url, deployment: deploymentDir, account });
    const json = async <T = any>(account: number | undefined, command: string[]): Promise<T> =>
      JSON.parse((await verity(flags(account), ["--json", ...command])).stdout) as T;

    const onnxFile = path.join(work, "small.onnx");
    const calibrationFile = path.join(work, "calibration.json");
    const modelFile = path.join(work, "small.json");
    writeFileSync(onnxFile, exportOnnx(smallMlp(), { producer: "pytorch" }));
    writeFileSync(
      calibrationFile,
      JSON.stringify(
        mnist()
          .train.slice(0, 200)
          .map((d) => Array.from(d.pixels)),
      ),
    );
    const imported = await json(undefined, [
      "model",
      "import",
      onnxFile,
      "--calibration",
      calibrationFile,
      "-o",
      modelFile,
    ]);
    expect(imported.layers).to.have.length(2);
    const model = await readModelFile(modelFile);

    const registered = await json(2, ["model", "register", modelFile, "--challenge-window", "600"]);
    const modelId: string = registered.modelId;
    expect(modelId).to.match(/^0x[0-9a-f]{64}$/);
    await json(undefined, ["token", "mint", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "1000"]);
    await json(1, ["stake", "deposit", "200"]);

    // Two held-out digits as the imported model takes them; the second is committed with neuron 3 of layer 1 + 5.
    const traces = path.join(work, "traces");
    const inputFiles = mnist()
      .test.slice(0, 2)
      .map((d, i) => {
        const file = path.join(work, `input-${i}.json`);
        writeFileSync(file, JSON.stringify(Array.from(quantizeInput(d.pixels, imported.inputScale))));
        return file;
      });
    const committed = await json(1, ["commit", modelFile, ...inputFiles, "--trace-dir", traces, "--fault", "1@1:3:5"]);
    expect(committed.commitments).to.have.length(2);
    const [honestId, wrongId] = committed.commitments.map((c: { id: string }) => c.id);

    rpc = new JsonRpcProvider(node!.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const addresses = loadDeployment(31337n, deploymentDir!);
    const [admin, providerSigner, , challengerSigner] = await Promise.all([0, 1, 2, 3].map((i) => rpc!.getSigner(i)));
    const token = MockERC20__factory.connect(addresses.token, admin);
    await (await token.mint(challengerSigner.address, parseEther("1000"))).wait();
    await (await token.connect(challengerSigner).approve(addresses.stakeManager, MaxUint256)).wait();
    const base = await Verity.connect({ runner: admin, addresses });
    const challengerVerity = base.connect(challengerSigner);
    const challenger = await ChallengerAgent.create(challengerVerity, [model]);
    const provider = new ProviderAgent(base.connect(providerSigner), model, new TraceStore(traces), modelId);

    const head = await rpc.getBlockNumber();
    const events = (await challengerVerity.ledger.scan(0, head)).filter((e) => e.id === honestId || e.id === wrongId);
    expect(events).to.have.length(2);
    const findings = (await Promise.all(events.map((e) => challenger.verify(e)))).flat();
    expect(findings.map((f) => f.kind === "single" && f.id)).to.deep.equal([wrongId]);

    const params = await challenger.open(findings[0]);
    const disputeId = await challengerVerity.disputes.idOf(params);
    const stakeBefore = (await base.staking.stakeOf(providerSigner.address)).active;
    expect(await provider.answer(disputeId, params)).to.equal("revealTrace");
    expect(await challenger.advance(disputeId, params)).to.equal("selectLayer");
    expect(await provider.answer(disputeId, params)).to.equal("revealLayer");
    expect(await challenger.advance(disputeId, params)).to.equal("proveNeuron");
    const game = await challengerVerity.disputes.game(disputeId);
    expect(game.outcome).to.equal(Outcome.ChallengerWon);
    expect(game.layer).to.equal(1);
    expect(await base.ledger.status(wrongId)).to.equal(CommitmentStatus.Overturned);
    expect(await base.ledger.status(honestId)).to.equal(CommitmentStatus.Pending);
    expect((await base.staking.stakeOf(providerSigner.address)).active).to.equal(stakeBefore - parseEther("50"));
  });
});

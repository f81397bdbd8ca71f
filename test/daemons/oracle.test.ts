import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { vectorToHex } from "../../src/engine/index.js";
import { ProviderDaemon } from "../../src/daemons/provider.js";
import { Watchtower } from "../../src/daemons/watchtower.js";
import { Accept, CommitmentStatus, Outcome, RequestStatus } from "../../src/sdk/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { daemonSetup, recordingLog } from "./helpers.js";

const connection = await network.connect();
const { ethers, networkHelpers } = connection;

describe("Oracle requests: the provider daemon answers them, the watchtower follows the answers", () => {
  it("answers requests for its model, loses a wrong answer to the watchtower, reopens and answers it again, settles and withdraws", async () => {
    const f = await daemonSetup(connection);
    const requester = f.signers[8];
    await f.token.mint(requester.address, ethers.parseEther("100"));
    const asRequester = await f.as(requester);
    const consumer = await ethers.deployContract("RecordingConsumer");
    const fee = ethers.parseEther("2");
    const now = BigInt(await networkHelpers.time.latest());
    const deadline = now + BigInt(Number(f.policy.challengeWindow) + 6 * Number(f.policy.responseWindow) + 3_600);
    const ask = async (seed: number) =>
      (
        await asRequester.oracle.request({
          modelId: f.modelId,
          input: vectorToHex(pseudoDigit(seed)),
          fee,
          consumer: await consumer.getAddress(),
          callbackGasLimit: 100_000,
          deadline,
          accepts: Accept.Window,
        })
      ).wait();
    const honest = await ask(1);
    const cheated = await ask(2);

    const cheatOnce = new Set([cheated.requestId]);
    const providerLog = recordingLog();
    const daemon = new ProviderDaemon({
      agent: f.provider,
      dataDir: path.join(f.work, "pd"),
      log: providerLog.log,
      fulfill: { fault: (id) => (cheatOnce.delete(id) ? { layer: 2, neuron: 4 } : undefined) },
    });
    const watchLog = recordingLog();
    const watchtower = new Watchtower({
      verity: f.watcherVerity,
      challenger: f.challenger,
      dataDir: path.join(f.work, "wt"),
      log: watchLog.log,
    });
    await daemon.init();
    await watchtower.init();
    try {
      await daemon.tick(); // answers both, one wrongly
      const requests = daemon.snapshot().requests!;
      expect(requests[honest.requestId].status).to.equal("answered");
      expect(requests[cheated.requestId].status).to.equal("answered");
      const wrongId = requests[cheated.requestId].commitmentId!;

      // The watchtower reads the input from the request's event and disputes the wrong answer only.
      for (let i = 0; i < 8; i++) {
        await watchtower.tick();
        await daemon.tick();
        const games = Object.values(watchtower.snapshot().games);
        if (games.length > 0 && games.every((g) => g.resolved)) break;
      }
      const games = Object.values(watchtower.snapshot().games);
      expect(games.map((g) => g.targetKey)).to.deep.equal([wrongId.toLowerCase()]);
      expect(games[0].outcome).to.equal(Outcome.ChallengerWon);
      expect(await f.ledger.status(wrongId)).to.equal(CommitmentStatus.Overturned);

      // The daemon saw its answer overturned, reopened the request (the requester is compensated) and answered again.
      await daemon.tick();
      const again = daemon.snapshot().requests![cheated.requestId];
      expect(again.status).to.equal("answered");
      expect(again.commitmentId).to.not.equal(wrongId);
      expect(await f.stakeManager.creditOf(requester.address)).to.equal((f.policy.slashAmount * 2_000n) / 10_000n);
      expect(providerLog.lines.some((l) => l.includes(`reopened after the overturn of ${wrongId}`))).to.equal(true);

      // Past the windows, the daemon settles both and withdraws the fees.
      await networkHelpers.time.increase(Number(f.policy.challengeWindow) + 1);
      const providerAddress = f.signers[2].address; // the agent's signer
      const balance = await f.token.balanceOf(providerAddress);
      await daemon.tick();
      for (const { requestId } of [honest, cheated]) {
        expect(daemon.snapshot().requests![requestId].status).to.equal("settled");
        const state = await f.oracle.stateOf(requestId);
        expect(RequestStatus[Number(state.status)]).to.equal("Settled");
        expect(await consumer.calls(requestId, 2)).to.equal(1n); // one Final callback each
      }
      expect(await f.oracle.creditOf(providerAddress)).to.equal(0n);
      expect(await f.token.balanceOf(providerAddress)).to.equal(balance + 2n * fee);
      expect(await f.token.balanceOf(await f.oracle.getAddress())).to.equal(await f.oracle.totalOwed());
    } finally {
      daemon.close();
      watchtower.close();
    }
  });
});

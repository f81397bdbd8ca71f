import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash, id, keccak256 } from "ethers";
import { vectorToHex } from "../../src/engine/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { fraudProof, freshNonce, passChallengeWindow, playToProof, shareOf, type Game } from "../disputes/helpers.js";
import { paramsFrom } from "../helpers/disputeFixture.js";
import { CommitmentStatus, Finality } from "../core/coreFixtures.js";
import {
  ACCEPT,
  HARMED_SHARE_BPS,
  RequestStatus,
  ResultStatus,
  answer,
  deployOracle,
  expectConserved,
  makeRequest,
  requestIdOf,
  settlingTime,
  type Answer,
  type OracleFixture,
} from "./helpers.js";

const connection = await network.connect();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

const fixture = () => deployOracle(connection);
const FEE = ethers.parseEther("2");

/** Plays and wins a dispute against `a` (a wrong answer): returns the game. */
async function overturn(f: OracleFixture, a: Answer): Promise<Game> {
  const tx = await f.disputeGame.connect(f.challenger).openDispute(a.key, false, freshNonce());
  const params = await paramsFrom(f.disputeGame, tx);
  const g: Game = { params, id: await f.disputeGame.disputeIdOf(params), c: a.c, challenger: f.challenger, tx };
  const layer = await playToProof(f, g);
  await f.disputeGame.connect(f.challenger).proveNeuron(g.params, fraudProof(f, g, layer));
  return g;
}

describe("InferenceOracle", function () {
  describe("request", function () {
    it("escrows the fee, puts the input in the event and keeps one slot of state", async function () {
      const f = await loadFixture(fixture);
      const before = await f.token.balanceOf(f.requester.address);
      const made = await makeRequest(connection, f, { seed: 3 });
      const r = made.request;
      expect(made.requestId).to.equal(requestIdOf(f.oracleAddress, r));
      expect(await f.oracle.requestIdOf(r)).to.equal(made.requestId);
      expect(r.inputHash).to.equal(keccak256(vectorToHex(made.input)));
      expect(r.requester).to.equal(f.requester.address);
      expect(r.outputLength).to.equal(10n);
      expect(r.nonce).to.equal(0n);
      expect(r.fulfillBy).to.equal(r.deadline - BigInt(settlingTime(f)));
      await expect(made.tx)
        .to.emit(f.oracle, "InferenceRequested")
        .withArgs(made.requestId, f.modelId, f.requester.address, Object.values(r), vectorToHex(made.input));
      expect(await f.token.balanceOf(f.requester.address)).to.equal(before - FEE);
      const state = await f.oracle.stateOf(made.requestId);
      expect(state.status).to.equal(RequestStatus.Open);
      expect(state.commitment).to.equal("0x" + "00".repeat(20));
      expect(await f.oracle.requestCount()).to.equal(1n);
      await expectConserved(f, [], FEE);
    });

    it("gives the same question asked twice two requests", async function () {
      const f = await loadFixture(fixture);
      const a = await makeRequest(connection, f, { seed: 3 });
      const b = await makeRequest(connection, f, { seed: 3 });
      expect(a.requestId).to.not.equal(b.requestId);
      expect(b.request.nonce).to.equal(1n);
      await expectConserved(f, [], 2n * FEE);
    });

    it("refuses a deadline that leaves no time to settle, at the exact boundary", async function () {
      const f = await loadFixture(fixture);
      const settling = BigInt(settlingTime(f));
      // The next block is one second later: earliest = that time + settling + 1.
      const next = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(next);
      await expect(makeRequest(connection, f, { deadline: next + settling }))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleDeadlineTooSoon")
        .withArgs(next + settling, next + settling + 1n);
      await time.setNextBlockTimestamp(next + 1n);
      const made = await makeRequest(connection, f, { deadline: next + 1n + settling + 1n });
      expect(made.request.fulfillBy).to.equal(next + 2n);
    });

    it("refuses bad requests with named errors and changes nothing", async function () {
      const f = await loadFixture(fixture);
      const o = f.oracle.connect(f.requester);
      const input = vectorToHex(pseudoDigit(1));
      const now = BigInt(await time.latest());
      const ok = now + BigInt(settlingTime(f) + 3600);
      const consumer = await f.consumer.getAddress();
      const balance = await f.token.balanceOf(f.requester.address);
      await expect(o.request(f.modelId, input, 0, consumer, 1, ok, ACCEPT.ANY, false)).to.be.revertedWithCustomError(
        f.oracle,
        "InferenceOracleZeroFee",
      );
      for (const accepts of [0, 1, 16, 15]) {
        await expect(o.request(f.modelId, input, FEE, consumer, 1, ok, accepts, false))
          .to.be.revertedWithCustomError(f.oracle, "InferenceOracleInvalidFinality")
          .withArgs(accepts);
      }
      await expect(o.request(f.modelId, input, FEE, consumer, 5_000_001, ok, ACCEPT.ANY, false))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleCallbackGasTooHigh")
        .withArgs(5_000_001, 5_000_000);
      await expect(o.request(ZeroHash, input, FEE, consumer, 1, ok, ACCEPT.ANY, false))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleModelNotAccepting")
        .withArgs(ZeroHash);
      await expect(o.request(f.modelId, input.slice(0, -2), FEE, consumer, 1, ok, ACCEPT.ANY, false))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleInputLength")
        .withArgs(784, 783);
      const far = now + 366n * 86_400n;
      await expect(o.request(f.modelId, input, FEE, consumer, 1, far, ACCEPT.ANY, false)).to.be.revertedWithCustomError(
        f.oracle,
        "InferenceOracleDeadlineTooFar",
      );
      await f.registry.connect(f.publisher).revokeModel(f.modelId);
      await expect(o.request(f.modelId, input, FEE, consumer, 1, ok, ACCEPT.ANY, false))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleModelNotAccepting")
        .withArgs(f.modelId);
      expect(await f.token.balanceOf(f.requester.address)).to.equal(balance);
      expect(await f.oracle.requestCount()).to.equal(0n);
      await expectConserved(f, [], 0n);
    });
  });

  describe("fulfill", function () {
    it("commits an answer bound to the request: the ledger record is the provider's, flagged as input-public", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f);
      const a = await answer(f, made);
      await expect(a.tx)
        .to.emit(f.ledger, "RequestCommitted")
        .withArgs(
          a.c.id,
          f.modelId,
          f.provider.address,
          made.requestId,
          Object.values(a.c.inference),
          made.requestId,
          ZeroAddress,
        );
      await expect(a.tx)
        .to.emit(f.oracle, "RequestFulfilled")
        .withArgs(
          made.requestId,
          a.c.id,
          f.provider.address,
          [f.provider.address, Object.values(a.c.inference), made.requestId],
          a.output,
        );
      const record = await f.ledger.recordOf(a.c.id);
      expect(record.provider).to.equal(f.provider.address);
      expect(record.flags & 4n).to.equal(4n); // INPUT_PUBLIC
      expect(record.flags & 128n).to.equal(128n); // REQUESTED
      expect(await f.ledger.commitmentIdOf(a.key)).to.equal(a.c.id);
      const state = await f.oracle.stateOf(made.requestId);
      expect(state.status).to.equal(RequestStatus.Fulfilled);
      expect(state.attempts).to.equal(1n);
      expect(state.commitment).to.equal(a.c.id.slice(0, 42));
      // The input is public: a game cannot demand it.
      await expect(f.disputeGame.connect(f.challenger).openDispute(a.key, true, freshNonce()))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameInputAlreadyPublic")
        .withArgs(a.c.id);
    });

    it("refuses bad answers with named errors and changes nothing", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f, { accepts: ACCEPT.ANY });
      const good = await (async () => {
        const { infer } = await import("../helpers/disputeFixture.js");
        return infer(f.model, made.input);
      })();
      const inference = { inputHash: good.inputHash, outputHash: good.outputHash, traceRoot: good.traceRoot };
      const output = vectorToHex(good.output);
      const o = f.oracle.connect(f.provider);
      const tampered = { ...made.request, fee: made.request.fee + 1n };
      await expect(o.fulfill(tampered, inference, output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleUnknownRequest")
        .withArgs(requestIdOf(f.oracleAddress, tampered));
      const otherInput = keccak256("0x01");
      await expect(o.fulfill(made.request, { ...inference, inputHash: otherInput }, output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleInputMismatch")
        .withArgs(made.request.inputHash, otherInput);
      await expect(o.fulfill(made.request, inference, output + "00"))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleOutputLength")
        .withArgs(10, 11);
      const wrong = "0x" + "01".repeat(10);
      await expect(o.fulfill(made.request, inference, wrong))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleOutputMismatch")
        .withArgs(inference.outputHash, keccak256(wrong));
      const unstaked = f.signers[9];
      await expect(f.oracle.connect(unstaked).fulfill(made.request, inference, output))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerInsufficientStake")
        .withArgs(unstaked.address, 0, f.policy.minStake);
      // Only the oracle records answers to requests.
      await expect(
        f.ledger.connect(f.provider).commitForRequest(f.provider.address, f.modelId, inference, made.requestId),
      )
        .to.be.revertedWithCustomError(f.ledger, "AccessControlUnauthorizedAccount")
        .withArgs(f.provider.address, id("verity.role.oracle"));
      expect((await f.oracle.stateOf(made.requestId)).status).to.equal(RequestStatus.Open);

      // A TEE-only request refuses an optimistic answer.
      const teeOnly = await makeRequest(connection, f, { accepts: ACCEPT.TEE });
      await expect(o.fulfill(teeOnly.request, inference, output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleFinalityNotAccepted")
        .withArgs(teeOnly.requestId, Finality.ChallengeWindow, ACCEPT.TEE);

      // After fulfillBy an answer might not be final by the deadline: refused.
      await time.increaseTo(made.request.fulfillBy + 1n);
      await expect(o.fulfill(made.request, inference, output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleFulfillmentClosed")
        .withArgs(made.requestId, made.request.fulfillBy);
    });

    it("takes one live answer at a time: a front-running answer wins the race, the second reverts cleanly", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f);
      await answer(f, made, { provider: f.provider2 });
      await expect(answer(f, made))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleWrongStatus")
        .withArgs(made.requestId, RequestStatus.Fulfilled);
    });
  });

  describe("settle", function () {
    it("settles by the window: pays the provider, calls the consumer once with Final and the output", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f);
      const a = await answer(f, made);
      await expect(f.oracle.settle(made.request, a.fulfillment, a.output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotSettleable")
        .withArgs(made.requestId, CommitmentStatus.Pending, Finality.None);
      await passChallengeWindow(connection, f, a.c.id);
      const tx = f.oracle.connect(f.watcher).settle(made.request, a.fulfillment, a.output);
      await expect(tx)
        .to.emit(f.oracle, "RequestSettled")
        .withArgs(made.requestId, a.c.id, f.provider.address, Finality.ChallengeWindow, keccak256(a.output), FEE);
      await expect(tx)
        .to.emit(f.oracle, "CallbackResult")
        .withArgs(made.requestId, await f.consumer.getAddress(), ResultStatus.Final, true);
      expect(await f.consumer.calls(made.requestId, ResultStatus.Final)).to.equal(1n);
      expect(await f.consumer.lastOutput(made.requestId)).to.equal(a.output);
      expect(await f.oracle.resultOf(made.requestId)).to.equal(keccak256(a.output));
      const state = await f.oracle.stateOf(made.requestId);
      expect(state.status).to.equal(RequestStatus.Settled);
      expect(state.finality).to.equal(Finality.ChallengeWindow);
      expect(await f.oracle.creditOf(f.provider.address)).to.equal(FEE);
      await expectConserved(f, [f.provider.address], 0n);
      await expect(f.oracle.settle(made.request, a.fulfillment, a.output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleWrongStatus")
        .withArgs(made.requestId, RequestStatus.Settled);
      // Pull payment.
      const before = await f.token.balanceOf(f.provider.address);
      await expect(f.oracle.connect(f.provider).withdraw())
        .to.emit(f.oracle, "Withdrawn")
        .withArgs(f.provider.address, FEE);
      expect(await f.token.balanceOf(f.provider.address)).to.equal(before + FEE);
      await expect(f.oracle.connect(f.provider).withdraw())
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNoCredit")
        .withArgs(f.provider.address);
      await expectConserved(f, [f.provider.address], 0n);
    });

    it("refuses a fulfillment that is not the live answer, and an output that is not its output", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f);
      const a = await answer(f, made);
      await passChallengeWindow(connection, f, a.c.id);
      const other = { ...a.fulfillment, provider: f.provider2.address };
      await expect(f.oracle.settle(made.request, other, a.output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleWrongFulfillment")
        .withArgs(made.requestId, await f.oracle.commitmentIdOf(made.request, other));
      const wrong = "0x" + "02".repeat(10);
      await expect(f.oracle.settle(made.request, a.fulfillment, wrong))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleOutputMismatch")
        .withArgs(a.c.inference.outputHash, keccak256(wrong));
      const open = await makeRequest(connection, f, { seed: 9 });
      await expect(f.oracle.settle(open.request, a.fulfillment, a.output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleWrongStatus")
        .withArgs(open.requestId, RequestStatus.Open);
    });

    it("never calls back Final while a dispute is open", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f);
      const a = await answer(f, made);
      await f.disputeGame.connect(f.challenger).openDispute(a.key, false, freshNonce());
      await passChallengeWindow(connection, f, a.c.id);
      await expect(f.oracle.settle(made.request, a.fulfillment, a.output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotSettleable")
        .withArgs(made.requestId, CommitmentStatus.Disputed, Finality.None);
      await expect(f.oracle.reopen(made.request, a.fulfillment))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotReopenable")
        .withArgs(made.requestId, CommitmentStatus.Disputed, Finality.None);
    });
  });

  describe("overturned answers", function () {
    it("reopens after an overturn, compensates the requester, and delivers only the honest answer as final", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f, { provisional: true });
      const wrong = await answer(f, made, { fault: { layer: 3, neuron: 2, delta: 5 } });
      expect(await f.consumer.calls(made.requestId, ResultStatus.Provisional)).to.equal(1n);
      await expect(f.oracle.reopen(made.request, wrong.fulfillment))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotReopenable")
        .withArgs(made.requestId, CommitmentStatus.Pending, Finality.None);
      await overturn(f, wrong);
      expect(await f.ledger.status(wrong.c.id)).to.equal(CommitmentStatus.Overturned);
      const compensation = shareOf(f.policy.slashAmount, HARMED_SHARE_BPS);
      expect(await f.stakeManager.compensationOf(wrong.c.id)).to.equal(compensation);
      await expect(f.oracle.settle(made.request, wrong.fulfillment, wrong.output))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotSettleable")
        .withArgs(made.requestId, CommitmentStatus.Overturned, Finality.None);

      const creditBefore = await f.stakeManager.creditOf(f.requester.address);
      await expect(f.oracle.connect(f.watcher).reopen(made.request, wrong.fulfillment))
        .to.emit(f.oracle, "RequestReopened")
        .withArgs(made.requestId, wrong.c.id, CommitmentStatus.Overturned, compensation);
      expect(await f.stakeManager.creditOf(f.requester.address)).to.equal(creditBefore + compensation);
      expect(await f.stakeManager.compensationOf(wrong.c.id)).to.equal(0n);
      expect(await f.stakeManager.totalCompensations()).to.equal(0n);
      expect((await f.oracle.stateOf(made.requestId)).status).to.equal(RequestStatus.Open);
      await expectConserved(f, [], FEE);

      const honest = await answer(f, made, { provider: f.provider2 });
      expect((await f.oracle.stateOf(made.requestId)).attempts).to.equal(2n);
      await passChallengeWindow(connection, f, honest.c.id);
      await f.oracle.settle(made.request, honest.fulfillment, honest.output);
      expect(await f.consumer.calls(made.requestId, ResultStatus.Final)).to.equal(1n);
      expect(await f.consumer.calls(made.requestId, ResultStatus.Provisional)).to.equal(2n);
      expect(await f.consumer.lastOutput(made.requestId)).to.equal(honest.output);
      expect(await f.oracle.creditOf(f.provider2.address)).to.equal(FEE);
      expect(await f.oracle.creditOf(f.provider.address)).to.equal(0n);
      await expectConserved(f, [f.provider.address, f.provider2.address, f.requester.address], 0n);
      // The stake manager still holds exactly what it owes.
      expect(await f.token.balanceOf(await f.stakeManager.getAddress())).to.equal(await f.stakeManager.totalOwed());
    });

    it("a requester that answers its own request wrongly loses the slash less its compensation", async function () {
      const f = await loadFixture(fixture);
      // The requester is the provider: it front-runs everyone with a wrong answer to its own question.
      const made = await makeRequest(connection, f, { requester: f.provider });
      const wrong = await answer(f, made, { fault: { layer: 1, neuron: 0 } });
      const worth = async () =>
        (await f.stakeManager.stakeOf(f.provider.address)).active + (await f.stakeManager.creditOf(f.provider.address));
      const before = await worth();
      await overturn(f, wrong);
      await f.oracle.reopen(made.request, wrong.fulfillment);
      const loss = before - (await worth());
      expect(loss).to.equal(f.policy.slashAmount - shareOf(f.policy.slashAmount, HARMED_SHARE_BPS));
    });
  });

  describe("expiry", function () {
    it("refunds an unanswered request after its deadline and tells the consumer once", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f);
      await expect(f.oracle.refundExpired(made.request))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotExpired")
        .withArgs(made.requestId, made.request.deadline);
      await time.increaseTo(made.request.deadline + 1n);
      const tx = f.oracle.connect(f.watcher).refundExpired(made.request);
      await expect(tx).to.emit(f.oracle, "RequestRefunded").withArgs(made.requestId, f.requester.address, FEE);
      await expect(tx)
        .to.emit(f.oracle, "CallbackResult")
        .withArgs(made.requestId, await f.consumer.getAddress(), ResultStatus.Expired, true);
      expect(await f.consumer.calls(made.requestId, ResultStatus.Expired)).to.equal(1n);
      expect(await f.consumer.lastOutput(made.requestId)).to.equal("0x");
      expect(await f.oracle.creditOf(f.requester.address)).to.equal(FEE);
      await expect(f.oracle.refundExpired(made.request))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleWrongStatus")
        .withArgs(made.requestId, RequestStatus.Refunded);
      await expectConserved(f, [f.requester.address], 0n);
    });

    it("an honest answer given in time always settles, even after the deadline", async function () {
      const f = await loadFixture(fixture);
      const made = await makeRequest(connection, f);
      await time.setNextBlockTimestamp(made.request.fulfillBy); // the last second an answer is accepted
      const a = await answer(f, made);
      await time.increaseTo(made.request.deadline + 1n);
      await expect(f.oracle.refundExpired(made.request))
        .to.be.revertedWithCustomError(f.oracle, "InferenceOracleWrongStatus")
        .withArgs(made.requestId, RequestStatus.Fulfilled);
      await f.oracle.settle(made.request, a.fulfillment, a.output);
      expect(await f.oracle.creditOf(f.provider.address)).to.equal(FEE);
    });
  });

  describe("hostile consumers", function () {
    async function settleWith(f: OracleFixture, consumer: string, callbackGasLimit: number) {
      const made = await makeRequest(connection, f, { consumer, callbackGasLimit });
      const a = await answer(f, made);
      await passChallengeWindow(connection, f, a.c.id);
      return { made, a };
    }

    it("a reverting callback never blocks settlement or payment; the failure is recorded", async function () {
      const f = await loadFixture(fixture);
      const consumer = await (await ethers.deployContract("RevertingConsumer")).getAddress();
      const { made, a } = await settleWith(f, consumer, 100_000);
      await expect(f.oracle.settle(made.request, a.fulfillment, a.output))
        .to.emit(f.oracle, "CallbackResult")
        .withArgs(made.requestId, consumer, ResultStatus.Final, false);
      expect(await f.oracle.creditOf(f.provider.address)).to.equal(FEE);
      expect(await f.oracle.resultOf(made.requestId)).to.equal(keccak256(a.output));
    });

    it("a callback that burns all its gas gets exactly its limit and settlement still completes", async function () {
      const f = await loadFixture(fixture);
      const burner = await ethers.deployContract("GasBurnerConsumer");
      const limit = 300_000;
      const { made, a } = await settleWith(f, await burner.getAddress(), limit);
      const receipt = await (await f.oracle.settle(made.request, a.fulfillment, a.output)).wait();
      const parsed = receipt!.logs.map((l) => f.oracle.interface.parseLog(l)).find((p) => p?.name === "CallbackResult");
      expect(parsed!.args.delivered).to.equal(false);
      // All of the limit was burnt, and not much more than it: the oracle's own work is bounded.
      expect(receipt!.gasUsed).to.be.greaterThan(BigInt(limit));
      expect(receipt!.gasUsed).to.be.lessThan(BigInt(limit) + 120_000n);
      expect(await f.oracle.creditOf(f.provider.address)).to.equal(FEE);
    });

    it("the callback runs with exactly callbackGasLimit", async function () {
      const f = await loadFixture(fixture);
      const limit = 250_000;
      const { made, a } = await settleWith(f, await f.consumer.getAddress(), limit);
      const receipt = await (await f.oracle.settle(made.request, a.fulfillment, a.output)).wait();
      const parsed = receipt!.logs.map((l) => f.consumer.interface.parseLog(l)).find((p) => p?.name === "Received");
      const gasLeft = parsed!.args.gasLeft as bigint;
      // gasleft() at the callback's first statement: its limit less the dispatch and calldata decoding.
      expect(gasLeft).to.be.lessThan(BigInt(limit));
      expect(gasLeft).to.be.greaterThan(BigInt(limit) - 3_000n);
    });

    it("a caller that sends too little gas cannot starve the final callback", async function () {
      const f = await loadFixture(fixture);
      const limit = 1_000_000;
      const { made, a } = await settleWith(f, await f.consumer.getAddress(), limit);
      await expect(
        f.oracle.settle(made.request, a.fulfillment, a.output, { gasLimit: 600_000 }),
      ).to.be.revertedWithCustomError(f.oracle, "InferenceOracleInsufficientGas");
      expect((await f.oracle.stateOf(made.requestId)).status).to.equal(RequestStatus.Fulfilled);
      expect(await f.consumer.calls(made.requestId, ResultStatus.Final)).to.equal(0n);
      await f.oracle.settle(made.request, a.fulfillment, a.output, { gasLimit: 1_300_000 });
      expect(await f.consumer.calls(made.requestId, ResultStatus.Final)).to.equal(1n);
    });

    for (const reverts of [false, true]) {
      it(`a callback that ${reverts ? "reverts with" : "returns"} a huge payload costs the settler nothing extra`, async function () {
        const f = await loadFixture(fixture);
        const huge = await ethers.deployContract("HugeReturnConsumer", [200_000, reverts]);
        const limit = 400_000;
        const { made, a } = await settleWith(f, await huge.getAddress(), limit);
        const receipt = await (await f.oracle.settle(made.request, a.fulfillment, a.output)).wait();
        const parsed = receipt!.logs
          .map((l) => f.oracle.interface.parseLog(l))
          .find((p) => p?.name === "CallbackResult");
        expect(parsed!.args.delivered).to.equal(!reverts);
        // Copying 200 kB of return data would cost far more than the callback's own memory.
        expect(receipt!.gasUsed).to.be.lessThan(BigInt(limit) + 120_000n);
      });
    }

    it("re-entering the oracle from the callback fails and changes nothing", async function () {
      const f = await loadFixture(fixture);
      const reentrant = await ethers.deployContract("ReentrantConsumer");
      const { made, a } = await settleWith(f, await reentrant.getAddress(), 500_000);
      // From its callback, the consumer tries to settle the same request again.
      await reentrant.arm(
        f.oracleAddress,
        f.oracle.interface.encodeFunctionData("settle", [made.request, a.fulfillment, a.output]),
      );
      await f.oracle.settle(made.request, a.fulfillment, a.output);
      expect(await reentrant.lastSuccess()).to.equal(false);
      expect(await reentrant.lastReturn()).to.equal(
        f.oracle.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await f.oracle.creditOf(f.provider.address)).to.equal(FEE);
      await expectConserved(f, [f.provider.address], 0n);
    });
  });

  describe("hostile token", function () {
    it("a token that re-enters on transferFrom cannot re-enter the oracle", async function () {
      const f = await loadFixture(fixture);
      const evil = await ethers.deployContract("MaliciousToken");
      const oracle = await ethers.deployContract("InferenceOracle", [
        await evil.getAddress(),
        await f.ledger.getAddress(),
        await f.registry.getAddress(),
        await f.stakeManager.getAddress(),
      ]);
      await evil.mint(f.requester.address, FEE * 10n);
      await evil.connect(f.requester).approve(await oracle.getAddress(), ethers.MaxUint256);
      // Trigger 2 = transferFrom, before the balance moves: re-enter withdraw.
      await evil.arm(2, true, await oracle.getAddress(), oracle.interface.encodeFunctionData("withdraw"));
      const now = BigInt(await time.latest());
      await oracle
        .connect(f.requester)
        .request(
          f.modelId,
          vectorToHex(pseudoDigit(1)),
          FEE,
          ZeroAddress,
          0,
          now + BigInt(settlingTime(f) + 60),
          ACCEPT.ANY,
          false,
        );
      expect(await evil.hookCalls()).to.equal(1n);
      expect(await evil.lastSuccess()).to.equal(false);
      expect(await evil.lastReturnData()).to.equal(oracle.interface.getError("ReentrancyGuardReentrantCall")!.selector);
      expect(await evil.balanceOf(await oracle.getAddress())).to.equal(await oracle.totalOwed());
    });
  });

  describe("governance of the requester's share", function () {
    it("bounds it to 20% and lets only the admin set it", async function () {
      const f = await loadFixture(fixture);
      expect(await f.stakeManager.harmedShareBps()).to.equal(HARMED_SHARE_BPS);
      await expect(f.stakeManager.connect(f.admin).setHarmedShareBps(2_001))
        .to.be.revertedWithCustomError(f.stakeManager, "StakeManagerInvalidHarmedShare")
        .withArgs(2_001, 2_000);
      await expect(f.stakeManager.connect(f.provider).setHarmedShareBps(1_000)).to.be.revertedWithCustomError(
        f.stakeManager,
        "AccessControlUnauthorizedAccount",
      );
      await expect(f.stakeManager.connect(f.admin).setHarmedShareBps(0))
        .to.emit(f.stakeManager, "HarmedShareUpdated")
        .withArgs(0);
      await expect(f.stakeManager.connect(f.provider).releaseCompensation(ZeroHash, f.provider.address))
        .to.be.revertedWithCustomError(f.stakeManager, "AccessControlUnauthorizedAccount")
        .withArgs(f.provider.address, await f.stakeManager.ORACLE_ROLE());
    });
  });
});

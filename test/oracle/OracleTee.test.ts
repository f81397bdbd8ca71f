import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, keccak256 } from "ethers";
import { vectorToHex } from "../../src/engine/index.js";
import { teeCommitmentDigest } from "../../src/protocol/tee.js";
import { infer, paramsFrom } from "../helpers/disputeFixture.js";
import { TeeMode } from "../helpers/teeFixture.js";
import { fraudProof, freshNonce, inferenceOf, playToProof, shareOf, type Game } from "../disputes/helpers.js";
import { CommitmentStatus, Finality } from "../core/coreFixtures.js";
import {
  ACCEPT,
  HARMED_SHARE_BPS,
  RequestStatus,
  ResultStatus,
  deployTeeOracle,
  expectConserved,
  makeRequest,
  type Made,
  type TeeOracleFixture,
} from "./helpers.js";

const connection = await network.connect();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;
const coder = AbiCoder.defaultAbiCoder();
const FEE = ethers.parseEther("2");

const windowFixture = () => deployTeeOracle(connection, TeeMode.Window);
const instantFixture = () => deployTeeOracle(connection, TeeMode.Instant);

/** The fixture's enclave answers `made` (honestly or with a fault) with its seal. */
async function answerTee(f: TeeOracleFixture, made: Made, fault?: { layer: number; neuron: number }) {
  const claimed = infer(f.model, made.input, fault);
  const inference = inferenceOf(claimed);
  const output = vectorToHex(claimed.output);
  const seal = await f.seal(f.enclave, inference);
  const digest = teeCommitmentDigest(f.domain, f.modelId, inference, seal);
  const binding = keccak256(coder.encode(["bytes32", "bytes32"], [digest, made.requestId]));
  const fulfillment = { provider: f.provider.address, inference, binding };
  const tx = await f.oracle.connect(f.provider).fulfillTee(made.request, inference, output, seal);
  const id = await f.oracle.commitmentIdOf(made.request, fulfillment);
  const key = { provider: f.provider.address, modelId: f.modelId, inference, binding };
  return { tx, id, inference, output, seal, fulfillment, key, claimed, honest: infer(f.model, made.input) };
}

describe("InferenceOracle with TEE-signed answers", function () {
  it("settles a TEE answer after its shortened window, as finality Tee", async function () {
    const f = await loadFixture(windowFixture);
    const made = await makeRequest(connection, f, { accepts: ACCEPT.TEE });
    const a = await answerTee(f, made);
    await expect(a.tx)
      .to.emit(f.ledger, "RequestCommitted")
      .withArgs(
        a.id,
        f.modelId,
        f.provider.address,
        made.requestId,
        Object.values(a.inference),
        a.fulfillment.binding,
        f.enclave.address,
      );
    expect(await f.ledger.commitmentIdOf(a.key)).to.equal(a.id);
    await expect(f.oracle.settle(made.request, a.fulfillment, a.output))
      .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotSettleable")
      .withArgs(made.requestId, CommitmentStatus.Pending, Finality.None);
    const tee = await f.ledger.teeRecordOf(a.id);
    expect(tee.operator).to.equal(f.provider.address);
    await time.increaseTo(tee.teeDeadline + 1n);
    await expect(f.oracle.settle(made.request, a.fulfillment, a.output))
      .to.emit(f.oracle, "RequestSettled")
      .withArgs(made.requestId, a.id, f.provider.address, Finality.Tee, keccak256(a.output), FEE);
    expect((await f.oracle.stateOf(made.requestId)).finality).to.equal(Finality.Tee);
    expect(await f.consumer.calls(made.requestId, ResultStatus.Final)).to.equal(1n);
    await expectConserved(f, [f.provider.address], 0n);
  });

  it("refuses a TEE answer to a request that does not accept TEE finality, and a replayed seal", async function () {
    const f = await loadFixture(windowFixture);
    const windowOnly = await makeRequest(connection, f, { accepts: ACCEPT.WINDOW });
    const claimed = infer(f.model, windowOnly.input);
    const inference = inferenceOf(claimed);
    const seal = await f.seal(f.enclave, inference);
    await expect(
      f.oracle.connect(f.provider).fulfillTee(windowOnly.request, inference, vectorToHex(claimed.output), seal),
    )
      .to.be.revertedWithCustomError(f.oracle, "InferenceOracleFinalityNotAccepted")
      .withArgs(windowOnly.requestId, Finality.Tee, ACCEPT.WINDOW);
    // A seal signed for one request's answer, by another operator, is refused by the ledger.
    const made = await makeRequest(connection, f, { accepts: ACCEPT.TEE });
    await expect(f.oracle.connect(f.provider2).fulfillTee(made.request, inference, vectorToHex(claimed.output), seal))
      .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerEnclaveOfOtherOperator")
      .withArgs(f.enclave.address, f.provider.address, f.provider2.address);
    expect((await f.oracle.stateOf(made.requestId)).status).to.equal(RequestStatus.Open);
  });

  it("under instant finality settles at once; a proof of fraud before settlement reopens it instead", async function () {
    const f = await loadFixture(instantFixture);
    const good = await makeRequest(connection, f, { accepts: ACCEPT.TEE, seed: 4 });
    const a = await answerTee(f, good);
    await f.oracle.settle(good.request, a.fulfillment, a.output);
    expect((await f.oracle.stateOf(good.requestId)).finality).to.equal(Finality.Tee);

    const bad = await makeRequest(connection, f, { accepts: ACCEPT.TEE, seed: 5 });
    const w = await answerTee(f, bad, { layer: 2, neuron: 1 });
    const tx = await f.disputeGame.connect(f.challenger).openDispute(w.key, false, freshNonce());
    const params = await paramsFrom(f.disputeGame, tx);
    const c = {
      id: w.id,
      modelId: f.modelId,
      input: bad.input,
      claimed: w.claimed,
      honest: w.honest,
      inference: w.inference,
      provider: f.provider,
      inputData: vectorToHex(bad.input),
    };
    const g: Game = { params, id: await f.disputeGame.disputeIdOf(params), c, challenger: f.challenger, tx };
    const layer = await playToProof(f, g);
    await f.disputeGame.connect(f.challenger).proveNeuron(g.params, fraudProof(f, g, layer));
    // The ledger keeps an instant record Final; the oracle never delivers it as final.
    expect(await f.ledger.status(w.id)).to.equal(CommitmentStatus.Final);
    expect((await f.ledger.teeRecordOf(w.id)).provenWrong).to.equal(true);
    await expect(f.oracle.settle(bad.request, w.fulfillment, w.output))
      .to.be.revertedWithCustomError(f.oracle, "InferenceOracleNotSettleable")
      .withArgs(bad.requestId, CommitmentStatus.Overturned, Finality.Tee);
    const compensation = shareOf(f.policy.slashAmount, HARMED_SHARE_BPS);
    await expect(f.oracle.reopen(bad.request, w.fulfillment))
      .to.emit(f.oracle, "RequestReopened")
      .withArgs(bad.requestId, w.id, CommitmentStatus.Overturned, compensation);
    expect(await f.consumer.calls(bad.requestId, ResultStatus.Final)).to.equal(0n);
    await expectConserved(f, [f.provider.address], FEE);
  });
});

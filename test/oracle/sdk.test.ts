import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress } from "ethers";
import { vectorToHex } from "../../src/engine/index.js";
import { addressesFromIgnition } from "../../src/sdk/deployments.js";
import { decodeRevertData, meaningOf } from "../../src/sdk/errors.js";
import { parseCommitmentLog } from "../../src/sdk/logs.js";
import { ChallengerAgent, OracleClient, Verity, type VerityAddresses } from "../../src/sdk/index.js";
import { answer, deployOracle, makeRequest } from "./helpers.js";

const connection = await network.connect();
const { ethers, networkHelpers } = connection;
const fixture = () => deployOracle(connection);

async function addressesOf(f: Awaited<ReturnType<typeof deployOracle>>): Promise<VerityAddresses> {
  return {
    token: await f.token.getAddress(),
    registry: await f.registry.getAddress(),
    stakeManager: await f.stakeManager.getAddress(),
    ledger: await f.ledger.getAddress(),
    disputeGame: await f.disputeGame.getAddress(),
    batchDisclosure: await f.batchDisclosure.getAddress(),
    environments: await f.environmentRegistry.getAddress(),
    attestationService: await f.attestationService.getAddress(),
    oracle: f.oracleAddress,
  };
}

describe("Oracle in the SDK", function () {
  it("reads the oracle from a deployment, and deployments made before it still load", function () {
    const roles = {
      "M#MockERC20": "0x01",
      "M#ModelRegistry": "0x02",
      "M#StakeManager": "0x03",
      "M#InferenceLedger": "0x04",
      "M#DisputeGame": "0x05",
      "M#BatchDisclosure": "0x06",
      "M#EnvironmentRegistry": "0x07",
      "M#AttestationServiceVerifier": "0x08",
    };
    expect(addressesFromIgnition(roles).oracle).to.equal(undefined);
    expect(addressesFromIgnition({ ...roles, "M#InferenceOracle": "0x09" }).oracle).to.equal("0x09");
    expect(() => new OracleClient(undefined, ethers.provider).contract).to.throw(
      "this deployment has no inference oracle",
    );
  });

  it("finds a request and its live answer from their events, and decodes the ledger's RequestCommitted", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const made = await makeRequest(connection, f, { seed: 11 });
    const verity = await Verity.connect({ runner: f.watcher, addresses: await addressesOf(f) });
    const found = await verity.oracle.find(made.requestId);
    expect(found!.input).to.equal(vectorToHex(made.input));
    expect(found!.request).to.deep.equal(made.request);
    expect(await verity.oracle.find(ethers.ZeroHash)).to.equal(undefined);
    expect(await verity.oracle.liveAnswer(made.requestId)).to.equal(undefined);
    const a = await answer(f, made);
    const live = await verity.oracle.liveAnswer(made.requestId);
    expect(live!.commitmentId).to.equal(a.c.id);
    expect(live!.output).to.equal(a.output);
    expect(live!.fulfillment).to.deep.equal(a.fulfillment);

    const receipt = await a.tx.wait();
    const ledger = await f.ledger.getAddress();
    const topic = f.ledger.interface.getEvent("RequestCommitted").topicHash;
    const log = receipt!.logs.find((l) => l.address === ledger && l.topics[0] === topic)!;
    const event = parseCommitmentLog(log);
    expect(event).to.include({ kind: "single", id: a.c.id, provider: f.provider.address, inputData: "0x" });
    expect(event.kind === "single" && event.request).to.deep.equal({
      requestId: made.requestId,
      binding: made.requestId,
      enclaveKey: ZeroAddress,
    });
    // The challenger reads the input from the request's event: an honest answer has no finding.
    const challenger = new ChallengerAgent(verity, [f.model], [f.modelId]);
    expect(await challenger.verify(event)).to.deep.equal([]);
    // An answer whose request the node does not have cannot be verified (and no game is opened on it).
    if (event.kind !== "single") throw new Error("expected a single commitment event");
    const orphan = { ...event, request: { ...event.request!, requestId: ethers.ZeroHash } };
    const refused = await challenger.verify(orphan).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(refused).to.equal(`the oracle has no request ${ethers.ZeroHash}: its input cannot be read`);
  });

  it("explains the oracle's refusals in dates and words", function () {
    const iface = new ethers.Interface(["error InferenceOracleDeadlineTooSoon(uint40 deadline, uint256 earliest)"]);
    const data = iface.encodeErrorResult("InferenceOracleDeadlineTooSoon", [1_767_254_400, 1_767_254_401]);
    const decoded = decodeRevertData(data)!;
    expect(decoded.name).to.equal("InferenceOracleDeadlineTooSoon");
    expect(meaningOf(decoded.name, decoded.args)).to.equal(
      "the deadline 2026-01-01T08:00:00Z leaves no time for the challenge window and the longest dispute: give at least 2026-01-01T08:00:01Z",
    );
    expect(meaningOf("InferenceOracleWrongStatus", ["0xab", 3])).to.equal("request 0xab is Settled");
    expect(meaningOf("InferenceOracleNotSettleable", ["0xab", 1, 0])).to.equal(
      "the answer to request 0xab is Pending, not final in a way the request accepts",
    );
    expect(meaningOf("InferenceOracleInsufficientGas", [500_000n, 1_025_873n])).to.equal(
      "500,000 gas left, 1,025,873 needed to give the callback its whole limit: send more gas",
    );
  });
});

import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { modelIdOf, vectorToHex } from "../../src/engine/index.js";
import { discloseChunkGas, leavesPerChunk } from "../../src/protocol/gasBounds.js";
import {
  ChallengerAgent,
  CommitmentStatus,
  DisclosurePhase,
  FileNonceBook,
  Finality,
  ModelResolutionError,
  Outcome,
  Phase,
  ProviderAgent,
  RecordFlags,
  TraceStore,
  VerityRevertError,
  batchIdOf,
  commitmentIdOf,
  hasFlag,
  leafHashOf,
  specOf,
} from "../../src/sdk/index.js";
import type { GasBoundsHarness } from "../../typechain-types/index.js";
import { pseudoDigit } from "../helpers/disputeFixture.js";
import { connectedMnist } from "../helpers/verityFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

async function setup() {
  const f = await connectedMnist(connection, "verity-sdk-contracts-");
  const provider = new ProviderAgent(
    await f.as(f.provider),
    f.model,
    new TraceStore(path.join(f.work, "traces")),
    f.modelId,
  );
  const watcherVerity = await f.as(f.challenger);
  const challenger = await ChallengerAgent.create(watcherVerity, [f.model]);
  return { ...f, provider, watcherVerity, challenger };
}

/** Rejects with the error `fn` throws (fails the test if it resolves). */
async function failure(fn: () => Promise<unknown>): Promise<Error> {
  return fn().then(
    () => expect.fail("expected a failure"),
    (e: Error) => e,
  );
}

describe("SDK against the soundness contracts (in-process chain)", () => {
  describe("model ids are publisher-bound; files resolve through ModelRegistered's contentHash topic", () => {
    it("resolves a file to its only registration, asks for --publisher when several publishers registered it", async () => {
      const { as, signers, model, modelId, publisher, commitments } = await setup();
      const reader = await as(signers[6]);
      expect(await reader.registry.resolveModelId(model)).to.equal(modelId);
      // A second publisher registers the same content: a different id, nothing squatted.
      const other = await as(signers[7]);
      const otherId = await (await other.registry.registerModel(model, { metadataURI: "ipfs://copy" })).wait();
      expect(otherId).to.equal(modelIdOf(signers[7].address, commitments.contentHash));
      expect(otherId).to.not.equal(modelId);

      const found = await reader.registry.registrationsOf(commitments.contentHash, { maxRange: 1 });
      expect(found.map((r) => [r.modelId, r.publisher])).to.deep.equal([
        [modelId, publisher.address],
        [otherId, signers[7].address],
      ]);
      const err = await failure(() => reader.registry.resolveModelId(model));
      expect(err).to.be.instanceOf(ModelResolutionError);
      expect(err.message).to.not.include("\n");
      expect(err.message).to.match(
        /^2 publishers registered this model .*pass --publisher <address> or --model-id <id>/,
      );
      expect(await reader.registry.resolveModelId(model, { publisher: signers[7].address })).to.equal(otherId);
      expect(await reader.registry.resolveModelId(model, { modelId })).to.equal(modelId);
      const stranger = await failure(() => reader.registry.resolveModelId(model, { publisher: signers[5].address }));
      expect(stranger.message).to.equal(
        `${signers[5].address} has not registered this model (content ${commitments.contentHash})`,
      );
    });

    it("registers with the full ModelSpec: layers stored, graph hash and gas bounds on-chain", async () => {
      const { as, signers, model, commitments } = await setup();
      const other = await as(signers[7]);
      const id = await (await other.registry.registerModel(model)).wait();
      const record = await other.registry.get(id);
      expect(record.contentHash).to.equal(commitments.contentHash);
      expect(record.graphHash).to.equal(commitments.graphHash);
      expect(record.optimistic).to.equal(true);
      expect(Number(record.maxBatchLeaves)).to.equal(1024);
      expect(await other.registry.layersOf(id)).to.deep.equal(specOf(model).layers);
      const bounds = await other.registry.gasBoundsOf(id);
      expect(bounds.worstHonestMove > 0n && bounds.worstHonestMove <= 8_000_000n).to.equal(true);
    });

    it("the watchtower follows every registration of a followed file, whoever published it", async () => {
      const { as, signers, model, watcherVerity, work } = await setup();
      // The challenger was created before this registration: it finds it on its next sync.
      const challenger = new ChallengerAgent(watcherVerity, [model]);
      await challenger.syncRegistrations();
      expect(challenger.modelIds()).to.have.length(1);
      const otherPublisher = await as(signers[7]);
      const otherId = await (await otherPublisher.registry.registerModel(model)).wait();
      expect(challenger.follows(otherId)).to.equal(false);
      expect(await challenger.syncRegistrations({ maxRange: 3 })).to.equal(1);
      expect(challenger.follows(otherId)).to.equal(true);
      // A cheat under the second publisher's registration is found and proven.
      const cheat = new ProviderAgent(await as(signers[5]), model, new TraceStore(path.join(work, "cheat")), otherId);
      const { id } = await cheat.commit(pseudoDigit(3), { layer: 2, neuron: 6 });
      const events = await watcherVerity.ledger.scan(0, await ethers.provider.getBlockNumber());
      const [finding] = await challenger.verify(events.find((e) => e.id === id)!);
      expect(finding.kind === "single" && finding.modelId).to.equal(otherId);
      const params = await challenger.open(finding);
      const disputeId = await watcherVerity.disputes.idOf(params);
      for (const side of ["provider", "challenger", "provider", "challenger", "provider", "challenger"]) {
        if (side === "provider") await cheat.answer(disputeId, params);
        else await challenger.advance(disputeId, params);
      }
      expect((await watcherVerity.disputes.game(disputeId)).outcome).to.equal(Outcome.ChallengerWon);
    });
  });

  describe("ledger client", () => {
    it("commits the exact input (INPUT_PUBLIC) and never demands it; the game refuses a demand on it", async () => {
      const { provider, challenger, watcherVerity, ledger, modelId } = await setup();
      const { id, result } = await provider.commit(pseudoDigit(4), { layer: 1, neuron: 2 });
      const record = await provider.verity.ledger.record(id);
      expect(hasFlag(record.flags, RecordFlags.INPUT_PUBLIC)).to.equal(true);
      const events = await watcherVerity.ledger.scan(0, await ethers.provider.getBlockNumber());
      const [finding] = await challenger.verify(events.find((e) => e.id === id)!);
      expect(finding.demandInput).to.equal(false);
      // Forcing a demand: refused on-chain by name, and nothing changes (no game, no open dispute).
      const key = { provider: record.provider, modelId, inference: result };
      const forced = await failure(() => watcherVerity.disputes.open(key, true));
      expect(forced).to.be.instanceOf(VerityRevertError);
      expect((forced as VerityRevertError).errorName).to.equal("DisputeGameInputAlreadyPublic");
      expect((forced as VerityRevertError).args).to.deep.equal([id]);
      expect(Number((await ledger.recordOf(id)).openDisputes)).to.equal(0);
      const params = await challenger.open(finding);
      expect((await watcherVerity.disputes.game(await watcherVerity.disputes.idOf(params))).phase).to.equal(
        Phase.AwaitingTrace,
      );
    });

    it("refuses client-side a URI above 256 bytes, input bytes of another input, repeated leaves and oversized batches", async () => {
      const { provider, modelId, ledger } = await setup();
      const me = await (provider.verity.runner as unknown as { getAddress(): Promise<string> }).getAddress();
      const nonceBefore = await ethers.provider.getTransactionCount(me);
      const run = provider.infer(pseudoDigit(8));
      const long = await failure(() =>
        provider.verity.ledger.commit({ modelId, inference: run, uri: `ipfs://${"a".repeat(250)}` }),
      );
      expect(long.message).to.equal(
        "commit: the input URI is 257 bytes, the ledger takes at most 256 (commit the input bytes instead)",
      );
      const wrongInput = await failure(() =>
        provider.verity.ledger.commit({ modelId, inference: run, input: vectorToHex(pseudoDigit(9)) }),
      );
      expect(wrongInput.message).to.equal(
        `commit: the input does not hash to the inference's inputHash ${run.inputHash}`,
      );
      const dup = await failure(() =>
        provider.commitBatch([pseudoDigit(1), pseudoDigit(2), pseudoDigit(1)], path.join(os.tmpdir(), "dup.json")),
      );
      expect(dup.message).to.equal("batch inputs 0 and 2 are the same inference: a batch holds distinct leaves");
      const dupLeaves = await failure(() =>
        provider.verity.ledger.commitBatch({
          modelId,
          root: ethers.id("r"),
          count: 2,
          dataURI: "ipfs://b",
          leaves: [run, run],
        }),
      );
      expect(dupLeaves.message).to.equal("commitBatch: leaves 0 and 1 are the same inference");
      const big = await failure(() =>
        provider.verity.ledger.commitBatch({ modelId, root: ethers.id("r"), count: 1025, dataURI: "ipfs://b" }),
      );
      expect(big.message).to.equal("commitBatch: 1025 leaves, the model allows at most 1024 per batch");
      // Nothing was sent.
      expect(await ethers.provider.getTransactionCount(me)).to.equal(nonceBefore);
      // The contract refuses the same batch by name (what the old client let through to a revert).
      const signer = await ethers.getSigner(me);
      await expect(ledger.connect(signer).commitBatch(modelId, ethers.id("r"), 1025, "ipfs://b"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerBatchTooLarge")
        .withArgs(1025, 1024);
    });

    it("reports finality: none while pending, ChallengeWindow once final", async () => {
      const { provider, policy } = await setup();
      const { id } = await provider.commit(pseudoDigit(11));
      expect(await provider.verity.ledger.finalityOf(id)).to.deep.equal({
        status: CommitmentStatus.Pending,
        finality: Finality.None,
      });
      await networkHelpers.time.increase(policy.challengeWindow + 1);
      expect(await provider.verity.ledger.finalityOf(id)).to.deep.equal({
        status: CommitmentStatus.Final,
        finality: Finality.ChallengeWindow,
      });
    });
  });

  describe("dispute client", () => {
    it("re-sends an opening with the journaled nonce: the same game id, never a second game", async () => {
      const { provider, challenger: c, work, modelId, disputeGame } = await setup();
      const { id, result } = await provider.commit(pseudoDigit(12), { layer: 3, neuron: 1 });
      const file = path.join(work, "nonces.json");
      const first = c.verity.connect(c.verity.runner, new FileNonceBook(file));
      const key = { provider: (await provider.verity.ledger.record(id)).provider, modelId, inference: result };
      const params = await (await first.disputes.open(key)).wait();
      const journaled = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
      expect(journaled[id.toLowerCase()]).to.equal(params.nonce.toString());
      expect(commitmentIdOf(key.provider, modelId, result)).to.equal(id);
      // After a restart (or a reorg that dropped nothing), the re-sent opening reuses the nonce: the
      // contract sees the same game and refuses a duplicate (a block-derived nonce opened a second game).
      const again = first.connect(first.runner, new FileNonceBook(file));
      const err = await failure(() => again.disputes.open(key));
      expect((err as VerityRevertError).errorName).to.equal("DisputeGameDuplicate");
      expect((err as VerityRevertError).args).to.deep.equal([await first.disputes.idOf(params)]);
      expect(await disputeGame.queryFilter(disputeGame.filters.DisputeOpened())).to.have.length(1);
    });

    it("splits a pooled reward: the first winner waits, the last is paid at once, the first then claims", async () => {
      const { provider, as, signers, watcherVerity, challenger, model, stakeManager, policy } = await setup();
      const { id } = await provider.commit(pseudoDigit(13), { layer: 2, neuron: 3 });
      const second = await ChallengerAgent.create(await as(signers[4]), [model]);
      const events = await watcherVerity.ledger.scan(0, await ethers.provider.getBlockNumber());
      const event = events.find((e) => e.id === id)!;
      const pa = await challenger.open((await challenger.verify(event))[0]);
      const pb = await second.open((await second.verify(event))[0]);
      const ida = await watcherVerity.disputes.idOf(pa);
      const idb = await watcherVerity.disputes.idOf(pb);
      // Game A is played to the proof first; game B is still open when A overturns the commitment.
      for (let i = 0; i < 3; i++) {
        await provider.answer(ida, pa);
        await challenger.advance(ida, pa);
      }
      expect((await watcherVerity.disputes.game(ida)).outcome).to.equal(Outcome.ChallengerWon);
      expect(await watcherVerity.disputes.rewardStatus(ida, pa)).to.deep.equal({ pending: 1 });
      expect(await challenger.advance(ida, pa)).to.equal("none"); // nothing to claim yet
      const creditA = await stakeManager.creditOf(pa.challenger);
      expect(creditA).to.equal(policy.challengerBond); // bond back, reward escrowed
      for (let i = 0; i < 3; i++) {
        await provider.answer(idb, pb);
        await second.advance(idb, pb);
      }
      expect((await watcherVerity.disputes.game(idb)).outcome).to.equal(Outcome.ChallengerWon);
      const share = (policy.slashAmount * 5_000n) / 10_000n;
      expect(await stakeManager.creditOf(pb.challenger)).to.equal(policy.challengerBond + share / 2n);
      expect(await watcherVerity.disputes.rewardStatus(ida, pa)).to.equal("claimable");
      expect(await challenger.advance(ida, pa)).to.equal("claimReward");
      expect(await stakeManager.creditOf(pa.challenger)).to.equal(creditA + (share - share / 2n));
      expect(await challenger.advance(ida, pa)).to.equal("none"); // paid once
    });
  });

  describe("batch disclosure", () => {
    it("mirrors GasBounds.leavesPerChunk and discloseChunk exactly", async () => {
      const harness = (await (
        await ethers.getContractFactory("GasBoundsHarness")
      ).deploy()) as unknown as GasBoundsHarness;
      for (const inDim of [1, 31, 32, 33, 784, 4096, 65_536, 200_000]) {
        expect(leavesPerChunk(inDim), `inDim ${inDim}`).to.equal(Number(await harness.leavesPerChunk(inDim)));
        for (const count of [1, 7, 153]) {
          expect(discloseChunkGas(count, inDim)).to.equal(await harness.discloseChunk(count, inDim));
        }
      }
    });

    it("forces a withheld batch on-chain in gas-bounded chunks; its leaves are then disputed without input demands", async () => {
      const { provider, challenger, watcherVerity, work, stakeManager, batchDisclosure } = await setup();
      const perChunk = leavesPerChunk(784);
      const count = perChunk + 3; // two chunks
      const inputs = Array.from({ length: count }, (_, i) => pseudoDigit(1_000 + i));
      const faults = inputs.map((_, i) => (i === 5 ? { layer: 1, neuron: 9 } : undefined));
      const { batchId, header } = await provider.commitBatch(inputs, path.join(work, "batch.json"), faults, {
        withholdInputs: true,
      });
      expect(batchIdOf(header)).to.equal(batchId);
      const bond = await watcherVerity.disclosure.disclosureBond(header);
      expect(await challenger.demandDisclosure(header)).to.equal(batchId);
      expect((await watcherVerity.disclosure.disclosureOf(batchId)).phase).to.equal(DisclosurePhase.Open);
      // Nothing to dispute by input until it is disclosed: every leaf would need a demand.
      const creditBefore = await stakeManager.creditOf(header.provider);
      expect(await provider.answerDisclosure(header)).to.equal("disclosed");
      expect(await provider.answerDisclosure(header)).to.equal("none");
      const state = await watcherVerity.disclosure.disclosureOf(batchId);
      expect(state.phase).to.equal(DisclosurePhase.Disclosed);
      expect(state.disclosed).to.equal(count);
      expect(await stakeManager.creditOf(header.provider)).to.equal(creditBefore + bond);
      const logs = await batchDisclosure.queryFilter(batchDisclosure.filters.LeafDisclosed(batchId));
      const perTx = new Map<string, number>();
      for (const l of logs) perTx.set(l.transactionHash, (perTx.get(l.transactionHash) ?? 0) + 1);
      expect([...perTx.values()]).to.deep.equal([perChunk, 3]);
      const hashes = logs.map((l) => BigInt(leafHashOf(l.args.leaf)));
      expect(hashes.every((h, i) => i === 0 || hashes[i - 1] < h)).to.equal(true); // ascending leaf hash
      const record = await watcherVerity.ledger.record(batchId);
      expect(hasFlag(record.flags, RecordFlags.DISCLOSED)).to.equal(true);

      // The challenger re-executes the disclosed inputs: one finding (the faulted leaf), no input demand.
      const events = await watcherVerity.ledger.scan(0, await ethers.provider.getBlockNumber());
      const findings = await challenger.verify(events.find((e) => e.id === batchId)!);
      expect(findings).to.have.length(1);
      expect(findings[0].kind === "leaf" && findings[0].demandInput).to.equal(false);
      // A forced demand is refused by name (the input is public), and no game opens.
      if (findings[0].kind !== "leaf") throw new Error("unreachable");
      const f0 = findings[0];
      const forced = await failure(() => watcherVerity.disputes.openLeaf(f0.header, f0.proof, f0.leaf, true));
      expect((forced as VerityRevertError).errorName).to.equal("DisputeGameInputAlreadyPublic");
      expect((forced as VerityRevertError).args).to.deep.equal([batchId]);
      const params = await challenger.open(f0);
      const disputeId = await watcherVerity.disputes.idOf(params);
      expect((await watcherVerity.disputes.game(disputeId)).phase).to.equal(Phase.AwaitingTrace);
      for (let i = 0; i < 3; i++) {
        await provider.answer(disputeId, params);
        await challenger.advance(disputeId, params);
      }
      expect((await watcherVerity.disputes.game(disputeId)).outcome).to.equal(Outcome.ChallengerWon);
    });

    it("overturns a batch whose provider does not disclose in time", async () => {
      const { provider, challenger, watcherVerity, work, policy } = await setup();
      const { batchId, header } = await provider.commitBatch(
        [pseudoDigit(70), pseudoDigit(71)],
        path.join(work, "b.json"),
        [],
        { withholdInputs: true },
      );
      await challenger.demandDisclosure(header);
      expect(await challenger.advanceDisclosure(header)).to.equal("open");
      expect(await watcherVerity.ledger.status(batchId)).to.equal(CommitmentStatus.Disputed);
      await networkHelpers.time.increase(policy.responseWindow + 1);
      expect(await provider.answerDisclosure(header)).to.equal("none"); // too late
      expect(await challenger.advanceDisclosure(header)).to.equal("timeout");
      expect(await watcherVerity.ledger.status(batchId)).to.equal(CommitmentStatus.Overturned);
      expect((await watcherVerity.disclosure.disclosureOf(batchId)).phase).to.equal(DisclosurePhase.Failed);
    });
  });
});

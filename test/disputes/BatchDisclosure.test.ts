import { expect } from "chai";
import { network } from "hardhat";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { ZeroHash, keccak256 } from "ethers";
import { hashVector, run, vectorFromHex, vectorToHex } from "../../src/engine/index.js";
import { batchIdOf } from "../../src/sdk/ids.js";
import { buildNeuronProof, paramsFrom } from "../helpers/disputeFixture.js";
import {
  BPS,
  buildItems,
  chainOf,
  commitItems,
  commitMnistBatch,
  demand,
  deployDisclosure,
  DisclosurePhase,
  disclosed,
  disclosureState,
  discloseInChunks,
  expectFundsConserved,
  expectRefused,
  finish,
  Flags,
  IN_DIM,
  leavesFromLogs,
  MAX_HONEST_MOVE_GAS,
  Outcome,
  sortedByHash,
  Status,
  timeOf,
  treeOf,
  type Batch,
  type BatchItem,
  type Disc,
} from "./disclosureHelpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const STAKE = ethers.parseEther("1000"); // what deployWithMnist stakes for each provider
const disclosureFixture = () => deployDisclosure(connection);

/** A batch of four honest MNIST leaves with a disclosure demanded by the watcher. */
async function demandedFixture() {
  const f = await deployDisclosure(connection);
  const batch = await commitMnistBatch(f, [41, 42, 43, 44]);
  const tx = await demand(f, batch);
  const deadline = (await timeOf(tx)) + BigInt(f.policy.responseWindow);
  return { ...f, batch, deadline };
}

/** Parses the LeafDisclosed events of some receipts into `[index, leaf, input]` triples. */
function leafEvents(f: Disc, receipts: { logs: readonly { topics: readonly string[]; data: string }[] }[]) {
  const out: [bigint, string[], string][] = [];
  for (const r of receipts) {
    for (const log of r.logs) {
      const parsed = f.batchDisclosure.interface.parseLog(log);
      if (parsed?.name === "LeafDisclosed") out.push([parsed.args.index, [...parsed.args.leaf], parsed.args.input]);
    }
  }
  return out;
}

/** What the LeafDisclosed events of these items must carry, from disclosure index `from` on. */
const expectedEvents = (items: BatchItem[], from = 0): [bigint, string[], string][] =>
  items.map((it, i) => [
    BigInt(from + i),
    [it.leaf.inputHash, it.leaf.outputHash, it.leaf.traceRoot],
    vectorToHex(it.input),
  ]);

describe("BatchDisclosure", () => {
  /** The deployment the running test loaded; the vault invariant is checked on it after every test. */
  let current: Disc | undefined;
  async function load<T extends Disc>(fixture: () => Promise<T>): Promise<T> {
    const f = await networkHelpers.loadFixture(fixture);
    current = f;
    return f;
  }
  afterEach(async () => {
    if (current !== undefined) await expectFundsConserved(current);
    current = undefined;
  });

  /** Every leaf of `batch` has `status`. */
  async function expectLeafStatuses(f: Disc, batch: Batch, status: bigint) {
    for (let i = 0; i < batch.items.length; i++) {
      expect(await f.ledger.leafStatus(batch.header, batch.proof(i), batch.items[i].leaf)).to.equal(status);
    }
  }

  describe("a served demand", () => {
    it("takes the bond, logs every leaf and input, pays the provider and keeps the leaves disputable", async () => {
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, ledger, stakeManager, disputeGame, token, registry, harness } = f;
      const { provider, watcher, challenger, treasury, policy } = f;
      // Six leaves; the provider got neuron 7 of layer 1 wrong in the third.
      const fault = { layer: 1, neuron: 7, delta: 3 };
      const batch = await commitMnistBatch(f, [101, 102, 103, 104, 105, 106], [undefined, undefined, fault]);
      // The same kind of batch, never disclosed: its window closes on time.
      const control = await commitMnistBatch(f, [111, 112], [], f.provider2);
      const originalDeadline = batch.committedAt + BigInt(policy.challengeWindow);
      expect((await ledger.recordOf(batch.batchId)).challengeDeadline).to.equal(originalDeadline);

      // The watcher demands late in the window.
      await time.increaseTo(batch.committedAt + 3000n);
      const bond = await bd.disclosureBond(batch.header);
      const referenceGasPrice = await registry.referenceGasPrice();
      expect(bond).to.equal((await harness.disclosure(6, IN_DIM)) * referenceGasPrice);
      expect(bond).to.be.greaterThan(0n);
      const [watcherBefore, vaultBefore] = [
        await token.balanceOf(watcher.address),
        await token.balanceOf(await stakeManager.getAddress()),
      ];
      const demandTx = await demand(f, batch);
      const deadline = (await timeOf(demandTx)) + BigInt(policy.responseWindow);
      await expect(demandTx)
        .to.emit(bd, "DisclosureDemanded")
        .withArgs(batch.batchId, watcher.address, bond, deadline)
        .and.to.emit(ledger, "DisclosureMarked")
        .withArgs(batch.batchId)
        .and.to.emit(stakeManager, "BondPosted")
        .withArgs(watcher.address, bond)
        .and.to.emit(stakeManager, "StakeLocked")
        .withArgs(provider.address, 1);
      expect(await token.balanceOf(watcher.address)).to.equal(watcherBefore - bond);
      expect(await token.balanceOf(await stakeManager.getAddress())).to.equal(vaultBefore + bond);
      expect(await stakeManager.totalBonds()).to.equal(bond);
      expect((await stakeManager.stakeOf(provider.address)).openDisputes).to.equal(1n);
      expect(await disclosureState(f, batch.batchId)).to.deep.equal([
        watcher.address,
        deadline,
        0n,
        DisclosurePhase.Open,
        bond,
        policy.slashAmount,
        5000n,
        ZeroHash,
      ]);
      let record = await ledger.recordOf(batch.batchId);
      expect([record.flags, record.openDisputes]).to.deep.equal([Flags.DISCLOSURE_OPEN, 1n]);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Disputed);
      await expectLeafStatuses(f, batch, Status.Disputed);

      // The provider discloses in chunks of 1, 2 and 3 leaves, in ascending leaf-hash order.
      const perChunk = Number(await harness.leavesPerChunk(IN_DIM));
      const sizes = [1, 2, 3];
      expect(Math.max(...sizes)).to.be.at.most(perChunk);
      const receipts: Awaited<ReturnType<typeof discloseInChunks>> = [];
      let done = 0;
      for (const size of sizes) {
        const chunk = batch.sorted.slice(done, done + size);
        const [r] = await discloseInChunks(f, batch, chunk, [size]);
        receipts.push(r);
        expect(leafEvents(f, [r])).to.deep.equal(expectedEvents(chunk, done));
        done += size;
        const d = await bd.disclosureOf(batch.batchId);
        expect([d.disclosed, d.chain, d.phase]).to.deep.equal([
          BigInt(done),
          chainOf(batch.sorted.slice(0, done)),
          DisclosurePhase.Open,
        ]);
      }
      expect(leafEvents(f, receipts)).to.deep.equal(expectedEvents(batch.sorted));

      // Past the original window the batch is still disputed (not final) while the disclosure runs;
      // the control batch is final.
      await time.increaseTo(control.committedAt + BigInt(policy.challengeWindow) + 1n);
      expect(await time.latest()).to.be.greaterThan(Number(originalDeadline));
      expect(await ledger.status(batch.batchId)).to.equal(Status.Disputed);
      expect(await ledger.status(control.batchId)).to.equal(Status.Final);

      const finishTx = await finish(f, batch, batch.sorted);
      const reopened = (await timeOf(finishTx)) + BigInt(policy.challengeWindow);
      await expect(finishTx)
        .to.emit(bd, "DisclosureCompleted")
        .withArgs(batch.batchId, bond)
        .and.to.emit(ledger, "BatchDisclosed")
        .withArgs(batch.batchId, reopened)
        .and.to.emit(stakeManager, "StakeUnlocked")
        .withArgs(provider.address, 0)
        .and.to.emit(stakeManager, "BondReleased")
        .withArgs(provider.address, bond);
      expect(await stakeManager.creditOf(provider.address)).to.equal(bond);
      expect(await stakeManager.creditOf(watcher.address)).to.equal(0n);
      expect(await stakeManager.totalBonds()).to.equal(0n);
      const stake = await stakeManager.stakeOf(provider.address);
      expect([stake.active, stake.openDisputes]).to.deep.equal([STAKE, 0n]);
      record = await ledger.recordOf(batch.batchId);
      expect([record.flags, record.openDisputes, record.challengeDeadline]).to.deep.equal([
        Flags.DISCLOSED,
        0n,
        reopened,
      ]);
      expect(reopened).to.be.greaterThan(originalDeadline);
      expect((await bd.disclosureOf(batch.batchId)).phase).to.equal(DisclosurePhase.Disclosed);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Pending);
      await expectLeafStatuses(f, batch, Status.Pending);

      // A watcher that saw nothing but the logs rebuilds the tree, re-executes every input and finds the
      // wrong leaf, with a proof from its own tree.
      const fromLogs = await leavesFromLogs(f, batch.batchId);
      expect(fromLogs).to.have.length(6);
      const rebuilt = StandardMerkleTree.of(
        fromLogs.map(({ leaf }) => [leaf.inputHash, leaf.outputHash, leaf.traceRoot]),
        ["bytes32", "bytes32", "bytes32"],
      );
      expect(rebuilt.root).to.equal(batch.header.root);
      const wrong = fromLogs.filter(({ leaf, input }) => {
        const honest = run(f.model, vectorFromHex(input));
        expect(honest.inputHash).to.equal(leaf.inputHash);
        return honest.outputHash !== leaf.outputHash || honest.traceRoot !== leaf.traceRoot;
      });
      expect(wrong.map((w) => w.leaf)).to.deep.equal([batch.items[2].leaf]);
      const wrongIndex = fromLogs.indexOf(wrong[0]);
      const proof = rebuilt.getProof(wrongIndex);

      // After the original window (and the disclosure's deadline) the leaves are still disputable.
      await time.increaseTo(deadline + 1n);
      expect(deadline).to.be.greaterThan(originalDeadline);
      expect(BigInt(await time.latest())).to.be.lessThan(reopened);
      // Before the rework a batch's window was fixed at commit: this game could not be opened.
      await expectRefused(
        f,
        [control.batchId],
        () =>
          disputeGame
            .connect(challenger)
            .openLeafDispute(control.header, control.proof(0), control.items[0].leaf, false, 1n),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(ledger, "InferenceLedgerChallengeWindowClosed")
            .withArgs(control.batchId, control.committedAt + BigInt(policy.challengeWindow)),
      );
      // The inputs are on-chain: demanding one again is refused.
      await expectRefused(
        f,
        [batch.batchId],
        () => disputeGame.connect(challenger).openLeafDispute(batch.header, proof, wrong[0].leaf, true, 1n),
        (p) =>
          expect(p).to.be.revertedWithCustomError(disputeGame, "DisputeGameInputAlreadyPublic").withArgs(batch.batchId),
      );

      const openTx = await disputeGame
        .connect(challenger)
        .openLeafDispute(batch.header, proof, wrong[0].leaf, false, 1n);
      const params = await paramsFrom(disputeGame, openTx);
      const gameId = await disputeGame.disputeIdOf(params);
      const item = batch.items[2];
      await disputeGame.connect(provider).revealTrace(params, item.claimed.layerHashes);
      await disputeGame.connect(challenger).selectLayer(params, 1);
      await disputeGame
        .connect(provider)
        .revealLayer(params, 1, item.claimed.layerHashes, vectorToHex(item.claimed.activations[1]));
      const neuronProof = buildNeuronProof(f.model, f.commitments.tree, item.honest, 1, item.claimed.activations[1]);
      expect(neuronProof.neuron).to.equal(fault.neuron);
      await expect(disputeGame.connect(challenger).proveNeuron(params, neuronProof))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(gameId, Outcome.ChallengerWon, policy.slashAmount)
        .and.to.emit(ledger, "Overturned")
        .withArgs(batch.batchId, item.hash);
      expect(await ledger.leafStatus(batch.header, proof, item.leaf)).to.equal(Status.Overturned);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Overturned);
      const share = (policy.slashAmount * BigInt(params.challengerShareBps)) / BPS;
      expect(await stakeManager.creditOf(challenger.address)).to.equal(BigInt(params.bond) + share);
      expect(await stakeManager.creditOf(treasury.address)).to.equal(policy.slashAmount - share);
      // The disclosure's compensation stays the provider's.
      expect(await stakeManager.creditOf(provider.address)).to.equal(bond);
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - policy.slashAmount);
    });
  });

  describe("an unserved demand", () => {
    it("overturns the whole batch at the deadline, slashes the provider and pays the demander", async () => {
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, ledger, stakeManager, disputeGame, admin, provider, watcher, treasury } = f;
      const { policy, challenger, challenger2 } = f;
      // Before the rework a provider that never served a batch's data was safe: nobody could build the
      // leaf and proof a dispute needs, and the batch became final. Now the demander wins by timeout.
      const batch = await commitMnistBatch(f, [201, 202, 203, 204]);
      // The share is snapshotted at the demand: a later change does not apply to it.
      await stakeManager.connect(admin).setChallengerShareBps(3333);
      const bond = await bd.disclosureBond(batch.header);
      const demandTx = await demand(f, batch);
      const deadline = (await timeOf(demandTx)) + BigInt(policy.responseWindow);
      await stakeManager.connect(admin).setChallengerShareBps(5000);
      expect((await bd.disclosureOf(batch.batchId)).challengerShareBps).to.equal(3333n);

      // At the deadline itself the provider may still answer: a timeout is refused.
      await time.setNextBlockTimestamp(deadline);
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(challenger2).timeoutDisclosure(batch.header),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(bd, "BatchDisclosureDeadlineNotPassed")
            .withArgs(batch.batchId, deadline),
      );

      await time.increaseTo(deadline + 1n);
      const share = (policy.slashAmount * 3333n) / BPS;
      expect(share).to.equal(ethers.parseEther("16.665"));
      const timeoutTx = await bd.connect(challenger2).timeoutDisclosure(batch.header);
      await expect(timeoutTx)
        .to.emit(bd, "DisclosureFailed")
        .withArgs(batch.batchId, policy.slashAmount, share)
        .and.to.emit(ledger, "Overturned")
        .withArgs(batch.batchId, ZeroHash)
        .and.to.emit(stakeManager, "StakeSlashed")
        .withArgs(provider.address, policy.slashAmount, share)
        .and.to.emit(stakeManager, "StakeUnlocked")
        .withArgs(provider.address, 0)
        .and.to.emit(stakeManager, "BondReleased")
        .withArgs(watcher.address, bond + share);
      expect(await stakeManager.creditOf(watcher.address)).to.equal(bond + share);
      expect(await stakeManager.creditOf(treasury.address)).to.equal(policy.slashAmount - share);
      expect(await stakeManager.creditOf(challenger2.address)).to.equal(0n);
      expect(await stakeManager.creditOf(provider.address)).to.equal(0n);
      expect(await stakeManager.totalBonds()).to.equal(0n);
      const stake = await stakeManager.stakeOf(provider.address);
      expect([stake.active, stake.openDisputes]).to.deep.equal([STAKE - policy.slashAmount, 0n]);
      expect(await ledger.providerStakeOf(provider.address)).to.equal(STAKE - policy.slashAmount);
      const record = await ledger.recordOf(batch.batchId);
      expect([record.flags, record.openDisputes]).to.deep.equal([Flags.OVERTURNED, 0n]);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Overturned);
      await expectLeafStatuses(f, batch, Status.Overturned);
      const d = await bd.disclosureOf(batch.batchId);
      expect([d.phase, d.disclosed]).to.deep.equal([DisclosurePhase.Failed, 0n]);

      // Nothing more can happen to the batch: no leaf dispute, no new demand, no second timeout, no
      // late disclosure.
      await expectRefused(
        f,
        [batch.batchId],
        () =>
          disputeGame.connect(challenger).openLeafDispute(batch.header, batch.proof(1), batch.items[1].leaf, false, 1n),
        (p) =>
          expect(p).to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyOverturned").withArgs(batch.batchId),
      );
      await expectRefused(
        f,
        [batch.batchId],
        () => demand(f, batch, challenger),
        (p) =>
          expect(p).to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyOverturned").withArgs(batch.batchId),
      );
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(watcher).timeoutDisclosure(batch.header),
        (p) => expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureNotOpen").withArgs(batch.batchId),
      );
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(provider).discloseLeaves(batch.header, disclosed(batch.sorted)),
        (p) => expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureNotOpen").withArgs(batch.batchId),
      );
    });

    it("lets leaf games open at a failed disclosure withdraw or lapse without losing their bonds", async () => {
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, disputeGame, ledger, stakeManager, provider, challenger, challenger2, policy } = f;
      // Before this fix a leaf game on a batch overturned by its failed disclosure could not withdraw
      // (DisputeGameTargetNotOverturned), and lapsing at its own move paid its bond to the withholder.
      const batch = await commitMnistBatch(f, [221, 222]);
      const leaf = batch.items[0];
      const open = async (who: typeof challenger, nonce: bigint) =>
        paramsFrom(
          disputeGame,
          await disputeGame.connect(who).openLeafDispute(batch.header, batch.proof(0), leaf.leaf, false, nonce),
        );
      const quitter = await open(challenger, 1n);
      const laggard = await open(challenger2, 2n);
      const deadline = (await timeOf(await demand(f, batch))) + BigInt(policy.responseWindow);
      // The provider answers the leaf game it can answer, and lets the disclosure lapse.
      await disputeGame.connect(provider).revealTrace(laggard, leaf.claimed.layerHashes);
      await time.increaseTo(deadline + 1n);
      await bd.connect(challenger).timeoutDisclosure(batch.header);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Overturned);

      const before = await stakeManager.creditOf(challenger.address);
      await expect(disputeGame.connect(provider).closeOverturned(quitter))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameWrongParty")
        .withArgs(await disputeGame.disputeIdOf(quitter), provider.address, challenger.address);
      await expect(disputeGame.connect(challenger).closeOverturned(quitter))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(await disputeGame.disputeIdOf(quitter), Outcome.Refunded, 0n);
      expect((await stakeManager.creditOf(challenger.address)) - before).to.equal(policy.challengerBond);

      // The laggard never selects a layer: its game would be ProviderWon, but the batch is overturned.
      const game = await disputeGame.gameOf(await disputeGame.disputeIdOf(laggard));
      if (BigInt(await time.latest()) <= game.deadline) await time.increaseTo(game.deadline + 1n);
      const before2 = await stakeManager.creditOf(challenger2.address);
      await expect(disputeGame.connect(provider).timeout(laggard))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(await disputeGame.disputeIdOf(laggard), Outcome.Refunded, 0n);
      expect((await stakeManager.creditOf(challenger2.address)) - before2).to.equal(policy.challengerBond);
      await expectFundsConserved(f);
    });

    it("overturns a partly disclosed batch too", async () => {
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, ledger, stakeManager, provider, watcher, treasury, policy } = f;
      const batch = await commitMnistBatch(f, [211, 212, 213, 214, 215]);
      const bond = await bd.disclosureBond(batch.header);
      const deadline = (await timeOf(await demand(f, batch))) + BigInt(policy.responseWindow);
      await discloseInChunks(f, batch, batch.sorted.slice(0, 2), [2]);
      await time.increaseTo(deadline + 1n);

      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(provider).discloseLeaves(batch.header, disclosed(batch.sorted.slice(2))),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(bd, "BatchDisclosureDeadlinePassed")
            .withArgs(batch.batchId, deadline),
      );
      const share = (policy.slashAmount * 5000n) / BPS;
      await expect(bd.connect(watcher).timeoutDisclosure(batch.header))
        .to.emit(bd, "DisclosureFailed")
        .withArgs(batch.batchId, policy.slashAmount, share)
        .and.to.emit(ledger, "Overturned")
        .withArgs(batch.batchId, ZeroHash);
      const d = await bd.disclosureOf(batch.batchId);
      expect([d.phase, d.disclosed, d.chain]).to.deep.equal([
        DisclosurePhase.Failed,
        2n,
        chainOf(batch.sorted.slice(0, 2)),
      ]);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Overturned);
      await expectLeafStatuses(f, batch, Status.Overturned);
      expect(await stakeManager.creditOf(watcher.address)).to.equal(bond + share);
      expect(await stakeManager.creditOf(treasury.address)).to.equal(policy.slashAmount - share);
      expect(await stakeManager.creditOf(provider.address)).to.equal(0n);
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - policy.slashAmount);
    });
  });

  describe("refused moves", () => {
    it("only the batch's provider discloses and finishes", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch, challenger, provider2, watcher } = f;
      for (const caller of [challenger, provider2, watcher]) {
        await expectRefused(
          f,
          [batch.batchId],
          () => bd.connect(caller).discloseLeaves(batch.header, disclosed(batch.sorted)),
          (p) =>
            expect(p)
              .to.be.revertedWithCustomError(bd, "BatchDisclosureNotProvider")
              .withArgs(batch.batchId, caller.address),
        );
      }
      await discloseInChunks(f, batch, batch.sorted, [4]);
      await expectRefused(
        f,
        [batch.batchId],
        () => finish(f, batch, batch.sorted, challenger),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(bd, "BatchDisclosureNotProvider")
            .withArgs(batch.batchId, challenger.address),
      );
      await expect(finish(f, batch, batch.sorted)).to.emit(bd, "DisclosureCompleted");
    });

    it("the provider moves up to the deadline, not after it", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch, deadline } = f;
      await time.setNextBlockTimestamp(deadline);
      await discloseInChunks(f, batch, batch.sorted.slice(0, 3), [3]);
      expect(await time.latest()).to.equal(Number(deadline));
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(f.provider).discloseLeaves(batch.header, disclosed(batch.sorted.slice(3))),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(bd, "BatchDisclosureDeadlinePassed")
            .withArgs(batch.batchId, deadline),
      );
      await expectRefused(
        f,
        [batch.batchId],
        () => finish(f, batch, batch.sorted),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(bd, "BatchDisclosureDeadlinePassed")
            .withArgs(batch.batchId, deadline),
      );
    });

    it("refuses more leaves than the batch holds", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch, provider } = f;
      const extra = buildItems(f, [45])[0];
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(provider).discloseLeaves(batch.header, disclosed([...batch.sorted, extra])),
        (p) =>
          expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureTooManyLeaves").withArgs(batch.batchId, 5, 4),
      );
      await discloseInChunks(f, batch, batch.sorted.slice(0, 3), [3]);
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(provider).discloseLeaves(batch.header, disclosed([batch.sorted[3], extra])),
        (p) =>
          expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureTooManyLeaves").withArgs(batch.batchId, 5, 4),
      );
    });

    it("refuses an input that is not exactly the model's input, counting the index across chunks", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch, provider } = f;
      await discloseInChunks(f, batch, batch.sorted.slice(0, 1), [1]);
      const full = vectorToHex(batch.sorted[2].input);
      for (const input of [ethers.dataSlice(full, 0, IN_DIM - 1), ethers.concat([full, "0x00"]), "0x"]) {
        const chunk = [disclosed([batch.sorted[1]])[0], { leaf: batch.sorted[2].leaf, input }];
        await expectRefused(
          f,
          [batch.batchId],
          () => bd.connect(provider).discloseLeaves(batch.header, chunk),
          (p) =>
            expect(p)
              .to.be.revertedWithCustomError(bd, "BatchDisclosureInputLengthMismatch")
              .withArgs(2, IN_DIM, ethers.dataLength(input)),
        );
      }
    });

    it("refuses an input that does not hash to its leaf's input hash", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch, provider } = f;
      await discloseInChunks(f, batch, batch.sorted.slice(0, 2), [2]);
      // Leaf 2 with leaf 3's input: the right length, the wrong bytes.
      const chunk = [{ leaf: batch.sorted[2].leaf, input: vectorToHex(batch.sorted[3].input) }];
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(provider).discloseLeaves(batch.header, chunk),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(bd, "BatchDisclosureInputHashMismatch")
            .withArgs(2, batch.sorted[2].leaf.inputHash, hashVector(batch.sorted[3].input)),
      );
    });

    it("refuses to finish before every leaf is disclosed, or with too few hashes", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch } = f;
      await discloseInChunks(f, batch, batch.sorted.slice(0, 2), [2]);
      for (const hashes of [batch.sorted.slice(0, 2), batch.sorted]) {
        await expectRefused(
          f,
          [batch.batchId],
          () => finish(f, batch, hashes),
          (p) => expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureIncomplete").withArgs(batch.batchId, 2, 4),
        );
      }
      await discloseInChunks(f, batch, batch.sorted.slice(2), [2]);
      await expectRefused(
        f,
        [batch.batchId],
        () => finish(f, batch, batch.sorted.slice(0, 3)),
        (p) =>
          expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureLeafCountMismatch").withArgs(batch.batchId, 3, 4),
      );
      await expect(finish(f, batch, batch.sorted)).to.emit(bd, "DisclosureCompleted");
    });

    it("refuses leaf hashes that are not the disclosed leaves", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch, provider } = f;
      await discloseInChunks(f, batch, batch.sorted, [4]);
      const s = batch.sorted;
      const other = buildItems(f, [46])[0];
      for (const hashes of [
        [s[0], s[2], s[1], s[3]], // the right leaves out of order
        [s[0], s[1], s[2], other], // one replaced
      ]) {
        await expectRefused(
          f,
          [batch.batchId],
          () => finish(f, batch, hashes),
          (p) => expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureChainMismatch").withArgs(batch.batchId),
        );
      }
      // The refusals changed nothing: the honest finish still goes through.
      await expect(
        bd.connect(provider).finishDisclosure(
          batch.header,
          s.map((it) => it.hash),
        ),
      )
        .to.emit(bd, "DisclosureCompleted")
        .withArgs(batch.batchId, await bd.disclosureBond(batch.header));
    });

    it("refuses leaves disclosed out of order at the finish; the provider then loses by timeout", async () => {
      const f = await load(demandedFixture);
      const { batchDisclosure: bd, batch, deadline } = f;
      const reversed = [...batch.sorted].reverse();
      await discloseInChunks(f, batch, reversed, [2]);
      await expectRefused(
        f,
        [batch.batchId],
        () => finish(f, batch, reversed),
        (p) => expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureNotSorted").withArgs(batch.batchId),
      );
      // The disclosure cannot be redone: an honest provider discloses in the tree's order.
      await time.increaseTo(deadline + 1n);
      await expect(bd.connect(f.watcher).timeoutDisclosure(batch.header)).to.emit(f.ledger, "Overturned");
      expect(await f.ledger.status(batch.batchId)).to.equal(Status.Overturned);
    });

    it("refuses leaves that are not the batch's (the root does not match); the provider then loses by timeout", async () => {
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, ledger, watcher } = f;
      // The provider commits the root of some inferences, then discloses four others, valid and sorted
      // (before the rework nothing ever tied a batch's served data to its root on-chain).
      const committed = buildItems(f, [51, 52, 53, 54]);
      const shown = sortedByHash(buildItems(f, [55, 56, 57, 58]));
      const batch = await commitItems(f, committed);
      const deadline = (await timeOf(await demand(f, batch))) + BigInt(f.policy.responseWindow);
      await discloseInChunks(f, batch, shown, [4]);
      await expectRefused(
        f,
        [batch.batchId],
        () => finish(f, batch, shown),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(bd, "BatchDisclosureRootMismatch")
            .withArgs(batch.batchId, batch.header.root, treeOf(shown).root),
      );
      await time.increaseTo(deadline + 1n);
      await expect(bd.connect(watcher).timeoutDisclosure(batch.header))
        .to.emit(ledger, "Overturned")
        .withArgs(batch.batchId, ZeroHash);
    });

    it("refuses every move without an open demand", async () => {
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, provider, watcher } = f;
      const batch = await commitMnistBatch(f, [61, 62]);
      const notOpen = (p: Promise<unknown>) =>
        expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureNotOpen").withArgs(batch.batchId);
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(provider).discloseLeaves(batch.header, disclosed(batch.sorted)),
        notOpen,
      );
      await expectRefused(f, [batch.batchId], () => finish(f, batch, batch.sorted), notOpen);
      await expectRefused(f, [batch.batchId], () => bd.connect(watcher).timeoutDisclosure(batch.header), notOpen);

      // Once disclosed, the demand is closed too.
      await demand(f, batch);
      await discloseInChunks(f, batch, batch.sorted, [2]);
      await finish(f, batch, batch.sorted);
      await expectRefused(
        f,
        [batch.batchId],
        () => bd.connect(provider).discloseLeaves(batch.header, disclosed(batch.sorted)),
        notOpen,
      );
      await expectRefused(f, [batch.batchId], () => finish(f, batch, batch.sorted), notOpen);
      await time.increase(f.policy.responseWindow + 1);
      await expectRefused(f, [batch.batchId], () => bd.connect(watcher).timeoutDisclosure(batch.header), notOpen);
    });

    it("refuses a second demand while one is open, and any demand once disclosed", async () => {
      const f = await load(demandedFixture);
      const { ledger, batch, challenger } = f;
      await expectRefused(
        f,
        [batch.batchId],
        () => demand(f, batch, challenger),
        (p) => expect(p).to.be.revertedWithCustomError(ledger, "InferenceLedgerDisclosureOpen").withArgs(batch.batchId),
      );
      await discloseInChunks(f, batch, batch.sorted, [4]);
      await finish(f, batch, batch.sorted);
      await expectRefused(
        f,
        [batch.batchId],
        () => demand(f, batch, challenger),
        (p) =>
          expect(p).to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyDisclosed").withArgs(batch.batchId),
      );
    });

    it("takes a demand up to the end of the batch's window, not after it", async () => {
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, ledger, watcher } = f;
      const late = await commitMnistBatch(f, [71, 72]);
      const tooLate = await commitMnistBatch(f, [73, 74]);
      const lateDeadline = late.committedAt + BigInt(f.policy.challengeWindow);
      const closed = tooLate.committedAt + BigInt(f.policy.challengeWindow);
      await time.setNextBlockTimestamp(lateDeadline);
      await expect(demand(f, late)).to.emit(bd, "DisclosureDemanded");
      await time.increaseTo(closed + 1n);
      await expectRefused(
        f,
        [late.batchId, tooLate.batchId],
        () => demand(f, tooLate, watcher),
        (p) =>
          expect(p)
            .to.be.revertedWithCustomError(ledger, "InferenceLedgerChallengeWindowClosed")
            .withArgs(tooLate.batchId, closed),
      );
    });

    it("refuses a demand on an unknown batch, or on a known root with another count or provider", async () => {
      const f = await load(disclosureFixture);
      const { ledger } = f;
      const batch = await commitMnistBatch(f, [81, 82, 83]);
      const headers = [
        { ...batch.header, root: keccak256("0x01") },
        { ...batch.header, count: 2 },
        { ...batch.header, provider: f.provider2.address },
      ];
      for (const header of headers) {
        const id = batchIdOf(header);
        await expectRefused(
          f,
          [batch.batchId, id],
          () => demand(f, { header }),
          (p) => expect(p).to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord").withArgs(id),
        );
      }
    });

    it("cannot disclose a batch holding a duplicate leaf, which is overturned by timeout", async () => {
      // The spec says a batch MUST NOT contain two equal leaves. The OpenZeppelin tree accepts them, but
      // the disclosure requires strictly ascending leaf hashes (it cannot otherwise tell the tree's order),
      // so the provider of such a batch can never complete a disclosure and is slashed when demanded.
      const f = await load(disclosureFixture);
      const { batchDisclosure: bd, ledger, watcher } = f;
      const [a, b] = buildItems(f, [91, 92]);
      const batch = await commitItems(f, [a, b, a]);
      // The tree holds the equal leaves side by side, in the order the disclosure takes.
      const nodes = batch.tree.dump().tree;
      const treeOrder = [0, 1, 2].map((i) => nodes[nodes.length - 1 - i]);
      expect(treeOrder).to.deep.equal(batch.sorted.map((it) => it.hash));
      expect(new Set(treeOrder).size).to.equal(2);
      const deadline = (await timeOf(await demand(f, batch))) + BigInt(f.policy.responseWindow);
      await discloseInChunks(f, batch, batch.sorted, [3]); // a, a, b or b, a, a: the tree's order
      await expectRefused(
        f,
        [batch.batchId],
        () => finish(f, batch, batch.sorted),
        (p) => expect(p).to.be.revertedWithCustomError(bd, "BatchDisclosureNotSorted").withArgs(batch.batchId),
      );
      await time.increaseTo(deadline + 1n);
      await expect(bd.connect(watcher).timeoutDisclosure(batch.header))
        .to.emit(ledger, "Overturned")
        .withArgs(batch.batchId, ZeroHash);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Overturned);
    });
  });

  describe("gas", () => {
    /**
     * Demands, discloses in chunks of `perChunk` and finishes; checks every move against the honest-move cap,
     * the whole disclosure against what the bond pays for, then every move against its own bound.
     */
    async function measure(f: Disc, batch: Batch, perChunk: number) {
      const { batchDisclosure: bd, harness } = f;
      const count = batch.items.length;
      const demandGas = (await (await demand(f, batch)).wait())!.gasUsed;
      const chunks = await discloseInChunks(f, batch, batch.sorted, [perChunk]);
      const chunkGas = chunks.map((r) => r.gasUsed);
      const finishGas = (await (await finish(f, batch, batch.sorted)).wait())!.gasUsed;
      expect((await f.ledger.recordOf(batch.batchId)).flags).to.equal(Flags.DISCLOSED);
      expect((await bd.disclosureOf(batch.batchId)).phase).to.equal(DisclosurePhase.Disclosed);

      for (const gas of [demandGas, ...chunkGas, finishGas]) expect(gas).to.be.at.most(MAX_HONEST_MOVE_GAS);
      const total = chunkGas.reduce((a, b) => a + b, 0n) + finishGas;
      // What the bond pays for, at the reference gas price.
      expect(total, "whole disclosure").to.be.at.most(await harness.disclosure(count, IN_DIM));
      /** Each move against its own GasBounds bound. */
      const expectMoveBounds = async () => {
        expect(demandGas, "demandDisclosure").to.be.at.most(await harness.fixedMove());
        for (const [i, gas] of chunkGas.entries()) {
          const size = Math.min(perChunk, count - i * perChunk);
          expect(gas, `chunk ${i} of ${size} leaves`).to.be.at.most(await harness.discloseChunk(size, IN_DIM));
        }
        expect(finishGas, `finishDisclosure of ${count} leaves`).to.be.at.most(await harness.finishDisclosure(count));
      };
      return { chunkGas, finishGas, total, expectMoveBounds };
    }

    it("a one-leaf batch fits every bound", async () => {
      const f = await load(disclosureFixture);
      const batch = await commitMnistBatch(f, [1]);
      const { chunkGas, expectMoveBounds } = await measure(f, batch, 1);
      expect(chunkGas).to.have.length(1);
      await expectMoveBounds();
    });

    it("the full 1,024-leaf MNIST batch fits every bound, in the largest chunks", async function () {
      const f = await load(disclosureFixture);
      const { harness, ledger, batchDisclosure: bd } = f;
      const perChunk = Number(await harness.leavesPerChunk(IN_DIM));
      expect(perChunk).to.be.greaterThan(0);
      // The chunk size is the largest whose bound fits the honest-move cap.
      expect(await harness.discloseChunk(perChunk, IN_DIM)).to.be.at.most(MAX_HONEST_MOVE_GAS);
      expect(await harness.discloseChunk(perChunk + 1, IN_DIM)).to.be.greaterThan(MAX_HONEST_MOVE_GAS);
      const count = Number((await f.registry.getModel(f.modelId)).maxBatchLeaves);
      expect(count).to.equal(1024);
      const batch = await commitMnistBatch(
        f,
        Array.from({ length: count }, (_, i) => 1000 + i),
      );
      const { chunkGas, expectMoveBounds } = await measure(f, batch, perChunk);
      expect(chunkGas).to.have.length(Math.ceil(count / perChunk));
      // The logs alone rebuild the batch.
      const fromLogs = await leavesFromLogs(f, batch.batchId);
      expect(fromLogs.map((l) => l.leaf)).to.deep.equal(batch.sorted.map((it) => it.leaf));
      expect(fromLogs.map((l) => l.input)).to.deep.equal(batch.sorted.map((it) => vectorToHex(it.input)));
      expect(await ledger.status(batch.batchId)).to.equal(Status.Pending);
      expect(await bd.disclosureBond(batch.header)).to.equal(
        (await harness.disclosure(count, IN_DIM)) * (await f.registry.referenceGasPrice()),
      );
      await expectMoveBounds();
    });

    it("a timeout fits the fixed-move bound", async () => {
      const f = await load(disclosureFixture);
      const batch = await commitMnistBatch(f, [2, 3]);
      await demand(f, batch);
      await time.increase(f.policy.responseWindow + 1);
      const gas = (await (await f.batchDisclosure.connect(f.watcher).timeoutDisclosure(batch.header)).wait())!.gasUsed;
      expect(gas).to.be.at.most(await f.harness.fixedMove());
    });
  });
});

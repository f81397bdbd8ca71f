import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { FunctionFragment } from "ethers";
import { hashVector, traceRoot } from "../../src/engine/index.js";
import { commitmentIdOf, leafHashOf } from "../../src/sdk/ids.js";
import {
  balancesOf,
  checkVaultAfterEach,
  commitBatch,
  commitInference,
  creditsOf,
  deadlineOf,
  deployDisputes,
  expectFundsConserved,
  expectState,
  Flags,
  fraudProof,
  keyOf,
  L,
  neuronProofAt,
  openGame,
  openLeafGame,
  Outcome,
  passChallengeWindow,
  passDeadline,
  Phase,
  playToProof,
  poolOf,
  revealInput,
  revealLayer,
  revealTrace,
  selectLayer,
  shareOf,
  Status,
  vectorToHex,
  type Game,
  type Mnist,
} from "./helpers.js";
import { infer, pseudoDigit } from "../helpers/disputeFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const mnistFixture = () => deployDisputes(connection);

const STAKE = ethers.parseEther("1000");
const ZERO = ethers.ZeroHash;

/** Payout expectations of a game that ended ChallengerWon with a first slash, alone on its target. */
async function expectChallengerPaid(f: Mnist, g: Game) {
  const { bond, slashAmount, challengerShareBps } = g.params;
  const share = shareOf(BigInt(slashAmount), BigInt(challengerShareBps));
  expect(await creditsOf(f, [g.challenger, f.treasury, g.c.provider])).to.deep.equal([
    BigInt(bond) + share,
    BigInt(slashAmount) - share,
    0n,
  ]);
  const stake = await f.stakeManager.stakeOf(g.c.provider.address);
  expect([stake.active, stake.unbonding, stake.openDisputes]).to.deep.equal([STAKE - BigInt(slashAmount), 0n, 0n]);
  expect(await f.ledger.providerStakeOf(g.c.provider.address)).to.equal(STAKE - BigInt(slashAmount));
  expect(await f.stakeManager.totalBonds()).to.equal(0n);
  expect((await f.disputeGame.gameOf(g.id)).rewardPaid).to.equal(true);
  // Paid at once: no pool is stored for a target that had no other game open.
  expect(await poolOf(f, g)).to.deep.equal([false, 0n, 0n, 0n, 0n]);
  await expectFundsConserved(f);
}

/** Payout expectations of a game that ended ProviderWon: the bond is the provider's, its stake intact. */
async function expectProviderPaid(f: Mnist, g: Game) {
  expect(await creditsOf(f, [g.challenger, f.treasury, g.c.provider])).to.deep.equal([0n, 0n, BigInt(g.params.bond)]);
  const stake = await f.stakeManager.stakeOf(g.c.provider.address);
  expect([stake.active, stake.unbonding, stake.openDisputes]).to.deep.equal([STAKE, 0n, 0n]);
  expect(await f.stakeManager.totalBonds()).to.equal(0n);
  expect((await f.disputeGame.gameOf(g.id)).rewardPaid).to.equal(false);
  await expectFundsConserved(f);
}

describe("DisputeGame scenarios on the MNIST model", () => {
  const guard = checkVaultAfterEach();
  const load = async () => guard(await networkHelpers.loadFixture(mnistFixture));

  describe("a provider wrong at one neuron", () => {
    const cases = [
      { name: "first", layer: 1, neuron: 7 },
      { name: "middle", layer: 2, neuron: 5 },
      { name: "last", layer: 3, neuron: 4 },
    ];
    for (const { name, layer, neuron } of cases) {
      it(`is slashed once and pays the challenger when the ${name} layer is wrong`, async () => {
        const f = await load();
        const { disputeGame, ledger, stakeManager, token, policy, challenger, provider } = f;
        const c = await commitInference(f, { seed: 10 + layer, fault: { layer, neuron, delta: 3 } });
        expect((await ledger.recordOf(c.id)).flags).to.equal(Flags.INPUT_PUBLIC);
        const [before] = await balancesOf(f, [challenger]);

        const g = await openGame(f, c);
        await expect(g.tx).to.emit(stakeManager, "BondPosted").withArgs(challenger.address, policy.challengerBond);
        expect(await token.balanceOf(challenger.address)).to.equal(before - policy.challengerBond);
        expect(await ledger.status(c.id)).to.equal(Status.Disputed);
        expect((await stakeManager.stakeOf(provider.address)).openDisputes).to.equal(1n);

        expect(await playToProof(f, g)).to.equal(layer);
        await expectState(disputeGame, g.id, Phase.AwaitingNeuronProof);
        const proof = fraudProof(f, g, layer);
        expect(proof.neuron).to.equal(neuron);
        const expected = c.honest.activations[layer][neuron];
        const claimed = c.claimed.activations[layer][neuron];
        expect(claimed).to.not.equal(expected);
        const share = shareOf(policy.slashAmount, 5000n);
        await expect(disputeGame.connect(challenger).proveNeuron(g.params, proof))
          .to.emit(disputeGame, "FraudProven")
          .withArgs(g.id, layer, neuron, expected, claimed)
          .and.to.emit(disputeGame, "DisputeResolved")
          .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount)
          .and.to.emit(disputeGame, "RewardEscrowed")
          .withArgs(c.id, share, 0)
          .and.to.emit(disputeGame, "RewardPaid")
          .withArgs(g.id, challenger.address, share)
          .and.to.emit(stakeManager, "StakeSlashed")
          .withArgs(provider.address, policy.slashAmount, share)
          .and.to.emit(ledger, "Overturned")
          .withArgs(c.id, ZERO);

        await expectState(disputeGame, g.id, Phase.Resolved, Outcome.ChallengerWon);
        expect(await ledger.status(c.id)).to.equal(Status.Overturned);
        expect((await ledger.recordOf(c.id)).openDisputes).to.equal(0n);
        await expectChallengerPaid(f, g);

        await stakeManager.connect(challenger).claim();
        expect(await token.balanceOf(challenger.address)).to.equal(before + share);
        await expectFundsConserved(f);
      });
    }
  });

  describe("a provider whose trace does not fit its commitment", () => {
    it("cannot defend a wrong output committed with the correct trace and loses by timeout", async () => {
      const f = await load();
      const { disputeGame, provider, policy } = f;
      const honest = infer(f.model, pseudoDigit(21));
      const wrongOutput = honest.output.slice();
      wrongOutput[0] = wrongOutput[0] === 127 ? 126 : wrongOutput[0] + 1;
      const inference = {
        inputHash: honest.inputHash,
        outputHash: hashVector(wrongOutput),
        traceRoot: honest.traceRoot,
      };
      const c = await commitInference(f, { seed: 21, claimed: honest, inference, provider: f.provider2 });
      const g = await openGame(f, c);

      // The honest trace fits the root but ends elsewhere; a trace ending at the committed output does not fit the root.
      await expect(disputeGame.connect(f.provider2).revealTrace(g.params, honest.layerHashes))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameTraceOutputMismatch")
        .withArgs(inference.outputHash, honest.outputHash);
      const forged = [...honest.layerHashes.slice(0, L), inference.outputHash];
      await expect(disputeGame.connect(f.provider2).revealTrace(g.params, forged))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameTraceRootMismatch")
        .withArgs(honest.traceRoot, traceRoot(forged));
      await expectState(disputeGame, g.id, Phase.AwaitingTrace);

      await passDeadline(connection, f, g);
      await expect(disputeGame.connect(f.watcher).timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount)
        .and.not.to.emit(disputeGame, "FraudProven");
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
      const share = shareOf(policy.slashAmount, 5000n);
      expect(await creditsOf(f, [f.challenger, f.treasury, f.provider2, f.watcher])).to.deep.equal([
        policy.challengerBond + share,
        policy.slashAmount - share,
        0n,
        0n,
      ]);
      expect((await f.stakeManager.stakeOf(f.provider2.address)).active).to.equal(STAKE - policy.slashAmount);
      expect((await f.stakeManager.stakeOf(provider.address)).active).to.equal(STAKE);
      await expectFundsConserved(f);
    });

    it("cannot reveal any trace but the committed one (TraceRootMismatch) and loses by timeout", async () => {
      const f = await load();
      const { disputeGame, provider, policy } = f;
      const c = await commitInference(f, { seed: 22, fault: { layer: 2, neuron: 9 } });
      const g = await openGame(f, c);
      await expect(disputeGame.connect(provider).revealTrace(g.params, c.honest.layerHashes))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameTraceRootMismatch")
        .withArgs(c.claimed.traceRoot, c.honest.traceRoot);
      await passDeadline(connection, f, g);
      await expect(disputeGame.timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      await expectChallengerPaid(f, g);
    });

    it("cannot defend a trace root computed on another input (TraceInputMismatch) and loses by timeout", async () => {
      const f = await load();
      const { disputeGame, provider, policy } = f;
      const other = infer(f.model, pseudoDigit(24));
      const input = pseudoDigit(23);
      const inference = { inputHash: hashVector(input), outputHash: other.outputHash, traceRoot: other.traceRoot };
      const c = await commitInference(f, {
        seed: 23,
        claimed: other,
        inference,
        inputData: vectorToHex(input),
      });
      expect((await f.ledger.recordOf(c.id)).flags).to.equal(Flags.INPUT_PUBLIC);
      const g = await openGame(f, c);
      await expect(disputeGame.connect(provider).revealTrace(g.params, other.layerHashes))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameTraceInputMismatch")
        .withArgs(inference.inputHash, other.inputHash);
      await passDeadline(connection, f, g);
      await expect(disputeGame.timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      await expectChallengerPaid(f, g);
    });
  });

  describe("a correct provider against a lying challenger", () => {
    for (const layer of [1, 2, 3]) {
      it(`keeps its stake and wins the bond when the challenger disputes layer ${layer}`, async () => {
        const f = await load();
        const { disputeGame, ledger, policy, provider } = f;
        const liar = f.challenger2;
        const c = await commitInference(f, { seed: 40 + layer });
        const [liarBefore] = await balancesOf(f, [liar]);
        const g = await openGame(f, c, liar);
        await revealTrace(f, g);
        await selectLayer(f, g, layer);
        const t = (await networkHelpers.time.latest()) + 5;
        await networkHelpers.time.setNextBlockTimestamp(t);
        await expect(revealLayer(f, g, layer))
          .to.emit(disputeGame, "LayerRevealed")
          .withArgs(g.id, layer, vectorToHex(c.honest.activations[layer]), t + 3600);

        // Every neuron the liar tries is recomputed to the provider's value.
        const outDim = f.model.layers[layer - 1].spec.outDim;
        const tried = layer === 1 ? [0, 1, 31, 64, 100, 127] : Array.from({ length: outDim }, (_, j) => j);
        for (const j of tried) {
          await expect(disputeGame.connect(liar).proveNeuron(g.params, neuronProofAt(f, g, layer, j)))
            .to.be.revertedWithCustomError(disputeGame, "DisputeGameNeuronMatches")
            .withArgs(j, c.honest.activations[layer][j]);
        }
        await expectState(disputeGame, g.id, Phase.AwaitingNeuronProof);

        await passDeadline(connection, f, g);
        await expect(disputeGame.connect(provider).timeout(g.params))
          .to.emit(disputeGame, "DisputeResolved")
          .withArgs(g.id, Outcome.ProviderWon, 0)
          .and.to.emit(f.stakeManager, "BondReleased")
          .withArgs(provider.address, policy.challengerBond);
        await expectProviderPaid(f, g);
        expect(await f.token.balanceOf(liar.address)).to.equal(liarBefore - policy.challengerBond);

        // Final once the window has passed (the game took three response windows: it already has).
        expect(await ledger.status(c.id)).to.equal(Status.Final);
        expect(await ledger.isFinal(c.id)).to.equal(true);
        const [providerBefore] = await balancesOf(f, [provider]);
        await f.stakeManager.connect(provider).claim();
        expect(await f.token.balanceOf(provider.address)).to.equal(providerBefore + policy.challengerBond);
      });
    }

    it("keeps its stake when the liar stops after the trace; the commitment is Disputed, then Final", async () => {
      const f = await load();
      const { disputeGame, ledger } = f;
      const c = await commitInference(f, { seed: 44 });
      const g = await openGame(f, c, f.challenger2);
      await revealTrace(f, g);
      expect(await ledger.status(c.id)).to.equal(Status.Disputed);
      const deadline = await deadlineOf(f, g);
      expect(deadline).to.be.greaterThan((await ledger.recordOf(c.id)).challengeDeadline);
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
      await expect(disputeGame.timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ProviderWon, 0);
      await expectProviderPaid(f, g);
      expect(await ledger.status(c.id)).to.equal(Status.Final);
    });
  });

  describe("timeouts at every phase", () => {
    /** Times a game out exactly at (reverts) and one second after (resolves) its deadline. */
    async function timeOutAtBoundary(f: Mnist, g: Game, outcome: bigint, slashed: bigint) {
      const deadline = await deadlineOf(f, g);
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      // A gas limit skips estimation, so the call is mined at exactly the deadline.
      await expect(f.disputeGame.connect(f.watcher).timeout(g.params, { gasLimit: 1_000_000 }))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameDeadlineNotPassed")
        .withArgs(g.id, deadline);
      expect(BigInt(await networkHelpers.time.latest())).to.equal(deadline);
      await expect(f.disputeGame.connect(f.watcher).timeout(g.params))
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(g.id, outcome, slashed);
      await expectState(f.disputeGame, g.id, Phase.Resolved, outcome);
      expect(await creditsOf(f, [f.watcher])).to.deep.equal([0n]);
    }

    it("awards the challenger when the provider does not reveal the trace (AwaitingTrace)", async () => {
      const f = await load();
      const g = await openGame(f, await commitInference(f, { seed: 50, fault: { layer: 1, neuron: 0 } }));
      await expectState(f.disputeGame, g.id, Phase.AwaitingTrace);
      await timeOutAtBoundary(f, g, Outcome.ChallengerWon, f.policy.slashAmount);
      await expectChallengerPaid(f, g);
      expect(await f.ledger.status(g.c.id)).to.equal(Status.Overturned);
    });

    it("awards the provider when the challenger does not select a layer (AwaitingLayerSelection)", async () => {
      const f = await load();
      const g = await openGame(f, await commitInference(f, { seed: 51 }));
      await revealTrace(f, g);
      await expectState(f.disputeGame, g.id, Phase.AwaitingLayerSelection);
      await timeOutAtBoundary(f, g, Outcome.ProviderWon, 0n);
      await expectProviderPaid(f, g);
    });

    it("awards the challenger when the provider does not reveal the layer (AwaitingLayerReveal)", async () => {
      const f = await load();
      const g = await openGame(f, await commitInference(f, { seed: 52, fault: { layer: 3, neuron: 2 } }));
      await revealTrace(f, g);
      await selectLayer(f, g, 3);
      await expectState(f.disputeGame, g.id, Phase.AwaitingLayerReveal);
      await timeOutAtBoundary(f, g, Outcome.ChallengerWon, f.policy.slashAmount);
      await expectChallengerPaid(f, g);
    });

    it("awards the provider when the challenger does not prove a neuron (AwaitingNeuronProof)", async () => {
      const f = await load();
      const g = await openGame(f, await commitInference(f, { seed: 53 }));
      await playToProof(f, g, 2);
      await expectState(f.disputeGame, g.id, Phase.AwaitingNeuronProof);
      await timeOutAtBoundary(f, g, Outcome.ProviderWon, 0n);
      await expectProviderPaid(f, g);
    });

    it("awards the challenger when the provider does not reveal a demanded leaf input (AwaitingInput)", async () => {
      const f = await load();
      const batch = await commitBatch(f, [54, 55], [undefined, { layer: 2, neuron: 3 }]);
      const g = await openLeafGame(f, batch, 1, true);
      await expectState(f.disputeGame, g.id, Phase.AwaitingInput);
      await timeOutAtBoundary(f, g, Outcome.ChallengerWon, f.policy.slashAmount);
      await expectChallengerPaid(f, g);
      expect(await f.ledger.leafStatus(batch.header, batch.proof(1), batch.leaf(1).inference)).to.equal(
        Status.Overturned,
      );
    });

    it("awards the challenger when the provider does not reveal the input behind a URI (AwaitingInput)", async () => {
      const f = await load();
      const c = await commitInference(f, { seed: 59, uri: true });
      expect((await f.ledger.recordOf(c.id)).flags).to.equal(0n);
      const g = await openGame(f, c, f.challenger, { demandInput: true });
      await expectState(f.disputeGame, g.id, Phase.AwaitingInput);
      await timeOutAtBoundary(f, g, Outcome.ChallengerWon, f.policy.slashAmount);
      await expectChallengerPaid(f, g);
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
    });

    it("refunds the challenger who lets the game lapse after the input is revealed (InputRevealed)", async () => {
      const f = await load();
      const batch = await commitBatch(f, [56, 57]);
      const [before] = await balancesOf(f, [f.challenger]);
      const g = await openLeafGame(f, batch, 0, true);
      await revealInput(f, g);
      await expectState(f.disputeGame, g.id, Phase.InputRevealed);
      await timeOutAtBoundary(f, g, Outcome.Refunded, 0n);
      expect(await creditsOf(f, [f.challenger, f.provider, f.treasury])).to.deep.equal([
        f.policy.challengerBond,
        0n,
        0n,
      ]);
      expect([...(await f.stakeManager.stakeOf(f.provider.address))]).to.deep.equal([STAKE, 0n, 0n, 0n]);
      await f.stakeManager.connect(f.challenger).claim();
      expect(await f.token.balanceOf(f.challenger.address)).to.equal(before);
      await passChallengeWindow(connection, f, batch.batchId);
      expect(await f.ledger.leafStatus(batch.header, batch.proof(0), batch.leaf(0).inference)).to.equal(Status.Final);
      await expectFundsConserved(f);
    });

    it("lets the party to move answer at exactly the deadline but not one second later", async () => {
      const f = await load();
      const g = await openGame(f, await commitInference(f, { seed: 58, fault: { layer: 1, neuron: 1 } }));
      let deadline = await deadlineOf(f, g);
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await revealTrace(f, g); // at the deadline: in time
      deadline = await deadlineOf(f, g);
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
      await expect(selectLayer(f, g, 1))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameDeadlinePassed")
        .withArgs(g.id, deadline);
    });
  });

  describe("parallel disputes and a colluding challenger", () => {
    /** A fraudulent commitment with three games: a colluder who walks away, an honest challenger, a latecomer. */
    async function threeGames(f: Mnist) {
      const c = await commitInference(f, { seed: 60, fault: { layer: 2, neuron: 11 } });
      const colluder = await openGame(f, c, f.challenger2);
      const honest = await openGame(f, c, f.challenger);
      const late = await openGame(f, c, f.watcher);
      expect((await f.ledger.recordOf(c.id)).openDisputes).to.equal(3n);
      expect((await f.stakeManager.stakeOf(f.provider.address)).openDisputes).to.equal(3n);
      // The provider plays along with the colluder, who then walks away.
      await revealTrace(f, colluder);
      const layer = await playToProof(f, honest);
      const share = shareOf(f.policy.slashAmount, 5000n);
      await expect(f.disputeGame.connect(f.challenger).proveNeuron(honest.params, fraudProof(f, honest, layer)))
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(honest.id, Outcome.ChallengerWon, f.policy.slashAmount)
        .and.to.emit(f.disputeGame, "RewardEscrowed")
        .withArgs(c.id, share, 2)
        .and.not.to.emit(f.disputeGame, "RewardPaid");
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
      expect((await f.ledger.recordOf(c.id)).openDisputes).to.equal(2n);
      // The share waits for the two other games; the honest challenger has its bond back already.
      expect(await poolOf(f, honest)).to.deep.equal([true, share, 2n, 1n, 0n]);
      expect(await creditsOf(f, [f.challenger])).to.deep.equal([f.policy.challengerBond]);
      expect(await f.stakeManager.totalBonds()).to.equal(2n * f.policy.challengerBond + share);
      return { c, colluder, honest, late, layer, share };
    }

    it("slashes once for the honest challenger, who claims the whole share once the others closed", async () => {
      const f = await load();
      const { colluder, late, honest, share } = await threeGames(f);
      await expect(f.disputeGame.claimReward(honest.params))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameRewardPending")
        .withArgs(honest.id, 2);
      // Only a game's own challenger may withdraw it.
      await expect(f.disputeGame.connect(f.watcher).closeOverturned(colluder.params))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameWrongParty")
        .withArgs(colluder.id, f.watcher.address, f.challenger2.address);
      await expect(f.disputeGame.connect(f.challenger2).closeOverturned(colluder.params))
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(colluder.id, Outcome.Refunded, 0)
        .and.not.to.emit(f.stakeManager, "StakeSlashed");
      await expect(f.disputeGame.connect(f.watcher).closeOverturned(late.params))
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(late.id, Outcome.Refunded, 0)
        .and.not.to.emit(f.disputeGame, "RewardPaid");
      expect(await poolOf(f, honest)).to.deep.equal([true, share, 0n, 1n, 0n]);
      await expect(f.disputeGame.connect(f.watcher).claimReward(honest.params))
        .to.emit(f.disputeGame, "RewardPaid")
        .withArgs(honest.id, f.challenger.address, share);
      await expect(f.disputeGame.claimReward(honest.params))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameNoReward")
        .withArgs(honest.id);
      await expect(f.disputeGame.claimReward(late.params))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameNoReward")
        .withArgs(late.id);
      const bond = f.policy.challengerBond;
      expect(await creditsOf(f, [f.challenger, f.challenger2, f.watcher, f.treasury, f.provider])).to.deep.equal([
        bond + share,
        bond,
        bond,
        f.policy.slashAmount - share,
        0n,
      ]);
      const stake = await f.stakeManager.stakeOf(f.provider.address);
      expect([stake.active, stake.openDisputes]).to.deep.equal([STAKE - f.policy.slashAmount, 0n]);
      expect(await f.stakeManager.totalBonds()).to.equal(0n);
      await expectFundsConserved(f);
    });

    it("refunds the colluder's game by timeout instead of paying its bond to the provider", async () => {
      const f = await load();
      const { colluder, honest } = await threeGames(f);
      await expectState(f.disputeGame, colluder.id, Phase.AwaitingLayerSelection); // the colluder's move
      await passDeadline(connection, f, colluder);
      await expect(f.disputeGame.connect(f.provider).timeout(colluder.params))
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(colluder.id, Outcome.Refunded, 0);
      expect(await creditsOf(f, [f.challenger2, f.provider])).to.deep.equal([f.policy.challengerBond, 0n]);
      expect((await poolOf(f, honest))[2]).to.equal(1n);
      await expectFundsConserved(f);
    });

    it("splits the share with a third game that proves the same fraud later, with no second slash", async () => {
      const f = await load();
      const { late, honest, colluder, layer, share } = await threeGames(f);
      await playToProof(f, late, layer);
      await expect(f.disputeGame.connect(f.watcher).proveNeuron(late.params, fraudProof(f, late, layer)))
        .to.emit(f.disputeGame, "FraudProven")
        .and.to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(late.id, Outcome.ChallengerWon, 0)
        .and.not.to.emit(f.stakeManager, "StakeSlashed");
      expect(await poolOf(f, honest)).to.deep.equal([true, share, 1n, 2n, 0n]);
      await expect(f.disputeGame.claimReward(late.params))
        .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameRewardPending")
        .withArgs(late.id, 1);
      await f.disputeGame.connect(f.challenger2).closeOverturned(colluder.params);
      await expect(f.disputeGame.claimReward(late.params))
        .to.emit(f.disputeGame, "RewardPaid")
        .withArgs(late.id, f.watcher.address, share / 2n);
      await expect(f.disputeGame.claimReward(honest.params))
        .to.emit(f.disputeGame, "RewardPaid")
        .withArgs(honest.id, f.challenger.address, share - share / 2n);
      const bond = f.policy.challengerBond;
      expect(await creditsOf(f, [f.challenger, f.watcher, f.challenger2])).to.deep.equal([
        bond + share - share / 2n,
        bond + share / 2n,
        bond,
      ]);
      expect((await f.stakeManager.stakeOf(f.provider.address)).active).to.equal(STAKE - f.policy.slashAmount);
      expect(await f.stakeManager.totalBonds()).to.equal(0n);
      await expectFundsConserved(f);
    });
  });

  describe("batch leaves", () => {
    it("overturns only the disputed leaf; the other leaves of the batch become Final", async () => {
      const f = await load();
      const { disputeGame, ledger } = f;
      const batch = await commitBatch(f, [70, 71, 72, 73], [undefined, undefined, { layer: 3, neuron: 6 }, undefined]);
      const statuses = () =>
        Promise.all([0, 1, 2, 3].map((i) => ledger.leafStatus(batch.header, batch.proof(i), batch.leaf(i).inference)));
      const g = await openLeafGame(f, batch, 2, false);
      await expect(g.tx)
        .to.emit(disputeGame, "DisputeOpened")
        .withArgs(g.id, batch.batchId, f.challenger.address, anyValue, Phase.AwaitingTrace, await deadlineOf(f, g));
      expect(g.params.isLeaf).to.equal(true);
      expect(await disputeGame.targetKeyOf(g.params)).to.equal(batch.leafKey(2));
      expect(await statuses()).to.deep.equal([Status.Pending, Status.Pending, Status.Disputed, Status.Pending]);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Disputed);

      const layer = await playToProof(f, g);
      expect(layer).to.equal(3);
      const leafHash = leafHashOf(g.c.inference);
      const share = shareOf(f.policy.slashAmount, 5000n);
      await expect(disputeGame.connect(f.challenger).proveNeuron(g.params, fraudProof(f, g, 3)))
        .to.emit(disputeGame, "FraudProven")
        .withArgs(g.id, 3, 6, g.c.honest.activations[3][6], g.c.claimed.activations[3][6])
        .and.to.emit(disputeGame, "RewardEscrowed")
        .withArgs(batch.leafKey(2), share, 0)
        .and.to.emit(ledger, "Overturned")
        .withArgs(batch.batchId, leafHash);
      await expectChallengerPaid(f, g);
      expect([...(await ledger.leafRecordOf(batch.batchId, leafHash))]).to.deep.equal([0n, true]);
      expect(await ledger.status(batch.batchId)).to.equal(Status.Overturned);
      expect((await ledger.recordOf(batch.batchId)).flags).to.equal(Flags.LEAF_OVERTURNED);
      await passChallengeWindow(connection, f, batch.batchId);
      expect(await statuses()).to.deep.equal([Status.Final, Status.Final, Status.Overturned, Status.Final]);
      expect(await ledger.isLeafFinal(batch.header, batch.proof(0), batch.leaf(0).inference)).to.equal(true);
    });

    it("plays a full game after the demanded input is revealed and the challenger continues", async () => {
      const f = await load();
      const { disputeGame, provider, challenger } = f;
      const batch = await commitBatch(f, [74, 75], [{ layer: 1, neuron: 100 }, undefined]);
      const g = await openLeafGame(f, batch, 0, true);
      const inputHex = vectorToHex(batch.runs[0].input);
      const t = (await networkHelpers.time.latest()) + 1;
      await networkHelpers.time.setNextBlockTimestamp(t);
      await expect(disputeGame.connect(provider).revealInput(g.params, inputHex))
        .to.emit(disputeGame, "InputRevealed")
        .withArgs(g.id, inputHex, t + 3600);
      await networkHelpers.time.setNextBlockTimestamp(t + 10);
      await expect(disputeGame.connect(challenger).continueDispute(g.params))
        .to.emit(disputeGame, "DisputeContinued")
        .withArgs(g.id, t + 10 + 3600);
      await expectState(disputeGame, g.id, Phase.AwaitingTrace);
      const layer = await playToProof(f, g);
      await expect(disputeGame.connect(challenger).proveNeuron(g.params, fraudProof(f, g, layer)))
        .to.emit(disputeGame, "FraudProven")
        .withArgs(g.id, 1, 100, g.c.honest.activations[1][100], g.c.claimed.activations[1][100]);
      await expectChallengerPaid(f, g);
    });

    it("slashes a provider who ignores the input demand", async () => {
      const f = await load();
      const batch = await commitBatch(f, [76, 77], [undefined, { layer: 3, neuron: 0 }]);
      const g = await openLeafGame(f, batch, 1, true);
      await passDeadline(connection, f, g);
      await expect(f.disputeGame.timeout(g.params))
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, f.policy.slashAmount);
      await expectChallengerPaid(f, g);
    });
  });

  describe("single commitments with the input behind a URI", () => {
    it("answer an input demand, then play a full game when the challenger continues", async () => {
      const f = await load();
      const { disputeGame, provider, challenger } = f;
      const c = await commitInference(f, { seed: 80, fault: { layer: 2, neuron: 8 }, uri: true });
      const g = await openGame(f, c, challenger, { demandInput: true });
      await expect(g.tx)
        .to.emit(disputeGame, "DisputeOpened")
        .withArgs(g.id, c.id, challenger.address, anyValue, Phase.AwaitingInput, await deadlineOf(f, g));
      // Bytes of the wrong length or hashing elsewhere are refused.
      await expect(disputeGame.connect(provider).revealInput(g.params, vectorToHex(pseudoDigit(81))))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameInputHashMismatch")
        .withArgs(c.inference.inputHash, hashVector(pseudoDigit(81)));
      await expect(revealInput(f, g))
        .to.emit(disputeGame, "InputRevealed")
        .withArgs(g.id, vectorToHex(c.input), anyValue);
      await expect(revealTrace(f, g))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameUnexpectedPhase")
        .withArgs(g.id, Phase.InputRevealed, Phase.AwaitingTrace);
      await disputeGame.connect(challenger).continueDispute(g.params);
      const layer = await playToProof(f, g);
      await expect(disputeGame.connect(challenger).proveNeuron(g.params, fraudProof(f, g, layer)))
        .to.emit(disputeGame, "FraudProven")
        .withArgs(g.id, 2, 8, c.honest.activations[2][8], c.claimed.activations[2][8]);
      await expectChallengerPaid(f, g);
    });

    it("may also be disputed without an input demand (the challenger got the input elsewhere)", async () => {
      const f = await load();
      const c = await commitInference(f, { seed: 82, fault: { layer: 3, neuron: 1 }, uri: true });
      const g = await openGame(f, c);
      await expectState(f.disputeGame, g.id, Phase.AwaitingTrace);
      const layer = await playToProof(f, g);
      await f.disputeGame.connect(f.challenger).proveNeuron(g.params, fraudProof(f, g, layer));
      await expectChallengerPaid(f, g);
    });
  });

  describe("finality and withdrawals", () => {
    it("keeps a commitment Disputed, not Final, while a dispute is open after the window", async () => {
      const f = await load();
      const { ledger } = f;
      const c = await commitInference(f, { seed: 83 });
      expect(await ledger.status(c.id)).to.equal(Status.Pending);
      const g = await openGame(f, c, f.challenger2);
      await revealTrace(f, g);
      await networkHelpers.time.increase(30 * 24 * 3600);
      expect(await ledger.status(c.id)).to.equal(Status.Disputed);
      expect(await ledger.isFinal(c.id)).to.equal(false);
      expect([...(await ledger.finalityOf(c.id))]).to.deep.equal([Status.Disputed, 0n]);
      await f.disputeGame.timeout(g.params);
      expect(await ledger.status(c.id)).to.equal(Status.Final);
      expect(await ledger.isFinal(c.id)).to.equal(true);
      expect([...(await ledger.finalityOf(c.id))]).to.deep.equal([Status.Final, 1n]); // ChallengeWindow
    });

    it("blocks withdrawal while a dispute is open and allows it after resolution and the delay", async () => {
      const f = await load();
      const { stakeManager, provider, token } = f;
      const amount = ethers.parseEther("300");
      const c = await commitInference(f, { seed: 84 });
      await stakeManager.connect(provider).requestUnbond(amount);
      const readyAt = (await stakeManager.stakeOf(provider.address)).unbondingReadyAt;
      const g = await openGame(f, c, f.challenger2);
      await revealTrace(f, g);
      await networkHelpers.time.increaseTo(readyAt);
      await expect(stakeManager.connect(provider).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerOpenDisputes")
        .withArgs(provider.address, 1);
      await expect(f.disputeGame.timeout(g.params))
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ProviderWon, 0);
      const [before] = await balancesOf(f, [provider]);
      await expect(stakeManager.connect(provider).withdraw())
        .to.emit(stakeManager, "StakeWithdrawn")
        .withArgs(provider.address, amount);
      expect(await token.balanceOf(provider.address)).to.equal(before + amount);
      expect([...(await stakeManager.stakeOf(provider.address))]).to.deep.equal([STAKE - amount, 0n, 0n, 0n]);

      // Unbonding requested after a resolution still waits the full delay.
      await stakeManager.connect(provider).requestUnbond(amount);
      const next = (await stakeManager.stakeOf(provider.address)).unbondingReadyAt;
      await expect(stakeManager.connect(provider).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerStillUnbonding")
        .withArgs(provider.address, next);
      await expectFundsConserved(f);
    });
  });

  describe("opening conditions", () => {
    it("opens at exactly the end of the challenge window and reverts ChallengeWindowClosed one second later", async () => {
      const f = await load();
      const { disputeGame, ledger } = f;
      const c = await commitInference(f, { seed: 100 });
      const deadline = (await ledger.recordOf(c.id)).challengeDeadline;
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await expect(disputeGame.connect(f.challenger).openDispute(keyOf(c), false, 1n)).to.emit(
        disputeGame,
        "DisputeOpened",
      );
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
      const late = disputeGame.connect(f.challenger2).openDispute(keyOf(c), false, 1n, { gasLimit: 2_000_000 });
      await expect(late)
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(c.id, deadline);
      expect(BigInt(await networkHelpers.time.latest())).to.equal(deadline + 1n);
      expect((await ledger.recordOf(c.id)).openDisputes).to.equal(1n);
    });

    it("reverts AlreadyOverturned on an overturned commitment", async () => {
      const f = await load();
      const c = await commitInference(f, { seed: 102, fault: { layer: 3, neuron: 9 } });
      const g = await openGame(f, c);
      const layer = await playToProof(f, g);
      await f.disputeGame.connect(f.challenger).proveNeuron(g.params, fraudProof(f, g, layer));
      await expect(f.disputeGame.connect(f.challenger2).openDispute(keyOf(c), false, 5n))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(c.id);
    });

    it("reverts UnknownRecord when the key (inference, model, provider or binding) is not a commitment", async () => {
      const f = await load();
      const { disputeGame, ledger } = f;
      const c = await commitInference(f, { seed: 103 });
      const other = await commitInference(f, { seed: 104 });
      const keys = [
        { ...keyOf(c), inference: { ...c.inference, outputHash: other.inference.outputHash } },
        { ...keyOf(c), modelId: ethers.id("another model") },
        { ...keyOf(c), provider: f.provider2.address },
        { ...keyOf(c), binding: ethers.id("binding") },
      ];
      for (const key of keys) {
        const id = commitmentIdOf(key.provider, key.modelId, key.inference, key.binding);
        expect(await ledger.commitmentIdOf(key)).to.equal(id);
        await expect(disputeGame.connect(f.challenger).openDispute(key, false, 1n))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
          .withArgs(id);
      }
      expect((await f.ledger.recordOf(c.id)).openDisputes).to.equal(0n);
      expect(await f.stakeManager.totalBonds()).to.equal(0n);
    });

    it("never games a model of another engine: the ledger takes no commitment of it", async () => {
      // Such a model has no layers, so no game could recompute it (DisputeGameUnsupportedModel); the ledger
      // refuses its optimistic commitments first, so no dispute can even name one.
      const f = await load();
      const { disputeGame, registry, ledger } = f;
      const spec = {
        engineId: ethers.id("verity.other-engine.v1"),
        weightsRoot: f.commitments.weightsRoot,
        layers: [],
        graphHash: f.commitments.graphHash,
        metadataURI: "ipfs://other",
      };
      await registry.connect(f.publisher).registerModel(spec, f.policy);
      const modelId = await registry.computeModelId(
        f.publisher.address,
        await registry.computeContentHash(spec.weightsRoot, spec.graphHash, spec.engineId),
      );
      expect((await registry.getModel(modelId)).optimistic).to.equal(false);
      expect(await disputeGame.requiredBond(modelId)).to.equal(f.policy.challengerBond);
      const run = infer(f.model, pseudoDigit(105));
      await expect(ledger.connect(f.provider).commit(modelId, run.inputHash, run.outputHash, run.traceRoot, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerNotOptimistic")
        .withArgs(modelId);
      const inference = { inputHash: run.inputHash, outputHash: run.outputHash, traceRoot: run.traceRoot };
      const key2 = { provider: f.provider.address, modelId, inference, binding: ZERO };
      await expect(disputeGame.connect(f.challenger).openDispute(key2, false, 1n))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
        .withArgs(commitmentIdOf(key2.provider, modelId, key2.inference));
    });
  });

  describe("policy snapshots", () => {
    it("offers no way to change a registered model's policy", async () => {
      const f = await load();
      const { registry, modelId } = f;
      const writers = registry.interface.fragments
        .filter((x): x is FunctionFragment => FunctionFragment.isFragment(x))
        .filter((fn) => !fn.constant)
        .map((fn) => fn.name)
        .sort();
      // allowEnvironment / disallowEnvironment edit the model's environment set, approveVerifier / revokeVerifier
      // its proof verifier pairing (governance), never its policy (checked below).
      expect(writers).to.deep.equal([
        "allowEnvironment",
        "approveVerifier",
        "deprecateModel",
        "disallowEnvironment",
        "grantRole",
        "registerModel",
        "registerVersion",
        "renounceRole",
        "revokeModel",
        "revokeRole",
        "revokeVerifier",
        "setReferenceGasPrice",
      ]);
      const cheaper = { ...f.policy, challengerBond: ethers.parseEther("1") };
      await expect(registry.connect(f.publisher).registerModel(mnistSpecOf(f), cheaper))
        .to.be.revertedWithCustomError(registry, "ModelRegistryAlreadyRegistered")
        .withArgs(modelId);
      expect((await registry.policyOf(modelId)).challengerBond).to.equal(f.policy.challengerBond);
      const policyBefore = [...(await registry.policyOf(modelId))];
      const env = ethers.id("some environment");
      await expect(registry.connect(f.publisher).allowEnvironment(modelId, env))
        .to.be.revertedWithCustomError(registry, "ModelRegistryTeeNotAccepted")
        .withArgs(modelId);
      await expect(registry.connect(f.publisher).disallowEnvironment(modelId, env))
        .to.be.revertedWithCustomError(registry, "ModelRegistryEnvironmentNotAllowed")
        .withArgs(modelId, env);
      expect([...(await registry.policyOf(modelId))]).to.deep.equal(policyBefore);
    });

    it("pays the challenger share snapshotted at opening even when governance changes it mid-game", async () => {
      const f = await load();
      const { disputeGame, stakeManager, admin, policy } = f;
      const c = await commitInference(f, { seed: 110, fault: { layer: 2, neuron: 2 } });
      const g = await openGame(f, c);
      expect(g.params.challengerShareBps).to.equal(5000n);
      expect(g.params.bond).to.equal(await disputeGame.requiredBond(f.modelId));
      await stakeManager.connect(admin).setChallengerShareBps(3000);
      const layer = await playToProof(f, g);
      await stakeManager.connect(admin).setChallengerShareBps(2000);
      await expect(disputeGame.connect(f.challenger).proveNeuron(g.params, fraudProof(f, g, layer)))
        .to.emit(stakeManager, "StakeSlashed")
        .withArgs(f.provider.address, policy.slashAmount, policy.slashAmount / 2n);
      await expectChallengerPaid(f, g);

      const later = await openGame(f, await commitInference(f, { seed: 111 }), f.challenger2);
      expect(later.params.challengerShareBps).to.equal(2000n);
    });
  });
});

/** The MNIST spec the fixture registered. */
function mnistSpecOf(f: Mnist) {
  return {
    engineId: f.commitments.engineId,
    weightsRoot: f.commitments.weightsRoot,
    layers: f.commitments.graph,
    graphHash: f.commitments.graphHash,
    metadataURI: "ipfs://mnist",
  };
}

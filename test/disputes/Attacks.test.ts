import { expect } from "chai";
import { network } from "hardhat";
import { DEFAULT_REFERENCE_GAS_PRICE, DEFAULT_UNBONDING_DELAY } from "../../ignition/modules/core.js";
import { hashVector, modelCommitments, modelIdOf, type RunResult } from "../../src/engine/index.js";
import { commitmentIdOf, leafHashOf } from "../../src/sdk/ids.js";
import { defaultPolicy } from "../helpers/fixtures.js";
import { infer, mnistModel, mnistSpec, pseudoDigit, structToParams } from "../helpers/disputeFixture.js";
import {
  checkVaultAfterEach,
  commitBatch,
  commitInference,
  creditsOf,
  deadlineOf,
  deployDisputes,
  DIMS,
  expectFundsConserved,
  expectState,
  fingerprint,
  Flags,
  fraudProof,
  freshNonce,
  keyOf,
  neuronProofAt,
  openGame,
  openLeafGame,
  Outcome,
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
  STRUCTURAL,
  traceOf,
  vectorToHex,
  type Batch,
  type Committed,
  type Game,
  type Mnist,
  type Signer,
} from "./helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const mnistFixture = () => deployDisputes(connection);
const E = (n: number) => ethers.parseEther(String(n));
const STAKE = E(1000);

/** Token balance plus unclaimed credit: what an account can get out of the protocol. */
async function worth(f: Mnist, who: Signer): Promise<bigint> {
  return (await f.token.balanceOf(who.address)) + (await f.stakeManager.creditOf(who.address));
}

/** Proves fraud in `g` with the honest challenger's proof, after playing the game to it. */
async function proveFraud(f: Mnist, g: Game) {
  const layer = await playToProof(f, g);
  return f.disputeGame.connect(g.challenger).proveNeuron(g.params, fraudProof(f, g, layer));
}

/** A vector of `n` int8 values, none zero (1..127). */
function nonZero(n: number, seed = 1): Int8Array {
  const v = new Int8Array(n);
  for (let i = 0; i < n; i++) v[i] = ((i * 31 + seed * 17) % 127) + 1;
  return v;
}

/** The honest MNIST trace of `pseudoDigit(seed)` with its vector at `index` replaced by `vector` (any length). */
function withVector(f: Mnist, seed: number, index: number, vector: Int8Array): RunResult {
  const h = infer(f.model, pseudoDigit(seed)).activations.slice();
  h[index] = vector;
  return traceOf(h);
}

describe("DisputeGame attacks", () => {
  const guard = checkVaultAfterEach();
  const load = async () => guard(await networkHelpers.loadFixture(mnistFixture));

  describe("by a provider", () => {
    it("cannot land a reveal one second after its deadline: the timeout decides and it is slashed", async () => {
      const f = await load();
      const { disputeGame, provider, challenger, policy } = f;
      const c = await commitInference(f, { seed: 1, fault: { layer: 2, neuron: 1 } });
      const before = await worth(f, challenger);
      const g = await openGame(f, c);
      const deadline = await deadlineOf(f, g);
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1n);
      await expect(disputeGame.connect(provider).revealTrace(g.params, c.claimed.layerHashes, { gasLimit: 1_000_000 }))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameDeadlinePassed")
        .withArgs(g.id, deadline);
      await expect(disputeGame.connect(challenger).timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await worth(f, challenger)).to.equal(before + shareOf(policy.slashAmount, 5000n));
      expect((await f.stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - policy.slashAmount);
    });

    it("that unbonds its whole stake after committing fraud is slashed from the unbonding stake", async () => {
      const f = await load();
      const { disputeGame, stakeManager, provider, policy } = f;
      const c = await commitInference(f, { seed: 3, fault: { layer: 1, neuron: 3 } });
      await stakeManager.connect(provider).requestUnbond(STAKE);
      const readyAt = (await stakeManager.stakeOf(provider.address)).unbondingReadyAt;
      const g = await openGame(f, c);
      await networkHelpers.time.increaseTo(readyAt);
      await expect(stakeManager.connect(provider).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerOpenDisputes")
        .withArgs(provider.address, 1);
      await expect(disputeGame.timeout(g.params))
        .to.emit(stakeManager, "StakeSlashed")
        .withArgs(provider.address, policy.slashAmount, policy.slashAmount / 2n);
      expect((await stakeManager.stakeOf(provider.address)).unbonding).to.equal(STAKE - policy.slashAmount);
      await expect(stakeManager.connect(provider).withdraw())
        .to.emit(stakeManager, "StakeWithdrawn")
        .withArgs(provider.address, STAKE - policy.slashAmount);
      await expectFundsConserved(f);
    });

    it("that commits several frauds on the minimum stake loses all of it; a late prover still gets its bond", async () => {
      const f = await load();
      const { disputeGame, stakeManager, token, policy } = f;
      const cheat = (await ethers.getSigners())[8];
      await token.mint(cheat.address, policy.minStake);
      await token.connect(cheat).approve(await stakeManager.getAddress(), ethers.MaxUint256);
      await stakeManager.connect(cheat).deposit(policy.minStake);
      const frauds = [];
      for (const seed of [4, 5, 6]) {
        frauds.push(await commitInference(f, { seed, fault: { layer: 2, neuron: seed }, provider: cheat }));
      }
      const challengers = [f.challenger, f.challenger2, f.watcher];
      const before = await Promise.all(challengers.map((ch) => worth(f, ch)));
      const games = [];
      for (let i = 0; i < 3; i++) games.push(await openGame(f, frauds[i], challengers[i]));
      const slashed = [policy.slashAmount, policy.minStake - policy.slashAmount, 0n];
      for (let i = 0; i < 3; i++) {
        await expect(proveFraud(f, games[i]))
          .to.emit(disputeGame, "DisputeResolved")
          .withArgs(games[i].id, Outcome.ChallengerWon, slashed[i])
          .and.to.emit(disputeGame, "RewardEscrowed")
          .withArgs(frauds[i].id, shareOf(slashed[i], 5000n), 0);
        expect(await f.ledger.status(frauds[i].id)).to.equal(Status.Overturned);
      }
      const after = await Promise.all(challengers.map((ch) => worth(f, ch)));
      expect(after.map((a, i) => a - before[i])).to.deep.equal(slashed.map((s) => shareOf(s, 5000n)));
      expect([...(await stakeManager.stakeOf(cheat.address))]).to.deep.equal([0n, 0n, 0n, 0n]);
      await expectFundsConserved(f);
    });

    it("that withholds the input behind a URI must reveal it on demand, or lose by timeout", async () => {
      // Before: a single commitment had no input demand and the ledger did not check that inputData was the
      // input, so a watcher knowing only the event could not prove a wrong layer 1; it lost its bond and the
      // wrong commitment became Final. Now inputData is the input (flag INPUT_PUBLIC) or a URI of at most
      // 256 bytes, and a URI commitment can be disputed with an input demand.
      const f = await load();
      const { disputeGame, ledger, provider, watcher, policy } = f;
      await expect(
        ledger
          .connect(provider)
          .commit(f.modelId, ethers.id("i"), ethers.id("o"), ethers.id("t"), "0x" + "01".repeat(784)),
      )
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInvalidInputData")
        .withArgs(784, 784, 256);
      const c = await commitInference(f, { seed: 7, fault: { layer: 1, neuron: 0 }, uri: true });
      expect((await ledger.recordOf(c.id)).flags).to.equal(0n);
      const stalled = await openGame(f, c, watcher, { demandInput: true });
      await passDeadline(connection, f, stalled);
      await expect(disputeGame.timeout(stalled.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(stalled.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await ledger.status(c.id)).to.equal(Status.Overturned);

      // Answering instead only lets the watcher prove the fraud.
      const c2 = await commitInference(f, { seed: 8, fault: { layer: 1, neuron: 4 }, uri: true });
      const g = await openGame(f, c2, watcher, { demandInput: true });
      await revealInput(f, g);
      await disputeGame.connect(watcher).continueDispute(g.params);
      await expect(proveFraud(f, g))
        .to.emit(disputeGame, "FraudProven")
        .withArgs(g.id, 1, 4, c2.honest.activations[1][4], c2.claimed.activations[1][4]);
      expect(await ledger.status(c2.id)).to.equal(Status.Overturned);
      expect(await f.stakeManager.creditOf(watcher.address)).to.equal(
        2n * (policy.challengerBond + policy.slashAmount / 2n),
      );
    });
  });

  describe("by a provider with vectors of the wrong length", () => {
    it("cannot reveal a 417 KB activation for layer 1 (ActivationLengthMismatch) nor anything else, and loses", async () => {
      // Before: revealLayer took an activation of any length. A provider committing a trace whose s_1 hashes
      // a huge vector could reveal it, and the challenger's proof then had to carry it back: a transaction
      // over what a block allows, so the fraud could not be proven and the provider won by timeout.
      const f = await load();
      const { disputeGame, provider, policy } = f;
      const huge = nonZero(417_000, 3);
      const c = await commitInference(f, { seed: 11, claimed: withVector(f, 11, 1, huge) });
      const g = await openGame(f, c);
      await revealTrace(f, g);
      await selectLayer(f, g, 1);
      const before = await fingerprint(f, [g.id], [c.id]);
      await expect(disputeGame.connect(provider).revealLayer(g.params, 1, c.claimed.layerHashes, vectorToHex(huge)))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameActivationLengthMismatch")
        .withArgs(1, DIMS[1], huge.length);
      // No vector of the right width hashes to s_1.
      const honest = c.honest.activations[1];
      await expect(disputeGame.connect(provider).revealLayer(g.params, 1, c.claimed.layerHashes, vectorToHex(honest)))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameActivationMismatch")
        .withArgs(1, c.claimed.layerHashes[1], hashVector(honest));
      expect(await fingerprint(f, [g.id], [c.id])).to.deep.equal(before);
      await passDeadline(connection, f, g);
      await expect(disputeGame.timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
      expect(await creditsOf(f, [f.challenger])).to.deep.equal([policy.challengerBond + policy.slashAmount / 2n]);
    });

    it("cannot reveal a trace of L + 2 or L hashes (InvalidTraceLength) and loses by timeout", async () => {
      // Before: revealTrace took a trace of any length >= 2; the challenger then had to prove fraud by shape
      // at a layer the model might lack. Now only L + 1 hashes are a trace.
      const f = await load();
      const { disputeGame, policy } = f;
      const h = infer(f.model, pseudoDigit(12)).activations;
      const longer = await commitInference(f, { seed: 12, claimed: traceOf([h[0], h[1], h[2], h[2], h[3]]) });
      const shorter = await commitInference(f, {
        seed: 12,
        claimed: traceOf([h[0], h[1], h[3]]),
        provider: f.provider2,
      });
      const games = [await openGame(f, longer), await openGame(f, shorter)];
      for (const [g, length] of [
        [games[0], 5],
        [games[1], 3],
      ] as const) {
        const c = g.c;
        const before = await fingerprint(f, [g.id], [c.id]);
        await expect(disputeGame.connect(c.provider).revealTrace(g.params, c.claimed.layerHashes))
          .to.be.revertedWithCustomError(disputeGame, "DisputeGameInvalidTraceLength")
          .withArgs(length, 4);
        expect(await fingerprint(f, [g.id], [c.id])).to.deep.equal(before);
      }
      await passDeadline(connection, f, games[1]);
      for (const g of games) {
        await expect(disputeGame.timeout(g.params))
          .to.emit(disputeGame, "DisputeResolved")
          .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
        expect(await f.ledger.status(g.c.id)).to.equal(Status.Overturned);
      }
    });

    it("cannot answer an input demand with 783 bytes (InputLengthMismatch) and loses by timeout", async () => {
      // Before: revealInput took any bytes hashing to the input hash, so a malformed input could be revealed.
      const f = await load();
      const { disputeGame, provider, policy } = f;
      const short = pseudoDigit(13).slice(0, 783);
      const c = await commitInference(f, { seed: 13, claimed: withVector(f, 13, 0, short), uri: true });
      const g = await openGame(f, c, f.challenger, { demandInput: true });
      const before = await fingerprint(f, [g.id], [c.id]);
      await expect(disputeGame.connect(provider).revealInput(g.params, vectorToHex(short)))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameInputLengthMismatch")
        .withArgs(784, 783);
      const padded = new Int8Array(784);
      padded.set(short);
      await expect(disputeGame.connect(provider).revealInput(g.params, vectorToHex(padded)))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameInputHashMismatch")
        .withArgs(c.inference.inputHash, hashVector(padded));
      expect(await fingerprint(f, [g.id], [c.id])).to.deep.equal(before);
      await passDeadline(connection, f, g);
      await expect(disputeGame.timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
    });

    it("committing a 783-byte input behind a URI is proven structural fraud at layer 1 without a demand", async () => {
      // Before: the same proof existed, but the malformed input could also sit in the commitment's event. Now
      // the ledger refuses it there (783 bytes are neither the input nor a URI of at most 256 bytes), so it can
      // only hide behind a URI or in a batch leaf; a challenger who has it need not demand it.
      const f = await load();
      const { disputeGame, challenger, policy } = f;
      const short = pseudoDigit(14).slice(0, 783);
      const c = await commitInference(f, { seed: 14, claimed: withVector(f, 14, 0, short), uri: true });
      const g = await openGame(f, c);
      await playToProof(f, g, 1);
      const proof = { ...neuronProofAt(f, g, 1, 0), input: vectorToHex(short) };
      await expect(disputeGame.connect(challenger).proveNeuron(g.params, proof))
        .to.emit(disputeGame, "FraudProven")
        .withArgs(g.id, 1, STRUCTURAL, 0, 0)
        .and.to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
      expect(await creditsOf(f, [challenger])).to.deep.equal([policy.challengerBond + policy.slashAmount / 2n]);
    });

    it("committing a 783-byte input in a batch leaf is proven structural fraud at layer 1", async () => {
      const f = await load();
      const { disputeGame, challenger, policy } = f;
      const short = pseudoDigit(15).slice(0, 783);
      const batch = await commitBatch(f, [15, 16], [], f.provider, [withVector(f, 15, 0, short)]);
      const g = await openLeafGame(f, batch, 0, false);
      await playToProof(f, g, 1);
      await expect(
        disputeGame
          .connect(challenger)
          .proveNeuron(g.params, { ...neuronProofAt(f, g, 1, 5), input: vectorToHex(short) }),
      )
        .to.emit(disputeGame, "FraudProven")
        .withArgs(g.id, 1, STRUCTURAL, 0, 0)
        .and.to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await f.ledger.leafStatus(batch.header, batch.proof(0), batch.leaf(0).inference)).to.equal(
        Status.Overturned,
      );
      expect(await f.ledger.leafStatus(batch.header, batch.proof(1), batch.leaf(1).inference)).to.equal(Status.Pending);
    });

    it("a wrong-width s_1 is no fraud at layer 2 (PreviousLengthMismatch) but loses at layer 1", async () => {
      // Above layer 1 the previous vector was never revealed: a challenger that accepted it picked the wrong
      // layer. The challenger that disputes layer 1 wins, since no 128-byte vector hashes to s_1.
      const f = await load();
      const { disputeGame, policy } = f;
      const c = await commitInference(f, { seed: 16, claimed: withVector(f, 16, 1, pseudoDigit(16).slice(0, 127)) });
      const wrongLayer = await openGame(f, c, f.challenger2);
      const right = await openGame(f, c, f.challenger);
      await playToProof(f, wrongLayer, 2);
      const before = await fingerprint(f, [wrongLayer.id, right.id], [c.id]);
      await expect(
        disputeGame.connect(f.challenger2).proveNeuron(wrongLayer.params, neuronProofAt(f, wrongLayer, 2, 0)),
      )
        .to.be.revertedWithCustomError(disputeGame, "DisputeGamePreviousLengthMismatch")
        .withArgs(128, 127);
      expect(await fingerprint(f, [wrongLayer.id, right.id], [c.id])).to.deep.equal(before);

      await revealTrace(f, right);
      await selectLayer(f, right, 1);
      await expect(revealLayer(f, right, 1))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameActivationLengthMismatch")
        .withArgs(1, 128, 127);
      await passDeadline(connection, f, right);
      await expect(disputeGame.timeout(right.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(right.id, Outcome.ChallengerWon, policy.slashAmount);
      // The other game lapses on an overturned target: its bond comes back, it takes no share.
      await passDeadline(connection, f, wrongLayer);
      await expect(disputeGame.timeout(wrongLayer.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(wrongLayer.id, Outcome.Refunded, 0);
      const share = shareOf(policy.slashAmount, 5000n);
      await expect(disputeGame.claimReward(right.params))
        .to.emit(disputeGame, "RewardPaid")
        .withArgs(right.id, f.challenger.address, share);
      expect(await creditsOf(f, [f.challenger, f.challenger2, f.provider])).to.deep.equal([
        policy.challengerBond + share,
        policy.challengerBond,
        0n,
      ]);
    });
  });

  describe("by a provider running sybil challengers", () => {
    /** `k` funded sybil accounts of the provider. */
    async function sybils(f: Mnist, k: number): Promise<Signer[]> {
      const all = (await ethers.getSigners()).slice(8, 8 + k);
      for (const s of all) {
        await f.token.mint(s.address, E(100));
        await f.token.connect(s).approve(await f.stakeManager.getAddress(), ethers.MaxUint256);
      }
      return all;
    }

    /** Everything the provider and its sybils can get out of the protocol, stake included. */
    async function providerWorth(f: Mnist, accounts: Signer[]): Promise<bigint> {
      let total = 0n;
      for (const a of accounts) {
        const s = await f.stakeManager.stakeOf(a.address);
        total += (await worth(f, a)) + s.active + s.unbonding;
      }
      return total;
    }

    /**
     * The provider commits fraud (a single commitment, or leaf 0 of a batch); an honest challenger opens a
     * game; then `k` sybils open games. The provider proves its own fraud in the first sybil game, stalls
     * the honest game (no trace) and lets the other sybil games time out after it.
     */
    async function sybilAttack(f: Mnist, k: number, leaf: boolean) {
      const { disputeGame, policy } = f;
      const sy = await sybils(f, k);
      let batch: Batch | undefined;
      let c: Committed;
      if (leaf) {
        batch = await commitBatch(f, [20, 21], [{ layer: 2, neuron: 20 }]);
        c = batch.leaf(0);
      } else {
        c = await commitInference(f, { seed: 20, fault: { layer: 2, neuron: 20 } });
      }
      const open = (who: Signer) => (leaf ? openLeafGame(f, batch!, 0, false, who) : openGame(f, c, who));
      const before = await providerWorth(f, [f.provider, ...sy]);
      const honestBefore = await worth(f, f.challenger);
      const honest = await open(f.challenger);
      const games: Game[] = [];
      for (const s of sy) games.push(await open(s));
      const key = await disputeGame.targetKeyOf(honest.params);
      expect(key).to.equal(leaf ? batch!.leafKey(0) : c.id);

      // Not overturned yet: nobody can withdraw a game.
      await expect(disputeGame.connect(f.challenger).closeOverturned(honest.params))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameTargetNotOverturned")
        .withArgs(honest.id);

      const held = shareOf(policy.slashAmount, 5000n);
      await expect(proveFraud(f, games[0]))
        .to.emit(disputeGame, "RewardEscrowed")
        .withArgs(key, held, k)
        .and.not.to.emit(disputeGame, "RewardPaid");
      expect([...(await disputeGame.rewardPoolOf(key))]).to.deep.equal([true, held, BigInt(k), 1n, 0n]);
      await expect(disputeGame.claimReward(games[0].params))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameRewardPending")
        .withArgs(games[0].id, k);

      // The honest game: the provider never answers, so it ends ChallengerWon by timeout.
      await passDeadline(connection, f, honest);
      await expect(disputeGame.timeout(honest.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(honest.id, Outcome.ChallengerWon, 0);
      for (const g of games.slice(1)) {
        await expect(disputeGame.timeout(g.params))
          .to.emit(disputeGame, "DisputeResolved")
          .withArgs(g.id, Outcome.ChallengerWon, 0);
      }
      expect([...(await disputeGame.rewardPoolOf(key))].slice(0, 4)).to.deep.equal([true, held, 0n, BigInt(k + 1)]);
      // The last game to end was paid at once (first); earlier winners claim, the last paid takes the remainder.
      const part = held / BigInt(k + 1);
      const remainder = held - part * BigInt(k);
      const last = k === 1 ? honest : games[k - 1];
      const earlier = [games[0], ...(k === 1 ? [] : [honest, ...games.slice(1, k - 1)])];
      await expect(disputeGame.claimReward(last.params))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameNoReward")
        .withArgs(last.id);
      for (const [i, g] of earlier.entries()) {
        await expect(disputeGame.connect(f.watcher).claimReward(g.params))
          .to.emit(disputeGame, "RewardPaid")
          .withArgs(g.id, g.challenger.address, i === earlier.length - 1 ? remainder : part);
        await expect(disputeGame.claimReward(g.params))
          .to.be.revertedWithCustomError(disputeGame, "DisputeGameNoReward")
          .withArgs(g.id);
      }
      expect([...(await disputeGame.rewardPoolOf(key))]).to.deep.equal([true, held, 0n, BigInt(k + 1), BigInt(k + 1)]);

      // The honest challenger is paid its part (the remainder when paid last) and its bond: never 0.
      const honestPart = earlier[earlier.length - 1] === honest ? remainder : part;
      expect(honestPart).to.be.greaterThan(0n);
      expect(await worth(f, f.challenger)).to.equal(honestBefore + honestPart);
      // Proven fraud costs the provider the treasury's half plus the honest part, whatever k.
      const loss = before - (await providerWorth(f, [f.provider, ...sy]));
      expect(loss).to.equal(policy.slashAmount - held + honestPart);
      expect(loss).to.be.at.least(policy.slashAmount / 2n);
      expect(await f.stakeManager.creditOf(f.treasury.address)).to.equal(policy.slashAmount - held);
      expect(await f.stakeManager.totalBonds()).to.equal(0n);
      await expectFundsConserved(f);
    }

    for (const k of [1, 2, 3]) {
      it(`cannot take the honest challenger's share with ${k} sybil game(s) on a single commitment`, async () => {
        // Before: the first game to prove fraud took the whole share and every other game could only be
        // closed with its bond back, so a provider proving its own fraud from a sybil recovered the share and
        // left the honest challenger with nothing. Now every game open at the overturn shares the reward.
        await sybilAttack(await load(), k, false);
      });
    }

    for (const k of [1, 3]) {
      it(`cannot take the honest challenger's share with ${k} sybil game(s) on a batch leaf`, async () => {
        await sybilAttack(await load(), k, true);
      });
    }

    it("an honest prover shares with a sybil; a lapsing challenger is refunded; withdrawing is the challenger's", async () => {
      const f = await load();
      const { disputeGame, policy } = f;
      const [sybil] = await sybils(f, 1);
      const c = await commitInference(f, { seed: 22, fault: { layer: 3, neuron: 2 } });
      const honest = await openGame(f, c, f.challenger);
      const lapsing = await openGame(f, c, f.challenger2);
      const quitter = await openGame(f, c, f.watcher);
      const s = await openGame(f, c, sybil);
      await expect(proveFraud(f, s)).to.emit(disputeGame, "RewardEscrowed");
      // The honest challenger still proves; the pool waits for the lapsing and the quitting games.
      await expect(proveFraud(f, honest))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(honest.id, Outcome.ChallengerWon, 0);
      await expect(disputeGame.connect(f.challenger).claimReward(honest.params))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameRewardPending")
        .withArgs(honest.id, 2);
      await expect(disputeGame.connect(f.provider).closeOverturned(quitter.params))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameWrongParty")
        .withArgs(quitter.id, f.provider.address, f.watcher.address);
      await expect(disputeGame.connect(f.watcher).closeOverturned(quitter.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(quitter.id, Outcome.Refunded, 0);
      await revealTrace(f, lapsing);
      await passDeadline(connection, f, lapsing);
      await expect(disputeGame.timeout(lapsing.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(lapsing.id, Outcome.Refunded, 0);
      await expect(disputeGame.claimReward(lapsing.params))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameNoReward")
        .withArgs(lapsing.id);
      const held = shareOf(policy.slashAmount, 5000n);
      await expect(disputeGame.claimReward(honest.params))
        .to.emit(disputeGame, "RewardPaid")
        .withArgs(honest.id, f.challenger.address, held / 2n);
      await expect(disputeGame.claimReward(s.params))
        .to.emit(disputeGame, "RewardPaid")
        .withArgs(s.id, sybil.address, held - held / 2n);
      expect(await poolOf(f, honest)).to.deep.equal([true, held, 0n, 2n, 2n]);
      const bond = policy.challengerBond;
      expect(await creditsOf(f, [f.challenger, f.challenger2, f.watcher, sybil])).to.deep.equal([
        bond + held / 2n,
        bond,
        bond,
        bond + held - held / 2n,
      ]);
    });
  });

  describe("by a challenger", () => {
    it("cannot replay game A's move on game B: a move lands only on the game its params hash to", async () => {
      const f = await load();
      const { disputeGame, provider, challenger, challenger2 } = f;
      const c = await commitInference(f, { seed: 30, fault: { layer: 2, neuron: 2 } });
      const a = await openGame(f, c, challenger);
      const b = await openGame(f, c, challenger2);
      const bBefore = await fingerprint(f, [b.id]);
      await revealTrace(f, a);
      await expectState(disputeGame, b.id, Phase.AwaitingTrace); // B untouched by A's trace
      // B's challenger sending a selection with A's params hits A, where it is not its move.
      await expect(disputeGame.connect(challenger2).selectLayer(a.params, 2))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameWrongParty")
        .withArgs(a.id, challenger2.address, challenger.address);
      // Replaying A's trace reveal is out of phase on A.
      await expect(revealTrace(f, a))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameUnexpectedPhase")
        .withArgs(a.id, Phase.AwaitingLayerSelection, Phase.AwaitingTrace);
      // A hybrid (B's params with A's nonce) names no game at all.
      const hybrid = { ...b.params, nonce: a.params.nonce };
      await expect(disputeGame.connect(provider).revealTrace(hybrid, c.claimed.layerHashes))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameUnknownDispute")
        .withArgs(await disputeGame.disputeIdOf(hybrid));
      const after = await fingerprint(f, [b.id]);
      expect(after[0]).to.deep.equal(bBefore[0]);
    });

    it("front-running the challenger's proveNeuron from another address reverts WrongParty", async () => {
      const f = await load();
      const { disputeGame, challenger, watcher, policy } = f;
      const g = await openGame(f, await commitInference(f, { seed: 31, fault: { layer: 3, neuron: 1 } }));
      const layer = await playToProof(f, g);
      const proof = fraudProof(f, g, layer);
      const before = await worth(f, challenger);
      await expect(disputeGame.connect(watcher).proveNeuron(g.params, proof))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameWrongParty")
        .withArgs(g.id, watcher.address, challenger.address);
      await expect(disputeGame.connect(challenger).proveNeuron(g.params, proof))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await worth(f, challenger)).to.equal(before + policy.challengerBond + policy.slashAmount / 2n);
      expect(await f.stakeManager.creditOf(watcher.address)).to.equal(0n);
    });

    it("front-running openDispute only opens a second game: the honest challenger still gets half the share", async () => {
      const f = await load();
      const { disputeGame, challenger, watcher, policy } = f;
      const c = await commitInference(f, { seed: 32, fault: { layer: 1, neuron: 12 } });
      const before = await worth(f, challenger);
      // The copier sends the very opening the honest challenger sent (same nonce): its own game, another id.
      const copier = await openGame(f, c, watcher, { nonce: 77n });
      const honest = await openGame(f, c, challenger, { nonce: 77n });
      expect(copier.id).to.not.equal(honest.id);
      await expect(proveFraud(f, copier))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(copier.id, Outcome.ChallengerWon, policy.slashAmount);
      await expect(proveFraud(f, honest))
        .to.emit(disputeGame, "RewardPaid")
        .withArgs(honest.id, challenger.address, policy.slashAmount / 2n - policy.slashAmount / 4n);
      await disputeGame.claimReward(copier.params);
      expect(await worth(f, challenger)).to.equal(before + policy.slashAmount / 2n - policy.slashAmount / 4n);
      expect(await creditsOf(f, [watcher])).to.deep.equal([policy.challengerBond + policy.slashAmount / 4n]);
    });

    it("griefing an honest provider with many disputes costs one bond each, all paid to the provider", async () => {
      const f = await load();
      const { disputeGame, stakeManager, provider, challenger2, policy } = f;
      const c = await commitInference(f, { seed: 33 });
      const [providerBefore, griefBefore] = [await worth(f, provider), await worth(f, challenger2)];
      const games: Game[] = [];
      for (let i = 0; i < 4; i++) games.push(await openGame(f, c, challenger2));
      expect((await stakeManager.stakeOf(provider.address)).openDisputes).to.equal(4n);
      for (const g of games) await revealTrace(f, g);
      await passDeadline(connection, f, games[3]);
      for (const g of games) {
        await expect(disputeGame.timeout(g.params))
          .to.emit(disputeGame, "DisputeResolved")
          .withArgs(g.id, Outcome.ProviderWon, 0);
      }
      expect(await worth(f, provider)).to.equal(providerBefore + 4n * policy.challengerBond);
      expect(await worth(f, challenger2)).to.equal(griefBefore - 4n * policy.challengerBond);
      expect([...(await stakeManager.stakeOf(provider.address))]).to.deep.equal([STAKE, 0n, 0n, 0n]);
      // The lock cannot be renewed forever: no dispute opens after the challenge window.
      await expect(disputeGame.connect(challenger2).openDispute(keyOf(c), false, freshNonce()))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(c.id, (await f.ledger.recordOf(c.id)).challengeDeadline);
      expect(await f.ledger.status(c.id)).to.equal(Status.Final);
    });

    it("cannot slash twice: a replayed proof, a timeout, a re-opening and a parallel win leave one slash", async () => {
      const f = await load();
      const { disputeGame, stakeManager, provider, challenger, policy } = f;
      const c = await commitInference(f, { seed: 34, fault: { layer: 2, neuron: 14 } });
      const g = await openGame(f, c);
      const parallel = await openGame(f, c, f.challenger2);
      const layer = await playToProof(f, g);
      const proof = fraudProof(f, g, layer);
      await disputeGame.connect(challenger).proveNeuron(g.params, proof);
      await expect(disputeGame.connect(challenger).proveNeuron(g.params, proof))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameAlreadyResolved")
        .withArgs(g.id);
      await passDeadline(connection, f, g);
      await expect(disputeGame.timeout(g.params))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameAlreadyResolved")
        .withArgs(g.id);
      await expect(disputeGame.connect(challenger).openDispute(keyOf(c), false, freshNonce()))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(c.id);
      // The parallel game timed out with the provider to move (AwaitingTrace): a win, but nothing left to slash.
      await expect(disputeGame.timeout(parallel.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(parallel.id, Outcome.ChallengerWon, 0)
        .and.not.to.emit(stakeManager, "StakeSlashed");
      await disputeGame.claimReward(g.params);
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - policy.slashAmount);
      expect(await f.stakeManager.creditOf(f.treasury.address)).to.equal(policy.slashAmount / 2n);
      const held = policy.slashAmount / 2n;
      expect(await creditsOf(f, [challenger, f.challenger2])).to.deep.equal([
        policy.challengerBond + held / 2n,
        policy.challengerBond + held - held / 2n,
      ]);
      await expectFundsConserved(f);
    });

    it("cannot slash twice for one batch leaf, but each wrong leaf is slashed once", async () => {
      const f = await load();
      const { disputeGame, stakeManager, provider, policy } = f;
      const batch = await commitBatch(f, [35, 36, 37], [{ layer: 3, neuron: 0 }, undefined, { layer: 3, neuron: 1 }]);
      const first = await openLeafGame(f, batch, 0, false);
      const again = await openLeafGame(f, batch, 0, false, f.challenger2);
      const other = await openLeafGame(f, batch, 2, false, f.watcher);
      await expect(proveFraud(f, first))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(first.id, Outcome.ChallengerWon, policy.slashAmount);
      await expect(proveFraud(f, again))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(again.id, Outcome.ChallengerWon, 0);
      await expect(proveFraud(f, other))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(other.id, Outcome.ChallengerWon, policy.slashAmount);
      await disputeGame.claimReward(first.params);
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - 2n * policy.slashAmount);
      await expect(
        disputeGame
          .connect(f.challenger)
          .openLeafDispute(batch.header, batch.proof(0), batch.leaf(0).inference, false, freshNonce()),
      )
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(batch.batchId);
      const held = policy.slashAmount / 2n;
      expect(await creditsOf(f, [f.challenger, f.challenger2, f.watcher])).to.deep.equal([
        policy.challengerBond + held / 2n,
        policy.challengerBond + held - held / 2n,
        policy.challengerBond + held,
      ]);
    });

    it("cannot prove a correct neuron wrong with a forged input, output or row", async () => {
      const f = await load();
      const { disputeGame, provider, challenger2: liar, policy } = f;
      const c = await commitInference(f, { seed: 38 });
      const providerBefore = await worth(f, provider);
      const g = await openGame(f, c, liar);
      await playToProof(f, g, 2);
      const honest = neuronProofAt(f, g, 2, 3);
      const input = ethers.getBytes(honest.input);
      input[5] = (input[5] + 1) % 256;
      const other = f.commitments.tree.proof(2, 4);
      const coder = ethers.AbiCoder.defaultAbiCoder();
      const pair = (a: string, b: string) => ethers.keccak256(coder.encode(["bytes32", "bytes32"], [a, b]));
      const stored = pair(c.claimed.layerHashes[1], c.claimed.layerHashes[2]);
      const forgedOutput = vectorToHex(c.honest.activations[2].map((v) => v ^ 1));
      const forgeries: [object, string, unknown[]][] = [
        [
          { ...honest, input: ethers.hexlify(input) },
          "DisputeGameVectorsMismatch",
          [stored, pair(ethers.keccak256(input), c.claimed.layerHashes[2])],
        ],
        [
          { ...honest, output: forgedOutput },
          "DisputeGameVectorsMismatch",
          [stored, pair(c.claimed.layerHashes[1], ethers.keccak256(forgedOutput))],
        ],
        [{ ...honest, bias: other.bias, row: other.row, rowProof: other.proof }, "DisputeGameInvalidRowProof", [2, 3]],
        [honest, "DisputeGameNeuronMatches", [3, c.honest.activations[2][3]]],
      ];
      for (const [proof, error, args] of forgeries) {
        await expect(disputeGame.connect(liar).proveNeuron(g.params, proof as typeof honest))
          .to.be.revertedWithCustomError(disputeGame, error)
          .withArgs(...args);
      }
      await passDeadline(connection, f, g);
      await disputeGame.timeout(g.params);
      expect(await worth(f, provider)).to.equal(providerBefore + policy.challengerBond);
      expect((await f.stakeManager.stakeOf(provider.address)).active).to.equal(STAKE);
    });

    it("cannot dispute an inference the provider never committed", async () => {
      const f = await load();
      const { disputeGame, ledger, challenger } = f;
      const batch = await commitBatch(f, [39, 40]);
      const fake = await commitBatch(f, [39, 40], [{ layer: 1, neuron: 1 }, undefined], f.provider2);
      const leaf = fake.leaf(0).inference;
      await expect(disputeGame.connect(challenger).openLeafDispute(batch.header, fake.proof(0), leaf, false, 1n))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerLeafNotInBatch")
        .withArgs(batch.batchId, leafHashOf(leaf));
      const single = await commitInference(f, { seed: 41 });
      const wrong = { ...keyOf(single), inference: leaf };
      await expect(disputeGame.connect(challenger).openDispute(wrong, false, 1n))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
        .withArgs(commitmentIdOf(wrong.provider, wrong.modelId, leaf));
      expect(await f.stakeManager.totalBonds()).to.equal(0n);
    });

    it("demanding an input costs an answering provider nothing, but delays the leaf's finality for free", async () => {
      const f = await load();
      const { disputeGame, ledger, provider, challenger2 } = f;
      const batch = await commitBatch(f, [42, 43]);
      const [providerBefore, griefBefore] = [await worth(f, provider), await worth(f, challenger2)];
      // Opened at the last second of the window, answered at once, then left to lapse.
      await networkHelpers.time.setNextBlockTimestamp((await ledger.recordOf(batch.batchId)).challengeDeadline);
      const g = await openLeafGame(f, batch, 1, true, challenger2);
      await disputeGame.connect(provider).revealInput(g.params, vectorToHex(batch.runs[1].input));
      await passDeadline(connection, f, g);
      const status = () => ledger.leafStatus(batch.header, batch.proof(1), batch.leaf(1).inference);
      expect(await status()).to.equal(Status.Disputed); // past the window, not Final until the game ends
      await expect(disputeGame.timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.Refunded, 0);
      expect(await status()).to.equal(Status.Final);
      expect(await worth(f, provider)).to.equal(providerBefore);
      expect(await worth(f, challenger2)).to.equal(griefBefore);
    });

    it("cannot demand an input the commitment's event already carries (InputAlreadyPublic)", async () => {
      // Before: openDisputeWithInputDemand worked on any commitment, so a griever could make a provider
      // re-send a public input and add two response windows to the game for nothing.
      const f = await load();
      const { disputeGame, challenger2 } = f;
      const c = await commitInference(f, { seed: 44 });
      expect((await f.ledger.recordOf(c.id)).flags).to.equal(Flags.INPUT_PUBLIC);
      const before = await fingerprint(f, [], [c.id]);
      await expect(disputeGame.connect(challenger2).openDispute(keyOf(c), true, 1n))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameInputAlreadyPublic")
        .withArgs(c.id);
      expect(await fingerprint(f, [], [c.id])).to.deep.equal(before);
      expect(await f.stakeManager.totalBonds()).to.equal(0n);
      expect((await f.stakeManager.stakeOf(f.provider.address)).openDisputes).to.equal(0n);
      // Without the demand the same opening works.
      const g = await openGame(f, c, challenger2, { nonce: 1n });
      await expectState(disputeGame, g.id, Phase.AwaitingTrace);
    });

    it("cannot demand a leaf's input once the batch was disclosed on-chain (InputAlreadyPublic)", async () => {
      const f = await load();
      const { disputeGame, batchDisclosure, provider, challenger2 } = f;
      const batch = await commitBatch(f, [45, 46]);
      await batchDisclosure.connect(challenger2).demandDisclosure(batch.header);
      const leaves = [0, 1]
        .map((i) => ({ leaf: batch.leaf(i).inference, input: vectorToHex(batch.runs[i].input) }))
        .sort((a, b) => (BigInt(leafHashOf(a.leaf)) < BigInt(leafHashOf(b.leaf)) ? -1 : 1));
      await batchDisclosure.connect(provider).discloseLeaves(batch.header, leaves);
      await batchDisclosure.connect(provider).finishDisclosure(
        batch.header,
        leaves.map((l) => leafHashOf(l.leaf)),
      );
      expect((await f.ledger.recordOf(batch.batchId)).flags).to.equal(Flags.DISCLOSED);
      const before = await fingerprint(f, [], [batch.batchId]);
      await expect(
        disputeGame
          .connect(f.challenger)
          .openLeafDispute(batch.header, batch.proof(0), batch.leaf(0).inference, true, 1n),
      )
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameInputAlreadyPublic")
        .withArgs(batch.batchId);
      expect(await fingerprint(f, [], [batch.batchId])).to.deep.equal(before);
      const g = await openLeafGame(f, batch, 0, false, f.challenger, 1n);
      await expectState(disputeGame, g.id, Phase.AwaitingTrace);
    });
  });

  describe("by a publisher or a governance key", () => {
    it("has no pause to stop disputes: the old selectors revert and a dispute opens at the window's end", async () => {
      // Before: a guardian could pause openDispute over a whole challenge window, letting a wrong commitment
      // become Final. The game now has no pause, unpause, paused or GUARDIAN_ROLE.
      const f = await load();
      const { disputeGame, ledger, admin, challenger } = f;
      const names: string[] = [];
      disputeGame.interface.forEachFunction((fn) => names.push(fn.name));
      expect(names).to.include.members(["openDispute", "openLeafDispute", "timeout"]);
      expect(names).to.not.include.oneOf(["pause", "unpause", "paused", "GUARDIAN_ROLE", "openDisputeWithInputDemand"]);
      const to = await disputeGame.getAddress();
      for (const signature of ["pause()", "unpause()", "paused()"]) {
        const data = ethers.id(signature).slice(0, 10);
        await expect(admin.sendTransaction({ to, data })).to.be.revert(ethers);
      }
      const c = await commitInference(f, { seed: 50, fault: { layer: 1, neuron: 36 } });
      await networkHelpers.time.setNextBlockTimestamp((await ledger.recordOf(c.id)).challengeDeadline);
      const g = await openGame(f, c, challenger);
      await expect(proveFraud(f, g))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, f.policy.slashAmount);
      expect(await ledger.status(c.id)).to.equal(Status.Overturned);
    });

    it("a publisher revoking the model mid-dispute cannot stop the game or the slash", async () => {
      const f = await load();
      const { disputeGame, registry, publisher, challenger, policy } = f;
      const c = await commitInference(f, { seed: 51, fault: { layer: 2, neuron: 30 } });
      const late = await commitInference(f, { seed: 52, fault: { layer: 3, neuron: 3 } });
      const before = await worth(f, challenger);
      const g = await openGame(f, c);
      await revealTrace(f, g);
      await expect(registry.connect(publisher).revokeModel(f.modelId))
        .to.emit(registry, "ModelRevoked")
        .withArgs(f.modelId, publisher.address);
      await expectState(disputeGame, g.id, Phase.AwaitingLayerSelection);
      await selectLayer(f, g, 2);
      await revealLayer(f, g, 2);
      await expect(disputeGame.connect(challenger).proveNeuron(g.params, fraudProof(f, g, 2)))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await worth(f, challenger)).to.equal(before + policy.slashAmount / 2n);
      // Existing commitments of a revoked model stay disputable.
      const g2 = await openGame(f, late);
      await passDeadline(connection, f, g2);
      await expect(disputeGame.timeout(g2.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g2.id, Outcome.ChallengerWon, policy.slashAmount);
    });

    it("a publisher registering a new version with other terms mid-game changes nothing for the game", async () => {
      const f = await load();
      const { disputeGame, registry, publisher, challenger, policy } = f;
      const c = await commitInference(f, { seed: 53, fault: { layer: 1, neuron: 32 } });
      const g = await openGame(f, c);
      const harsher = { ...policy, challengerBond: E(40), slashAmount: E(200), minStake: E(200) };
      const spec = { ...mnistSpec(f.commitments, "v2"), weightsRoot: ethers.id("w2"), graphHash: ethers.ZeroHash };
      await registry.connect(publisher).registerVersion(f.modelId, spec, harsher);
      await registry.connect(publisher).deprecateModel(f.modelId, 0);
      await expect(proveFraud(f, g))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await f.stakeManager.creditOf(challenger.address)).to.equal(
        policy.challengerBond + policy.slashAmount / 2n,
      );
    });

    it("cannot register a layer spec the arithmetic cannot evaluate, so none can shield a provider", async () => {
      // Before: the registry bound only the graph's hash, and a game on a model with an out-of-bounds spec
      // had to end in structural fraud. Now the registry validates the layers it stores.
      const f = await load();
      const { registry, publisher, policy } = f;
      const layers = f.commitments.graph.map((spec, i) => (i === 2 ? { ...spec, multiplier: 0 } : spec));
      const spec = { ...mnistSpec(f.commitments, "bad"), layers, graphHash: ethers.ZeroHash };
      await expect(registry.connect(publisher).registerModel(spec, policy))
        .to.be.revertedWithCustomError(registry, "DenseInt8InvalidSpec")
        .withArgs(layers[2].inDim, layers[2].outDim, 0, layers[2].shift);
    });

    it("a governance key cannot cut the challenger's share of a running game; a new treasury gets the rest", async () => {
      const f = await load();
      const { stakeManager, admin, challenger, policy } = f;
      const g = await openGame(f, await commitInference(f, { seed: 54, fault: { layer: 2, neuron: 35 } }));
      await expect(stakeManager.connect(admin).setChallengerShareBps(0))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInvalidShare")
        .withArgs(0, 2000, 5000);
      await stakeManager.connect(admin).setChallengerShareBps(2000);
      await stakeManager.connect(admin).setTreasury(admin.address);
      await proveFraud(f, g);
      expect(await creditsOf(f, [challenger, admin, f.treasury])).to.deep.equal([
        policy.challengerBond + policy.slashAmount / 2n,
        policy.slashAmount / 2n,
        0n,
      ]);
    });

    it("an admin revoking the game's DISPUTE_ROLE freezes open games until it is granted back (trusted admin)", async () => {
      const f = await load();
      const { disputeGame, stakeManager, admin, challenger, policy } = f;
      const g = await openGame(f, await commitInference(f, { seed: 55, fault: { layer: 2, neuron: 37 } }));
      const role = await stakeManager.DISPUTE_ROLE();
      await stakeManager.connect(admin).revokeRole(role, await disputeGame.getAddress());
      await passDeadline(connection, f, g);
      await expect(disputeGame.timeout(g.params))
        .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
        .withArgs(await disputeGame.getAddress(), role);
      expect((await stakeManager.stakeOf(f.provider.address)).openDisputes).to.equal(1n);
      await stakeManager.connect(admin).grantRole(role, await disputeGame.getAddress());
      await disputeGame.timeout(g.params);
      expect(await stakeManager.creditOf(challenger.address)).to.equal(policy.challengerBond + policy.slashAmount / 2n);
    });
  });

  describe("through a malicious ERC-20 that re-enters", () => {
    const Trigger = { None: 0, Transfer: 1, TransferFrom: 2 } as const;

    /** A second protocol stack over MaliciousToken; the token contract itself can act as an account. */
    async function maliciousFixture() {
      const signers = await ethers.getSigners();
      const [admin, publisher, provider, challenger, , , watcher, treasury] = signers;
      const token = await ethers.deployContract("MaliciousToken");
      const ledger = await ethers.deployContract("InferenceLedger", [admin.address]);
      const registry = await ethers.deployContract("ModelRegistry", [
        admin.address,
        ledger,
        DEFAULT_REFERENCE_GAS_PRICE,
      ]);
      const stakeManager = await ethers.deployContract("StakeManager", [
        token,
        ledger,
        admin.address,
        treasury.address,
        5000,
        DEFAULT_UNBONDING_DELAY,
      ]);
      await ledger.bindSources(registry, stakeManager);
      const game = await ethers.deployContract("DisputeGame", [admin.address, registry, ledger, stakeManager]);
      const role = await ledger.DISPUTE_ROLE();
      await ledger.grantRole(role, game);
      await stakeManager.grantRole(role, game);
      const commitments = modelCommitments(await mnistModel());
      const modelId = modelIdOf(publisher.address, commitments.contentHash);
      const policy = defaultPolicy(ethers);
      await registry.connect(publisher).registerModel(mnistSpec(commitments), policy);
      const tokenAddress = await token.getAddress();
      for (const s of [provider, challenger, watcher]) {
        await token.mint(s.address, E(10_000));
        await token.connect(s).approve(stakeManager, ethers.MaxUint256);
      }
      await token.mint(tokenAddress, E(10_000));
      await token.exec(
        tokenAddress,
        token.interface.encodeFunctionData("approve", [await stakeManager.getAddress(), ethers.MaxUint256]),
      );
      await stakeManager.connect(provider).deposit(STAKE);
      let n = 0;
      /** Commits hash-only inferences (the input behind an empty URI): the timeouts below need no proof. */
      async function commit() {
        n += 1;
        const inference = {
          inputHash: ethers.id(`in${n}`),
          outputHash: ethers.id(`out${n}`),
          traceRoot: ethers.id(`tr${n}`),
        };
        await ledger
          .connect(provider)
          .commit(modelId, inference.inputHash, inference.outputHash, inference.traceRoot, "0x");
        return { provider: provider.address, modelId, inference, binding: ethers.ZeroHash };
      }
      /** Opens a dispute from `from` (a signer, or the token contract itself). */
      async function open(key: Awaited<ReturnType<typeof commit>>, from: Signer | "token") {
        const data = game.interface.encodeFunctionData("openDispute", [key, false, BigInt(n)]);
        const tx =
          from === "token"
            ? await token.exec(await game.getAddress(), data)
            : await from.sendTransaction({ to: await game.getAddress(), data });
        const receipt = await tx.wait();
        for (const log of receipt!.logs) {
          const parsed = game.interface.parseLog(log);
          if (parsed?.name === "DisputeOpened") {
            return structToParams(parsed.args.params);
          }
        }
        throw new Error("no DisputeOpened");
      }
      /** The name of the error in the hook's last return data. */
      const hookError = async () => {
        const data = await token.lastReturnData();
        return (game.interface.parseError(data) ?? stakeManager.interface.parseError(data))?.name;
      };
      return {
        token,
        tokenAddress,
        ledger,
        registry,
        stakeManager,
        game,
        policy,
        provider,
        challenger,
        watcher,
        commit,
        open,
        hookError,
      };
    }
    const loadMalicious = async () => guard(await networkHelpers.loadFixture(maliciousFixture));

    it("claim re-entering claim: the inner claim reverts and the credit is paid once", async () => {
      const m = await loadMalicious();
      const { token, tokenAddress, stakeManager, game, policy } = m;
      const params = await m.open(await m.commit(), "token");
      await networkHelpers.time.increase(3601);
      await game.timeout(params);
      const credit = policy.challengerBond + policy.slashAmount / 2n;
      expect(await stakeManager.creditOf(tokenAddress)).to.equal(credit);
      const before = await token.balanceOf(tokenAddress);
      const claim = stakeManager.interface.encodeFunctionData("claim");
      await token.arm(Trigger.Transfer, false, await stakeManager.getAddress(), claim);
      await token.exec(await stakeManager.getAddress(), claim);
      expect([await token.hookCalls(), await token.lastSuccess(), await m.hookError()]).to.deep.equal([
        1n,
        false,
        "ReentrancyGuardReentrantCall",
      ]);
      expect(await token.balanceOf(tokenAddress)).to.equal(before + credit);
      expect(await stakeManager.creditOf(tokenAddress)).to.equal(0n);
    });

    it("withdraw re-entering withdraw (before the balance moves): the inner call reverts and the stake leaves once", async () => {
      const m = await loadMalicious();
      const { token, tokenAddress, stakeManager } = m;
      const sm = await stakeManager.getAddress();
      await token.exec(sm, stakeManager.interface.encodeFunctionData("deposit", [E(200)]));
      await token.exec(sm, stakeManager.interface.encodeFunctionData("requestUnbond", [E(200)]));
      await networkHelpers.time.increase(DEFAULT_UNBONDING_DELAY);
      const before = await token.balanceOf(tokenAddress);
      const withdraw = stakeManager.interface.encodeFunctionData("withdraw");
      await token.arm(Trigger.Transfer, true, sm, withdraw);
      await token.exec(sm, withdraw);
      expect([await token.lastSuccess(), await m.hookError()]).to.deep.equal([false, "ReentrancyGuardReentrantCall"]);
      expect(await token.balanceOf(tokenAddress)).to.equal(before + E(200));
      expect([...(await stakeManager.stakeOf(tokenAddress))]).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("a bond's transferFrom re-entering timeout or claim is stopped by the guards; the dispute opens normally", async () => {
      const m = await loadMalicious();
      const { token, stakeManager, game, challenger, policy } = m;
      const lapsed = await m.open(await m.commit(), challenger);
      await networkHelpers.time.increase(3601);
      const before = await game.gameOf(await game.disputeIdOf(lapsed));
      await token.arm(
        Trigger.TransferFrom,
        false,
        await game.getAddress(),
        game.interface.encodeFunctionData("timeout", [lapsed]),
      );
      await m.open(await m.commit(), m.watcher);
      expect([await token.lastSuccess(), await m.hookError()]).to.deep.equal([false, "ReentrancyGuardReentrantCall"]);
      expect([...(await game.gameOf(await game.disputeIdOf(lapsed)))]).to.deep.equal([...before]);
      await token.arm(
        Trigger.TransferFrom,
        true,
        await stakeManager.getAddress(),
        stakeManager.interface.encodeFunctionData("claim"),
      );
      await m.open(await m.commit(), m.watcher);
      expect([await token.lastSuccess(), await m.hookError()]).to.deep.equal([false, "ReentrancyGuardReentrantCall"]);
      expect(await stakeManager.totalBonds()).to.equal(3n * policy.challengerBond);
    });

    it("claim re-entering another game's timeout resolves that game exactly as a plain timeout would", async () => {
      const m = await loadMalicious();
      const { token, stakeManager, game, challenger, watcher, provider, policy } = m;
      const won = await m.open(await m.commit(), challenger);
      const lapsed = await m.open(await m.commit(), watcher);
      await networkHelpers.time.increase(3601);
      await game.timeout(won);
      const [challengerBefore, watcherCredit] = [
        await token.balanceOf(challenger.address),
        await stakeManager.creditOf(watcher.address),
      ];
      expect(watcherCredit).to.equal(0n);
      await token.arm(
        Trigger.Transfer,
        false,
        await game.getAddress(),
        game.interface.encodeFunctionData("timeout", [lapsed]),
      );
      await stakeManager.connect(challenger).claim();
      expect(await token.lastSuccess()).to.equal(true);
      const credit = policy.challengerBond + policy.slashAmount / 2n;
      expect(await token.balanceOf(challenger.address)).to.equal(challengerBefore + credit);
      expect(await stakeManager.creditOf(challenger.address)).to.equal(0n);
      expect((await game.gameOf(await game.disputeIdOf(lapsed))).outcome).to.equal(Outcome.ChallengerWon);
      expect(await stakeManager.creditOf(watcher.address)).to.equal(credit);
      expect([...(await stakeManager.stakeOf(provider.address))]).to.deep.equal([
        STAKE - 2n * policy.slashAmount,
        0n,
        0n,
        0n,
      ]);
    });
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import { DEFAULT_UNBONDING_DELAY } from "../../ignition/modules/core.js";
import { graphHash, modelCommitments, modelIdOf } from "../../src/engine/index.js";
import { defaultPolicy } from "../helpers/fixtures.js";
import { mnistModel, paramsFrom, structToParams } from "../helpers/disputeFixture.js";
import {
  balancesOf,
  commitBatch,
  commitInference,
  creditsOf,
  deadlineOf,
  deployDisputes,
  expectFundsConserved,
  expectState,
  fingerprint,
  fraudProof,
  neuronProofAt,
  openGame,
  openLeafGame,
  Outcome,
  passChallengeWindow,
  passDeadline,
  Phase,
  playToProof,
  revealTrace,
  selectLayer,
  shareOf,
  Status,
  vectorToHex,
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

describe("DisputeGame attacks", () => {
  describe("by a provider", () => {
    it("cannot land a reveal one second after its deadline: the timeout decides and it is slashed", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
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

    it("that disputes its own fraud first still loses the treasury's part; the honest challenger is refunded", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, provider, challenger, policy, treasury } = f;
      const c = await commitInference(f, { seed: 2, fault: { layer: 3, neuron: 3 } });
      const [honestBefore, providerWorth] = [await worth(f, challenger), await worth(f, provider)];
      const self = await openGame(f, c, provider);
      const honest = await openGame(f, c, challenger);
      await expect(proveFraud(f, self))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(self.id, Outcome.ChallengerWon, policy.slashAmount);
      await expect(disputeGame.connect(challenger).closeOverturned(honest.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(honest.id, Outcome.Refunded, 0);
      const share = shareOf(policy.slashAmount, 5000n);
      expect(await worth(f, challenger)).to.equal(honestBefore);
      expect(await worth(f, provider)).to.equal(providerWorth + share); // its bond back plus the share...
      expect((await f.stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - policy.slashAmount); // ...of its own slash
      expect(await f.stakeManager.creditOf(treasury.address)).to.equal(policy.slashAmount - share);
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
      await expectFundsConserved(f);
    });

    it("that unbonds its whole stake after committing fraud is slashed from the unbonding stake", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
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
        .withArgs(provider.address, f.challenger.address, policy.slashAmount, policy.slashAmount / 2n);
      expect((await stakeManager.stakeOf(provider.address)).unbonding).to.equal(STAKE - policy.slashAmount);
      await expect(stakeManager.connect(provider).withdraw())
        .to.emit(stakeManager, "StakeWithdrawn")
        .withArgs(provider.address, STAKE - policy.slashAmount);
      await expectFundsConserved(f);
    });

    it("that commits several frauds on the minimum stake loses all of it; a late prover still gets its bond", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
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
          .withArgs(games[i].id, Outcome.ChallengerWon, slashed[i]);
        expect(await f.ledger.status(frauds[i].id)).to.equal(Status.Overturned);
      }
      const after = await Promise.all(challengers.map((ch) => worth(f, ch)));
      expect(after.map((a, i) => a - before[i])).to.deep.equal(slashed.map((s) => shareOf(s, 5000n)));
      expect([...(await stakeManager.stakeOf(cheat.address))]).to.deep.equal([0n, 0n, 0n, 0n]);
      await expectFundsConserved(f);
    });

    it("that publishes inputData which is not the input cannot be caught at layer 1 by a watcher (design gap)", async () => {
      // A single commitment has no input demand: its input is assumed public in InferenceCommitted, but the
      // ledger does not check keccak256(inputData) == inputHash. A watcher who knows only the event cannot
      // prove a wrong layer 1 and loses its bond; the wrong commitment becomes Final.
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, provider, watcher, policy } = f;
      const inputData = ethers.hexlify(ethers.toUtf8Bytes("ipfs://withheld"));
      const c = await commitInference(f, { seed: 7, fault: { layer: 1, neuron: 0 }, inputData });
      const g = await openGame(f, c, watcher);
      await revealTrace(f, g);
      await selectLayer(f, g, 1);
      await f.disputeGame
        .connect(provider)
        .revealLayer(g.params, 1, c.claimed.layerHashes, vectorToHex(c.claimed.activations[1]));
      const proof = { ...fraudProof(f, g, 1), input: inputData };
      await expect(disputeGame.connect(watcher).proveNeuron(g.params, proof))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameActivationMismatch")
        .withArgs(0, c.inference.inputHash, ethers.keccak256(inputData));
      await passDeadline(connection, f, g);
      await expect(disputeGame.timeout(g.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ProviderWon, 0);
      expect(await f.ledger.status(c.id)).to.equal(Status.Final);
      expect(await f.stakeManager.creditOf(provider.address)).to.equal(policy.challengerBond);
    });
  });

  describe("by a challenger", () => {
    it("cannot replay game A's move on game B: a move lands only on the game its params hash to", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, provider, challenger, challenger2 } = f;
      const c = await commitInference(f, { seed: 10, fault: { layer: 2, neuron: 2 } });
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
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, challenger, watcher, policy } = f;
      const g = await openGame(f, await commitInference(f, { seed: 11, fault: { layer: 3, neuron: 1 } }));
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

    it("front-running openDispute only opens a second game; the honest challenger gets its bond back", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, challenger, watcher, policy } = f;
      const c = await commitInference(f, { seed: 12, fault: { layer: 1, neuron: 12 } });
      const before = await worth(f, challenger);
      const copier = await openGame(f, c, watcher);
      const honest = await openGame(f, c, challenger);
      expect(copier.id).to.not.equal(honest.id);
      await expect(proveFraud(f, copier))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(copier.id, Outcome.ChallengerWon, policy.slashAmount);
      await disputeGame.closeOverturned(honest.params);
      expect(await worth(f, challenger)).to.equal(before);
    });

    it("griefing an honest provider with many disputes costs one bond each, all paid to the provider", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, stakeManager, provider, challenger2, policy } = f;
      const c = await commitInference(f, { seed: 13 });
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
      await expect(disputeGame.connect(challenger2).openDispute(c.id, f.commitments.modelId, c.inference))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(c.id, (await f.ledger.recordOf(c.id)).challengeDeadline);
      expect(await f.ledger.status(c.id)).to.equal(Status.Final);
    });

    it("cannot slash twice: a replayed proof, a timeout, a re-opening and a parallel proof leave one slash", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, stakeManager, provider, challenger, policy } = f;
      const c = await commitInference(f, { seed: 14, fault: { layer: 2, neuron: 14 } });
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
      await expect(disputeGame.connect(challenger).openDispute(c.id, f.commitments.modelId, c.inference))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(c.id);
      // The parallel game timed out with the provider to move (AwaitingTrace): a win, but nothing left to slash.
      await expect(disputeGame.timeout(parallel.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(parallel.id, Outcome.ChallengerWon, 0)
        .and.not.to.emit(stakeManager, "StakeSlashed");
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - policy.slashAmount);
      expect(await f.stakeManager.creditOf(f.treasury.address)).to.equal(policy.slashAmount / 2n);
      await expectFundsConserved(f);
    });

    it("cannot slash twice for one batch leaf, but each wrong leaf is slashed once", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, stakeManager, provider, policy } = f;
      const batch = await commitBatch(f, [15, 16, 17], [{ layer: 3, neuron: 0 }, undefined, { layer: 3, neuron: 1 }]);
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
      expect((await stakeManager.stakeOf(provider.address)).active).to.equal(STAKE - 2n * policy.slashAmount);
      await expect(
        disputeGame.connect(f.challenger).openLeafDispute(batch.header, batch.proof(0), batch.leaf(0).inference, false),
      )
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(batch.batchId);
    });

    it("cannot prove a correct neuron wrong with a forged input, output, row, graph or weights root", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, provider, challenger2: liar, policy } = f;
      const c = await commitInference(f, { seed: 18 });
      const providerBefore = await worth(f, provider);
      const g = await openGame(f, c, liar);
      await playToProof(f, g, 2);
      const honest = neuronProofAt(f, g, 2, 3);
      const input = ethers.getBytes(honest.input);
      input[5] = (input[5] + 1) % 256;
      const other = f.commitments.tree.proof(2, 4);
      const shorter = f.commitments.graph.slice(0, 2);
      const forgeries: [object, string][] = [
        [{ ...honest, input: ethers.hexlify(input) }, "DisputeGameActivationMismatch"],
        [
          { ...honest, output: vectorToHex(c.honest.activations[2].map((v) => v ^ 1)) },
          "DisputeGameActivationMismatch",
        ],
        [{ ...honest, bias: other.bias, row: other.row, rowProof: other.proof }, "DisputeGameInvalidRowProof"],
        [{ ...honest, graph: shorter }, "DisputeGameModelMismatch"],
        [{ ...honest, weightsRoot: ethers.id("weights") }, "DisputeGameModelMismatch"],
        [honest, "DisputeGameNeuronMatches"],
      ];
      for (const [proof, error] of forgeries) {
        await expect(
          disputeGame.connect(liar).proveNeuron(g.params, proof as typeof honest),
        ).to.be.revertedWithCustomError(disputeGame, error);
      }
      await passDeadline(connection, f, g);
      await disputeGame.timeout(g.params);
      expect(await worth(f, provider)).to.equal(providerBefore + policy.challengerBond);
      expect((await f.stakeManager.stakeOf(provider.address)).active).to.equal(STAKE);
    });

    it("cannot dispute an inference the provider never committed", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, ledger, challenger } = f;
      const batch = await commitBatch(f, [19, 20]);
      const fake = await commitBatch(f, [19, 20], [{ layer: 1, neuron: 1 }, undefined], f.provider2);
      const leaf = fake.leaf(0).inference;
      const leafHash = ethers.keccak256(
        ethers.keccak256(
          ethers.AbiCoder.defaultAbiCoder().encode(
            ["bytes32", "bytes32", "bytes32"],
            [leaf.inputHash, leaf.outputHash, leaf.traceRoot],
          ),
        ),
      );
      await expect(disputeGame.connect(challenger).openLeafDispute(batch.header, fake.proof(0), leaf, false))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerLeafNotInBatch")
        .withArgs(batch.batchId, leafHash);
      const single = await commitInference(f, { seed: 21 });
      const wrong = fake.leaf(0).inference;
      await expect(disputeGame.connect(challenger).openDispute(single.id, f.commitments.modelId, wrong))
        .to.be.revertedWithCustomError(disputeGame, "DisputeGameInferenceMismatch")
        .withArgs(single.id);
      expect(await f.stakeManager.totalBonds()).to.equal(0n);
    });

    it("demanding an input costs an answering provider nothing, but delays the leaf's finality for free", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, ledger, provider, challenger2 } = f;
      const batch = await commitBatch(f, [22, 23]);
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
  });

  describe("by a publisher or a governance key", () => {
    it("a publisher revoking the model mid-dispute cannot stop the game or the slash", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, registry, publisher, challenger, policy } = f;
      const c = await commitInference(f, { seed: 30, fault: { layer: 2, neuron: 30 } });
      const late = await commitInference(f, { seed: 31, fault: { layer: 3, neuron: 3 } });
      const before = await worth(f, challenger);
      const g = await openGame(f, c);
      await revealTrace(f, g);
      await expect(registry.connect(publisher).revokeModel(f.commitments.modelId))
        .to.emit(registry, "ModelRevoked")
        .withArgs(f.commitments.modelId, publisher.address);
      await expectState(disputeGame, g.id, Phase.AwaitingLayerSelection);
      await selectLayer(f, g, 2);
      await f.disputeGame
        .connect(f.provider)
        .revealLayer(g.params, 2, c.claimed.layerHashes, vectorToHex(c.claimed.activations[2]));
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
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, registry, publisher, challenger, policy } = f;
      const c = await commitInference(f, { seed: 32, fault: { layer: 1, neuron: 32 } });
      const g = await openGame(f, c);
      const harsher = { ...policy, challengerBond: E(500), slashAmount: E(1), minStake: E(1) };
      await registry
        .connect(publisher)
        .registerVersion(
          f.commitments.modelId,
          ethers.id("w2"),
          f.commitments.graphHash,
          f.commitments.engineId,
          "v2",
          harsher,
        );
      await registry.connect(publisher).deprecateModel(f.commitments.modelId, 0);
      await expect(proveFraud(f, g))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
      expect(await f.stakeManager.creditOf(challenger.address)).to.equal(
        policy.challengerBond + policy.slashAmount / 2n,
      );
    });

    it("a model with an out-of-bounds layer spec cannot shield a provider: fraud there is structural", async () => {
      // The registry binds only the graph's hash; a spec the arithmetic cannot evaluate makes any claim at
      // that layer the provider's fault (providers validate model files before serving them).
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, registry, publisher, challenger, policy } = f;
      const graph = f.commitments.graph.map((spec, i) => (i === 2 ? { ...spec, multiplier: 0 } : spec));
      const modelId = modelIdOf(f.commitments.weightsRoot, graphHash(graph));
      await registry
        .connect(publisher)
        .registerModel(f.commitments.weightsRoot, graphHash(graph), f.commitments.engineId, "ipfs://bad", policy);
      const c = await commitInference(f, { seed: 38, fault: { layer: 3, neuron: 2 }, modelId });
      const tx = await disputeGame.connect(challenger).openDispute(c.id, modelId, c.inference);
      const g: Game = { params: await paramsFrom(disputeGame, tx), id: "", c, challenger, tx };
      g.id = await disputeGame.disputeIdOf(g.params);
      await playToProof(f, g, 3);
      const proof = { ...fraudProof(f, g, 3), graph };
      await expect(disputeGame.connect(challenger).proveNeuron(g.params, proof))
        .to.emit(disputeGame, "FraudProven")
        .withArgs(g.id, 3, 2n ** 32n - 1n, 0, 0)
        .and.to.emit(disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, policy.slashAmount);
    });

    it("a guardian pausing mid-game cannot stop the moves, the timeout or the claims", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, stakeManager, admin, challenger, provider, policy } = f;
      const fraud = await openGame(f, await commitInference(f, { seed: 33, fault: { layer: 3, neuron: 5 } }));
      const frivolous = await openGame(f, await commitInference(f, { seed: 34 }), f.challenger2);
      const before = await balancesOf(f, [challenger, provider]);
      await disputeGame.connect(admin).pause();
      await expect(proveFraud(f, fraud))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(fraud.id, Outcome.ChallengerWon, policy.slashAmount);
      await revealTrace(f, frivolous);
      await passDeadline(connection, f, frivolous);
      await expect(disputeGame.timeout(frivolous.params))
        .to.emit(disputeGame, "DisputeResolved")
        .withArgs(frivolous.id, Outcome.ProviderWon, 0);
      await stakeManager.connect(challenger).claim();
      await stakeManager.connect(provider).claim();
      expect(await balancesOf(f, [challenger, provider])).to.deep.equal([
        before[0] + policy.challengerBond + policy.slashAmount / 2n,
        before[1] + policy.challengerBond,
      ]);
      expect(await disputeGame.paused()).to.equal(true);
    });

    it("a governance key cannot cut the challenger's share of a running game; a new treasury gets the rest", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, stakeManager, admin, challenger, policy } = f;
      const g = await openGame(f, await commitInference(f, { seed: 35, fault: { layer: 2, neuron: 35 } }));
      await stakeManager.connect(admin).setChallengerShareBps(0);
      await stakeManager.connect(admin).setTreasury(admin.address);
      await proveFraud(f, g);
      expect(await creditsOf(f, [challenger, admin, f.treasury])).to.deep.equal([
        policy.challengerBond + policy.slashAmount / 2n,
        policy.slashAmount / 2n,
        0n,
      ]);
    });

    it("a guardian pause over the whole challenge window lets a wrong commitment become Final (design risk)", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, ledger, admin, challenger } = f;
      const c = await commitInference(f, { seed: 36, fault: { layer: 1, neuron: 36 } });
      await disputeGame.connect(admin).pause();
      await expect(
        disputeGame.connect(challenger).openDispute(c.id, f.commitments.modelId, c.inference),
      ).to.be.revertedWithCustomError(disputeGame, "EnforcedPause");
      await passChallengeWindow(connection, f, c.id);
      await disputeGame.connect(admin).unpause();
      await expect(disputeGame.connect(challenger).openDispute(c.id, f.commitments.modelId, c.inference))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(c.id, (await ledger.recordOf(c.id)).challengeDeadline);
      expect(await ledger.status(c.id)).to.equal(Status.Final);
    });

    it("an admin revoking the game's DISPUTE_ROLE freezes open games until it is granted back (trusted admin)", async () => {
      const f = await networkHelpers.loadFixture(mnistFixture);
      const { disputeGame, stakeManager, admin, challenger, policy } = f;
      const g = await openGame(f, await commitInference(f, { seed: 37, fault: { layer: 2, neuron: 37 } }));
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
      const registry = await ethers.deployContract("ModelRegistry", [admin.address, ledger]);
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
      const policy = defaultPolicy(ethers);
      await registry
        .connect(publisher)
        .registerModel(commitments.weightsRoot, commitments.graphHash, commitments.engineId, "ipfs://m", policy);
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
      /** Commits hash-only inferences: the timeouts and closes below never need a proof. */
      async function commit() {
        n += 1;
        const inference = {
          inputHash: ethers.id(`in${n}`),
          outputHash: ethers.id(`out${n}`),
          traceRoot: ethers.id(`tr${n}`),
        };
        const tx = await ledger
          .connect(provider)
          .commit(commitments.modelId, inference.inputHash, inference.outputHash, inference.traceRoot, "0x");
        const id = (await tx.wait())!.logs[0].topics[1]; // InferenceCommitted's indexed id
        return { id, inference };
      }
      /** Opens a dispute from `from` (a signer, or the token contract itself). */
      async function open(c: Awaited<ReturnType<typeof commit>>, from: Signer | "token") {
        const data = game.interface.encodeFunctionData("openDispute", [c.id, commitments.modelId, c.inference]);
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
      const conserved = async () =>
        expect(await token.balanceOf(await stakeManager.getAddress())).to.equal(await stakeManager.totalOwed());
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
        conserved,
        hookError,
      };
    }

    it("claim re-entering claim: the inner claim reverts and the credit is paid once", async () => {
      const m = await networkHelpers.loadFixture(maliciousFixture);
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
      await m.conserved();
    });

    it("withdraw re-entering withdraw (before the balance moves): the inner call reverts and the stake leaves once", async () => {
      const m = await networkHelpers.loadFixture(maliciousFixture);
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
      await m.conserved();
    });

    it("a bond's transferFrom re-entering timeout or claim is stopped by the guards; the dispute opens normally", async () => {
      const m = await networkHelpers.loadFixture(maliciousFixture);
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
      await m.conserved();
    });

    it("claim re-entering another game's timeout resolves that game exactly as a plain timeout would", async () => {
      const m = await networkHelpers.loadFixture(maliciousFixture);
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
      await m.conserved();
    });
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, type ContractTransactionResponse } from "ethers";
import { leafHashOf } from "../../src/sdk/ids.js";
import {
  commitInference,
  creditsOf,
  expectFundsConserved,
  expectState,
  fraudProof,
  inferenceOf,
  neuronProofAt,
  openGame,
  openLeafGame,
  Outcome,
  passDeadline,
  Phase,
  playToProof,
  revealInput,
  shareOf,
  Status,
  type Game,
} from "../disputes/helpers.js";
import { DAY, HOUR } from "../helpers/fixtures.js";
import {
  commitTee,
  commitTeeBatch,
  deployWithTee,
  openTeeGame,
  teeKeyOf,
  TeeMode,
  type Tee,
  type TeeCommitted,
} from "../helpers/teeFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;
const windowed = () => deployWithTee(connection, TeeMode.Window);
const instant = () => deployWithTee(connection, TeeMode.Instant);

/** The fixture's shortened window under `Window` and accountability period under `Instant`. */
const TEE_WINDOW = 600n;
const ACCOUNTABILITY = BigInt(DAY);
const STAKE = ethers.parseEther("1000");
const Finality = { None: 0n, ChallengeWindow: 1n, Tee: 2n };
/** `EnvironmentStatus`. */
const EnvStatus = { None: 0n, Approved: 1n, Revoked: 2n };

/** The block timestamp of a transaction. */
async function timeOf(tx: ContractTransactionResponse | { blockNumber: number | null }): Promise<bigint> {
  const n = "wait" in tx ? (await tx.wait())!.blockNumber : tx.blockNumber!;
  return BigInt((await ethers.provider.getBlock(n))!.timestamp);
}

/** `[status, finality]` of a record. */
const finalityOf = async (f: Tee, id: string) => [...(await f.ledger.finalityOf(id))];

/** `[provider, challengeDeadline, finality]` of `recordOf` (resolved for TEE records). */
async function recordOf(f: Tee, id: string) {
  const r = await f.ledger.recordOf(id);
  return [r.provider, r.challengeDeadline, r.finality];
}

/** Plays a wrong commitment's game to its neuron proof and proves fraud; returns the proof transaction. */
async function proveFraud(f: Tee, g: Game) {
  const layer = await playToProof(f, g);
  const proof = fraudProof(f, g, layer);
  return { layer, proof, tx: await f.disputeGame.connect(g.challenger).proveNeuron(g.params, proof) };
}

describe("TEE-signed commitments: settlement and disputes", () => {
  describe("Window mode (shortened window of 600 s, full window 1 h)", () => {
    const load = () => networkHelpers.loadFixture(windowed);

    it("is Pending until the TEE deadline, then Final with finality Tee, and never flips back on a later revocation", async () => {
      const f = await load();
      const c = await commitTee(f, { seed: 1 });
      const t = await timeOf(c.tx);
      const teeDeadline = t + TEE_WINDOW;
      expect(await recordOf(f, c.id)).to.deep.equal([f.provider.address, teeDeadline, Finality.Tee]);
      await time.increaseTo(teeDeadline);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Pending, Finality.None]);
      await time.increaseTo(teeDeadline + 1n);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
      expect(await f.ledger.isFinal(c.id)).to.equal(true);

      const revokedAt = await timeOf(await f.environmentRegistry.connect(f.provider).revokeEnclave(f.enclave.address));
      const tee = await f.ledger.teeRecordOf(c.id);
      expect([tee.trustLostAt, tee.teeDeadline, tee.fallbackDeadline, tee.provenWrong]).to.deep.equal([
        revokedAt,
        teeDeadline,
        t + BigInt(HOUR),
        false,
      ]);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
      expect(await recordOf(f, c.id)).to.deep.equal([f.provider.address, teeDeadline, Finality.Tee]);
      // Still inside the full window, yet the shortened one settled it: disputes are closed.
      await expect(f.disputeGame.connect(f.challenger).openDispute(teeKeyOf(c), false, 1n))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(c.id, teeDeadline);
      await f.environmentRegistry.connect(f.admin).revokeEnvironment(f.environment);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
    });

    it("falls back to the full window for every pending record of a key after one O(1) revocation", async () => {
      const f = await load();
      const records: TeeCommitted[] = [];
      for (let i = 0; i < 10; i++) records.push(await commitTee(f, { seed: 10 + i }));
      const times = await Promise.all(records.map((c) => timeOf(c.tx)));

      // The revocation costs the same whether the key signed ten records or none: nothing is written per record.
      const spare = await f.registerEnclave(f.provider);
      const idle = (await (await f.environmentRegistry.connect(f.provider).revokeEnclave(spare.address)).wait())!;
      const tx = await f.environmentRegistry.connect(f.provider).revokeEnclave(f.enclave.address);
      const busy = (await tx.wait())!;
      console.log(`      revokeEnclave: ${busy.gasUsed} gas with 10 pending records, ${idle.gasUsed} with none`);
      const diff = busy.gasUsed > idle.gasUsed ? busy.gasUsed - idle.gasUsed : idle.gasUsed - busy.gasUsed;
      expect(diff).to.be.lessThan(300n); // calldata bytes of the two addresses differ, nothing else
      const revokedAt = await timeOf(tx);
      expect(revokedAt).to.be.at.most(times[0] + TEE_WINDOW);

      for (const [i, c] of records.entries()) {
        expect((await f.ledger.teeRecordOf(c.id)).trustLostAt).to.equal(revokedAt);
        expect(await recordOf(f, c.id)).to.deep.equal([
          f.provider.address,
          times[i] + BigInt(HOUR),
          Finality.ChallengeWindow,
        ]);
      }
      await time.increaseTo(times[9] + TEE_WINDOW + 1n);
      for (const c of records) expect(await finalityOf(f, c.id)).to.deep.equal([Status.Pending, Finality.None]);
      await time.increaseTo(times[0] + BigInt(HOUR));
      for (const c of records) expect(await f.ledger.status(c.id)).to.equal(Status.Pending);
      await time.increaseTo(times[9] + BigInt(HOUR) + 1n);
      for (const c of records) {
        expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.ChallengeWindow]);
      }
    });

    it("falls back when the environment is revoked exactly at the TEE deadline; disputes stay open in the full window", async () => {
      const f = await load();
      const c = await commitTee(f, { seed: 20, fault: { layer: 3, neuron: 1 } });
      const honest = await commitTee(f, { seed: 21, key: await f.registerEnclave(f.provider) });
      const t = await timeOf(c.tx);
      const teeDeadline = t + TEE_WINDOW;
      await time.setNextBlockTimestamp(teeDeadline);
      await f.environmentRegistry.connect(f.admin).revokeEnvironment(f.environment);
      expect((await f.environmentRegistry.environmentOf(f.environment)).revokedAt).to.equal(teeDeadline);
      // Both keys run the revoked environment: trust is lost at the deadline ("at or before" falls back).
      for (const r of [c, honest]) {
        const tee = await f.ledger.teeRecordOf(r.id);
        expect(tee.trustLostAt).to.equal(teeDeadline);
        const rt = await timeOf(r.tx);
        expect(await recordOf(f, r.id)).to.deep.equal([
          f.provider.address,
          rt + BigInt(HOUR),
          Finality.ChallengeWindow,
        ]);
      }
      await time.increaseTo(teeDeadline + 60n);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Pending, Finality.None]);
      // A challenger may still open a game after the shortened window.
      const g = await openTeeGame(f, c);
      expect(await f.ledger.status(c.id)).to.equal(Status.Disputed);
      await proveFraud(f, g);
      expect(await f.ledger.status(c.id)).to.equal(Status.Overturned);
      await time.increaseTo((await timeOf(honest.tx)) + BigInt(HOUR) + 1n);
      expect(await finalityOf(f, honest.id)).to.deep.equal([Status.Final, Finality.ChallengeWindow]);
    });

    it("overturns a wrong commitment inside the shortened window, slashes, and revokes the key for fraud at once", async () => {
      const f = await load();
      const c = await commitTee(f, { seed: 30, fault: { layer: 2, neuron: 5, delta: 3 } });
      const sibling = await commitTee(f, { seed: 31 });
      const g = await openTeeGame(f, c);
      expect(await f.ledger.status(c.id)).to.equal(Status.Disputed);
      const { layer, proof, tx } = await proveFraud(f, g);
      const now = await timeOf(tx);
      expect(now).to.be.at.most((await timeOf(c.tx)) + TEE_WINDOW);
      const share = shareOf(f.policy.slashAmount, BigInt(g.params.challengerShareBps));
      await expect(tx)
        .to.emit(f.disputeGame, "FraudProven")
        .withArgs(
          g.id,
          layer,
          proof.neuron,
          c.honest.activations[layer][proof.neuron],
          c.claimed.activations[layer][proof.neuron],
        )
        .and.to.emit(f.stakeManager, "StakeSlashed")
        .withArgs(f.provider.address, f.policy.slashAmount, share)
        .and.to.emit(f.ledger, "Overturned")
        .withArgs(c.id, ZeroHash)
        .and.to.emit(f.environmentRegistry, "EnclaveRevoked")
        .withArgs(f.enclave.address, await f.ledger.getAddress(), true)
        .and.to.emit(f.environmentRegistry, "EnvironmentCompromised")
        .withArgs(f.environment, f.enclave.address, c.id);
      await expect(tx).not.to.emit(f.environmentRegistry, "EnvironmentRevoked");
      await expectState(f.disputeGame, g.id, Phase.Resolved, Outcome.ChallengerWon);

      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Overturned, Finality.None]);
      const tee = await f.ledger.teeRecordOf(c.id);
      expect([tee.provenWrong, tee.trustLostAt]).to.deep.equal([true, now]);
      const enclave = await f.environmentRegistry.enclaveOf(f.enclave.address);
      expect([enclave.revokedAt, enclave.revokedForFraud]).to.deep.equal([now, true]);
      expect(await f.environmentRegistry.isValidEnclave(f.enclave.address)).to.equal(false);
      const env = await f.environmentRegistry.environmentOf(f.environment);
      expect([env.compromised, env.status]).to.deep.equal([true, EnvStatus.Approved]);
      expect((await f.stakeManager.stakeOf(f.provider.address)).active).to.equal(STAKE - f.policy.slashAmount);
      // The key's other pending record falls back to the full window.
      expect(await recordOf(f, sibling.id)).to.deep.equal([
        f.provider.address,
        (await timeOf(sibling.tx)) + BigInt(HOUR),
        Finality.ChallengeWindow,
      ]);
      // The key signs nothing more.
      const next = inferenceOf(c.honest);
      const seal = await f.seal(f.enclave, next);
      await expect(f.ledger.connect(f.provider).commitTee(f.modelId, next, "0x", seal))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerEnclaveRevoked")
        .withArgs(f.enclave.address, now);
      await expectFundsConserved(f);
    });

    it("revokes the environment as well under setRevokeOnFraud(true): its other keys sign nothing more", async () => {
      const f = await load();
      await expect(f.environmentRegistry.connect(f.admin).setRevokeOnFraud(true))
        .to.emit(f.environmentRegistry, "RevokeOnFraudUpdated")
        .withArgs(true);
      const other = await f.registerEnclave(f.provider2);
      const pending = await commitTee(f, { seed: 40, key: other, provider: f.provider2 });
      const c = await commitTee(f, { seed: 41, fault: { layer: 1, neuron: 3 } });
      const { tx } = await proveFraud(f, await openTeeGame(f, c));
      const now = await timeOf(tx);
      await expect(tx)
        .to.emit(f.environmentRegistry, "EnvironmentRevoked")
        .withArgs(f.environment, true)
        .and.to.emit(f.environmentRegistry, "EnvironmentCompromised")
        .withArgs(f.environment, f.enclave.address, c.id);
      const env = await f.environmentRegistry.environmentOf(f.environment);
      expect([env.status, env.revokedAt, env.compromised]).to.deep.equal([EnvStatus.Revoked, now, true]);
      // provider2's key is not revoked itself, but its environment is: refused, and its record falls back.
      expect((await f.environmentRegistry.enclaveOf(other.address)).revokedAt).to.equal(0n);
      expect((await f.ledger.teeRecordOf(pending.id)).trustLostAt).to.equal(now);
      expect((await f.ledger.recordOf(pending.id)).finality).to.equal(Finality.ChallengeWindow);
      const next = inferenceOf(c.honest);
      const seal = await f.seal(other, next);
      await expect(f.ledger.connect(f.provider2).commitTee(f.modelId, next, "0x", seal))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerEnvironmentRevoked")
        .withArgs(f.environment);
    });

    it("proves a wrong leaf of a TEE batch: leaf Overturned, key revoked, the other leaves fall back", async () => {
      const f = await load();
      const batch = await commitTeeBatch(f, [50, 51], [undefined, { layer: 3, neuron: 2 }]);
      const t = await timeOf(batch.tx);
      const g = await openLeafGame(f, batch, 1, true);
      await revealInput(f, g);
      await f.disputeGame.connect(g.challenger).continueDispute(g.params);
      const { tx } = await proveFraud(f, g);
      const leafHash = leafHashOf(batch.leaf(1).inference);
      await expect(tx)
        .to.emit(f.ledger, "Overturned")
        .withArgs(batch.batchId, leafHash)
        .and.to.emit(f.environmentRegistry, "EnclaveRevoked")
        .withArgs(f.enclave.address, await f.ledger.getAddress(), true)
        .and.to.emit(f.environmentRegistry, "EnvironmentCompromised")
        .withArgs(f.environment, f.enclave.address, batch.batchId);
      expect(await f.ledger.leafStatus(batch.header, batch.proof(1), batch.leaf(1).inference)).to.equal(
        Status.Overturned,
      );
      expect((await f.ledger.teeRecordOf(batch.batchId)).provenWrong).to.equal(true);
      expect((await f.environmentRegistry.enclaveOf(f.enclave.address)).revokedForFraud).to.equal(true);
      expect((await f.stakeManager.stakeOf(f.provider.address)).active).to.equal(STAKE - f.policy.slashAmount);
      // The honest leaf is disputable for the full window now that its signer lost trust.
      expect(await recordOf(f, batch.batchId)).to.deep.equal([
        f.provider.address,
        t + BigInt(HOUR),
        Finality.ChallengeWindow,
      ]);
      await time.increaseTo(t + TEE_WINDOW + 1n);
      expect(await f.ledger.leafStatus(batch.header, batch.proof(0), batch.leaf(0).inference)).to.equal(Status.Pending);
      await time.increaseTo(t + BigInt(HOUR) + 1n);
      expect(await f.ledger.leafStatus(batch.header, batch.proof(0), batch.leaf(0).inference)).to.equal(Status.Final);
      await expectFundsConserved(f);
    });

    it("lets an honest TEE provider win its game and lose nothing: stake intact, bond paid, key NOT revoked", async () => {
      const f = await load();
      const c = await commitTee(f, { seed: 60 });
      const g = await openTeeGame(f, c, f.challenger2);
      await playToProof(f, g, 2);
      for (const j of [0, 5, 63]) {
        await expect(f.disputeGame.connect(f.challenger2).proveNeuron(g.params, neuronProofAt(f, g, 2, j)))
          .to.be.revertedWithCustomError(f.disputeGame, "DisputeGameNeuronMatches")
          .withArgs(j, c.honest.activations[2][j]);
      }
      await passDeadline(connection, f, g);
      const tx = f.disputeGame.connect(f.watcher).timeout(g.params);
      await expect(tx)
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ProviderWon, 0)
        .and.to.emit(f.stakeManager, "BondReleased")
        .withArgs(f.provider.address, f.policy.challengerBond);
      await expect(tx).not.to.emit(f.environmentRegistry, "EnclaveRevoked");
      await expect(tx).not.to.emit(f.ledger, "Overturned");
      expect(await creditsOf(f, [f.provider, f.challenger2, f.treasury])).to.deep.equal([
        f.policy.challengerBond,
        0n,
        0n,
      ]);
      expect([...(await f.stakeManager.stakeOf(f.provider.address))].slice(0, 3)).to.deep.equal([STAKE, 0n, 0n]);
      const enclave = await f.environmentRegistry.enclaveOf(f.enclave.address);
      expect([enclave.revokedAt, enclave.revokedForFraud]).to.deep.equal([0n, false]);
      expect(await f.environmentRegistry.isValidEnclave(f.enclave.address)).to.equal(true);
      expect((await f.environmentRegistry.environmentOf(f.environment)).compromised).to.equal(false);
      const tee = await f.ledger.teeRecordOf(c.id);
      expect([tee.trustLostAt, tee.provenWrong]).to.deep.equal([0n, false]);
      // The game outlasted the shortened window: Final (by the TEE) once it closed.
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
      await expectFundsConserved(f);
    });
    it("overturns a TEE batch whose disclosure fails, but withheld data is no evidence against the enclave: key kept", async () => {
      const f = await load();
      const batch = await commitTeeBatch(f, [90, 91]);
      const tx = await f.batchDisclosure.connect(f.watcher).demandDisclosure(batch.header);
      await expect(tx).to.emit(f.ledger, "DisclosureMarked").withArgs(batch.batchId);
      const deadline = (await f.batchDisclosure.disclosureOf(batch.batchId)).deadline;
      await time.increaseTo(deadline + 1n);
      const timeout = f.batchDisclosure.connect(f.watcher).timeoutDisclosure(batch.header);
      await expect(timeout)
        .to.emit(f.ledger, "Overturned")
        .withArgs(batch.batchId, ZeroHash)
        .and.to.emit(f.stakeManager, "StakeSlashed");
      await expect(timeout).not.to.emit(f.environmentRegistry, "EnclaveRevoked");
      await expect(timeout).not.to.emit(f.environmentRegistry, "EnvironmentCompromised");
      expect(await f.ledger.status(batch.batchId)).to.equal(Status.Overturned);
      expect(await f.environmentRegistry.isValidEnclave(f.enclave.address)).to.equal(true);
      expect((await f.ledger.teeRecordOf(batch.batchId)).trustLostAt).to.equal(0n);
      await expectFundsConserved(f);
    });

    it("does not mark a TEE batch provenWrong when only its disclosure failed (no fraud was proven)", async () => {
      // TeeRecord.provenWrong: "Fraud was proven against it"; a failed disclosure proves withheld data only.
      const f = await load();
      const batch = await commitTeeBatch(f, [92, 93]);
      await f.batchDisclosure.connect(f.watcher).demandDisclosure(batch.header);
      await time.increaseTo((await f.batchDisclosure.disclosureOf(batch.batchId)).deadline + 1n);
      await f.batchDisclosure.connect(f.watcher).timeoutDisclosure(batch.header);
      expect(await f.ledger.status(batch.batchId)).to.equal(Status.Overturned);
      expect((await f.ledger.teeRecordOf(batch.batchId)).provenWrong).to.equal(false);
      expect((await f.ledger.teeRecordOf(batch.batchId)).withheld).to.equal(true);
    });

    it("does not revoke the environment (revokeOnFraud) when a provider lets a game on its honest TEE commitment time out", async () => {
      // A timeout proves nothing about the enclave, only that its operator did not answer: otherwise one
      // operator could, for one slash, revoke an environment every other operator runs (revokeOnFraud).
      const f = await load();
      await f.environmentRegistry.connect(f.admin).setRevokeOnFraud(true);
      const other = await f.registerEnclave(f.provider2);
      const c = await commitTee(f, { seed: 95 });
      expect(c.claimed.outputHash).to.equal(c.honest.outputHash);
      const g = await openTeeGame(f, c); // the provider's accomplice, or anyone
      await passDeadline(connection, f, g);
      const timeout = f.disputeGame.connect(f.watcher).timeout(g.params);
      await expect(timeout)
        .to.emit(f.disputeGame, "DisputeResolved")
        .withArgs(g.id, Outcome.ChallengerWon, f.policy.slashAmount);
      await expect(timeout).not.to.emit(f.disputeGame, "FraudProven");
      await expect(timeout).not.to.emit(f.environmentRegistry, "EnvironmentRevoked");
      expect((await f.environmentRegistry.environmentOf(f.environment)).status).to.equal(EnvStatus.Approved);
      expect(await f.environmentRegistry.isValidEnclave(other.address)).to.equal(true);
    });
  });

  describe("Instant mode (accountability period of 1 day)", () => {
    const load = () => networkHelpers.loadFixture(instant);

    it("is Final at once; a fraud proof within the accountability period slashes and sets provenWrong, status stays Final", async () => {
      const f = await load();
      const c = await commitTee(f, { seed: 70, fault: { layer: 2, neuron: 9 } });
      const t = await timeOf(c.tx);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
      expect(await recordOf(f, c.id)).to.deep.equal([f.provider.address, t + ACCOUNTABILITY, Finality.Tee]);
      const tee0 = await f.ledger.teeRecordOf(c.id);
      expect([tee0.mode, tee0.teeDeadline, tee0.fallbackDeadline, tee0.provenWrong]).to.deep.equal([
        BigInt(TeeMode.Instant),
        t + ACCOUNTABILITY,
        0n,
        false,
      ]);
      await time.increaseTo(t + ACCOUNTABILITY - 100n);
      const g = await openTeeGame(f, c);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
      const { tx } = await proveFraud(f, g);
      const now = await timeOf(tx);
      await expect(tx)
        .to.emit(f.stakeManager, "StakeSlashed")
        .and.to.emit(f.ledger, "Overturned")
        .withArgs(c.id, ZeroHash)
        .and.to.emit(f.environmentRegistry, "EnclaveRevoked")
        .withArgs(f.enclave.address, await f.ledger.getAddress(), true);
      expect((await f.stakeManager.stakeOf(f.provider.address)).active).to.equal(STAKE - f.policy.slashAmount);
      const tee = await f.ledger.teeRecordOf(c.id);
      expect([tee.provenWrong, tee.trustLostAt]).to.deep.equal([true, now]);
      expect(await f.ledger.status(c.id)).to.equal(Status.Final);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
      // Slashed once: a second game on the overturned commitment is refused.
      await expect(f.disputeGame.connect(f.challenger2).openDispute(teeKeyOf(c), false, 2n))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(c.id);
      await expectFundsConserved(f);
    });

    it("opens disputes up to the end of the accountability period and refuses them one second later", async () => {
      const f = await load();
      const c = await commitTee(f, { seed: 71, fault: { layer: 1, neuron: 0 } });
      const deadline = (await timeOf(c.tx)) + ACCOUNTABILITY;
      await time.setNextBlockTimestamp(deadline);
      await f.disputeGame.connect(f.challenger).openDispute(teeKeyOf(c), false, 3n, { gasLimit: 1_000_000 });
      expect(BigInt(await time.latest())).to.equal(deadline);
      await expect(f.disputeGame.connect(f.challenger2).openDispute(teeKeyOf(c), false, 4n))
        .to.be.revertedWithCustomError(f.ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(c.id, deadline);
      expect((await f.ledger.recordOf(c.id)).openDisputes).to.equal(1n);
    });

    it("stays Final with finality Tee when the key is revoked later; trustLostAt shows it", async () => {
      const f = await load();
      const c = await commitTee(f, { seed: 72 });
      await time.increase(HOUR);
      const revokedAt = await timeOf(await f.environmentRegistry.connect(f.admin).revokeEnclave(f.enclave.address));
      expect((await f.ledger.teeRecordOf(c.id)).trustLostAt).to.equal(revokedAt);
      expect(await finalityOf(f, c.id)).to.deep.equal([Status.Final, Finality.Tee]);
      expect((await f.ledger.recordOf(c.id)).finality).to.equal(Finality.Tee);
    });
  });

  describe("gas of the fraud-proving move", () => {
    it("reports proveNeuron and a ChallengerWon timeout on a TEE record against a plain record", async () => {
      const fault = { layer: 1, neuron: 7, delta: 3 };
      const depth = 8n; // ceil(log2(128 + 64 + 10)) rows of the MNIST weights tree
      const measure = async (tee: boolean) => {
        const f = await networkHelpers.loadFixture(windowed);
        const g = tee
          ? await openTeeGame(f, await commitTee(f, { seed: 80, fault }))
          : await openGame(f, await commitInference(f, { seed: 80, fault }));
        const { tx } = await proveFraud(f, g);
        await expect(tx).to.emit(f.disputeGame, "FraudProven");
        const prove = (await tx.wait())!.gasUsed;
        const stalled = tee
          ? await openTeeGame(f, await commitTee(f, { seed: 81, fault, key: await f.registerEnclave(f.provider) }))
          : await openGame(f, await commitInference(f, { seed: 81, fault }));
        await passDeadline(connection, f, stalled);
        const timeout = await f.disputeGame.connect(f.watcher).timeout(stalled.params);
        await expect(timeout).to.emit(f.ledger, "Overturned");
        return { prove, timeout: (await timeout.wait())!.gasUsed };
      };
      const plain = await measure(false);
      const tee = await measure(true);
      // Deployed after the fixtures: loading one reverts the chain to its snapshot.
      const harness = await ethers.deployContract("GasBoundsHarness");
      const proveBound = await harness.proveNeuron(784, 128, depth);
      const fixedBound = await harness.fixedMove();
      console.log(
        `      proveNeuron (layer 1): plain ${plain.prove}, TEE ${tee.prove} (+${tee.prove - plain.prove}); bound ${proveBound}`,
      );
      console.log(
        `      timeout (AwaitingTrace, ChallengerWon): plain ${plain.timeout}, TEE ${tee.timeout} (+${tee.timeout - plain.timeout}); fixedMove ${fixedBound}`,
      );
      expect(tee.prove).to.be.greaterThan(plain.prove);
    });
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import {
  CommitmentStatus,
  deployCore,
  expectSolvent,
  h,
  ids,
  makeBatch,
  ModelStatus,
  plain,
  RecordKind,
  registerModel,
  txTime,
  UINT48_MAX,
  ZERO_HASH,
  type Core,
} from "./coreFixtures.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const E = (n: string | number) => ethers.parseEther(String(n));
const { commitmentId, batchId: batchIdOf, leafHash: leafHashOf } = ids(ethers);
const WINDOW = 3600; // defaultPolicy's challenge window

const IN = h(ethers, "input");
const OUT = h(ethers, "output");
const TRACE = h(ethers, "trace");
const INPUT_DATA = ethers.hexlify(ethers.toUtf8Bytes("a 28x28 image, or its URI ..."));

describe("InferenceLedger", () => {
  /** The deployment the running test loaded; the vault invariant is checked on it after every test. */
  let current: Core | undefined;
  async function load<T extends Core>(fixture: () => Promise<T>): Promise<T> {
    const core = await networkHelpers.loadFixture(fixture);
    current = core;
    return core;
  }
  afterEach(async () => {
    if (current !== undefined) await expectSolvent(current);
    current = undefined;
  });

  /** A model (1 h window, 100 VST minimum); `provider` holds exactly the minimum, `provider2` 1,000. */
  async function withModel() {
    const core = await deployCore(connection);
    const modelId = await registerModel(ethers, core, "m1");
    await core.stakeManager.connect(core.provider).deposit(core.policy.minStake);
    await core.stakeManager.connect(core.provider2).deposit(E(1000));
    return { ...core, modelId };
  }

  /** One single commitment by `provider`. */
  async function withCommit() {
    const core = await withModel();
    const tx = await core.ledger.connect(core.provider).commit(core.modelId, IN, OUT, TRACE, INPUT_DATA);
    const at = await txTime(ethers, tx);
    const id = commitmentId(core.provider.address, core.modelId, IN, OUT, TRACE);
    return { ...core, id, deadline: at + WINDOW };
  }

  /** One batch of five leaves by `provider`. */
  async function withBatch() {
    const core = await withModel();
    const batch = makeBatch(ethers, "b1", 5);
    const tx = await core.ledger.connect(core.provider).commitBatch(core.modelId, batch.root, 5, "ipfs://b1");
    const at = await txTime(ethers, tx);
    const header = { provider: core.provider.address, modelId: core.modelId, root: batch.root, count: 5 };
    const batchId = batchIdOf(core.provider.address, core.modelId, batch.root, 5);
    return { ...core, batch, header, batchId, deadline: at + WINDOW };
  }

  async function recordState(core: Core, ...recordIds: string[]) {
    const out = [];
    for (const id of recordIds) out.push(plain([await core.ledger.recordOf(id), await core.ledger.status(id)]));
    return out;
  }

  describe("commit", () => {
    it("stores a Single record with the provider and deadline = block timestamp + challenge window", async () => {
      const { ledger, provider, id, deadline } = await load(withCommit);
      expect(plain(await ledger.recordOf(id))).to.deep.equal(
        plain([provider.address, deadline, 0n, RecordKind.Single, false]),
      );
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
      expect(await ledger.isFinal(id)).to.equal(false);
    });

    it("returns id = keccak256(abi.encode(provider, modelId, inputHash, outputHash, traceRoot))", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      const returned = await ledger.connect(provider2).commit.staticCall(modelId, IN, OUT, TRACE, "0x");
      expect(returned).to.equal(commitmentId(provider2.address, modelId, IN, OUT, TRACE));
    });

    it("emits InferenceCommitted with the provider, the three hashes and the input data", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      const id = commitmentId(provider2.address, modelId, IN, OUT, TRACE);
      await expect(ledger.connect(provider2).commit(modelId, IN, OUT, TRACE, INPUT_DATA))
        .to.emit(ledger, "InferenceCommitted")
        .withArgs(id, modelId, provider2.address, IN, OUT, TRACE, INPUT_DATA);
    });

    it("emits an InferenceCommitted log whose data is the standard ABI encoding", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      const receipt = await (await ledger.connect(provider2).commit(modelId, IN, OUT, TRACE, INPUT_DATA)).wait();
      const log = receipt!.logs.find((l) => l.address === receipt!.to)!;
      const expected = ethers.AbiCoder.defaultAbiCoder().encode(
        ["address", "bytes32", "bytes32", "bytes32", "bytes"],
        [provider2.address, IN, OUT, TRACE, INPUT_DATA],
      );
      expect(log.data).to.equal(expected);
    });

    it("reverts with InferenceLedgerDuplicate for the same commitment twice, but not for another provider", async () => {
      const core = await load(withCommit);
      const { ledger, provider, provider2, modelId, id } = core;
      const before = await recordState(core, id);
      await expect(ledger.connect(provider).commit(modelId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerDuplicate")
        .withArgs(id);
      expect(await recordState(core, id)).to.deep.equal(before);
      await ledger.connect(provider2).commit(modelId, IN, OUT, TRACE, "0x");
      const other = commitmentId(provider2.address, modelId, IN, OUT, TRACE);
      expect(other).to.not.equal(id);
      expect((await ledger.recordOf(other)).provider).to.equal(provider2.address);
    });

    for (const field of ["inputHash", "outputHash", "traceRoot"] as const) {
      it(`reverts with InferenceLedgerZeroHash when ${field} is zero and records nothing`, async () => {
        const core = await load(withModel);
        const hashes = { inputHash: IN, outputHash: OUT, traceRoot: TRACE, [field]: ZERO_HASH };
        const id = commitmentId(
          core.provider.address,
          core.modelId,
          hashes.inputHash,
          hashes.outputHash,
          hashes.traceRoot,
        );
        await expect(
          core.ledger
            .connect(core.provider)
            .commit(core.modelId, hashes.inputHash, hashes.outputHash, hashes.traceRoot, "0x"),
        ).to.be.revertedWithCustomError(core.ledger, "InferenceLedgerZeroHash");
        expect(await recordState(core, id)).to.deep.equal([plain([[ethers.ZeroAddress, 0n, 0n, 0n, false], 0n])]);
      });
    }

    it("reverts with InferenceLedgerUnknownModel for an unregistered model and records nothing", async () => {
      const core = await load(withModel);
      const ghost = h(ethers, "ghost model");
      const id = commitmentId(core.provider.address, ghost, IN, OUT, TRACE);
      await expect(core.ledger.connect(core.provider).commit(ghost, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(core.ledger, "InferenceLedgerUnknownModel")
        .withArgs(ghost);
      expect(await core.ledger.status(id)).to.equal(CommitmentStatus.None);
    });

    it("reverts with InferenceLedgerModelRevoked at once after the publisher revokes", async () => {
      const core = await load(withModel);
      await core.registry.connect(core.publisher).revokeModel(core.modelId);
      const id = commitmentId(core.provider.address, core.modelId, IN, OUT, TRACE);
      await expect(core.ledger.connect(core.provider).commit(core.modelId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(core.ledger, "InferenceLedgerModelRevoked")
        .withArgs(core.modelId);
      expect(await core.ledger.status(id)).to.equal(CommitmentStatus.None);
    });

    it("reverts with InferenceLedgerModelRevoked at once after a governor revokes, even during a grace time", async () => {
      const core = await load(withModel);
      await core.registry.connect(core.publisher).deprecateModel(core.modelId, 10_000);
      await core.registry.connect(core.admin).revokeModel(core.modelId);
      await expect(core.ledger.connect(core.provider).commit(core.modelId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(core.ledger, "InferenceLedgerModelRevoked")
        .withArgs(core.modelId);
      await expect(core.ledger.connect(core.provider).commitBatch(core.modelId, h(ethers, "root"), 1, ""))
        .to.be.revertedWithCustomError(core.ledger, "InferenceLedgerModelRevoked")
        .withArgs(core.modelId);
    });

    it("accepts commitments of a deprecated model until its grace time ends, then reverts with InferenceLedgerModelDeprecated", async () => {
      const core = await load(withModel);
      const { ledger, registry, publisher, provider, modelId } = core;
      const tx = await registry.connect(publisher).deprecateModel(modelId, 1000);
      const until = (await txTime(ethers, tx)) + 1000;
      await networkHelpers.time.setNextBlockTimestamp(until - 1);
      await ledger.connect(provider).commit(modelId, IN, OUT, TRACE, "0x");
      const accepted = commitmentId(provider.address, modelId, IN, OUT, TRACE);
      expect((await ledger.recordOf(accepted)).challengeDeadline).to.equal(BigInt(until - 1 + WINDOW));

      const late = h(ethers, "late");
      await networkHelpers.time.setNextBlockTimestamp(until);
      await expect(ledger.connect(provider).commit(modelId, late, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerModelDeprecated")
        .withArgs(modelId, until);
      await expect(ledger.connect(provider).commitBatch(modelId, late, 1, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerModelDeprecated")
        .withArgs(modelId, until);
      expect(await ledger.status(commitmentId(provider.address, modelId, late, OUT, TRACE))).to.equal(
        CommitmentStatus.None,
      );
    });

    it("reverts with InferenceLedgerInsufficientStake below the model's minimum and accepts exactly the minimum", async () => {
      const core = await load(withModel);
      const { ledger, stakeManager, outsider, modelId, policy } = core;
      await expect(ledger.connect(outsider).commit(modelId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInsufficientStake")
        .withArgs(outsider.address, 0n, policy.minStake);
      await stakeManager.connect(outsider).deposit(policy.minStake - 1n);
      await expect(ledger.connect(outsider).commit(modelId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInsufficientStake")
        .withArgs(outsider.address, policy.minStake - 1n, policy.minStake);
      const id = commitmentId(outsider.address, modelId, IN, OUT, TRACE);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.None);
      await stakeManager.connect(outsider).deposit(1n);
      await ledger.connect(outsider).commit(modelId, IN, OUT, TRACE, "0x");
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
    });

    it("refuses a provider whose active stake fell below the minimum by unbonding or slashing", async () => {
      const core = await load(withModel);
      const { ledger, stakeManager, provider, provider2, disputer, challenger, modelId, policy } = core;
      await stakeManager.connect(provider).requestUnbond(1n);
      expect(await ledger.providerStakeOf(provider.address)).to.equal(policy.minStake - 1n);
      await expect(ledger.connect(provider).commit(modelId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInsufficientStake")
        .withArgs(provider.address, policy.minStake - 1n, policy.minStake);
      await stakeManager.connect(disputer).slash(provider2.address, E(901), challenger.address, 5_000);
      expect(await ledger.providerStakeOf(provider2.address)).to.equal(E(99));
      await expect(ledger.connect(provider2).commitBatch(modelId, h(ethers, "root"), 3, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInsufficientStake")
        .withArgs(provider2.address, E(99), policy.minStake);
      await expectSolvent(core);
    });
  });

  describe("commitBatch", () => {
    it("stores a Batch record under keccak256(abi.encode(provider, modelId, root, count)) and emits BatchCommitted", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      const batch = makeBatch(ethers, "fresh", 3);
      const expected = batchIdOf(provider2.address, modelId, batch.root, 3);
      expect(await ledger.connect(provider2).commitBatch.staticCall(modelId, batch.root, 3, "ipfs://x")).to.equal(
        expected,
      );
      const at = (await networkHelpers.time.latest()) + 5;
      await networkHelpers.time.setNextBlockTimestamp(at);
      await expect(ledger.connect(provider2).commitBatch(modelId, batch.root, 3, "ipfs://x"))
        .to.emit(ledger, "BatchCommitted")
        .withArgs(expected, modelId, provider2.address, batch.root, 3, "ipfs://x");
      expect(plain(await ledger.recordOf(expected))).to.deep.equal(
        plain([provider2.address, at + WINDOW, 0n, RecordKind.Batch, false]),
      );
      expect(await ledger.status(expected)).to.equal(CommitmentStatus.Pending);
    });

    it("reverts with InferenceLedgerDuplicate for the same batch twice; another count is another batch", async () => {
      const core = await load(withBatch);
      const { ledger, provider, modelId, batch, batchId } = core;
      const before = await recordState(core, batchId);
      await expect(ledger.connect(provider).commitBatch(modelId, batch.root, 5, "other"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerDuplicate")
        .withArgs(batchId);
      expect(await recordState(core, batchId)).to.deep.equal(before);
      await ledger.connect(provider).commitBatch(modelId, batch.root, 6, "");
      expect((await ledger.recordOf(batchIdOf(provider.address, modelId, batch.root, 6))).kind).to.equal(
        RecordKind.Batch,
      );
    });

    it("reverts with InferenceLedgerZeroHash for a zero root and InferenceLedgerEmptyBatch for a zero count", async () => {
      const core = await load(withModel);
      const { ledger, provider, modelId } = core;
      const root = h(ethers, "root");
      await expect(ledger.connect(provider).commitBatch(modelId, ZERO_HASH, 3, "")).to.be.revertedWithCustomError(
        ledger,
        "InferenceLedgerZeroHash",
      );
      await expect(ledger.connect(provider).commitBatch(modelId, root, 0, "")).to.be.revertedWithCustomError(
        ledger,
        "InferenceLedgerEmptyBatch",
      );
      expect(
        await recordState(
          core,
          batchIdOf(provider.address, modelId, ZERO_HASH, 3),
          batchIdOf(provider.address, modelId, root, 0),
        ),
      ).to.deep.equal([
        plain([[ethers.ZeroAddress, 0n, 0n, 0n, false], 0n]),
        plain([[ethers.ZeroAddress, 0n, 0n, 0n, false], 0n]),
      ]);
    });

    it("reverts with InferenceLedgerUnknownModel and InferenceLedgerInsufficientStake like commit", async () => {
      const core = await load(withModel);
      const { ledger, provider, outsider, modelId, policy } = core;
      const ghost = h(ethers, "ghost model");
      const root = h(ethers, "root");
      await expect(ledger.connect(provider).commitBatch(ghost, root, 1, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownModel")
        .withArgs(ghost);
      await expect(ledger.connect(outsider).commitBatch(modelId, root, 1, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInsufficientStake")
        .withArgs(outsider.address, 0n, policy.minStake);
      expect(await ledger.status(batchIdOf(provider.address, ghost, root, 1))).to.equal(CommitmentStatus.None);
      expect(await ledger.status(batchIdOf(outsider.address, modelId, root, 1))).to.equal(CommitmentStatus.None);
    });
  });

  describe("single commitment status", () => {
    it("goes None -> Pending -> Final when the window passes undisputed", async () => {
      const { ledger, provider, modelId } = await load(withModel);
      const id = commitmentId(provider.address, modelId, IN, OUT, TRACE);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.None);
      const deadline =
        (await txTime(ethers, await ledger.connect(provider).commit(modelId, IN, OUT, TRACE, "0x"))) + WINDOW;
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
      await networkHelpers.time.increaseTo(deadline);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
      expect(await ledger.isFinal(id)).to.equal(false);
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Final);
      expect(await ledger.isFinal(id)).to.equal(true);
    });

    it("goes Pending -> Disputed -> Pending when a dispute closes without fraud inside the window", async () => {
      const { ledger, disputer, id } = await load(withCommit);
      await ledger.connect(disputer).markDisputeOpened(id);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Disputed);
      expect(await ledger.connect(disputer).markDisputeClosed.staticCall(id, false), "newlyOverturned").to.equal(false);
      await expect(ledger.connect(disputer).markDisputeClosed(id, false))
        .to.emit(ledger, "DisputeCleared")
        .withArgs(id, ZERO_HASH, 0)
        .and.not.to.emit(ledger, "Overturned");
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
    });

    it("stays Disputed after its window while a dispute is open, then becomes Final when it closes without fraud", async () => {
      const { ledger, disputer, id, deadline } = await load(withCommit);
      await ledger.connect(disputer).markDisputeOpened(id);
      await networkHelpers.time.increaseTo(deadline + 1000);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Disputed);
      expect(await ledger.isFinal(id)).to.equal(false);
      await ledger.connect(disputer).markDisputeClosed(id, false);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Final);
      expect(await ledger.isFinal(id)).to.equal(true);
    });

    it("goes Disputed -> Overturned when fraud is proven, and Overturned is terminal", async () => {
      const core = await load(withCommit);
      const { ledger, disputer, id, deadline } = core;
      await ledger.connect(disputer).markDisputeOpened(id);
      await ledger.connect(disputer).markDisputeOpened(id);
      expect(await ledger.connect(disputer).markDisputeClosed.staticCall(id, true)).to.equal(true);
      const tx = ledger.connect(disputer).markDisputeClosed(id, true);
      await expect(tx).to.emit(ledger, "DisputeCleared").withArgs(id, ZERO_HASH, 1);
      await expect(tx).to.emit(ledger, "Overturned").withArgs(id, ZERO_HASH);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Overturned);
      expect((await ledger.recordOf(id)).overturned).to.equal(true);

      // A second proven fraud on the same commitment is not "new": the caller must not slash twice.
      expect(await ledger.connect(disputer).markDisputeClosed.staticCall(id, true)).to.equal(false);
      await expect(ledger.connect(disputer).markDisputeClosed(id, true)).not.to.emit(ledger, "Overturned");
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Overturned);

      const before = await recordState(core, id);
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(id);
      expect(await recordState(core, id)).to.deep.equal(before);
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Overturned);
      expect(await ledger.isFinal(id)).to.equal(false);
    });

    it("stays Overturned when a later dispute closes without fraud", async () => {
      const { ledger, disputer, id } = await load(withCommit);
      await ledger.connect(disputer).markDisputeOpened(id);
      await ledger.connect(disputer).markDisputeOpened(id);
      await ledger.connect(disputer).markDisputeClosed(id, true);
      await ledger.connect(disputer).markDisputeClosed(id, false);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Overturned);
      const record = await ledger.recordOf(id);
      expect([record.openDisputes, record.kind, record.overturned]).to.deep.equal([0n, RecordKind.Single, true]);
    });
  });

  describe("markDisputeOpened", () => {
    it("counts open disputes, emits DisputeMarked and returns the commitment's provider", async () => {
      const { ledger, disputer, provider, id, deadline } = await load(withCommit);
      expect(await ledger.connect(disputer).markDisputeOpened.staticCall(id)).to.equal(provider.address);
      expect(plain(await ledger.recordOf(id))).to.deep.equal(
        plain([provider.address, deadline, 0n, RecordKind.Single, false]),
      );
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(id, ZERO_HASH, 1);
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(id, ZERO_HASH, 2);
      expect((await ledger.recordOf(id)).openDisputes).to.equal(2n);
      await ledger.connect(disputer).markDisputeClosed(id, false);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Disputed);
    });

    it("opens at the deadline itself and reverts with InferenceLedgerChallengeWindowClosed one second later", async () => {
      const core = await load(withCommit);
      const { ledger, disputer, id, deadline } = core;
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await ledger.connect(disputer).markDisputeOpened(id);
      await ledger.connect(disputer).markDisputeClosed(id, false);
      const before = await recordState(core, id);
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(id, deadline);
      expect(await recordState(core, id)).to.deep.equal(before);
    });

    it("keeps commitments of revoked and deprecated-past-grace models disputable inside their window", async () => {
      const core = await load(withCommit);
      const { ledger, registry, publisher, provider2, disputer, id, modelId } = core;
      await ledger.connect(provider2).commit(modelId, IN, OUT, TRACE, "0x");
      const other = commitmentId(provider2.address, modelId, IN, OUT, TRACE);
      await registry.connect(publisher).deprecateModel(modelId, 0);
      await expect(ledger.connect(disputer).markDisputeOpened(other))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(other, ZERO_HASH, 1);
      await registry.connect(publisher).revokeModel(modelId);
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Revoked);
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(id, ZERO_HASH, 1);
      await expect(ledger.connect(disputer).markDisputeClosed(id, true)).to.emit(ledger, "Overturned");
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Overturned);
    });

    it("reverts with InferenceLedgerUnknownRecord for an unknown id and for a batch id", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, batchId } = core;
      const ghost = h(ethers, "ghost");
      const before = await recordState(core, batchId);
      for (const id of [ghost, batchId]) {
        await expect(ledger.connect(disputer).markDisputeOpened(id))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
          .withArgs(id);
        await expect(ledger.connect(disputer).markDisputeClosed(id, true))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
          .withArgs(id);
      }
      expect(await recordState(core, batchId)).to.deep.equal(before);
    });
  });

  describe("markDisputeClosed", () => {
    it("reverts with InferenceLedgerNoOpenDispute when no dispute is open", async () => {
      const core = await load(withCommit);
      const { ledger, disputer, id } = core;
      const before = await recordState(core, id);
      await expect(ledger.connect(disputer).markDisputeClosed(id, true))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerNoOpenDispute")
        .withArgs(id);
      expect(await recordState(core, id)).to.deep.equal(before);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Pending);
    });
  });

  describe("batch leaves", () => {
    it("verifyLeaf accepts every leaf with its OpenZeppelin proof and rejects a wrong leaf or proof", async () => {
      const { ledger, batch } = await load(withBatch);
      for (let i = 0; i < 5; i++) {
        expect(await ledger.verifyLeaf(batch.root, batch.proof(i), batch.leaf(i))).to.equal(true);
      }
      expect(await ledger.verifyLeaf(batch.root, batch.proof(0), batch.leaf(1))).to.equal(false);
      const forged = { ...batch.leaf(0), outputHash: h(ethers, "forged") };
      expect(await ledger.verifyLeaf(batch.root, batch.proof(0), forged)).to.equal(false);
      expect(await ledger.verifyLeaf(h(ethers, "other root"), batch.proof(0), batch.leaf(0))).to.equal(false);
    });

    it("leafStatus is Pending inside the window and Final after it, for every leaf", async () => {
      const { ledger, batch, header, deadline, batchId } = await load(withBatch);
      await networkHelpers.time.increaseTo(deadline);
      for (let i = 0; i < 5; i++) {
        expect(await ledger.leafStatus(header, batch.proof(i), batch.leaf(i))).to.equal(CommitmentStatus.Pending);
        expect(await ledger.isLeafFinal(header, batch.proof(i), batch.leaf(i))).to.equal(false);
      }
      await networkHelpers.time.increaseTo(deadline + 1);
      for (let i = 0; i < 5; i++) {
        expect(await ledger.leafStatus(header, batch.proof(i), batch.leaf(i))).to.equal(CommitmentStatus.Final);
        expect(await ledger.isLeafFinal(header, batch.proof(i), batch.leaf(i))).to.equal(true);
      }
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Final);
      expect(await ledger.isFinal(batchId)).to.equal(true);
    });

    it("marks one leaf Disputed without touching its siblings, and the batch Disputed", async () => {
      const { ledger, disputer, batch, header, batchId } = await load(withBatch);
      const leafHash = leafHashOf(batch.leaves[2]);
      expect(leafHash).to.equal(batch.tree.leafHash(batch.leaves[2]));
      const returned = await ledger
        .connect(disputer)
        .markLeafDisputeOpened.staticCall(header, batch.proof(2), batch.leaf(2));
      expect([...returned]).to.deep.equal([batchId, leafHash]);
      await expect(ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(2), batch.leaf(2)))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(batchId, leafHash, 1);
      expect(await ledger.leafStatus(header, batch.proof(2), batch.leaf(2))).to.equal(CommitmentStatus.Disputed);
      expect(await ledger.leafStatus(header, batch.proof(3), batch.leaf(3))).to.equal(CommitmentStatus.Pending);
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Disputed);
      expect((await ledger.recordOf(batchId)).openDisputes).to.equal(1n);
      expect(plain(await ledger.leafRecordOf(batchId, leafHash))).to.deep.equal(plain([1n, false]));
      expect(plain(await ledger.leafRecordOf(batchId, leafHashOf(batch.leaves[3])))).to.deep.equal(plain([0n, false]));
      await expect(ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(4), batch.leaf(4)))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(batchId, leafHashOf(batch.leaves[4]), 1);
      expect((await ledger.recordOf(batchId)).openDisputes).to.equal(2n);
    });

    it("keeps a disputed leaf Disputed after the window while its siblings become Final", async () => {
      const { ledger, disputer, batch, header, batchId, deadline } = await load(withBatch);
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0));
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(await ledger.leafStatus(header, batch.proof(0), batch.leaf(0))).to.equal(CommitmentStatus.Disputed);
      expect(await ledger.isLeafFinal(header, batch.proof(0), batch.leaf(0))).to.equal(false);
      expect(await ledger.leafStatus(header, batch.proof(1), batch.leaf(1))).to.equal(CommitmentStatus.Final);
      expect(await ledger.isFinal(batchId)).to.equal(false);
      const leafHash = leafHashOf(batch.leaves[0]);
      expect(await ledger.connect(disputer).markLeafDisputeClosed.staticCall(batchId, leafHash, false)).to.equal(false);
      await expect(ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHash, false))
        .to.emit(ledger, "DisputeCleared")
        .withArgs(batchId, leafHash, 0)
        .and.not.to.emit(ledger, "Overturned");
      expect(await ledger.leafStatus(header, batch.proof(0), batch.leaf(0))).to.equal(CommitmentStatus.Final);
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Final);
    });

    it("goes Disputed -> Pending for a leaf whose dispute closes without fraud inside the window", async () => {
      const { ledger, disputer, batch, header, batchId } = await load(withBatch);
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(1), batch.leaf(1));
      await ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHashOf(batch.leaves[1]), false);
      expect(await ledger.leafStatus(header, batch.proof(1), batch.leaf(1))).to.equal(CommitmentStatus.Pending);
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Pending);
      expect((await ledger.recordOf(batchId)).openDisputes).to.equal(0n);
    });

    it("overturns only the proven leaf; the batch reads Overturned and the overturned leaf is terminal", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, batch, header, batchId, deadline } = core;
      const leafHash = leafHashOf(batch.leaves[3]);
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(3), batch.leaf(3));
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(3), batch.leaf(3));
      expect(await ledger.connect(disputer).markLeafDisputeClosed.staticCall(batchId, leafHash, true)).to.equal(true);
      const tx = ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHash, true);
      await expect(tx).to.emit(ledger, "DisputeCleared").withArgs(batchId, leafHash, 1);
      await expect(tx).to.emit(ledger, "Overturned").withArgs(batchId, leafHash);
      expect(await ledger.leafStatus(header, batch.proof(3), batch.leaf(3))).to.equal(CommitmentStatus.Overturned);
      expect(await ledger.leafStatus(header, batch.proof(2), batch.leaf(2))).to.equal(CommitmentStatus.Pending);
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Overturned);
      expect(plain(await ledger.leafRecordOf(batchId, leafHash))).to.deep.equal(plain([1n, true]));
      expect(plain(await ledger.leafRecordOf(batchId, leafHashOf(batch.leaves[2])))).to.deep.equal(plain([0n, false]));
      expect((await ledger.recordOf(batchId)).overturned).to.equal(true);

      expect(await ledger.connect(disputer).markLeafDisputeClosed.staticCall(batchId, leafHash, true)).to.equal(false);
      await expect(ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHash, true)).not.to.emit(
        ledger,
        "Overturned",
      );
      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(3), batch.leaf(3)))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(batchId);
      expect(await recordState(core, batchId)).to.deep.equal(before);

      // A sibling of an overturned leaf can still be disputed inside the window.
      await expect(ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(2), batch.leaf(2)))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(batchId, leafHashOf(batch.leaves[2]), 1);
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(await ledger.leafStatus(header, batch.proof(3), batch.leaf(3))).to.equal(CommitmentStatus.Overturned);
      expect(await ledger.leafStatus(header, batch.proof(4), batch.leaf(4))).to.equal(CommitmentStatus.Final);
    });

    it("reverts with InferenceLedgerLeafNotInBatch for a leaf the root does not include", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, batch, header, batchId } = core;
      const forged = { ...batch.leaf(0), outputHash: h(ethers, "forged") };
      const forgedHash = leafHashOf([forged.inputHash, forged.outputHash, forged.traceRoot]);
      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(0), forged))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerLeafNotInBatch")
        .withArgs(batchId, forgedHash);
      await expect(ledger.leafStatus(header, batch.proof(0), forged))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerLeafNotInBatch")
        .withArgs(batchId, forgedHash);
      await expect(ledger.isLeafFinal(header, batch.proof(1), batch.leaf(0)))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerLeafNotInBatch")
        .withArgs(batchId, leafHashOf(batch.leaves[0]));
      expect(await recordState(core, batchId)).to.deep.equal(before);
    });

    it("reverts with InferenceLedgerUnknownRecord for a header that names no batch or a single commitment's id", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, provider, batch, header, modelId } = core;
      const wrongCount = { ...header, count: 4 };
      const wrongId = batchIdOf(provider.address, modelId, batch.root, 4);
      await expect(ledger.connect(disputer).markLeafDisputeOpened(wrongCount, batch.proof(0), batch.leaf(0)))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
        .withArgs(wrongId);
      await expect(ledger.leafStatus(wrongCount, batch.proof(0), batch.leaf(0)))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
        .withArgs(wrongId);
      await ledger.connect(provider).commit(modelId, IN, OUT, TRACE, "0x");
      const single = commitmentId(provider.address, modelId, IN, OUT, TRACE);
      await expect(ledger.connect(disputer).markLeafDisputeClosed(single, leafHashOf(batch.leaves[0]), true))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
        .withArgs(single);
      expect(await ledger.status(wrongId)).to.equal(CommitmentStatus.None);
    });

    it("reverts with InferenceLedgerChallengeWindowClosed for a leaf dispute after the batch's window", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, batch, header, batchId, deadline } = core;
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0));
      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(1), batch.leaf(1)))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(batchId, deadline);
      expect(await recordState(core, batchId)).to.deep.equal(before);
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(await ledger.leafStatus(header, batch.proof(1), batch.leaf(1))).to.equal(CommitmentStatus.Final);
      expect(await ledger.leafStatus(header, batch.proof(0), batch.leaf(0))).to.equal(CommitmentStatus.Disputed);
    });

    it("reverts with InferenceLedgerNoOpenDispute when closing a leaf dispute that is not open", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, batch, header, batchId } = core;
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0));
      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHashOf(batch.leaves[1]), false))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerNoOpenDispute")
        .withArgs(batchId);
      expect(await recordState(core, batchId)).to.deep.equal(before);
      expect(await ledger.leafStatus(header, batch.proof(0), batch.leaf(0))).to.equal(CommitmentStatus.Disputed);
    });

    it("works for a batch of one leaf, whose proof is empty", async () => {
      const { ledger, provider2, disputer, modelId } = await load(withModel);
      const batch = makeBatch(ethers, "solo", 1);
      expect(batch.proof(0)).to.deep.equal([]);
      await ledger.connect(provider2).commitBatch(modelId, batch.root, 1, "");
      const header = { provider: provider2.address, modelId, root: batch.root, count: 1 };
      expect(await ledger.leafStatus(header, [], batch.leaf(0))).to.equal(CommitmentStatus.Pending);
      await ledger.connect(disputer).markLeafDisputeOpened(header, [], batch.leaf(0));
      expect(await ledger.leafStatus(header, [], batch.leaf(0))).to.equal(CommitmentStatus.Disputed);
    });
  });

  describe("DISPUTE_ROLE", () => {
    it("is keccak256('verity.role.dispute') and gates every dispute-marking function", async () => {
      const core = await load(withBatch);
      const { ledger, outsider, admin, batch, header, batchId, provider, modelId, disputeRole } = core;
      expect(disputeRole).to.equal(ethers.id("verity.role.dispute"));
      await ledger.connect(provider).commit(modelId, IN, OUT, TRACE, "0x");
      const id = commitmentId(provider.address, modelId, IN, OUT, TRACE);
      await ledger.connect(core.disputer).markDisputeOpened(id);
      await ledger.connect(core.disputer).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0));
      const before = await recordState(core, id, batchId);
      for (const who of [outsider, admin]) {
        const calls = [
          ledger.connect(who).markDisputeOpened(id),
          ledger.connect(who).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0)),
          ledger.connect(who).markDisputeClosed(id, true),
          ledger.connect(who).markLeafDisputeClosed(batchId, leafHashOf(batch.leaves[0]), true),
        ];
        for (const call of calls) {
          await expect(call)
            .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
            .withArgs(who.address, disputeRole);
        }
      }
      expect(await recordState(core, id, batchId)).to.deep.equal(before);
    });

    it("stops working once the admin revokes it", async () => {
      const { ledger, admin, disputer, id, disputeRole } = await load(withCommit);
      await ledger.connect(admin).revokeRole(disputeRole, disputer.address);
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(disputer.address, disputeRole);
    });
  });

  describe("admission cache", () => {
    async function freshLedger() {
      const core = await deployCore(connection);
      const fresh = await ethers.deployContract("InferenceLedger", [core.admin.address]);
      return { ...core, fresh };
    }

    it("bindSources binds once, emits SourcesBound, then reverts with InferenceLedgerInvalidBinding", async () => {
      const { fresh, admin, publisher, provider } = await load(freshLedger);
      expect(await fresh.registry()).to.equal(ethers.ZeroAddress);
      expect(await fresh.stakeManager()).to.equal(ethers.ZeroAddress);
      await expect(fresh.connect(admin).bindSources(publisher.address, provider.address))
        .to.emit(fresh, "SourcesBound")
        .withArgs(publisher.address, provider.address);
      expect(await fresh.registry()).to.equal(publisher.address);
      expect(await fresh.stakeManager()).to.equal(provider.address);
      await expect(fresh.connect(admin).bindSources(provider.address, publisher.address)).to.be.revertedWithCustomError(
        fresh,
        "InferenceLedgerInvalidBinding",
      );
      expect(await fresh.registry()).to.equal(publisher.address);
      expect(await fresh.stakeManager()).to.equal(provider.address);
    });

    it("bindSources reverts with InferenceLedgerInvalidBinding for a zero source and binds nothing", async () => {
      const { fresh, admin, publisher } = await load(freshLedger);
      for (const [r, s] of [
        [ethers.ZeroAddress, publisher.address],
        [publisher.address, ethers.ZeroAddress],
      ]) {
        await expect(fresh.connect(admin).bindSources(r, s)).to.be.revertedWithCustomError(
          fresh,
          "InferenceLedgerInvalidBinding",
        );
      }
      expect(await fresh.registry()).to.equal(ethers.ZeroAddress);
      expect(await fresh.stakeManager()).to.equal(ethers.ZeroAddress);
    });

    it("bindSources reverts with AccessControlUnauthorizedAccount for a non-admin", async () => {
      const { fresh, outsider } = await load(freshLedger);
      await expect(fresh.connect(outsider).bindSources(outsider.address, outsider.address))
        .to.be.revertedWithCustomError(fresh, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZERO_HASH);
      expect(await fresh.registry()).to.equal(ethers.ZeroAddress);
    });

    it("the deployed ledger is already bound and refuses a rebinding", async () => {
      const { ledger, registry, stakeManager, admin, outsider } = await load(freshLedger);
      await expect(ledger.connect(admin).bindSources(outsider.address, outsider.address)).to.be.revertedWithCustomError(
        ledger,
        "InferenceLedgerInvalidBinding",
      );
      expect(await ledger.registry()).to.equal(await registry.getAddress());
      expect(await ledger.stakeManager()).to.equal(await stakeManager.getAddress());
    });

    it("syncCommitTerms accepts only the bound registry, not the stake manager or anyone else", async () => {
      const { ledger, registry, stakeManager, outsider } = await load(freshLedger);
      const modelId = h(ethers, "forged model");
      const terms = { minStake: 0n, challengeWindow: 1, acceptsUntil: UINT48_MAX, status: ModelStatus.Active };
      const smAddress = await stakeManager.getAddress();
      await networkHelpers.impersonateAccount(smAddress);
      await networkHelpers.setBalance(smAddress, E(1));
      const asStakeManager = await ethers.getSigner(smAddress);
      for (const who of [outsider, asStakeManager]) {
        await expect(ledger.connect(who).syncCommitTerms(modelId, terms))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnauthorizedSource")
          .withArgs(who.address);
      }
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(plain([0n, 0n, 0n, 0n]));

      const regAddress = await registry.getAddress();
      await networkHelpers.impersonateAccount(regAddress);
      await networkHelpers.setBalance(regAddress, E(1));
      await expect(ledger.connect(await ethers.getSigner(regAddress)).syncCommitTerms(modelId, terms))
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(modelId, [0n, 1n, UINT48_MAX, ModelStatus.Active]);
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(plain([0n, 1n, UINT48_MAX, ModelStatus.Active]));
    });

    it("syncProviderStake accepts only the bound stake manager, not the registry or anyone else", async () => {
      const { ledger, registry, stakeManager, outsider } = await load(freshLedger);
      const regAddress = await registry.getAddress();
      await networkHelpers.impersonateAccount(regAddress);
      await networkHelpers.setBalance(regAddress, E(1));
      const asRegistry = await ethers.getSigner(regAddress);
      for (const who of [outsider, asRegistry]) {
        await expect(ledger.connect(who).syncProviderStake(outsider.address, E(1_000_000)))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnauthorizedSource")
          .withArgs(who.address);
      }
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(0n);

      const smAddress = await stakeManager.getAddress();
      await networkHelpers.impersonateAccount(smAddress);
      await networkHelpers.setBalance(smAddress, E(1));
      await expect(ledger.connect(await ethers.getSigner(smAddress)).syncProviderStake(outsider.address, 42n))
        .to.emit(ledger, "ProviderStakeSynced")
        .withArgs(outsider.address, 42n);
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(42n);
    });

    it("providerStakeOf follows deposit, unbonding and slashing", async () => {
      const core = await load(withModel);
      const { ledger, stakeManager, outsider, disputer, challenger } = core;
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(0n);
      await stakeManager.connect(outsider).deposit(E(500));
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(E(500));
      await stakeManager.connect(outsider).requestUnbond(E(200));
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(E(300));
      await stakeManager.connect(disputer).slash(outsider.address, E(50), challenger.address, 5_000);
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(E(250));
      await stakeManager.connect(disputer).slash(outsider.address, E(400), challenger.address, 5_000);
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(0n);
      expect((await stakeManager.stakeOf(outsider.address)).unbonding).to.equal(E(50));
      await expectSolvent(core);
    });

    it("commitTermsOf follows registration, deprecation and revocation", async () => {
      const { ledger, registry, publisher, modelId, policy } = await load(withModel);
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, UINT48_MAX, ModelStatus.Active]),
      );
      const d = await txTime(ethers, await registry.connect(publisher).deprecateModel(modelId, 500));
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, d + 500, ModelStatus.Deprecated]),
      );
      const r = await txTime(ethers, await registry.connect(publisher).revokeModel(modelId));
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, r, ModelStatus.Revoked]),
      );
    });
  });

  describe("views", () => {
    it("recordOf is empty, status None and isFinal false for an unknown id", async () => {
      const { ledger } = await load(withModel);
      const ghost = h(ethers, "ghost");
      expect(plain(await ledger.recordOf(ghost))).to.deep.equal(plain([ethers.ZeroAddress, 0n, 0n, 0n, false]));
      expect(await ledger.status(ghost)).to.equal(CommitmentStatus.None);
      expect(await ledger.isFinal(ghost)).to.equal(false);
    });
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import { batchIdOf as sdkBatchIdOf, commitmentIdOf as sdkCommitmentIdOf } from "../../src/sdk/index.js";
import {
  Bounds,
  CommitmentStatus,
  deployCore,
  expectSolvent,
  Finality,
  GasBounds,
  h,
  ids,
  makeBatch,
  ModelStatus,
  opaqueSpec,
  modelIdOfSpec,
  plain,
  RecordFlags,
  RecordKind,
  registerModel,
  TINY_LAYERS,
  txTime,
  UINT40_MAX,
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
const INPUT_DATA = ethers.hexlify(ethers.toUtf8Bytes("ipfs://a 28x28 image"));
const INPUT_DIM = 784; // MNIST_LAYERS, the default graph of registerModel
const CW = Finality.ChallengeWindow;
/** An empty record, as recordOf returns it for an unknown id. */
const NO_RECORD = [ethers.ZeroAddress, 0n, 0n, 0n, 0n, 0n];
/** `n` bytes of a deterministic pseudo-random input named by `label`. */
const bytesOf = (label: string, n: number) =>
  ethers.hexlify(
    Uint8Array.from({ length: n }, (_, i) => ethers.getBytes(ethers.id(`${label}/${Math.floor(i / 32)}`))[i % 32]),
  );

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
    const header = {
      provider: core.provider.address,
      modelId: core.modelId,
      root: batch.root,
      count: 5,
      binding: ZERO_HASH,
    };
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
        plain([provider.address, deadline, 0n, RecordKind.Single, 0n, CW]),
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
        expect(await recordState(core, id)).to.deep.equal([plain([NO_RECORD, 0n])]);
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
      const { ledger, stakeManager, provider, provider2, disputer, modelId, policy } = core;
      await stakeManager.connect(provider).requestUnbond(1n);
      expect(await ledger.providerStakeOf(provider.address)).to.equal(policy.minStake - 1n);
      await expect(ledger.connect(provider).commit(modelId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInsufficientStake")
        .withArgs(provider.address, policy.minStake - 1n, policy.minStake);
      await stakeManager.connect(disputer).slash(provider2.address, E(901), 5_000);
      expect(await ledger.providerStakeOf(provider2.address)).to.equal(E(99));
      await expect(ledger.connect(provider2).commitBatch(modelId, h(ethers, "root"), 3, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerInsufficientStake")
        .withArgs(provider2.address, E(99), policy.minStake);
      await expectSolvent(core);
    });
  });

  describe("commit input data", () => {
    /** A 784-byte input and its hash. */
    const INPUT = bytesOf("digit", INPUT_DIM);
    const INPUT_HASH = ethers.keccak256(INPUT);

    it("sets RecordFlags.INPUT_PUBLIC when inputData is the exact input (784 bytes hashing to inputHash)", async () => {
      const { ledger, provider2, disputer, modelId } = await load(withModel);
      const id = commitmentId(provider2.address, modelId, INPUT_HASH, OUT, TRACE);
      const tx = await ledger.connect(provider2).commit(modelId, INPUT_HASH, OUT, TRACE, INPUT);
      await expect(tx)
        .to.emit(ledger, "InferenceCommitted")
        .withArgs(id, modelId, provider2.address, INPUT_HASH, OUT, TRACE, INPUT);
      const at = await txTime(ethers, tx);
      expect(plain(await ledger.recordOf(id))).to.deep.equal(
        plain([provider2.address, at + WINDOW, 0n, RecordKind.Single, RecordFlags.INPUT_PUBLIC, CW]),
      );
      // The hooks hand the flag to the dispute game (which then refuses an input demand).
      expect(plain(await ledger.connect(disputer).markDisputeOpened.staticCall(id))).to.deep.equal(
        plain([provider2.address, RecordFlags.INPUT_PUBLIC]),
      );
    });

    it("encodes the log of a 784-byte input (not a multiple of 32) as the standard ABI encoding", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      const receipt = await (await ledger.connect(provider2).commit(modelId, INPUT_HASH, OUT, TRACE, INPUT)).wait();
      const log = receipt!.logs.find((l) => l.address === receipt!.to)!;
      expect(log.data).to.equal(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["address", "bytes32", "bytes32", "bytes32", "bytes"],
          [provider2.address, INPUT_HASH, OUT, TRACE, INPUT],
        ),
      );
    });

    it("sets no flag for a 32-byte URI, an empty inputData or a 256-byte URI", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      for (const [i, data] of ["0x" + "ab".repeat(32), "0x", bytesOf("uri", Bounds.MAX_URI_BYTES)].entries()) {
        const input = h(ethers, `uri input ${i}`);
        await ledger.connect(provider2).commit(modelId, input, OUT, TRACE, data);
        const record = await ledger.recordOf(commitmentId(provider2.address, modelId, input, OUT, TRACE));
        expect(record.kind).to.equal(RecordKind.Single);
        expect(record.flags).to.equal(0n);
      }
    });

    it("reverts with InferenceLedgerInvalidInputData(length, 784, 256) for 784 bytes that do not hash to inputHash, 257 bytes and 785 bytes", async () => {
      // Before: any inputData was accepted, so a provider could emit an input no dispute game could ever
      // re-send (or a wrong one) and still commit. Now it is the input itself or a short URI.
      const core = await load(withModel);
      const { ledger, provider2, modelId } = core;
      const cases: [string, string][] = [
        [IN, INPUT], // the right length, but not the input of this inputHash
        [h(ethers, "uri257"), bytesOf("uri", Bounds.MAX_URI_BYTES + 1)],
        [ethers.keccak256(bytesOf("digit+", INPUT_DIM + 1)), bytesOf("digit+", INPUT_DIM + 1)],
      ];
      for (const [input, data] of cases) {
        const id = commitmentId(provider2.address, modelId, input, OUT, TRACE);
        await expect(ledger.connect(provider2).commit(modelId, input, OUT, TRACE, data))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerInvalidInputData")
          .withArgs(ethers.dataLength(data), INPUT_DIM, Bounds.MAX_URI_BYTES);
        expect(await recordState(core, id)).to.deep.equal([plain([NO_RECORD, 0n])]);
      }
    });

    it("accepts a short input of a tiny model with the wrong hash as a URI (no flag), and with the right hash as public", async () => {
      const core = await load(withModel);
      const { ledger, provider2 } = core;
      const tiny = await registerModel(ethers, core, "tiny", core.policy, TINY_LAYERS);
      expect((await ledger.commitTermsOf(tiny)).inputDim).to.equal(16n);
      const input = bytesOf("tiny input", 16);
      await ledger.connect(provider2).commit(tiny, IN, OUT, TRACE, input);
      expect((await ledger.recordOf(commitmentId(provider2.address, tiny, IN, OUT, TRACE))).flags).to.equal(0n);
      await ledger.connect(provider2).commit(tiny, ethers.keccak256(input), OUT, TRACE, input);
      const id = commitmentId(provider2.address, tiny, ethers.keccak256(input), OUT, TRACE);
      expect((await ledger.recordOf(id)).flags).to.equal(RecordFlags.INPUT_PUBLIC);
      // 17 bytes that hash right are not the input: a URI, no flag.
      const longer = bytesOf("tiny input", 17);
      await ledger.connect(provider2).commit(tiny, ethers.keccak256(longer), OUT, TRACE, longer);
      const other = commitmentId(provider2.address, tiny, ethers.keccak256(longer), OUT, TRACE);
      expect((await ledger.recordOf(other)).flags).to.equal(0n);
    });
  });

  describe("opaque models", () => {
    async function withOpaque() {
      const core = await withModel();
      const spec = opaqueSpec(ethers, "opaque");
      await core.registry.connect(core.publisher).registerModel(spec, core.policy);
      return { ...core, opaqueId: modelIdOfSpec(core.publisher.address, spec) };
    }

    it("caches optimisticUntil 0 (acceptsUntil stays open, for TEE commitments), and refuses commit and commitBatch with InferenceLedgerNotOptimistic", async () => {
      // A model no dispute game can recompute cannot be settled optimistically: its commitments would
      // become Final without any way to challenge them.
      const core = await load(withOpaque);
      const { ledger, registry, provider2, publisher, opaqueId, policy } = core;
      // [minStake, challengeWindow, optimisticUntil, acceptsUntil, status, inputDim, maxBatchLeaves]
      expect(plain(await ledger.commitTermsOf(opaqueId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, 0n, UINT40_MAX, ModelStatus.Active, 0n, 1024n]),
      );
      expect((await registry.getModel(opaqueId)).optimistic).to.equal(false);
      const id = commitmentId(provider2.address, opaqueId, IN, OUT, TRACE);
      await expect(ledger.connect(provider2).commit(opaqueId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerNotOptimistic")
        .withArgs(opaqueId);
      await expect(ledger.connect(provider2).commitBatch(opaqueId, h(ethers, "root"), 1, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerNotOptimistic")
        .withArgs(opaqueId);
      expect(await recordState(core, id)).to.deep.equal([plain([NO_RECORD, 0n])]);
      // Still NotOptimistic (not Revoked) once revoked: the first reason wins.
      await registry.connect(publisher).revokeModel(opaqueId);
      await expect(ledger.connect(provider2).commit(opaqueId, IN, OUT, TRACE, "0x"))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerNotOptimistic")
        .withArgs(opaqueId);
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
        plain([provider2.address, at + WINDOW, 0n, RecordKind.Batch, 0n, CW]),
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
      ).to.deep.equal([plain([NO_RECORD, 0n]), plain([NO_RECORD, 0n])]);
    });

    it("accepts a 256-byte dataURI and reverts with InferenceLedgerDataURITooLong(257, 256) for 257 bytes", async () => {
      const core = await load(withModel);
      const { ledger, provider2, modelId } = core;
      const root = h(ethers, "root");
      const long = "u".repeat(Bounds.MAX_URI_BYTES + 1);
      await expect(ledger.connect(provider2).commitBatch(modelId, root, 2, long))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerDataURITooLong")
        .withArgs(Bounds.MAX_URI_BYTES + 1, Bounds.MAX_URI_BYTES);
      expect(await recordState(core, batchIdOf(provider2.address, modelId, root, 2))).to.deep.equal([
        plain([NO_RECORD, 0n]),
      ]);
      await expect(ledger.connect(provider2).commitBatch(modelId, root, 2, long.slice(1)))
        .to.emit(ledger, "BatchCommitted")
        .withArgs(batchIdOf(provider2.address, modelId, root, 2), modelId, provider2.address, root, 2, long.slice(1));
    });

    it("accepts maxBatchLeaves (1,024 for a 784-input model) and reverts with InferenceLedgerBatchTooLarge one above", async () => {
      // Before: a batch of any size, whose disclosure could not fit a response window.
      const core = await load(withModel);
      const { ledger, registry, provider2, modelId } = core;
      const max = (await registry.getModel(modelId)).maxBatchLeaves;
      expect(max).to.equal(1024n);
      expect((await ledger.commitTermsOf(modelId)).maxBatchLeaves).to.equal(max);
      const root = h(ethers, "big root");
      await expect(ledger.connect(provider2).commitBatch(modelId, root, max + 1n, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerBatchTooLarge")
        .withArgs(max + 1n, max);
      expect(await ledger.status(batchIdOf(provider2.address, modelId, root, max + 1n))).to.equal(
        CommitmentStatus.None,
      );
      await ledger.connect(provider2).commitBatch(modelId, root, max, "");
      expect(await ledger.status(batchIdOf(provider2.address, modelId, root, max))).to.equal(CommitmentStatus.Pending);
    });

    it("bounds batches of a wide-input model by its own, smaller maxBatchLeaves", async () => {
      const core = await load(withModel);
      const { ledger, provider2 } = core;
      const wide = await registerModel(ethers, core, "wide", core.policy, [
        { inDim: 16_384, outDim: 2, multiplier: 1, shift: 0, relu: false },
      ]);
      const max = GasBounds.maxBatchLeaves(16_384n);
      expect(max).to.be.lessThan(1024n);
      await expect(ledger.connect(provider2).commitBatch(wide, h(ethers, "r"), max + 1n, ""))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerBatchTooLarge")
        .withArgs(max + 1n, max);
      await ledger.connect(provider2).commitBatch(wide, h(ethers, "r"), max, "");
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
      expect(plain(await ledger.connect(disputer).markDisputeClosed.staticCall(id, false, false))).to.deep.equal(
        plain([false, 0n]),
      );
      await expect(ledger.connect(disputer).markDisputeClosed(id, false, false))
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
      await ledger.connect(disputer).markDisputeClosed(id, false, false);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Final);
      expect(await ledger.isFinal(id)).to.equal(true);
    });

    it("goes Disputed -> Overturned when fraud is proven, and Overturned is terminal", async () => {
      const core = await load(withCommit);
      const { ledger, disputer, id, deadline } = core;
      await ledger.connect(disputer).markDisputeOpened(id);
      await ledger.connect(disputer).markDisputeOpened(id);
      expect(plain(await ledger.connect(disputer).markDisputeClosed.staticCall(id, true, true))).to.deep.equal(
        plain([true, 1n]),
      );
      const tx = ledger.connect(disputer).markDisputeClosed(id, true, true);
      await expect(tx).to.emit(ledger, "DisputeCleared").withArgs(id, ZERO_HASH, 1);
      await expect(tx).to.emit(ledger, "Overturned").withArgs(id, ZERO_HASH);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Overturned);
      expect((await ledger.recordOf(id)).flags).to.equal(RecordFlags.OVERTURNED);

      // A second proven fraud on the same commitment is not "new": the caller must not slash twice.
      expect(plain(await ledger.connect(disputer).markDisputeClosed.staticCall(id, true, true))).to.deep.equal(
        plain([false, 0n]),
      );
      await expect(ledger.connect(disputer).markDisputeClosed(id, true, true)).not.to.emit(ledger, "Overturned");
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
      await ledger.connect(disputer).markDisputeClosed(id, true, true);
      await ledger.connect(disputer).markDisputeClosed(id, false, false);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Overturned);
      const record = await ledger.recordOf(id);
      expect([record.openDisputes, record.kind, record.flags]).to.deep.equal([
        0n,
        RecordKind.Single,
        RecordFlags.OVERTURNED,
      ]);
    });
  });

  describe("markDisputeOpened", () => {
    it("counts open disputes, emits DisputeMarked and returns the commitment's provider", async () => {
      const { ledger, disputer, provider, id, deadline } = await load(withCommit);
      expect(plain(await ledger.connect(disputer).markDisputeOpened.staticCall(id))).to.deep.equal(
        plain([provider.address, 0n]),
      );
      expect(plain(await ledger.recordOf(id))).to.deep.equal(
        plain([provider.address, deadline, 0n, RecordKind.Single, 0n, CW]),
      );
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(id, ZERO_HASH, 1);
      await expect(ledger.connect(disputer).markDisputeOpened(id))
        .to.emit(ledger, "DisputeMarked")
        .withArgs(id, ZERO_HASH, 2);
      expect((await ledger.recordOf(id)).openDisputes).to.equal(2n);
      await ledger.connect(disputer).markDisputeClosed(id, false, false);
      expect(await ledger.status(id)).to.equal(CommitmentStatus.Disputed);
    });

    it("opens at the deadline itself and reverts with InferenceLedgerChallengeWindowClosed one second later", async () => {
      const core = await load(withCommit);
      const { ledger, disputer, id, deadline } = core;
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await ledger.connect(disputer).markDisputeOpened(id);
      await ledger.connect(disputer).markDisputeClosed(id, false, false);
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
      await expect(ledger.connect(disputer).markDisputeClosed(id, true, true)).to.emit(ledger, "Overturned");
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
        await expect(ledger.connect(disputer).markDisputeClosed(id, true, true))
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
      await expect(ledger.connect(disputer).markDisputeClosed(id, true, true))
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
      expect(plain(returned)).to.deep.equal(plain([batchId, leafHash, 0n]));
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
      expect(
        plain(await ledger.connect(disputer).markLeafDisputeClosed.staticCall(batchId, leafHash, false, false)),
      ).to.deep.equal(plain([false, 0n]));
      await expect(ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHash, false, false))
        .to.emit(ledger, "DisputeCleared")
        .withArgs(batchId, leafHash, 0)
        .and.not.to.emit(ledger, "Overturned");
      expect(await ledger.leafStatus(header, batch.proof(0), batch.leaf(0))).to.equal(CommitmentStatus.Final);
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Final);
    });

    it("goes Disputed -> Pending for a leaf whose dispute closes without fraud inside the window", async () => {
      const { ledger, disputer, batch, header, batchId } = await load(withBatch);
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(1), batch.leaf(1));
      await ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHashOf(batch.leaves[1]), false, false);
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
      expect(
        plain(await ledger.connect(disputer).markLeafDisputeClosed.staticCall(batchId, leafHash, true, true)),
      ).to.deep.equal(plain([true, 1n]));
      const tx = ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHash, true, true);
      await expect(tx).to.emit(ledger, "DisputeCleared").withArgs(batchId, leafHash, 1);
      await expect(tx).to.emit(ledger, "Overturned").withArgs(batchId, leafHash);
      expect(await ledger.leafStatus(header, batch.proof(3), batch.leaf(3))).to.equal(CommitmentStatus.Overturned);
      expect(await ledger.leafStatus(header, batch.proof(2), batch.leaf(2))).to.equal(CommitmentStatus.Pending);
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Overturned);
      expect(plain(await ledger.leafRecordOf(batchId, leafHash))).to.deep.equal(plain([1n, true]));
      expect(plain(await ledger.leafRecordOf(batchId, leafHashOf(batch.leaves[2])))).to.deep.equal(plain([0n, false]));
      // LEAF_OVERTURNED: the batch reads Overturned, the whole batch is not.
      expect((await ledger.recordOf(batchId)).flags).to.equal(RecordFlags.LEAF_OVERTURNED);

      expect(
        plain(await ledger.connect(disputer).markLeafDisputeClosed.staticCall(batchId, leafHash, true, true)),
      ).to.deep.equal(plain([false, 0n]));
      await expect(ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHash, true, true)).not.to.emit(
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
      await expect(ledger.connect(disputer).markLeafDisputeClosed(single, leafHashOf(batch.leaves[0]), true, true))
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
      await expect(ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHashOf(batch.leaves[1]), false, false))
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
      const header = { provider: provider2.address, modelId, root: batch.root, count: 1, binding: ZERO_HASH };
      expect(await ledger.leafStatus(header, [], batch.leaf(0))).to.equal(CommitmentStatus.Pending);
      await ledger.connect(disputer).markLeafDisputeOpened(header, [], batch.leaf(0));
      expect(await ledger.leafStatus(header, [], batch.leaf(0))).to.equal(CommitmentStatus.Disputed);
    });
  });

  describe("batch disclosure hooks", () => {
    /** Every leaf's status, in leaf order. */
    async function leafStatuses(core: Awaited<ReturnType<typeof withBatch>>) {
      const out = [];
      for (let i = 0; i < 5; i++)
        out.push(await core.ledger.leafStatus(core.header, core.batch.proof(i), core.batch.leaf(i)));
      return out;
    }
    const all = (status: bigint) => Array(5).fill(status);

    it("markDisclosureOpened returns the batch id, sets DISCLOSURE_OPEN and makes the batch and every leaf Disputed", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, provider, header, batchId, deadline } = core;
      expect(await ledger.connect(disputer).markDisclosureOpened.staticCall(header)).to.equal(batchId);
      await expect(ledger.connect(disputer).markDisclosureOpened(header))
        .to.emit(ledger, "DisclosureMarked")
        .withArgs(batchId);
      expect(plain(await ledger.recordOf(batchId))).to.deep.equal(
        plain([provider.address, deadline, 1n, RecordKind.Batch, RecordFlags.DISCLOSURE_OPEN, CW]),
      );
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Disputed);
      expect(await leafStatuses(core)).to.deep.equal(all(CommitmentStatus.Disputed));
      // Still Disputed after the window: a pending demand holds finality.
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(await leafStatuses(core)).to.deep.equal(all(CommitmentStatus.Disputed));
      expect(await ledger.isFinal(batchId)).to.equal(false);
    });

    it("opens at the deadline itself and reverts with InferenceLedgerChallengeWindowClosed one second later", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, header, batchId, deadline } = core;
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1);
      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markDisclosureOpened(header))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerChallengeWindowClosed")
        .withArgs(batchId, deadline);
      expect(await recordState(core, batchId)).to.deep.equal(before);
    });

    it("opens exactly at the deadline", async () => {
      const { ledger, disputer, header, batchId, deadline } = await load(withBatch);
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await expect(ledger.connect(disputer).markDisclosureOpened(header))
        .to.emit(ledger, "DisclosureMarked")
        .withArgs(batchId);
    });

    it("reverts with InferenceLedgerUnknownRecord for a header that names no batch", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, provider, modelId, batch, header } = core;
      for (const wrong of [
        { ...header, count: 4 },
        { ...header, binding: h(ethers, "binding") },
      ]) {
        const id = batchIdOf(provider.address, modelId, batch.root, wrong.count, wrong.binding);
        await expect(ledger.connect(disputer).markDisclosureOpened(wrong))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
          .withArgs(id);
        await expect(ledger.connect(disputer).markDisclosureClosed(wrong, true))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnknownRecord")
          .withArgs(id);
      }
    });

    it("reverts with InferenceLedgerDisclosureOpen for a second demand while one is open", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, header, batchId } = core;
      await ledger.connect(disputer).markDisclosureOpened(header);
      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markDisclosureOpened(header))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerDisclosureOpen")
        .withArgs(batchId);
      expect(await recordState(core, batchId)).to.deep.equal(before);
    });

    it("reverts with InferenceLedgerNoOpenDisclosure when closing a demand that is not open", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, header, batchId } = core;
      const before = await recordState(core, batchId);
      for (const disclosed of [true, false]) {
        await expect(ledger.connect(disputer).markDisclosureClosed(header, disclosed))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerNoOpenDisclosure")
          .withArgs(batchId);
      }
      expect(await recordState(core, batchId)).to.deep.equal(before);
    });

    it("markDisclosureClosed(true) sets DISCLOSED and extends the deadline to now + challenge window", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, provider, header, batchId, deadline } = core;
      await ledger.connect(disputer).markDisclosureOpened(header);
      const at = deadline - 10; // near the end of the original window
      await networkHelpers.time.setNextBlockTimestamp(at);
      expect(await ledger.connect(disputer).markDisclosureClosed.staticCall(header, true)).to.equal(false);
      const tx = ledger.connect(disputer).markDisclosureClosed(header, true);
      await expect(tx)
        .to.emit(ledger, "BatchDisclosed")
        .withArgs(batchId, at + WINDOW);
      await expect(tx).not.to.emit(ledger, "Overturned");
      expect(plain(await ledger.recordOf(batchId))).to.deep.equal(
        plain([provider.address, at + WINDOW, 0n, RecordKind.Batch, RecordFlags.DISCLOSED, CW]),
      );
      expect(await leafStatuses(core)).to.deep.equal(all(CommitmentStatus.Pending));
      // Every leaf stays disputable for a full window after the disclosure, past the original deadline.
      await networkHelpers.time.setNextBlockTimestamp(deadline + 1);
      const returned = await ledger
        .connect(disputer)
        .markLeafDisputeOpened.staticCall(core.header, core.batch.proof(1), core.batch.leaf(1));
      expect(plain(returned)).to.deep.equal(plain([batchId, leafHashOf(core.batch.leaves[1]), RecordFlags.DISCLOSED]));
      await ledger.connect(disputer).markLeafDisputeOpened(core.header, core.batch.proof(1), core.batch.leaf(1));
      await networkHelpers.time.increaseTo(at + WINDOW + 1);
      expect(await leafStatuses(core)).to.deep.equal([
        CommitmentStatus.Final,
        CommitmentStatus.Disputed,
        CommitmentStatus.Final,
        CommitmentStatus.Final,
        CommitmentStatus.Final,
      ]);
    });

    it("reverts with InferenceLedgerAlreadyDisclosed for a demand on a disclosed batch", async () => {
      const core = await load(withBatch);
      const { ledger, disputer, header, batchId } = core;
      await ledger.connect(disputer).markDisclosureOpened(header);
      await ledger.connect(disputer).markDisclosureClosed(header, true);
      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markDisclosureOpened(header))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyDisclosed")
        .withArgs(batchId);
      expect(await recordState(core, batchId)).to.deep.equal(before);
    });

    it("markDisclosureClosed(false) overturns the whole batch once: every leaf Overturned, no new dispute or demand", async () => {
      // A provider that cannot show its batch's data loses the whole batch: nobody could check any leaf.
      const core = await load(withBatch);
      const { ledger, disputer, provider, batch, header, batchId, deadline } = core;
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0));
      await ledger.connect(disputer).markDisclosureOpened(header);
      expect((await ledger.recordOf(batchId)).openDisputes).to.equal(2n);
      expect(await ledger.connect(disputer).markDisclosureClosed.staticCall(header, false)).to.equal(true);
      const tx = ledger.connect(disputer).markDisclosureClosed(header, false);
      await expect(tx).to.emit(ledger, "Overturned").withArgs(batchId, ZERO_HASH);
      await expect(tx).not.to.emit(ledger, "BatchDisclosed");
      expect(plain(await ledger.recordOf(batchId))).to.deep.equal(
        plain([provider.address, deadline, 1n, RecordKind.Batch, RecordFlags.OVERTURNED, CW]),
      );
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Overturned);
      expect(await leafStatuses(core)).to.deep.equal(all(CommitmentStatus.Overturned));

      const before = await recordState(core, batchId);
      await expect(ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(3), batch.leaf(3)))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(batchId);
      await expect(ledger.connect(disputer).markDisclosureOpened(header))
        .to.be.revertedWithCustomError(ledger, "InferenceLedgerAlreadyOverturned")
        .withArgs(batchId);
      expect(await recordState(core, batchId)).to.deep.equal(before);
      // The leaf dispute that was already open still closes; its leaf is not overturned a second time
      // on its own record, and the batch stays Overturned.
      const leaf0 = leafHashOf(batch.leaves[0]);
      await ledger.connect(disputer).markLeafDisputeClosed(batchId, leaf0, false, false);
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(await ledger.status(batchId)).to.equal(CommitmentStatus.Overturned);
      expect(await leafStatuses(core)).to.deep.equal(all(CommitmentStatus.Overturned));
      expect((await ledger.recordOf(batchId)).openDisputes).to.equal(0n);
    });

    it("lets leaf disputes open while a disclosure is open, with the batch's flags returned", async () => {
      const { ledger, disputer, batch, header, batchId } = await load(withBatch);
      await ledger.connect(disputer).markDisclosureOpened(header);
      const returned = await ledger
        .connect(disputer)
        .markLeafDisputeOpened.staticCall(header, batch.proof(2), batch.leaf(2));
      expect(plain(returned)).to.deep.equal(plain([batchId, leafHashOf(batch.leaves[2]), RecordFlags.DISCLOSURE_OPEN]));
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
      await ledger.connect(core.disputer).markDisclosureOpened(header);
      const before = await recordState(core, id, batchId);
      for (const who of [outsider, admin]) {
        const calls = [
          ledger.connect(who).markDisputeOpened(id),
          ledger.connect(who).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0)),
          ledger.connect(who).markDisputeClosed(id, true, true),
          ledger.connect(who).markLeafDisputeClosed(batchId, leafHashOf(batch.leaves[0]), true, true),
          ledger.connect(who).markDisclosureOpened(header),
          ledger.connect(who).markDisclosureClosed(header, false),
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
      // Distinct values in every field, so that a field read from the wrong bits cannot pass.
      const terms = {
        minStake: 7n,
        challengeWindow: 1,
        optimisticUntil: 5,
        acceptsUntil: UINT40_MAX,
        status: ModelStatus.Active,
        inputDim: 3,
        maxBatchLeaves: 2,
      };
      const smAddress = await stakeManager.getAddress();
      await networkHelpers.impersonateAccount(smAddress);
      await networkHelpers.setBalance(smAddress, E(1));
      const asStakeManager = await ethers.getSigner(smAddress);
      for (const who of [outsider, asStakeManager]) {
        await expect(ledger.connect(who).syncCommitTerms(modelId, terms))
          .to.be.revertedWithCustomError(ledger, "InferenceLedgerUnauthorizedSource")
          .withArgs(who.address);
      }
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(plain([0n, 0n, 0n, 0n, 0n, 0n, 0n]));

      const regAddress = await registry.getAddress();
      await networkHelpers.impersonateAccount(regAddress);
      await networkHelpers.setBalance(regAddress, E(1));
      await expect(ledger.connect(await ethers.getSigner(regAddress)).syncCommitTerms(modelId, terms))
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(modelId, [7n, 1n, 5n, UINT40_MAX, ModelStatus.Active, 3n, 2n]);
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([7n, 1n, 5n, UINT40_MAX, ModelStatus.Active, 3n, 2n]),
      );
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
      const { ledger, stakeManager, outsider, disputer } = core;
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(0n);
      await stakeManager.connect(outsider).deposit(E(500));
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(E(500));
      await stakeManager.connect(outsider).requestUnbond(E(200));
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(E(300));
      await stakeManager.connect(disputer).slash(outsider.address, E(50), 5_000);
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(E(250));
      await stakeManager.connect(disputer).slash(outsider.address, E(400), 5_000);
      expect(await ledger.providerStakeOf(outsider.address)).to.equal(0n);
      expect((await stakeManager.stakeOf(outsider.address)).unbonding).to.equal(E(50));
      await expectSolvent(core);
    });

    it("commitTermsOf follows registration, deprecation and revocation", async () => {
      const { ledger, registry, publisher, modelId, policy } = await load(withModel);
      // [minStake, challengeWindow, optimisticUntil, acceptsUntil, status, inputDim, maxBatchLeaves]: a dense
      // model's optimisticUntil is its acceptsUntil, the registry's "never" clamped to 40 bits while active.
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, UINT40_MAX, UINT40_MAX, ModelStatus.Active, INPUT_DIM, 1024]),
      );
      expect((await registry.getModel(modelId)).acceptsUntil).to.equal(2n ** 48n - 1n);
      const d = await txTime(ethers, await registry.connect(publisher).deprecateModel(modelId, 500));
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, d + 500, d + 500, ModelStatus.Deprecated, INPUT_DIM, 1024]),
      );
      const r = await txTime(ethers, await registry.connect(publisher).revokeModel(modelId));
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, r, r, ModelStatus.Revoked, INPUT_DIM, 1024]),
      );
    });
  });

  describe("views", () => {
    it("recordOf is empty, status None, finalityOf (None, None) and isFinal false for an unknown id", async () => {
      const { ledger } = await load(withModel);
      const ghost = h(ethers, "ghost");
      expect(plain(await ledger.recordOf(ghost))).to.deep.equal(plain(NO_RECORD));
      expect(await ledger.status(ghost)).to.equal(CommitmentStatus.None);
      expect(plain(await ledger.finalityOf(ghost))).to.deep.equal(plain([CommitmentStatus.None, Finality.None]));
      expect(await ledger.isFinal(ghost)).to.equal(false);
    });

    it("commitmentIdOf(key) equals the SDK's commitmentIdOf and the id commit returns, with and without a binding", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      const inference = { inputHash: IN, outputHash: OUT, traceRoot: TRACE };
      for (const binding of [ZERO_HASH, h(ethers, "enclave nonce")]) {
        const key = { provider: provider2.address, modelId, inference, binding };
        const id = await ledger.commitmentIdOf(key);
        expect(id).to.equal(sdkCommitmentIdOf(provider2.address, modelId, inference, binding));
        expect(id).to.equal(commitmentId(provider2.address, modelId, IN, OUT, TRACE, binding));
      }
      expect(await ledger.connect(provider2).commit.staticCall(modelId, IN, OUT, TRACE, "0x")).to.equal(
        sdkCommitmentIdOf(provider2.address, modelId, inference),
      );
      expect(sdkCommitmentIdOf(provider2.address, modelId, inference, h(ethers, "x"))).to.not.equal(
        sdkCommitmentIdOf(provider2.address, modelId, inference),
      );
    });

    it("batchIdOf(header) equals the SDK's batchIdOf and the id commitBatch returns, with and without a binding", async () => {
      const { ledger, provider2, modelId } = await load(withModel);
      const root = h(ethers, "root");
      for (const binding of [ZERO_HASH, h(ethers, "request")]) {
        const header = { provider: provider2.address, modelId, root, count: 7, binding };
        const id = await ledger.batchIdOf(header);
        expect(id).to.equal(sdkBatchIdOf(header));
        expect(id).to.equal(batchIdOf(provider2.address, modelId, root, 7, binding));
      }
      expect(await ledger.connect(provider2).commitBatch.staticCall(modelId, root, 7, "")).to.equal(
        sdkBatchIdOf({ provider: provider2.address, modelId, root, count: 7, binding: ZERO_HASH }),
      );
    });

    it("finalityOf is (Pending, None) inside the window, (Disputed, None) while disputed, (Final, ChallengeWindow) after", async () => {
      const { ledger, disputer, id, deadline } = await load(withCommit);
      expect(plain(await ledger.finalityOf(id))).to.deep.equal(plain([CommitmentStatus.Pending, Finality.None]));
      await ledger.connect(disputer).markDisputeOpened(id);
      await networkHelpers.time.increaseTo(deadline + 1);
      expect(plain(await ledger.finalityOf(id))).to.deep.equal(plain([CommitmentStatus.Disputed, Finality.None]));
      await ledger.connect(disputer).markDisputeClosed(id, false, false);
      expect(plain(await ledger.finalityOf(id))).to.deep.equal(plain([CommitmentStatus.Final, CW]));
    });

    it("finalityOf is (Final, ChallengeWindow) for a batch after its window and (Overturned, None) once overturned", async () => {
      const { ledger, disputer, provider2, modelId, batch, header, batchId, deadline } = await load(withBatch);
      expect(plain(await ledger.finalityOf(batchId))).to.deep.equal(plain([CommitmentStatus.Pending, Finality.None]));
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await ledger.connect(disputer).markLeafDisputeOpened(header, batch.proof(0), batch.leaf(0));
      await ledger.connect(disputer).markLeafDisputeClosed(batchId, leafHashOf(batch.leaves[0]), true, true);
      expect(plain(await ledger.finalityOf(batchId))).to.deep.equal(
        plain([CommitmentStatus.Overturned, Finality.None]),
      );
      const second = makeBatch(ethers, "b2", 2);
      const at = await txTime(ethers, await ledger.connect(provider2).commitBatch(modelId, second.root, 2, ""));
      const other = batchIdOf(provider2.address, modelId, second.root, 2);
      await networkHelpers.time.increaseTo(at + WINDOW + 1);
      expect(plain(await ledger.finalityOf(other))).to.deep.equal(plain([CommitmentStatus.Final, CW]));
    });
  });
});

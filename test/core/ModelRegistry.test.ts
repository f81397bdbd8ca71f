import { expect } from "chai";
import { network } from "hardhat";
import { contentHashOf, graphHash as engineGraphHash, modelIdOf } from "../../src/engine/index.js";
import {
  Bounds,
  DENSE_ENGINE_ID,
  deployCore,
  denseSpec,
  GasBounds,
  h,
  ids,
  layer,
  MNIST_LAYERS,
  ModelStatus,
  modelIdOfSpec,
  opaqueSpec,
  plain,
  TINY_LAYERS,
  txTime,
  UINT40_MAX,
  UINT48_MAX,
  ZERO_HASH,
  type Core,
  type Layer,
  type Spec,
} from "./coreFixtures.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const offchain = ids(ethers);

/** The dense spec of a model version named by `label` (graph MNIST_LAYERS unless given). */
function content(label: string, layers: Layer[] = MNIST_LAYERS): Spec {
  return denseSpec(ethers, label, layers);
}

/** The id `publisher` (default: the fixture's publisher, signer 1) gets for content `label`. */
let publisherAddress = "";
function idOf(label: string, layers: Layer[] = MNIST_LAYERS, publisher = publisherAddress) {
  return modelIdOfSpec(publisher, content(label, layers));
}

function policyTuple(p: Core["policy"]) {
  return [
    p.challengeWindow,
    p.responseWindow,
    p.minStake,
    p.slashAmount,
    p.challengerBond,
    p.teeMode,
    p.teeWindow,
    p.proofAccepted,
  ];
}

function layerTuples(layers: readonly Layer[]) {
  return layers.map((l) => [l.inDim, l.outDim, l.multiplier, l.shift, l.relu]);
}

/**
 * The ledger's cached CommitTerms tuple of an optimistic (dense) model: [minStake, challengeWindow,
 * optimisticUntil, acceptsUntil, status, inputDim, maxBatchLeaves], with optimisticUntil = acceptsUntil (the
 * 40-bit value: UINT40_MAX while active).
 */
function termsTuple(p: Core["policy"], acceptsUntil: bigint | number, status: bigint, inDim = 784, maxLeaves = 1024) {
  return [p.minStake, p.challengeWindow, acceptsUntil, acceptsUntil, status, inDim, maxLeaves];
}

describe("ModelRegistry", () => {
  async function deployed() {
    const core = await deployCore(connection);
    publisherAddress = core.publisher.address;
    return core;
  }

  /** One model "v1" registered by the publisher. */
  async function withModel() {
    const core = await deployed();
    const tx = await core.registry.connect(core.publisher).registerModel(content("v1"), core.policy);
    const registeredAt = await txTime(ethers, tx);
    return { ...core, modelId: idOf("v1"), registeredAt };
  }

  /** Everything the registry and the ledger's cache know about `modelId`, to compare before/after. */
  async function modelState(core: Core, modelId: string) {
    const status = await core.registry.statusOf(modelId);
    const model = status === ModelStatus.None ? null : plain(await core.registry.getModel(modelId));
    const layers = status === ModelStatus.None ? null : plain(await core.registry.layersOf(modelId));
    return { status, model, layers, terms: plain(await core.ledger.commitTermsOf(modelId)) };
  }

  /** Expects `spec` (with `policy`) to be refused with `error(...args)` and nothing to be registered under its id. */
  async function expectRefused(core: Core, spec: Spec, policy: Core["policy"], error: string, args?: unknown[]) {
    const id = modelIdOfSpec(core.publisher.address, spec);
    const before = await modelState(core, id);
    expect(before.status).to.equal(ModelStatus.None);
    const call = expect(
      core.registry.connect(core.publisher).registerModel(spec, policy),
    ).to.be.revertedWithCustomError(core.registry, error);
    if (args === undefined) await call;
    else await call.withArgs(...args);
    expect(await modelState(core, id)).to.deep.equal(before);
  }

  describe("registerModel", () => {
    it("stores the first version with its content, graph, policy and publisher", async () => {
      const { registry, publisher, policy, modelId, registeredAt } = await networkHelpers.loadFixture(withModel);
      const c = content("v1");
      const gh = offchain.graphHash(MNIST_LAYERS);
      const m = await registry.getModel(modelId);
      expect(m.publisher).to.equal(publisher.address);
      expect(m.registeredAt).to.equal(registeredAt);
      expect(m.acceptsUntil).to.equal(UINT48_MAX);
      expect(m.status).to.equal(ModelStatus.Active);
      expect(m.version).to.equal(1n);
      expect(m.contentHash).to.equal(offchain.contentHash(c.weightsRoot, gh, DENSE_ENGINE_ID));
      expect(m.weightsRoot).to.equal(c.weightsRoot);
      expect(m.graphHash).to.equal(gh);
      expect(m.engineId).to.equal(DENSE_ENGINE_ID);
      expect(m.predecessor).to.equal(ZERO_HASH);
      expect(m.successor).to.equal(ZERO_HASH);
      expect(m.optimistic).to.equal(true);
      expect(m.maxBatchLeaves).to.equal(1024n);
      expect(plain(m.policy)).to.deep.equal(plain(policyTuple(policy)));
      expect(m.metadataURI).to.equal("ipfs://v1");
      expect(plain(await registry.policyOf(modelId))).to.deep.equal(plain(policyTuple(policy)));
      expect(plain(await registry.disputeTermsOf(modelId))).to.deep.equal(
        plain([policy.responseWindow, policy.challengerBond, policy.slashAmount, MNIST_LAYERS.length]),
      );
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Active);
      expect(await registry.acceptsCommitments(modelId)).to.equal(true);
      expect(await registry.latestVersion(modelId)).to.equal(modelId);
    });

    it("returns the publisher-bound id keccak256(abi.encode(publisher, keccak256(abi.encode(weightsRoot, graphHash, engineId))))", async () => {
      const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
      const c = content("fresh");
      const contentHash = offchain.contentHash(c.weightsRoot, offchain.graphHash(c.layers), c.engineId);
      const expected = offchain.modelId(publisher.address, contentHash);
      expect(await registry.connect(publisher).registerModel.staticCall(c, policy)).to.equal(expected);
      expect(await registry.computeContentHash(c.weightsRoot, offchain.graphHash(c.layers), c.engineId)).to.equal(
        contentHash,
      );
      expect(await registry.computeModelId(publisher.address, contentHash)).to.equal(expected);
    });

    it("computeContentHash and computeModelId match the engine's contentHashOf and modelIdOf", async () => {
      const { registry, publisher, outsider } = await networkHelpers.loadFixture(deployed);
      const gh = engineGraphHash(MNIST_LAYERS);
      expect(gh).to.equal(offchain.graphHash(MNIST_LAYERS));
      for (const [w, g, e] of [
        [h(ethers, "w1"), gh, DENSE_ENGINE_ID],
        [h(ethers, "w2"), h(ethers, "g2"), h(ethers, "e2")],
      ]) {
        const ch = await registry.computeContentHash(w, g, e);
        expect(ch).to.equal(contentHashOf(w, g, e));
        for (const who of [publisher, outsider]) {
          expect(await registry.computeModelId(who.address, ch)).to.equal(modelIdOf(who.address, ch));
        }
      }
      expect(modelIdOf(publisher.address, gh)).to.not.equal(modelIdOf(outsider.address, gh));
    });

    it("emits ModelRegistered with the id, publisher, content hash and every field of the version", async () => {
      const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
      const c = content("fresh");
      const gh = offchain.graphHash(c.layers);
      await expect(registry.connect(publisher).registerModel(c, policy))
        .to.emit(registry, "ModelRegistered")
        .withArgs(
          idOf("fresh"),
          publisher.address,
          contentHashOf(c.weightsRoot, gh, c.engineId),
          ZERO_HASH,
          1n,
          c.weightsRoot,
          gh,
          c.engineId,
          policyTuple(policy),
          "ipfs://fresh",
        );
    });

    it("writes the model's commit terms (input length, batch limit, optimisticUntil = acceptsUntil, the registry's never clamped to 40 bits) into the ledger's admission cache", async () => {
      const { registry, ledger, publisher, policy } = await networkHelpers.loadFixture(deployed);
      const tx = registry.connect(publisher).registerModel(content("fresh"), policy);
      await expect(tx)
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(idOf("fresh"), termsTuple(policy, UINT40_MAX, ModelStatus.Active));
      expect(plain(await ledger.commitTermsOf(idOf("fresh")))).to.deep.equal(
        plain(termsTuple(policy, UINT40_MAX, ModelStatus.Active)),
      );
      // The registry itself keeps its 48-bit "never".
      expect((await registry.getModel(idOf("fresh"))).acceptsUntil).to.equal(UINT48_MAX);
    });

    for (const field of ["weightsRoot", "engineId"] as const) {
      it(`reverts with ModelRegistryZeroHash when ${field} is zero and registers nothing`, async () => {
        const core = await networkHelpers.loadFixture(deployed);
        await expectRefused(core, { ...content("zero"), [field]: ZERO_HASH }, core.policy, "ModelRegistryZeroHash");
      });
    }

    it("reverts with ModelRegistryAlreadyRegistered when the same publisher registers the same content twice", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const before = await modelState(core, core.modelId);
      // Another metadata URI or policy is still the same content.
      for (const spec of [content("v1"), { ...content("v1"), metadataURI: "other" }]) {
        await expect(
          core.registry.connect(core.publisher).registerModel(spec, { ...core.policy, minStake: 10n ** 21n }),
        )
          .to.be.revertedWithCustomError(core.registry, "ModelRegistryAlreadyRegistered")
          .withArgs(core.modelId);
      }
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("treats a different engine id as different content", async () => {
      const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
      const a = opaqueSpec(ethers, "same", h(ethers, "engine/a"));
      const b = opaqueSpec(ethers, "same", h(ethers, "engine/b"));
      await registry.connect(publisher).registerModel(a, policy);
      await registry.connect(publisher).registerModel(b, policy);
      const [idA, idB] = [modelIdOfSpec(publisher.address, a), modelIdOfSpec(publisher.address, b)];
      expect(idA).to.not.equal(idB);
      expect(await registry.statusOf(idA)).to.equal(ModelStatus.Active);
      expect(await registry.statusOf(idB)).to.equal(ModelStatus.Active);
    });

    describe("publisher-bound ids", () => {
      /** The publisher registered "v1"; the outsider registers the very same content. */
      async function twoPublishers() {
        const core = await withModel();
        await core.registry.connect(core.outsider).registerModel(content("v1"), core.policy);
        return { ...core, squatId: idOf("v1", MNIST_LAYERS, core.outsider.address) };
      }

      it("gives two publishers of the same content two models with different ids and the same contentHash topic", async () => {
        // Before: modelId = contentHash alone, so the first to register a content owned it (and could
        // front-run its real publisher). Now each publisher gets its own id for the same content.
        const { registry, publisher, outsider, modelId, squatId } = await networkHelpers.loadFixture(twoPublishers);
        expect(squatId).to.not.equal(modelId);
        const [mine, theirs] = [await registry.getModel(modelId), await registry.getModel(squatId)];
        expect(mine.publisher).to.equal(publisher.address);
        expect(theirs.publisher).to.equal(outsider.address);
        expect(mine.contentHash).to.equal(theirs.contentHash);
        expect(theirs.status).to.equal(ModelStatus.Active);
        const events = await registry.queryFilter(
          registry.filters.ModelRegistered(undefined, undefined, mine.contentHash),
        );
        expect(events.map((e) => [e.args.modelId, e.args.publisher])).to.deep.equal([
          [modelId, publisher.address],
          [squatId, outsider.address],
        ]);
      });

      it("does not let one publisher revoke, deprecate or version the other's model", async () => {
        const core = await networkHelpers.loadFixture(twoPublishers);
        const { registry, publisher, outsider, modelId, squatId, policy } = core;
        const [beforeMine, beforeTheirs] = [await modelState(core, modelId), await modelState(core, squatId)];
        for (const [who, target] of [
          [outsider, modelId],
          [publisher, squatId],
        ] as const) {
          await expect(registry.connect(who).revokeModel(target))
            .to.be.revertedWithCustomError(registry, "ModelRegistryNotPublisher")
            .withArgs(target, who.address);
          await expect(registry.connect(who).deprecateModel(target, 10))
            .to.be.revertedWithCustomError(registry, "ModelRegistryNotPublisher")
            .withArgs(target, who.address);
          await expect(registry.connect(who).registerVersion(target, content("v2"), policy))
            .to.be.revertedWithCustomError(registry, "ModelRegistryNotPublisher")
            .withArgs(target, who.address);
        }
        expect(await modelState(core, modelId)).to.deep.equal(beforeMine);
        expect(await modelState(core, squatId)).to.deep.equal(beforeTheirs);
        // Each publisher still manages its own model.
        await expect(registry.connect(outsider).revokeModel(squatId))
          .to.emit(registry, "ModelRevoked")
          .withArgs(squatId, outsider.address);
        expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Active);
        expect(await registry.acceptsCommitments(modelId)).to.equal(true);
      });
    });

    describe("dense-int8-v1 graphs", () => {
      it("stores the layers: layersOf returns them all and layerOf(l) returns layer l with the weights root", async () => {
        const { registry, modelId } = await networkHelpers.loadFixture(withModel);
        expect(plain(await registry.layersOf(modelId))).to.deep.equal(plain(layerTuples(MNIST_LAYERS)));
        for (const [i, l] of MNIST_LAYERS.entries()) {
          const [spec, root] = await registry.layerOf(modelId, i + 1);
          expect(plain(spec)).to.deep.equal(plain(layerTuples([l])[0]));
          expect(root).to.equal(content("v1").weightsRoot);
        }
      });

      it("layerOf reverts with ModelRegistryUnknownLayer for layer 0, layer L + 1 and an unknown model", async () => {
        const { registry, modelId } = await networkHelpers.loadFixture(withModel);
        const ghost = idOf("ghost");
        for (const [id, l] of [
          [modelId, 0],
          [modelId, MNIST_LAYERS.length + 1],
          [ghost, 1],
        ] as const) {
          await expect(registry.layerOf(id, l))
            .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownLayer")
            .withArgs(id, l);
        }
      });

      it("computes the graph hash: zero and the exact hash are accepted, both store the computed hash", async () => {
        const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
        const gh = offchain.graphHash(TINY_LAYERS);
        const zero = content("zero", TINY_LAYERS);
        const exact = { ...content("exact", TINY_LAYERS), graphHash: gh };
        for (const spec of [zero, exact]) {
          await registry.connect(publisher).registerModel(spec, policy);
          const id = modelIdOf(publisher.address, contentHashOf(spec.weightsRoot, gh, DENSE_ENGINE_ID));
          expect((await registry.getModel(id)).graphHash).to.equal(gh);
        }
      });

      it("reverts with ModelRegistryGraphHashMismatch(given, computed) for a wrong graph hash and registers nothing", async () => {
        const core = await networkHelpers.loadFixture(deployed);
        const wrong = h(ethers, "wrong graph");
        const spec = { ...content("g", TINY_LAYERS), graphHash: wrong };
        // The hash of another graph is as wrong as a random one.
        const other = { ...spec, graphHash: offchain.graphHash([layer(16, 5, false)]) };
        for (const s of [spec, other]) {
          await expectRefused(core, s, core.policy, "ModelRegistryGraphHashMismatch", [
            s.graphHash,
            offchain.graphHash(TINY_LAYERS),
          ]);
        }
      });

      const chain = (n: number) => Array.from({ length: n }, () => layer(1, 1, false));
      const invalid: { name: string; layers: Layer[]; error: string; args: unknown[] }[] = [
        { name: "an empty graph", layers: [], error: "DenseInt8EmptyGraph", args: [] },
        { name: "257 layers", layers: chain(257), error: "DenseInt8TooManyLayers", args: [257, 256] },
        {
          name: "a zero inDim",
          layers: [layer(0, 4)],
          error: "DenseInt8InvalidSpec",
          args: [0, 4, 1, 0],
        },
        {
          name: "an outDim above 65,536",
          layers: [layer(16, 4), layer(4, 65_537)],
          error: "DenseInt8InvalidSpec",
          args: [4, 65_537, 1, 0],
        },
        {
          name: "a zero multiplier",
          layers: [{ ...layer(16, 4), multiplier: 0 }],
          error: "DenseInt8InvalidSpec",
          args: [16, 4, 0, 0],
        },
        {
          name: "a multiplier of 2^31",
          layers: [{ ...layer(16, 4), multiplier: 2 ** 31 }],
          error: "DenseInt8InvalidSpec",
          args: [16, 4, 2 ** 31, 0],
        },
        {
          name: "a shift of 63",
          layers: [{ ...layer(16, 4), shift: 63 }],
          error: "DenseInt8InvalidSpec",
          args: [16, 4, 1, 63],
        },
        {
          name: "layer 3's inDim != layer 2's outDim",
          layers: [layer(16, 8), layer(8, 4), layer(5, 2)],
          error: "DenseInt8GraphNotChained",
          args: [3, 5, 4],
        },
      ];
      for (const c of invalid) {
        it(`reverts with ${c.error} for ${c.name} and registers nothing`, async () => {
          const core = await networkHelpers.loadFixture(deployed);
          const spec = content("invalid", c.layers);
          await expectRefused(core, spec, core.policy, c.error, c.args);
          // Nor under a given graph hash of those layers.
          await expectRefused(core, { ...spec, graphHash: offchain.graphHash(c.layers) }, core.policy, c.error, c.args);
        });
      }

      it("accepts the bounds themselves: 256 layers, multiplier 2^31 - 1, shift 62, a 65,536-wide output", async () => {
        const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
        const edges = [chain(256), [{ ...layer(16, 4), multiplier: 2 ** 31 - 1, shift: 62 }], [layer(1, 65_536)]];
        for (const [i, layers] of edges.entries()) {
          const spec = content(`edge${i}`, layers);
          await registry.connect(publisher).registerModel(spec, policy);
          const id = modelIdOfSpec(publisher.address, spec);
          expect(plain(await registry.layersOf(id))).to.deep.equal(plain(layerTuples(layers)));
          expect((await registry.disputeTermsOf(id)).numLayers).to.equal(BigInt(layers.length));
        }
      });
    });

    describe("opaque engines", () => {
      it("registers a model of another engine as not optimistic: no layers, the given graph hash, optimisticUntil 0 in the ledger", async () => {
        const { registry, ledger, publisher, policy } = await networkHelpers.loadFixture(deployed);
        const spec = opaqueSpec(ethers, "opaque");
        const id = modelIdOfSpec(publisher.address, spec);
        expect(id).to.equal(
          offchain.modelId(publisher.address, offchain.contentHash(spec.weightsRoot, spec.graphHash, spec.engineId)),
        );
        await expect(registry.connect(publisher).registerModel(spec, policy))
          .to.emit(ledger, "CommitTermsSynced")
          .withArgs(id, [policy.minStake, policy.challengeWindow, 0n, UINT40_MAX, ModelStatus.Active, 0n, 1024n]);
        const m = await registry.getModel(id);
        expect(m.optimistic).to.equal(false);
        expect(m.graphHash).to.equal(spec.graphHash);
        expect(m.engineId).to.equal(spec.engineId);
        expect(m.status).to.equal(ModelStatus.Active);
        expect(plain(await registry.layersOf(id))).to.deep.equal([]);
        expect((await registry.disputeTermsOf(id)).numLayers).to.equal(0n);
        expect(plain(await registry.gasBoundsOf(id))).to.deep.equal(["0", "0", "0"]);
        await expect(registry.layerOf(id, 1))
          .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownLayer")
          .withArgs(id, 1);
        const terms = await ledger.commitTermsOf(id);
        // Refused by the ledger's optimistic path; acceptsUntil only governs TEE-signed commitments.
        expect(terms.optimisticUntil).to.equal(0n);
        expect(terms.acceptsUntil).to.equal(UINT40_MAX);
      });

      it("acceptsCommitments is false for a model the ledger refuses (not optimistic)", async () => {
        // IModelRegistry.acceptsCommitments: "whether a commitment of modelId would be accepted now"; the
        // ledger refuses every commitment of an opaque model (InferenceLedgerNotOptimistic).
        const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
        const spec = opaqueSpec(ethers, "opaque");
        await registry.connect(publisher).registerModel(spec, policy);
        expect(await registry.acceptsCommitments(modelIdOfSpec(publisher.address, spec))).to.equal(false);
      });

      it("reverts with ModelRegistryLayersForOpaqueEngine when layers are given for another engine", async () => {
        const core = await networkHelpers.loadFixture(deployed);
        const spec = { ...opaqueSpec(ethers, "opaque"), layers: TINY_LAYERS };
        await expectRefused(core, spec, core.policy, "ModelRegistryLayersForOpaqueEngine", [spec.engineId]);
      });

      it("reverts with ModelRegistryZeroHash for a zero graph hash of another engine", async () => {
        const core = await networkHelpers.loadFixture(deployed);
        await expectRefused(
          core,
          { ...opaqueSpec(ethers, "opaque"), graphHash: ZERO_HASH },
          core.policy,
          "ModelRegistryZeroHash",
        );
      });

      it("keeps optimisticUntil 0 in the ledger through deprecation and revocation, while acceptsUntil follows them", async () => {
        const { registry, ledger, publisher, policy } = await networkHelpers.loadFixture(deployed);
        const spec = opaqueSpec(ethers, "opaque");
        const id = modelIdOfSpec(publisher.address, spec);
        await registry.connect(publisher).registerModel(spec, policy);
        const d = await txTime(ethers, await registry.connect(publisher).deprecateModel(id, 1000));
        expect(plain(await ledger.commitTermsOf(id))).to.deep.equal(
          plain([policy.minStake, policy.challengeWindow, 0n, d + 1000, ModelStatus.Deprecated, 0n, 1024n]),
        );
        const r = await txTime(ethers, await registry.connect(publisher).revokeModel(id));
        expect(plain(await ledger.commitTermsOf(id))).to.deep.equal(
          plain([policy.minStake, policy.challengeWindow, 0n, r, ModelStatus.Revoked, 0n, 1024n]),
        );
      });
    });

    describe("policy bounds", () => {
      const cases: {
        name: string;
        error: string;
        patch: (p: Core["policy"]) => Partial<Core["policy"]>;
        args: (p: Core["policy"]) => unknown[];
      }[] = [
        {
          name: "a challenge window below the minimum",
          error: "ModelRegistryInvalidChallengeWindow",
          patch: () => ({ challengeWindow: Bounds.MIN_CHALLENGE_WINDOW - 1 }),
          args: () => [Bounds.MIN_CHALLENGE_WINDOW - 1, Bounds.MIN_CHALLENGE_WINDOW, Bounds.MAX_CHALLENGE_WINDOW],
        },
        {
          name: "a challenge window above the maximum",
          error: "ModelRegistryInvalidChallengeWindow",
          patch: () => ({ challengeWindow: Bounds.MAX_CHALLENGE_WINDOW + 1 }),
          args: () => [Bounds.MAX_CHALLENGE_WINDOW + 1, Bounds.MIN_CHALLENGE_WINDOW, Bounds.MAX_CHALLENGE_WINDOW],
        },
        {
          name: "a response window below the minimum",
          error: "ModelRegistryInvalidResponseWindow",
          patch: () => ({ responseWindow: Bounds.MIN_RESPONSE_WINDOW - 1 }),
          args: () => [Bounds.MIN_RESPONSE_WINDOW - 1, Bounds.MIN_RESPONSE_WINDOW, Bounds.MAX_RESPONSE_WINDOW],
        },
        {
          name: "a response window above the maximum",
          error: "ModelRegistryInvalidResponseWindow",
          patch: () => ({ responseWindow: Bounds.MAX_RESPONSE_WINDOW + 1 }),
          args: () => [Bounds.MAX_RESPONSE_WINDOW + 1, Bounds.MIN_RESPONSE_WINDOW, Bounds.MAX_RESPONSE_WINDOW],
        },
        {
          name: "a zero minimum stake",
          error: "ModelRegistryInvalidMinStake",
          patch: () => ({ minStake: 0n, slashAmount: 0n }),
          args: () => [0n],
        },
        {
          name: "a zero slash amount",
          error: "ModelRegistryInvalidSlashAmount",
          patch: () => ({ slashAmount: 0n }),
          args: (p) => [0n, p.minStake],
        },
        {
          name: "a slash amount above the minimum stake",
          error: "ModelRegistryInvalidSlashAmount",
          patch: (p) => ({ slashAmount: p.minStake + 1n }),
          args: (p) => [p.minStake + 1n, p.minStake],
        },
        {
          name: "a zero challenger bond",
          error: "ModelRegistryInvalidChallengerBond",
          patch: () => ({ challengerBond: 0n }),
          args: () => [0n],
        },
        {
          name: "a bond one wei above slash * 2,000 / 10,000 (the reward at the lowest share)",
          error: "ModelRegistryBondAboveReward",
          patch: (p) => ({ challengerBond: (p.slashAmount * 2_000n) / 10_000n + 1n }),
          args: (p) => [(p.slashAmount * 2_000n) / 10_000n + 1n, (p.slashAmount * 2_000n) / 10_000n],
        },
      ];
      for (const c of cases) {
        it(`reverts with ${c.error} for ${c.name} and registers nothing`, async () => {
          const core = await networkHelpers.loadFixture(deployed);
          const policy = { ...core.policy, ...c.patch(core.policy) };
          await expectRefused(core, content("bounds"), policy, c.error, c.args(core.policy));
          // The same bounds hold for opaque engines.
          await expectRefused(core, opaqueSpec(ethers, "bounds"), policy, c.error, c.args(core.policy));
        });
      }

      it("accepts a bond exactly at slash * 2,000 / 10,000 (the default policy) and every window bound", async () => {
        const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
        expect(policy.challengerBond).to.equal((policy.slashAmount * 2_000n) / 10_000n);
        const edges = [
          { challengeWindow: Bounds.MIN_CHALLENGE_WINDOW, responseWindow: Bounds.MIN_RESPONSE_WINDOW },
          { challengeWindow: Bounds.MAX_CHALLENGE_WINDOW, responseWindow: Bounds.MAX_RESPONSE_WINDOW },
          { slashAmount: policy.minStake, challengerBond: (policy.minStake * 2_000n) / 10_000n },
        ];
        for (const [i, edge] of edges.entries()) {
          const p = { ...policy, ...edge };
          await registry.connect(publisher).registerModel(content(`edge${i}`, TINY_LAYERS), p);
          expect(plain(await registry.policyOf(idOf(`edge${i}`, TINY_LAYERS)))).to.deep.equal(plain(policyTuple(p)));
        }
      });

      it("checks the bond against the reward before the gas cost", async () => {
        const core = await networkHelpers.loadFixture(deployed);
        await core.registry.connect(core.admin).setReferenceGasPrice(10n ** 30n);
        const bond = (core.policy.slashAmount * 2_000n) / 10_000n + 1n;
        await expectRefused(
          core,
          content("order"),
          { ...core.policy, challengerBond: bond },
          "ModelRegistryBondAboveReward",
          [bond, bond - 1n],
        );
      });
    });

    describe("gas bounds", () => {
      it("gasBoundsOf matches an off-chain mirror of GasBounds and GasBoundsHarness", async () => {
        const { registry, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
        const harness = await ethers.deployContract("GasBoundsHarness");
        for (const layers of [MNIST_LAYERS, TINY_LAYERS, [layer(16_384, 8), layer(8, 2)]]) {
          const spec = content(`gas/${layers.length}/${layers[0].inDim}`, layers);
          await registry.connect(publisher).registerModel(spec, policy);
          const expected = GasBounds.ofModel(layers);
          const onChain = [expected.worst, expected.providerGame, expected.challengerGame];
          expect(plain(await registry.gasBoundsOf(modelIdOfSpec(publisher.address, spec)))).to.deep.equal(
            plain(onChain),
          );
          expect(plain(await harness.ofModel(layers))).to.deep.equal(plain(onChain));
        }
        expect((await registry.gasBoundsOf(modelId))[0]).to.be.lessThan(BigInt(Bounds.MAX_HONEST_MOVE_GAS));
      });

      it("reverts with ModelRegistryGasBoundExceeded(worst, 8,000,000) when a 65,536-wide layer makes proveNeuron too large", async () => {
        const core = await networkHelpers.loadFixture(deployed);
        const layers = [layer(65_536, 1)];
        const { worst } = GasBounds.ofModel(layers);
        // The worst move is the neuron proof of the wide layer: two 65,536-byte vectors in one transaction.
        expect(worst).to.equal(GasBounds.proveNeuron(65_536n, 1n, 0n));
        expect(worst).to.be.greaterThan(BigInt(Bounds.MAX_HONEST_MOVE_GAS));
        await expectRefused(core, content("wide", layers), core.policy, "ModelRegistryGasBoundExceeded", [
          worst,
          Bounds.MAX_HONEST_MOVE_GAS,
        ]);
      });

      it("reverts with ModelRegistryBondBelowGasCost(bond, max(providerGame, challengerGame) * referenceGasPrice)", async () => {
        // Before: any non-zero bond was accepted, so a game could cost one side more gas than the bond
        // (and the reward) is worth. Now the bond pays for either side's full game at the reference price.
        const core = await networkHelpers.loadFixture(withModel);
        const { registry, admin, policy, modelId } = core;
        const [, providerGame, challengerGame] = await registry.gasBoundsOf(modelId);
        const game = providerGame > challengerGame ? providerGame : challengerGame;
        const price = policy.challengerBond / game + 1n;
        expect(game * price).to.be.greaterThan(policy.challengerBond);
        await expect(registry.connect(admin).setReferenceGasPrice(price))
          .to.emit(registry, "ReferenceGasPriceUpdated")
          .withArgs(price);
        await expectRefused(core, content("cheap"), policy, "ModelRegistryBondBelowGasCost", [
          policy.challengerBond,
          game * price,
        ]);
        // The model registered before the price change keeps its policy.
        expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Active);
      });

      it("accepts a bond exactly at the gas cost and refuses one wei less", async () => {
        const core = await networkHelpers.loadFixture(withModel);
        const { registry, publisher, modelId } = core;
        const [, providerGame, challengerGame] = await registry.gasBoundsOf(modelId);
        const minBond =
          (providerGame > challengerGame ? providerGame : challengerGame) * (await registry.referenceGasPrice());
        const policyFor = (bond: bigint) => ({
          ...core.policy,
          challengerBond: bond,
          slashAmount: bond * 5n,
          minStake: bond * 5n,
        });
        await expectRefused(core, content("edge"), policyFor(minBond - 1n), "ModelRegistryBondBelowGasCost", [
          minBond - 1n,
          minBond,
        ]);
        await registry.connect(publisher).registerModel(content("edge"), policyFor(minBond));
        expect((await registry.policyOf(idOf("edge"))).challengerBond).to.equal(minBond);
      });

      it("does not check opaque models against gas (no game is ever played on them)", async () => {
        const { registry, admin, publisher, policy } = await networkHelpers.loadFixture(deployed);
        await registry.connect(admin).setReferenceGasPrice(10n ** 30n);
        const spec = opaqueSpec(ethers, "opaque");
        await registry.connect(publisher).registerModel(spec, policy);
        expect(await registry.statusOf(modelIdOfSpec(publisher.address, spec))).to.equal(ModelStatus.Active);
      });

      it("reports maxBatchLeaves 1,024 for a 784-input model and fewer for a 16,384-input one", async () => {
        const { registry, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
        expect((await registry.getModel(modelId)).maxBatchLeaves).to.equal(1024n);
        expect(GasBounds.maxBatchLeaves(784n)).to.equal(1024n);
        const layers = [layer(16_384, 8), layer(8, 2)];
        const spec = content("wide input", layers);
        await registry.connect(publisher).registerModel(spec, policy);
        const expected = GasBounds.maxBatchLeaves(16_384n);
        expect(expected).to.be.lessThan(1024n);
        expect(expected).to.be.greaterThan(0n);
        // The limit is the largest batch whose full disclosure fits MAX_DISCLOSURE_GAS.
        expect(GasBounds.disclosure(expected, 16_384n)).to.be.at.most(BigInt(Bounds.MAX_DISCLOSURE_GAS));
        expect(GasBounds.disclosure(expected + 1n, 16_384n)).to.be.greaterThan(BigInt(Bounds.MAX_DISCLOSURE_GAS));
        expect((await registry.getModel(modelIdOfSpec(publisher.address, spec))).maxBatchLeaves).to.equal(expected);
      });
    });
  });

  describe("setReferenceGasPrice", () => {
    it("is 1e9 after deployment; a governor sets it and ReferenceGasPriceUpdated is emitted", async () => {
      const { registry, admin } = await networkHelpers.loadFixture(deployed);
      expect(await registry.referenceGasPrice()).to.equal(10n ** 9n);
      await expect(registry.connect(admin).setReferenceGasPrice(7n))
        .to.emit(registry, "ReferenceGasPriceUpdated")
        .withArgs(7n);
      expect(await registry.referenceGasPrice()).to.equal(7n);
    });

    it("reverts with AccessControlUnauthorizedAccount for anyone without GOVERNOR_ROLE, the publisher included", async () => {
      const { registry, publisher, outsider, governorRole } = await networkHelpers.loadFixture(withModel);
      for (const who of [publisher, outsider]) {
        await expect(registry.connect(who).setReferenceGasPrice(1n))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, governorRole);
      }
      expect(await registry.referenceGasPrice()).to.equal(10n ** 9n);
    });

    it("reverts with ModelRegistryInvalidGasPrice for zero, in the setter and the constructor", async () => {
      const { registry, ledger, admin } = await networkHelpers.loadFixture(deployed);
      await expect(registry.connect(admin).setReferenceGasPrice(0)).to.be.revertedWithCustomError(
        registry,
        "ModelRegistryInvalidGasPrice",
      );
      expect(await registry.referenceGasPrice()).to.equal(10n ** 9n);
      const factory = await ethers.getContractFactory("ModelRegistry");
      await expect(factory.deploy(admin.address, await ledger.getAddress(), 0)).to.be.revertedWithCustomError(
        factory,
        "ModelRegistryInvalidGasPrice",
      );
      const other = await factory.deploy(admin.address, await ledger.getAddress(), 5);
      expect(await other.referenceGasPrice()).to.equal(5n);
    });
  });

  describe("registerVersion", () => {
    it("registers version 2 (here with another graph) naming its predecessor and links the predecessor to it", async () => {
      const { registry, ledger, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      const c = content("v2", TINY_LAYERS);
      const v2 = idOf("v2", TINY_LAYERS);
      const gh = offchain.graphHash(TINY_LAYERS);
      const newPolicy = { ...policy, challengeWindow: 2 * 3600 };
      expect(await registry.connect(publisher).registerVersion.staticCall(modelId, c, newPolicy)).to.equal(v2);
      const tx = registry.connect(publisher).registerVersion(modelId, c, newPolicy);
      await expect(tx)
        .to.emit(registry, "ModelRegistered")
        .withArgs(
          v2,
          publisher.address,
          contentHashOf(c.weightsRoot, gh, DENSE_ENGINE_ID),
          modelId,
          2n,
          c.weightsRoot,
          gh,
          c.engineId,
          policyTuple(newPolicy),
          "ipfs://v2",
        );
      await expect(tx)
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(v2, [policy.minStake, 2 * 3600, UINT40_MAX, UINT40_MAX, ModelStatus.Active, 16n, 1024n]);
      const m2 = await registry.getModel(v2);
      expect(m2.version).to.equal(2n);
      expect(m2.predecessor).to.equal(modelId);
      expect(m2.successor).to.equal(ZERO_HASH);
      expect(m2.publisher).to.equal(publisher.address);
      expect(plain(await registry.layersOf(v2))).to.deep.equal(plain(layerTuples(TINY_LAYERS)));
      const m1 = await registry.getModel(modelId);
      expect(m1.successor).to.equal(v2);
      // The predecessor keeps its own status, policy and graph.
      expect(m1.status).to.equal(ModelStatus.Active);
      expect(m1.policy.challengeWindow).to.equal(BigInt(policy.challengeWindow));
      expect(plain(await registry.layersOf(modelId))).to.deep.equal(plain(layerTuples(MNIST_LAYERS)));
    });

    it("numbers a chain of versions 1, 2, 3 and latestVersion walks to the newest from any of them", async () => {
      const { registry, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      const chain = [modelId];
      for (const label of ["v2", "v3"]) {
        const c = content(label);
        await registry.connect(publisher).registerVersion(chain[chain.length - 1], c, policy);
        chain.push(idOf(label));
      }
      for (const [i, id] of chain.entries()) {
        expect((await registry.getModel(id)).version).to.equal(BigInt(i + 1));
        expect(await registry.latestVersion(id)).to.equal(chain[2]);
      }
      expect((await registry.getModel(chain[2])).predecessor).to.equal(chain[1]);
      expect((await registry.getModel(chain[1])).predecessor).to.equal(chain[0]);
    });

    it("reverts with ModelRegistryAlreadySucceeded when a second version of the same predecessor forks the chain", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, publisher, policy, modelId } = core;
      const c2 = content("v2");
      await registry.connect(publisher).registerVersion(modelId, c2, policy);
      const fork = content("fork");
      const before = await modelState(core, modelId);
      await expect(registry.connect(publisher).registerVersion(modelId, fork, policy))
        .to.be.revertedWithCustomError(registry, "ModelRegistryAlreadySucceeded")
        .withArgs(modelId, idOf("v2"));
      expect(await modelState(core, modelId)).to.deep.equal(before);
      expect(await registry.statusOf(idOf("fork"))).to.equal(ModelStatus.None);
      expect(await registry.latestVersion(modelId)).to.equal(idOf("v2"));
    });

    it("reverts with ModelRegistryNotPublisher when someone else registers a version, even a governor", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const c = content("v2");
      const before = await modelState(core, core.modelId);
      for (const who of [core.outsider, core.admin]) {
        await expect(core.registry.connect(who).registerVersion(core.modelId, c, core.policy))
          .to.be.revertedWithCustomError(core.registry, "ModelRegistryNotPublisher")
          .withArgs(core.modelId, who.address);
      }
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
      expect(await core.registry.statusOf(idOf("v2"))).to.equal(ModelStatus.None);
    });

    it("reverts with ModelRegistryUnknownModel when the predecessor is not registered", async () => {
      const { registry, publisher, policy } = await networkHelpers.loadFixture(withModel);
      const c = content("v2");
      const ghost = idOf("ghost");
      await expect(registry.connect(publisher).registerVersion(ghost, c, policy))
        .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel")
        .withArgs(ghost);
      expect(await registry.statusOf(idOf("v2"))).to.equal(ModelStatus.None);
    });

    it("reverts with ModelRegistryAlreadyRegistered when the new version repeats existing content, leaving the chain unlinked", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, publisher, policy, modelId } = core;
      const other = content("other");
      await registry.connect(publisher).registerModel(other, policy);
      const before = await modelState(core, modelId);
      await expect(registry.connect(publisher).registerVersion(modelId, other, policy))
        .to.be.revertedWithCustomError(registry, "ModelRegistryAlreadyRegistered")
        .withArgs(idOf("other"));
      expect(await modelState(core, modelId)).to.deep.equal(before);
      expect((await registry.getModel(modelId)).successor).to.equal(ZERO_HASH);
    });

    it("reverts with ModelRegistryZeroHash, a graph error and an out-of-bounds policy on a version, leaving the chain unlinked", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, publisher, policy, modelId } = core;
      const c = content("v2");
      const before = await modelState(core, modelId);
      await expect(
        registry.connect(publisher).registerVersion(modelId, { ...c, weightsRoot: ZERO_HASH }, policy),
      ).to.be.revertedWithCustomError(registry, "ModelRegistryZeroHash");
      await expect(
        registry.connect(publisher).registerVersion(modelId, content("v2", [layer(16, 8), layer(7, 2)]), policy),
      )
        .to.be.revertedWithCustomError(registry, "DenseInt8GraphNotChained")
        .withArgs(2, 7, 8);
      await expect(registry.connect(publisher).registerVersion(modelId, c, { ...policy, challengerBond: 0n }))
        .to.be.revertedWithCustomError(registry, "ModelRegistryInvalidChallengerBond")
        .withArgs(0n);
      expect(await modelState(core, modelId)).to.deep.equal(before);
      expect(await registry.statusOf(idOf("v2"))).to.equal(ModelStatus.None);
    });

    it("accepts a version of a deprecated predecessor", async () => {
      const { registry, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      await registry.connect(publisher).deprecateModel(modelId, 3600);
      const c = content("v2");
      await registry.connect(publisher).registerVersion(modelId, c, policy);
      expect(await registry.latestVersion(modelId)).to.equal(idOf("v2"));
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Deprecated);
    });

    it("lets the publisher register a fixed successor of a revoked model, which starts Active", async () => {
      // IModelRegistry: a revoked model cannot be deprecated or revoked again, but may get a successor.
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, publisher, policy, modelId } = core;
      await registry.connect(publisher).revokeModel(modelId);
      const c = content("v2");
      await registry.connect(publisher).registerVersion(modelId, c, policy);
      expect(await registry.latestVersion(modelId)).to.equal(idOf("v2"));
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Revoked);
      expect(await registry.statusOf(idOf("v2"))).to.equal(ModelStatus.Active);
    });
  });

  describe("deprecateModel", () => {
    it("sets the status and acceptsUntil = block timestamp + grace, emits ModelDeprecated and syncs the ledger", async () => {
      const { registry, ledger, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      const grace = 7 * 24 * 3600;
      const at = (await networkHelpers.time.latest()) + 100;
      await networkHelpers.time.setNextBlockTimestamp(at);
      const tx = registry.connect(publisher).deprecateModel(modelId, grace);
      await expect(tx)
        .to.emit(registry, "ModelDeprecated")
        .withArgs(modelId, at + grace);
      await expect(tx)
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(modelId, termsTuple(policy, at + grace, ModelStatus.Deprecated));
      const m = await registry.getModel(modelId);
      expect(m.status).to.equal(ModelStatus.Deprecated);
      expect(m.acceptsUntil).to.equal(BigInt(at + grace));
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Deprecated);
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain(termsTuple(policy, at + grace, ModelStatus.Deprecated)),
      );
    });

    it("keeps accepting commitments until the grace time ends, then stops", async () => {
      const { registry, publisher, modelId } = await networkHelpers.loadFixture(withModel);
      const tx = await registry.connect(publisher).deprecateModel(modelId, 1000);
      const until = (await txTime(ethers, tx)) + 1000;
      await networkHelpers.time.increaseTo(until - 1);
      expect(await registry.acceptsCommitments(modelId)).to.equal(true);
      await networkHelpers.time.increaseTo(until);
      expect(await registry.acceptsCommitments(modelId)).to.equal(false);
    });

    it("accepts the longest grace time and a zero grace time", async () => {
      const { registry, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      const tx = await registry.connect(publisher).deprecateModel(modelId, Bounds.MAX_DEPRECATION_GRACE);
      expect((await registry.getModel(modelId)).acceptsUntil).to.equal(
        BigInt((await txTime(ethers, tx)) + Bounds.MAX_DEPRECATION_GRACE),
      );
      const c = content("now");
      await registry.connect(publisher).registerModel(c, policy);
      const tx0 = await registry.connect(publisher).deprecateModel(idOf("now"), 0);
      expect((await registry.getModel(idOf("now"))).acceptsUntil).to.equal(BigInt(await txTime(ethers, tx0)));
      expect(await registry.acceptsCommitments(idOf("now"))).to.equal(false);
    });

    it("reverts with ModelRegistryInvalidGracePeriod above the longest grace time and changes nothing", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const before = await modelState(core, core.modelId);
      await expect(core.registry.connect(core.publisher).deprecateModel(core.modelId, Bounds.MAX_DEPRECATION_GRACE + 1))
        .to.be.revertedWithCustomError(core.registry, "ModelRegistryInvalidGracePeriod")
        .withArgs(Bounds.MAX_DEPRECATION_GRACE + 1, Bounds.MAX_DEPRECATION_GRACE);
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("reverts with ModelRegistryNotPublisher for anyone but the publisher, governors included", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const before = await modelState(core, core.modelId);
      for (const who of [core.outsider, core.admin]) {
        await expect(core.registry.connect(who).deprecateModel(core.modelId, 10))
          .to.be.revertedWithCustomError(core.registry, "ModelRegistryNotPublisher")
          .withArgs(core.modelId, who.address);
      }
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("reverts with ModelRegistryAlreadyDeprecated when the grace time would be changed", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      await core.registry.connect(core.publisher).deprecateModel(core.modelId, 1000);
      const before = await modelState(core, core.modelId);
      await expect(core.registry.connect(core.publisher).deprecateModel(core.modelId, 5000))
        .to.be.revertedWithCustomError(core.registry, "ModelRegistryAlreadyDeprecated")
        .withArgs(core.modelId);
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("reverts with ModelRegistryModelRevoked on a revoked model", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      await core.registry.connect(core.publisher).revokeModel(core.modelId);
      const before = await modelState(core, core.modelId);
      await expect(core.registry.connect(core.publisher).deprecateModel(core.modelId, 10))
        .to.be.revertedWithCustomError(core.registry, "ModelRegistryModelRevoked")
        .withArgs(core.modelId);
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("reverts with ModelRegistryUnknownModel on an unknown model", async () => {
      const { registry, publisher } = await networkHelpers.loadFixture(withModel);
      const ghost = idOf("ghost");
      await expect(registry.connect(publisher).deprecateModel(ghost, 10))
        .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel")
        .withArgs(ghost);
    });
  });

  describe("revokeModel", () => {
    it("lets the publisher revoke: refused at once, emits ModelRevoked and syncs the ledger", async () => {
      const { registry, ledger, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      const at = (await networkHelpers.time.latest()) + 50;
      await networkHelpers.time.setNextBlockTimestamp(at);
      const tx = registry.connect(publisher).revokeModel(modelId);
      await expect(tx).to.emit(registry, "ModelRevoked").withArgs(modelId, publisher.address);
      await expect(tx)
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(modelId, termsTuple(policy, at, ModelStatus.Revoked));
      const m = await registry.getModel(modelId);
      expect(m.status).to.equal(ModelStatus.Revoked);
      expect(m.acceptsUntil).to.equal(BigInt(at));
      expect(await registry.acceptsCommitments(modelId)).to.equal(false);
    });

    it("lets a governor revoke any model", async () => {
      const { registry, admin, modelId } = await networkHelpers.loadFixture(withModel);
      expect(await registry.hasRole(await registry.GOVERNOR_ROLE(), admin.address)).to.equal(true);
      await expect(registry.connect(admin).revokeModel(modelId))
        .to.emit(registry, "ModelRevoked")
        .withArgs(modelId, admin.address);
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Revoked);
    });

    it("honours GOVERNOR_ROLE as granted and revoked by the admin", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, admin, outsider, governorRole, modelId } = core;
      expect(governorRole).to.equal(ethers.id("verity.role.governor"));
      await registry.connect(admin).grantRole(governorRole, outsider.address);
      await registry.connect(admin).revokeRole(governorRole, outsider.address);
      const before = await modelState(core, modelId);
      await expect(registry.connect(outsider).revokeModel(modelId))
        .to.be.revertedWithCustomError(registry, "ModelRegistryNotPublisher")
        .withArgs(modelId, outsider.address);
      expect(await modelState(core, modelId)).to.deep.equal(before);
      await registry.connect(admin).grantRole(governorRole, outsider.address);
      await expect(registry.connect(outsider).revokeModel(modelId))
        .to.emit(registry, "ModelRevoked")
        .withArgs(modelId, outsider.address);
    });

    it("reverts with AccessControlUnauthorizedAccount when a non-admin grants GOVERNOR_ROLE", async () => {
      const { registry, outsider, governorRole } = await networkHelpers.loadFixture(withModel);
      await expect(registry.connect(outsider).grantRole(governorRole, outsider.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZERO_HASH);
      expect(await registry.hasRole(governorRole, outsider.address)).to.equal(false);
    });

    it("revokes a deprecated model before its grace time ends", async () => {
      const { registry, publisher, modelId } = await networkHelpers.loadFixture(withModel);
      await registry.connect(publisher).deprecateModel(modelId, 10_000);
      const tx = await registry.connect(publisher).revokeModel(modelId);
      const m = await registry.getModel(modelId);
      expect(m.status).to.equal(ModelStatus.Revoked);
      expect(m.acceptsUntil).to.equal(BigInt(await txTime(ethers, tx)));
    });

    it("reverts with ModelRegistryNotPublisher for an outsider and changes nothing", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const before = await modelState(core, core.modelId);
      await expect(core.registry.connect(core.outsider).revokeModel(core.modelId))
        .to.be.revertedWithCustomError(core.registry, "ModelRegistryNotPublisher")
        .withArgs(core.modelId, core.outsider.address);
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("reverts with ModelRegistryModelRevoked when revoked twice", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      await core.registry.connect(core.publisher).revokeModel(core.modelId);
      const before = await modelState(core, core.modelId);
      for (const who of [core.publisher, core.admin]) {
        await expect(core.registry.connect(who).revokeModel(core.modelId))
          .to.be.revertedWithCustomError(core.registry, "ModelRegistryModelRevoked")
          .withArgs(core.modelId);
      }
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("reverts with ModelRegistryUnknownModel on an unknown model", async () => {
      const { registry, admin } = await networkHelpers.loadFixture(withModel);
      const ghost = idOf("ghost");
      await expect(registry.connect(admin).revokeModel(ghost))
        .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel")
        .withArgs(ghost);
    });
  });

  describe("views", () => {
    it("getModel, policyOf, layersOf, disputeTermsOf, gasBoundsOf and latestVersion revert with ModelRegistryUnknownModel for an unknown id", async () => {
      const { registry } = await networkHelpers.loadFixture(withModel);
      const ghost = idOf("ghost");
      const calls = [
        registry.getModel(ghost),
        registry.policyOf(ghost),
        registry.layersOf(ghost),
        registry.disputeTermsOf(ghost),
        registry.gasBoundsOf(ghost),
        registry.latestVersion(ghost),
      ];
      for (const call of calls) {
        await expect(call).to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel").withArgs(ghost);
      }
    });

    it("statusOf is None and acceptsCommitments is false for an unknown id", async () => {
      const { registry } = await networkHelpers.loadFixture(withModel);
      expect(await registry.statusOf(idOf("ghost"))).to.equal(ModelStatus.None);
      expect(await registry.acceptsCommitments(idOf("ghost"))).to.equal(false);
    });

    it("exposes the ledger it writes to and the admin's roles", async () => {
      const { registry, ledger, admin, governorRole } = await networkHelpers.loadFixture(deployed);
      expect(await registry.ledger()).to.equal(await ledger.getAddress());
      expect(await registry.hasRole(ZERO_HASH, admin.address)).to.equal(true);
      expect(await registry.hasRole(governorRole, admin.address)).to.equal(true);
    });
  });
});

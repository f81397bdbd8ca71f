import { expect } from "chai";
import { network } from "hardhat";
import { ENGINE_ID_V1 } from "../helpers/fixtures.js";
import {
  Bounds,
  deployCore,
  h,
  ids,
  ModelStatus,
  plain,
  txTime,
  UINT48_MAX,
  ZERO_HASH,
  type Core,
} from "./coreFixtures.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { modelId: modelIdOf } = ids(ethers);

/** Content of a model version named by `label`. */
function content(label: string) {
  return { weightsRoot: h(ethers, `${label}/weights`), graphHash: h(ethers, `${label}/graph`), engineId: ENGINE_ID_V1 };
}

function idOf(label: string) {
  const c = content(label);
  return modelIdOf(c.weightsRoot, c.graphHash, c.engineId);
}

function policyTuple(p: Core["policy"]) {
  return [p.challengeWindow, p.responseWindow, p.minStake, p.slashAmount, p.challengerBond];
}

describe("ModelRegistry", () => {
  async function deployed() {
    return deployCore(connection);
  }

  /** One model "v1" registered by the publisher. */
  async function withModel() {
    const core = await deployCore(connection);
    const c = content("v1");
    const tx = await core.registry
      .connect(core.publisher)
      .registerModel(c.weightsRoot, c.graphHash, c.engineId, "ipfs://v1", core.policy);
    const registeredAt = await txTime(ethers, tx);
    return { ...core, modelId: idOf("v1"), registeredAt };
  }

  /** Everything the registry and the ledger's cache know about `modelId`, to compare before/after. */
  async function modelState(core: Core, modelId: string) {
    const status = await core.registry.statusOf(modelId);
    const model = status === ModelStatus.None ? null : plain(await core.registry.getModel(modelId));
    return { status, model, terms: plain(await core.ledger.commitTermsOf(modelId)) };
  }

  describe("registerModel", () => {
    it("stores the first version with its content, policy and publisher", async () => {
      const { registry, publisher, policy, modelId, registeredAt } = await networkHelpers.loadFixture(withModel);
      const c = content("v1");
      const m = await registry.getModel(modelId);
      expect(m.publisher).to.equal(publisher.address);
      expect(m.registeredAt).to.equal(registeredAt);
      expect(m.acceptsUntil).to.equal(UINT48_MAX);
      expect(m.status).to.equal(ModelStatus.Active);
      expect(m.version).to.equal(1n);
      expect(m.weightsRoot).to.equal(c.weightsRoot);
      expect(m.graphHash).to.equal(c.graphHash);
      expect(m.engineId).to.equal(c.engineId);
      expect(m.predecessor).to.equal(ZERO_HASH);
      expect(m.successor).to.equal(ZERO_HASH);
      expect(plain(m.policy)).to.deep.equal(plain(policyTuple(policy)));
      expect(m.metadataURI).to.equal("ipfs://v1");
      expect(plain(await registry.policyOf(modelId))).to.deep.equal(plain(policyTuple(policy)));
      expect(plain(await registry.disputeTermsOf(modelId))).to.deep.equal(
        plain([[policy.responseWindow, policy.challengerBond, policy.slashAmount], c.engineId]),
      );
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Active);
      expect(await registry.acceptsCommitments(modelId)).to.equal(true);
      expect(await registry.latestVersion(modelId)).to.equal(modelId);
    });

    it("returns the content-addressed id keccak256(abi.encode(weightsRoot, graphHash, engineId))", async () => {
      const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
      const c = content("fresh");
      const expected = modelIdOf(c.weightsRoot, c.graphHash, c.engineId);
      const returned = await registry
        .connect(publisher)
        .registerModel.staticCall(c.weightsRoot, c.graphHash, c.engineId, "uri", policy);
      expect(returned).to.equal(expected);
      expect(await registry.computeModelId(c.weightsRoot, c.graphHash, c.engineId)).to.equal(expected);
    });

    it("emits ModelRegistered with every field of the version", async () => {
      const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
      const c = content("fresh");
      await expect(
        registry.connect(publisher).registerModel(c.weightsRoot, c.graphHash, c.engineId, "ipfs://fresh", policy),
      )
        .to.emit(registry, "ModelRegistered")
        .withArgs(
          idOf("fresh"),
          publisher.address,
          ZERO_HASH,
          1n,
          c.weightsRoot,
          c.graphHash,
          c.engineId,
          policyTuple(policy),
          "ipfs://fresh",
        );
    });

    it("writes the model's commit terms into the ledger's admission cache", async () => {
      const { registry, ledger, publisher, policy } = await networkHelpers.loadFixture(deployed);
      const c = content("fresh");
      const tx = registry.connect(publisher).registerModel(c.weightsRoot, c.graphHash, c.engineId, "u", policy);
      await expect(tx)
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(idOf("fresh"), [policy.minStake, policy.challengeWindow, UINT48_MAX, ModelStatus.Active]);
      expect(plain(await ledger.commitTermsOf(idOf("fresh")))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, UINT48_MAX, ModelStatus.Active]),
      );
    });

    for (const field of ["weightsRoot", "graphHash", "engineId"] as const) {
      it(`reverts with ModelRegistryZeroHash when ${field} is zero and registers nothing`, async () => {
        const core = await networkHelpers.loadFixture(deployed);
        const c = { ...content("zero"), [field]: ZERO_HASH };
        const id = modelIdOf(c.weightsRoot, c.graphHash, c.engineId);
        const before = await modelState(core, id);
        await expect(
          core.registry.connect(core.publisher).registerModel(c.weightsRoot, c.graphHash, c.engineId, "u", core.policy),
        ).to.be.revertedWithCustomError(core.registry, "ModelRegistryZeroHash");
        expect(await modelState(core, id)).to.deep.equal(before);
        expect(before.status).to.equal(ModelStatus.None);
      });
    }

    it("reverts with ModelRegistryAlreadyRegistered when the same content is registered twice", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const c = content("v1");
      const before = await modelState(core, core.modelId);
      for (const who of [core.publisher, core.outsider]) {
        await expect(
          core.registry.connect(who).registerModel(c.weightsRoot, c.graphHash, c.engineId, "other", core.policy),
        )
          .to.be.revertedWithCustomError(core.registry, "ModelRegistryAlreadyRegistered")
          .withArgs(core.modelId);
      }
      expect(await modelState(core, core.modelId)).to.deep.equal(before);
    });

    it("treats a different engine id as different content", async () => {
      const { registry, publisher, policy } = await networkHelpers.loadFixture(withModel);
      const c = content("v1");
      const otherEngine = h(ethers, "engine/v2");
      await registry.connect(publisher).registerModel(c.weightsRoot, c.graphHash, otherEngine, "u", policy);
      expect(await registry.statusOf(modelIdOf(c.weightsRoot, c.graphHash, otherEngine))).to.equal(ModelStatus.Active);
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
      ];
      for (const c of cases) {
        it(`reverts with ${c.error} for ${c.name} and registers nothing`, async () => {
          const core = await networkHelpers.loadFixture(deployed);
          const policy = { ...core.policy, ...c.patch(core.policy) };
          const m = content("bounds");
          const before = await modelState(core, idOf("bounds"));
          await expect(
            core.registry.connect(core.publisher).registerModel(m.weightsRoot, m.graphHash, m.engineId, "u", policy),
          )
            .to.be.revertedWithCustomError(core.registry, c.error)
            .withArgs(...c.args(core.policy));
          expect(await modelState(core, idOf("bounds"))).to.deep.equal(before);
        });
      }

      it("accepts every bound itself and a slash amount equal to the minimum stake", async () => {
        const { registry, publisher, policy } = await networkHelpers.loadFixture(deployed);
        const edges = [
          { challengeWindow: Bounds.MIN_CHALLENGE_WINDOW, responseWindow: Bounds.MIN_RESPONSE_WINDOW },
          { challengeWindow: Bounds.MAX_CHALLENGE_WINDOW, responseWindow: Bounds.MAX_RESPONSE_WINDOW },
        ];
        for (const [i, edge] of edges.entries()) {
          const m = content(`edge${i}`);
          const p = { ...policy, ...edge, minStake: 1n, slashAmount: 1n, challengerBond: 1n };
          await registry.connect(publisher).registerModel(m.weightsRoot, m.graphHash, m.engineId, "u", p);
          expect(plain(await registry.policyOf(idOf(`edge${i}`)))).to.deep.equal(plain(policyTuple(p)));
        }
      });
    });
  });

  describe("registerVersion", () => {
    it("registers version 2 naming its predecessor and links the predecessor to it", async () => {
      const { registry, ledger, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      const c = content("v2");
      const v2 = idOf("v2");
      const newPolicy = { ...policy, challengeWindow: 2 * 3600 };
      expect(
        await registry
          .connect(publisher)
          .registerVersion.staticCall(modelId, c.weightsRoot, c.graphHash, c.engineId, "ipfs://v2", newPolicy),
      ).to.equal(v2);
      const tx = registry
        .connect(publisher)
        .registerVersion(modelId, c.weightsRoot, c.graphHash, c.engineId, "ipfs://v2", newPolicy);
      await expect(tx)
        .to.emit(registry, "ModelRegistered")
        .withArgs(
          v2,
          publisher.address,
          modelId,
          2n,
          c.weightsRoot,
          c.graphHash,
          c.engineId,
          policyTuple(newPolicy),
          "ipfs://v2",
        );
      await expect(tx)
        .to.emit(ledger, "CommitTermsSynced")
        .withArgs(v2, [policy.minStake, 2 * 3600, UINT48_MAX, ModelStatus.Active]);
      const m2 = await registry.getModel(v2);
      expect(m2.version).to.equal(2n);
      expect(m2.predecessor).to.equal(modelId);
      expect(m2.successor).to.equal(ZERO_HASH);
      expect(m2.publisher).to.equal(publisher.address);
      const m1 = await registry.getModel(modelId);
      expect(m1.successor).to.equal(v2);
      // The predecessor keeps its own status and policy.
      expect(m1.status).to.equal(ModelStatus.Active);
      expect(m1.policy.challengeWindow).to.equal(BigInt(policy.challengeWindow));
    });

    it("numbers a chain of versions 1, 2, 3 and latestVersion walks to the newest from any of them", async () => {
      const { registry, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      const chain = [modelId];
      for (const label of ["v2", "v3"]) {
        const c = content(label);
        await registry
          .connect(publisher)
          .registerVersion(chain[chain.length - 1], c.weightsRoot, c.graphHash, c.engineId, label, policy);
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
      await registry.connect(publisher).registerVersion(modelId, c2.weightsRoot, c2.graphHash, c2.engineId, "", policy);
      const fork = content("fork");
      const before = await modelState(core, modelId);
      await expect(
        registry
          .connect(publisher)
          .registerVersion(modelId, fork.weightsRoot, fork.graphHash, fork.engineId, "", policy),
      )
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
        await expect(
          core.registry
            .connect(who)
            .registerVersion(core.modelId, c.weightsRoot, c.graphHash, c.engineId, "", core.policy),
        )
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
      await expect(
        registry.connect(publisher).registerVersion(ghost, c.weightsRoot, c.graphHash, c.engineId, "", policy),
      )
        .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel")
        .withArgs(ghost);
      expect(await registry.statusOf(idOf("v2"))).to.equal(ModelStatus.None);
    });

    it("reverts with ModelRegistryAlreadyRegistered when the new version repeats existing content, leaving the chain unlinked", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, publisher, policy, modelId } = core;
      const other = content("other");
      await registry.connect(publisher).registerModel(other.weightsRoot, other.graphHash, other.engineId, "", policy);
      const before = await modelState(core, modelId);
      await expect(
        registry
          .connect(publisher)
          .registerVersion(modelId, other.weightsRoot, other.graphHash, other.engineId, "", policy),
      )
        .to.be.revertedWithCustomError(registry, "ModelRegistryAlreadyRegistered")
        .withArgs(idOf("other"));
      expect(await modelState(core, modelId)).to.deep.equal(before);
      expect((await registry.getModel(modelId)).successor).to.equal(ZERO_HASH);
    });

    it("reverts with ModelRegistryZeroHash and an out-of-bounds policy on a version, leaving the chain unlinked", async () => {
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, publisher, policy, modelId } = core;
      const c = content("v2");
      const before = await modelState(core, modelId);
      await expect(
        registry.connect(publisher).registerVersion(modelId, ZERO_HASH, c.graphHash, c.engineId, "", policy),
      ).to.be.revertedWithCustomError(registry, "ModelRegistryZeroHash");
      await expect(
        registry
          .connect(publisher)
          .registerVersion(modelId, c.weightsRoot, c.graphHash, c.engineId, "", { ...policy, challengerBond: 0n }),
      )
        .to.be.revertedWithCustomError(registry, "ModelRegistryInvalidChallengerBond")
        .withArgs(0n);
      expect(await modelState(core, modelId)).to.deep.equal(before);
    });

    it("accepts a version of a deprecated predecessor", async () => {
      const { registry, publisher, policy, modelId } = await networkHelpers.loadFixture(withModel);
      await registry.connect(publisher).deprecateModel(modelId, 3600);
      const c = content("v2");
      await registry.connect(publisher).registerVersion(modelId, c.weightsRoot, c.graphHash, c.engineId, "", policy);
      expect(await registry.latestVersion(modelId)).to.equal(idOf("v2"));
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Deprecated);
    });

    it("lets the publisher register a fixed successor of a revoked model, which starts Active", async () => {
      // IModelRegistry: a revoked model cannot be deprecated or revoked again, but may get a successor.
      const core = await networkHelpers.loadFixture(withModel);
      const { registry, publisher, policy, modelId } = core;
      await registry.connect(publisher).revokeModel(modelId);
      const c = content("v2");
      await registry.connect(publisher).registerVersion(modelId, c.weightsRoot, c.graphHash, c.engineId, "", policy);
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
        .withArgs(modelId, [policy.minStake, policy.challengeWindow, at + grace, ModelStatus.Deprecated]);
      const m = await registry.getModel(modelId);
      expect(m.status).to.equal(ModelStatus.Deprecated);
      expect(m.acceptsUntil).to.equal(BigInt(at + grace));
      expect(await registry.statusOf(modelId)).to.equal(ModelStatus.Deprecated);
      expect(plain(await ledger.commitTermsOf(modelId))).to.deep.equal(
        plain([policy.minStake, policy.challengeWindow, at + grace, ModelStatus.Deprecated]),
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
      await registry.connect(publisher).registerModel(c.weightsRoot, c.graphHash, c.engineId, "", policy);
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
        .withArgs(modelId, [policy.minStake, policy.challengeWindow, at, ModelStatus.Revoked]);
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
    it("getModel, policyOf, disputeTermsOf and latestVersion revert with ModelRegistryUnknownModel for an unknown id", async () => {
      const { registry } = await networkHelpers.loadFixture(withModel);
      const ghost = idOf("ghost");
      const calls = [
        registry.getModel(ghost),
        registry.policyOf(ghost),
        registry.disputeTermsOf(ghost),
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

import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import { run, vectorToHex } from "../../src/engine/index.js";
import { buildOnchainProof, buildStoredProof, leafOrder } from "../../src/sdk/proofs/onchain.js";
import {
  deployOnchainVerifier,
  deployProofCore,
  deployStoredVerifier,
  randomInput,
  randomModel,
  registerProofModel,
} from "./proofFixture.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const coder = ethers.AbiCoder.defaultAbiCoder();

/** The commitment a verifier checks for `prover`'s input. */
const commitmentOf = (input: Int8Array, prover: string) =>
  ethers.keccak256(coder.encode(["bytes32", "address"], [ethers.keccak256(vectorToHex(input)), prover]));

describe("On-chain evaluation verifiers", () => {
  const fixture = () => deployProofCore(connection);

  it("differential: OnchainEvalVerifier computes exactly src/engine's output on random small models and inputs", async () => {
    const core = await networkHelpers.loadFixture(fixture);
    const prover = core.provider.address;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.boolean(),
        async (dims, seed, extremes) => {
          const model = randomModel(dims, seed, extremes);
          const modelId = await registerProofModel(ethers, core, model, true, `ipfs://diff/${n++}`);
          const verifier = await deployOnchainVerifier(ethers, core, modelId);
          const input = randomInput(dims[0], seed);
          const p = buildOnchainProof(model, input, prover);
          const commitment = commitmentOf(input, prover);
          // The engine's output verifies...
          await verifier.verifyInference.staticCall(modelId, commitment, p.output, p.proof);
          // ...and any other output is refused with the hash of the output the contract computed: the engine's.
          const other = vectorToHex(
            Int8Array.from(p.result.output, (v, i) => (i === 0 ? (v === 127 ? 126 : v + 1) : v)),
          );
          await expect(verifier.verifyInference.staticCall(modelId, commitment, other, p.proof))
            .to.be.revertedWithCustomError(verifier, "OnchainEvalWrongOutput")
            .withArgs(ethers.keccak256(other), run(model, input).outputHash);
        },
      ),
      { numRuns: 12, seed: 42 },
    );
  });

  it("StoredWeightsVerifier reads the weights from data contracts (several chunks) and computes the engine's output", async () => {
    const core = await networkHelpers.loadFixture(fixture);
    // 100-300-8: 31,500 bytes of blob, two data contracts, a row straddling the boundary.
    const model = randomModel([100, 300, 8], 5);
    const modelId = await registerProofModel(ethers, core, model);
    const { verifier, chunks } = await deployStoredVerifier(ethers, core, modelId, model);
    expect(chunks).to.have.length(2);
    expect(await verifier.chunksHash()).to.equal(ethers.keccak256(coder.encode(["address[]"], [chunks])));
    await core.registry.connect(core.admin).approveVerifier(modelId, await verifier.getAddress());
    for (const seed of [1, 2, 3]) {
      const input = randomInput(100, seed);
      const p = buildStoredProof(model, input, core.provider.address, chunks);
      const inference = {
        inputHash: p.result.inputHash,
        outputHash: p.result.outputHash,
        traceRoot: p.result.traceRoot,
      };
      await expect(core.ledger.connect(core.provider).commitVerified(modelId, inference, p.output, p.proof)).to.emit(
        verifier,
        "InferenceVerified",
      );
    }
    // Another chunk list (a wrong order of the same contracts) is refused by name.
    const input = randomInput(100, 9);
    const swapped = [chunks[1], chunks[0]];
    const p = buildStoredProof(model, input, core.provider.address, swapped);
    const inference = { inputHash: p.result.inputHash, outputHash: p.result.outputHash, traceRoot: p.result.traceRoot };
    await expect(core.ledger.connect(core.provider).commitVerified(modelId, inference, p.output, p.proof))
      .to.be.revertedWithCustomError(verifier, "StoredWeightsChunksMismatch")
      .withArgs(ethers.keccak256(coder.encode(["address[]"], [swapped])), await verifier.chunksHash());
  });

  it("StoredWeightsVerifier refuses at deployment: data contracts of other weights, a wrong leaf order, a short blob", async () => {
    const core = await networkHelpers.loadFixture(fixture);
    const model = randomModel([16, 8, 4], 11);
    const modelId = await registerProofModel(ethers, core, model);
    const other = randomModel([16, 8, 4], 12);
    const { chunks: otherChunks } = await deployStoredVerifier(
      ethers,
      core,
      await registerProofModel(ethers, core, other, true, "ipfs://other"),
      other,
    );
    const factory = await ethers.getContractFactory("StoredWeightsVerifier");
    const registry = await core.registry.getAddress();
    await expect(factory.deploy(registry, modelId, otherChunks, leafOrder(other))).to.be.revertedWithCustomError(
      factory,
      "OnchainEvalWeightsMismatch",
    );
    const { chunks } = await deployStoredVerifier(ethers, core, modelId, model);
    const order = leafOrder(model);
    [order[0], order[1], order[2], order[3]] = [order[2], order[3], order[0], order[1]];
    await expect(factory.deploy(registry, modelId, chunks, order))
      .to.be.revertedWithCustomError(factory, "OnchainEvalLeafOrder")
      .withArgs(1);
    await expect(factory.deploy(registry, modelId, [], leafOrder(model)))
      .to.be.revertedWithCustomError(factory, "StoredWeightsLength")
      .withArgs(0, 16 * 8 + 8 * 4 + 4 * (8 + 4));
  });

  it("verifiers refuse models of other engines at deployment: OnchainEvalNotDense", async () => {
    const core = await networkHelpers.loadFixture(fixture);
    const engineId = ethers.id("engine/opaque");
    const spec = { engineId, weightsRoot: ethers.id("w"), layers: [], graphHash: ethers.id("g"), metadataURI: "x" };
    await core.registry.connect(core.publisher).registerModel(spec, {
      challengeWindow: 3600,
      responseWindow: 3600,
      minStake: ethers.parseEther("100"),
      slashAmount: ethers.parseEther("50"),
      challengerBond: ethers.parseEther("10"),
      teeMode: 0,
      teeWindow: 0,
      proofAccepted: true,
    });
    const contentHash = await core.registry.computeContentHash(spec.weightsRoot, spec.graphHash, engineId);
    const modelId = await core.registry.computeModelId(core.publisher.address, contentHash);
    const factory = await ethers.getContractFactory("OnchainEvalVerifier");
    await expect(factory.deploy(await core.registry.getAddress(), modelId))
      .to.be.revertedWithCustomError(factory, "OnchainEvalNotDense")
      .withArgs(modelId, engineId);
  });
});

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { modelCommitments, modelIdOf, vectorToHex } from "../../src/engine/index.js";
import { mnistModel, mnistSpec, pseudoDigit, infer } from "../../test/helpers/disputeFixture.js";
import { defaultPolicy, deployVerity, ENGINE_ID_V1, randomHash } from "../../test/helpers/fixtures.js";
import { gasOf, type BenchRunner } from "./types.js";

/**
 * Gas of every external write of the registry, stake manager and ledger (tx gasUsed). Commitments are of
 * the shipped MNIST model (dense-int8-v1: opaque engines cannot be committed to optimistically).
 */
export const benchCore: BenchRunner = async (connection) => {
  const { ethers, networkHelpers } = connection;
  const { registry, stakeManager, ledger, signers } = await deployVerity(connection);
  const [, publisher, provider] = signers;
  const gas: Record<string, number> = {};
  const policy = defaultPolicy(ethers);

  const model = await mnistModel();
  const commitments = modelCommitments(model);
  gas.registerModel = await gasOf(await registry.connect(publisher).registerModel(mnistSpec(commitments), policy));
  const modelId = modelIdOf(publisher.address, commitments.contentHash);
  gas.registerVersion = await gasOf(
    await registry
      .connect(publisher)
      .registerVersion(
        modelId,
        { ...mnistSpec(commitments, "ipfs://model-v2"), weightsRoot: randomHash(ethers) },
        policy,
      ),
  );
  gas.registerModel_opaque = await gasOf(
    await registry.connect(publisher).registerModel(
      {
        engineId: ENGINE_ID_V1,
        weightsRoot: randomHash(ethers),
        layers: [],
        graphHash: randomHash(ethers),
        metadataURI: "ipfs://opaque",
      },
      policy,
    ),
  );

  gas.stakeDeposit = await gasOf(await stakeManager.connect(provider).deposit(ethers.parseEther("1000")));
  gas.stakeDepositTopUp = await gasOf(await stakeManager.connect(provider).deposit(ethers.parseEther("1")));

  // commit with a 32-byte input reference; the second and later commits are the steady state, report the max.
  let commitGas = 0;
  for (let i = 0; i < 3; i++) {
    const tx = await ledger
      .connect(provider)
      .commit(modelId, randomHash(ethers), randomHash(ethers), randomHash(ethers), randomHash(ethers));
    commitGas = Math.max(commitGas, await gasOf(tx));
  }
  gas.commit = commitGas;
  // The longest URI the ledger takes, and the 784-byte input itself (the record is then INPUT_PUBLIC).
  gas.commit_uri256 = await gasOf(
    await ledger
      .connect(provider)
      .commit(modelId, randomHash(ethers), randomHash(ethers), randomHash(ethers), ethers.randomBytes(256)),
  );
  const input = pseudoDigit(1);
  const run = infer(model, input);
  gas.commit_publicInput_784 = await gasOf(
    await ledger.connect(provider).commit(modelId, run.inputHash, run.outputHash, run.traceRoot, vectorToHex(input)),
  );

  for (const size of [1, 1024]) {
    const leaves = Array.from({ length: size }, () => [randomHash(ethers), randomHash(ethers), randomHash(ethers)]);
    const tree = StandardMerkleTree.of(leaves, ["bytes32", "bytes32", "bytes32"]);
    gas[`commitBatch_${size}`] = await gasOf(
      await ledger.connect(provider).commitBatch(modelId, tree.root, size, `ipfs://batch-${size}`),
    );
  }

  gas.stakeRequestUnbond = await gasOf(await stakeManager.connect(provider).requestUnbond(ethers.parseEther("10")));
  await networkHelpers.time.increase(Number(await stakeManager.unbondingDelay()));
  gas.stakeWithdraw = await gasOf(await stakeManager.connect(provider).withdraw());

  gas.deprecateModel = await gasOf(await registry.connect(publisher).deprecateModel(modelId, 3600));
  gas.revokeModel = await gasOf(await registry.connect(publisher).revokeModel(modelId));
  return { gas };
};

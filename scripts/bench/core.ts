import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { defaultPolicy, deployVerity, ENGINE_ID_V1, randomHash } from "../../test/helpers/fixtures.js";
import { gasOf, type BenchRunner } from "./types.js";

/** Gas of every external write of the registry, stake manager and ledger (tx gasUsed). */
export const benchCore: BenchRunner = async (connection) => {
  const { ethers, networkHelpers } = connection;
  const { registry, stakeManager, ledger, signers } = await deployVerity(connection);
  const [, publisher, provider] = signers;
  const gas: Record<string, number> = {};
  const policy = defaultPolicy(ethers);

  const weightsRoot = randomHash(ethers);
  const graphHash = randomHash(ethers);
  gas.registerModel = await gasOf(
    await registry.connect(publisher).registerModel(weightsRoot, graphHash, ENGINE_ID_V1, "ipfs://model", policy),
  );
  const modelId = await registry.computeModelId(weightsRoot, graphHash, ENGINE_ID_V1);
  gas.registerVersion = await gasOf(
    await registry
      .connect(publisher)
      .registerVersion(modelId, randomHash(ethers), graphHash, ENGINE_ID_V1, "ipfs://model-v2", policy),
  );

  gas.stakeDeposit = await gasOf(await stakeManager.connect(provider).deposit(ethers.parseEther("1000")));
  gas.stakeDepositTopUp = await gasOf(await stakeManager.connect(provider).deposit(ethers.parseEther("1")));

  // commit with a 32-byte input; the second and later commits are the steady state, report the max.
  let commitGas = 0;
  for (let i = 0; i < 3; i++) {
    const tx = await ledger
      .connect(provider)
      .commit(modelId, randomHash(ethers), randomHash(ethers), randomHash(ethers), randomHash(ethers));
    commitGas = Math.max(commitGas, await gasOf(tx));
  }
  gas.commit = commitGas;
  gas.commit_1kInput = await gasOf(
    await ledger
      .connect(provider)
      .commit(modelId, randomHash(ethers), randomHash(ethers), randomHash(ethers), ethers.randomBytes(1024)),
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

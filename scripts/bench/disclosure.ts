import {
  commitMnistBatch,
  demand,
  deployDisclosure,
  discloseInChunks,
  finish,
  IN_DIM,
} from "../../test/disputes/disclosureHelpers.js";
import { gasOf, type BenchRunner } from "./types.js";

/**
 * Gas of a batch disclosure on the shipped MNIST model (784-byte inputs): the full 1,024-leaf batch
 * disclosed in the largest chunks that fit the honest-move cap (`GasBounds.leavesPerChunk(784)`), then
 * finished. `discloseBatch_1024` sums every chunk and the finish (what the demander's bond pays for),
 * `discloseBatchChunkMax` is the largest single transaction among them; `timeoutDisclosure` ends an
 * unserved demand (the batch overturned, the provider slashed). `discloseBatch_1024Bound` is the bound the
 * demander's bond is priced on (`GasBounds.disclosure(1024, 784)`), not a transaction.
 */
export const benchDisclosure: BenchRunner = async (connection) => {
  const f = await deployDisclosure(connection);
  const { batchDisclosure, harness, registry, watcher, policy } = f;
  const gas: Record<string, number> = {};
  const derived: Record<string, number> = {};

  const count = Number((await registry.getModel(f.modelId)).maxBatchLeaves);
  if (count !== 1024) throw new Error(`the MNIST model takes batches of ${count} leaves, not 1,024`);
  const perChunk = Number(await harness.leavesPerChunk(IN_DIM));
  const batch = await commitMnistBatch(
    f,
    Array.from({ length: count }, (_, i) => 1 + i),
  );
  gas.demandDisclosure = await gasOf(await demand(f, batch));
  const chunks = await discloseInChunks(f, batch, batch.sorted, [perChunk]);
  const moves = [...chunks.map((r) => Number(r.gasUsed)), await gasOf(await finish(f, batch, batch.sorted))];
  gas.discloseBatch_1024 = moves.reduce((a, b) => a + b, 0);
  gas.discloseBatchChunkMax = Math.max(...moves);
  derived.discloseBatch_1024_chunks = chunks.length;
  derived.discloseBatch_1024_gasPerLeaf = gas.discloseBatch_1024 / count;
  // GasBounds.disclosure(1024, 784): what the bond pays for at the reference gas price.
  gas.discloseBatch_1024Bound = Number(await harness.disclosure(count, IN_DIM));

  // A demand the provider leaves unanswered.
  const silent = await commitMnistBatch(f, [5001, 5002, 5003, 5004]);
  await demand(f, silent);
  await connection.networkHelpers.time.increase(policy.responseWindow + 1);
  gas.timeoutDisclosure = await gasOf(await batchDisclosure.connect(watcher).timeoutDisclosure(silent.header));
  return { gas, derived };
};

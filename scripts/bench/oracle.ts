import { ZeroAddress } from "ethers";
import { vectorToHex } from "../../src/engine/index.js";
import { infer } from "../../test/helpers/disputeFixture.js";
import { TeeMode } from "../../test/helpers/teeFixture.js";
import { ACCEPT, deployTeeOracle, makeRequest, type Made } from "../../test/oracle/helpers.js";
import { inferenceOf } from "../../test/disputes/helpers.js";
import { gasOf, type BenchRunner } from "./types.js";

/**
 * Gas of the oracle's operations on the shipped MNIST model (784-byte input, 10-byte output):
 * `request` (fee transfer, one state slot, the input in the event), `fulfill` and `fulfillTee` (a ledger
 * commitment bound to the request), `settle` with a callback that burns exactly 50,000 gas (the
 * provider's credit slot already exists) and `settle_firstCredit` (it does not), `reopen`, and
 * `refundExpired` (no consumer). Steady state: every figure is the second of its kind on the chain.
 */
export const benchOracle: BenchRunner = async (connection) => {
  const { ethers, networkHelpers } = connection;
  const f = await deployTeeOracle(connection, TeeMode.Window);
  const gas: Record<string, number> = {};
  const burner = await (await ethers.deployContract("GasBurnerConsumer")).getAddress();

  const request = (seed: number, opts: { consumer?: string; accepts?: number } = {}) =>
    makeRequest(connection, f, {
      seed,
      consumer: opts.consumer ?? burner,
      callbackGasLimit: 50_000,
      accepts: opts.accepts,
    });
  const fulfill = async (made: Made, provider = f.provider, fault?: { layer: number; neuron: number }) => {
    const claimed = infer(f.model, made.input, fault);
    const inference = inferenceOf(claimed);
    const output = vectorToHex(claimed.output);
    const tx = await f.oracle.connect(provider).fulfill(made.request, inference, output);
    return { tx, output, fulfillment: { provider: provider.address, inference, binding: made.requestId } };
  };

  // The first request writes the oracle's totals slot from zero and caches the model's terms.
  gas.request_firstForModel = await gasOf((await request(100)).tx);
  const made = await request(1);
  gas.request = await gasOf(made.tx);
  const firstMade = await request(2);
  const first = await fulfill(firstMade, f.provider2);
  const a = await fulfill(made);
  gas.fulfill = await gasOf(a.tx);

  const teeMade = await request(3, { accepts: ACCEPT.TEE });
  const claimed = infer(f.model, teeMade.input);
  const inference = inferenceOf(claimed);
  const seal = await f.seal(f.enclave, inference);
  gas.fulfillTee = await gasOf(
    await f.oracle.connect(f.provider).fulfillTee(teeMade.request, inference, vectorToHex(claimed.output), seal),
  );

  await networkHelpers.time.increase(Number(f.policy.challengeWindow) + 1);
  // provider2's credit slot is new: settle_firstCredit. Then provider's first settle makes its slot, and
  // its second settle (a fresh request) is the steady-state figure.
  gas.settle_firstCredit = await gasOf(await f.oracle.settle(firstMade.request, first.fulfillment, first.output));
  await f.oracle.settle(made.request, a.fulfillment, a.output);
  const again = await request(4);
  const b = await fulfill(again);
  await networkHelpers.time.increase(Number(f.policy.challengeWindow) + 1);
  gas.settle = await gasOf(await f.oracle.settle(again.request, b.fulfillment, b.output));
  gas.settle_overhead = gas.settle - 50_000;

  // Expired: no answer, no consumer; the requester's credit slot is new for the first, existing for the second.
  const e1 = await makeRequest(connection, f, { seed: 5, consumer: ZeroAddress });
  const e2 = await makeRequest(connection, f, { seed: 6, consumer: ZeroAddress });
  await networkHelpers.time.increaseTo(e2.request.deadline + 1n);
  await f.oracle.refundExpired(e1.request);
  gas.refundExpired = await gasOf(await f.oracle.refundExpired(e2.request));
  return { gas };
};

/**
 * `npm run example:oracle`: a dApp asks the shipped MNIST classifier a question through the oracle and acts
 * only on its final answer. On the embedded chain (it moves the clock past the challenge window): deploys Verity, registers the model, stakes a provider,
 * deploys the `DigitBounty` consumer (a bounty for an image the classifier reads as a 7), and then:
 * a claimant submits examples/mnist-7.json, the provider answers the oracle request with a commitment, the
 * challenge window passes, anyone settles, the bounty's callback judges the final answer, and the claimant
 * and the provider withdraw. Every contract call goes through the TypeChain bindings and the SDK.
 */
import path from "node:path";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import VerityLocal from "../../ignition/modules/VerityLocal.js";
import { describeError } from "../../src/cli/errors.js";
import { readInputFile } from "../../src/cli/inputs.js";
import { argmax, readModelFile, run, vectorFromHex, vectorToHex } from "../../src/engine/index.js";
import { Accept, Verity, type VerityAddresses } from "../../src/sdk/index.js";
import { DigitBounty__factory, MockERC20__factory } from "../../typechain-types/index.js";

const DIGIT = 7;
const say = (line: string) => console.log(line);
const tokens = (v: bigint) => `${Number(v / 10n ** 14n) / 10_000} VST`;

/** Runs the example on `connection`; returns the digit the final answer named and the bounty paid. */
export async function oracleExample(connection: NetworkConnection, log: (line: string) => void = say) {
  const { ethers, ignition, networkHelpers } = connection;
  const [, publisher, provider, sponsor, claimant] = await ethers.getSigners();
  const deployed = await ignition.deploy(VerityLocal);
  const addresses: VerityAddresses = {
    token: await deployed.token.getAddress(),
    registry: await deployed.registry.getAddress(),
    stakeManager: await deployed.stakeManager.getAddress(),
    ledger: await deployed.ledger.getAddress(),
    disputeGame: await deployed.disputeGame.getAddress(),
    batchDisclosure: await deployed.batchDisclosure.getAddress(),
    environments: await deployed.environmentRegistry.getAddress(),
    attestationService: await deployed.attestationService.getAddress(),
    oracle: await deployed.oracle.getAddress(),
  };
  const token = MockERC20__factory.connect(addresses.token, sponsor);
  for (const s of [provider, sponsor, claimant]) await (await token.mint(s.address, ethers.parseEther("1000"))).wait();

  // The publisher registers the model; a provider stakes for it.
  const model = await readModelFile(path.resolve("models/mnist-784-128-64-10.json"));
  const asPublisher = await Verity.connect({ runner: publisher, addresses });
  const modelId = await (
    await asPublisher.registry.registerModel(model, { metadataURI: "models/mnist-784-128-64-10.json" })
  ).wait();
  const policy = await asPublisher.registry.contract.policyOf(modelId);
  const asProvider = asPublisher.connect(provider);
  await (await asProvider.staking.deposit(policy.minStake)).wait();
  log(`registered MNIST as ${modelId}; provider ${provider.address} staked ${tokens(policy.minStake)}`);

  // The sponsor deploys the consumer and funds a 100-token bounty for a 7 (final by the window, or TEE-signed).
  const bounty = await new DigitBounty__factory(sponsor).deploy(
    addresses.oracle!,
    modelId,
    DIGIT,
    Accept.Window | Accept.Tee,
  );
  await bounty.waitForDeployment();
  await (await token.transfer(await bounty.getAddress(), ethers.parseEther("100"))).wait();
  log(`DigitBounty at ${await bounty.getAddress()}: 100 VST for an image the model reads as a ${DIGIT}`);

  // The claimant submits an image and pays the oracle fee; the bounty makes the request.
  const image = readInputFile(path.resolve("examples/mnist-7.json"), model);
  const fee = ethers.parseEther("1");
  await (await MockERC20__factory.connect(addresses.token, claimant).approve(await bounty.getAddress(), fee)).wait();
  const now = BigInt(await networkHelpers.time.latest());
  const settling = BigInt(policy.challengeWindow) + 6n * BigInt(policy.responseWindow);
  const claimTx = await bounty.connect(claimant).claim(vectorToHex(image), fee, now + settling + 3_600n);
  const claimed = await claimTx.wait();
  const requestId = claimed!.logs.map((l) => bounty.interface.parseLog(l)).find((p) => p?.name === "Claimed")!.args
    .requestId as string;
  log(`claim ${requestId} submitted by ${claimant.address} (fee ${tokens(fee)})`);

  // The provider reads the request (its input is in the event), runs the model and answers.
  const found = await asProvider.oracle.find(requestId);
  if (found === undefined) throw new Error(`request ${requestId} not found`);
  const result = run(model, vectorFromHex(found.input));
  const commitmentId = await (
    await asProvider.oracle.fulfill(found.request, result, vectorToHex(result.output))
  ).wait();
  log(`provider answered with commitment ${commitmentId}: logits [${Array.from(result.output).join(", ")}]`);

  // Nobody disputes it (it is right): once the window has passed, anyone settles.
  await networkHelpers.time.increase(Number(policy.challengeWindow) + 1);
  const anyone = asPublisher.connect(sponsor);
  await (await anyone.oracle.settle(requestId)).wait();
  const predicted = argmax(result.output);
  const winner = await bounty.winner();
  log(`settled: the final answer is a ${predicted}; winner ${winner}`);

  // Pull payments: the claimant takes the bounty, the provider its fee.
  const before = await token.balanceOf(claimant.address);
  await (await bounty.connect(claimant).withdraw()).wait();
  const paid = (await token.balanceOf(claimant.address)) - before;
  const earned = await (await asProvider.oracle.withdraw()).wait();
  log(`claimant withdrew ${tokens(paid)}; provider withdrew its fee ${tokens(earned)}`);
  return { predicted, winner, paid, earned, requestId };
}

if (import.meta.filename === path.resolve(process.argv[1] ?? "")) {
  let connection: NetworkConnection | undefined;
  try {
    connection = await network.create();
    await oracleExample(connection);
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    if (process.env.VERITY_DEBUG) console.error((error as Error)?.stack ?? String(error));
    process.exitCode = 1;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

import type { DenseInt8Model } from "../../src/engine/index.js";
import { buildOnchainProof, buildStoredProof } from "../../src/sdk/proofs/onchain.js";
import {
  deployOnchainVerifier,
  deployProofCore,
  deployStoredVerifier,
  randomInput,
  randomModel,
  registerProofModel,
  type ProofCore,
} from "../../test/proof/proofFixture.js";
import { gasOf, type BenchRunner } from "./types.js";

/** The gas one proof-settled inference may use to count as fitting (half of EIP-7825's 2^24 cap). */
const FIT_GAS = 8_000_000;
/** Inferences the registration cost of the stored path is spread over. */
const AMORTIZED_OVER = 1_000;
/** Candidate widths `d` of `d-d-10` models for the largest-fitting search, smallest first. */
const WIDTHS = [256, 320, 384, 448, 512, 576, 640, 704, 768];

/**
 * Gas of proof-settled commitments (`InferenceLedger.commitVerified`) through the two on-chain evaluation verifiers:
 * `onchain` (weights in calldata, the whole weights tree rebuilt per inference) and `stored` (weights read from
 * SSTORE2 data contracts checked once at deployment). For the stored path `register_stored_<dims>` is the gas of
 * writing the data contracts and deploying the verifier, and `perInference_stored_<dims>_amortized1000` adds a
 * thousandth of it to one inference. The largest `d-d-10` model that fits 8M gas is searched for each path.
 */
export const benchProof: BenchRunner = async (connection) => {
  const { ethers } = connection;
  const core = await deployProofCore(connection);
  const gas: Record<string, number> = {};
  const derived: Record<string, number> = {};
  let label = 0;

  // Every model gets its own seed: the same weights would be the same content, registered once per publisher.
  /** Registers `model`, approves a verifier of `kind` and commits one inference; returns the gas figures. */
  const measure = async (core: ProofCore, model: DenseInt8Model, kind: "onchain" | "stored") => {
    const modelId = await registerProofModel(ethers, core, model, true, `ipfs://bench/${label++}`);
    let register = 0;
    let build: (input: Int8Array) => ReturnType<typeof buildOnchainProof>;
    let verifierAddress: string;
    if (kind === "onchain") {
      const verifier = await deployOnchainVerifier(ethers, core, modelId);
      verifierAddress = await verifier.getAddress();
      register = Number((await verifier.deploymentTransaction()!.wait())!.gasUsed);
      build = (input) => buildOnchainProof(model, input, core.provider.address);
    } else {
      const stored = await deployStoredVerifier(ethers, core, modelId, model);
      verifierAddress = await stored.verifier.getAddress();
      register = stored.registrationGas;
      build = (input) => buildStoredProof(model, input, core.provider.address, stored.chunks);
    }
    await core.registry.connect(core.admin).approveVerifier(modelId, verifierAddress);
    const p = build(randomInput(model.layers[0].spec.inDim, label));
    const inference = { inputHash: p.result.inputHash, outputHash: p.result.outputHash, traceRoot: p.result.traceRoot };
    const used = await gasOf(
      await core.ledger
        .connect(core.provider)
        .commitVerified(modelId, inference, p.output, p.proof, { gasLimit: 16_000_000 }),
    );
    return { used, register };
  };

  const record = (dims: number[], kind: "onchain" | "stored", m: { used: number; register: number }) => {
    const name = dims.join("-");
    gas[`commitVerified_${kind}_${name}`] = m.used;
    gas[`register_${kind}_${name}`] = m.register;
    derived[`perInference_${kind}_${name}_amortized${AMORTIZED_OVER}`] = Math.round(
      m.used + m.register / AMORTIZED_OVER,
    );
  };

  for (const dims of [
    [16, 16, 4],
    [64, 32, 10],
  ]) {
    for (const kind of ["onchain", "stored"] as const)
      record(dims, kind, await measure(core, randomModel(dims, label + 1), kind));
  }
  for (const kind of ["onchain", "stored"] as const) {
    let largest: number[] | undefined;
    for (const d of WIDTHS) {
      const dims = [d, d, 10];
      const m = await measure(core, randomModel(dims, label + 1), kind);
      if (m.used > FIT_GAS) break;
      largest = dims;
      record(dims, kind, m);
    }
    if (largest !== undefined) {
      derived[`largestFitting_${kind}_weights`] = largest[0] * largest[1] + largest[1] * largest[2];
    }
  }
  return { gas, derived };
};

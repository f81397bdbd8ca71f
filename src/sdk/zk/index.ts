/**
 * The ZK settlement path (Groth16 over BN254): a circuit generator for `dense-int8-v1` models with the weights
 * as constants, compilation with the npm `circom2`, phase-2 ceremony helpers, witness, proof and calldata
 * with `snarkjs`, and the per-model Solidity verifier (exported by snarkjs, compiled with the npm `solc`).
 * docs/zk.md states the circuit's design, the public-signal layout and what this path trusts.
 *
 * @packageDocumentation
 */
export {
  BYTES_PER_SIGNAL,
  CIRCUIT_VERSION,
  ZK_MAX_CONSTRAINTS,
  chunkLengths,
  countConstraints,
  generateCircuit,
  packBytes,
  planModel,
} from "./circuit.js";
export type { GenerateOptions, GeneratedCircuit, NeuronPlan } from "./circuit.js";
export { compileCircuit } from "./compile.js";
export type { CompileOptions, CompiledCircuit } from "./compile.js";
export { ZkError, ZkModelTooLarge, ZkPtauTooSmall, ZkToolchainError } from "./errors.js";
export {
  circuitInputs,
  computeWitness,
  encodeInferenceProof,
  encodeSystemProof,
  newZkey,
  proveInference,
  proveWitness,
  ptauInfo,
  publicSignalsOf,
  requiredPower,
  verificationKey,
  verifyProof,
} from "./groth16.js";
export type { ZkInferenceProof, ZkProof } from "./groth16.js";
export { beaconZkey, contributeZkey, verifyZkey } from "./ceremony.js";
export type { ZkeyStep, ZkeyVerification } from "./ceremony.js";
export { INSECURE_TEST_SEED, insecureTestPowersOfTau } from "./ptau.js";
export type { InsecureTestPowersOfTauOptions } from "./ptau.js";
export { GENERATED_VERIFIER_NAME, compileVerifier, exportVerifierSource } from "./verifier.js";
export type { VerifierArtifact } from "./verifier.js";
export { syntheticModel } from "./synthetic.js";
export { releaseZkWorkers } from "./curve.js";

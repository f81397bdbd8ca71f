import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { Artifact } from "hardhat/types/artifacts";
import type { VerifierArtifact } from "../../src/sdk/zk/index.js";

/**
 * Deploys the ZK verifier of one model: the snarkjs-exported Groth16 verifier of the model's circuit (compiled
 * at deploy time from the ceremony's final .zkey, `verity zk export` or `compileVerifier`; nothing generated is
 * committed) and the `Groth16InferenceVerifier` adapter bound to the model id. The registry pairing
 * (model id -> verifier) is a separate, later step.
 *
 * Parameters: `modelId` (bytes32), `inputLength`, `outputLength` (bytes of the model's input and output).
 *
 * @param artifact - The compiled generated verifier.
 * @param id - Module id; one per model, so that several models' verifiers can live in one deployment folder.
 * @returns The module.
 */
export function buildZkVerifierModule(artifact: VerifierArtifact, id = "ZkVerifier") {
  return buildModule(id, (m) => {
    const groth16 = m.contract("Groth16Verifier", artifact as unknown as Artifact, [], { id: "Groth16Verifier" });
    const adapter = m.contract("Groth16InferenceVerifier", [
      m.getParameter<string>("modelId"),
      groth16,
      m.getParameter<number>("inputLength"),
      m.getParameter<number>("outputLength"),
    ]);
    return { groth16, adapter };
  });
}

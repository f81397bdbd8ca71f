import type { BenchRunner } from "./types.js";

/** Every bench section, run in this order, each on a fresh in-process chain; loaded on demand. */
export const sections: Record<string, () => Promise<BenchRunner>> = {
  core: async () => (await import("./core.js")).benchCore,
  engine: async () => (await import("./engine.js")).benchEngine,
  dispute: async () => (await import("./dispute.js")).benchDispute,
  disclosure: async () => (await import("./disclosure.js")).benchDisclosure,
  load: async () => (await import("./load.js")).benchLoad,
  environments: async () => (await import("./environments.js")).benchEnvironments,
  oracle: async () => (await import("./oracle.js")).benchOracle,
  onnx: async () => (await import("./onnx.js")).benchOnnx,
  proof: async () => (await import("./proof.js")).benchProof,
  zk: async () => (await import("./zk.js")).benchZk,
};

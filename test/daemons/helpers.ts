import path from "node:path";
import type { NetworkConnection } from "hardhat/types/network";
import { ChallengerAgent, ProviderAgent, TraceStore } from "../../src/sdk/index.js";
import { connectedMnist } from "../helpers/verityFixture.js";

/**
 * The protocol with the MNIST model on an in-process chain, a staked provider agent and a challenger agent
 * (signer 3), each in its own Verity connection, and a fresh work folder.
 */
export async function daemonSetup(connection: NetworkConnection) {
  const f = await connectedMnist(connection, "verity-daemons-");
  const provider = new ProviderAgent(
    await f.as(f.provider),
    f.model,
    new TraceStore(path.join(f.work, "traces")),
    f.modelId,
  );
  const watcherVerity = await f.as(f.challenger);
  const challenger = new ChallengerAgent(watcherVerity, [f.model], [f.modelId]);
  return { ...f, provider, challenger, watcherVerity };
}

/** A logger that keeps its lines. */
export function recordingLog(): { log: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), lines };
}

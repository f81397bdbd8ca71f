import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { NetworkConnection } from "hardhat/types/network";
import { ChallengerAgent, ProviderAgent, TraceStore, Verity, type VerityAddresses } from "../../src/sdk/index.js";
import { deployWithMnist } from "../helpers/disputeFixture.js";

/**
 * The protocol with the MNIST model on an in-process chain, a staked provider agent and a challenger agent
 * (signer 3), each in its own Verity connection, and a fresh work folder.
 */
export async function daemonSetup(connection: NetworkConnection) {
  const f = await connection.networkHelpers.loadFixture(fixtureOf(connection));
  const addresses: VerityAddresses = {
    token: await f.token.getAddress(),
    registry: await f.registry.getAddress(),
    stakeManager: await f.stakeManager.getAddress(),
    ledger: await f.ledger.getAddress(),
    disputeGame: await f.disputeGame.getAddress(),
    batchDisclosure: await f.batchDisclosure.getAddress(),
  };
  const work = mkdtempSync(path.join(os.tmpdir(), "verity-daemons-"));
  const as = (signer: (typeof f.signers)[number]) => Verity.connect({ runner: signer, addresses });
  const provider = new ProviderAgent(
    await as(f.provider),
    f.model,
    new TraceStore(path.join(work, "traces")),
    f.modelId,
  );
  const watcherVerity = await as(f.challenger);
  const challenger = new ChallengerAgent(watcherVerity, [f.model], [f.modelId]);
  return { ...f, addresses, work, provider, challenger, watcherVerity, as };
}

const fixtures = new WeakMap<NetworkConnection, () => ReturnType<typeof deployWithMnist>>();
/** One fixture function per connection (loadFixture snapshots by function identity). */
function fixtureOf(connection: NetworkConnection) {
  let fixture = fixtures.get(connection);
  if (fixture === undefined) {
    fixture = () => deployWithMnist(connection);
    fixtures.set(connection, fixture);
  }
  return fixture;
}

/** A logger that keeps its lines. */
export function recordingLog(): { log: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), lines };
}

import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { NetworkConnection } from "hardhat/types/network";
import { Verity, type VerityAddresses } from "../../src/sdk/index.js";
import { deployWithMnist } from "./disputeFixture.js";

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

/**
 * The MNIST dispute fixture (loaded from its snapshot) as SDK users see it: the deployment's addresses, a
 * `Verity` connection for any signer (`as`), and a fresh work folder named after `prefix`.
 */
export async function connectedMnist(connection: NetworkConnection, prefix: string) {
  const f = await connection.networkHelpers.loadFixture(fixtureOf(connection));
  const addresses: VerityAddresses = {
    token: await f.token.getAddress(),
    registry: await f.registry.getAddress(),
    stakeManager: await f.stakeManager.getAddress(),
    ledger: await f.ledger.getAddress(),
    disputeGame: await f.disputeGame.getAddress(),
    batchDisclosure: await f.batchDisclosure.getAddress(),
    environments: await f.environmentRegistry.getAddress(),
    attestationService: await f.attestationService.getAddress(),
    oracle: await f.oracle.getAddress(),
  };
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const as = (signer: (typeof f.signers)[number]) => Verity.connect({ runner: signer, addresses });
  return { ...f, addresses, work, as };
}

import { headerOf as eventHeaderOf, type ChallengerAgent, type Finding } from "../sdk/agents/challenger.js";
import { DisclosurePhase } from "../sdk/clients/disclosure.js";
import type { BatchHeader } from "../sdk/clients/ledger.js";
import type { Logger } from "./log.js";
import type { PendingBatch } from "./watchtower.js";

/**
 * The watchtower's side of batch disclosure (docs/protocol.md section 7): for a batch whose data stayed
 * unreadable until half its challenge window, demand the disclosure of every leaf and input on-chain
 * (posting the disclosure bond), then follow the demand each tick: once the provider finished, verify
 * the disclosed leaves (the inputs are public now: no input demand) and dispute the wrong ones within the
 * extended window; if the provider missed the deadline, end the demand by timeout (the whole batch is
 * overturned and the demander paid).
 */
export class Disclosures {
  constructor(
    private readonly challenger: ChallengerAgent,
    private readonly log: Logger,
  ) {}

  /** Demands the batch's disclosure, or follows the demand someone else already made. */
  async demand(batch: PendingBatch): Promise<void> {
    const id = batch.event.id;
    const state = await this.challenger.verity.disclosure.disclosureOf(id);
    if (state.phase !== DisclosurePhase.None) {
      batch.disclosure = "following";
      this.log(`data missing for batch ${id}; following the disclosure demand of ${state.demander}`);
      return;
    }
    await this.challenger.demandDisclosure(headerOf(batch));
    batch.disclosure = "demanded";
    this.log(`data missing for batch ${id}; demanded its disclosure (${batch.lastError})`);
  }

  /**
   * One step of a followed demand. Resolves to the findings of the disclosed batch (empty when the batch
   * was overturned by a timeout), or undefined while the demand is still open.
   */
  async follow(batch: PendingBatch): Promise<Finding[] | undefined> {
    const id = batch.event.id;
    const action = await this.challenger.advanceDisclosure(headerOf(batch));
    switch (action) {
      case "open":
        return undefined;
      case "timeout":
        this.log(`batch ${id}: its provider missed the disclosure deadline; ended the demand, the batch is overturned`);
        return [];
      case "failed":
        this.log(`batch ${id}: its disclosure demand ended unanswered, the batch is overturned`);
        return [];
      case "disclosed": {
        const findings = await this.challenger.verify(batch.event);
        this.log(`batch ${id}: disclosed; ${findings.length} wrong leaves`);
        return findings;
      }
      default:
        // The demand is gone (a reorg dropped it): demand again.
        batch.disclosure = undefined;
        batch.reportedMissing = false;
        this.log(`batch ${id}: its disclosure demand vanished; demanding again`);
        return undefined;
    }
  }
}

/** The batch's header (with its TEE binding when TEE-signed: the disclosure game names the batch by it). */
function headerOf(batch: PendingBatch): BatchHeader {
  return eventHeaderOf(batch.event);
}

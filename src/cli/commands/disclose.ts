import type { Command } from "commander";
import { DisclosurePhase, batchHeaderOf, type BatchHeader, type Verity } from "../../sdk/index.js";
import { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { formatAmount, parseBytes32 } from "../parse.js";

/** Registers `verity disclose demand|status|timeout`. */
export function registerDisclose(program: Command): void {
  const disclose = program
    .command("disclose")
    .description("batch disclosure: force a batch's leaves and inputs on-chain (demand, status, timeout)");

  disclose
    .command("demand")
    .description("demand that a batch's provider disclose every leaf and input on-chain (posts the disclosure bond)")
    .argument("<batchId>", "batch id")
    .action(async (idArg: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const batchId = parseBytes32(idArg, "<batchId>");
      const verity = await ctx.verity();
      const header = await batchHeader(verity, batchId);
      const bond = await verity.disclosure.disclosureBond(header);
      await verity.staking.ensureAllowance(bond);
      const tx = await verity.disclosure.demand(header);
      await tx.wait();
      const state = await verity.disclosure.disclosureOf(batchId);
      ctx.emit(
        { batchId, bond, deadline: Number(state.deadline), tx: tx.hash },
        `demanded the disclosure of batch ${batchId} (bond ${formatAmount(bond)}); the provider must disclose by ${new Date(Number(state.deadline) * 1000).toISOString()}`,
      );
    });

  disclose
    .command("status")
    .description("state of a batch's disclosure: phase, leaves disclosed, deadline, bond")
    .argument("<batchId>", "batch id")
    .action(async (idArg: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const batchId = parseBytes32(idArg, "<batchId>");
      const verity = await ctx.verity({ readOnly: true });
      const header = await batchHeader(verity, batchId);
      const state = await verity.disclosure.disclosureOf(batchId);
      const now = await verity.disclosure.now();
      const open = state.phase === DisclosurePhase.Open;
      const result = {
        batchId,
        phase: DisclosurePhase[state.phase],
        disclosed: state.disclosed,
        count: header.count,
        ...(state.phase === DisclosurePhase.None
          ? { bond: await verity.disclosure.disclosureBond(header) }
          : {
              demander: state.demander,
              deadline: Number(state.deadline),
              expired: open && now > state.deadline,
              bond: state.bond,
            }),
      };
      ctx.emit(
        result,
        [
          `disclosure of batch ${batchId}: ${result.phase}`,
          `  leaves          ${state.disclosed}/${header.count} disclosed`,
          ...(state.phase === DisclosurePhase.None
            ? [`  bond to demand  ${formatAmount(result.bond)}`]
            : [
                `  demander        ${state.demander}`,
                `  bond            ${formatAmount(state.bond)}`,
                ...(open
                  ? [
                      `  deadline        ${new Date(Number(state.deadline) * 1000).toISOString()}${now > state.deadline ? " (passed: anyone can call `verity disclose timeout`)" : ""}`,
                    ]
                  : []),
              ]),
        ],
        { always: true },
      );
    });

  disclose
    .command("timeout")
    .description("end a disclosure demand the provider did not complete in time (the whole batch is overturned)")
    .argument("<batchId>", "batch id")
    .action(async (idArg: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const batchId = parseBytes32(idArg, "<batchId>");
      const verity = await ctx.verity();
      const tx = await verity.disclosure.timeout(await batchHeader(verity, batchId));
      await tx.wait();
      ctx.emit({ batchId, tx: tx.hash }, `batch ${batchId} overturned: its disclosure was not completed in time`);
    });
}

/** A batch's header, from its `BatchCommitted` event. */
async function batchHeader(verity: Verity, batchId: string): Promise<BatchHeader> {
  const ledger = verity.ledger.contract;
  const events = await ledger.queryFilter(ledger.filters.BatchCommitted(batchId));
  if (events.length === 0) throw new CliError(`no batch with id ${batchId} on this deployment`);
  const a = events[0].args;
  return batchHeaderOf(a.provider, a.modelId, a.root, Number(a.count));
}

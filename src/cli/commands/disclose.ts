import type { Command } from "commander";
import {
  DisclosurePhase,
  RecordFlags,
  batchHeaderOf,
  hasFlag,
  type BatchHeader,
  type LogRangeOptions,
  type Verity,
} from "../../sdk/index.js";
import { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { formatAmount, parseBytes32 } from "../parse.js";
import {
  LOG_RANGE_HELP,
  findLatestLogs,
  parseLogRange,
  withLogRangeOptions,
  type LogRangeCliOptions,
} from "./status.js";

/** Registers `verity disclose demand|status|timeout`. */
export function registerDisclose(program: Command): void {
  const disclose = program
    .command("disclose")
    .description("batch disclosure: force a batch's leaves and inputs on-chain (demand, status, timeout)");

  withLogRangeOptions(disclose.command("demand"))
    .description("demand that a batch's provider disclose every leaf and input on-chain (posts the disclosure bond)")
    .argument("<batchId>", "batch id")
    .addHelpText(
      "after",
      `${LOG_RANGE_HELP}

Examples:
  $ verity --account 2 disclose demand 0x<batchId printed by verity commit --batch>
  $ verity disclose status 0x<batchId>
  $ verity disclose timeout 0x<batchId>       # once the provider's deadline passed`,
    )
    .action(async (idArg: string, options: LogRangeCliOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const batchId = parseBytes32(idArg, "<batchId>");
      const verity = await ctx.verity();
      const header = await batchHeader(verity, batchId, parseLogRange(options));
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

  withLogRangeOptions(disclose.command("status"))
    .description("state of a batch's disclosure: phase, leaves disclosed, deadline, bond")
    .argument("<batchId>", "batch id")
    .action(async (idArg: string, options: LogRangeCliOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const batchId = parseBytes32(idArg, "<batchId>");
      const verity = await ctx.verity({ readOnly: true });
      const header = await batchHeader(verity, batchId, parseLogRange(options));
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

  withLogRangeOptions(disclose.command("timeout"))
    .description("end a disclosure demand the provider did not complete in time (the whole batch is overturned)")
    .argument("<batchId>", "batch id")
    .action(async (idArg: string, options: LogRangeCliOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const batchId = parseBytes32(idArg, "<batchId>");
      const verity = await ctx.verity();
      const tx = await verity.disclosure.timeout(await batchHeader(verity, batchId, parseLogRange(options)));
      await tx.wait();
      ctx.emit({ batchId, tx: tx.hash }, `batch ${batchId} overturned: its disclosure was not completed in time`);
    });
}

/**
 * A batch's header, from its `BatchCommitted` (or `TeeBatchCommitted`) event, looked up in bounded ranges
 * from the last block before the batch's challenge deadline backwards.
 */
async function batchHeader(verity: Verity, batchId: string, range: LogRangeOptions): Promise<BatchHeader> {
  const ledger = verity.ledger.contract;
  const record = await verity.ledger.record(batchId);
  if (record.kind !== "Batch") {
    throw new CliError(
      record.kind === "Single"
        ? `${batchId} is a single commitment, not a batch: only batches are disclosed`
        : `no batch with id ${batchId} on this deployment`,
    );
  }
  const search = { ...range, notAfter: record.challengeDeadline };
  const provider = verity.runner.provider!;
  if (hasFlag(record.flags, RecordFlags.TEE)) {
    const [event] = await findLatestLogs(
      provider,
      (from, to) => ledger.queryFilter(ledger.filters.TeeBatchCommitted(batchId), from, to),
      search,
    );
    if (event === undefined) throw new CliError(`the node returns no TeeBatchCommitted event of batch ${batchId}`);
    const a = event.args;
    return { ...batchHeaderOf(a.provider, a.modelId, a.root, Number(a.count)), binding: a.binding };
  }
  const [event] = await findLatestLogs(
    provider,
    (from, to) => ledger.queryFilter(ledger.filters.BatchCommitted(batchId), from, to),
    search,
  );
  if (event === undefined) throw new CliError(`the node returns no BatchCommitted event of batch ${batchId}`);
  const a = event.args;
  return batchHeaderOf(a.provider, a.modelId, a.root, Number(a.count));
}

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { isHexString, type Provider } from "ethers";
import {
  CommitmentStatus,
  Outcome,
  Phase,
  RecordFlags,
  batchHeaderOf,
  batchTree,
  hasFlag,
  leafHashOf,
  targetKeyOf,
  toDisputeParams,
  type BatchDataFile,
  type BatchHeader,
  type InferenceHashes,
  type LogRangeOptions,
  type Verity,
} from "../../sdk/index.js";
import { CliContext, existingPath, parseIndex } from "../context.js";
import { CliError } from "../errors.js";
import { formatTime } from "../../sdk/errors.js";
import { formatAmount, parseBytes32 } from "../parse.js";

/** Registers `verity status` and `verity dispute`. */
export function registerStatus(program: Command): void {
  withLogRangeOptions(program.command("status"))
    .description(
      "status, finality and record of a commitment or batch, or of one batch leaf with --leaf and --proof-file",
    )
    .argument("<id>", "commitment id or batch id")
    .option(
      "--leaf <leaf>",
      "a batch leaf: <inputHash,outputHash,traceRoot>, or its index when --proof-file is the batch data file",
    )
    .option("--proof-file <f>", "the leaf's Merkle proof (JSON array of hashes) or the batch data file")
    .addHelpText(
      "after",
      `${LOG_RANGE_HELP}

Examples:
  $ verity status 0x<id printed by verity commit>
  $ verity --json status 0x<batchId> --leaf 3 --proof-file .verity/batches/batch-<time>.json
  $ verity --rpc https://rpc.example status 0x<id> --from-block 5000000 --max-range 500`,
    )
    .action(
      async (idArg: string, options: { leaf?: string; proofFile?: string } & LogRangeCliOptions, command: Command) => {
        const ctx = CliContext.of(command);
        const id = parseBytes32(idArg, "<id>");
        const range = parseLogRange(options);
        if ((options.leaf === undefined) !== (options.proofFile === undefined)) {
          throw new CliError("--leaf and --proof-file go together");
        }
        const verity = await ctx.verity({ readOnly: true });
        const record = await verity.ledger.record(id);
        const kind = record.kind;
        if (kind === "None") throw new CliError(`no commitment or batch with id ${id} on this deployment`);
        const finalityOf = await verity.ledger.finalityOf(id);
        const status = CommitmentStatus[finalityOf.status];
        const finality = finalityOf.finality;
        const deadline = record.challengeDeadline;
        const isTee = hasFlag(record.flags, RecordFlags.TEE);
        const tee = isTee ? await verity.ledger.teeRecordOf(id) : undefined;
        const event = await committedEvent(verity, id, kind === "Batch", isTee, { ...range, notAfter: deadline });
        const flags = {
          overturned: hasFlag(record.flags, RecordFlags.OVERTURNED),
          ...(kind === "Single"
            ? { inputPublic: hasFlag(record.flags, RecordFlags.INPUT_PUBLIC) }
            : {
                leafOverturned: hasFlag(record.flags, RecordFlags.LEAF_OVERTURNED),
                disclosureOpen: hasFlag(record.flags, RecordFlags.DISCLOSURE_OPEN),
                disclosed: hasFlag(record.flags, RecordFlags.DISCLOSED),
              }),
        };
        const base = {
          id,
          kind: kind.toLowerCase(),
          status,
          final: finalityOf.status === CommitmentStatus.Final,
          finality,
          provider: record.provider,
          challengeDeadline: deadline,
          openDisputes: record.openDisputes,
          ...flags,
          ...(tee === undefined
            ? {}
            : {
                tee: {
                  enclaveKey: tee.enclaveKey,
                  environment: tee.environment,
                  mode: tee.mode,
                  teeDeadline: tee.teeDeadline,
                  fallbackDeadline: tee.fallbackDeadline,
                  trustLostAt: tee.trustLostAt,
                  provenWrong: tee.provenWrong,
                  withheld: tee.withheld,
                },
              }),
          ...event,
        };
        const teeText =
          tee === undefined
            ? []
            : [
                `  enclave key     ${tee.enclaveKey}`,
                `  environment     ${tee.environment}`,
                `  TEE mode        ${tee.mode}${tee.mode === "Window" ? `, TEE window until ${formatTime(tee.teeDeadline)}` : `, accountable until ${formatTime(tee.teeDeadline)}`}`,
                `  trust lost at   ${tee.trustLostAt === 0 ? "never (key and environment trusted)" : formatTime(tee.trustLostAt)}`,
                `  proven wrong    ${tee.provenWrong ? "yes" : "no"}`,
                `  data withheld   ${tee.withheld ? "yes" : "no"}`,
              ];
        const flagText = Object.entries(flags)
          .filter(([, on]) => on)
          .map(([name]) => name)
          .join(", ");

        if (options.leaf === undefined) {
          ctx.emit(
            base,
            [
              `${kind.toLowerCase()} ${id}: ${status}${base.final ? ` (final: ${finality})` : ""}`,
              `  provider        ${record.provider}`,
              `  challenge until ${new Date(deadline * 1000).toISOString()}`,
              `  open disputes   ${base.openDisputes}`,
              `  flags           ${flagText === "" ? "none" : flagText}`,
              ...teeText,
              ...Object.entries(event).map(([k, v]) => `  ${k.padEnd(15)} ${String(v)}`),
            ],
            { always: true },
          );
          return;
        }

        if (kind !== "Batch") throw new CliError(`${id} is a single commitment: --leaf applies to batches`);
        const { header, proof, leaf } = leafQuery(options.leaf, options.proofFile!, id, record.provider, event);
        const leafStatus = CommitmentStatus[await verity.ledger.leafStatus(header, proof, leaf)];
        const leafHash = leafHashOf(leaf);
        const leafRecord = await verity.ledger.contract.leafRecordOf(id, leafHash);
        const result = {
          ...base,
          leaf: {
            ...leaf,
            leafHash,
            status: leafStatus,
            openDisputes: Number(leafRecord.openDisputes),
            overturned: leafRecord.overturned,
          },
        };
        ctx.emit(
          result,
          [
            `leaf ${leafHash} of batch ${id}: ${leafStatus}`,
            `  batch status    ${status}${base.final ? ` (final: ${finality})` : ""}`,
            `  open disputes   ${result.leaf.openDisputes}${leafRecord.overturned ? ", overturned" : ""}`,
            `  challenge until ${new Date(deadline * 1000).toISOString()}`,
          ],
          { always: true },
        );
      },
    );

  withLogRangeOptions(program.command("dispute"))
    .description("state of a dispute game: phase, deadline, outcome")
    .argument("<disputeId>", "dispute id")
    .addHelpText(
      "after",
      `${LOG_RANGE_HELP}

Examples:
  $ verity dispute 0x<disputeId printed by verity watch>
  $ verity --json dispute 0x<disputeId> --from-block 5000000`,
    )
    .action(async (idArg: string, options: LogRangeCliOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const disputeId = parseBytes32(idArg, "<disputeId>");
      const range = parseLogRange(options);
      const verity = await ctx.verity({ readOnly: true });
      const game = await verity.disputes.game(disputeId);
      if (game.phase === Phase.None) throw new CliError(`no dispute with id ${disputeId} on this deployment`);
      const now = await verity.disputes.now();
      const game_ = verity.disputes.contract;
      // The game's deadline is never before its opening: the search starts at the last block up to it.
      const opened = await findLatestLogs(
        verity.runner.provider!,
        (from, to) => game_.queryFilter(game_.filters.DisputeOpened(disputeId), from, to),
        { ...range, notAfter: game.deadline > 0n ? Number(game.deadline) : undefined },
      ).catch(() => []);
      const params = opened.length > 0 ? toDisputeParams(opened[0].args.params) : undefined;
      const rewardPool = params === undefined ? undefined : await verity.disputes.rewardPoolOf(targetKeyOf(params));
      const resolved = game.phase === Phase.Resolved;
      const secondsLeft = resolved ? 0 : Number(game.deadline - now);
      const result = {
        disputeId,
        phase: Phase[game.phase],
        outcome: Outcome[game.outcome],
        deadline: Number(game.deadline),
        secondsLeft: Math.max(0, secondsLeft),
        expired: !resolved && secondsLeft < 0,
        numLayers: params === undefined ? undefined : Number(params.numLayers),
        layer: game.layer,
        rewardPaid: game.rewardPaid,
        ...(rewardPool === undefined ? {} : { rewardPool }),
        ...(params === undefined
          ? {}
          : {
              target: params.target,
              isLeaf: params.isLeaf,
              modelId: params.modelId,
              provider: params.provider,
              challenger: params.challenger,
              bond: params.bond,
              slashAmount: params.slashAmount,
            }),
      };
      ctx.emit(
        result,
        [
          `dispute ${disputeId}: ${result.phase}${resolved ? ` (${result.outcome})` : ""}`,
          ...(resolved
            ? []
            : [
                `  deadline        ${new Date(result.deadline * 1000).toISOString()} (${result.expired ? `passed ${-secondsLeft} s ago: anyone can call timeout` : `${secondsLeft} s left`})`,
              ]),
          `  layers          ${params === undefined ? "?" : params.numLayers}${game.layer > 0 ? `, disputed layer ${game.layer}` : ""}`,
          ...(game.outcome === Outcome.ChallengerWon
            ? [
                `  reward          ${game.rewardPaid ? "paid" : rewardPool !== undefined && rewardPool.pending > 0 ? `waiting for ${rewardPool.pending} other game(s)` : "claimable (verity claim)"}`,
              ]
            : []),
          ...(params === undefined
            ? []
            : [
                `  target          ${params.target}${params.isLeaf ? " (batch leaf)" : ""}`,
                `  provider        ${params.provider}`,
                `  challenger      ${params.challenger}`,
                `  bond / slash    ${formatAmount(params.bond)} / ${formatAmount(params.slashAmount)}`,
              ]),
        ],
        { always: true },
      );
    });
}

/** What the commitment's event adds to its record (empty if the node cannot return the log). */
async function committedEvent(
  verity: Verity,
  id: string,
  isBatch: boolean,
  isTee: boolean,
  range: LogSearch,
): Promise<Record<string, string | number>> {
  const ledger = verity.ledger.contract;
  const provider = verity.runner.provider!;
  try {
    if (isTee && isBatch) {
      const events = await findLatestLogs(
        provider,
        (from, to) => ledger.queryFilter(ledger.filters.TeeBatchCommitted(id), from, to),
        range,
      );
      if (events.length === 0) return {};
      const a = events[0].args;
      return {
        modelId: a.modelId,
        root: a.root,
        count: Number(a.count),
        dataURI: a.dataURI,
        binding: a.binding,
        block: events[0].blockNumber,
      };
    }
    if (isTee) {
      const events = await findLatestLogs(
        provider,
        (from, to) => ledger.queryFilter(ledger.filters.TeeInferenceCommitted(id), from, to),
        range,
      );
      if (events.length === 0) return {};
      const a = events[0].args;
      return {
        modelId: a.modelId,
        inputHash: a.inference.inputHash,
        outputHash: a.inference.outputHash,
        traceRoot: a.inference.traceRoot,
        binding: a.binding,
        block: events[0].blockNumber,
      };
    }
    if (isBatch) {
      const events = await findLatestLogs(
        provider,
        (from, to) => ledger.queryFilter(ledger.filters.BatchCommitted(id), from, to),
        range,
      );
      if (events.length === 0) return {};
      const a = events[0].args;
      return {
        modelId: a.modelId,
        root: a.root,
        count: Number(a.count),
        dataURI: a.dataURI,
        block: events[0].blockNumber,
      };
    }
    const events = await findLatestLogs(
      provider,
      (from, to) => ledger.queryFilter(ledger.filters.InferenceCommitted(id), from, to),
      range,
    );
    if (events.length === 0) return {};
    const a = events[0].args;
    return {
      modelId: a.modelId,
      inputHash: a.inputHash,
      outputHash: a.outputHash,
      traceRoot: a.traceRoot,
      block: events[0].blockNumber,
    };
  } catch {
    return {};
  }
}

/** The `--from-block` and `--max-range` options of the commands that look up one event. */
export interface LogRangeCliOptions {
  fromBlock: string;
  maxRange: string;
}

/** What `--from-block` and `--max-range` mean, for the help of the commands that take them. */
export const LOG_RANGE_HELP = `
The event is looked up newest block first, in ranges of at most --max-range blocks per eth_getLogs (RPC
providers cap the range), from the last block before the record's deadline down to --from-block.`;

/** Declares `--from-block` and `--max-range` (bounded log lookups). */
export function withLogRangeOptions(command: Command): Command {
  return command
    .option("--from-block <n>", "first block to search for the event (e.g. the deployment's block)", "0")
    .option("--max-range <n>", "blocks per eth_getLogs", "2000");
}

/** Parses `--from-block` and `--max-range`. */
export function parseLogRange(options: LogRangeCliOptions): LogRangeOptions {
  return {
    fromBlock: parseIndex(options.fromBlock, "--from-block"),
    maxRange: Math.max(1, parseIndex(options.maxRange, "--max-range")),
  };
}

/** A bounded search for the latest logs: `LogRangeOptions`, and a time no log of interest is after. */
export interface LogSearch extends LogRangeOptions {
  /** Unix seconds: the logs sought were emitted at or before this time (a record's deadline). */
  notAfter?: number;
}

/**
 * The logs `query` returns in the newest range that has any, scanning `[fromBlock, toBlock]` (default
 * 0 and the head) backwards in ranges of at most `maxRange` blocks (default 2,000), so that providers
 * which cap `eth_getLogs` ranges answer, and a recent event takes a few requests. With `notAfter`, the
 * scan starts at the last block at or before that time. Empty when no range has a log.
 */
export async function findLatestLogs<T>(
  provider: Provider,
  query: (fromBlock: number, toBlock: number) => Promise<T[]>,
  options: LogSearch = {},
): Promise<T[]> {
  const range = Math.max(1, options.maxRange ?? 2_000);
  const floor = options.fromBlock ?? 0;
  let to = options.toBlock ?? (await provider.getBlockNumber());
  if (options.notAfter !== undefined) to = await lastBlockAtOrBefore(provider, options.notAfter, floor, to);
  for (; to >= floor; to -= range) {
    const found = await query(Math.max(floor, to - range + 1), to);
    if (found.length > 0) return found;
  }
  return [];
}

/**
 * The last block in `[low, high]` whose timestamp is at most `time` (`high` when the chain has not reached
 * `time`, `low` when even it is later): a binary search of about log2(high - low) block headers.
 */
export async function lastBlockAtOrBefore(
  provider: Provider,
  time: number,
  low: number,
  high: number,
): Promise<number> {
  const timestampOf = async (n: number) => {
    const block = await provider.getBlock(n);
    if (block === null) throw new Error(`the node has no block ${n}`);
    return block.timestamp;
  };
  if ((await timestampOf(high)) <= time) return high;
  let [lo, hi] = [low, high]; // invariant: the answer is in [lo, hi), block hi is after `time`
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if ((await timestampOf(mid)) <= time) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The header, proof and leaf a `leafStatus` query needs, from `--leaf` and `--proof-file`. */
function leafQuery(
  leafArg: string,
  proofFile: string,
  batchId: string,
  provider: string,
  event: Record<string, string | number>,
): { header: BatchHeader; proof: string[]; leaf: InferenceHashes } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(existingPath(proofFile, "proof file"), "utf8"));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${proofFile}: not JSON (${(error as Error).message})`);
  }
  const batchFile =
    (parsed as Partial<BatchDataFile>)?.format === "verity.batch.v1" ? (parsed as BatchDataFile) : undefined;
  const header: BatchHeader = batchHeaderOf(
    provider,
    String(event.modelId ?? batchFile?.modelId ?? ""),
    String(event.root ?? batchFile?.root ?? ""),
    Number(event.count ?? batchFile?.count ?? 0),
  );
  // A TEE-sealed batch's id binds the signed digest (its event's `binding`).
  if (typeof event.binding === "string") header.binding = event.binding;
  if (!isHexString(header.modelId, 32) || !isHexString(header.root, 32)) {
    throw new CliError(`cannot find batch ${batchId}'s header on-chain: pass the batch data file as --proof-file`);
  }

  let leaf: InferenceHashes;
  if (/^\d+$/.test(leafArg)) {
    if (batchFile === undefined) throw new CliError("--leaf <index> needs the batch data file as --proof-file");
    const l = batchFile.leaves[Number(leafArg)];
    if (l === undefined) throw new CliError(`--leaf ${leafArg}: the batch has ${batchFile.leaves.length} leaves`);
    leaf = { inputHash: l.inputHash, outputHash: l.outputHash, traceRoot: l.traceRoot };
  } else {
    const parts = leafArg.split(",").map((p) => p.trim());
    if (parts.length !== 3 || !parts.every((p) => isHexString(p, 32))) {
      throw new CliError("--leaf: expected <inputHash,outputHash,traceRoot> (three 0x 32-byte hashes) or a leaf index");
    }
    leaf = { inputHash: parts[0], outputHash: parts[1], traceRoot: parts[2] };
  }

  let proof: string[];
  if (batchFile !== undefined) {
    const tree = batchTree(batchFile.leaves);
    const key = [leaf.inputHash, leaf.outputHash, leaf.traceRoot].map((h) => h.toLowerCase()).join();
    let index = -1;
    for (const [i, v] of tree.entries()) if (v.map((h) => h.toLowerCase()).join() === key) index = i;
    if (index < 0) throw new CliError(`the leaf is not in ${proofFile}`);
    proof = tree.getProof(index);
  } else {
    const list = Array.isArray(parsed) ? parsed : (parsed as { proof?: unknown })?.proof;
    if (!Array.isArray(list) || !list.every((h) => typeof h === "string" && isHexString(h, 32))) {
      throw new CliError(
        `${proofFile}: expected a JSON array of 32-byte hashes, {"proof": [...]}, or a batch data file`,
      );
    }
    proof = list as string[];
  }
  return { header, proof, leaf };
}

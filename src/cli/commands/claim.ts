import type { Command } from "commander";
import { CliContext, parseIndex } from "../context.js";
import { formatAmount } from "../parse.js";

interface ClaimOptions {
  rewards: boolean;
  fromBlock: string;
  maxRange: string;
}

/** Registers `verity claim`. */
export function registerClaim(program: Command): void {
  program
    .command("claim")
    .description(
      "collect pooled challenger rewards of the signer's won disputes, then withdraw its credits (won bonds, rewards, refunds)",
    )
    .option("--no-rewards", "only withdraw credits: do not look for unpaid dispute rewards")
    .option("--from-block <n>", "first block to search for the signer's disputes", "0")
    .option("--max-range <n>", "blocks per eth_getLogs", "2000")
    .action(async (options: ClaimOptions, command: Command) => {
      const ctx = CliContext.of(command);
      const verity = await ctx.verity();
      const me = await ctx.address();
      const rewards: { disputeId: string; target: string }[] = [];
      const waiting: { disputeId: string; target: string; pending: number }[] = [];
      if (options.rewards) {
        const from = parseIndex(options.fromBlock, "--from-block");
        const range = Math.max(1, parseIndex(options.maxRange, "--max-range"));
        const head = await verity.provider.getBlockNumber();
        for (let start = from; start <= head; start += range) {
          for (const { disputeId, params } of await verity.disputes.scanOpenedBy(
            me,
            start,
            Math.min(head, start + range - 1),
          )) {
            const status = await verity.disputes.rewardStatus(disputeId, params);
            if (status === "claimable") {
              await (await verity.disputes.claimReward(params)).wait();
              rewards.push({ disputeId, target: params.target });
              ctx.log(`collected the reward of dispute ${disputeId}`);
            } else if (typeof status === "object") {
              waiting.push({ disputeId, target: params.target, pending: status.pending });
            }
          }
        }
      }
      const pendingNote = waiting.length === 0 ? "" : `; ${waiting.length} reward(s) wait for other games to end`;
      if ((await verity.staking.creditOf(me)) === 0n) {
        ctx.emit({ account: me, claimed: 0n, rewards, waiting }, `${me} has no credit to claim${pendingNote}`);
        return;
      }
      const tx = await verity.staking.claim();
      const amount = await tx.wait();
      ctx.emit(
        { account: me, claimed: amount, rewards, waiting, tx: tx.hash },
        `claimed ${formatAmount(amount)} to ${me}` +
          (rewards.length === 0 ? "" : ` (with ${rewards.length} dispute reward(s))`) +
          pendingNote,
      );
    });
}

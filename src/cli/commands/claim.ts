import type { Command } from "commander";
import { CliContext } from "../context.js";
import { formatAmount } from "../parse.js";

/** Registers `verity claim`. */
export function registerClaim(program: Command): void {
  program
    .command("claim")
    .description("withdraw the signer's credits (won bonds, challenger rewards, refunds)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const verity = await ctx.verity();
      const me = await ctx.address();
      if ((await verity.staking.creditOf(me)) === 0n) {
        ctx.emit({ account: me, claimed: 0n }, `${me} has no credit to claim`);
        return;
      }
      const tx = await verity.staking.claim();
      const amount = await tx.wait();
      ctx.emit({ account: me, claimed: amount, tx: tx.hash }, `claimed ${formatAmount(amount)} to ${me}`);
    });
}

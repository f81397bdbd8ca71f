import type { Command } from "commander";
import { MockERC20__factory } from "../../../typechain-types/index.js";
import { CliContext } from "../context.js";
import { minStakeWarning } from "../inputs.js";
import { formatAmount, parseAddress, parseAmount } from "../parse.js";

/** Registers `verity stake deposit|unbond|withdraw|show`. */
export function registerStake(program: Command): void {
  const stake = program.command("stake").description("provider stake in the StakeManager");

  stake
    .command("deposit")
    .description("deposit stake (approves the stake manager first when needed)")
    .argument("<amount>", "amount in decimal token units")
    .action(async (amount: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const value = parseAmount(amount, "<amount>", { positive: true, zero: "depositing 0 does nothing" });
      const verity = await ctx.verity();
      const tx = await verity.staking.deposit(value);
      const active = await tx.wait();
      // A deposit that still leaves the provider below some model's minimum is legal but useless there: say so.
      const warning = await minStakeWarning(verity, active);
      if (warning !== undefined) ctx.log(warning);
      ctx.emit(
        { deposited: value, active, tx: tx.hash, ...(warning === undefined ? {} : { warning }) },
        `deposited ${formatAmount(value)}; active stake ${formatAmount(active)}`,
      );
    });

  stake
    .command("unbond")
    .description("move active stake to unbonding (withdrawable after the unbonding delay)")
    .argument("<amount>", "amount in decimal token units")
    .action(async (amount: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const value = parseAmount(amount, "<amount>");
      const verity = await ctx.verity();
      const tx = await verity.staking.requestUnbond(value);
      const readyAt = Number(await tx.wait()); // unix seconds, a number as in `stake show`
      ctx.emit(
        { unbonding: value, readyAt, tx: tx.hash },
        `unbonding ${formatAmount(value)}; withdrawable from ${new Date(Number(readyAt) * 1000).toISOString()}`,
      );
    });

  stake
    .command("withdraw")
    .description("withdraw all unbonded stake that is ready")
    .action(async (_options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const verity = await ctx.verity();
      const tx = await verity.staking.withdraw();
      const amount = await tx.wait();
      ctx.emit({ withdrawn: amount, tx: tx.hash }, `withdrew ${formatAmount(amount)}`);
    });

  stake
    .command("show")
    .description("stake, credit and token balance of an address (default: the signer)")
    .argument("[address]", "provider address")
    .action(async (address: string | undefined, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const verity = await ctx.verity({ readOnly: true });
      const who = address === undefined ? await ctx.address() : parseAddress(address);
      const s = await verity.staking.stakeOf(who);
      const credit = await verity.staking.creditOf(who);
      const balance = await MockERC20__factory.connect(verity.addresses.token, verity.runner).balanceOf(who);
      const readyAt = Number(s.unbondingReadyAt);
      const record = {
        address: who,
        active: s.active,
        unbonding: s.unbonding,
        unbondingReadyAt: readyAt,
        openDisputes: Number(s.openDisputes),
        credit,
        balance,
      };
      ctx.emit(
        record,
        [
          `${who}`,
          `  active        ${formatAmount(s.active)}`,
          `  unbonding     ${formatAmount(s.unbonding)}${readyAt > 0 ? ` (ready ${new Date(readyAt * 1000).toISOString()})` : ""}`,
          `  open disputes ${record.openDisputes}`,
          `  credit        ${formatAmount(credit)}`,
          `  balance       ${formatAmount(balance)}`,
        ],
        { always: true },
      );
    });
}

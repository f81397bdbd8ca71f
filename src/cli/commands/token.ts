import type { Command } from "commander";
import { MockERC20__factory } from "../../../typechain-types/index.js";
import { decodingReverts } from "../../sdk/index.js";
import { CliContext } from "../context.js";
import { formatAmount, parseAddress, parseAmount } from "../parse.js";

/** Registers `verity token mint|balance`. */
export function registerToken(program: Command): void {
  const token = program.command("token").description("the staking token (local test token faucet, balances)");

  token
    .command("mint")
    .description("mint test tokens to an address (local MockERC20 deployments only)")
    .argument("<to>", "recipient address")
    .argument("<amount>", "amount in decimal token units, e.g. 1000 or 0.5 (above 0)")
    .addHelpText(
      "after",
      `
Examples:
  $ verity token mint 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 1000    # a hardhat node / anvil account
  $ verity token mint 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0.5`,
    )
    .action(async (to: string, amount: string, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const recipient = parseAddress(to, "<to>");
      const value = parseAmount(amount, "<amount>", { positive: true, zero: "minting 0 tokens does nothing" });
      const verity = await ctx.verity();
      const contract = MockERC20__factory.connect(verity.addresses.token, await ctx.signer());
      const tx = await decodingReverts(() => contract.mint(recipient, value));
      await decodingReverts(() => tx.wait());
      const balance = await contract.balanceOf(recipient);
      ctx.emit(
        { to: recipient, amount: value, balance, tx: tx.hash },
        `minted ${formatAmount(value)} to ${recipient} (balance ${formatAmount(balance)})`,
      );
    });

  token
    .command("balance")
    .description("token balance of an address (default: the signer)")
    .argument("[address]", "account address")
    .addHelpText(
      "after",
      `
Examples:
  $ verity token balance
  $ verity --json token balance 0x70997970C51812dc3A010C7d01b50e0d17dc79C8`,
    )
    .action(async (address: string | undefined, _options: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const verity = await ctx.verity({ readOnly: true });
      const who = address === undefined ? await ctx.address() : parseAddress(address);
      const contract = MockERC20__factory.connect(verity.addresses.token, verity.runner);
      const balance = await contract.balanceOf(who);
      ctx.emit({ address: who, token: verity.addresses.token, balance }, `${who}: ${formatAmount(balance)}`, {
        always: true,
      });
    });
}

import type { ContractRunner, Signer } from "ethers";
import { MockERC20__factory, StakeManager__factory, type StakeManager } from "../../../typechain-types/index.js";
import { decodingReverts } from "../errors.js";
import { sendTx, type VerityTx } from "../tx.js";

/** Client of the StakeManager (stakes, credits, and the token approvals they need). */
export class StakingClient {
  /** The TypeChain binding. */
  readonly contract: StakeManager;

  constructor(
    address: string,
    private readonly runner: ContractRunner,
  ) {
    this.contract = StakeManager__factory.connect(address, runner);
  }

  /** Approves the stake manager for `amount` of the staking token when the allowance is short. */
  async ensureAllowance(amount: bigint): Promise<void> {
    const owner = await (this.runner as Signer).getAddress();
    const token = MockERC20__factory.connect(await this.contract.token(), this.runner);
    const manager = await this.contract.getAddress();
    if ((await token.allowance(owner, manager)) >= amount) return;
    const approve = await decodingReverts(() => token.approve(manager, amount));
    await approve.wait();
  }

  /** Deposits `amount` as active stake (approving first when needed); `wait()` resolves to the new active stake. */
  async deposit(amount: bigint, options: { approve?: boolean } = {}): Promise<VerityTx<bigint>> {
    if (options.approve ?? true) await this.ensureAllowance(amount);
    return sendTx(
      () => this.contract.deposit(amount),
      (receipt) => this.eventArg(receipt, "StakeDeposited", "active") as bigint,
    );
  }

  /** Moves `amount` of active stake to unbonding; `wait()` resolves to the time it can be withdrawn. */
  async requestUnbond(amount: bigint): Promise<VerityTx<bigint>> {
    return sendTx(
      () => this.contract.requestUnbond(amount),
      (receipt) => this.eventArg(receipt, "UnbondingRequested", "readyAt") as bigint,
    );
  }

  /** Withdraws all unbonded stake; `wait()` resolves to the amount. */
  async withdraw(): Promise<VerityTx<bigint>> {
    return sendTx(
      () => this.contract.withdraw(),
      (receipt) => this.eventArg(receipt, "StakeWithdrawn", "amount") as bigint,
    );
  }

  /** Claims all credit; `wait()` resolves to the amount. */
  async claim(): Promise<VerityTx<bigint>> {
    return sendTx(
      () => this.contract.claim(),
      (receipt) => this.eventArg(receipt, "CreditClaimed", "amount") as bigint,
    );
  }

  /** A provider's stake record. */
  async stakeOf(provider: string) {
    return this.contract.stakeOf(provider);
  }

  /** Unclaimed credit of an account. */
  async creditOf(account: string): Promise<bigint> {
    return this.contract.creditOf(account);
  }

  private eventArg(receipt: { logs: readonly unknown[] }, event: string, arg: string): unknown {
    for (const log of receipt.logs) {
      try {
        const parsed = this.contract.interface.parseLog(log as never);
        if (parsed?.name === event) return parsed.args[arg];
      } catch {
        // not a StakeManager log
      }
    }
    throw new Error(`no ${event} event`);
  }
}

/**
 * What the daemon says about money: a daemon that cannot pay for a bond (or for gas) must say so where an
 * operator will see it, once, not three times a second. Each situation ("a challenge bond", "gas") is reported
 * with the address, the balance and the need the first time it happens, and again only when it changes: more is
 * waiting for funds than before, or funds arrived and are still short (the gas its own moves spend is no news);
 * "funds-ok" once it is resolved.
 */
import { formatEth } from "./funds.js";
import type { Logger, LogFields } from "./log.js";

export class FundsWatch {
  /** Situation → what was last said of it. */
  private readonly said = new Map<string, { balance: bigint; waiting: number }>();

  constructor(
    private readonly log: Logger,
    private readonly address: string,
  ) {}

  /** Reports that `situation` cannot be paid for (`waiting`: how many things wait for the funds). */
  short(situation: string, balance: bigint, need: bigint, fields: LogFields = {}, waiting = 1): void {
    const last = this.said.get(situation);
    this.said.set(situation, { balance, waiting });
    if (last && waiting <= last.waiting && balance <= last.balance) return;
    this.log("error", "cannot-afford", { for: situation, address: this.address, balanceEth: formatEth(balance), needEth: formatEth(need, "up"), ...fields });
  }

  /** `situation` can be paid for again (said once, if it had been reported). */
  ok(situation: string, balance: bigint): void {
    if (!this.said.delete(situation)) return;
    this.log("info", "funds-ok", { for: situation, address: this.address, balanceEth: formatEth(balance) });
  }

  /** Whether `situation` is currently reported short. */
  isShort(situation: string): boolean {
    return this.said.has(situation);
  }
}

/**
 * What the daemon says about money: a daemon that cannot pay for a bond (or for gas) must say so where an
 * operator will see it, once, not three times a second. Each situation ("a challenge bond", "gas") is reported
 * with the address, the balance and the need the first time it happens and again only when the balance or the
 * need changes; "funds-ok" once it is resolved.
 */
import { formatEth } from "./funds.js";
import type { Logger, LogFields } from "./log.js";

export class FundsWatch {
  /** Situation → what was last said of it ("balance/need"). */
  private readonly said = new Map<string, string>();

  constructor(
    private readonly log: Logger,
    private readonly address: string,
  ) {}

  /** Reports that `situation` cannot be paid for: once per (balance, need). */
  short(situation: string, balance: bigint, need: bigint, fields: LogFields = {}): void {
    const key = `${balance}/${need}`;
    if (this.said.get(situation) === key) return;
    this.said.set(situation, key);
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

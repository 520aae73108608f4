/**
 * "Not enough ETH" as one line a user can act on: the address, its balance, what the transaction needs and why
 * (its value plus gas at the fee per gas). Nodes word this failure differently (Hardhat: "Sender doesn't have
 * enough funds…", which ethers cannot classify and wraps with the whole signed transaction; Geth and Anvil:
 * "insufficient funds…"), so a transaction is checked before it is sent (checkFunds), and a send that fails
 * anyway (the fee rose meanwhile) is mapped to the same error (asInsufficientFunds). The one-shot commands'
 * sendTx and deployTo use both; the daemon's transaction pipeline can too.
 */
import { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";

/** What a transaction may cost at most: its value plus its gas limit at the highest fee per gas it may pay. */
export interface TxCost {
  value?: bigint;
  gasLimit: bigint;
  maxFeePerGas: bigint;
}

/** An account that cannot pay for a transaction: `need` is its value plus its maximal gas fee. */
export class InsufficientFundsError extends MlvmError {
  constructor(
    readonly address: string,
    readonly balance: bigint,
    readonly need: bigint | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The most a transaction of `cost` may take from its sender. */
export function maxCost(cost: TxCost): bigint {
  return (cost.value ?? 0n) + cost.gasLimit * cost.maxFeePerGas;
}

/**
 * An amount of wei as ETH with at most 6 decimals, rounded "up" (a need) or "down" (a balance) so that the
 * rounded figures never hide a shortfall: 1002300000000000000n → "1.0023", 0n → "0.0".
 */
export function formatEth(wei: bigint, round: "up" | "down" = "down"): string {
  const unit = 10n ** 12n; // 1e18 / 1e6: the smallest amount shown
  const units = round === "up" ? (wei + unit - 1n) / unit : wei / unit;
  const whole = units / 1_000_000n;
  const fraction = (units % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${whole}.${fraction || "0"}`;
}

/** A fee per gas in gwei with at most 3 decimals: 2352873256n → "2.353". */
export function formatGwei(wei: bigint): string {
  const milli = (wei + 500_000n) / 1_000_000n;
  const fraction = (milli % 1000n).toString().padStart(3, "0").replace(/0+$/, "");
  return `${milli / 1000n}${fraction ? `.${fraction}` : ""}`;
}

/** "0xABC… has 0.0 ETH; register needs 0.000057 ETH (gas 0.000057 ETH: 24000 gas at 2.353 gwei)". */
export function shortfallMessage(address: string, balance: bigint, cost: TxCost, what: string): string {
  const gas = cost.gasLimit * cost.maxFeePerGas;
  const value = cost.value ?? 0n;
  const parts = `${value > 0n ? `${formatEth(value, "up")} ETH value + ` : ""}gas ${formatEth(gas, "up")} ETH: ${cost.gasLimit} gas at ${formatGwei(cost.maxFeePerGas)} gwei`;
  return `${address} has ${formatEth(balance)} ETH; ${what} needs ${formatEth(maxCost(cost), "up")} ETH (${parts})`;
}

/** The highest fee per gas a transaction sent now may pay: EIP-1559's maxFeePerGas, else the legacy gas price. */
export async function feePerGas(provider: ethers.Provider): Promise<bigint> {
  const fee = await provider.getFeeData();
  return fee.maxFeePerGas ?? fee.gasPrice ?? 0n;
}

/** Throws InsufficientFundsError when `address` cannot pay `cost` now; returns its balance otherwise. */
export async function checkFunds(provider: ethers.Provider, address: string, cost: TxCost, what: string): Promise<bigint> {
  const balance = await provider.getBalance(address);
  if (balance < maxCost(cost)) throw new InsufficientFundsError(address, balance, maxCost(cost), shortfallMessage(address, balance, cost, what));
  return balance;
}

/** The node's own words for "cannot pay", wherever ethers nested them; undefined for any other error. */
export function insufficientFundsText(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): string | undefined => {
    if (e === null || typeof e !== "object" || seen.has(e) || depth > 6) return undefined;
    seen.add(e);
    const o = e as { code?: unknown; message?: unknown; shortMessage?: unknown; error?: unknown; info?: unknown; data?: unknown };
    for (const text of [o.message, o.shortMessage]) {
      if (typeof text === "string" && /insufficient funds|doesn't have enough funds/i.test(text)) return text;
    }
    if (o.code === "INSUFFICIENT_FUNDS") return typeof o.shortMessage === "string" ? o.shortMessage : "insufficient funds";
    return visit(o.error, depth + 1) ?? visit(o.info, depth + 1) ?? visit(o.data, depth + 1);
  };
  return visit(error, 0);
}

/**
 * The wei a node said a refused transaction needed, from its message: Hardhat's "max upfront cost is: N",
 * Geth's "want N"; undefined when it does not say.
 */
export function neededFromText(text: string): bigint | undefined {
  const match = /max upfront cost is:? (\d+)/i.exec(text) ?? /\bwant (\d+)/i.exec(text);
  return match ? BigInt(match[1]) : undefined;
}

/**
 * An InsufficientFundsError when `error` is a node refusing a transaction of `address` for lack of funds,
 * otherwise `error` unchanged. `cost` (when known) explains the need; with only its value known (a node that
 * refuses to estimate the gas of a transaction whose value exceeds the balance, as anvil does), the need is
 * "more than" the value; else the node's own figure is quoted.
 */
export async function asInsufficientFunds(error: unknown, provider: ethers.Provider, address: string, cost: TxCost | { value: bigint } | undefined, what: string): Promise<unknown> {
  const text = insufficientFundsText(error);
  if (text === undefined) return error;
  let balance: bigint;
  try {
    balance = await provider.getBalance(address);
  } catch {
    return new InsufficientFundsError(address, 0n, undefined, `${address} cannot pay for ${what} (the node refused it for lack of funds)`);
  }
  if (cost && "gasLimit" in cost) return new InsufficientFundsError(address, balance, maxCost(cost), shortfallMessage(address, balance, cost, what));
  if (cost && cost.value > 0n) {
    return new InsufficientFundsError(address, balance, undefined, `${address} has ${formatEth(balance)} ETH; ${what} needs more than ${formatEth(cost.value, "up")} ETH (${formatEth(cost.value, "up")} ETH value + gas)`);
  }
  const need = neededFromText(text);
  const needText = need === undefined ? "more" : `${formatEth(need, "up")} ETH`;
  return new InsufficientFundsError(address, balance, need, `${address} has ${formatEth(balance)} ETH; ${what} needs ${needText} (value + gas at the current fee)`);
}

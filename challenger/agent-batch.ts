/**
 * Many calls in one transaction (BisectionGame.multicall, InferenceOracle.challengeMany), safely. Both run each
 * inner call so that its failure is caught and skipped; so an eth_estimateGas of the whole batch succeeds at a gas
 * limit where inner calls run out of gas and are skipped, and would send a batch that does nothing. Here every
 * call is estimated alone (which also drops the calls that would revert now), the batch takes the most urgent
 * calls up to a gas budget, and its gas limit is the sum of their own estimates plus a margin. After the receipt,
 * CallFailed events say which inner calls failed anyway (the chain moved between estimate and inclusion).
 */
import type { ethers } from "ethers";
import { decodeRevert, ContractRevertError } from "./revert.js";

/** The default gas budget of one batch: well under a block's 30–60M, so a batch leaves room for everyone else. */
export const DEFAULT_GAS_BUDGET = 12_000_000n;

/** The largest budget whose batch limit (batchGasLimit) stays under the per-transaction gas cap, 2^24 (EIP-7825). */
export const MAX_GAS_BUDGET = 15_000_000;

export interface CallToEstimate {
  to: string;
  data: string;
  value?: bigint;
}

export type Estimate = { gas: bigint } | { error: string };

/**
 * Each call's own eth_estimateGas from `from` (issued together: the provider sends them as one JSON-RPC batch).
 * A call that would revert comes back as its error's name (or message).
 */
export async function estimateEach(provider: ethers.Provider, from: string, calls: readonly CallToEstimate[]): Promise<Estimate[]> {
  return Promise.all(
    calls.map(async (c): Promise<Estimate> => {
      try {
        return { gas: await provider.estimateGas({ from, to: c.to, data: c.data, value: c.value ?? 0n }) };
      } catch (error) {
        return { error: reasonOf(error) };
      }
    }),
  );
}

/** A revert's custom error as `Name(args)`, else the first line of the message. */
export function reasonOf(error: unknown, what = "call"): string {
  const decoded = decodeRevert(error, what);
  if (decoded instanceof ContractRevertError) return `${decoded.errorName}(${decoded.args.map(String).join(", ")})`;
  return (decoded instanceof Error ? decoded.message : String(decoded)).split("\n")[0].slice(0, 200);
}

/** A revert reason as bytes (CallFailed.reason, ChallengeSkipped.reason) decoded as above. */
export function reasonOfBytes(reason: string): string {
  if (reason === "0x") return "no reason (out of gas?)";
  return reasonOf({ data: reason });
}

/**
 * The calls that go in this batch: by urgency (least clock left first; ties by their order in `items`), as long
 * as their estimates add up to at most `budget`; the rest wait for the next batch. One call over the budget alone
 * still goes (alone), so nothing waits forever.
 */
export function packUrgentFirst<T extends { urgency: number; gas: bigint }>(items: readonly T[], budget: bigint): { batch: T[]; deferred: T[] } {
  const order = items.map((item, k) => ({ item, k })).sort((a, b) => a.item.urgency - b.item.urgency || a.k - b.k);
  const batch: T[] = [];
  const deferred: T[] = [];
  let total = 0n;
  for (const { item } of order) {
    if (deferred.length === 0 && (batch.length === 0 || total + item.gas <= budget)) {
      batch.push(item);
      total += item.gas;
    } else deferred.push(item);
  }
  return { batch, deferred };
}

/**
 * The gas limit of a batch of calls with these estimates: their sum, + 10%, + 100,000. Each estimate counts a whole
 * transaction (21,000 intrinsic gas and its calldata), so the sum already covers the batch's own overhead for two
 * calls or more; the margin covers what one call can cost more after another changed the state first (e.g. the
 * timeout that ends a void claim's last game also settles the claim) and the 1/64 of gas each inner call leaves
 * behind (EIP-150).
 */
export function batchGasLimit(estimates: readonly bigint[]): bigint {
  const sum = estimates.reduce((a, b) => a + b, 0n);
  return sum + sum / 10n + 100_000n;
}

/** The inner calls of a multicall that failed, by index, with their decoded reasons (CallFailed events). */
export function failedCalls(receipt: ethers.TransactionReceipt, game: ethers.Contract): Map<number, string> {
  const address = (game.target as string).toLowerCase();
  const failed = new Map<number, string>();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const e = game.interface.parseLog(log);
    if (e?.name === "CallFailed") failed.set(Number(e.args.index), reasonOfBytes(e.args.reason as string));
  }
  return failed;
}

/**
 * One key's transactions, as a production daemon sends them on a live chain: many in flight at once (up to
 * `maxInFlight`), each journaled (in the daemon's state file) before it is broadcast, followed block by block
 * until it is `keepDepth` blocks deep.
 *   - Nonces: the next one is max(the chain's count of mined transactions, the highest journaled nonce + 1), so a
 *     restart (the journal is on disk) continues the sequence, and a reorg that dropped our mined transactions is
 *     followed (the journal still holds them: they are broadcast again, same bytes, same nonce).
 *   - Fees: EIP-1559, max fee 2 × base fee + tip. A transaction still unmined `bumpAfterBlocks` blocks after it was
 *     signed, or priced under the current base fee (a fee spike), is replaced: the same nonce and call, signed again
 *     with max fee and tip raised by 1/8 or more (nodes accept a replacement only above +10%), up to `maxFee`. At the
 *     cap it waits, said once.
 *   - Crashes: signing is deterministic (RFC 6979), so the journal keeps the call and each version's fees, not the
 *     signed bytes; after a kill -9 the journaled versions are looked up by hash and the newest is broadcast again,
 *     so nothing is sent twice and nothing is lost.
 *   - Reorgs: a mined transaction stays journaled until `keepDepth` blocks deep; if its receipt disappears it is
 *     broadcast again (the same bytes) and its tags count as in flight once more.
 * Callers tag each transaction with what it does ("reveal:<node>:<levels>", "challenge:<claim>", …); `busyTags()`
 * says what is in flight, so the daemon plans nothing twice.
 */
import { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { insufficientFundsText } from "./funds.js";
import { type Logger, errorLine } from "./log.js";

/** One transaction in the journal. Amounts are decimal strings (the journal is JSON). */
export interface JournaledTx {
  nonce: number;
  what: string;
  tags: string[];
  to: string;
  data: string;
  value: string;
  gasLimit: string;
  /** Every signed version, oldest first: the newest is the one to broadcast. */
  versions: { hash: string; maxFee: string; tip: string }[];
  /** The block that was the head when the newest version was signed. */
  signedAt: number;
  /** Set once a version is mined: its block and hash (cleared again if a reorg drops that block). */
  mined?: { block: number; hash: string };
}

/** Where the journal lives: an array in the daemon's state, and how to make it durable. */
export interface TxJournal {
  txs(): JournaledTx[];
  /** Must be durable when it returns. */
  save(): void;
}

/**
 * What poll() found: a transaction mined (with its receipt; status 0 if it reverted), dropped (its nonce was used
 * by another), or reorged (the block it was mined in, `reorged`, is no longer on the chain: whatever its events
 * did is undone by the caller; the transaction is broadcast again, or is already in another block).
 */
export type TxOutcome = { tx: JournaledTx; receipt: ethers.TransactionReceipt } | { tx: JournaledTx; dropped: string } | { tx: JournaledTx; reorged: number };

/** A mined transaction that reverted (the chain changed between estimation and inclusion). */
export class TxRevertedError extends MlvmError {}

/** A journaled transaction that can never be mined: its nonce was used by another. */
export class TxDroppedError extends MlvmError {}

/** The pipeline holds `maxInFlight` unmined transactions already. */
export class PipelineFullError extends MlvmError {}

/** The node refused a new transaction for want of funds: nothing was journaled. */
export class BroadcastFundsError extends MlvmError {}

export interface PipelineOptions {
  /** Unmined transactions at most (default 8). */
  maxInFlight?: number;
  /** The highest max fee per gas it will sign, in wei (default 200 gwei). */
  maxFee?: bigint;
  /** Blocks an unmined transaction waits before it is repriced (default 2). */
  bumpAfterBlocks?: number;
  /** A mined transaction stays journaled (watched for reorgs) until this many blocks deep (default 6). */
  keepDepth?: number;
  /** Wall time between broadcasts of the same unmined version (a restarted node forgets its mempool; default 10 s). */
  rebroadcastMs?: number;
  log: Logger;
}

export const DEFAULT_MAX_FEE = ethers.parseUnits("200", "gwei");
export const DEFAULT_MAX_IN_FLIGHT = 8;

/** A replacement's fee: +12.5% and at least 1 wei more, so that it clears the nodes' +10% replacement rule. */
export function bumped(fee: bigint): bigint {
  return fee + fee / 8n + 1n;
}

export class TxPipeline {
  private readonly maxInFlight: number;
  private readonly maxFee: bigint;
  private readonly bumpAfterBlocks: number;
  private readonly keepDepth: number;
  private readonly rebroadcastMs: number;
  /** Wall time of each transaction's last broadcast, by nonce (not journaled: a restart broadcasts at once). */
  private readonly broadcastAt = new Map<number, number>();
  /** Nonces whose cap was reported (fee-capped is said once per transaction). */
  private readonly capped = new Set<number>();
  private chainId: bigint | undefined;

  constructor(
    private readonly wallet: ethers.Wallet,
    private readonly journal: TxJournal,
    private readonly o: PipelineOptions,
  ) {
    this.maxInFlight = o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.maxFee = o.maxFee ?? DEFAULT_MAX_FEE;
    this.bumpAfterBlocks = o.bumpAfterBlocks ?? 2;
    this.keepDepth = o.keepDepth ?? 6;
    this.rebroadcastMs = o.rebroadcastMs ?? 10_000;
  }

  private get provider(): ethers.Provider {
    return this.wallet.provider!;
  }

  private get txs(): JournaledTx[] {
    return this.journal.txs();
  }

  /** Forgets what this process remembers of its broadcasts (for a journal of a chain that restarted). */
  reset(): void {
    this.broadcastAt.clear();
    this.capped.clear();
    this.chainId = undefined;
  }

  /** Transactions sent and not mined yet. */
  inFlight(): number {
    return this.txs.filter((t) => !t.mined).length;
  }

  /** Room for another transaction. */
  hasRoom(): boolean {
    return this.inFlight() < this.maxInFlight;
  }

  /** The tags of every unmined transaction: what is under way and must not be planned again. */
  busyTags(): Set<string> {
    return new Set(this.txs.filter((t) => !t.mined).flatMap((t) => t.tags));
  }

  /**
   * Signs, journals and broadcasts a call; returns at once (poll() reports its end). The call must have been
   * estimated or simulated by the caller: the gas limit is signed as given.
   */
  async submit(call: { to: string; data: string; value?: bigint; gasLimit: bigint; what: string; tags?: string[] }, head: { number: number; baseFeePerGas?: bigint | null }): Promise<JournaledTx> {
    if (!this.hasRoom()) throw new PipelineFullError(`${this.maxInFlight} transactions in flight already`);
    const [count, tip] = await Promise.all([this.provider.getTransactionCount(this.wallet.address, "latest"), this.tip()]);
    const nonce = Math.max(count, ...this.txs.map((t) => t.nonce + 1));
    const maxFee = this.priced(head.baseFeePerGas ?? 0n, tip);
    const tx: JournaledTx = { nonce, what: call.what, tags: call.tags ?? [], to: call.to, data: call.data, value: (call.value ?? 0n).toString(), gasLimit: call.gasLimit.toString(), versions: [], signedAt: head.number };
    const raw = await this.sign(tx, maxFee, tip < maxFee ? tip : maxFee);
    tx.versions.push({ hash: ethers.keccak256(raw), maxFee: maxFee.toString(), tip: (tip < maxFee ? tip : maxFee).toString() });
    this.txs.push(tx);
    this.journal.save();
    try {
      await this.broadcast(tx, raw);
      this.o.log("info", "tx-sent", { what: call.what, nonce, hash: tx.versions[0].hash, maxFeeGwei: ethers.formatUnits(maxFee, "gwei"), inFlight: this.inFlight(), tags: tx.tags });
    } catch (error) {
      if (insufficientFundsText(error) !== undefined) {
        // Never in a mempool: forget it, so that its nonce is free for the next transaction.
        this.txs.splice(this.txs.indexOf(tx), 1);
        this.journal.save();
        throw new BroadcastFundsError(`${call.what}: the node refused it for want of funds (${insufficientFundsText(error)})`);
      }
      throw error;
    }
    return tx;
  }

  /**
   * Follows every journaled transaction to `head`: reports those mined (or dropped) since the last poll, reprices
   * stuck ones, broadcasts again what a node may have forgotten, watches mined ones for reorgs and forgets those
   * `keepDepth` deep.
   */
  async poll(head: { number: number; baseFeePerGas?: bigint | null }): Promise<TxOutcome[]> {
    const outcomes: TxOutcome[] = [];
    if (this.txs.length === 0) return outcomes;
    let changed = false;
    const count = await this.provider.getTransactionCount(this.wallet.address, "latest");
    for (const tx of [...this.txs]) {
      if (tx.mined) {
        if (head.number - tx.mined.block >= this.keepDepth) {
          this.forget(tx);
          changed = true;
          continue;
        }
        const receipt = await this.provider.getTransactionReceipt(tx.mined.hash);
        if (receipt && receipt.blockNumber === tx.mined.block) continue;
        // Its block is gone: the same version goes out again, and whatever it did is in flight once more.
        this.o.log("warn", "tx-reorged", { what: tx.what, nonce: tx.nonce, hash: tx.mined.hash, block: tx.mined.block, ...(receipt ? { nowIn: receipt.blockNumber } : {}) });
        outcomes.push({ tx, reorged: tx.mined.block });
        if (receipt) {
          tx.mined = { block: receipt.blockNumber, hash: receipt.hash };
        } else {
          const version = tx.versions.find((v) => v.hash === tx.mined!.hash) ?? tx.versions.at(-1)!;
          delete tx.mined;
          tx.signedAt = head.number;
          await this.broadcast(tx, await this.sign(tx, BigInt(version.maxFee), BigInt(version.tip)), true);
        }
        changed = true;
        continue;
      }
      const receipt = await this.receiptOf(tx);
      if (receipt) {
        tx.mined = { block: receipt.blockNumber, hash: receipt.hash };
        this.capped.delete(tx.nonce);
        outcomes.push({ tx, receipt });
        changed = true;
        continue;
      }
      if (count > tx.nonce) {
        // The nonce is used, yet by none of our versions (looked up after the count: no race with mining).
        this.forget(tx);
        outcomes.push({ tx, dropped: `nonce ${tx.nonce} was used by another transaction` });
        changed = true;
        continue;
      }
      if (await this.reprice(tx, head)) changed = true;
      else if (Date.now() - (this.broadcastAt.get(tx.nonce) ?? 0) > this.rebroadcastMs) {
        const v = tx.versions.at(-1)!;
        await this.broadcast(tx, await this.sign(tx, BigInt(v.maxFee), BigInt(v.tip)), true);
      }
    }
    if (changed) this.journal.save();
    return outcomes;
  }

  private forget(tx: JournaledTx): void {
    this.txs.splice(this.txs.indexOf(tx), 1);
    this.broadcastAt.delete(tx.nonce);
    this.capped.delete(tx.nonce);
  }

  /** The receipt of whichever version of `tx` was mined, if one was. */
  private async receiptOf(tx: JournaledTx): Promise<ethers.TransactionReceipt | null> {
    const receipts = await Promise.all(tx.versions.map((v) => this.provider.getTransactionReceipt(v.hash)));
    return receipts.find((r) => r !== null) ?? null;
  }

  /** Replaces `tx` with higher fees if it is stuck; false if it is not (or is at the cap). */
  private async reprice(tx: JournaledTx, head: { number: number; baseFeePerGas?: bigint | null }): Promise<boolean> {
    const last = tx.versions.at(-1)!;
    const [lastMax, lastTip] = [BigInt(last.maxFee), BigInt(last.tip)];
    const base = head.baseFeePerGas ?? 0n;
    const stuck = head.number - tx.signedAt >= this.bumpAfterBlocks || lastMax < base;
    if (!stuck) return false;
    const tip = bumped(lastTip);
    let maxFee = bumped(lastMax);
    if (maxFee < 2n * base + tip) maxFee = 2n * base + tip;
    if (maxFee > this.maxFee) maxFee = this.maxFee;
    if (maxFee < bumped(lastMax) || tip > maxFee) {
      // At the cap: a replacement must pay 10% more than the version in the mempool, which the cap forbids.
      if (!this.capped.has(tx.nonce)) {
        this.capped.add(tx.nonce);
        this.o.log("warn", "fee-capped", { what: tx.what, nonce: tx.nonce, maxFeeGwei: ethers.formatUnits(lastMax, "gwei"), baseFeeGwei: ethers.formatUnits(base, "gwei"), capGwei: ethers.formatUnits(this.maxFee, "gwei"), hint: "raise --max-fee, or it waits for the base fee to fall" });
      }
      return false;
    }
    const raw = await this.sign(tx, maxFee, tip);
    tx.versions.push({ hash: ethers.keccak256(raw), maxFee: maxFee.toString(), tip: tip.toString() });
    tx.signedAt = head.number;
    this.journal.save();
    this.o.log("info", "tx-repriced", { what: tx.what, nonce: tx.nonce, version: tx.versions.length, maxFeeGwei: ethers.formatUnits(maxFee, "gwei"), tipGwei: ethers.formatUnits(tip, "gwei"), baseFeeGwei: ethers.formatUnits(base, "gwei") });
    await this.broadcast(tx, raw, true);
    return true;
  }

  /** The priority fee the node suggests (eth_maxPriorityFeePerGas), 1 gwei if it has no opinion. */
  private async tip(): Promise<bigint> {
    const fees = await this.provider.getFeeData();
    return fees.maxPriorityFeePerGas ?? ethers.parseUnits("1", "gwei");
  }

  /** 2 × base fee + tip (room for six full blocks of base-fee rises), at most the cap. */
  private priced(base: bigint, tip: bigint): bigint {
    const fee = 2n * base + tip;
    return fee > this.maxFee ? this.maxFee : fee;
  }

  private async sign(tx: JournaledTx, maxFee: bigint, tip: bigint): Promise<string> {
    this.chainId ??= (await this.provider.getNetwork()).chainId;
    return this.wallet.signTransaction({
      type: 2,
      chainId: this.chainId,
      to: tx.to,
      data: tx.data,
      value: BigInt(tx.value),
      nonce: tx.nonce,
      gasLimit: BigInt(tx.gasLimit),
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: tip,
    });
  }

  /**
   * Sends signed bytes. A node that knows them already, or that holds a pricier version of the nonce, is fine;
   * "nonce too low" means a version was mined (the next poll finds which). A `retry` broadcast also swallows the
   * funds refusal: the first version is in the mempool, the replacement just was not accepted.
   */
  private async broadcast(tx: JournaledTx, raw: string, retry = false): Promise<void> {
    this.broadcastAt.set(tx.nonce, Date.now());
    try {
      await this.provider.broadcastTransaction(raw);
    } catch (error) {
      const text = errorText(error);
      if (/already known|known transaction|already imported|underpriced|nonce too low|nonce has already been used/i.test(text)) return;
      if ((error as { code?: string }).code === "NONCE_EXPIRED" || (error as { code?: string }).code === "REPLACEMENT_UNDERPRICED") return;
      if (retry && insufficientFundsText(error) !== undefined) {
        this.o.log("warn", "tx-replacement-refused", { what: tx.what, nonce: tx.nonce, error: errorLine(error) });
        return;
      }
      throw error;
    }
  }
}

function errorText(error: unknown): string {
  const e = error as { message?: string; error?: { message?: string }; info?: { error?: { message?: string } }; shortMessage?: string };
  return [e.info?.error?.message, e.error?.message, e.shortMessage, e.message].filter((m) => typeof m === "string").join(" | ");
}

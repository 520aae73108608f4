/**
 * How the daemon's passes send: a call is first checked (estimated, or run at its given gas limit: a revert is a
 * ContractRevertError and costs nothing), then handed to the key's transaction pipeline (tx-pipeline.ts) with the
 * tags of what it does and what to do once it is mined; the pass goes on without waiting. Each pass begins with
 * poll(), which delivers every transaction that ended since: its handler logs it (a transaction from before a
 * restart has none: "recovered-tx"), then its receipt's events reach the state.
 */
import type { ethers } from "ethers";
import type { Logger } from "./log.js";
import { decodeRevert } from "./revert.js";
import { type TxOutcome, TxPipeline, type JournaledTx } from "./tx-pipeline.js";

export interface Call {
  to: string;
  data: string;
  value?: bigint;
  gasLimit: bigint;
}

/** What happens when a transaction is mined (status 1); `reorgedFrom` once a mined one's block is dropped. */
export type OnMined = (receipt: ethers.TransactionReceipt) => void | Promise<void>;

export class AgentSender {
  /** Handlers by nonce, for the transactions this process sent (lost on restart: recovered ones are logged plainly). */
  private readonly handlers = new Map<number, OnMined>();

  constructor(
    readonly pipeline: TxPipeline,
    private readonly provider: ethers.Provider,
    private readonly from: string,
    private readonly log: Logger,
    /** The receipt's events, to the state. */
    private readonly applyReceipt: (receipt: ethers.TransactionReceipt) => void,
    /** A mined transaction's block was dropped: state derived from blocks after `fork` must be undone. */
    private readonly onReorged: (fork: number) => void,
  ) {}

  /**
   * The call `contract.method(...args)`, checked: estimated (+20%) without a gas limit; with one and `simulate`,
   * run at that limit on the pending block. A revert throws a ContractRevertError.
   */
  async prepare(contract: ethers.Contract, method: string, args: unknown[], o: { value?: bigint; gasLimit?: bigint; simulate?: boolean } = {}): Promise<Call> {
    const to = contract.target as string;
    const data = contract.interface.encodeFunctionData(method, args);
    const value = o.value ?? 0n;
    try {
      if (o.gasLimit !== undefined) {
        // At the pending block, as an estimate runs: its time is the next block's (an idle chain's "latest" is old).
        if (o.simulate) await this.provider.call({ from: this.from, to, data, value, gasLimit: o.gasLimit, blockTag: "pending" });
        return { to, data, value, gasLimit: o.gasLimit };
      }
      const gas = await this.provider.estimateGas({ from: this.from, to, data, value });
      return { to, data, value, gasLimit: gas + gas / 5n };
    } catch (error) {
      throw decodeRevert(error, method);
    }
  }

  /** Hands a checked call to the pipeline; `onMined` runs in the poll that finds its receipt. */
  async submit(call: Call, what: string, tags: string[], head: ethers.Block, onMined?: OnMined): Promise<JournaledTx> {
    const tx = await this.pipeline.submit({ ...call, what, tags }, head);
    if (onMined) this.handlers.set(tx.nonce, onMined);
    return tx;
  }

  /** Follows the pipeline to `head` and delivers what ended; returns the newest block a delivered receipt is in. */
  async poll(head: ethers.Block): Promise<number> {
    let newest = head.number;
    for (const outcome of await this.pipeline.poll(head)) {
      if ("receipt" in outcome) newest = Math.max(newest, outcome.receipt.blockNumber);
      await this.deliver(outcome);
    }
    return newest;
  }

  private async deliver(o: TxOutcome): Promise<void> {
    const handler = this.handlers.get(o.tx.nonce);
    if ("reorged" in o) {
      this.onReorged(o.reorged - 1);
      return;
    }
    this.handlers.delete(o.tx.nonce);
    if ("dropped" in o) {
      this.log("warn", "tx-dropped", { what: o.tx.what, nonce: o.tx.nonce, reason: o.dropped });
      return;
    }
    const { receipt } = o;
    if (receipt.status !== 1) {
      this.log("warn", "tx-failed", { what: o.tx.what, hash: receipt.hash, block: receipt.blockNumber, error: "reverted on-chain" });
      return;
    }
    if (handler) await handler(receipt); // logged before the receipt's events, so an action reads before what it causes
    else this.log("info", "recovered-tx", { what: o.tx.what, hash: receipt.hash, block: receipt.blockNumber });
    this.applyReceipt(receipt);
  }
}

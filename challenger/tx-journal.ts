/**
 * Sending transactions so that a crash loses nothing and repeats nothing: each transaction is signed first, then
 * written to the journal (the daemon's state file), then broadcast. After a restart `settle()` finds the
 * journaled transaction's receipt, or broadcasts the same signed bytes again: the nonce makes a second copy
 * impossible, so a challenge (which locks a bond) is never sent twice by accident.
 */
import { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { decodeRevert } from "./revert.js";

export interface PendingTx {
  hash: string;
  raw: string;
  nonce: number;
  what: string;
}

export interface Journal {
  pending(): PendingTx | undefined;
  /** Must be durable when it returns. */
  setPending(tx: PendingTx | undefined): void;
}

/** A mined transaction that reverted (the chain changed between estimation and inclusion). */
export class TxRevertedError extends MlvmError {}

/** A journaled transaction that can never be mined: its nonce was used by another. */
export class TxDroppedError extends MlvmError {}

/** Stop was asked for while waiting on a receipt: the transaction stays journaled. */
export class StoppedError extends MlvmError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SendOptions {
  value?: bigint;
  /**
   * The gas limit to sign with. Without it the call is estimated first (a revert is then a ContractRevertError and
   * costs nothing) and the limit is the estimate + 20%. A batch (multicall, challengeMany) must give its own: an
   * estimate of the whole succeeds even when inner calls would run out of gas (agent-batch.ts).
   */
  gasLimit?: bigint;
  /**
   * With a gas limit: first run the call (eth_call on the pending block) at that limit, so that a revert is still a
   * ContractRevertError that costs nothing.
   */
  simulate?: boolean;
  /** What the journal calls it (default: the method's name). */
  what?: string;
}

export class TxSender {
  constructor(
    private readonly wallet: ethers.Wallet,
    private readonly journal: Journal,
    private readonly stopping: () => boolean,
    private readonly pollMs = 100,
  ) {}

  private get provider(): ethers.Provider {
    return this.wallet.provider!;
  }

  /**
   * Calls `contract.method(...args)`: estimates first unless given a gas limit (a revert is a ContractRevertError
   * and costs nothing), then signs, journals, broadcasts, and waits for the receipt.
   */
  async send(contract: ethers.Contract, method: string, args: unknown[], options: SendOptions = {}): Promise<ethers.TransactionReceipt> {
    await this.settle();
    const to = contract.target as string;
    const data = contract.interface.encodeFunctionData(method, args);
    const value = options.value ?? 0n;
    let gasLimit = options.gasLimit;
    if (gasLimit !== undefined && options.simulate) {
      try {
        // At the pending block, as an estimate runs: its time is the next block's (an idle chain's "latest" is old).
        await this.provider.call({ from: this.wallet.address, to, data, value, gasLimit, blockTag: "pending" });
      } catch (error) {
        throw decodeRevert(error, method);
      }
    }
    if (gasLimit === undefined) {
      try {
        const gas = await this.provider.estimateGas({ from: this.wallet.address, to, data, value });
        gasLimit = gas + gas / 5n;
      } catch (error) {
        throw decodeRevert(error, method);
      }
    }
    const [nonce, fees, network] = await Promise.all([this.provider.getTransactionCount(this.wallet.address, "pending"), this.provider.getFeeData(), this.provider.getNetwork()]);
    const raw = await this.wallet.signTransaction({
      type: 2,
      chainId: network.chainId,
      to,
      data,
      value,
      nonce,
      gasLimit,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    this.journal.setPending({ hash: ethers.keccak256(raw), raw, nonce, what: options.what ?? method });
    return (await this.settle())!;
  }

  /** Resolves the journaled transaction, if any: its receipt once mined (re-broadcasting while it is not). */
  async settle(): Promise<ethers.TransactionReceipt | undefined> {
    const tx = this.journal.pending();
    if (!tx) return undefined;
    let broadcastAt = 0;
    for (;;) {
      const receipt = await this.provider.getTransactionReceipt(tx.hash);
      if (receipt) {
        this.journal.setPending(undefined);
        if (receipt.status !== 1) throw new TxRevertedError(`${tx.what} (${tx.hash}) reverted on-chain`);
        return receipt;
      }
      if (Date.now() - broadcastAt > 5000) {
        broadcastAt = Date.now();
        try {
          await this.provider.broadcastTransaction(tx.raw);
          continue; // an automining chain has the receipt already
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === "NONCE_EXPIRED" || (await this.provider.getTransactionCount(this.wallet.address, "latest")) > tx.nonce) {
            // Mined meanwhile (look again) or replaced by another transaction with its nonce.
            const mined = await this.provider.getTransactionReceipt(tx.hash);
            if (mined) continue;
            this.journal.setPending(undefined);
            throw new TxDroppedError(`${tx.what} (${tx.hash}) was dropped: nonce ${tx.nonce} is used`);
          }
          if (!/already known|known transaction/i.test((error as Error).message)) throw error;
        }
      }
      if (this.stopping()) throw new StoppedError(`stopped while ${tx.what} (${tx.hash}) was pending`);
      await sleep(this.pollMs);
    }
  }
}

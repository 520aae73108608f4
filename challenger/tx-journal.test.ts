/**
 * The transaction journal on Hardhat's in-process network: a transaction journaled but never broadcast (the
 * daemon killed between the two) is sent by the next settle(), once; one whose nonce was used meanwhile is
 * reported dropped; a revert at estimation is a ContractRevertError and journals nothing.
 */
import hre from "hardhat";
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { hardhatKey } from "./chain.js";
import { deployContracts } from "./protocol.js";
import { ContractRevertError } from "./revert.js";
import { type PendingTx, TxDroppedError, TxRevertedError, TxSender } from "./tx-journal.js";

const provider = new ethers.BrowserProvider(hre.network.provider as unknown as ethers.Eip1193Provider, undefined, { cacheTimeout: -1 });

function memoryJournal() {
  let pending: PendingTx | undefined;
  const writes: (PendingTx | undefined)[] = [];
  return { pending: () => pending, setPending: (tx: PendingTx | undefined) => (writes.push(tx), (pending = tx)), writes };
}

async function signedTransfer(wallet: ethers.Wallet, nonce: number): Promise<PendingTx> {
  const network = await provider.getNetwork();
  const fees = await provider.getFeeData();
  const raw = await wallet.signTransaction({ type: 2, chainId: network.chainId, to: ethers.ZeroAddress, value: 1n, nonce, gasLimit: 21000n, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas });
  return { hash: ethers.keccak256(raw), raw, nonce, what: "transfer" };
}

describe("TxSender", () => {
  it("sends a transaction journaled before a crash, exactly once", async () => {
    const wallet = new ethers.Wallet(hardhatKey(7), provider);
    const journal = memoryJournal();
    const nonce = await provider.getTransactionCount(wallet.address, "pending");
    journal.setPending(await signedTransfer(wallet, nonce)); // journaled, then "killed" before broadcasting
    const receipt = await new TxSender(wallet, journal, () => false).settle();
    expect(receipt?.status).toBe(1);
    expect(receipt?.hash).toBe(journal.writes[0]!.hash);
    expect(journal.pending()).toBeUndefined();
    expect(await provider.getTransactionCount(wallet.address, "latest")).toBe(nonce + 1);
    // Settling again finds nothing to do: nothing is sent twice.
    expect(await new TxSender(wallet, journal, () => false).settle()).toBeUndefined();
    expect(await provider.getTransactionCount(wallet.address, "latest")).toBe(nonce + 1);
  });

  it("reports a journaled transaction whose nonce another transaction used as dropped", async () => {
    const wallet = new ethers.Wallet(hardhatKey(8), provider);
    const journal = memoryJournal();
    const nonce = await provider.getTransactionCount(wallet.address, "pending");
    const stale = await signedTransfer(wallet, nonce);
    await (await wallet.sendTransaction({ to: ethers.ZeroAddress, value: 2n, nonce })).wait();
    journal.setPending(stale);
    await expect(new TxSender(wallet, journal, () => false).settle()).rejects.toThrow(TxDroppedError);
    expect(journal.pending()).toBeUndefined();
  });

  it("a revert at estimation is a typed error and nothing is journaled", async () => {
    const wallet = new ethers.Wallet(hardhatKey(9), provider);
    const c = await deployContracts(wallet, { claimBond: 1n, challengeBond: 1n, window: 60, clock: 60, splitBits: 4 });
    const journal = memoryJournal();
    const error = await new TxSender(wallet, journal, () => false).send(c.oracle, "challenge", [12345n], { value: 1n }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractRevertError);
    expect((error as ContractRevertError).errorName).toBe("ClaimUnknown");
    expect(journal.writes).toEqual([]);
    const receipt = await new TxSender(wallet, journal, () => false).send(c.oracle, "request", [ethers.ZeroHash, [], ethers.ZeroAddress]).catch((e: unknown) => e);
    expect((receipt as ContractRevertError).errorName).toBe("ModelUnknown");
  });

  it("with a gas limit given, it signs with that limit without estimating: a batch sets its own limit", async () => {
    const wallet = new ethers.Wallet(hardhatKey(10), provider);
    const c = await deployContracts(wallet, { claimBond: 1n, challengeBond: 1n, window: 60, clock: 60, splitBits: 4 });
    const journal = memoryJournal();
    // A call that reverts is not caught at estimation when there is none: it is mined, reverted, and journaled once.
    const error = await new TxSender(wallet, journal, () => false).send(c.oracle, "challenge", [12345n], { value: 1n, gasLimit: 90_000n, what: "challenge 12345" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TxRevertedError);
    expect(journal.writes).toHaveLength(2);
    expect(journal.writes[0]!.what).toBe("challenge 12345");
    expect(journal.pending()).toBeUndefined();
    const tx = await provider.getTransaction(journal.writes[0]!.hash);
    expect(tx?.gasLimit).toBe(90_000n);
    // With simulate, the call is run at that limit first: the revert is named and nothing is sent.
    const simulated = await new TxSender(wallet, journal, () => false).send(c.oracle, "challenge", [12345n], { value: 1n, gasLimit: 90_000n, simulate: true }).catch((e: unknown) => e);
    expect((simulated as ContractRevertError).errorName).toBe("ClaimUnknown");
    expect(journal.writes).toHaveLength(2);
  });
});

/**
 * The transaction pipeline on Hardhat's in-process network with automine off, so that every block is mined by the
 * test: many transactions in flight in one block, a journal that survives a restart (nonces continue, a journaled
 * transaction the node never got is sent exactly once), a fee spike that strands a transaction until it is
 * repriced, the --max-fee cap, a nonce taken by another transaction, and a key with no funds.
 */
import hre from "hardhat";
import { ethers } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hardhatKey } from "./chain.js";
import type { LogFields } from "./log.js";
import { BroadcastFundsError, type JournaledTx, PipelineFullError, type TxOutcome, TxPipeline, bumped } from "./tx-pipeline.js";

const provider = new ethers.BrowserProvider(hre.network.provider as unknown as ethers.Eip1193Provider, undefined, { cacheTimeout: -1 });
const rpc = (method: string, params: unknown[] = []) => hre.network.provider.send(method, params);
const gwei = (n: number) => ethers.parseUnits(String(n), "gwei");

function memoryJournal(txs: JournaledTx[] = []) {
  return { txs: () => txs, save: () => {}, list: txs };
}

function recorder() {
  const lines: { event: string; fields: LogFields }[] = [];
  return { log: (_level: string, event: string, fields: LogFields = {}) => void lines.push({ event, fields }), lines };
}

const head = async () => (await provider.getBlock("latest"))!;
const mine = () => rpc("evm_mine");
const transfer = (to: string, n: bigint) => ({ to, data: "0x", value: n, gasLimit: 21_000n, what: `transfer ${n}`, tags: [`transfer:${n}`] });
const mined = (outcomes: TxOutcome[]) => outcomes.filter((o): o is Extract<TxOutcome, { receipt: unknown }> => "receipt" in o);

beforeAll(async () => {
  await rpc("evm_setAutomine", [false]);
});

afterAll(async () => {
  await rpc("evm_setAutomine", [true]);
});

describe("TxPipeline", () => {
  it("keeps many transactions in flight: consecutive nonces, one block, their tags busy until mined", async () => {
    const wallet = new ethers.Wallet(hardhatKey(11), provider);
    const journal = memoryJournal();
    const pipeline = new TxPipeline(wallet, journal, { maxInFlight: 3, log: recorder().log });
    const first = await provider.getTransactionCount(wallet.address, "latest");
    for (const n of [1n, 2n, 3n]) await pipeline.submit(transfer(ethers.ZeroAddress, n), await head());
    expect(journal.list.map((t) => t.nonce)).toEqual([first, first + 1, first + 2]);
    expect([...pipeline.busyTags()]).toEqual(["transfer:1", "transfer:2", "transfer:3"]);
    await expect(pipeline.submit(transfer(ethers.ZeroAddress, 4n), await head())).rejects.toThrow(PipelineFullError);
    await mine();
    const outcomes = mined(await pipeline.poll(await head()));
    expect(outcomes.map((o) => o.receipt.status)).toEqual([1, 1, 1]);
    expect(new Set(outcomes.map((o) => o.receipt.blockNumber)).size).toBe(1);
    expect(pipeline.busyTags().size).toBe(0);
    // Mined ones stay journaled (watched for reorgs) until 6 deep, then are forgotten.
    for (let k = 0; k < 6; k++) await mine();
    expect(await pipeline.poll(await head())).toEqual([]);
    expect(journal.list).toEqual([]);
  });

  it("after a restart, continues the journal's nonces and sends a journaled transaction the node never got, once", async () => {
    const wallet = new ethers.Wallet(hardhatKey(12), provider);
    const before = await provider.getTransactionCount(wallet.address, "latest");
    const journal = memoryJournal();
    await new TxPipeline(wallet, journal, { log: recorder().log }).submit(transfer(ethers.ZeroAddress, 5n), await head());
    // The node forgets it (as a crash between journaling and broadcasting, or a restarted node, would leave it).
    await rpc("hardhat_dropTransaction", [journal.list[0].versions[0].hash]);
    await mine();
    expect(await provider.getTransactionCount(wallet.address, "latest")).toBe(before);
    // A new process: the journal from disk, no memory of the broadcast.
    const restarted = new TxPipeline(wallet, memoryJournal(JSON.parse(JSON.stringify(journal.list))), { log: recorder().log });
    expect(await restarted.poll(await head())).toEqual([]); // broadcast again, not mined yet
    await restarted.submit(transfer(ethers.ZeroAddress, 6n), await head());
    await mine();
    const outcomes = mined(await restarted.poll(await head()));
    expect(outcomes.map((o) => [o.tx.nonce, o.receipt.status])).toEqual([
      [before, 1],
      [before + 1, 1],
    ]);
    expect(outcomes[0].receipt.hash).toBe(journal.list[0].versions[0].hash); // the same signed bytes
    expect(await provider.getTransactionCount(wallet.address, "latest")).toBe(before + 2);
  });

  it("a fee spike strands a transaction until it is repriced (+12.5% and 2 × base fee), then it is mined", async () => {
    const wallet = new ethers.Wallet(hardhatKey(13), provider);
    const log = recorder();
    const journal = memoryJournal();
    const pipeline = new TxPipeline(wallet, journal, { bumpAfterBlocks: 2, log: log.log });
    await rpc("hardhat_setNextBlockBaseFeePerGas", ["0x" + gwei(1).toString(16)]);
    await mine();
    await pipeline.submit(transfer(ethers.ZeroAddress, 7n), await head());
    const signedMax = BigInt(journal.list[0].versions[0].maxFee);
    expect(signedMax).toBeLessThan(gwei(50));
    let outcomes: TxOutcome[] = [];
    for (let block = 0; block < 6 && mined(outcomes).length === 0; block++) {
      await rpc("hardhat_setNextBlockBaseFeePerGas", ["0x" + gwei(50).toString(16)]); // a sustained spike
      await mine();
      outcomes = await pipeline.poll(await head());
    }
    if (mined(outcomes).length === 0) {
      await rpc("hardhat_setNextBlockBaseFeePerGas", ["0x" + gwei(50).toString(16)]);
      await mine();
      outcomes = await pipeline.poll(await head());
    }
    const [done] = mined(outcomes);
    expect(done.receipt.status).toBe(1);
    expect(done.receipt.hash).toBe(journal.list[0].versions.at(-1)!.hash);
    expect(journal.list[0].versions.length).toBeGreaterThan(1);
    const repriced = log.lines.filter((l) => l.event === "tx-repriced");
    expect(repriced.length).toBeGreaterThan(0);
    expect(ethers.parseUnits(String(repriced[0].fields.maxFeeGwei), "gwei")).toBeGreaterThanOrEqual(2n * gwei(50));
    await rpc("hardhat_setNextBlockBaseFeePerGas", ["0x" + gwei(1).toString(16)]);
    await mine();
  });

  it("never signs above --max-fee: at the cap it waits, said once, and is mined when the base fee falls", async () => {
    const wallet = new ethers.Wallet(hardhatKey(14), provider);
    const log = recorder();
    const journal = memoryJournal();
    const pipeline = new TxPipeline(wallet, journal, { bumpAfterBlocks: 1, maxFee: gwei(20), log: log.log });
    await pipeline.submit(transfer(ethers.ZeroAddress, 8n), await head());
    for (let block = 0; block < 8; block++) {
      await rpc("hardhat_setNextBlockBaseFeePerGas", ["0x" + gwei(60).toString(16)]);
      await mine();
      expect(mined(await pipeline.poll(await head()))).toEqual([]);
    }
    expect(journal.list[0].versions.every((v) => BigInt(v.maxFee) <= gwei(20))).toBe(true);
    expect(log.lines.filter((l) => l.event === "fee-capped")).toHaveLength(1);
    await rpc("hardhat_setNextBlockBaseFeePerGas", ["0x" + gwei(1).toString(16)]);
    await mine();
    const [done] = mined(await pipeline.poll(await head()));
    expect(done.receipt.status).toBe(1);
  });

  it("reports a transaction whose nonce another transaction used as dropped, and frees its tags", async () => {
    const wallet = new ethers.Wallet(hardhatKey(15), provider);
    const journal = memoryJournal();
    const pipeline = new TxPipeline(wallet, journal, { log: recorder().log });
    const tx = await pipeline.submit(transfer(ethers.ZeroAddress, 9n), await head());
    await rpc("hardhat_dropTransaction", [tx.versions[0].hash]);
    await wallet.sendTransaction({ to: ethers.ZeroAddress, value: 10n, nonce: tx.nonce, gasLimit: 21_000n });
    await mine();
    const outcomes = await pipeline.poll(await head());
    expect(outcomes).toHaveLength(1);
    expect("dropped" in outcomes[0] && outcomes[0].dropped).toMatch(/nonce .* was used/);
    expect(journal.list).toEqual([]);
    expect(pipeline.busyTags().size).toBe(0);
  });

  it("a key with no funds: refused at once, nothing journaled, the nonce still free", async () => {
    const empty = new ethers.Wallet(ethers.Wallet.createRandom().privateKey, provider);
    const journal = memoryJournal();
    const pipeline = new TxPipeline(empty, journal, { log: recorder().log });
    await expect(pipeline.submit(transfer(ethers.ZeroAddress, 1n), await head())).rejects.toThrow(BroadcastFundsError);
    expect(journal.list).toEqual([]);
  });

  it("a replacement clears the nodes' +10% rule on both fees", () => {
    for (const fee of [0n, 1n, 7n, gwei(1), gwei(123)]) {
      expect(bumped(fee) * 10n).toBeGreaterThanOrEqual(fee * 11n);
      expect(bumped(fee)).toBeGreaterThan(fee);
    }
  });
});

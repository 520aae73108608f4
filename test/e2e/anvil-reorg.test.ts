/**
 * reorg() (localchain/anvil-node.ts) on a real anvil: the last `depth` blocks are replaced at the same height, their
 * transactions are gone from the chain (no receipt, no transaction, not pending again), the block below is
 * untouched, and a transaction handed to the reorg lands in the replacement block at its offset.
 */
import { ethers } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hardhatKey } from "../../challenger/chain.js";
import { reorg } from "../../localchain/anvil-node.js";
import { type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { rpcCall } from "../../localchain/miner.js";

let node: LocalNode;
let provider: ethers.JsonRpcProvider;

beforeAll(async () => {
  node = await startLocalNode({ engine: "anvil" });
  provider = new ethers.JsonRpcProvider(node.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337), pollingInterval: 50 });
}, 60_000);

afterAll(async () => {
  provider?.destroy();
  await node?.stop();
});

it("reorg(rpc, 3): the last 3 blocks get new hashes at the same height, their transactions vanish, a given transaction lands at its offset", async () => {
  const wallet = new ethers.Wallet(hardhatKey(1), provider);
  const sink = new ethers.Wallet(hardhatKey(25)).address; // unfunded: its balance counts the surviving payments
  const mined: ethers.TransactionReceipt[] = [];
  for (let k = 0; k < 4; k++) mined.push((await (await wallet.sendTransaction({ to: sink, value: BigInt(k + 1) })).wait())!);
  const top = await provider.getBlockNumber();
  expect(mined.map((r) => r.blockNumber)).toEqual([top - 3, top - 2, top - 1, top]);
  const hashesBefore = await Promise.all([top - 3, top - 2, top - 1, top].map(async (n) => (await provider.getBlock(n))!.hash));
  expect(await provider.getBalance(sink)).toBe(1n + 2n + 3n + 4n);

  // One replacement transaction (a request from an unlocked account) at offset 1: the second replaced block.
  const to = new ethers.Wallet(hardhatKey(2)).address;
  await reorg(node.rpc, 3, [[{ from: new ethers.Wallet(hardhatKey(3)).address, to, value: "0x7" }, 1]]);
  expect(await provider.getBlockNumber()).toBe(top);
  const hashesAfter = await Promise.all([top - 3, top - 2, top - 1, top].map(async (n) => (await provider.getBlock(n))!.hash));
  expect(hashesAfter[0]).toBe(hashesBefore[0]);
  for (let k = 1; k < 4; k++) expect(hashesAfter[k]).not.toBe(hashesBefore[k]);
  // The block below the reorg keeps its transaction; the three above lost theirs for good.
  expect(await provider.getTransactionReceipt(mined[0].hash)).not.toBeNull();
  for (const r of mined.slice(1)) {
    expect(await provider.getTransactionReceipt(r.hash)).toBeNull();
    expect(await provider.getTransaction(r.hash)).toBeNull();
  }
  expect(await rpcCall(node.rpc, "txpool_content")).toEqual({ pending: {}, queued: {} });
  expect(await provider.getBalance(sink)).toBe(1n);
  // The replacement transaction is in block top - 1 (offset 1 from the first replaced block, top - 2).
  const replaced = (await provider.getBlock(top - 1))!;
  expect(replaced.transactions).toHaveLength(1);
  const tx = (await provider.getTransaction(replaced.transactions[0]))!;
  expect([tx.to, tx.value]).toEqual([to, 7n]);
  expect((await provider.getBlock(top - 2))!.transactions).toEqual([]);
  expect((await provider.getBlock(top))!.transactions).toEqual([]);
}, 60_000);

it("reorg deeper than the chain is refused in one line", async () => {
  const height = await provider.getBlockNumber();
  await expect(reorg(node.rpc, height + 5)).rejects.toThrow(/^anvil_reorg: /);
  expect(await provider.getBlockNumber()).toBe(height);
});

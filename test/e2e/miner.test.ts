/**
 * The miner (localchain/miner.ts) on both engines, as the flood scenarios and the capped-logs test use it: with
 * automine off, transactions sent together wait and land in one block; blocks come every intervalMs of wall time,
 * each exactly 12 s of chain time after the last; after stop() no block comes and a transaction stays pending.
 * And mineEvery: empty blocks on an idle chain while automine stays on.
 */
import { ethers } from "ethers";
import { afterEach, describe, expect, it } from "vitest";
import { hardhatKey } from "../../challenger/chain.js";
import { until } from "../../localchain/daemon-process.js";
import { ENGINES, type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { mineEvery, rpcCall, setAutomine, startMiner } from "../../localchain/miner.js";

let node: LocalNode | undefined;

afterEach(async () => {
  await node?.stop();
  node = undefined;
});

const head = async (rpc: string) => Number(BigInt((await rpcCall(rpc, "eth_blockNumber")) as string));

describe.each(ENGINES)("on a %s chain", (engine) => {
  it("the miner: one block for transactions sent together, a block every intervalMs at +12 s, none after stop", async () => {
    node = await startLocalNode({ engine });
    const provider = new ethers.JsonRpcProvider(node.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337), pollingInterval: 50 });
    const wallet = new ethers.Wallet(hardhatKey(1), provider);
    const from = await head(node.rpc);
    // Automine off: three transactions wait in the pool, then the miner's first block takes them all.
    await setAutomine(node.rpc, false);
    let nonce = await provider.getTransactionCount(wallet.address);
    const sent = [];
    for (let k = 0; k < 3; k++) sent.push(await wallet.sendTransaction({ to: ethers.ZeroAddress, value: 1n, nonce: nonce++, gasLimit: 21_000n }));
    await new Promise((r) => setTimeout(r, 300));
    expect(await head(node.rpc)).toBe(from);
    const miner = await startMiner(node.rpc, { intervalMs: 200, blockSeconds: 12 });
    const receipts = await Promise.all(sent.map(async (t) => (await t.wait())!));
    expect(receipts.map((r) => r.blockNumber)).toEqual([from + 1, from + 1, from + 1]);
    await until("6 mined blocks", 30, () => miner.mined >= 6);
    await miner.stop();
    const last = await head(node.rpc);
    expect(last - from).toBe(miner.mined);
    const blocks = await Promise.all(Array.from({ length: last - from + 1 }, (_, k) => provider.getBlock(from + k)));
    for (let k = 1; k < blocks.length; k++) expect(blocks[k]!.timestamp - blocks[k - 1]!.timestamp).toBe(12);
    expect(blocks.at(-1)!.timestamp).toBe(miner.lastTimestamp);
    // Stopped, with automine still off: nothing is mined, a transaction waits.
    const waiting = await wallet.sendTransaction({ to: ethers.ZeroAddress, value: 1n, nonce: nonce++, gasLimit: 21_000n });
    await new Promise((r) => setTimeout(r, 600));
    expect(await head(node.rpc)).toBe(last);
    expect(await provider.getTransactionReceipt(waiting.hash)).toBeNull();
    provider.destroy();
  }, 90_000);

  it("mineEvery: empty blocks on an idle automining chain, and transactions still mined at once", async () => {
    node = await startLocalNode({ engine });
    const from = await head(node.rpc);
    const ticker = mineEvery(node.rpc, 100);
    await until("5 empty blocks", 20, async () => (await head(node!.rpc)) >= from + 5);
    await ticker.stop();
    const provider = new ethers.JsonRpcProvider(node.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337), pollingInterval: 50 });
    const before = await head(node.rpc);
    const receipt = await (await new ethers.Wallet(hardhatKey(1), provider).sendTransaction({ to: ethers.ZeroAddress, value: 1n })).wait();
    expect(receipt!.blockNumber).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(await head(node.rpc)).toBe(before + 1);
    provider.destroy();
  }, 60_000);
});

/**
 * Batches on Hardhat's in-process network: reveals (anyone's, and checked only by hash, so any 16 nodes make one)
 * sent through BisectionGame.multicall. Each call's own estimate drops the ones that would revert; the gas limit
 * from the sum of the estimates lands every call; and the reason this matters: an estimate of the whole multicall
 * comes back lower, at a limit where inner calls run out of gas while the batch itself succeeds.
 */
import hre from "hardhat";
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { hashNode, toHex } from "../vm/hash.js";
import { batchGasLimit, estimateEach, failedCalls, packUrgentFirst } from "./agent-batch.js";
import { hardhatKey } from "./chain.js";
import { type Contracts, deployContracts } from "./protocol.js";

const provider = new ethers.BrowserProvider(hre.network.provider as unknown as ethers.Eip1193Provider, undefined, { cacheTimeout: -1 });

/** 16 random nodes and the node they open 4 levels down (Merkle.subtreeRoot). */
function subtree(): { node: string; nodes: string[] } {
  let level = Array.from({ length: 16 }, () => ethers.getBytes(ethers.randomBytes(32)));
  const nodes = level.map(toHex);
  while (level.length > 1) level = Array.from({ length: level.length / 2 }, (_, k) => hashNode(level[2 * k], level[2 * k + 1]));
  return { node: toHex(level[0]), nodes };
}

let c: Contracts;
let wallet: ethers.Wallet;

beforeAll(async () => {
  wallet = new ethers.Wallet(hardhatKey(11), provider);
  c = await deployContracts(wallet, { claimBond: 1n, challengeBond: 1n, window: 600, clock: 600, splitBits: 4 });
});

const revealCall = (s: { node: string; nodes: string[] }) => c.game.interface.encodeFunctionData("reveal", [s.node, 4, s.nodes]);

describe("packUrgentFirst", () => {
  const item = (urgency: number, gas: number) => ({ urgency, gas: BigInt(gas) });

  it("takes the least clock left first, up to the budget; the rest waits, in order", () => {
    const items = [item(900, 40), item(100, 50), item(500, 30), item(100, 20), item(1800, 10)];
    const { batch, deferred } = packUrgentFirst(items, 100n);
    expect(batch).toEqual([item(100, 50), item(100, 20), item(500, 30)]);
    // The next one does not fit, so nothing less urgent jumps ahead of it, even one that would fit.
    expect(deferred).toEqual([item(900, 40), item(1800, 10)]);
  });

  it("a single call over the budget still goes, alone", () => {
    const { batch, deferred } = packUrgentFirst([item(5, 500), item(9, 1)], 100n);
    expect(batch).toEqual([item(5, 500)]);
    expect(deferred).toEqual([item(9, 1)]);
  });
});

describe("multicall batches", () => {
  it("each call estimated alone: a call that would revert is dropped with its reason", async () => {
    const done = subtree();
    await (await c.game.connect(wallet).getFunction("reveal")(done.node, 4, done.nodes)).wait();
    const fresh = subtree();
    const wrong = { node: subtree().node, nodes: subtree().nodes };
    const to = c.game.target as string;
    const estimates = await estimateEach(provider, wallet.address, [revealCall(fresh), revealCall(done), revealCall(wrong)].map((data) => ({ to, data })));
    expect("gas" in estimates[0] && estimates[0].gas > 50_000n).toBe(true);
    expect(estimates[1]).toEqual({ error: `AlreadyRevealed(${done.node}, 4)` });
    expect(estimates[2]).toEqual({ error: `ChildrenMismatch(${wrong.node})` });
  });

  it("the sum of the estimates lands every call; a call the chain overtook is skipped and reported, the rest land", async () => {
    const to = c.game.target as string;
    const send = async (calls: string[], gasLimit: bigint) => (await (await c.game.connect(wallet).getFunction("multicall")(calls, { gasLimit })).wait()) as ethers.TransactionReceipt;

    const safe = Array.from({ length: 12 }, subtree).map(revealCall);
    const each = await estimateEach(provider, wallet.address, safe.map((data) => ({ to, data })));
    const limit = batchGasLimit(each.map((e) => ("gas" in e ? e.gas : 0n)));
    const receipt = await send(safe, limit);
    expect(receipt.status).toBe(1);
    expect(failedCalls(receipt, c.game).size).toBe(0);
    expect(receipt.logs.filter((l) => c.game.interface.parseLog(l)?.name === "Revealed")).toHaveLength(12);
    expect(receipt.gasUsed).toBeLessThan(limit);

    // The chain moves between the estimates and the block: a call that fails then is skipped and reported.
    const next = Array.from({ length: 4 }, subtree);
    const nextEach = await estimateEach(provider, wallet.address, next.map((r) => ({ to, data: revealCall(r) })));
    const other = new ethers.Wallet(hardhatKey(12), provider);
    await (await c.game.connect(other).getFunction("reveal")(next[2].node, 4, next[2].nodes)).wait();
    const raced = await send(next.map(revealCall), batchGasLimit(nextEach.map((e) => ("gas" in e ? e.gas : 0n))));
    expect(raced.status).toBe(1);
    expect([...failedCalls(raced, c.game)]).toEqual([[2, `AlreadyRevealed(${next[2].node}, 4)`]]);
    expect(raced.logs.filter((l) => c.game.interface.parseLog(l)?.name === "Revealed")).toHaveLength(3);
  });
});

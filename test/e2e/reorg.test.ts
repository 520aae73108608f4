/**
 * A real reorg in the middle of a game, on anvil (anvil_reorg replaces the newest blocks with empty ones: the
 * transactions they held are gone). Automine off, a 12 s block every 400 ms. After the challenger's first choice
 * is mined, the last 3 blocks are replaced. The daemon must notice (its tail of block hashes; its journal of mined
 * transactions), undo what the dropped blocks did, broadcast its dropped transactions again — the same signed
 * bytes, so nothing is sent twice — and still win the game by proof.
 */
import { ethers } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { reorg } from "../../localchain/anvil-node.js";
import { type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { type Miner, startMiner } from "../../localchain/miner.js";
import { type Daemon, scenario, startDaemon, until } from "./harness.js";

const LIAR = 3;
const CHALLENGER = 4;

let node: LocalNode;
let miner: Miner | undefined;
const daemons: Daemon[] = [];

beforeAll(async () => {
  node = await startLocalNode({ engine: "anvil" });
});

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop("SIGKILL")));
  await miner?.stop().catch(() => {});
  await node.stop();
});

it("a reorg of depth 3 in the middle of a game on anvil: undone, resent once, and the game still won by proof", async () => {
  miner = await startMiner(node.rpc, { intervalMs: 400 });
  const s = await scenario(node.rpc);
  const claimId = await s.claim(LIAR, await s.request(6), { step: 1500 });
  const liar = startDaemon(s, LIAR, ["--defend-only"]);
  const challenger = startDaemon(s, CHALLENGER);
  daemons.push(liar, challenger);
  const choice = await challenger.waitFor("round 1's choice mined", (l) => l.event === "move" && l.move === "choose", 120);
  const provider = new ethers.JsonRpcProvider(node.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const [head, chosenTx] = await Promise.all([provider.getBlockNumber(), provider.getTransaction(String(challenger.lines.find((l) => l.event === "tx-sent" && String(l.what).startsWith("multicall"))!.hash))]);
  expect(Number(choice.block)).toBeGreaterThan(head - 3); // the choice is in the blocks about to be replaced
  await miner.stop();
  const dropped = await provider.getBlock(Number(choice.block));
  await reorg(node.rpc, 3);
  expect((await provider.getBlock(Number(choice.block)))!.hash).not.toBe(dropped!.hash);
  expect(await provider.getTransactionReceipt(chosenTx!.hash)).toBeNull();
  miner = await startMiner(node.rpc, { intervalMs: 400 });

  const { oracle, game } = await s.chain(0);
  await until("the claim voided", 180, async () => Number((await oracle.getClaim(claimId)).status) === 2);
  const noticed = challenger.lines.filter((l) => l.event === "reorg" || l.event === "tx-reorged");
  expect(noticed.length).toBeGreaterThan(0);
  // One game (one bond), won by a one-step proof.
  const games = await oracle.queryFilter(oracle.filters.Challenged(claimId));
  expect(games).toHaveLength(1);
  const gameId = oracle.interface.parseLog(games[0])!.args.gameId as bigint;
  expect(await game.queryFilter(game.filters.Proved(gameId))).toHaveLength(1);
  await challenger.waitFor("the game over", (l) => l.event === "game-over" && l.result === "won", 60);
  // Nothing sent twice: every transaction it signed has its own nonce, every move its own transaction, and the
  // chain's count of its transactions is the number it sent.
  const sent = challenger.lines.filter((l) => l.event === "tx-sent");
  const nonces = sent.map((l) => Number(l.nonce));
  expect(new Set(nonces).size).toBe(nonces.length);
  const tags = sent.flatMap((l) => l.tags as string[]);
  expect(new Set(tags).size).toBe(tags.length);
  const c = await s.chain(CHALLENGER);
  await until("its last transaction mined", 30, async () => (await c.provider.getTransactionCount(c.address, "latest")) === Math.max(...nonces) + 1);
  console.log(`reorg of depth 3 at block ${choice.block}: ${noticed.map((l) => l.event).join(", ")}; ${sent.length} transactions sent, none twice; game ${gameId} won by proof`);
}, 300_000);

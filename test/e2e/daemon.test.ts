/**
 * The daemon end to end: real `mlvm challenger` processes against a real `hardhat node`, over JSON-RPC. Each
 * scenario gets its own deployment, so daemons of one never see another's claims. Accounts: 0 deploys and
 * registers, 1 requests, 2 is an honest proposer, 3 a fraudulent one (its daemon defends its lies from its claim
 * book), 4 the challenger.
 */
import { ethers } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalNode, advanceTime, startLocalNode } from "../../localchain/hardhat-node.js";
import { decodeOutput } from "../../interpreter/run.js";
import { inputLeaves } from "../../challenger/claims.js";
import { eventsIn } from "../../challenger/protocol.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { type Daemon, RpcProxy, type Scenario, digitConsumer, scenario, startDaemon, until } from "./harness.js";

const VOID = 2n;
const FINAL = 3n;
const HONEST = 2;
const LIAR = 3;
const CHALLENGER = 4;
const N = mnist().meta.steps;

let node: LocalNode;
const daemons: Daemon[] = [];

beforeAll(async () => {
  node = await startLocalNode();
  // Empty blocks every 250 ms besides the automined ones, as on a live chain: confirmations then mean something.
  await new ethers.JsonRpcProvider(node.rpc, undefined, { staticNetwork: ethers.Network.from(31337) }).send("evm_setIntervalMining", [250]);
}, 90_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop("SIGKILL")));
  await node?.stop();
});

function daemon(s: Scenario, account: number, extra: string[] = [], rpc?: string): Daemon {
  const d = startDaemon(s, account, extra, rpc);
  daemons.push(d);
  return d;
}

const balance = async (s: Scenario, account: number) => {
  const c = await s.chain(account);
  return c.provider.getBalance(c.address);
};

const status = async (s: Scenario, claimId: bigint) => BigInt((await (await s.chain(0)).oracle.getClaim(claimId)).status);

/** Game ids started against `claimId` (from the oracle's Challenged events). */
async function gamesAgainst(s: Scenario, claimId: bigint): Promise<bigint[]> {
  const { oracle } = await s.chain(0);
  return (await oracle.queryFilter(oracle.filters.Challenged(claimId))).map((l) => oracle.interface.parseLog(l)!.args.gameId as bigint);
}

/** How game `gameId` ended: by a one-step proof or a timeout. */
async function ending(s: Scenario, gameId: bigint): Promise<string[]> {
  const { game } = await s.chain(0);
  const logs = [...(await game.queryFilter(game.filters.Proved(gameId))), ...(await game.queryFilter(game.filters.TimedOut(gameId)))];
  return logs.map((l) => game.interface.parseLog(l)!.name);
}

describe("mlvm challenger against a hardhat node", () => {
  it("leaves an honest claim alone; the proposer's daemon finalizes it and the consumer gets the VM's digit", async () => {
    const s = await scenario(node.rpc);
    const consumer = await digitConsumer(s);
    const c1 = await s.chain(1);
    const receipt = await (await consumer.classify(inputLeaves(mnistInput(3)))).wait();
    const requestId = eventsIn(receipt, consumer, "Asked")[0].args.requestId as bigint;
    const claimId = await s.claim(HONEST, requestId);
    const challenger = daemon(s, CHALLENGER);
    const proposer = daemon(s, HONEST, ["--defend-only"]);
    await challenger.waitFor("its verdict", (l) => l.event === "verdict" && l.claim === claimId.toString());
    expect(challenger.lines.find((l) => l.event === "verdict")!.verdict).toBe("valid");
    await advanceTime(c1.provider, 3601);
    await proposer.waitFor("finalize", (l) => l.event === "finalize" && l.claim === claimId.toString());
    expect(await status(s, claimId)).toBe(FINAL);
    const expected = decodeOutput(mnist().program, s.shelved.machine.run(mnistInput(3))).prediction;
    expect(await consumer.answered(requestId)).toBe(true);
    expect(await consumer.digitOf(requestId)).toBe(BigInt(expected));
    await proposer.waitFor("its bond withdrawn", (l) => l.event === "withdraw");
    expect(await gamesAgainst(s, claimId)).toEqual([]);
    expect(challenger.lines.some((l) => l.event === "challenge")).toBe(false);
    await Promise.all([challenger.stop(), proposer.stop()]);
    expect(challenger.lines.at(-1)!.event).toBe("stopped");
  }, 120_000);

  it("challenges and wins against a wrong output and a wrong state at a random step, with confirmations; the challenger ends richer", async () => {
    const s = await scenario(node.rpc);
    const start = await balance(s, CHALLENGER);
    const step = 1 + Math.floor(Math.random() * (N - 1));
    const wrongOutput = await s.claim(LIAR, await s.request(0), { step: N });
    const wrongState = await s.claim(LIAR, await s.request(1), { step });
    const liar = daemon(s, LIAR, ["--defend-only", "--confirmations", "2"]);
    const challenger = daemon(s, CHALLENGER, ["--confirmations", "2"]);
    for (const claimId of [wrongOutput, wrongState]) {
      await challenger.waitFor(`the game over claim ${claimId}`, (l) => l.event === "game-over" && l.claim === claimId.toString(), 90);
      expect(await status(s, claimId)).toBe(VOID);
      const [gameId] = await gamesAgainst(s, claimId);
      expect(await ending(s, gameId)).toEqual(["Proved"]);
      // It acted on the claim only once the claim was 2 blocks deep.
      const { oracle } = await s.chain(0);
      const [claimed] = await oracle.queryFilter(oracle.filters.Claimed(claimId));
      const [challenged] = await oracle.queryFilter(oracle.filters.Challenged(claimId));
      expect(challenged.blockNumber).toBeGreaterThan(claimed.blockNumber + 2);
    }
    expect(challenger.lines.filter((l) => l.event === "game-over").every((l) => l.result === "won")).toBe(true);
    expect(liar.lines.filter((l) => l.event === "game-over").every((l) => l.result === "lost")).toBe(true);
    await challenger.waitFor("withdrawal", (l) => l.event === "withdraw");
    // Two claim bonds won, minus gas: more than it started with.
    expect(await balance(s, CHALLENGER)).toBeGreaterThan(start + ethers.parseEther("1.9"));
    await Promise.all([challenger.stop(), liar.stop()]);
  }, 180_000);

  it("kill -9 mid-game and a restart: it resumes the same game and still wins by proof", async () => {
    const s = await scenario(node.rpc);
    const claimId = await s.claim(LIAR, await s.request(2), { step: 1000 + Math.floor(Math.random() * 2000) });
    const liar = daemon(s, LIAR, ["--defend-only"]);
    const first = daemon(s, CHALLENGER);
    await first.waitFor("round 5", (l) => l.event === "move" && l.move === "choose" && Number(l.round) >= 5, 90);
    first.process.kill("SIGKILL");
    expect(await first.exited).toBeNull();
    await new Promise((r) => setTimeout(r, 1500));
    const second = daemon(s, CHALLENGER);
    const started = await second.waitFor("start", (l) => l.event === "start");
    expect(started.resumed).toBe(true);
    await second.waitFor("the game's end", (l) => l.event === "game-over", 90);
    expect(second.lines.find((l) => l.event === "game-over")!.result).toBe("won");
    expect(await status(s, claimId)).toBe(VOID);
    const games = await gamesAgainst(s, claimId);
    expect(games).toHaveLength(1); // not challenged twice
    expect(await ending(s, games[0])).toEqual(["Proved"]);
    // The restarted daemon went on from where the first stopped, not from round 1.
    const firstRound = second.lines.find((l) => l.event === "move")!;
    expect(Number(firstRound.round)).toBeGreaterThanOrEqual(5);
    expect(second.lines.some((l) => l.event === "challenge")).toBe(false);
    await Promise.all([second.stop(), liar.stop()]);
  }, 180_000);

  it("rides out an RPC outage of several seconds mid-game and wins", async () => {
    const s = await scenario(node.rpc);
    const proxy = new RpcProxy(node.port);
    await proxy.listen();
    const claimId = await s.claim(LIAR, await s.request(4), { step: N });
    const liar = daemon(s, LIAR, ["--defend-only"]);
    const challenger = daemon(s, CHALLENGER, [], proxy.url);
    await challenger.waitFor("round 3", (l) => l.event === "move" && Number(l.round) >= 3, 90);
    await proxy.cut();
    const cutAt = challenger.lines.length;
    await challenger.waitFor("a failed RPC call", (l) => l.event === "rpc-retry", 30, cutAt);
    await new Promise((r) => setTimeout(r, 4000));
    await proxy.restore();
    await challenger.waitFor("the game's end", (l) => l.event === "game-over", 90, cutAt);
    expect(challenger.lines.slice(cutAt).find((l) => l.event === "game-over")!.result).toBe("won");
    expect(await status(s, claimId)).toBe(VOID);
    const [gameId] = await gamesAgainst(s, claimId);
    expect(await ending(s, gameId)).toEqual(["Proved"]);
    await Promise.all([challenger.stop(), liar.stop()]);
    await proxy.cut();
  }, 180_000);

  it("20 concurrent claims, a quarter fraudulent: every fraud slashed, no honest claim challenged", async () => {
    const s = await scenario(node.rpc);
    const challenger = daemon(s, CHALLENGER);
    await challenger.waitFor("start", (l) => l.event === "start");
    const requests = [];
    for (let k = 0; k < 20; k++) requests.push(await s.request(10 + k));
    const claims: { claimId: bigint; fraud: boolean }[] = [];
    for (const [k, requestId] of requests.entries()) {
      const fraud = k % 4 === 1;
      claims.push({ claimId: await s.claim(fraud ? LIAR : HONEST, requestId, fraud ? { step: 1 + ((k * 977) % N) } : undefined), fraud });
    }
    const liar = daemon(s, LIAR, ["--defend-only"]);
    const fraudulent = claims.filter((c) => c.fraud);
    expect(fraudulent).toHaveLength(5);
    await until("every fraud void", 150, async () => (await Promise.all(fraudulent.map((c) => status(s, c.claimId)))).every((x) => x === VOID));
    for (const c of claims) {
      const games = await gamesAgainst(s, c.claimId);
      expect(games).toHaveLength(c.fraud ? 1 : 0);
      if (!c.fraud) expect(await status(s, c.claimId)).toBe(1n);
    }
    const verdicts = challenger.lines.filter((l) => l.event === "verdict");
    expect(verdicts).toHaveLength(20);
    await challenger.waitFor("five won games", () => challenger.lines.filter((l) => l.event === "game-over" && l.result === "won").length === 5, 60);
    await Promise.all([challenger.stop(), liar.stop()]);
  }, 240_000);
});

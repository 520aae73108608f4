/**
 * The daemon end to end: real `mlvm challenger` processes against a real local chain over JSON-RPC, once on a
 * `hardhat node` and once on anvil (ENGINES). Each scenario gets its own deployment, so daemons of one never see
 * another's claims. Accounts: 0 deploys and
 * registers, 1 requests, 2 is an honest proposer, 3 a fraudulent one (its daemon defends its lies from its claim
 * book), 4 the challenger (or, with --defend-only, a guardian of others' honest claims), 5 a scripted attacker.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ethers } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINES, type LocalNode, advanceTime, startLocalNode } from "../../localchain/local-node.js";
import { mineEvery } from "../../localchain/miner.js";
import { decodeOutput } from "../../interpreter/run.js";
import type { AgentStateData } from "../../challenger/agent-state.js";
import { inputLeaves } from "../../challenger/claims.js";
import { eventsIn, position, revealedNodes } from "../../challenger/protocol.js";
import { sendTx } from "../../challenger/revert.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { spawnDaemon } from "../../localchain/daemon-process.js";
import { type Daemon, RpcProxy, type Scenario, digitConsumer, scenario, startDaemon, until } from "./harness.js";

const VOID = 2n;
const FINAL = 3n;
const HONEST = 2;
const LIAR = 3;
const CHALLENGER = 4;
const ATTACKER = 5;
const N = mnist().meta.steps;

let node: LocalNode;
const daemons: Daemon[] = [];

function daemon(s: Scenario, account: number, extra: string[] = [], rpc?: string): Daemon {
  const d = startDaemon(s, account, extra, rpc);
  daemons.push(d);
  return d;
}

const balance = async (s: Scenario, account: number) => {
  const c = await s.chain(account);
  return c.provider.getBalance(c.address);
};

/** Sends `value` wei from account 0 to `to`. */
async function sendTxValue(s: Scenario, to: string, value: bigint): Promise<void> {
  await (await (await s.chain(0)).wallet.sendTransaction({ to, value })).wait();
}

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

describe.each(ENGINES)("mlvm challenger against a %s node", (engine) => {
  let ticker: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    node = await startLocalNode({ engine });
    // Empty blocks every 250 ms besides the automined ones, as on a live chain: confirmations then mean something.
    ticker = mineEvery(node.rpc, 250);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop("SIGKILL")));
    await ticker?.stop();
    await node?.stop();
  });

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

  it("defends someone else's honest claim while its claimant is offline: reveals for it and proves its leaf", async () => {
    const s = await scenario(node.rpc);
    const claimId = await s.claim(HONEST, await s.request(6));
    const guardian = daemon(s, CHALLENGER, ["--defend-only"]);
    await guardian.waitFor("its verdict", (l) => l.event === "verdict" && l.claim === claimId.toString());
    // A scripted attacker challenges the honest claim and picks a random revealed node each round.
    const attacker = await s.chain(ATTACKER);
    const receipt = await sendTx(attacker.oracle, "challenge", [claimId], await attacker.oracle.challengeBond());
    const gameId = eventsIn(receipt, attacker.oracle, "Challenged")[0].args.gameId as bigint;
    let picks = 0;
    await until("the game's end", 90, async () => {
      const p = await position(attacker, gameId);
      if (!p.active) return true;
      if (p.levels > 0 && p.revealedAt !== 0) {
        const nodes = (await revealedNodes(attacker, p.node, p.levels))!;
        await sendTx(attacker.game, "choose", [gameId, nodes, Math.floor(Math.random() * nodes.length)]);
        picks++;
      }
      return false; // at the leaf the claim's defender proves the step (the attacker would only lose by it)
    });
    expect(picks).toBe(3);
    const { oracle, game } = await s.chain(0);
    expect((await game.game(gameId)).challengerWon).toBe(false);
    expect(await ending(s, gameId)).toEqual(["Proved"]);
    expect(await status(s, claimId)).toBe(1n); // still open, for its claimant to finalize
    // The attacker's bond went to the claimant, who never ran anything.
    expect(await oracle.credit((await s.chain(HONEST)).address)).toBe(await oracle.challengeBond());
    // The chain may show the game over before the daemon has logged its proof: its log is read once it has.
    await guardian.waitFor("its proof", (l) => l.event === "move" && l.move === "prove" && l.game === gameId.toString());
    await guardian.waitFor("the game over", (l) => l.event === "game-over" && l.game === gameId.toString() && l.result === "won");
    const moves = guardian.lines.filter((l) => l.event === "move" && l.game === gameId.toString());
    expect(moves.map((l) => l.move)).toEqual(["reveal", "reveal", "reveal", "prove"]);
    expect(moves.every((l) => l.role === "defender" && l.own === false)).toBe(true);
    await guardian.stop();
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
    const lastOver = challenger.lines.map((l) => l.event).lastIndexOf("game-over");
    await challenger.waitFor("the withdrawal after both wins", (l) => l.event === "withdraw", 60, lastOver);
    // Each win: its bond back and the unburned half of the claim bond (it is the sole winner, paid at settlement).
    expect(challenger.lines.filter((l) => l.event === "claim-settled").map((l) => [l.winners, l.shareWei, l.burnedWei])).toEqual([
      ["1", ethers.parseEther("0.5").toString(), ethers.parseEther("0.5").toString()],
      ["1", ethers.parseEther("0.5").toString(), ethers.parseEther("0.5").toString()],
    ]);
    expect(await balance(s, CHALLENGER)).toBeGreaterThan(start + ethers.parseEther("0.9"));
    await Promise.all([challenger.stop(), liar.stop()]);
    // Both claims settled and paid: the state file keeps nothing of them but their requests' blocks (a voided
    // request may be claimed again: its input is then read from that one block).
    const c4 = await s.chain(CHALLENGER);
    const state = JSON.parse(readFileSync(join(s.stateDir, `agent-${c4.chainId}-${c4.address.toLowerCase()}.json`), "utf8")) as AgentStateData;
    expect([Object.keys(state.claims), Object.keys(state.games), Object.values(state.requests).map((b) => typeof b)]).toEqual([[], [], ["number", "number"]]);
    expect(state.totals).toMatchObject({ challenged: 2, won: 2, lost: 0 });
  }, 180_000);

  it("kill -9 mid-game and a restart: it resumes the same game and still wins by proof", async () => {
    const s = await scenario(node.rpc);
    const claimId = await s.claim(LIAR, await s.request(2), { step: 1000 + Math.floor(Math.random() * 2000) });
    const liar = daemon(s, LIAR, ["--defend-only"]);
    const first = daemon(s, CHALLENGER);
    // Killed after its first choice (of 3 rounds), so that the restart has a choice and the proof still to make.
    await first.waitFor("round 1's choice", (l) => l.event === "move" && l.move === "choose", 90);
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
    // The restarted daemon went on from where the first stopped, not from round 1, and made the proof.
    const moves = second.lines.filter((l) => l.event === "move");
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.every((l) => l.move === "prove" || Number(l.round) >= 2)).toBe(true);
    expect(moves.at(-1)!.move).toBe("prove");
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
    // Cut after its first move, with two choices and the proof still to make.
    await challenger.waitFor("round 1's choice", (l) => l.event === "move" && l.move === "choose", 90);
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

  it("a thin wallet and a small gas budget: challenges earliest deadline first as far as it can pay, batches split, every lie falls", async () => {
    const s = await scenario(node.rpc);
    const lies: bigint[] = [];
    for (let k = 0; k < 3; k++) lies.push(await s.claim(LIAR, await s.request(40 + k), { step: 1 + ((k * 1117) % N) }));
    // 1.2 ETH: two challenge bonds (0.5 each) and gas, not three.
    const thin = ethers.Wallet.createRandom();
    await sendTxValue(s, thin.address, ethers.parseEther("1.2"));
    const liar = daemon(s, LIAR, ["--defend-only"]);
    const challenger = spawnDaemon({ deployments: s.deployments, modelsDir: s.modelsDir, stateDir: s.stateDir, key: thin.privateKey, extra: ["--gas-budget", "300000"], name: "thin" });
    daemons.push(challenger);
    await until("every lie void", 150, async () => (await Promise.all(lies.map((id) => status(s, id)))).every((x) => x === VOID));
    // One challenge per transaction (two would exceed the budget), in deadline order, the third once a win paid.
    const challenges = challenger.lines.filter((l) => l.event === "challenge");
    expect(challenges.map((l) => l.claim)).toEqual(lies.map(String));
    expect(challenger.lines.filter((l) => l.event === "challenge-batch").every((l) => l.claims === 1)).toBe(true);
    // The shortfall is said once (address, balance, need), not once per pass.
    const unaffordable = challenger.lines.filter((l) => l.event === "cannot-afford");
    expect(unaffordable.length).toBeGreaterThan(0);
    expect(unaffordable[0]).toMatchObject({ for: "a challenge bond", claimsWaiting: 1, address: thin.address });
    expect(unaffordable.length).toBeLessThanOrEqual(2); // not again after each move's gas
    const third = challenger.lines.findIndex((l) => l.event === "challenge" && l.claim === lies[2].toString());
    expect(challenger.lines.slice(0, third).some((l) => l.event === "withdraw")).toBe(true);
    // Batches of moves stay within the budget (their limit: budget + 10% + 100,000), unless a single move.
    for (const b of challenger.lines.filter((l) => l.event === "batch")) if (Number(b.moves) + Number(b.failed) > 1) expect(BigInt(b.gasLimit as string)).toBeLessThanOrEqual(430_000n);
    await challenger.waitFor("three games won", () => challenger.lines.filter((l) => l.event === "game-over" && l.result === "won").length === 3, 60);
    await Promise.all([challenger.stop(), liar.stop()]);
  }, 240_000);

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

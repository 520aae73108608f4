/**
 * Randomized disputes on one deployment: a random side lies at a random leaf (any of the 2^12, padding and the
 * output-only lie included), the honest side must win; sometimes a second challenger joins, sometimes a party
 * stalls and loses by timeout. After every game the oracle holds exactly Σ deposits − Σ withdrawals; after every
 * scenario (every claim final or void, every game over) every account's credit is what the outcomes say, and the
 * credits plus the withdrawals are the deposits. Seeded: MLVM_SEED=<n> replays a run.
 */
import { ethers } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TraceTree } from "../../challenger/trace-tree.js";
import { chooseMove, revealMove, type Position } from "../../challenger/moves.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  CLOCK,
  WINDOW,
  advance,
  challengeClaim,
  deployProtocol,
  eventsIn,
  expectRevert,
  expectedBalance,
  finalArgs,
  honestClaim,
  lyingClaim,
  modelStruct,
  position,
  postClaim,
  proveArgs,
  provider,
  requestInference,
  treeWithLeaf,
  type ClaimView,
  type Deployment,
} from "./harness.js";

const SEED = Number(process.env.MLVM_SEED ?? 20261122);
const SCENARIOS = 110;

/** mulberry32: a small seeded generator. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), chance: (p: number) => next() < p };
}

const model = mnist();
const modelId = model.meta.commitment;
const m = modelStruct(model);
const N = model.meta.steps;
const LEAVES = 2 ** 12;
const DIGITS = [8000, 0, 1, 7];
const runs = DIGITS.map((k) => {
  const trace = new WasmMachine(model).trace(mnistInput(k)); // one machine per input: a trace lives until its machine runs again
  return { input: mnistInput(k), trace, honest: honestClaim(trace) };
});

type ClaimantLie = { kind: "leaf" | "suffix" | "output"; at: number };
type ChallengerPlan = { kind: "honest" } | { kind: "random" } | { kind: "garbage"; at: number } | { kind: "agree"; at: number };
type Stall = { party: "defender" | "challenger"; depth: number };
interface Scenario {
  index: number;
  seed: number;
  digit: number;
  claimant: number;
  lie: ClaimantLie | null;
  challengers: { signer: number; plan: ChallengerPlan }[];
  stall: Stall | null;
  reclaim: boolean;
  withdrawers: number[];
}

function randomLie(g: ReturnType<typeof generator>): ClaimantLie {
  const r = g.next();
  if (r < 0.12) return { kind: "output", at: N };
  const at = r < 0.25 ? 3470 + g.int(N - 3470) : g.int(LEAVES); // the short last layers get extra weight
  if (at === N) return { kind: "output", at: N };
  if (at > N) return { kind: "leaf", at }; // a padding leaf
  return { kind: g.chance(0.5) ? "leaf" : "suffix", at };
}

function scenario(index: number): Scenario {
  const seed = (SEED + index * 7919) >>> 0;
  const g = generator(seed);
  const digit = g.int(runs.length);
  const people = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const take = () => people.splice(g.int(people.length), 1)[0];
  const claimant = take();
  const lie = g.chance(0.5) ? randomLie(g) : null;
  const challengers: Scenario["challengers"] = [];
  const lyingPlan = (): ChallengerPlan => {
    const r = g.next();
    if (r < 0.4) return { kind: "random" };
    if (r < 0.8) return { kind: "garbage", at: g.int(LEAVES) };
    return { kind: "agree", at: g.int(LEAVES) };
  };
  challengers.push({ signer: take(), plan: lie ? { kind: "honest" } : lyingPlan() });
  if (g.chance(0.3)) challengers.push({ signer: take(), plan: lie || g.chance(0.5) ? { kind: "honest" } : lyingPlan() });
  let stall: Stall | null = null;
  if (challengers.length === 1 && g.chance(0.3)) {
    // Mostly the liar stops playing; sometimes the honest side does (and loses all the same).
    const liarIsDefender = lie !== null;
    const defenderStalls = g.chance(0.75) ? liarIsDefender : !liarIsDefender;
    stall = defenderStalls ? { party: "defender", depth: g.int(12) } : { party: "challenger", depth: g.int(13) };
  }
  const withdrawers = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter(() => g.chance(0.15));
  return { index, seed, digit, claimant, lie, challengers, stall, reclaim: g.chance(0.3), withdrawers };
}

function describeScenario(s: Scenario): string {
  const lie = s.lie ? `claimant lies (${s.lie.kind} at ${s.lie.at}${s.lie.at > N ? ", padding" : ""})` : "claimant honest";
  const plans = s.challengers.map((c) => c.plan.kind + ("at" in c.plan ? ` ${c.plan.at}` : "")).join(" + ");
  const stall = s.stall ? `, ${s.stall.party} stalls at depth ${s.stall.depth}` : "";
  return `#${s.index} digit ${DIGITS[s.digit]}: ${lie}; challenger ${plans}${stall}`;
}

const scenarios = Array.from({ length: SCENARIOS }, (_, k) => scenario(k));

let d: Deployment;
let addresses: string[];
/** What each account should have been credited, from the outcomes alone. */
const expectedCredit = new Map<string, bigint>();
const stats = { games: 0, defenderWins: 0, challengerWins: 0, timeouts: 0, voided: 0, finalized: 0, withdrawals: 0 };
const started = Date.now();

beforeAll(async () => {
  d = await deployProtocol();
  await (await d.registry.register(m, "")).wait();
  addresses = await Promise.all(d.signers.map((s) => s.getAddress()));
  for (const a of addresses) expectedCredit.set(a, 0n);
  console.log(`random games: seed ${SEED} (MLVM_SEED to replay), ${SCENARIOS} scenarios`);
});

afterAll(() => {
  console.log(`random games: ${JSON.stringify(stats)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

const credit = (account: string, amount: bigint) => expectedCredit.set(account, expectedCredit.get(account)! + amount);
const as = (c: ethers.Contract, s: ethers.Signer) => c.connect(s) as ethers.Contract;

function claimView(s: Scenario): ClaimView {
  const { trace, honest } = runs[s.digit];
  if (!s.lie) return honest;
  if (s.lie.kind === "output") return lyingClaim(trace, N);
  if (s.lie.kind === "suffix") return lyingClaim(trace, s.lie.at);
  return { ...honest, tree: treeWithLeaf(trace, s.lie.at) };
}

interface Player {
  signer: ethers.Signer;
  pick: (p: Position, left: Uint8Array, right: Uint8Array) => boolean;
  proofTree: TraceTree;
}

function challengerPlayer(s: Scenario, plan: ChallengerPlan, signer: ethers.Signer, g: ReturnType<typeof generator>): Player {
  const { trace, honest } = runs[s.digit];
  switch (plan.kind) {
    case "honest":
      return { signer, pick: (p, left) => chooseMove(honest.tree, p, left), proofTree: honest.tree };
    case "random":
      return { signer, pick: () => g.chance(0.5), proofTree: honest.tree };
    case "garbage": {
      const tree = treeWithLeaf(trace, plan.at);
      return { signer, pick: (p, left) => chooseMove(tree, p, left), proofTree: tree };
    }
    case "agree": {
      const tree = treeWithLeaf(trace, plan.at);
      const pick = (p: Position, left: Uint8Array, right: Uint8Array) =>
        toHex(left) === toHex(tree.node(p.depth + 1, 2 * p.index)) ? false : toHex(right) === toHex(tree.node(p.depth + 1, 2 * p.index + 1));
      return { signer, pick, proofTree: honest.tree };
    }
  }
}

/**
 * One game as a stepper: each call makes the next move (reveal, choose or prove; or, for a stalling party, waits
 * out its clock and calls timeout()), and returns true when the game is over.
 */
function stepper(gameId: bigint, defender: { signer: ethers.Signer; tree: TraceTree }, challenger: Player, s: Scenario, stall: Stall | null, g: ReturnType<typeof generator>) {
  const { trace } = runs[s.digit];
  let revealed: { left: Uint8Array; right: Uint8Array } | null = null;
  const timeout = async () => {
    if (g.chance(0.5)) await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK + 1);
    const receipt = await (await as(d.game, d.signers[g.int(10)]).timeout(gameId)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")).toHaveLength(1);
    stats.timeouts++;
    return true;
  };
  return async (): Promise<boolean> => {
    const p = await position(d, gameId);
    expect(p.active).toBe(true);
    if (p.depth === p.traceDepth) {
      if (stall?.party === "challenger" && stall.depth === p.depth) return timeout();
      const receipt = await (await as(d.game, challenger.signer).prove(gameId, ...proveArgs(challenger.proofTree, trace, p))).wait();
      expect(eventsIn(receipt, d.game, "Proved")).toHaveLength(1);
      return true;
    }
    if (p.turn === 0) {
      if (stall?.party === "defender" && stall.depth === p.depth) return timeout();
      revealed = revealMove(defender.tree, p);
      await (await as(d.game, defender.signer).reveal(gameId, toHex(revealed.left), toHex(revealed.right))).wait();
      return false;
    }
    if (stall?.party === "challenger" && stall.depth === p.depth) return timeout();
    const { left, right } = revealed!;
    await (await as(d.game, challenger.signer).choose(gameId, toHex(left), toHex(right), challenger.pick(p, left, right))).wait();
    return false;
  };
}

async function checkBalance() {
  expect(await provider.getBalance(d.oracle.target)).toBe(await expectedBalance(d));
}

async function checkCredits() {
  for (const a of addresses) expect(await d.oracle.credit(a), a).toBe(expectedCredit.get(a));
  const sum = (name: string) => d.oracle.queryFilter(d.oracle.filters[name]()).then((es) => es.reduce((t, e) => t + ((e as ethers.EventLog).args.amount as bigint), 0n));
  const [deposited, withdrawn] = await Promise.all([sum("Deposited"), sum("Withdrawn")]);
  const credits = [...expectedCredit.values()].reduce((a, b) => a + b, 0n);
  expect(credits + withdrawn).toBe(deposited);
}

describe(`randomized disputes (seed ${SEED})`, () => {
  for (const s of scenarios) {
    it(describeScenario(s), async () => {
      const g = generator(s.seed ^ 0x9e3779b9);
      const { input, honest } = runs[s.digit];
      const view = claimView(s);
      const claimantSigner = d.signers[s.claimant];
      const claimant = addresses[s.claimant];
      const { requestId } = await requestInference(d, modelId, input);
      const { claimId } = await postClaim(d, claimantSigner, requestId, view, model);
      let status: "open" | "void" = "open";

      const games = [];
      for (const c of s.challengers) {
        const { gameId } = await challengeClaim(d, d.signers[c.signer], claimId);
        const player = challengerPlayer(s, c.plan, d.signers[c.signer], g);
        // Who must win: the side that does not stall; without stalls, the defender exactly when the claim is honest.
        const defenderWins = s.stall ? s.stall.party === "challenger" : s.lie === null;
        games.push({ gameId, challenger: addresses[c.signer], defenderWins, step: stepper(gameId, { signer: claimantSigner, tree: view.tree }, player, s, s.stall, g), done: false });
      }
      expect((await d.oracle.getClaim(claimId)).openGames).toBe(BigInt(games.length));

      // The games move in turns, one move each, so that no idle game's clock runs out.
      while (games.some((x) => !x.done)) {
        for (const game of games.filter((x) => !x.done)) {
          if (!(await game.step())) continue;
          game.done = true;
          stats.games++;
          const [resolved] = await d.oracle.queryFilter(d.oracle.filters.GameResolved(claimId, game.gameId));
          expect((resolved as ethers.EventLog).args.defenderWon, `game ${game.gameId}`).toBe(game.defenderWins);
          if (game.defenderWins) {
            stats.defenderWins++;
            credit(claimant, CHALLENGE_BOND);
          } else {
            stats.challengerWins++;
            credit(game.challenger, CHALLENGE_BOND);
            if (status === "open") {
              credit(game.challenger, CLAIM_BOND);
              status = "void";
            }
          }
          await checkBalance();
        }
      }

      const claim = await d.oracle.getClaim(claimId);
      expect(claim.openGames).toBe(0n);
      if (status === "open") {
        expect(claim.status).toBe(1n);
        await advance(WINDOW + 1);
        await (await as(d.oracle, d.signers[g.int(10)]).finalize(claimId, m, ...finalArgs(view, N))).wait();
        credit(claimant, CLAIM_BOND);
        expect((await d.oracle.getClaim(claimId)).status).toBe(3n);
        expect((await d.oracle.getRequest(requestId)).fulfilled).toBe(true);
        stats.finalized++;
      } else {
        stats.voided++;
        expect(claim.status).toBe(2n);
        const request = await d.oracle.getRequest(requestId);
        expect(request.liveAttempt).toBe(0n);
        expect(request.fulfilled).toBe(false);
        if (s.reclaim) {
          // The request is open again: an honest claim, attempt 2, finalizes.
          const { claimId: second } = await postClaim(d, d.signers[s.challengers[0].signer], requestId, honest, model);
          expect(second).toBe((requestId << 32n) | 2n);
          await advance(WINDOW + 1);
          await (await d.oracle.finalize(second, m, ...finalArgs(honest, N))).wait();
          credit(addresses[s.challengers[0].signer], CLAIM_BOND);
          stats.finalized++;
        }
      }
      await checkBalance();
      await checkCredits();

      for (const k of s.withdrawers) {
        const owed = expectedCredit.get(addresses[k])!;
        if (owed === 0n) {
          await expectRevert(as(d.oracle, d.signers[k]).withdraw(), "NothingToWithdraw", d.oracle);
          continue;
        }
        const receipt = await (await as(d.oracle, d.signers[k]).withdraw()).wait();
        expect(eventsIn(receipt, d.oracle, "Withdrawn")[0].args.amount).toBe(owed);
        expectedCredit.set(addresses[k], 0n);
        stats.withdrawals++;
        await checkBalance();
      }
      await checkCredits();
    });
  }

  it("at the end, everyone withdraws and the oracle is empty", async () => {
    expect(stats.games).toBeGreaterThanOrEqual(100);
    expect(stats.defenderWins).toBeGreaterThan(10);
    expect(stats.challengerWins).toBeGreaterThan(10);
    expect(stats.timeouts).toBeGreaterThan(5);
    for (const [k, signer] of d.signers.entries()) {
      const owed = expectedCredit.get(addresses[k])!;
      if (owed === 0n) continue;
      const before = await provider.getBalance(addresses[k]);
      const receipt = await (await as(d.oracle, signer).withdraw()).wait();
      expect((await provider.getBalance(addresses[k])) - before).toBe(owed - receipt.fee);
      expectedCredit.set(addresses[k], 0n);
    }
    await checkCredits();
    expect(await provider.getBalance(d.oracle.target)).toBe(0n);
    expect(await expectedBalance(d)).toBe(0n);
    const count = Number(await d.game.gameCount());
    expect(count).toBe(stats.games);
    for (let k = 0; k < count; k++) expect((await d.game.game(k)).active).toBe(false);
  });
});

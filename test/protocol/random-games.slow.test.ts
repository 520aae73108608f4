/**
 * Randomized disputes on six deployments, one per split m = 1 … 6 (every m is played; the first six scenarios
 * take them in turn, the rest at random). A random side lies: the claimant at a random leaf (any of the 2^12,
 * padding and the output-only lie included), or the challengers, who pick any revealed index at random, follow a
 * garbage tree, or dispute a node they agree with. The honest side must win. Sometimes several challengers join
 * (through challenge() or challengeMany(), moving through multicall() now and then); once a lying claim is void,
 * each other game is either played on or ended at once by timeout(). Sometimes the one game stalls: the staller
 * loses by timeout — unless it is an honest claimant whose node a helper reveals for it, or whose nodes are
 * revealed already (reveals are shared by every game on a deployment). After every game the bond invariant holds
 * (balance = Σ Deposited − Σ Withdrawn = Σ credit + bonds at stake + burned + uncollected shares); after every
 * scenario every account's credit and burned() are what the outcomes say, and a liar's keys together lost at
 * least half the claim bond; at the end everyone withdraws and each oracle holds only what was burned.
 * Seeded: MLVM_SEED=<n> replays a run.
 */
import { ethers } from "ethers";
import { afterAll, describe, expect, it } from "vitest";
import { roundAt } from "../../challenger/moves.js";
import { type TraceTree } from "../../challenger/trace-tree.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  CLOCK,
  FINAL,
  OPEN,
  VOID,
  WINDOW,
  advance,
  challengeClaim,
  challengeMany,
  deployWithModel,
  eventsIn,
  expectBondInvariant,
  expectRevert,
  finalArgs,
  firstDifference,
  honestClaim,
  intoAgreement,
  lyingClaim,
  modelStruct,
  position,
  postClaim,
  proveArgs,
  provider,
  requestInference,
  revealIfNeeded,
  revealedNodes,
  treeWithLeaf,
  type ClaimView,
  type Deployment,
  type Picker,
} from "./harness.js";

const SEED = Number(process.env.MLVM_SEED ?? 20261129);
const SCENARIOS = 110;
const SPLITS = [1, 2, 3, 4, 5, 6];
const BURN = CLAIM_BOND / 2n; // BURN_PERCENT of the claim bond

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
type Generator = ReturnType<typeof generator>;

const model = mnist();
const modelId = model.meta.commitment;
const m = modelStruct(model);
const N = model.meta.steps;
const DEPTH = 12;
const LEAVES = 2 ** DEPTH;
const DIGITS = [8000, 0, 1, 7];
const runs = DIGITS.map((k) => {
  const trace = new WasmMachine(model).trace(mnistInput(k)); // one machine per input: a trace lives until its machine runs again
  return { input: mnistInput(k), trace, honest: honestClaim(trace) };
});

type ClaimantLie = { kind: "leaf" | "suffix" | "output"; at: number };
type ChallengerPlan = { kind: "honest" } | { kind: "random" } | { kind: "garbage"; at: number } | { kind: "agree"; at: number };
/** A party that stops moving from a round on (round ⌈D/m⌉ + 1: the challenger's proof at the leaf). */
type Stall = { party: "defender" | "challenger"; round: number; helped: boolean };
interface Scenario {
  index: number;
  seed: number;
  split: number;
  digit: number;
  claimant: number;
  lie: ClaimantLie | null;
  challengers: { signer: number; plan: ChallengerPlan; sybil: boolean; many: boolean }[];
  stall: Stall | null;
  /** After a lying claim is void, end each other game at once (true) or play it on. */
  endAtOnce: boolean[];
  reclaim: boolean;
  withdrawers: number[];
}

function randomLie(g: Generator): ClaimantLie {
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
  const split = index < SPLITS.length ? SPLITS[index] : SPLITS[g.int(SPLITS.length)];
  const digit = g.int(runs.length);
  const people = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const take = () => people.splice(g.int(people.length), 1)[0];
  const claimant = take();
  const lie = g.chance(0.5) ? randomLie(g) : null;
  const lyingPlan = (): ChallengerPlan => {
    const r = g.next();
    if (r < 0.4) return { kind: "random" };
    if (r < 0.75) return { kind: "garbage", at: g.int(LEAVES) };
    return { kind: "agree", at: g.int(LEAVES) };
  };
  // Against a lie the challengers are honest (some of them the liar's own keys); against an honest claim they lie.
  const count = g.chance(0.35) ? 2 + g.int(2) : 1;
  const challengers = Array.from({ length: count }, () => ({
    signer: take(),
    plan: lie ? ({ kind: "honest" } as ChallengerPlan) : lyingPlan(),
    sybil: lie !== null && g.chance(0.4),
    many: g.chance(0.3),
  }));
  let stall: Stall | null = null;
  const rounds = Math.ceil(DEPTH / split);
  if (count === 1 && g.chance(0.35)) {
    // Mostly the liar stops playing; sometimes the honest side does (and loses all the same, unless helped).
    const defenderStalls = g.chance(0.75) ? lie !== null : lie === null;
    stall = defenderStalls ? { party: "defender", round: 1 + g.int(rounds), helped: lie === null && g.chance(0.5) } : { party: "challenger", round: 1 + g.int(rounds + 1), helped: false };
  }
  const endAtOnce = challengers.map(() => g.chance(0.5));
  const withdrawers = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter(() => g.chance(0.15));
  return { index, seed, split, digit, claimant, lie, challengers, stall, endAtOnce, reclaim: g.chance(0.3), withdrawers };
}

function describeScenario(s: Scenario): string {
  const lie = s.lie ? `claimant lies (${s.lie.kind} at ${s.lie.at}${s.lie.at > N ? ", padding" : ""})` : "claimant honest";
  const plans = s.challengers.map((c) => c.plan.kind + ("at" in c.plan ? ` ${c.plan.at}` : "") + (c.sybil ? " (liar's key)" : "")).join(" + ");
  const stall = s.stall ? `, ${s.stall.party} stalls from round ${s.stall.round}${s.stall.helped ? " (a helper reveals)" : ""}` : "";
  return `#${s.index} m=${s.split} digit ${DIGITS[s.digit]}: ${lie}; challenger ${plans}${stall}`;
}

const scenarios = Array.from({ length: SCENARIOS }, (_, k) => scenario(k));

/** One deployment per split, made when first needed, with what its accounts should have been credited. */
interface World {
  d: Deployment;
  addresses: string[];
  expectedCredit: Map<string, bigint>;
  burned: bigint;
  games: number;
}
const worlds = new Map<number, World>();
async function world(split: number): Promise<World> {
  let w = worlds.get(split);
  if (!w) {
    const d = await deployWithModel(model, { splitBits: split });
    const addresses = await Promise.all(d.signers.map((s) => s.getAddress()));
    w = { d, addresses, expectedCredit: new Map(addresses.map((a) => [a, 0n])), burned: 0n, games: 0 };
    worlds.set(split, w);
  }
  return w;
}

const stats = { games: 0, defenderWins: 0, challengerWins: 0, stallTimeouts: 0, voidTimeouts: 0, helped: 0, voided: 0, finalized: 0, collected: 0, withdrawals: 0, byMulticall: 0, bySplit: {} as Record<number, number> };
const started = Date.now();

afterAll(() => {
  console.log(`random games: seed ${SEED} (MLVM_SEED to replay): ${JSON.stringify(stats)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

const as = (c: ethers.Contract, s: ethers.Signer) => c.connect(s) as ethers.Contract;

function claimView(s: Scenario): ClaimView {
  const { trace, honest } = runs[s.digit];
  if (!s.lie) return honest;
  if (s.lie.kind === "output") return lyingClaim(trace, N);
  if (s.lie.kind === "suffix") return lyingClaim(trace, s.lie.at);
  return { ...honest, tree: treeWithLeaf(trace, s.lie.at) };
}

function challengerPlayer(s: Scenario, plan: ChallengerPlan, g: Generator): { pick: Picker; proofTree: TraceTree } {
  const { trace, honest } = runs[s.digit];
  switch (plan.kind) {
    case "honest":
      return { pick: firstDifference(honest.tree), proofTree: honest.tree };
    case "random":
      return { pick: (_, nodes) => g.int(nodes.length), proofTree: honest.tree };
    case "garbage": {
      const tree = treeWithLeaf(trace, plan.at);
      return { pick: firstDifference(tree), proofTree: tree };
    }
    case "agree":
      return { pick: intoAgreement(treeWithLeaf(trace, plan.at), (a) => a[g.int(a.length)]), proofTree: honest.tree };
  }
}

/** How a game ended, which says who must have won: a proof (the truth), a stall (the staller lost), the void rule. */
type Ending = "proof" | "stall" | "void";

describe(`randomized disputes (seed ${SEED})`, () => {
  for (const s of scenarios) {
    it(describeScenario(s), async () => {
      const w = await world(s.split);
      const { d, addresses, expectedCredit } = w;
      const credit = (account: string, amount: bigint) => expectedCredit.set(account, expectedCredit.get(account)! + amount);
      const g = generator(s.seed ^ 0x9e3779b9);
      const { input, trace, honest } = runs[s.digit];
      const view = claimView(s);
      const claimantSigner = d.signers[s.claimant];
      const claimant = addresses[s.claimant];
      const creditBefore = new Map(expectedCredit);
      const { requestId } = await requestInference(d, modelId, input);
      const { claimId } = await postClaim(d, claimantSigner, requestId, view, model);
      let status: "open" | "void" = "open";
      let winners: string[] = [];
      let lastEnded: { challenger: string; won: boolean } | null = null;

      const games: { k: number; gameId: bigint; signer: ethers.Signer; challenger: string; player: ReturnType<typeof challengerPlayer>; done: boolean }[] = [];
      for (const [k, c] of s.challengers.entries()) {
        const signer = d.signers[c.signer];
        const gameId = c.many ? (await challengeMany(d, signer, [claimId])).started[0].gameId : (await challengeClaim(d, signer, claimId)).gameId;
        games.push({ k, gameId, signer, challenger: addresses[c.signer], player: challengerPlayer(s, c.plan, g), done: false });
      }
      expect((await d.oracle.getClaim(claimId)).openGames).toBe(BigInt(games.length));
      const stall = s.stall;

      const timeoutNow = async (gameId: bigint) => {
        const receipt = await (await as(d.game, d.signers[g.int(10)]).timeout(gameId)).wait();
        expect(eventsIn(receipt, d.game, "TimedOut")).toHaveLength(1);
      };
      const stallOut = async (gameId: bigint): Promise<Ending> => {
        if (g.chance(0.5)) await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
        await advance(CLOCK + 1);
        await timeoutNow(gameId);
        stats.stallTimeouts++;
        return "stall";
      };
      /** Makes the game's next move; returns how it ended, or null while it goes on. */
      const step = async (game: (typeof games)[number]): Promise<Ending | null> => {
        const p = await position(d, game.gameId);
        expect(p.active).toBe(true);
        if (status === "void" && s.endAtOnce[game.k]) {
          await timeoutNow(game.gameId);
          stats.voidTimeouts++;
          return "void";
        }
        const round = p.levels === 0 ? Math.ceil(DEPTH / s.split) + 1 : roundAt(p.depth, s.split);
        const stalls = (party: Stall["party"]) => stall?.party === party && round >= stall.round;
        if (p.levels === 0) {
          if (stalls("challenger")) return stallOut(game.gameId);
          const receipt = await (await as(d.game, game.signer).prove(game.gameId, ...proveArgs(game.player.proofTree, trace, p))).wait();
          expect(eventsIn(receipt, d.game, "Proved")).toHaveLength(1);
          return "proof";
        }
        if (p.revealedAt === 0) {
          if (stalls("defender")) {
            if (!stall!.helped) return stallOut(game.gameId);
            // A helper with the honest tree answers for the claimant.
            await revealIfNeeded(d, game.gameId, d.signers[g.int(10)], honest.tree);
            stats.helped++;
            return null;
          }
          await revealIfNeeded(d, game.gameId, claimantSigner, view.tree);
          return null;
        }
        if (stalls("challenger")) return stallOut(game.gameId);
        const nodes = (await revealedNodes(d, p.node, p.levels))!;
        const pick = game.player.pick(p, nodes);
        if (g.chance(0.2)) {
          const call = d.game.interface.encodeFunctionData("choose", [game.gameId, nodes, pick]);
          const receipt = await (await as(d.game, game.signer).multicall([call], { gasLimit: 500_000 })).wait();
          expect(eventsIn(receipt, d.game, "CallFailed")).toHaveLength(0);
          stats.byMulticall++;
        } else {
          await (await as(d.game, game.signer).choose(game.gameId, nodes, pick)).wait();
        }
        return null;
      };

      // The games move in turns, one move each, so that no idle game's clock runs out.
      while (games.some((x) => !x.done)) {
        for (const game of games.filter((x) => !x.done)) {
          const ending = await step(game);
          if (!ending) continue;
          game.done = true;
          stats.games++;
          w.games++;
          stats.bySplit[s.split] = (stats.bySplit[s.split] ?? 0) + 1;
          // Who must win: the truth after a proof (the claimant exactly when honest), the staller's opponent, the challenger of a void claim.
          const defenderWins = ending === "proof" ? s.lie === null : ending === "stall" ? stall!.party === "challenger" : false;
          const [resolved] = await d.oracle.queryFilter(d.oracle.filters.GameResolved(claimId, game.gameId));
          expect((resolved as ethers.EventLog).args.defenderWon, `game ${game.gameId} (${ending})`).toBe(defenderWins);
          if (defenderWins) {
            stats.defenderWins++;
            credit(claimant, CHALLENGE_BOND);
          } else {
            stats.challengerWins++;
            credit(game.challenger, CHALLENGE_BOND);
            winners.push(game.challenger);
            status = "void";
          }
          lastEnded = { challenger: game.challenger, won: !defenderWins };
          await expectBondInvariant(d);
        }
        if (status === "void" && g.chance(0.2) && games.some((x) => !x.done)) {
          await expectRevert(d.oracle.collectReward(claimId, winners[0]), "ClaimNotSettled", d.oracle);
        }
      }

      const claim = await d.oracle.getClaim(claimId);
      expect(claim.openGames).toBe(0n);
      if (status === "open") {
        expect(claim.status).toBe(OPEN);
        await advance(WINDOW + 1);
        await (await as(d.oracle, d.signers[g.int(10)]).finalize(claimId, m, ...finalArgs(view, N))).wait();
        credit(claimant, CLAIM_BOND);
        expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
        expect((await d.oracle.getRequest(requestId)).fulfilled).toBe(true);
        stats.finalized++;
      } else {
        stats.voided++;
        expect(claim.status).toBe(VOID);
        expect(claim.winners).toBe(BigInt(winners.length));
        // Settled: half burned (and the division's remainder), the rest shared by the winners.
        const share = (CLAIM_BOND - BURN) / BigInt(winners.length);
        w.burned += CLAIM_BOND - share * BigInt(winners.length);
        const [settled] = await d.oracle.queryFilter(d.oracle.filters.ClaimSettled(claimId));
        expect([...(settled as ethers.EventLog).args].slice(1)).toEqual([BigInt(winners.length), share, CLAIM_BOND - share * BigInt(winners.length)]);
        if (winners.length === 1 && lastEnded!.won) {
          credit(winners[0], share); // paid at settlement
          await expectRevert(d.oracle.collectReward(claimId, winners[0]), "NoReward", d.oracle);
        } else {
          for (const winner of winners) {
            await (await as(d.oracle, d.signers[g.int(10)]).collectReward(claimId, winner)).wait();
            credit(winner, share);
            stats.collected++;
            if (g.chance(0.3)) await expectRevert(d.oracle.collectReward(claimId, winner), "NoReward", d.oracle);
          }
        }
        if (g.chance(0.3)) await expectRevert(d.oracle.collectReward(claimId, claimant), "NoReward", d.oracle);
        const request = await d.oracle.getRequest(requestId);
        expect(request.liveAttempt).toBe(0n);
        expect(request.fulfilled).toBe(false);
        if (s.lie) {
          // The liar's keys (the claimant, and any challenger that was its own) lost at least the burned half.
          const keys = [claimant, ...games.filter((x) => s.challengers[x.k].sybil).map((x) => x.challenger)];
          const deposited = CLAIM_BOND + BigInt(keys.length - 1) * CHALLENGE_BOND;
          const gained = keys.reduce((t, a) => t + expectedCredit.get(a)! - creditBefore.get(a)!, 0n);
          expect(deposited - gained).toBeGreaterThanOrEqual(BURN);
        }
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
      expect(await d.oracle.burned()).toBe(w.burned);
      await checkCredits(w);

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
        await expectBondInvariant(d);
      }
      await checkCredits(w);
    });
  }

  it("at the end, everyone withdraws and each oracle holds exactly what was burned", async () => {
    expect(stats.games).toBeGreaterThanOrEqual(100);
    expect(stats.defenderWins).toBeGreaterThan(10);
    expect(stats.challengerWins).toBeGreaterThan(10);
    expect(stats.stallTimeouts).toBeGreaterThan(5);
    expect(stats.voidTimeouts).toBeGreaterThan(0);
    expect(Object.keys(stats.bySplit).map(Number).sort()).toEqual(SPLITS);
    for (const w of worlds.values()) {
      const { d, addresses, expectedCredit } = w;
      for (const [k, signer] of d.signers.entries()) {
        const owed = expectedCredit.get(addresses[k])!;
        if (owed === 0n) continue;
        const before = await provider.getBalance(addresses[k]);
        const receipt = await (await as(d.oracle, signer).withdraw()).wait();
        expect((await provider.getBalance(addresses[k])) - before).toBe(owed - receipt.fee);
        expectedCredit.set(addresses[k], 0n);
      }
      await checkCredits(w);
      const l = await expectBondInvariant(d);
      expect(l.credits + l.claimBonds + l.challengeBonds + l.uncollected).toBe(0n);
      expect(l.balance).toBe(w.burned);
      const count = Number(await d.game.gameCount());
      expect(count).toBe(w.games);
      for (let k = 0; k < count; k++) expect((await d.game.game(k)).active).toBe(false);
    }
  });
});

/** Every account's credit is what the outcomes say, and the bond invariant holds. */
async function checkCredits(w: World) {
  for (const a of w.addresses) expect(await w.d.oracle.credit(a), a).toBe(w.expectedCredit.get(a));
  const l = await expectBondInvariant(w.d);
  expect(l.credits).toBe([...w.expectedCredit.values()].reduce((a, b) => a + b, 0n));
  expect(l.burned).toBe(w.burned);
}

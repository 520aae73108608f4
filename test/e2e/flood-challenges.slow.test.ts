/**
 * A flood of challenges against one honest claim (localchain/flood.ts, scenario 2), on a local chain (a `hardhat
 * node`, then anvil) mining a block every 250 ms at +12 s: 64 attempts from one key (one game opens; the others are turned away
 * AlreadyChallenged), then 64 games from 64 keys, each attacker heading for its own leaf and stalling every move
 * until its clock has a minute per move left. The claimant's `mlvm challenger --defend-only` wins every game and
 * finalizes the claim after its window.
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { DEFAULT_PARAMS } from "../../challenger/deployments.js";
import { type ChallengesResult, figuresLine, floodOfChallenges } from "../../localchain/flood.js";
import { ENGINES } from "../../localchain/local-node.js";

function expectDefended(r: ChallengesResult): void {
  expect(r.finalized).toBe(true);
  expect(r.finalizedAt).toBeGreaterThan(r.deadline);
  expect(r.defenderWon).toBe(r.games);
  // Every attacking key is out at least a bond (gas aside); the claimant is up by every bond, less its gas.
  for (const loss of r.attackerLosses) expect(loss).toBeGreaterThanOrEqual(r.bond);
  expect(r.claimantGain).toBeGreaterThan(r.bond * BigInt(r.games) - ethers.parseEther("0.1"));
  expect(r.figures.leastClockLeft).toBeGreaterThan(DEFAULT_PARAMS.clock / 2);
}

describe.each(ENGINES)("64 challenges of one honest claim, on %s", (engine) => {
  it("from one key: one game opens, 63 are turned away; the defender wins it and the claim finalizes", async () => {
    const r = await floodOfChallenges({ engine, keys: "one", say: (line) => console.log(`[${engine}] ${line}`) });
    console.log(figuresLine(r.figures));
    expect(r.attempts).toBe(64);
    expect(r.games).toBe(1);
    expect(r.skipped).toHaveLength(63);
    expect(r.skipped.every((reason) => reason.startsWith("AlreadyChallenged("))).toBe(true);
    expectDefended(r);
  }, 240_000);

  it("from 64 keys spread over the tree and stalling: the defender reveals every node asked, wins all 64, finalizes", async () => {
    const r = await floodOfChallenges({ engine, keys: "many", say: (line) => console.log(`[${engine}] ${line}`) });
    console.log(figuresLine(r.figures));
    expect(r.games).toBe(64);
    expect(r.skipped).toEqual([]);
    expectDefended(r);
    // The paths spread: far more distinct reveals than the 3 of a single game.
    expect(r.figures.distinctReveals).toBeGreaterThan(30);
    expect(r.figures.honestMovesPerBlock.max).toBeGreaterThan(10);
  }, 240_000);
});

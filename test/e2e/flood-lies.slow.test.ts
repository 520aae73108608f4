/**
 * A flood of lies on a live-like chain (localchain/flood.ts, scenario 1): 64 lying claims from 64 keys land in one
 * block of a local chain mining a block every 250 ms at +12 s, the liars answering every move at once; one
 * funded honest `mlvm challenger` voids every one of them, never coming within half its clock of running out, and
 * ends richer. On both engines: a `hardhat node`, then anvil.
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { DEFAULT_PARAMS } from "../../challenger/deployments.js";
import { figuresLine, floodOfLies } from "../../localchain/flood.js";
import { ENGINES } from "../../localchain/local-node.js";

describe.each(ENGINES)("64 lying claims in one block against one honest daemon, on %s", (engine) => {
  it("voids every lie; the daemon's challenges and moves go in batches; it keeps over half its clock and ends richer", async () => {
    const r = await floodOfLies({ engine, say: (line) => console.log(`[${engine}] ${line}`) });
    console.log(figuresLine(r.figures));
    console.log(`challenge transactions: ${r.challengeTxs} (at most ${r.mostChallengesInOneTx} claims in one); balance ${ethers.formatEther(r.honestBefore)} → ${ethers.formatEther(r.honestAfter)} ETH`);
    expect(r.claims).toBe(64);
    expect(r.claimBlocks).toHaveLength(1);
    expect(r.voided).toBe(64);
    expect(r.voidedByHonest).toBe(64);
    expect(r.figures.games).toBe(64);
    // All 64 challenges fit one challengeMany under the default gas budget.
    expect(r.challengeTxs).toBe(1);
    expect(r.mostChallengesInOneTx).toBe(64);
    expect(r.figures.honestMovesPerBlock.max).toBeGreaterThan(1);
    expect(r.figures.leastClockLeft).toBeGreaterThan(DEFAULT_PARAMS.clock / 2);
    // Each lie pays the challenger its bond back and half the claim bond: 64 × 0.5 ETH, less gas.
    expect(r.honestAfter - r.honestBefore).toBeGreaterThan(ethers.parseEther("31"));
    expect(r.figures.wallMs).toBeLessThan(120_000);
  }, 240_000);
});

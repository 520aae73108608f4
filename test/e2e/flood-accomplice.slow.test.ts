/**
 * A liar and its accomplice against one honest daemon (localchain/flood.ts, scenario 3), on a local chain mining a
 * block every 250 ms at +12 s (a `hardhat node`, then anvil): the liar's claim has a wrong state that two paths of the tree expose; the
 * honest `mlvm challenger` challenges, the liar's second key challenges too, and the liar reveals only what its
 * accomplice's game needs, so the accomplice wins first. The honest daemon still wins its game (the void rule),
 * collects its share and withdraws; the liar's two keys together lose at least the burned half of the claim bond.
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { figuresLine, liarAndAccomplice } from "../../localchain/flood.js";
import { ENGINES } from "../../localchain/local-node.js";

describe.each(ENGINES)("a liar whose accomplice wins first, on %s", (engine) => {
  it("the claim is void and settled between both winners; the honest daemon is paid; the liar loses at least the burn", async () => {
    const r = await liarAndAccomplice({ engine, say: (line) => console.log(`[${engine}] ${line}`) });
    console.log(figuresLine(r.figures));
    console.log(`lie at leaf ${r.lieAt}; void by ${r.voidedBy === r.accomplice ? "the accomplice" : "the honest daemon"}; ${r.winners} winners, ${ethers.formatEther(r.share)} ETH each, ${ethers.formatEther(r.burned)} ETH burned; honest ${ethers.formatEther(r.honestAfter - r.honestBefore)} ETH; liar's keys ${ethers.formatEther(-r.liarLoss)} ETH (fees ${ethers.formatEther(r.liarFees)})`);
    expect(r.figures.games).toBe(2);
    if (r.voidedBy === r.accomplice) {
      expect(r.winners).toBe(2);
      expect(r.honestCollected).toBe(true); // not paid at settlement: it collected its share itself
    } else {
      expect(r.voidedBy).toBe(r.honest);
    }
    expect(r.burned).toBe(r.claimBond / 2n);
    // The honest daemon: its bond back and its share, collected and withdrawn, less gas.
    expect(r.honestAfter - r.honestBefore).toBeGreaterThan(r.share - ethers.parseEther("0.01"));
    // The liar's keys, fees aside, are out at least the burned half of the claim bond.
    expect(r.liarLoss - r.liarFees).toBeGreaterThanOrEqual(r.claimBond / 2n);
  }, 240_000);
});

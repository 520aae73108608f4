/**
 * The flood scenarios (localchain/flood.ts) as benchmark figures: each runs on its own Hardhat node with a real
 * honest daemon against scripted dishonest parties, and reports how fast and how safely the honest side won.
 * Only the figures and a few outcome facts are kept here; the slow tests (test/e2e/flood-*.slow.test.ts) assert
 * the outcomes themselves.
 */
import { type FloodFigures, figuresLine, floodOfChallenges, floodOfLies, liarAndAccomplice } from "../localchain/flood.js";

export interface FloodScenario extends FloodFigures {
  /** A few outcomes of the scenario (wei amounts as decimal strings). */
  facts: Record<string, number | string | boolean>;
}

export interface FloodBench {
  scenarios: FloodScenario[];
}

export async function benchFlood(log: (line: string) => void): Promise<FloodBench> {
  const scenarios: FloodScenario[] = [];
  const add = (figures: FloodFigures, facts: FloodScenario["facts"]) => {
    scenarios.push({ ...figures, facts });
    log(`  ${figuresLine(figures)}`);
  };
  const lies = await floodOfLies();
  add(lies.figures, { claims: lies.claims, claimBlocks: lies.claimBlocks.length, voided: lies.voided, voidedByHonest: lies.voidedByHonest, challengeTxs: lies.challengeTxs, mostChallengesInOneTx: lies.mostChallengesInOneTx });
  // The same flood with a gas budget that splits each round's 64 moves over several multicalls: with many
  // transactions in flight they still land together (mostBatchesInABlock > 1).
  const split = await floodOfLies({ honestArgs: ["--gas-budget", "2000000"] });
  add(split.figures, { claims: split.claims, voided: split.voided, voidedByHonest: split.voidedByHonest, gasBudget: 2_000_000 });
  for (const keys of ["one", "many"] as const) {
    const c = await floodOfChallenges({ keys });
    add(c.figures, { keys, attempts: c.attempts, games: c.games, skipped: c.skipped.length, defenderWon: c.defenderWon, finalized: c.finalized, claimantGainWei: c.claimantGain.toString() });
  }
  const a = await liarAndAccomplice();
  add(a.figures, {
    lieAt: a.lieAt,
    voidedByAccomplice: a.voidedBy === a.accomplice,
    winners: a.winners,
    shareWei: a.share.toString(),
    burnedWei: a.burned.toString(),
    honestCollected: a.honestCollected,
    liarLossWei: a.liarLoss.toString(),
    claimBondWei: a.claimBond.toString(),
  });
  return { scenarios };
}

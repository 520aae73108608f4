/**
 * Wall time of a whole MNIST dispute on a real local chain: `mlvm demo`'s scenario (a Hardhat node process, the
 * challenger and the fraudulent proposer as daemons over JSON-RPC), from the fraudulent claim's receipt to the
 * claim being void. Each run lies from another step, so the game ends at another leaf.
 */
import { runDemo } from "../demo/scenario.js";

export interface DisputeWall {
  /** m of the demo's deployment. */
  splitBits: number;
  /** Per lying step: the wall time, the rounds the demo's game took, and the gas of its challenge, moves and proof. */
  runs: { lieAtStep: number; wallMs: number; rounds: number; gas: number }[];
  medianMs: number;
  maxMs: number;
}

export async function benchDisputeWall(lieSteps: number[]): Promise<DisputeWall> {
  const runs = [];
  let splitBits = 0;
  for (const lieAtStep of lieSteps) {
    const s = await runDemo({ lieAtStep });
    splitBits = s.splitBits;
    runs.push({ lieAtStep, wallMs: s.disputeWallMs, rounds: s.rounds, gas: s.disputeGas });
  }
  const sorted = runs.map((r) => r.wallMs).sort((a, b) => a - b);
  return { splitBits, runs, medianMs: sorted[Math.floor(sorted.length / 2)], maxMs: sorted.at(-1)! };
}

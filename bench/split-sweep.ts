/**
 * The split m (BisectionGame.splitBits) against gas: for m = 1 … 6, the MNIST dispute on Hardhat's in-process
 * network played to the proof, lying from several steps (the game ends at another leaf each time). A larger m
 * means fewer rounds (⌈12 / m⌉ for MNIST's trace depth 12) but 2^m nodes in each reveal's and each choice's
 * calldata: the sum is what the default m is chosen by.
 *
 * Each m gets a fresh deployment and one warm-up dispute first, not counted: a deployment's first settlement
 * turns the oracle's burned counter and the players' credits from zero to non-zero (~20k gas more each), which
 * would otherwise land on whichever lie is measured first. Its whole-dispute gas is reported as firstDispute.
 */
import type { CompiledModel } from "../compiler/compile.js";
import { honestClaim } from "../challenger/claims.js";
import { roundsOf } from "../challenger/moves.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { type OneDispute, benchDeployment, disputeOnce } from "./dispute.js";

export const SPLITS = [1, 2, 3, 4, 5, 6];
export const LIE_STEPS = [1, 1750, 3503];
const WARM_UP_LIE = 2600;

export interface SplitPoint {
  splitBits: number;
  rounds: number;
  /** The most expensive of each transaction kind over the lying steps. */
  maxReveal: number;
  maxChoose: number;
  maxProve: number;
  maxClaim: number;
  maxChallenge: number;
  /** claim + challenge + every move + proof: the most and least expensive over the lying steps. */
  maxDispute: number;
  minDispute: number;
  /** The warm-up dispute's whole gas, on the fresh deployment (its first settlement). */
  firstDispute: number;
  disputes: OneDispute[];
}

export interface SplitSweep {
  lieSteps: number[];
  points: SplitPoint[];
  /** The m with the lowest maxDispute. */
  cheapest: number;
}

export async function benchSplitSweep(model: CompiledModel, input: Int32Array, splits = SPLITS, lieSteps = LIE_STEPS): Promise<SplitSweep> {
  const trace = new WasmMachine(model).trace(input);
  const honest = { tree: honestClaim(trace).tree, trace };
  const points: SplitPoint[] = [];
  for (const m of splits) {
    const d = await benchDeployment(model, m);
    // A lie none of the measured ones shares a revealed node with (reveals are shared by node, across claims).
    const warmUp = await disputeOnce(d, model, input, honest, WARM_UP_LIE);
    const disputes: OneDispute[] = [];
    for (const k of lieSteps) disputes.push((await disputeOnce(d, model, input, honest, k)).gas);
    const max = (f: (x: OneDispute) => number[]) => Math.max(...disputes.flatMap(f));
    const rounds = roundsOf(honest.tree.depth, m);
    for (const x of disputes) {
      if (x.chooses.length !== rounds || x.reveals.length !== rounds) throw new Error(`m = ${m}, lie at ${x.lieAtStep}: ${x.reveals.length} reveals and ${x.chooses.length} choices, expected ${rounds} rounds`);
    }
    points.push({
      splitBits: m,
      rounds,
      maxReveal: max((x) => x.reveals),
      maxChoose: max((x) => x.chooses),
      maxProve: max((x) => [x.prove]),
      maxClaim: max((x) => [x.claim]),
      maxChallenge: max((x) => [x.challenge]),
      maxDispute: max((x) => [x.dispute]),
      minDispute: Math.min(...disputes.map((x) => x.dispute)),
      firstDispute: warmUp.gas.dispute,
      disputes,
    });
  }
  const cheapest = points.reduce((a, b) => (b.maxDispute < a.maxDispute ? b : a)).splitBits;
  return { lieSteps, points, cheapest };
}

/**
 * What each player does in a dissection game (contracts/protocol/BisectionGame.sol), as pure functions of its
 * own trace tree and the game's public state: a round opens the disputed node `levels` = min(m, height) levels
 * down; anyone who holds the tree reveals those 2^levels nodes; the challenger disputes the first of them that
 * differs from its own tree (agreeing with the one to its left); at a leaf, the challenger proves the step from
 * the state it agreed with.
 */
import { toHex } from "../vm/hash.js";
import type { Trace } from "../interpreter/wasm/machine.js";
import type { StepWitness } from "../vm/witness.js";
import type { TraceTree } from "./trace-tree.js";

/** The game's public position, as BisectionGame.game() returns it, with the levels its node opens. */
export interface Position {
  depth: number;
  index: number;
  traceDepth: number;
  agreedHeight: number;
  /** How many levels the disputed node opens: min(m, traceDepth − depth); 0 at a leaf. */
  levels: number;
}

/** The levels a node at `depth` opens in a tree of `traceDepth` levels with a split of `splitBits` (m). */
export function levelsAt(depth: number, traceDepth: number, splitBits: number): number {
  return Math.min(splitBits, traceDepth - depth);
}

/** Rounds of a game over a tree of `traceDepth` levels: ⌈traceDepth / m⌉ (one reveal and one choice each). */
export function roundsOf(traceDepth: number, splitBits: number): number {
  return Math.ceil(traceDepth / splitBits);
}

/** The round (1-based) that disputes a node at `depth`: rounds start at depths 0, m, 2m, … */
export function roundAt(depth: number, splitBits: number): number {
  return Math.floor(depth / splitBits) + 1;
}

/** The trace steps under the node at (depth, index) of a tree of `traceDepth` levels over steps 0 … N (padding: sN). */
export function disputedSteps(depth: number, index: number, traceDepth: number, steps: number): [number, number] {
  const width = 2 ** (traceDepth - depth);
  return [Math.min(index * width, steps), Math.min((index + 1) * width - 1, steps)];
}

/** The index, at depth p.depth + p.levels, of the k-th node the disputed node reveals (BisectionGame.choose's rule). */
export function childIndex(p: Position, k: number): number {
  return p.index * 2 ** p.levels + k;
}

/** The reveal of the disputed node: its 2^levels descendants in `tree`, left to right. */
export function revealMove(tree: TraceTree, p: Position): { node: Uint8Array; levels: number; nodes: Uint8Array[] } {
  const nodes = Array.from({ length: 2 ** p.levels }, (_, k) => tree.node(p.depth + p.levels, childIndex(p, k)));
  return { node: tree.node(p.depth, p.index), levels: p.levels, nodes };
}

/**
 * The challenger's choice among the revealed nodes: the first that differs from its own tree (the first
 * disagreement lies under it, and everything to its left is agreed). An honest challenger facing a wrong node
 * always finds one; if none differs, the node was not wrong and the last is returned (a losing choice).
 */
export function chooseMove(tree: TraceTree, p: Position, revealed: readonly (Uint8Array | string)[]): number {
  for (let k = 0; k < revealed.length; k++) {
    const theirs = typeof revealed[k] === "string" ? (revealed[k] as string).toLowerCase() : toHex(revealed[k] as Uint8Array);
    if (theirs !== toHex(tree.node(p.depth + p.levels, childIndex(p, k)))) return k;
  }
  return revealed.length - 1;
}

export interface ProofMove {
  /** s(k−1), or zero for k = 0 (compared with s0 on-chain). */
  preStateHash: Uint8Array;
  /** s(k−1)'s path up to the agreed-left node. */
  preStateProof: Uint8Array[];
  witness: StepWitness | null;
}

/** The proof at leaf k: the step s(k−1) → s(k) from the honest trace, pre-state proven under the agreed-left node. */
export function proveMove(tree: TraceTree, trace: Trace, p: Position): ProofMove {
  const k = p.index;
  if (k === 0) return { preStateHash: new Uint8Array(32), preStateProof: [], witness: null };
  return { preStateHash: tree.leaf(k - 1), preStateProof: tree.path(0, k - 1, p.agreedHeight), witness: trace.witness(k - 1) };
}

/**
 * What each player does in a bisection game (contracts/protocol/BisectionGame.sol), as pure functions of its
 * own trace tree and the game's public state: the defender reveals the children of the disputed node; the
 * challenger disputes the first child that differs from its own tree; at a leaf, the challenger proves the step
 * from the state it agreed with.
 */
import { toHex } from "../vm/hash.js";
import type { Trace } from "../interpreter/wasm/machine.js";
import type { StepWitness } from "../vm/witness.js";
import type { TraceTree } from "./trace-tree.js";

/** The game's public position, as BisectionGame.game() returns it. */
export interface Position {
  depth: number;
  index: number;
  traceDepth: number;
  agreedHeight: number;
}

/** The trace steps under the node at (depth, index) of a tree of `traceDepth` levels over steps 0 … N (padding: sN). */
export function disputedSteps(depth: number, index: number, traceDepth: number, steps: number): [number, number] {
  const width = 2 ** (traceDepth - depth);
  return [Math.min(index * width, steps), Math.min((index + 1) * width - 1, steps)];
}

/** The defender's reveal: the two children of the disputed node in its tree. */
export function revealMove(tree: TraceTree, p: Position): { left: Uint8Array; right: Uint8Array } {
  return { left: tree.node(p.depth + 1, 2 * p.index), right: tree.node(p.depth + 1, 2 * p.index + 1) };
}

/**
 * The challenger's choice: the left child if it differs from its own (the first disagreement lies there),
 * otherwise the right one. An honest challenger facing a wrong node always finds a differing child.
 */
export function chooseMove(tree: TraceTree, p: Position, left: Uint8Array): boolean {
  return toHex(left) === toHex(tree.node(p.depth + 1, 2 * p.index));
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

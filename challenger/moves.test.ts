import { describe, expect, it } from "vitest";
import { TAG, taggedHash, toHex } from "../vm/hash.js";
import { subtreeRoot } from "../vm/merkle.js";
import { type Position, chooseMove, disputedSteps, levelsAt, revealMove, roundAt, roundsOf } from "./moves.js";
import { TraceTree } from "./trace-tree.js";

const SPLITS = [1, 2, 3, 4, 5, 6];

/** A made-up state hash per step (distinct per `salt`), standing in for a traced run's. */
const leaf = (k: number, salt = 0) => taggedHash(TAG.state, Uint8Array.from([k >> 8, k & 255, salt]));

/** s0 … sN of a run of N = 100 steps: a tree of depth 7 whose leaves 101 … 127 are padding (copies of sN). */
const N = 100;
const honestLeaves = Array.from({ length: N + 1 }, (_, k) => leaf(k));
const honest = new TraceTree(honestLeaves);

/** The honest tree's 128 leaves (padding written out) with only leaf k replaced by garbage. */
function treeWithLeaf(k: number): TraceTree {
  const leaves = [...honestLeaves];
  while (leaves.length < 2 ** honest.depth) leaves.push(honestLeaves[N]);
  leaves[k] = leaf(k, 1);
  return new TraceTree(leaves);
}

/** The position at the root of a game over `tree` with a split of m. */
function root(tree: TraceTree, m: number): Position {
  return { depth: 0, index: 0, traceDepth: tree.depth, agreedHeight: 0, levels: levelsAt(0, tree.depth, m) };
}

/** The position after disputing revealed node `pick` of position p (what BisectionGame.choose stores). */
function after(p: Position, pick: number, m: number): Position {
  const depth = p.depth + p.levels;
  return {
    depth,
    index: p.index * 2 ** p.levels + pick,
    traceDepth: p.traceDepth,
    agreedHeight: pick > 0 ? p.traceDepth - depth : p.agreedHeight,
    levels: depth === p.traceDepth ? 0 : levelsAt(depth, p.traceDepth, m),
  };
}

/** An honest challenger's descent against a defender playing `defender`: each reveal, the pick, until a leaf. */
function play(defender: TraceTree, m: number): { leaf: number; rounds: number; picks: number[] } {
  let p = root(defender, m);
  const picks: number[] = [];
  while (p.levels > 0) {
    const { nodes } = revealMove(defender, p);
    const pick = chooseMove(honest, p, nodes);
    picks.push(pick);
    p = after(p, pick, m);
  }
  return { leaf: p.index, rounds: picks.length, picks };
}

describe("disputedSteps", () => {
  it("names the steps under a node of the trace tree, clipped to the last step N", () => {
    // MNIST: N = 3503, 4096 leaves, depth 12.
    expect(disputedSteps(0, 0, 12, 3503)).toEqual([0, 3503]);
    expect(disputedSteps(1, 0, 12, 3503)).toEqual([0, 2047]);
    expect(disputedSteps(1, 1, 12, 3503)).toEqual([2048, 3503]);
    expect(disputedSteps(12, 1234, 12, 3503)).toEqual([1234, 1234]);
    // A node wholly in the padding (copies of sN) names sN.
    expect(disputedSteps(2, 3, 12, 3503)).toEqual([3072, 3503]);
    expect(disputedSteps(3, 7, 12, 3503)).toEqual([3503, 3503]); // leaves 3584…4095
    // A k-ary round's node: depth 4 (m = 4), the 14th of 16.
    expect(disputedSteps(4, 13, 12, 3503)).toEqual([3328, 3503]);
  });
});

describe("levelsAt, roundsOf and roundAt", () => {
  it("MNIST (depth 12): m levels a round, fewer in the last; ⌈12 / m⌉ rounds", () => {
    expect(SPLITS.map((m) => roundsOf(12, m))).toEqual([12, 6, 4, 3, 3, 2]);
    expect(levelsAt(0, 12, 4)).toBe(4);
    expect(levelsAt(8, 12, 4)).toBe(4);
    expect(levelsAt(10, 12, 5)).toBe(2);
    expect(levelsAt(6, 12, 6)).toBe(6);
    expect(levelsAt(12, 12, 3)).toBe(0); // a leaf opens nothing
  });

  for (const m of SPLITS) {
    for (const depth of [1, 7, 12, 13]) {
      it(`m = ${m}, depth ${depth}: the rounds' levels add up to the depth, each round starts where roundAt says`, () => {
        let d = 0;
        let round = 0;
        const levels: number[] = [];
        while (d < depth) {
          round++;
          expect(roundAt(d, m)).toBe(round);
          const l = levelsAt(d, depth, m);
          expect(l).toBeGreaterThan(0);
          expect(l).toBeLessThanOrEqual(m);
          levels.push(l);
          d += l;
        }
        expect(d).toBe(depth);
        expect(round).toBe(roundsOf(depth, m));
        // Every round but the last opens m levels.
        expect(levels.slice(0, -1).every((l) => l === m)).toBe(true);
        expect(levels.at(-1)).toBe(depth % m === 0 ? m : depth % m);
        // Depths inside a round belong to it.
        for (let inner = 0; inner < depth; inner++) expect(roundAt(inner, m)).toBe(Math.floor(inner / m) + 1);
      });
    }
  }
});

describe("revealMove", () => {
  for (const m of SPLITS) {
    it(`m = ${m}: the 2^levels nodes revealed hash to the disputed node (subtreeRoot), at every node a game can reach`, () => {
      // Every node at the start of a round: depths 0, m, 2m, … and every index there.
      for (let depth = 0; depth < honest.depth; depth += m) {
        for (let index = 0; index < 2 ** depth; index++) {
          const p: Position = { depth, index, traceDepth: honest.depth, agreedHeight: 0, levels: levelsAt(depth, honest.depth, m) };
          const r = revealMove(honest, p);
          expect(r.levels).toBe(p.levels);
          expect(toHex(r.node)).toBe(toHex(honest.node(depth, index)));
          expect(r.nodes).toHaveLength(2 ** p.levels);
          expect(toHex(subtreeRoot(r.nodes))).toBe(toHex(r.node));
          // Left to right: the k-th is the node `levels` below at index·2^levels + k.
          r.nodes.forEach((n, k) => expect(toHex(n)).toBe(toHex(honest.node(depth + p.levels, index * 2 ** p.levels + k))));
        }
      }
    });
  }

  it("the last round of a split that does not divide the depth reveals leaves (depth 7, m = 4: 4 levels, then 3)", () => {
    const p: Position = { depth: 4, index: 9, traceDepth: 7, agreedHeight: 0, levels: levelsAt(4, 7, 4) };
    const r = revealMove(honest, p);
    expect(r.levels).toBe(3);
    expect(r.nodes.map(toHex)).toEqual(Array.from({ length: 8 }, (_, k) => toHex(honest.leaf(72 + k))));
  });
});

describe("chooseMove", () => {
  for (const m of SPLITS) {
    it(`m = ${m}: disputes the first revealed node that differs, and the descent ends at the wrong leaf`, () => {
      for (const L of [0, 1, 37, 63, 64, 99, N]) {
        const liar = treeWithLeaf(L);
        const { leaf, rounds, picks } = play(liar, m);
        expect(leaf, `leaf ${L}`).toBe(L);
        expect(rounds).toBe(roundsOf(liar.depth, m));
        // Each pick is the digit of L in base 2^levels: the one child holding the wrong leaf.
        let d = 0;
        picks.forEach((pick) => {
          const l = levelsAt(d, liar.depth, m);
          d += l;
          expect(pick).toBe((L >> (liar.depth - d)) & (2 ** l - 1));
        });
      }
    });

    it(`m = ${m}: a lie from step k on (every later leaf wrong) is disputed at its first wrong leaf`, () => {
      for (const k of [0, 5, 50, N]) {
        const leaves = honestLeaves.map((h, s) => (s >= k ? leaf(s, 2) : h));
        expect(play(new TraceTree(leaves), m).leaf).toBe(k);
      }
    });

    it(`m = ${m}: a wrong leaf in the padding (past N) is disputed there, every node before it agreed`, () => {
      for (const L of [N + 1, 110, 127]) {
        const liar = treeWithLeaf(L);
        expect(toHex(liar.leaf(L - 1))).toBe(toHex(honest.leaf(L - 1))); // the padding before it is sN
        expect(play(liar, m).leaf).toBe(L);
      }
    });

    it(`m = ${m}: when no revealed node differs, the last is returned (the node was not wrong)`, () => {
      const p = root(honest, m);
      const { nodes } = revealMove(honest, p);
      expect(chooseMove(honest, p, nodes)).toBe(nodes.length - 1);
    });
  }

  it("takes the revealed nodes as bytes or as hex of either case (event data)", () => {
    const m = 3;
    const p = root(honest, m);
    const { nodes } = revealMove(treeWithLeaf(70), p);
    const expected = 70 >> 4; // depth 7, first round opens 3 levels: leaf 70 is under node 4 of 8
    expect(chooseMove(honest, p, nodes)).toBe(expected);
    expect(chooseMove(honest, p, nodes.map(toHex))).toBe(expected);
    expect(chooseMove(honest, p, nodes.map((n) => "0x" + toHex(n).slice(2).toUpperCase()))).toBe(expected);
  });
});

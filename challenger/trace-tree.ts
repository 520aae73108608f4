/**
 * A trace tree a player holds: every node of the Merkle tree over s0 … sN, padded to a power of two with sN
 * (the tree a claim's trace root commits to). Built from the state hashes of a traced run, or from a lying
 * copy of them, so tests and demos can play either side.
 */
import { hashNode } from "../vm/hash.js";
import type { Trace } from "../interpreter/wasm/machine.js";

export class TraceTree {
  /** levels[h] holds the nodes at height h (leaves at 0), full width. */
  private readonly levels: Uint8Array[][];
  readonly depth: number;

  constructor(leaves: Uint8Array[]) {
    this.depth = Math.ceil(Math.log2(leaves.length));
    const padded = [...leaves];
    while (padded.length < 2 ** this.depth) padded.push(leaves[leaves.length - 1]);
    this.levels = [padded];
    for (let h = 0; h < this.depth; h++) {
      const below = this.levels[h];
      this.levels.push(Array.from({ length: below.length / 2 }, (_, p) => hashNode(below[2 * p], below[2 * p + 1])));
    }
  }

  static fromTrace(trace: Trace): TraceTree {
    return new TraceTree(Array.from({ length: trace.steps + 1 }, (_, k) => trace.stateHash(k)));
  }

  get root(): Uint8Array {
    return this.levels[this.depth][0];
  }

  /** The node at `depth` from the root (0 = root), position `index` at that depth. */
  node(depth: number, index: number): Uint8Array {
    return this.levels[this.depth - depth][index];
  }

  leaf(k: number): Uint8Array {
    return this.levels[0][k];
  }

  /** The sibling path of the node at `height` above the leaves, position `index`, up `levels` levels. */
  path(height: number, index: number, levels: number): Uint8Array[] {
    return Array.from({ length: levels }, (_, k) => this.levels[height + k][(index >> k) ^ 1]);
  }
}

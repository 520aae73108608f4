// Sparse binary Merkle trees of fixed depth, the WASM twin of vm/merkle.ts: level k keeps only its first
// ⌈count / 2^k⌉ nodes; a position past them holds empty[k], the root of a subtree made only of padding.
// node = keccak256("mlvm.node" ‖ left ‖ right).
import { alloc } from "./heap";
import { keccak256Concat3 } from "./keccak";

// "mlvm.node"
const TAG_NODE = memory.data<u8>([0x6d, 0x6c, 0x76, 0x6d, 0x2e, 0x6e, 0x6f, 0x64, 0x65]);
const TAG_NODE_LEN: usize = 9;

export function hashNode(left: usize, right: usize, dst: usize): void {
  keccak256Concat3(TAG_NODE, TAG_NODE_LEN, left, 32, right, 32, dst);
}

/** empty[0] = the given leaf, empty[k+1] = H(empty[k], empty[k]); (depth + 1) hashes. */
export function emptyChain(leaf: usize, depth: i32): usize {
  const chain = alloc(<usize>(depth + 1) * 32);
  memory.copy(chain, leaf, 32);
  for (let k = 0; k < depth; k++) hashNode(chain + <usize>k * 32, chain + <usize>k * 32, chain + <usize>(k + 1) * 32);
  return chain;
}

@final
export class Tree {
  /** Offsets (in hashes) of each level inside `nodes`, and each level's stored length. */
  private offsets: StaticArray<i32>;
  private lengths: StaticArray<i32>;
  nodes: usize;

  constructor(public count: i32, public depth: i32, public empty: usize) {
    this.offsets = new StaticArray<i32>(depth + 1);
    this.lengths = new StaticArray<i32>(depth + 1);
    let total = 0;
    let length = count;
    for (let k = 0; k <= depth; k++) {
      this.offsets[k] = total;
      this.lengths[k] = length;
      total += length;
      length = (length + 1) >> 1;
    }
    this.nodes = alloc(<usize>total * 32);
  }

  /** Where leaf `index`'s hash goes (the caller writes leaves, then calls build or update). */
  @inline leaf(index: i32): usize {
    return this.nodes + <usize>index * 32;
  }

  /** The node at (level k, position p), or the padding hash of level k past the stored nodes. */
  node(k: i32, p: i32): usize {
    return p < unchecked(this.lengths[k])
      ? this.nodes + <usize>(unchecked(this.offsets[k]) + p) * 32
      : this.empty + <usize>k * 32;
  }

  /** Hashes every level above the leaves. */
  build(): void {
    for (let k = 0; k < this.depth; k++) {
      const above = unchecked(this.lengths[k + 1]);
      for (let p = 0; p < above; p++) hashNode(this.node(k, 2 * p), this.node(k, 2 * p + 1), this.node(k + 1, p));
    }
  }

  /** Rehashes the path above leaf `index` after its hash changed: depth hashes. */
  update(index: i32): void {
    let p = index;
    for (let k = 0; k < this.depth; k++) {
      const parent = p >> 1;
      hashNode(this.node(k, parent << 1), this.node(k, (parent << 1) | 1), this.node(k + 1, parent));
      p = parent;
    }
  }

  root(): usize {
    return this.node(this.depth, 0);
  }

  /** Writes the siblings of node (height, index) from that height up to the root; returns how many. */
  proof(height: i32, index: i32, out: usize): i32 {
    let p = index;
    for (let k = height; k < this.depth; k++) {
      memory.copy(out + <usize>(k - height) * 32, this.node(k, p ^ 1), 32);
      p >>= 1;
    }
    return this.depth - height;
  }
}

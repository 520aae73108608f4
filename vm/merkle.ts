/**
 * Binary Merkle trees of fixed depth over leaf hashes, padded with a known "empty" leaf. Used for memory
 * (empty = the all-zero leaf) and for the program (empty = the all-zero instruction, HALT).
 *
 * A tree of depth d has 2^d leaves; node = H(node, left ‖ right). Only the leaves given are hashed: a
 * subtree made only of padding has a precomputed hash, so a sparse tree (a mostly-empty data region)
 * costs as much as its non-empty part.
 */
import { hashNode } from "./hash.js";

/** empty[k] = the root of a depth-k subtree of empty leaves: empty[0] = emptyLeaf, empty[k+1] = H(empty[k], empty[k]). */
export function emptySubtrees(emptyLeaf: Uint8Array, depth: number): Uint8Array[] {
  const empty = [emptyLeaf];
  for (let k = 0; k < depth; k++) empty.push(hashNode(empty[k], empty[k]));
  return empty;
}

/**
 * All levels of the tree over `leaves` (level 0 = the leaves, last level = [root]), keeping only the
 * non-empty prefix of each level; positions past the prefix hold empty[level].
 */
export function buildLevels(leaves: readonly Uint8Array[], depth: number, empty: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length > 2 ** depth) throw new RangeError(`${leaves.length} leaves do not fit a tree of depth ${depth}`);
  const levels: Uint8Array[][] = [leaves.slice()];
  for (let k = 0; k < depth; k++) {
    const below = levels[k];
    const above: Uint8Array[] = new Array(Math.ceil(below.length / 2));
    for (let p = 0; p < above.length; p++) {
      above[p] = hashNode(below[2 * p], 2 * p + 1 < below.length ? below[2 * p + 1] : empty[k]);
    }
    levels.push(above);
  }
  if (levels[depth].length === 0) levels[depth] = [empty[depth]];
  return levels;
}

export function merkleRoot(leaves: readonly Uint8Array[], depth: number, empty: readonly Uint8Array[]): Uint8Array {
  const levels = buildLevels(leaves, depth, empty);
  return levels[depth][0];
}

/** The sibling path of leaf `index`, bottom-up. */
export function merkleProof(levels: readonly Uint8Array[][], index: number, empty: readonly Uint8Array[]): Uint8Array[] {
  const proof: Uint8Array[] = [];
  for (let k = 0; k < levels.length - 1; k++) {
    const sibling = (index >> k) ^ 1;
    proof.push(sibling < levels[k].length ? levels[k][sibling] : empty[k]);
  }
  return proof;
}

/** The root that a leaf hash and its sibling path imply: the check every verifier does. */
export function rootFromProof(leaf: Uint8Array, index: number, proof: readonly Uint8Array[]): Uint8Array {
  let node = leaf;
  for (let k = 0; k < proof.length; k++) {
    node = (index >> k) & 1 ? hashNode(proof[k], node) : hashNode(node, proof[k]);
  }
  return node;
}

/** The root of the subtree whose nodes at one level are `nodes` (a power of two of them, left to right). */
export function subtreeRoot(nodes: readonly Uint8Array[]): Uint8Array {
  if (nodes.length === 0 || (nodes.length & (nodes.length - 1)) !== 0) throw new RangeError(`${nodes.length} nodes are not a power of two`);
  let level = nodes.slice();
  while (level.length > 1) level = Array.from({ length: level.length / 2 }, (_, p) => hashNode(level[2 * p], level[2 * p + 1]));
  return level[0];
}

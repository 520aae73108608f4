/**
 * Memory: a flat array of int32 words, addressed by word, Merkleized as 32-byte leaves of 8 words.
 *
 * Layout of a program with memory depth D (a tree of 2^D leaves, 2^D · 8 words):
 *   - the left half, words [0, dataBase), is the model region: weights and biases, fixed per model. Its
 *     subtree root (the "model memory root") is computed once and registered on-chain with the model.
 *   - the right half, words [dataBase, 2·dataBase), is the data region: the input at dataBase, then the
 *     activations. Initially it holds only the input, so the initial memory root is
 *     H(node, modelRoot ‖ dataRoot(input)): computable on-chain from the registered model and the input.
 * dataBase = 2^(D-1) · 8.
 *
 * A leaf packs 8 words big-endian, word 0 first (the same bytes Solidity sees in a bytes32).
 * Reads in a step are of one leaf (8 words, leaf-aligned) or one chunk (32 words = 4 leaves, chunk-aligned,
 * proven as one subtree of height 2), so a witness carries a bounded number of proofs per step.
 */
import { MlvmError } from "./errors.js";
import { TAG, hashNode, taggedHash } from "./hash.js";
import { emptySubtrees, merkleRoot } from "./merkle.js";

export const WORD_BYTES = 4;
export const LEAF_WORDS = 8; // 32-byte leaf / 4-byte word
export const LEAF_BYTES = LEAF_WORDS * WORD_BYTES;
/**
 * K, the multiply-accumulates of one DENSE step: 32 words = 4 leaves, one height-2 subtree.
 * Why 32: a dense step's on-chain cost is dominated by calldata, two chunk proofs (4 leaves + D-2 siblings
 * each) plus a bias and an output leaf proof; at K = 32 and D = 15 (MNIST) that is ~2.4 KB, well inside the
 * 100k-gas step budget, while the step count (~3.6k for MNIST) keeps trace hashing cheap. Doubling K halves
 * the steps but saves only one bisection round (log2), while each step's proof grows by 4 leaves per chunk.
 */
export const CHUNK_WORDS = 32;
export const CHUNK_LEAVES = CHUNK_WORDS / LEAF_WORDS;
/** The largest memory depth mlvm accepts: 2^30 leaves, 2^33 words (a 1-billion-weight model). */
export const MAX_MEMORY_DEPTH = 30;

/** A word read or written outside the memory a program declares. */
export class MemoryBoundsError extends MlvmError {}

/** The first word address of the data region for a memory of depth `depth`. */
export function dataBase(depth: number): number {
  return 2 ** (depth - 1) * LEAF_WORDS;
}

export function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export function alignDown(n: number, to: number): number {
  return Math.floor(n / to) * to;
}

/** The 32 bytes of one leaf: words[off .. off+8) as big-endian int32. */
export function encodeLeaf(words: Int32Array, off = 0): Uint8Array {
  const bytes = new Uint8Array(LEAF_BYTES);
  const view = new DataView(bytes.buffer);
  for (let t = 0; t < LEAF_WORDS; t++) view.setInt32(t * WORD_BYTES, words[off + t] ?? 0, false);
  return bytes;
}

export function decodeLeaf(bytes: Uint8Array): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = new Int32Array(LEAF_WORDS);
  for (let t = 0; t < LEAF_WORDS; t++) words[t] = view.getInt32(t * WORD_BYTES, false);
  return words;
}

/** H(leaf, 32 bytes). */
export function hashLeaf(words: Int32Array, off = 0): Uint8Array {
  return taggedHash(TAG.leaf, encodeLeaf(words, off));
}

/** Hashes of the empty (all-zero) memory subtree of each height, 0 .. MAX_MEMORY_DEPTH. */
export const EMPTY_MEMORY = emptySubtrees(hashLeaf(new Int32Array(LEAF_WORDS)), MAX_MEMORY_DEPTH);

/**
 * The root of a depth-`depth` tree whose leaves start with `words` (zero-padded to whole leaves) and are
 * empty after: used for the model region and for the data region, each a subtree of depth D-1.
 */
export function regionRoot(words: Int32Array, depth: number): Uint8Array {
  const leaves: Uint8Array[] = [];
  for (let off = 0; off < words.length; off += LEAF_WORDS) leaves.push(hashLeaf(words, off));
  return merkleRoot(leaves, depth, EMPTY_MEMORY);
}

/** The memory root: H(node, modelRoot ‖ dataRoot), the two halves of a depth-D tree. */
export function memoryRoot(modelRoot: Uint8Array, dataRoot: Uint8Array): Uint8Array {
  return hashNode(modelRoot, dataRoot);
}

/** What a step may read. The executors' calls to it are exactly what a witness must prove. */
export interface MemoryReader {
  /** The 8 words of the leaf at `addr` (leaf-aligned). */
  readLeaf(addr: number): Int32Array;
  /** The 32 words of the chunk at `addr` (chunk-aligned). */
  readChunk(addr: number): Int32Array;
}

/** The one write a step may make: a whole leaf. */
export interface LeafWrite {
  addr: number;
  words: Int32Array;
}

/**
 * Memory as one Int32Array, for running programs. Reads return views (no copy); writes copy a leaf in.
 * It holds words [0, size); the program's validation guarantees every access lies inside.
 */
export class FlatMemory implements MemoryReader {
  readonly words: Int32Array;

  /** A zeroed memory of `size` words, or a view over existing words. */
  constructor(size: number | Int32Array) {
    this.words = typeof size === "number" ? new Int32Array(size) : size;
  }

  readLeaf(addr: number): Int32Array {
    return this.view(addr, LEAF_WORDS);
  }

  readChunk(addr: number): Int32Array {
    return this.view(addr, CHUNK_WORDS);
  }

  write(w: LeafWrite): void {
    this.view(w.addr, LEAF_WORDS).set(w.words);
  }

  private view(addr: number, n: number): Int32Array {
    if (addr % n !== 0 || addr < 0 || addr + n > this.words.length) {
      throw new MemoryBoundsError(`read of ${n} words at ${addr} is unaligned or outside memory [0, ${this.words.length})`);
    }
    return this.words.subarray(addr, addr + n);
  }
}

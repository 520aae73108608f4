/**
 * Memory with its Merkle tree kept up to date, in plain TypeScript on vm/'s hashing: the reference for
 * traced runs (the WASM kernel must produce the same state hash at every step). The model region's root is
 * computed once per model image and cached; the data region's tree covers only the words a run can touch
 * (vm/program.ts dataExtent) and is rehashed one leaf path per write.
 */
import { hashNode } from "../vm/hash.js";
import { EMPTY_MEMORY, FlatMemory, LEAF_WORDS, type LeafWrite, dataBase, hashLeaf, regionRoot } from "../vm/memory.js";
import { buildLevels } from "../vm/merkle.js";
import { dataExtent } from "../vm/program.js";
import type { Executable } from "./run.js";

const modelRoots = new WeakMap<Int32Array, Uint8Array>();

/** The model region's root, hashed once per image. */
export function cachedModelRoot(model: Executable): Uint8Array {
  let root = modelRoots.get(model.image);
  if (!root) {
    root = regionRoot(model.image, model.program.memoryDepth - 1);
    modelRoots.set(model.image, root);
  }
  return root;
}

export class MerkleMemory extends FlatMemory {
  private readonly base: number;
  private readonly depth: number;
  private readonly levels: Uint8Array[][];
  private readonly modelRoot: Uint8Array;
  root: Uint8Array;

  /** Takes over `memory`'s words as they are (model image and input written). */
  constructor(model: Executable, memory: FlatMemory) {
    super(memory.words);
    this.base = dataBase(model.program.memoryDepth);
    this.depth = model.program.memoryDepth - 1;
    this.modelRoot = cachedModelRoot(model);
    const leaves: Uint8Array[] = [];
    for (let off = 0; off < dataExtent(model.program); off += LEAF_WORDS) leaves.push(hashLeaf(this.words, this.base + off));
    this.levels = buildLevels(leaves, this.depth, EMPTY_MEMORY);
    this.root = hashNode(this.modelRoot, this.levels[this.depth][0]);
  }

  override write(w: LeafWrite): void {
    super.write(w);
    let p = (w.addr - this.base) / LEAF_WORDS;
    this.levels[0][p] = hashLeaf(w.words);
    for (let k = 0; k < this.depth; k++) {
      const parent = p >> 1;
      const level = this.levels[k];
      const left = level[2 * parent];
      const right = 2 * parent + 1 < level.length ? level[2 * parent + 1] : EMPTY_MEMORY[k];
      this.levels[k + 1][parent] = hashNode(left, right);
      p = parent;
    }
    this.root = hashNode(this.modelRoot, this.levels[this.depth][0]);
  }
}

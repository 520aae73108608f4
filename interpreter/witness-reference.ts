/**
 * Reference step witnesses, computed with vm/ alone: the witness of the step from ANY registers over ANY memory
 * contents, not only from states a real run reaches (interpreter/wasm/machine.ts's Trace.witness can only give
 * those, from its checkpoints). Tests hold Trace.witness to it on real traces, and the randomized differential
 * tests (test/helpers/random-steps.ts) use it to prove steps from states no model would produce.
 *
 * A MemoryTree hashes the whole memory once (vm/merkle.ts buildLevels over the 2^D leaf hashes, its all-zero
 * tail left to the padding hashes) and then gives a witness for any state over that memory at the cost of the
 * step itself plus two state hashes and one leaf path. `apply` performs a step on the tree (the write rehashes
 * one leaf path), so a tree can also walk a whole run.
 */
import { TAG, hashNode, taggedHash } from "../vm/hash.js";
import { EMPTY_MEMORY, FlatMemory, LEAF_WORDS, type LeafWrite, hashLeaf } from "../vm/memory.js";
import { buildLevels, merkleProof, rootFromProof } from "../vm/merkle.js";
import { type Instruction, type Program, encodeInstruction, instructionProof, programLevels } from "../vm/program.js";
import { type State, encodeState, hashState } from "../vm/state.js";
import { step } from "../vm/step.js";
import { type MemoryRead, type ReadKind, READ_HEIGHT, READ_WORDS, type StepWitness } from "../vm/witness.js";

/** The all-zero instruction: HALT, what the program tree is padded with past the last instruction. */
const PADDING_HALT: Instruction = { opcode: 0, args: [] };

const isZeroLeaf = (words: Int32Array, off: number) => {
  for (let t = 0; t < LEAF_WORDS; t++) if (words[off + t] !== 0) return false;
  return true;
};

export class MemoryTree {
  readonly program: Program;
  readonly depth: number;
  /** The whole memory, 2^D · 8 words: a copy of the words given, updated by write() / apply(). */
  readonly words: Int32Array;
  readonly programRoot: Uint8Array;
  private readonly memory: FlatMemory;
  private readonly programTree: Uint8Array[][];
  /** Levels of the memory tree, leaves first; each level holds a prefix, positions past it are EMPTY_MEMORY. */
  private readonly levels: Uint8Array[][];

  /**
   * `words` must be the whole memory of `program` (2^D · 8 words). The program is not validated: a hand-made
   * one (an opcode outside the table, to test traps) has witnesses too.
   */
  constructor(program: Program, words: Int32Array) {
    const depth = program.memoryDepth;
    const size = 2 ** depth * LEAF_WORDS;
    if (words.length !== size) throw new RangeError(`a memory of depth ${depth} is ${size} words, got ${words.length}`);
    this.program = program;
    this.depth = depth;
    this.words = words.slice();
    this.memory = new FlatMemory(this.words);
    this.programTree = programLevels(program);
    this.programRoot = this.programTree[this.programTree.length - 1][0];

    // Leaf hashes up to the last non-zero leaf; an all-zero leaf hashes to EMPTY_MEMORY[0], so it needs no keccak.
    let used = size / LEAF_WORDS;
    while (used > 0 && isZeroLeaf(this.words, (used - 1) * LEAF_WORDS)) used--;
    const leaves: Uint8Array[] = new Array(used);
    for (let p = 0; p < used; p++) leaves[p] = isZeroLeaf(this.words, p * LEAF_WORDS) ? EMPTY_MEMORY[0] : hashLeaf(this.words, p * LEAF_WORDS);
    this.levels = buildLevels(leaves, depth, EMPTY_MEMORY);
  }

  /** The memory root. */
  get root(): Uint8Array {
    return this.levels[this.depth][0];
  }

  /** The hash of `state` over this program and memory. */
  stateHash(state: State): Uint8Array {
    return hashState(this.programRoot, this.root, state);
  }

  /** The siblings of a leaf (height 0) or of a chunk's height-2 node, from there up to the root. */
  proof(kind: ReadKind, address: number): Uint8Array[] {
    const height = READ_HEIGHT[kind];
    return merkleProof(this.levels.slice(height), address / READ_WORDS[kind], EMPTY_MEMORY.slice(height));
  }

  /**
   * The witness of the step from `state` (vm/witness.ts), exactly as Trace.witness(k) gives it for a state of a
   * real trace. `index` is the trace position the witness is for (its `step` field): the state's step counter
   * unless told, since past the end of a trace the halted state sN (step = N) stands at every position k ≥ N.
   *
   * A pc past the last instruction is served by the program tree's padding (the all-zero instruction, HALT) when
   * it lies in the tree, as the verifier would; a read outside memory or unaligned throws MemoryBoundsError:
   * no witness of such a step exists.
   */
  witness(state: State, index: number = state.step): StepWitness {
    const preState = encodeState(this.programRoot, this.root, state);
    if (state.halted) {
      return { step: index, preState, instruction: new Uint8Array(0), instructionProof: [], reads: [], postStateHash: taggedHash(TAG.state, preState) };
    }
    const insn = this.instructionAt(state.pc);
    const reads: MemoryRead[] = [];
    const serve = (kind: ReadKind) => (address: number) => {
      const words = (kind === "leaf" ? this.memory.readLeaf(address) : this.memory.readChunk(address)).slice();
      reads.push({ kind, address, words, proof: this.proof(kind, address) });
      return words.slice(); // the executor may not alias the witness's words
    };
    const result = step(state, insn, { readLeaf: serve("leaf"), readChunk: serve("chunk") });
    const postRoot = result.write ? rootFromProof(hashLeaf(result.write.words), result.write.addr / LEAF_WORDS, this.proof("leaf", result.write.addr)) : this.root;
    return {
      step: index,
      preState,
      instruction: encodeInstruction(insn),
      instructionProof: instructionProof(this.programTree, state.pc),
      reads,
      postStateHash: hashState(this.programRoot, postRoot, result.state),
    };
  }

  /** Performs the step from `state` on this memory (its write, if any) and returns the next state. */
  apply(state: State): State {
    if (state.halted) return state;
    const result = step(state, this.instructionAt(state.pc), this.memory);
    if (result.write) this.write(result.write);
    return result.state;
  }

  /** Writes one leaf and rehashes its path. */
  write(w: LeafWrite): void {
    this.memory.write(w);
    let p = w.addr / LEAF_WORDS;
    this.setNode(0, p, hashLeaf(this.words, w.addr));
    for (let k = 0; k < this.depth; k++) {
      const parent = p >> 1;
      const level = this.levels[k];
      const left = 2 * parent < level.length ? level[2 * parent] : EMPTY_MEMORY[k];
      const right = 2 * parent + 1 < level.length ? level[2 * parent + 1] : EMPTY_MEMORY[k];
      this.setNode(k + 1, parent, hashNode(left, right));
      p = parent;
    }
  }

  private setNode(height: number, p: number, hash: Uint8Array): void {
    const level = this.levels[height];
    while (level.length < p) level.push(EMPTY_MEMORY[height]); // a write past the stored prefix
    level[p] = hash;
  }

  private instructionAt(pc: number): Instruction {
    const insn = this.program.instructions[pc];
    if (insn) return insn;
    const depth = this.programTree.length - 1;
    if (!Number.isInteger(pc) || pc < 0 || pc >= 2 ** depth) throw new RangeError(`pc ${pc} is outside the program tree's ${2 ** depth} leaves`);
    return PADDING_HALT; // its leaf hash is EMPTY_PROGRAM[0], the padding
  }
}

/** The witness of one step from `state` over the whole memory `words` (2^D · 8 words). Builds a tree each call. */
export function referenceWitness(program: Program, words: Int32Array, state: State, index: number = state.step): StepWitness {
  return new MemoryTree(program, words).witness(state, index);
}

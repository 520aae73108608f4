/**
 * The one-step verifier: given the hash of s_k and a witness, it checks everything the witness claims and
 * returns the hash of s_{k+1}, computed by vm/step.ts — never anything else. It uses only the witness, not the
 * rest of memory, exactly as the on-chain verifier (contracts/, its Solidity twin) does:
 *   1. the pre-state preimage hashes to the given s_k;
 *   2. a halted state steps to itself;
 *   3. the instruction is the program root's leaf at pc;
 *   4. the step runs, and each memory read it makes is served by the next read of the witness: same kind, same
 *      address, and words whose Merkle path leads to the pre-state's memory root;
 *   5. the one write, if any, replaces a leaf the step read, and that read's path gives the new memory root;
 *   6. the result is the hash of the post-state.
 * A witness that fails a check is rejected with a WitnessError saying which.
 */
import { TAG, hashNode, taggedHash, toHex } from "./hash.js";
import { hashLeaf, type LeafWrite, type MemoryReader } from "./memory.js";
import { rootFromProof } from "./merkle.js";
import { INSN_BYTES, type Instruction, MAX_OPERANDS } from "./program.js";
import { STATE_PREIMAGE_BYTES, decodeState, hashState } from "./state.js";
import { step } from "./step.js";
import { type MemoryRead, READ_WORDS, type ReadKind, type StepWitness, WitnessError } from "./witness.js";

export function verifyStep(preStateHash: Uint8Array, witness: StepWitness): Uint8Array {
  if (witness.preState.length !== STATE_PREIMAGE_BYTES) throw new WitnessError(`preState is ${witness.preState.length} bytes, expected ${STATE_PREIMAGE_BYTES}`);
  if (toHex(taggedHash(TAG.state, witness.preState)) !== toHex(preStateHash)) throw new WitnessError("preState does not hash to the pre-state hash");
  const { programRoot, memoryRoot, state } = decodeState(witness.preState);
  if (state.halted) return preStateHash;

  if (witness.instruction.length !== INSN_BYTES) throw new WitnessError(`instruction is ${witness.instruction.length} bytes, expected ${INSN_BYTES}`);
  checkPath(taggedHash(TAG.insn, witness.instruction), state.pc, witness.instructionProof, programRoot, "instruction");

  const memory = new WitnessMemory(witness.reads, memoryRoot);
  const result = step(state, instructionFromBytes(witness.instruction), memory);
  memory.finish();
  const newRoot = result.write ? memory.rootAfter(result.write) : memoryRoot;
  return hashState(programRoot, newRoot, result.state);
}

/** An instruction's fields, without validation: an opcode outside the table is the step's to handle (a trap). */
function instructionFromBytes(bytes: Uint8Array): Instruction {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const args: number[] = [];
  for (let k = 0; k < MAX_OPERANDS; k++) args.push(view.getUint32(4 + 4 * k, false));
  return { opcode: view.getUint8(0), args };
}

/**
 * Checks that `node` sits at `index` under `root`, with `proof` its siblings upward. The index must fit the
 * path's length: otherwise its high bits would be ignored and another position's proof would pass.
 */
function checkPath(node: Uint8Array, index: number, proof: Uint8Array[], root: Uint8Array, what: string): void {
  if (index >= 2 ** proof.length) throw new WitnessError(`${what} index ${index} does not fit a proof of ${proof.length} levels`);
  if (toHex(rootFromProof(node, index, proof)) !== toHex(root)) throw new WitnessError(`${what} proof does not lead to the root`);
}

/** The root of a read's subtree: its leaf, or the 4-leaf chunk's height-2 node. */
function subtreeRoot(read: MemoryRead): Uint8Array {
  if (read.kind === "leaf") return hashLeaf(read.words);
  const leaves = [0, 1, 2, 3].map((t) => hashLeaf(read.words, 8 * t));
  return hashNode(hashNode(leaves[0], leaves[1]), hashNode(leaves[2], leaves[3]));
}

/** Serves the step's reads from the witness, in order, checking each against the memory root. */
class WitnessMemory implements MemoryReader {
  private next = 0;

  constructor(private readonly reads: MemoryRead[], private readonly root: Uint8Array) {}

  readLeaf(addr: number): Int32Array {
    return this.serve("leaf", addr);
  }

  readChunk(addr: number): Int32Array {
    return this.serve("chunk", addr);
  }

  private serve(kind: ReadKind, addr: number): Int32Array {
    const k = this.next++;
    const read = this.reads[k];
    if (!read) throw new WitnessError(`the step makes read ${k} (${kind} at ${addr}) but the witness has only ${this.reads.length}`);
    if (read.kind !== kind || read.address !== addr) throw new WitnessError(`read ${k} is a ${read.kind} at ${read.address}, the step reads a ${kind} at ${addr}`);
    if (addr % READ_WORDS[kind] !== 0) throw new WitnessError(`read ${k}: a ${kind} address must be aligned to ${READ_WORDS[kind]} words, got ${addr}`);
    if (read.words.length !== READ_WORDS[kind]) throw new WitnessError(`read ${k} has ${read.words.length} words, a ${kind} has ${READ_WORDS[kind]}`);
    checkPath(subtreeRoot(read), addr / READ_WORDS[kind], read.proof, this.root, `read ${k} (${kind} at ${addr})`);
    return read.words;
  }

  /** Every read of the witness was used. */
  finish(): void {
    if (this.next !== this.reads.length) throw new WitnessError(`the witness has ${this.reads.length} reads, the step makes ${this.next}`);
  }

  /** The memory root after writing a leaf the step read: that read's path, with the new leaf. */
  rootAfter(write: LeafWrite): Uint8Array {
    const read = this.reads.find((r) => r.kind === "leaf" && r.address === write.addr);
    if (!read) throw new WitnessError(`the step writes the leaf at ${write.addr}, which it did not read`);
    return rootFromProof(hashLeaf(write.words), write.addr / READ_WORDS.leaf, read.proof);
  }
}

/**
 * The step function: the VM's semantics, one bounded unit of work at a time. The Solidity one-step verifier
 * mirrors this file function for function, in the same order.
 *
 * step() dispatches on the opcode to an executor. Every executor has the same signature:
 *   (state, args, memory) → { state, write? }
 * It reads memory only through `memory` (a leaf or a chunk at a time: exactly what a witness must prove),
 * makes at most one leaf write, which it returns instead of performing, and never touches anything else.
 * That makes step() pure: the caller applies the write, to a flat array or to a Merkle tree.
 */
import { relu, sigmoid, tanh } from "./activations.js";
import { accumulate, biasToAcc, dot, rescale } from "./fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, type LeafWrite, type MemoryReader, alignDown } from "./memory.js";
import { Opcode } from "./opcodes.js";
import type { Instruction } from "./program.js";
import type { State } from "./state.js";

export interface StepResult {
  state: State;
  write?: LeafWrite;
}

type Executor = (s: State, args: readonly number[], memory: MemoryReader) => StepResult;

/**
 * One step from `s`, whose current instruction is `insn` (the instruction at s.pc).
 * A halted state steps to itself. An opcode outside the table (possible only in a hand-made program,
 * never in one that decodes) traps: the machine halts where it is.
 */
export function step(s: State, insn: Instruction, memory: MemoryReader): StepResult {
  if (s.halted) return { state: s };
  const execute = EXECUTORS[insn.opcode];
  const result = execute ? execute(s, insn.args, memory) : { state: { ...s, halted: true } };
  return { state: { ...result.state, step: s.step + 1 }, write: result.write };
}

/** Move to the next instruction, clearing the loop registers. */
function nextInstruction(s: State): State {
  return { ...s, pc: s.pc + 1, i: 0, j: 0, acc: 0n, aux: 0 };
}

/** A copy of the leaf holding word `addr`, with that word replaced: the write of a one-word store. */
function storeWord(memory: MemoryReader, addr: number, value: number): LeafWrite {
  const leafAddr = alignDown(addr, LEAF_WORDS);
  const words = memory.readLeaf(leafAddr).slice();
  words[addr - leafAddr] = value;
  return { addr: leafAddr, words };
}

function executeHalt(s: State): StepResult {
  return { state: { ...s, halted: true } };
}

/**
 * DENSE input weights bias output inputs outputs — state (i, j) = (row r, chunk c).
 * Row r of W starts at weights + r·stride, stride = ⌈inputs / K⌉·K (rows padded to whole chunks), K = CHUNK_WORDS.
 * A step adds chunk c's products to the accumulator; the first chunk of a row starts from the bias; the
 * last one rounds the row to Q16.16, stores it at output + r, and moves to the next row.
 */
function executeDense(s: State, args: readonly number[], memory: MemoryReader): StepResult {
  const [input, weights, bias, output, inputs, outputs] = args;
  const chunks = Math.ceil(inputs / CHUNK_WORDS);
  const row = s.i;
  const chunk = s.j;
  const offset = chunk * CHUNK_WORDS;
  const n = Math.min(CHUNK_WORDS, inputs - offset);
  const w = memory.readChunk(weights + row * chunks * CHUNK_WORDS + offset);
  const x = memory.readChunk(input + offset);
  const start = chunk === 0 ? biasToAcc(readWord(memory, bias + row)) : s.acc;
  const acc = accumulate(start, dot(w, 0, x, 0, n));
  if (chunk + 1 < chunks) return { state: { ...s, j: chunk + 1, acc } };
  const write = storeWord(memory, output + row, rescale(acc));
  const next = row + 1 < outputs ? { ...s, i: row + 1, j: 0, acc: 0n } : nextInstruction(s);
  return { state: next, write };
}

/** RELU / SIGMOID / TANH addr n — state i = leaf: applies the function to the up-to-8 words of leaf i, in place. */
function executeActivation(fn: (x: number) => number): Executor {
  return (s, args, memory) => {
    const [addr, n] = args;
    const leaf = s.i;
    const leafAddr = addr + leaf * LEAF_WORDS;
    const words = memory.readLeaf(leafAddr).slice();
    const count = Math.min(LEAF_WORDS, n - leaf * LEAF_WORDS);
    for (let t = 0; t < count; t++) words[t] = fn(words[t]);
    const next = (leaf + 1) * LEAF_WORDS < n ? { ...s, i: leaf + 1 } : nextInstruction(s);
    return { state: next, write: { addr: leafAddr, words } };
  };
}

/**
 * ARGMAX src n dst — state i = leaf, acc = best value so far, aux = its index.
 * Scans leaf i; a value replaces the best only if strictly greater, so ties go to the lowest index.
 * The last leaf's step stores the index at dst.
 */
function executeArgmax(s: State, args: readonly number[], memory: MemoryReader): StepResult {
  const [src, n, dst] = args;
  const leaf = s.i;
  const words = memory.readLeaf(src + leaf * LEAF_WORDS);
  const count = Math.min(LEAF_WORDS, n - leaf * LEAF_WORDS);
  let best = s.acc;
  let bestIndex = s.aux;
  for (let t = 0; t < count; t++) {
    const index = leaf * LEAF_WORDS + t;
    if (index === 0 || BigInt(words[t]) > best) {
      best = BigInt(words[t]);
      bestIndex = index;
    }
  }
  if ((leaf + 1) * LEAF_WORDS < n) return { state: { ...s, i: leaf + 1, acc: best, aux: bestIndex } };
  return { state: nextInstruction(s), write: storeWord(memory, dst, bestIndex) };
}

function readWord(memory: MemoryReader, addr: number): number {
  const leafAddr = alignDown(addr, LEAF_WORDS);
  return memory.readLeaf(leafAddr)[addr - leafAddr];
}

const EXECUTORS: Record<number, Executor> = {
  [Opcode.HALT]: executeHalt,
  [Opcode.DENSE]: executeDense,
  [Opcode.RELU]: executeActivation(relu),
  [Opcode.SIGMOID]: executeActivation(sigmoid),
  [Opcode.TANH]: executeActivation(tanh),
  [Opcode.ARGMAX]: executeArgmax,
};

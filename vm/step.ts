/**
 * The step function: the VM's semantics, one bounded unit of work at a time. The Solidity one-step verifier
 * mirrors this file function for function, in the same order.
 *
 * step() dispatches on the opcode to an executor. Every executor has the same signature:
 *   (state, args, memory) → { state, write? }
 * It reads memory only through `memory` (a leaf or a chunk at a time: exactly what a witness must prove),
 * makes at most one leaf write, which it returns instead of performing, and never touches anything else.
 * That makes step() pure: the caller applies the write, to a flat array or to a Merkle tree.
 *
 * A step that writes a leaf has read it first (a witness proves the write with that read's path): a unary
 * op or ADD reads its destination leaf unless it is one of the leaves it reads as a source (in place).
 */
import {
  type UnaryFunction, addValue, clipValue, eluValue, geluTanhValue, geluValue, leakyReluValue, reluValue, sigmoidValue,
  siluValue, softplusValue, tanhValue,
} from "./elementwise.js";
import { accumulate, biasToAcc, dot, overflows32, rescale, sat32, shiftRound } from "./fixed.js";
import { layerMean, layerNormValue, layerScale, squareTerm } from "./layernorm.js";
import { CHUNK_WORDS, LEAF_WORDS, type LeafWrite, type MemoryReader, alignDown, alignUp } from "./memory.js";
import { Opcode } from "./opcodes.js";
import type { Instruction } from "./program.js";
import type { State } from "./state.js";

export interface StepResult {
  state: State;
  write?: LeafWrite;
  /**
   * How many values this step clamped to int32 (an accumulator that hit int64's bounds counts too). Not part of
   * the state: saturation is the VM's defined result, and this count is only how a run says where it happened.
   */
  saturated?: number;
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
  return { state: { ...result.state, step: s.step + 1 }, write: result.write, saturated: result.saturated };
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
 * DENSE input weights bias output inputs outputs shift — state (i, j) = (row r, chunk c).
 * Row r of W starts at weights + r·stride, stride = ⌈inputs / K⌉·K (rows padded to whole chunks), K = CHUNK_WORDS.
 * A step adds chunk c's products to the accumulator; the first chunk of a row starts from the bias widened by
 * 2^shift; the last one rounds the row by `shift` bits to the output format, stores it at output + r, and moves
 * to the next row.
 */
function executeDense(s: State, args: readonly number[], memory: MemoryReader): StepResult {
  const [input, weights, bias, output, inputs, outputs, shift] = args;
  const chunks = Math.ceil(inputs / CHUNK_WORDS);
  const row = s.i;
  const chunk = s.j;
  const offset = chunk * CHUNK_WORDS;
  const n = Math.min(CHUNK_WORDS, inputs - offset);
  const w = memory.readChunk(weights + row * chunks * CHUNK_WORDS + offset);
  const x = memory.readChunk(input + offset);
  const start = chunk === 0 ? biasToAcc(readWord(memory, bias + row), shift) : s.acc;
  const products = dot(w, 0, x, 0, n);
  const acc = accumulate(start, products);
  let saturated = acc === start + products ? 0 : 1;
  if (chunk + 1 < chunks) return { state: { ...s, j: chunk + 1, acc }, saturated };
  if (overflows32(shiftRound(acc, shift))) saturated++;
  const write = storeWord(memory, output + row, rescale(acc, shift));
  const next = row + 1 < outputs ? { ...s, i: row + 1, j: 0, acc: 0n } : nextInstruction(s);
  return { state: next, write, saturated };
}

/**
 * RELU, SIGMOID, … src dst n fin fout [p0 [p1]] — state i = leaf: the function of each of the up-to-8 words of
 * src's leaf i goes to the same place in dst's leaf i; the destination's words past n are left as they are.
 * p0 and p1 are the instruction's signed parameters (alpha; lo, hi), read as int32.
 */
function executeUnary(fn: UnaryFunction): Executor {
  return (s, args, memory) => {
    const [src, dst, n, fin, fout] = args;
    const p0 = args[5] | 0;
    const p1 = args[6] | 0;
    const leaf = s.i;
    const srcLeaf = src + leaf * LEAF_WORDS;
    const dstLeaf = dst + leaf * LEAF_WORDS;
    const x = memory.readLeaf(srcLeaf);
    const words = (dstLeaf === srcLeaf ? x : memory.readLeaf(dstLeaf)).slice();
    const count = Math.min(LEAF_WORDS, n - leaf * LEAF_WORDS);
    let saturated = 0;
    for (let t = 0; t < count; t++) {
      const v = fn(x[t], fin, fout, p0, p1);
      if (overflows32(v)) saturated++;
      words[t] = sat32(v);
    }
    const next = (leaf + 1) * LEAF_WORDS < n ? { ...s, i: leaf + 1 } : nextInstruction(s);
    return { state: next, write: { addr: dstLeaf, words }, saturated };
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

/**
 * ADD a b dst n fa fb fout — state i = leaf: dst[k] = a[k] + b[k] for the up-to-8 words of leaf i, a and b each
 * in its own format, the sum in fout. Reads a's leaf, then b's, then dst's unless dst's leaf is one of them.
 */
function executeAdd(s: State, args: readonly number[], memory: MemoryReader): StepResult {
  const [a, b, dst, n, fa, fb, fout] = args;
  const leaf = s.i;
  const aLeaf = a + leaf * LEAF_WORDS;
  const bLeaf = b + leaf * LEAF_WORDS;
  const dstLeaf = dst + leaf * LEAF_WORDS;
  const x = memory.readLeaf(aLeaf);
  const y = memory.readLeaf(bLeaf);
  const words = (dstLeaf === aLeaf ? x : dstLeaf === bLeaf ? y : memory.readLeaf(dstLeaf)).slice();
  const count = Math.min(LEAF_WORDS, n - leaf * LEAF_WORDS);
  let saturated = 0;
  for (let t = 0; t < count; t++) {
    const v = addValue(x[t], y[t], fa, fb, fout);
    if (overflows32(v)) saturated++;
    words[t] = sat32(v);
  }
  const next = (leaf + 1) * LEAF_WORDS < n ? { ...s, i: leaf + 1 } : nextInstruction(s);
  return { state: next, write: { addr: dstLeaf, words }, saturated };
}

/**
 * LAYERNORM src dst n params fin fout eps — state (i, j) = (leaf, pass); aux = the mean, acc = the running sum,
 * then the packed scale (vm/layernorm.ts). Pass 0 sums src's leaf i; pass 1 sums its squared deviations; pass 2
 * reads src's leaf i, gamma's and beta's leaf i (at params and params + ⌈n/8⌉·8) and dst's leaf unless it is
 * src's, and writes the normalized words to dst's leaf i.
 */
function executeLayerNorm(s: State, args: readonly number[], memory: MemoryReader): StepResult {
  const [src, dst, n, params, fin, fout, eps] = args;
  const leaf = s.i;
  const pass = s.j;
  const srcLeaf = src + leaf * LEAF_WORDS;
  const x = memory.readLeaf(srcLeaf);
  const count = Math.min(LEAF_WORDS, n - leaf * LEAF_WORDS);
  const last = (leaf + 1) * LEAF_WORDS >= n;
  if (pass === 0) {
    let acc = s.acc;
    for (let t = 0; t < count; t++) acc += BigInt(x[t]);
    return { state: last ? { ...s, i: 0, j: 1, acc: 0n, aux: layerMean(acc, n) } : { ...s, i: leaf + 1, acc } };
  }
  if (pass === 1) {
    let acc = s.acc;
    for (let t = 0; t < count; t++) acc += squareTerm(x[t], s.aux, n);
    return { state: last ? { ...s, i: 0, j: 2, acc: layerScale(acc, n, fin, eps) } : { ...s, i: leaf + 1, acc } };
  }
  const gamma = memory.readLeaf(params + leaf * LEAF_WORDS);
  const beta = memory.readLeaf(params + alignUp(n, LEAF_WORDS) + leaf * LEAF_WORDS);
  const dstLeaf = dst + leaf * LEAF_WORDS;
  const words = (dstLeaf === srcLeaf ? x : memory.readLeaf(dstLeaf)).slice();
  let saturated = 0;
  for (let t = 0; t < count; t++) {
    const v = layerNormValue(x[t], s.aux, s.acc, gamma[t], beta[t], fout);
    if (overflows32(v)) saturated++;
    words[t] = sat32(v);
  }
  return { state: last ? nextInstruction(s) : { ...s, i: leaf + 1 }, write: { addr: dstLeaf, words }, saturated };
}

function readWord(memory: MemoryReader, addr: number): number {
  const leafAddr = alignDown(addr, LEAF_WORDS);
  return memory.readLeaf(leafAddr)[addr - leafAddr];
}

const EXECUTORS: Record<number, Executor> = {
  [Opcode.HALT]: executeHalt,
  [Opcode.DENSE]: executeDense,
  [Opcode.RELU]: executeUnary(reluValue),
  [Opcode.SIGMOID]: executeUnary(sigmoidValue),
  [Opcode.TANH]: executeUnary(tanhValue),
  [Opcode.ARGMAX]: executeArgmax,
  [Opcode.LEAKY_RELU]: executeUnary(leakyReluValue),
  [Opcode.ELU]: executeUnary(eluValue),
  [Opcode.SOFTPLUS]: executeUnary(softplusValue),
  [Opcode.CLIP]: executeUnary(clipValue),
  [Opcode.GELU]: executeUnary(geluValue),
  [Opcode.GELU_TANH]: executeUnary(geluTanhValue),
  [Opcode.SILU]: executeUnary(siluValue),
  [Opcode.ADD]: executeAdd,
  [Opcode.LAYERNORM]: executeLayerNorm,
};

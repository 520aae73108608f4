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
import { accumulate, biasToAcc, divRound, dot, overflows32, rescale, sat32, shiftRound } from "./fixed.js";
import { layerMean, layerNormValue, layerScale, squareTerm } from "./layernorm.js";
import { CHUNK_WORDS, LEAF_WORDS, type LeafWrite, type MemoryReader, alignDown, alignUp } from "./memory.js";
import { Opcode } from "./opcodes.js";
import type { Instruction } from "./program.js";
import type { State } from "./state.js";
import { type Window, decodeWindow, imageAddress, imageColumn, outputPixels, patchWords, windowRow } from "./window.js";

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
  const row = s.i;
  const stride = alignUp(inputs, CHUNK_WORDS);
  return rowChunk(s, memory, weights + row * stride, input, bias + row, output + row, inputs, shift, row + 1 < outputs);
}

/**
 * One step of a row of DENSE or MATMUL: chunk j of the dot product of the weight row at w and the vector at x (each
 * `inputs` words, padded to whole chunks), read in that order; the first chunk starts from the bias (the word at
 * biasAddr, read third) widened by 2^shift; the last rounds the row to its output word at outAddr (its leaf read
 * fourth, then written) and moves to the next row (i + 1) or, when `moreRows` is false, the next instruction.
 */
function rowChunk(
  s: State, memory: MemoryReader, w: number, x: number, biasAddr: number, outAddr: number, inputs: number, shift: number,
  moreRows: boolean,
): StepResult {
  const chunks = Math.ceil(inputs / CHUNK_WORDS);
  const chunk = s.j;
  const offset = chunk * CHUNK_WORDS;
  const n = Math.min(CHUNK_WORDS, inputs - offset);
  const weights = memory.readChunk(w + offset);
  const values = memory.readChunk(x + offset);
  const start = chunk === 0 ? biasToAcc(readWord(memory, biasAddr), shift) : s.acc;
  const products = dot(weights, 0, values, 0, n);
  const acc = accumulate(start, products);
  let saturated = acc === start + products ? 0 : 1;
  if (chunk + 1 < chunks) return { state: { ...s, j: chunk + 1, acc }, saturated };
  if (overflows32(shiftRound(acc, shift))) saturated++;
  const write = storeWord(memory, outAddr, rescale(acc, shift));
  const next = moreRows ? { ...s, i: s.i + 1, j: 0, acc: 0n } : nextInstruction(s);
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

/**
 * IM2COL src dst channels image out kernel pad — state (i, j) = (output position p, word k of its patch).
 * Patch p is row p of the patch matrix at dst, ⌈K/32⌉·32 words a row (K = C·KH·KW, vm/window.ts), word k = (c, kh,
 * kw) in that order: the image word under kernel position (kh, kw) of channel c, 0 on padding. A step fills one
 * piece, words k … end−1 with end the first multiple of KW or of 8 after k (or K): one kernel row's segment, read
 * from the chunks holding it (readSegment), into one leaf of the row, read then written.
 */
function executeIm2col(s: State, args: readonly number[], memory: MemoryReader): StepResult {
  const [src, dst] = args;
  const w = decodeWindow(args);
  const k = patchWords(w);
  const pixel = s.i;
  const start = s.j;
  const oh = Math.floor(pixel / w.outWidth);
  const ow = pixel % w.outWidth;
  const row = Math.floor(start / w.kernelW);
  const c = Math.floor(row / w.kernelH);
  const kh = row % w.kernelH;
  const kw0 = start % w.kernelW;
  const leafStart = alignDown(start, LEAF_WORDS);
  const end = Math.min((row + 1) * w.kernelW, leafStart + LEAF_WORDS, k);
  const kw1 = kw0 + end - start;
  const span = windowRow(w, oh, ow, kh, kw0, kw1);
  const values = readSegment(memory, w, src, c, ow, span);
  const leafAddr = dst + pixel * alignUp(k, CHUNK_WORDS) + leafStart;
  const words = memory.readLeaf(leafAddr).slice();
  for (let kw = kw0; kw < kw1; kw++) {
    words[start - leafStart + kw - kw0] = kw >= span.lo && kw < span.hi ? values[kw - span.lo] : 0;
  }
  const next = end < k ? { ...s, j: end } : pixel + 1 < outputPixels(w) ? { ...s, i: pixel + 1, j: 0 } : nextInstruction(s);
  return { state: next, write: { addr: leafAddr, words } };
}

/**
 * MATMUL patches weights output inputs outputs pixels shift — state (i, j) = (output index r = oc·pixels + p, chunk).
 * Output word r is DENSE's row oc over patch row p: weight row oc at weights + oc·stride, patch row p at patches +
 * p·stride (stride = ⌈inputs/32⌉·32), bias oc at weights + outputs·stride + oc; stored at output + r, so the output
 * is channel-major like an image (vm/window.ts).
 */
function executeMatmul(s: State, args: readonly number[], memory: MemoryReader): StepResult {
  const [patches, weights, output, inputs, outputs, pixels, shift] = args;
  const index = s.i;
  const oc = Math.floor(index / pixels);
  const pixel = index % pixels;
  const stride = alignUp(inputs, CHUNK_WORDS);
  const biasAddr = weights + outputs * stride + oc;
  return rowChunk(s, memory, weights + oc * stride, patches + pixel * stride, biasAddr, output + index, inputs, shift, index + 1 < outputs * pixels);
}

/** How a pooling combines its window: the largest word, or the mean over the kernel or over the positions inside. */
type PoolKind = "max" | "mean" | "meanValid";

/**
 * MAXPOOL, AVGPOOL, AVGPOOL_VALID src dst channels image out kernel pad — state (i, j) = (output index
 * r = c·OH·OW + p, kernel row kh); acc = the largest word so far (MAXPOOL) or the sum; aux = how many positions
 * inside the image so far. A step reads kernel row kh's segment (readSegment); the last row stores the result at
 * dst + r: MAXPOOL the largest (0 if every position was padding), AVGPOOL divRound(sum, KH·KW), AVGPOOL_VALID
 * divRound(sum, aux) (0 if aux = 0). The output has the input's format.
 */
function executePool(kind: PoolKind): Executor {
  return (s, args, memory) => {
    const [src, dst] = args;
    const w = decodeWindow(args);
    const pixels = outputPixels(w);
    const index = s.i;
    const kh = s.j;
    const c = Math.floor(index / pixels);
    const pixel = index % pixels;
    const ow = pixel % w.outWidth;
    const span = windowRow(w, Math.floor(pixel / w.outWidth), ow, kh, 0, w.kernelW);
    const values = readSegment(memory, w, src, c, ow, span);
    let acc = s.acc;
    let count = s.aux;
    for (let t = 0; t < values.length; t++) {
      const v = BigInt(values[t]);
      if (kind !== "max") acc += v;
      else if (count === 0 || v > acc) acc = v;
      count++;
    }
    if (kh + 1 < w.kernelH) return { state: { ...s, j: kh + 1, acc, aux: count } };
    let value = 0;
    if (kind === "max") value = count > 0 ? Number(acc) : 0;
    else if (kind === "mean") value = divRound(acc, w.kernelH * w.kernelW);
    else value = count > 0 ? divRound(acc, count) : 0;
    const write = storeWord(memory, dst + index, value);
    const next = index + 1 < w.channels * pixels ? { ...s, i: index + 1, j: 0, acc: 0n, aux: 0 } : nextInstruction(s);
    return { state: next, write };
  };
}

/**
 * The image words of a window row's positions inside the image (kernel columns span.lo … span.hi−1 of channel c at
 * output column ow): words first + t·DW, read from the one or two chunks that hold them (vm/window.ts bounds the
 * segment to 33 words). No read when the whole row is padding.
 */
function readSegment(memory: MemoryReader, w: Window, base: number, c: number, ow: number, span: { ih: number; lo: number; hi: number }): Int32Array {
  const count = span.hi - span.lo;
  const values = new Int32Array(count);
  if (count === 0) return values;
  const first = imageAddress(w, base, c, span.ih, imageColumn(w, ow, span.lo));
  const firstChunk = alignDown(first, CHUNK_WORDS);
  const lastChunk = alignDown(first + (count - 1) * w.dilationW, CHUNK_WORDS);
  const a = memory.readChunk(firstChunk);
  const b = lastChunk === firstChunk ? a : memory.readChunk(lastChunk);
  for (let t = 0; t < count; t++) {
    const addr = first + t * w.dilationW;
    values[t] = addr < firstChunk + CHUNK_WORDS ? a[addr - firstChunk] : b[addr - lastChunk];
  }
  return values;
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
  [Opcode.IM2COL]: executeIm2col,
  [Opcode.MATMUL]: executeMatmul,
  [Opcode.MAXPOOL]: executePool("max"),
  [Opcode.AVGPOOL]: executePool("mean"),
  [Opcode.AVGPOOL_VALID]: executePool("meanValid"),
};

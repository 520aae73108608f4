// The step function: the WASM twin of vm/step.ts, function for function, in the same order. Differences of
// form, not of meaning:
//   - the TypeScript step is pure and returns its one leaf write; here the write goes straight into memory and
//     lastWriteLeaf says which leaf it was, so a traced run can rehash that path. A unary op or ADD writes word by
//     word as it reads (each word depends only on the words at its own index, and leaves are either the same leaf
//     or disjoint, all being leaf-aligned), so in place and out of place need no copy;
//   - StepResult.saturated: each executor adds its clamps to the instruction's counter itself
//     (assembly/machine.ts countSaturations, which WasmMachine.saturations() reports), and only when there are
//     some, so that a step that clamps nothing (every step of a sane model) pays one untaken branch;
//   - executeUnary(fn) and executePool(kind): AssemblyScript has no closures, so the unary executor dispatches on
//     the opcode per word (applyUnary) and the pool executor takes its kind as a parameter (POOL_MAX, …);
//   - the window executors decode the instruction's window into assembly/window.ts's globals (decodeWindow) and get
//     windowRow's span there too; readSegment copies the segment's words from flat memory into a static buffer
//     (SEGMENT) where vm/step.ts reads the one or two chunks holding them: the same words, and IM2COL still reads
//     every word of a piece before it writes any (a piece's leaf may lie on its own segment in a hand-made program);
//   - DENSE and MATMUL share rowChunk as in vm/step.ts; rowChunk takes word addresses and reads flat memory.
import { accumulateClamped, accumulateDot, biasToAcc, divRound, overflows32, sat32, shiftRound } from "./fixed";
import {
  addValue, clipValue, eluValue, geluTanhValue, geluValue, leakyReluValue, reluValue, sigmoidValue, siluValue,
  softplusValue, tanhValue,
} from "./elementwise";
import { layerMean, layerNormValue, layerScale, squareTerm } from "./layernorm";
import {
  CHUNK_WORDS, LEAF_WORDS, countSaturations, lastWriteLeaf, mem, opcodeAt, operand, regAcc, regAux, regHalted, regI,
  regJ, regPc, regStep, setWord, word,
} from "./machine";
import {
  SEGMENT_WORDS, decodeWindow, imageAddress, imageColumn, outputPixels, patchWords, rowHi, rowIh, rowLo, winChannels, winDilationW,
  winKernelH, winKernelW, winOutWidth, windowRow,
} from "./window";

// vm/opcodes.ts
const HALT: i32 = 0x00;
const DENSE: i32 = 0x01;
const RELU: i32 = 0x02;
const SIGMOID: i32 = 0x03;
const TANH: i32 = 0x04;
const ARGMAX: i32 = 0x05;
const LEAKY_RELU: i32 = 0x06;
const ELU: i32 = 0x07;
const SOFTPLUS: i32 = 0x08;
const CLIP: i32 = 0x09;
const GELU: i32 = 0x0a;
const GELU_TANH: i32 = 0x0b;
const SILU: i32 = 0x0c;
const ADD: i32 = 0x0d;
const LAYERNORM: i32 = 0x0e;
const IM2COL: i32 = 0x0f;
const MATMUL: i32 = 0x10;
const MAXPOOL: i32 = 0x11;
const AVGPOOL: i32 = 0x12;
const AVGPOOL_VALID: i32 = 0x13;

// executePool's kinds (vm/step.ts PoolKind)
const POOL_MAX: i32 = 0;
const POOL_MEAN: i32 = 1;
const POOL_MEAN_VALID: i32 = 2;

/** One step from the current registers. A halted machine stays as it is; an unknown opcode traps (halts). */
export function step(): void {
  if (regHalted) return;
  lastWriteLeaf = -1;
  const op = opcodeAt(regPc);
  if (op == DENSE) executeDense();
  else if (op == HALT) executeHalt();
  else if (op == ARGMAX) executeArgmax();
  else if (op == ADD) executeAdd();
  else if (op == LAYERNORM) executeLayerNorm();
  else if (op == IM2COL) executeIm2col();
  else if (op == MATMUL) executeMatmul();
  else if (op == MAXPOOL) executePool(POOL_MAX);
  else if (op == AVGPOOL) executePool(POOL_MEAN);
  else if (op == AVGPOOL_VALID) executePool(POOL_MEAN_VALID);
  else if (<u32>(op - RELU) <= <u32>(SILU - RELU)) executeUnary(op); // RELU … SILU, ARGMAX done above
  else regHalted = 1;
  regStep++;
}

/** Does step() execute opcode `op` (rather than trap on it)? The host refuses programs with any other. */
export function implementsOpcode(op: i32): i32 {
  return <i32>(<u32>op <= <u32>AVGPOOL_VALID);
}

/** Move to the next instruction, clearing the loop registers (exported for the fast path, assembly/fast.ts). */
export function nextInstruction(): void {
  regPc++;
  regI = 0;
  regJ = 0;
  regAcc = 0;
  regAux = 0;
}

/** Stores one word: the step's one leaf write. */
function storeWord(addr: i32, value: i32): void {
  setWord(addr, value);
  lastWriteLeaf = addr / LEAF_WORDS;
}

function executeHalt(): void {
  regHalted = 1;
}

/** DENSE input weights bias output inputs outputs shift — (i, j) = (row, chunk); see vm/step.ts. */
function executeDense(): void {
  const input = operand(0);
  const weights = operand(1);
  const bias = operand(2);
  const output = operand(3);
  const inputs = operand(4);
  const outputs = operand(5);
  const shift = operand(6);
  const row = regI;
  const stride = alignUp(inputs, CHUNK_WORDS);
  rowChunk(weights + row * stride, input, bias + row, output + row, inputs, shift, row + 1 < outputs);
}

/**
 * One step of a row of DENSE or MATMUL (vm/step.ts rowChunk): chunk j of the dot product of the weight row at w and
 * the vector at x; the first chunk starts from the bias at biasAddr widened by 2^shift; the last rounds the row to
 * its output word at outAddr and moves to the next row (i + 1) or, when `moreRows` is false, the next instruction.
 * Saturations: 1 if the accumulate clamped at int64's ends, plus 1 if the row's rounded result left int32.
 */
function rowChunk(w: i32, x: i32, biasAddr: i32, outAddr: i32, inputs: i32, shift: i32, moreRows: bool): void {
  const chunks = (inputs + CHUNK_WORDS - 1) / CHUNK_WORDS;
  const chunk = regJ;
  const offset = chunk * CHUNK_WORDS;
  const n = min(CHUNK_WORDS, inputs - offset);
  const weights = mem + (<usize>(w + offset) << 2);
  const values = mem + (<usize>(x + offset) << 2);
  const start = chunk == 0 ? biasToAcc(readWord(biasAddr), shift) : regAcc;
  const acc = accumulateDot(start, weights, values, n);
  if (accumulateClamped) {
    accumulateClamped = 0;
    countSaturations(regPc, 1);
  }
  if (chunk + 1 < chunks) {
    regJ = chunk + 1;
    regAcc = acc;
    return;
  }
  const rounded = shiftRound(acc, shift); // rescale(acc, shift) = sat32(rounded), rounded once for the count too
  if (overflows32(rounded)) countSaturations(regPc, 1);
  storeWord(outAddr, sat32(rounded));
  if (moreRows) {
    regI++;
    regJ = 0;
    regAcc = 0;
  } else nextInstruction();
}

/**
 * RELU, SIGMOID, … src dst n fin fout [p0 [p1]] — i = leaf: the function of each of the up-to-8 words of src's
 * leaf i goes to the same place in dst's leaf i; dst's words past n are left as they are. Saturations: one per
 * word whose unsaturated value leaves int32.
 */
function executeUnary(op: i32): void {
  const src = operand(0);
  const dst = operand(1);
  const n = operand(2);
  const fin = operand(3);
  const fout = operand(4);
  const p0 = operand(5);
  const p1 = operand(6);
  const leaf = regI;
  const srcLeaf = src + leaf * LEAF_WORDS;
  const dstLeaf = dst + leaf * LEAF_WORDS;
  const count = min(LEAF_WORDS, n - leaf * LEAF_WORDS);
  let saturated = 0;
  for (let t = 0; t < count; t++) {
    const v = applyUnary(op, word(srcLeaf + t), fin, fout, p0, p1);
    if (overflows32(v)) saturated++;
    setWord(dstLeaf + t, sat32(v));
  }
  if (saturated) countSaturations(regPc, saturated);
  lastWriteLeaf = dstLeaf / LEAF_WORDS;
  if ((leaf + 1) * LEAF_WORDS < n) regI = leaf + 1;
  else nextInstruction();
}

/** The value function of unary opcode `op` (vm/step.ts's EXECUTORS table, for the unary ops); exported for the ops tests. */
export function applyUnary(op: i32, x: i32, fin: i32, fout: i32, p0: i32, p1: i32): i64 {
  switch (op) {
    case RELU:
      return reluValue(x, fin, fout);
    case SIGMOID:
      return sigmoidValue(x, fin, fout);
    case TANH:
      return tanhValue(x, fin, fout);
    case LEAKY_RELU:
      return leakyReluValue(x, fin, fout, p0);
    case ELU:
      return eluValue(x, fin, fout, p0);
    case SOFTPLUS:
      return softplusValue(x, fin, fout);
    case CLIP:
      return clipValue(x, fin, fout, p0, p1);
    case GELU:
      return geluValue(x, fin, fout);
    case GELU_TANH:
      return geluTanhValue(x, fin, fout);
    default:
      return siluValue(x, fin, fout); // SILU: step() sends only RELU … SILU but ARGMAX here
  }
}

/** ARGMAX src n dst — i = leaf, acc = best value, aux = its index; ties keep the lowest index. */
function executeArgmax(): void {
  const src = operand(0);
  const n = operand(1);
  const dst = operand(2);
  const leaf = regI;
  const count = min(LEAF_WORDS, n - leaf * LEAF_WORDS);
  let best = regAcc;
  let bestIndex = regAux;
  for (let t = 0; t < count; t++) {
    const index = leaf * LEAF_WORDS + t;
    const v = <i64>word(src + index);
    if (index == 0 || v > best) {
      best = v;
      bestIndex = index;
    }
  }
  if ((leaf + 1) * LEAF_WORDS < n) {
    regI = leaf + 1;
    regAcc = best;
    regAux = bestIndex;
    return;
  }
  storeWord(dst, bestIndex);
  nextInstruction();
}

/**
 * ADD a b dst n fa fb fout — i = leaf: dst[k] = a[k] + b[k] for the up-to-8 words of leaf i, a and b each in its
 * own format, the sum in fout. dst may be a's or b's leaf. Saturations: one per word whose sum leaves int32.
 */
function executeAdd(): void {
  const a = operand(0);
  const b = operand(1);
  const dst = operand(2);
  const n = operand(3);
  const fa = operand(4);
  const fb = operand(5);
  const fout = operand(6);
  const leaf = regI;
  const aLeaf = a + leaf * LEAF_WORDS;
  const bLeaf = b + leaf * LEAF_WORDS;
  const dstLeaf = dst + leaf * LEAF_WORDS;
  const count = min(LEAF_WORDS, n - leaf * LEAF_WORDS);
  let saturated = 0;
  for (let t = 0; t < count; t++) {
    const v = addValue(word(aLeaf + t), word(bLeaf + t), fa, fb, fout);
    if (overflows32(v)) saturated++;
    setWord(dstLeaf + t, sat32(v));
  }
  if (saturated) countSaturations(regPc, saturated);
  lastWriteLeaf = dstLeaf / LEAF_WORDS;
  if ((leaf + 1) * LEAF_WORDS < n) regI = leaf + 1;
  else nextInstruction();
}

/**
 * LAYERNORM src dst n params fin fout eps — (i, j) = (leaf, pass); aux = the mean, acc = the running sum, then the
 * packed scale (assembly/layernorm.ts). Pass 0 sums src's leaf i; pass 1 sums its squared deviations; pass 2
 * writes the normalized words of src's leaf i to dst's leaf i, with gamma's and beta's leaf i (at params and
 * params + ⌈n/8⌉·8). eps is a u32 (Q0.32). Saturations: one per output word whose value leaves int32.
 */
function executeLayerNorm(): void {
  const src = operand(0);
  const dst = operand(1);
  const n = <i64><u32>operand(2);
  const params = operand(3);
  const fin = operand(4);
  const fout = operand(5);
  const eps = <u32>operand(6);
  const leaf = regI;
  const pass = regJ;
  const srcLeaf = src + leaf * LEAF_WORDS;
  const count = <i32>min<i64>(LEAF_WORDS, n - <i64>leaf * LEAF_WORDS);
  const last = <i64>(leaf + 1) * LEAF_WORDS >= n;
  if (pass == 0) {
    let acc = regAcc;
    for (let t = 0; t < count; t++) acc += <i64>word(srcLeaf + t);
    if (last) {
      regI = 0;
      regJ = 1;
      regAcc = 0;
      regAux = layerMean(acc, n);
    } else {
      regI = leaf + 1;
      regAcc = acc;
    }
    return;
  }
  if (pass == 1) {
    let acc = regAcc;
    for (let t = 0; t < count; t++) acc += squareTerm(word(srcLeaf + t), regAux, n);
    if (last) {
      regI = 0;
      regJ = 2;
      regAcc = layerScale(acc, n, fin, eps);
    } else {
      regI = leaf + 1;
      regAcc = acc;
    }
    return;
  }
  const gammaLeaf = params + leaf * LEAF_WORDS;
  const betaLeaf = params + <i32>((n + LEAF_WORDS - 1) & ~(<i64>LEAF_WORDS - 1)) + leaf * LEAF_WORDS;
  const dstLeaf = dst + leaf * LEAF_WORDS;
  let saturated = 0;
  for (let t = 0; t < count; t++) {
    const v = layerNormValue(word(srcLeaf + t), regAux, regAcc, word(gammaLeaf + t), word(betaLeaf + t), fout);
    if (overflows32(v)) saturated++;
    setWord(dstLeaf + t, sat32(v));
  }
  if (saturated) countSaturations(regPc, saturated);
  lastWriteLeaf = dstLeaf / LEAF_WORDS;
  if (last) nextInstruction();
  else regI = leaf + 1;
}

/**
 * IM2COL src dst channels image out kernel pad — (i, j) = (output position p, word k of its patch); see vm/step.ts.
 * A step fills one piece, words k … end−1 of patch row p (end the first multiple of KW or of 8 after k, or K), from
 * one kernel row's segment (readSegment, read before anything is written), 0 on padding.
 */
function executeIm2col(): void {
  const src = operand(0);
  const dst = operand(1);
  decodeWindow(operand(2), operand(3), operand(4), operand(5), operand(6));
  const k = patchWords();
  const pixel = regI;
  const start = regJ;
  const oh = pixel / winOutWidth;
  const ow = pixel % winOutWidth;
  const row = start / winKernelW;
  const c = row / winKernelH;
  const kh = row % winKernelH;
  const kw0 = start % winKernelW;
  const leafStart = alignDown(start, LEAF_WORDS);
  const end = min(min((row + 1) * winKernelW, leafStart + LEAF_WORDS), k);
  const kw1 = kw0 + end - start;
  windowRow(oh, ow, kh, kw0, kw1);
  readSegment(src, c, ow);
  const leafAddr = dst + pixel * alignUp(k, CHUNK_WORDS) + leafStart;
  for (let kw = kw0; kw < kw1; kw++) {
    setWord(leafAddr + start - leafStart + kw - kw0, kw >= rowLo && kw < rowHi ? load<i32>(SEGMENT + (<usize>(kw - rowLo) << 2)) : 0);
  }
  lastWriteLeaf = leafAddr / LEAF_WORDS;
  if (end < k) regJ = end;
  else if (pixel + 1 < outputPixels()) {
    regI = pixel + 1;
    regJ = 0;
  } else nextInstruction();
}

/**
 * MATMUL patches weights output inputs outputs pixels shift — (i, j) = (output index r = oc·pixels + p, chunk); see
 * vm/step.ts. r is a u32 (outputs·pixels < 2^32, the validator's bound).
 */
function executeMatmul(): void {
  const patches = operand(0);
  const weights = operand(1);
  const output = operand(2);
  const inputs = operand(3);
  const outputs = operand(4);
  const pixels = operand(5);
  const shift = operand(6);
  const index = regI;
  const oc = <i32>(<u32>index / <u32>pixels);
  const pixel = <i32>(<u32>index % <u32>pixels);
  const stride = alignUp(inputs, CHUNK_WORDS);
  const biasAddr = weights + outputs * stride + oc;
  rowChunk(weights + oc * stride, patches + pixel * stride, biasAddr, output + index, inputs, shift, <u64><u32>index + 1 < <u64><u32>outputs * <u64><u32>pixels);
}

/**
 * MAXPOOL, AVGPOOL, AVGPOOL_VALID src dst channels image out kernel pad — (i, j) = (output index r = c·OH·OW + p,
 * kernel row kh); acc = the largest word so far or the sum, aux = positions inside so far; see vm/step.ts. `kind`
 * is POOL_MAX, POOL_MEAN or POOL_MEAN_VALID (vm/step.ts's executePool(kind) closure, as a parameter).
 */
function executePool(kind: i32): void {
  const src = operand(0);
  const dst = operand(1);
  decodeWindow(operand(2), operand(3), operand(4), operand(5), operand(6));
  const pixels = outputPixels();
  const index = regI;
  const kh = regJ;
  const c = index / pixels;
  const pixel = index % pixels;
  const ow = pixel % winOutWidth;
  windowRow(pixel / winOutWidth, ow, kh, 0, winKernelW);
  readSegment(src, c, ow);
  const values = rowHi - rowLo;
  let acc = regAcc;
  let count = regAux;
  for (let t = 0; t < values; t++) {
    const v = <i64>load<i32>(SEGMENT + (<usize>t << 2));
    if (kind != POOL_MAX) acc += v;
    else if (count == 0 || v > acc) acc = v;
    count++;
  }
  if (kh + 1 < winKernelH) {
    regJ = kh + 1;
    regAcc = acc;
    regAux = count;
    return;
  }
  let value: i32 = 0;
  if (kind == POOL_MAX) value = count > 0 ? <i32>acc : 0;
  else if (kind == POOL_MEAN) value = <i32>divRound(acc, winKernelH * winKernelW);
  else value = count > 0 ? <i32>divRound(acc, count) : 0;
  storeWord(dst + index, value);
  if (index + 1 < winChannels * pixels) {
    regI = index + 1;
    regJ = 0;
    regAcc = 0;
    regAux = 0;
  } else nextInstruction();
}

/** readSegment's result: up to SEGMENT_WORDS words (vm/step.ts returns a fresh Int32Array). */
const SEGMENT: usize = memory.data(SEGMENT_WORDS * 4, 16);

/**
 * The image words of a window row's positions inside the image (kernel columns rowLo … rowHi−1 of channel c at
 * output column ow, as windowRow left them): words first + t·DW, into SEGMENT. vm/step.ts reads them from the one
 * or two chunks holding them; the words are the same, and flat memory needs no chunk arithmetic. No read when the
 * whole row is padding.
 */
function readSegment(base: i32, c: i32, ow: i32): void {
  const count = rowHi - rowLo;
  if (count == 0) return;
  const first = imageAddress(base, c, rowIh, imageColumn(ow, rowLo));
  for (let t = 0; t < count; t++) store<i32>(SEGMENT + (<usize>t << 2), word(first + t * winDilationW));
}

@inline function alignUp(n: i32, to: i32): i32 {
  return (n + to - 1) / to * to;
}

@inline function alignDown(n: i32, to: i32): i32 {
  return n / to * to;
}

function readWord(addr: i32): i32 {
  return word(addr);
}

/** Steps until the machine halts (or `limit` more steps have run); returns the step count. */
export function runSteps(limit: i64): i64 {
  const end = regStep + limit;
  while (!regHalted && regStep < end) step();
  return regStep;
}

// The untraced run's fast path: whole instructions at a time, with tight loops and none of the step function's
// per-step register bookkeeping, divisions and dispatch. It is not part of the VM's semantics: it is an
// optimisation of a plain run that must leave exactly what stepping leaves (the same memory, the same final
// registers and step count, the same saturation counts), and the tests hold it to that (fast.test.ts). Traced
// runs and witness replays (trace.ts, runSteps) never come here: they step.
//
// Why each whole instruction equals its steps (vm/step.ts is the definition; "in order" below means the order in
// which the steps make their reads and writes):
//   - unary ops, ADD: word t of dst is a function of word t of each source only, and a source leaf and a dst leaf
//     are either the same leaf or disjoint (all leaf-aligned), so a word-by-word loop in address order writes what
//     the leaf-by-leaf steps write, whatever the aliasing. Saturations: one per word whose value leaves int32.
//   - ARGMAX, the pools: the steps only read until an output's last step, which writes that one output; the loop
//     computes each output from the same words in the same order and writes it at the same point, so even a dst
//     inside the image reads what the steps read.
//   - IM2COL: copy loops (kernel row by output row), taken only when the patch rows do not overlap the image
//     (planned at load): then no write can change a read, so the order is free, and every word the steps write gets
//     the same value, written once. The patch rows' padding words past K are not written, as by the steps.
//   - DENSE, MATMUL: taken only when the weight rows and biases lie in the model region (fixed for the model's
//     life) and, for every row, |bias|·2^shift + Σ_k |W[k]| · 2^31 < 2^63 − 2^31 (checked once at load, planFast;
//     the margin leaves storeRow room to add its rounding half). Since every word |x| ≤ 2^31, every partial
//     accumulator of the row, bias·2^shift + Σ_{k<m} W[k]·x[k], lies strictly inside int64: each chunk's sat64 is
//     the identity, no accumulate clamp is counted, and the row's accumulator is the exact sum. Wrapping i64 adds
//     in any order give that exact sum (it is exact mod 2^64 and in range), so the loops may sum in any order; the
//     row is then rounded and saturated to what shiftRound / sat32 give (storeRow, branch-free for these
//     accumulators), and counted when it leaves int32. Rows are computed and stored in the steps' order (DENSE
//     row by row; MATMUL output index by index), except that MATMUL computes four pixels of a channel at once when
//     its output does not overlap its patches (planned at load), so that no store can change a later read. The
//     compiler chooses weight formats so that n · max|W| ≤ 2^30 (compiler/formats.ts): bias·2^shift ≤ 2^62 plus
//     products ≤ 2^61 pass the bound, so compiled models always do; a row that fails it is stepped, clamps included.
//   - anything else (LAYERNORM, HALT, an instruction that fails its plan's conditions) is stepped.
// After a whole instruction the registers are what its last step leaves (nextInstruction: pc + 1, the loop
// registers 0) and the step counter has advanced by its step count (vm/opcodes.ts steps(), which the host writes
// per instruction). An instruction is taken whole only from its first step (i = j = acc = aux = 0) and only when
// all its steps fit in the run's step limit; otherwise it is stepped.
import { alloc } from "./heap";
import { biasToAcc, divRound, overflows32, sat32 } from "./fixed";
import { addValue } from "./elementwise";
import {
  CHUNK_WORDS, INSN_SLOTS, countSaturations, dataBaseWord, instructionCount, mem, opcodeAt, program, regAcc, regAux,
  regHalted, regI, regJ, regPc, regStep, setWord, word,
} from "./machine";
import { applyUnary, nextInstruction, step } from "./step";
import {
  decodeWindow, outputPixels, patchWords, winChannels, winDilationH, winDilationW, winHeight, winKernelH, winKernelW,
  winOutHeight, winOutWidth, winPadLeft, winPadTop, winStrideH, winStrideW, winWidth,
} from "./window";

// vm/opcodes.ts
const DENSE: i32 = 0x01;
const RELU: i32 = 0x02;
const ARGMAX: i32 = 0x05;
const SILU: i32 = 0x0c;
const ADD: i32 = 0x0d;
const IM2COL: i32 = 0x0f;
const MATMUL: i32 = 0x10;
const MAXPOOL: i32 = 0x11;
const AVGPOOL: i32 = 0x12;
const AVGPOOL_VALID: i32 = 0x13;

/** What runFast does with an instruction: step it, run it whole, or (MATMUL) run it whole four pixels at a time. */
export const PLAN_STEP: i32 = 0;
export const PLAN_WHOLE: i32 = 1;
export const PLAN_BLOCKED: i32 = 2;

/** Per instruction: its step count (i64, written by the host from vm/opcodes.ts) and its plan (i32). */
let fastSteps: usize = 0;
let fastPlans: usize = 0;

/** Allocates the per-instruction tables (after setupMachine); the host then writes the step counts and calls planFast. */
export function setupFast(): void {
  fastSteps = alloc(<usize>instructionCount * 8);
  fastPlans = alloc(<usize>instructionCount * 4);
}


export function fastStepsPointer(): usize {
  return fastSteps;
}

export function fastPlansPointer(): usize {
  return fastPlans;
}

/** Plans every instruction from the program and the model image (which never change afterwards). */
export function planFast(): void {
  for (let pc = 0; pc < instructionCount; pc++) store<i32>(fastPlans + (<usize>pc << 2), planOf(pc));
}

/** Steps until the machine halts (or `limit` more steps have run), whole instructions where planned; returns the step count. */
export function runFast(limit: i64): i64 {
  const end = regStep + limit;
  while (!regHalted && regStep < end) {
    const pc = regPc;
    const plan = load<i32>(fastPlans + (<usize>pc << 2));
    if (plan != PLAN_STEP && regI == 0 && regJ == 0 && regAcc == 0 && regAux == 0) {
      const steps = load<i64>(fastSteps + (<usize>pc << 3));
      if (steps <= end - regStep) {
        executeWhole(opcodeAt(pc), plan);
        regStep += steps;
        nextInstruction();
        continue;
      }
    }
    step();
  }
  return regStep;
}

@inline function arg(pc: i32, k: i32): i32 {
  return load<i32>(program + (<usize>(pc * INSN_SLOTS + 1 + k) << 2));
}

@inline function alignUp(n: i32, to: i32): i32 {
  return (n + to - 1) / to * to;
}

/** Do the word ranges [a, a + n) and [b, b + m) overlap? */
function overlaps(a: i32, n: i32, b: i32, m: i32): bool {
  return <i64>a < <i64>b + m && <i64>b < <i64>a + n;
}

function planOf(pc: i32): i32 {
  const op = opcodeAt(pc);
  if (op == DENSE) {
    const weights = arg(pc, 1);
    const bias = arg(pc, 2);
    const inputs = arg(pc, 4);
    const outputs = arg(pc, 5);
    const shift = arg(pc, 6);
    const stride = alignUp(inputs, CHUNK_WORDS);
    if (<i64>weights + <i64>outputs * stride > dataBaseWord || <i64>bias + outputs > dataBaseWord) return PLAN_STEP;
    for (let r = 0; r < outputs; r++) if (!rowBounded(weights + r * stride, word(bias + r), inputs, shift)) return PLAN_STEP;
    return PLAN_WHOLE;
  }
  if (op == MATMUL) {
    const patches = arg(pc, 0);
    const weights = arg(pc, 1);
    const output = arg(pc, 2);
    const inputs = arg(pc, 3);
    const outputs = arg(pc, 4);
    const pixels = arg(pc, 5);
    const shift = arg(pc, 6);
    const stride = alignUp(inputs, CHUNK_WORDS);
    const biases = <i64>weights + <i64>outputs * stride;
    if (biases + outputs > dataBaseWord) return PLAN_STEP;
    let padded = true; // every weight row's words past `inputs` up to a multiple of 4 are 0
    for (let r = 0; r < outputs; r++) {
      if (!rowBounded(weights + r * stride, word(<i32>biases + r), inputs, shift)) return PLAN_STEP;
      for (let t = inputs; t < alignUp(inputs, 4); t++) if (word(weights + r * stride + t) != 0) padded = false;
    }
    return padded && !overlaps(output, outputs * pixels, patches, stride * pixels) ? PLAN_BLOCKED : PLAN_WHOLE;
  }
  if (op == IM2COL) {
    decodeWindow(arg(pc, 2), arg(pc, 3), arg(pc, 4), arg(pc, 5), arg(pc, 6));
    const rows = alignUp(patchWords(), CHUNK_WORDS) * outputPixels();
    return overlaps(arg(pc, 1), rows, arg(pc, 0), winChannels * winHeight * winWidth) ? PLAN_STEP : PLAN_WHOLE;
  }
  if (op == MAXPOOL || op == AVGPOOL || op == AVGPOOL_VALID || op == ARGMAX || op == ADD) return PLAN_WHOLE;
  if (<u32>(op - RELU) <= <u32>(SILU - RELU)) return PLAN_WHOLE; // the unary ops (ARGMAX included, above)
  return PLAN_STEP; // HALT, LAYERNORM
}

/**
 * |bias|·2^shift + Σ_{k<n} |w[k]| · 2^31 < 2^63 − 2^31 for the weight row at word w: then no partial sum of the row
 * can leave int64 (see the header), with the margin storeRow's rounding needs. Σ|w| < n · 2^31 ≤ 2^55 fits u64; it must be below 2^32 for its product with 2^31 to
 * stay below 2^63; |bias|·2^shift ≤ 2^62; so the final sum of two terms below 2^63 fits u64.
 */
function rowBounded(w: i32, bias: i32, n: i32, shift: i32): bool {
  let l1: u64 = 0;
  for (let t = 0; t < n; t++) {
    const v = word(w + t);
    l1 += <u64>(v < 0 ? -<i64>v : <i64>v);
  }
  if (l1 >= (<u64>1 << 32)) return false;
  const b = <u64>(bias < 0 ? -<i64>bias : <i64>bias) << shift;
  return b + (l1 << 31) < (<u64>1 << 63) - (<u64>1 << 31);
}

function executeWhole(op: i32, plan: i32): void {
  if (op == MATMUL) executeMatmulWhole(plan == PLAN_BLOCKED);
  else if (op == DENSE) executeDenseWhole();
  else if (op == IM2COL) executeIm2colWhole();
  else if (op == RELU) executeReluWhole();
  else if (op == MAXPOOL || op == AVGPOOL || op == AVGPOOL_VALID) executePoolWhole(op);
  else if (op == ARGMAX) executeArgmaxWhole();
  else if (op == ADD) executeAddWhole();
  else executeUnaryWhole(op);
}

/** Σ_{t<n} w[t]·x[t] in wrapping i64 (exact when the row's bound holds), w and x byte addresses of i32 words. */
@inline function dotExact(w: usize, x: usize, n: i32): i64 {
  let s0 = i64x2.splat(0);
  let s1 = i64x2.splat(0);
  const end4 = w + (<usize>(n & ~3) << 2);
  let pw = w;
  let px = x;
  while (pw < end4) {
    const vw = v128.load(pw);
    const vx = v128.load(px);
    s0 = i64x2.add(s0, i64x2.extmul_low_i32x4_s(vw, vx));
    s1 = i64x2.add(s1, i64x2.extmul_high_i32x4_s(vw, vx));
    pw += 16;
    px += 16;
  }
  const s = i64x2.add(s0, s1);
  let sum = i64x2.extract_lane(s, 0) + i64x2.extract_lane(s, 1);
  const end = w + (<usize>n << 2);
  while (pw < end) {
    sum += <i64>load<i32>(pw) * <i64>load<i32>(px);
    pw += 4;
    px += 4;
  }
  return sum;
}

/**
 * Rounds a row's exact accumulator to its output word at addr; returns 1 if it saturated, else 0: the value and count
 * of sat32(shiftRound(acc, shift)) (assembly/fixed.ts), without its branches, for what a whole row can hold:
 * |acc| < 2^63 − 2^31 (the plan's bound) and 0 ≤ shift ≤ 31 (the validator's). For s ≥ 1, h = 2^(s−1):
 *   v ≥ 0:  ⌊(v + h) / 2^s⌋                                               = shiftRound(v, s)
 *   v < 0:  ⌊(v + h − 1) / 2^s⌋ = −⌈(−v − h + 1) / 2^s⌉ = −⌊(−v + h) / 2^s⌋   = shiftRound(v, s)   (2^s − h = h)
 * so rounded = (v + h + (v >> 63)) >> s, where v + h − 1 and v + h stay inside int64 by the bound's margin. For
 * s = 0, `negative` (the caller's s == 0 ? 0 : −1) drops the −1 and h = 0: rounded = v.
 */
@inline function storeRow(addr: i32, acc: i64, shift: i32, half: i64, negative: i64): i32 {
  const rounded = (acc + half + ((acc >> 63) & negative)) >> shift;
  if (rounded == <i64><i32>rounded) {
    setWord(addr, <i32>rounded);
    return 0;
  }
  setWord(addr, rounded > 0 ? 2147483647 : -2147483648);
  return 1;
}

@inline function at(addr: i32): usize {
  return mem + (<usize>addr << 2);
}

/** DENSE, whole: rows in order, each the exact sum (planFast proved it fits), rounded and stored. */
function executeDenseWhole(): void {
  const pc = regPc;
  const input = arg(pc, 0);
  const weights = arg(pc, 1);
  const bias = arg(pc, 2);
  const output = arg(pc, 3);
  const inputs = arg(pc, 4);
  const outputs = arg(pc, 5);
  const shift = arg(pc, 6);
  const stride = alignUp(inputs, CHUNK_WORDS);
  const half = (<i64>1 << shift) >> 1;
  const negative: i64 = shift == 0 ? 0 : -1;
  let saturated = 0;
  for (let r = 0; r < outputs; r++) {
    const acc = biasToAcc(word(bias + r), shift) + dotExact(at(weights + r * stride), at(input), inputs);
    saturated += storeRow(output + r, acc, shift, half, negative);
  }
  if (saturated) countSaturations(pc, saturated);
}

/**
 * MATMUL, whole: output index oc·pixels + p in order; `blocked` (the output does not overlap the patches, and the
 * weight rows are 0 from `inputs` to the next multiple of 4): four pixels of channel oc at once, each weight vector
 * loaded once for the four patch rows, over whole vectors (the zero weights' products vanish, whatever the patch
 * rows hold there: their words up to the row stride are inside memory).
 */
function executeMatmulWhole(blocked: bool): void {
  const pc = regPc;
  const patches = arg(pc, 0);
  const weights = arg(pc, 1);
  const output = arg(pc, 2);
  const inputs = arg(pc, 3);
  const outputs = arg(pc, 4);
  const pixels = arg(pc, 5);
  const shift = arg(pc, 6);
  const stride = alignUp(inputs, CHUNK_WORDS);
  const biases = weights + outputs * stride;
  const rowBytes = <usize>stride << 2;
  const half = (<i64>1 << shift) >> 1;
  const negative: i64 = shift == 0 ? 0 : -1;
  let saturated = 0;
  const n4 = alignUp(inputs, 4);
  for (let oc = 0; oc < outputs; oc++) {
    const w = at(weights + oc * stride);
    const start = biasToAcc(word(biases + oc), shift);
    const out = output + oc * pixels;
    let p = 0;
    if (blocked) {
      // the rows' words past `inputs` up to a multiple of 4 are 0 in the weights (planned): their products vanish
      for (; p + 4 <= pixels; p += 4) {
        dot4(w, at(patches + p * stride), rowBytes, n4);
        saturated += storeRow(out + p, start + dot4Sum0, shift, half, negative);
        saturated += storeRow(out + p + 1, start + dot4Sum1, shift, half, negative);
        saturated += storeRow(out + p + 2, start + dot4Sum2, shift, half, negative);
        saturated += storeRow(out + p + 3, start + dot4Sum3, shift, half, negative);
      }
    }
    for (; p < pixels; p++) saturated += storeRow(out + p, start + dotExact(w, at(patches + p * stride), inputs), shift, half, negative);
  }
  if (saturated) countSaturations(pc, saturated);
}

let dot4Sum0: i64 = 0;
let dot4Sum1: i64 = 0;
let dot4Sum2: i64 = 0;
let dot4Sum3: i64 = 0;

/** dotExact of the weight row at w with the four rows x, x + rowBytes, x + 2·rowBytes, x + 3·rowBytes, into dot4Sum0…3. */
function dot4(w: usize, x: usize, rowBytes: usize, n: i32): void {
  let a0 = i64x2.splat(0);
  let a1 = i64x2.splat(0);
  let a2 = i64x2.splat(0);
  let a3 = i64x2.splat(0);
  let b0 = i64x2.splat(0);
  let b1 = i64x2.splat(0);
  let b2 = i64x2.splat(0);
  let b3 = i64x2.splat(0);
  const x1 = x + rowBytes;
  const x2 = x1 + rowBytes;
  const x3 = x2 + rowBytes;
  const end4 = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < end4; o += 16) {
    const vw = v128.load(w + o);
    const v0 = v128.load(x + o);
    const v1 = v128.load(x1 + o);
    const v2 = v128.load(x2 + o);
    const v3 = v128.load(x3 + o);
    a0 = i64x2.add(a0, i64x2.extmul_low_i32x4_s(vw, v0));
    b0 = i64x2.add(b0, i64x2.extmul_high_i32x4_s(vw, v0));
    a1 = i64x2.add(a1, i64x2.extmul_low_i32x4_s(vw, v1));
    b1 = i64x2.add(b1, i64x2.extmul_high_i32x4_s(vw, v1));
    a2 = i64x2.add(a2, i64x2.extmul_low_i32x4_s(vw, v2));
    b2 = i64x2.add(b2, i64x2.extmul_high_i32x4_s(vw, v2));
    a3 = i64x2.add(a3, i64x2.extmul_low_i32x4_s(vw, v3));
    b3 = i64x2.add(b3, i64x2.extmul_high_i32x4_s(vw, v3));
  }
  a0 = i64x2.add(a0, b0);
  a1 = i64x2.add(a1, b1);
  a2 = i64x2.add(a2, b2);
  a3 = i64x2.add(a3, b3);
  let s0 = i64x2.extract_lane(a0, 0) + i64x2.extract_lane(a0, 1);
  let s1 = i64x2.extract_lane(a1, 0) + i64x2.extract_lane(a1, 1);
  let s2 = i64x2.extract_lane(a2, 0) + i64x2.extract_lane(a2, 1);
  let s3 = i64x2.extract_lane(a3, 0) + i64x2.extract_lane(a3, 1);
  const end = <usize>n << 2;
  for (; o < end; o += 4) {
    const wv = <i64>load<i32>(w + o);
    s0 += wv * <i64>load<i32>(x + o);
    s1 += wv * <i64>load<i32>(x1 + o);
    s2 += wv * <i64>load<i32>(x2 + o);
    s3 += wv * <i64>load<i32>(x3 + o);
  }
  dot4Sum0 = s0;
  dot4Sum1 = s1;
  dot4Sum2 = s2;
  dot4Sum3 = s3;
}

/**
 * IM2COL, whole (planned only when the patch rows miss the image, so the order of the writes is free): each patch
 * row's K words, 0 on padding, exactly the words the steps write. Walked kernel row (c, kh) by output row oh, so
 * that one image row serves a whole output row: output columns [owLo, owHi), whose every kernel column lies inside
 * the image, copy KW words (at column dilation 1 and 4 ≤ KW ≤ 8 as two four-word copies, the second ending at the
 * kernel row's end: they overlap when KW < 8, writing the same words twice, and touch nothing outside the kernel
 * row); the columns at the edges go word by word. Fields live in locals: globals cost a load per use.
 */
function executeIm2colWhole(): void {
  const pc = regPc;
  decodeWindow(arg(pc, 2), arg(pc, 3), arg(pc, 4), arg(pc, 5), arg(pc, 6));
  const base = mem;
  const src = base + (<usize>arg(pc, 0) << 2);
  const dst = base + (<usize>arg(pc, 1) << 2);
  const channels = winChannels;
  const height = winHeight;
  const width = winWidth;
  const kernelH = winKernelH;
  const kernelW = winKernelW;
  const strideH = winStrideH;
  const strideW = winStrideW;
  const padTop = winPadTop;
  const padLeft = winPadLeft;
  const dilationH = winDilationH;
  const dilationW = winDilationW;
  const outHeight = winOutHeight;
  const outWidth = winOutWidth;
  const rowBytes = <usize>alignUp(patchWords(), CHUNK_WORDS) << 2;
  const kernelBytes = <usize>kernelW << 2;
  const spanW = (kernelW - 1) * dilationW;
  const twoCopies = dilationW == 1 && kernelW >= 4 && kernelW <= 8;
  // the output columns whose kernel columns all lie inside the image: an interval, iw0 growing with ow
  let owLo = outWidth;
  let owHi = outWidth;
  for (let ow = 0; ow < outWidth; ow++) {
    const iw0 = ow * strideW - padLeft;
    if (iw0 >= 0 && iw0 + spanW < width) {
      if (owLo == outWidth) owLo = ow;
      owHi = ow + 1;
    }
  }
  const stepBytes = <usize>strideW << 2;
  for (let c = 0; c < channels; c++) {
    const plane = src + (<usize>(c * height * width) << 2);
    for (let kh = 0; kh < kernelH; kh++) {
      const piece = dst + (<usize>((c * kernelH + kh) * kernelW) << 2); // this kernel row's place in patch row 0
      for (let oh = 0; oh < outHeight; oh++) {
        const ih = oh * strideH - padTop + kh * dilationH;
        const first = piece + <usize>(oh * outWidth) * rowBytes;
        if (ih < 0 || ih >= height) {
          for (let ow = 0; ow < outWidth; ow++) memory.fill(first + <usize>ow * rowBytes, 0, kernelBytes);
          continue;
        }
        const line = plane + (<usize>(ih * width) << 2);
        for (let ow = 0; ow < owLo; ow++) copyEdge(first + <usize>ow * rowBytes, line, ow * strideW - padLeft, kernelW, dilationW, width);
        let to = first + <usize>owLo * rowBytes;
        let from = line + (<usize>(owLo * strideW - padLeft) << 2);
        if (twoCopies) {
          for (let ow = owLo; ow < owHi; ow++) {
            v128.store(to, v128.load(from));
            v128.store(to + kernelBytes - 16, v128.load(from + kernelBytes - 16));
            to += rowBytes;
            from += stepBytes;
          }
        } else {
          for (let ow = owLo; ow < owHi; ow++) {
            for (let o: usize = 0; o < kernelBytes; o += 4) store<i32>(to + o, load<i32>(from + o * <usize>dilationW));
            to += rowBytes;
            from += stepBytes;
          }
        }
        for (let ow = owHi; ow < outWidth; ow++) copyEdge(first + <usize>ow * rowBytes, line, ow * strideW - padLeft, kernelW, dilationW, width);
      }
    }
  }
}

/** One kernel row of an edge column: the image word at column iw0 + kw·DW of the row at `line`, or 0 outside. */
function copyEdge(to: usize, line: usize, iw0: i32, kernelW: i32, dilationW: i32, width: i32): void {
  for (let kw = 0; kw < kernelW; kw++) {
    const iw = iw0 + kw * dilationW;
    store<i32>(to + (<usize>kw << 2), iw >= 0 && iw < width ? load<i32>(line + (<usize>iw << 2)) : 0);
  }
}

/**
 * MAXPOOL, AVGPOOL, AVGPOOL_VALID, whole: each output from its window's positions inside the image, in the steps'
 * order (the largest: the first of equal words, which are equal; the sum: exact in i64). Fields in locals.
 */
function executePoolWhole(op: i32): void {
  const pc = regPc;
  decodeWindow(arg(pc, 2), arg(pc, 3), arg(pc, 4), arg(pc, 5), arg(pc, 6));
  const base = mem;
  const src = base + (<usize>arg(pc, 0) << 2);
  let out = base + (<usize>arg(pc, 1) << 2);
  const channels = winChannels;
  const height = winHeight;
  const width = winWidth;
  const kernelH = winKernelH;
  const kernelW = winKernelW;
  const strideH = winStrideH;
  const strideW = winStrideW;
  const dilationH = winDilationH;
  const dilationW = winDilationW;
  const outWidth = winOutWidth;
  const pixels = outputPixels();
  const planeBytes = <usize>(height * width) << 2;
  const area = kernelH * kernelW;
  const spanH = (kernelH - 1) * dilationH;
  const spanW = (kernelW - 1) * dilationW;
  const isMax = op == MAXPOOL;
  const square2 = kernelH == 2 && kernelW == 2 && dilationW == 1;
  const lineBytes = <usize>(dilationH * width) << 2; // one kernel row down
  for (let c = 0; c < channels; c++) {
    const image = src + <usize>c * planeBytes;
    let oh = 0;
    let ow = 0;
    for (let p = 0; p < pixels; p++) {
      const ih0 = oh * strideH - winPadTop;
      const iw0 = ow * strideW - winPadLeft;
      let acc: i64 = 0;
      let count = 0;
      if (isMax && ih0 >= 0 && ih0 + spanH < height && iw0 >= 0 && iw0 + spanW < width) {
        const corner = image + (<usize>(ih0 * width + iw0) << 2);
        let best = load<i32>(corner);
        if (square2) {
          // the common 2×2 window of adjacent words: four loads, no loop
          const below = corner + lineBytes;
          best = max(max(best, load<i32>(corner, 4)), max(load<i32>(below), load<i32>(below, 4)));
        } else {
          for (let kh = 0; kh < kernelH; kh++) {
            const line = corner + <usize>kh * lineBytes;
            for (let kw = 0; kw < kernelW; kw++) best = max(best, load<i32>(line + (<usize>(kw * dilationW) << 2)));
          }
        }
        acc = best;
        count = area;
      } else {
        for (let kh = 0; kh < kernelH; kh++) {
          const ih = ih0 + kh * dilationH;
          if (ih < 0 || ih >= height) continue;
          const line = image + (<usize>(ih * width) << 2);
          for (let kw = 0; kw < kernelW; kw++) {
            const iw = iw0 + kw * dilationW;
            if (iw < 0 || iw >= width) continue;
            const v = <i64>load<i32>(line + (<usize>iw << 2));
            if (!isMax) acc += v;
            else if (count == 0 || v > acc) acc = v;
            count++;
          }
        }
      }
      let value: i32 = 0;
      if (isMax) value = count > 0 ? <i32>acc : 0;
      else if (op == AVGPOOL) value = <i32>divRound(acc, area);
      else value = count > 0 ? <i32>divRound(acc, count) : 0;
      store<i32>(out, value);
      out += 4;
      if (++ow == outWidth) {
        ow = 0;
        oh++;
      }
    }
  }
}

/** RELU, whole: max(x, 0) four words at a time when fin = fout (never saturates), else through reluValue. */
function executeReluWhole(): void {
  const pc = regPc;
  const src = arg(pc, 0);
  const dst = arg(pc, 1);
  const n = arg(pc, 2);
  if (arg(pc, 3) != arg(pc, 4)) {
    executeUnaryWhole(RELU);
    return;
  }
  const zero = i32x4.splat(0);
  let t = 0;
  for (; t + 4 <= n; t += 4) v128.store(at(dst + t), i32x4.max_s(v128.load(at(src + t)), zero));
  for (; t < n; t++) {
    const x = word(src + t);
    setWord(dst + t, x > 0 ? x : 0);
  }
}

/** Any unary op, whole: word by word in order, through the step's own value functions. */
function executeUnaryWhole(op: i32): void {
  const pc = regPc;
  const src = arg(pc, 0);
  const dst = arg(pc, 1);
  const n = arg(pc, 2);
  const fin = arg(pc, 3);
  const fout = arg(pc, 4);
  const p0 = arg(pc, 5);
  const p1 = arg(pc, 6);
  let saturated = 0;
  for (let t = 0; t < n; t++) {
    const v = applyUnary(op, word(src + t), fin, fout, p0, p1);
    if (overflows32(v)) saturated++;
    setWord(dst + t, sat32(v));
  }
  if (saturated) countSaturations(pc, saturated);
}

/** ADD, whole: word by word in order. */
function executeAddWhole(): void {
  const pc = regPc;
  const a = arg(pc, 0);
  const b = arg(pc, 1);
  const dst = arg(pc, 2);
  const n = arg(pc, 3);
  const fa = arg(pc, 4);
  const fb = arg(pc, 5);
  const fout = arg(pc, 6);
  let saturated = 0;
  for (let t = 0; t < n; t++) {
    const v = addValue(word(a + t), word(b + t), fa, fb, fout);
    if (overflows32(v)) saturated++;
    setWord(dst + t, sat32(v));
  }
  if (saturated) countSaturations(pc, saturated);
}

/** ARGMAX, whole: the lowest index of the largest word, stored at dst. */
function executeArgmaxWhole(): void {
  const pc = regPc;
  const src = arg(pc, 0);
  const n = arg(pc, 1);
  let best = word(src);
  let bestIndex = 0;
  for (let t = 1; t < n; t++) {
    const v = word(src + t);
    if (v > best) {
      best = v;
      bestIndex = t;
    }
  }
  setWord(arg(pc, 2), bestIndex);
}

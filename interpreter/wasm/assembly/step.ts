// The step function: the WASM twin of vm/step.ts, function for function, in the same order. Differences of
// form, not of meaning:
//   - the TypeScript step is pure and returns its one leaf write; here the write goes straight into memory and
//     lastWriteLeaf says which leaf it was, so a traced run can rehash that path. A unary op or ADD writes word by
//     word as it reads (each word depends only on the words at its own index, and leaves are either the same leaf
//     or disjoint, all being leaf-aligned), so in place and out of place need no copy;
//   - StepResult.saturated: each executor adds its clamps to the instruction's counter itself
//     (assembly/machine.ts countSaturations, which WasmMachine.saturations() reports), and only when there are
//     some, so that a step that clamps nothing (every step of a sane model) pays one untaken branch;
//   - executeUnary(fn): AssemblyScript has no closures, so the unary executor dispatches on the opcode per word
//     (applyUnary).
import { accumulateClamped, accumulateDot, biasToAcc, overflows32, sat32, shiftRound } from "./fixed";
import {
  addValue, clipValue, eluValue, geluTanhValue, geluValue, leakyReluValue, reluValue, sigmoidValue, siluValue,
  softplusValue, tanhValue,
} from "./elementwise";
import { layerMean, layerNormValue, layerScale, squareTerm } from "./layernorm";
import {
  CHUNK_WORDS, LEAF_WORDS, countSaturations, lastWriteLeaf, mem, opcodeAt, operand, regAcc, regAux, regHalted, regI,
  regJ, regPc, regStep, setWord, word,
} from "./machine";

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
  else if (<u32>(op - RELU) <= <u32>(SILU - RELU)) executeUnary(op); // RELU … SILU, ARGMAX done above
  else regHalted = 1;
  regStep++;
}

/** Does step() execute opcode `op` (rather than trap on it)? The host refuses programs with any other. */
export function implementsOpcode(op: i32): i32 {
  return <i32>(<u32>op <= <u32>LAYERNORM);
}

/** Move to the next instruction, clearing the loop registers. */
function nextInstruction(): void {
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

/**
 * DENSE input weights bias output inputs outputs shift — (i, j) = (row, chunk); see vm/step.ts. Saturations: 1 if
 * the accumulate clamped at int64's ends, plus 1 if the row's rounded result left int32.
 */
function executeDense(): void {
  const input = operand(0);
  const weights = operand(1);
  const bias = operand(2);
  const output = operand(3);
  const inputs = operand(4);
  const outputs = operand(5);
  const shift = operand(6);
  const chunks = (inputs + CHUNK_WORDS - 1) / CHUNK_WORDS;
  const row = regI;
  const chunk = regJ;
  const offset = chunk * CHUNK_WORDS;
  const n = min(CHUNK_WORDS, inputs - offset);
  const w = mem + (<usize>(weights + row * chunks * CHUNK_WORDS + offset) << 2);
  const x = mem + (<usize>(input + offset) << 2);
  const start = chunk == 0 ? biasToAcc(readWord(bias + row), shift) : regAcc;
  const acc = accumulateDot(start, w, x, n);
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
  storeWord(output + row, sat32(rounded));
  if (row + 1 < outputs) {
    regI = row + 1;
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

function readWord(addr: i32): i32 {
  return word(addr);
}

/** Steps until the machine halts (or `limit` more steps have run); returns the step count. */
export function runSteps(limit: i64): i64 {
  const end = regStep + limit;
  while (!regHalted && regStep < end) step();
  return regStep;
}

// The step function: the WASM twin of vm/step.ts, function for function, in the same order. One difference
// of form, not of meaning: the TypeScript step is pure and returns its one leaf write; here the write goes
// straight into memory and lastWriteLeaf says which leaf it was, so a traced run can rehash that path.
import { accumulateDot, biasToAcc, rescale } from "./fixed";
import { relu, sigmoid, tanh } from "./activations";
import {
  CHUNK_WORDS, LEAF_WORDS, lastWriteLeaf, mem, opcodeAt, operand, regAcc, regAux, regHalted, regI, regJ, regPc,
  regStep, setWord, word,
} from "./machine";

// vm/opcodes.ts
const HALT: i32 = 0x00;
const DENSE: i32 = 0x01;
const RELU: i32 = 0x02;
const SIGMOID: i32 = 0x03;
const TANH: i32 = 0x04;
const ARGMAX: i32 = 0x05;

/** One step from the current registers. A halted machine stays as it is; an unknown opcode traps (halts). */
export function step(): void {
  if (regHalted) return;
  lastWriteLeaf = -1;
  const op = opcodeAt(regPc);
  if (op == HALT) executeHalt();
  else if (op == DENSE) executeDense();
  else if (op == RELU || op == SIGMOID || op == TANH) executeActivation(op);
  else if (op == ARGMAX) executeArgmax();
  else regHalted = 1;
  regStep++;
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

/** DENSE input weights bias output inputs outputs — (i, j) = (row, chunk); see vm/step.ts. */
function executeDense(): void {
  const input = operand(0);
  const weights = operand(1);
  const bias = operand(2);
  const output = operand(3);
  const inputs = operand(4);
  const outputs = operand(5);
  const chunks = (inputs + CHUNK_WORDS - 1) / CHUNK_WORDS;
  const row = regI;
  const chunk = regJ;
  const offset = chunk * CHUNK_WORDS;
  const n = min(CHUNK_WORDS, inputs - offset);
  const w = mem + (<usize>(weights + row * chunks * CHUNK_WORDS + offset) << 2);
  const x = mem + (<usize>(input + offset) << 2);
  const start = chunk == 0 ? biasToAcc(readWord(bias + row)) : regAcc;
  const acc = accumulateDot(start, w, x, n);
  if (chunk + 1 < chunks) {
    regJ = chunk + 1;
    regAcc = acc;
    return;
  }
  storeWord(output + row, rescale(acc));
  if (row + 1 < outputs) {
    regI = row + 1;
    regJ = 0;
    regAcc = 0;
  } else nextInstruction();
}

/** RELU / SIGMOID / TANH addr n — i = leaf: the function on the up-to-8 words of leaf i, in place. */
function executeActivation(op: i32): void {
  const addr = operand(0);
  const n = operand(1);
  const leaf = regI;
  const leafAddr = addr + leaf * LEAF_WORDS;
  const count = min(LEAF_WORDS, n - leaf * LEAF_WORDS);
  for (let t = 0; t < count; t++) {
    const x = word(leafAddr + t);
    setWord(leafAddr + t, op == RELU ? relu(x) : op == SIGMOID ? sigmoid(x) : tanh(x));
  }
  lastWriteLeaf = leafAddr / LEAF_WORDS;
  if ((leaf + 1) * LEAF_WORDS < n) regI = leaf + 1;
  else nextInstruction();
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

function readWord(addr: i32): i32 {
  return word(addr);
}

/** Steps until the machine halts (or `limit` more steps have run); returns the step count. */
export function runSteps(limit: i64): i64 {
  const end = regStep + limit;
  while (!regHalted && regStep < end) step();
  return regStep;
}

/**
 * Whole traces of small programs that use the elementwise ops and ADD, every step replayed in the EVM. The
 * programs are built here (not compiled: the point is to reach every opcode, operand aliasing and format
 * combination, whatever a compiler would emit) and walked with interpreter/witness-reference.ts's MemoryTree
 * (vm/step.ts alone), so each step's witness is the one a real trace gives:
 *
 *   DENSE x → h (shift fx + fw − fh)      UNARY op h → g (src ≠ dst)      UNARY op g → g (in place)
 *   ADD h + g → g (dst = b)               ADD g + g → r (a = b)           ADD r + x → r (dst = a)
 *   LAYERNORM r → r (in place)            DENSE r → y                     ARGMAX y → out          HALT
 *
 * with per-tensor formats drawn at random, n not a multiple of 8 (so the destination's words past n must be kept),
 * random weights and inputs (some at the int32 ends, so that saturation happens). For every step the TypeScript
 * verifier (vm/onestep.ts) and the EVM must both return the post-state hash the walk reaches.
 */
import { expect } from "vitest";
import { MemoryTree } from "../../interpreter/witness-reference.js";
import type { Deployed } from "../../evm/inprocess.js";
import { INT32_MAX, INT32_MIN, MAX_SHIFT } from "../../vm/fixed.js";
import { toHex } from "../../vm/hash.js";
import { CHUNK_WORDS, LEAF_WORDS, dataBase } from "../../vm/memory.js";
import { Opcode, isUnary, opcodeInfo } from "../../vm/opcodes.js";
import { type Program, validateProgram } from "../../vm/program.js";
import { INITIAL_STATE } from "../../vm/state.js";
import { insn, prng, program as makeProgram, randInt } from "../helpers/bytecode.js";
import { type Rand, randomParameters } from "../helpers/random-steps.js";
import { evmVerdict, tsVerdict } from "./verifier.js";


export interface OpsProgram {
  program: Program;
  /** The whole initial memory (2^DEPTH · 8 words). */
  words: Int32Array;
}

/** A random word of magnitude about 2^bits, or (1 in 40) an int32 end. */
function word(rand: Rand, bits: number): number {
  if (rand() < 0.025) return rand() < 0.5 ? INT32_MIN : INT32_MAX;
  return Math.round((rand() * 2 - 1) * 2 ** bits);
}

/** The program above for unary opcode `op`, from `seed`. `inputs` ≤ 64, `hidden` ≤ 64 (n of the elementwise ops). */
export function opsProgram(op: number, seed: number, inputs = 20, hidden = 13, outputs = 10): OpsProgram {
  if (!isUnary(op)) throw new RangeError(`${opcodeInfo(op)?.name ?? op} is not a unary opcode`);
  const rand = prng(seed);
  const f = () => randInt(rand, 4, 20); // a tensor format
  const [fx, fw1, fw2, fh, fg, fg2, fr, fy] = [f(), randInt(rand, 8, 16), randInt(rand, 8, 16), f(), f(), f(), f(), f()];
  const shift = (fin: number, fw: number, fout: number) => Math.max(0, Math.min(MAX_SHIFT, fin + fw - fout));
  const stride1 = Math.ceil(inputs / CHUNK_WORDS) * CHUNK_WORDS;
  const stride2 = Math.ceil(hidden / CHUNK_WORDS) * CHUNK_WORDS;
  const leafSpan = (n: number) => Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
  // model region: W1, b1, W2, b2 (weights chunk-aligned)
  const W1 = 0;
  const b1 = W1 + stride1 * hidden;
  const W2 = Math.ceil((b1 + hidden) / CHUNK_WORDS) * CHUNK_WORDS;
  const b2 = W2 + stride2 * outputs;
  const lnParams = Math.ceil((b2 + outputs) / LEAF_WORDS) * LEAF_WORDS; // gamma, then beta, each leafSpan(hidden) words
  // memory depth 8 (model region [0, 1024), data region [1024, 2048)), or more if the weights need it
  let depth = 8;
  while (dataBase(depth) < lnParams + 2 * leafSpan(hidden)) depth++;
  const base = dataBase(depth);
  // data region: x, h, g, r, y, out (each leaf-aligned; x and r chunk-aligned for DENSE)
  const x = base;
  const h = x + stride1;
  const g = h + leafSpan(hidden);
  const r = Math.ceil((g + leafSpan(hidden)) / CHUNK_WORDS) * CHUNK_WORDS;
  const y = r + stride2;
  const out = y + leafSpan(outputs);
  const instructions = [
    insn("DENSE", x, W1, b1, h, inputs, hidden, shift(fx, fw1, fh)),
    { opcode: op, args: [h, g, hidden, fh, fg, ...randomParameters(rand, op)] },
    { opcode: op, args: [g, g, hidden, fg, fg, ...randomParameters(rand, op)] },
    insn("ADD", h, g, g, hidden, fh, fg, fg2),
    insn("ADD", g, g, r, hidden, fg2, fg2, fr),
    insn("ADD", r, x, r, Math.min(hidden, inputs), fr, fx, fr),
    insn("LAYERNORM", r, r, hidden, lnParams, fr, fr, 42950), // eps = 1e-5 in Q0.32
    insn("DENSE", r, W2, b2, y, hidden, outputs, shift(fr, fw2, fy)),
    insn("ARGMAX", y, outputs, out),
  ];
  // ARGMAX's output is one word at `out`; the program's output is the logits and the prediction
  const program = validateProgram(makeProgram(depth, inputs, y - base, out + 1 - y, instructions, false, { inputFrac: fx, outputFrac: fy }));
  const words = new Int32Array(2 * base);
  for (let row = 0; row < hidden; row++) for (let t = 0; t < inputs; t++) words[W1 + row * stride1 + t] = word(rand, fw1 - 2);
  for (let row = 0; row < outputs; row++) for (let t = 0; t < hidden; t++) words[W2 + row * stride2 + t] = word(rand, fw2 - 2);
  for (let t = 0; t < hidden; t++) words[b1 + t] = word(rand, fh - 3);
  for (let t = 0; t < outputs; t++) words[b2 + t] = word(rand, fy - 3);
  for (let t = 0; t < inputs; t++) words[x + t] = word(rand, fx + 1);
  for (let t = 0; t < hidden; t++) words[lnParams + t] = Math.round((0.5 + rand()) * 65536); // gamma in Q15.16
  for (let t = 0; t < hidden; t++) words[lnParams + leafSpan(hidden) + t] = word(rand, fr - 2); // beta in fr
  // the words past n of g and r: a destination must keep them (non-zero so that a lost word shows)
  for (let t = hidden; t < leafSpan(hidden); t++) words[g + t] = words[r + t] = word(rand, 20);
  return { program, words };
}

/**
 * Walks `p` from the initial state to the halted state and one step past it; every step's witness goes to both
 * verifiers. Returns the number of steps and the opcodes executed.
 */
export async function replayOpsProgram(verifier: Deployed, p: OpsProgram): Promise<{ steps: number; opcodes: Set<number> }> {
  const tree = new MemoryTree(p.program, p.words);
  let state = INITIAL_STATE;
  const opcodes = new Set<number>();
  let steps = 0;
  for (let past = 0; past < 2; ) {
    if (state.halted) past++;
    else opcodes.add(p.program.instructions[state.pc].opcode);
    const pre = tree.stateHash(state);
    const witness = tree.witness(state);
    const next = tree.apply(state);
    const expected = toHex(tree.stateHash(next));
    const ts = tsVerdict(pre, witness);
    const evm = await evmVerdict(verifier, pre, witness);
    if (ts !== expected || evm !== expected) expect({ step: state.step, pc: state.pc, ts, evm }).toEqual({ step: state.step, pc: state.pc, ts: expected, evm: expected });
    state = next;
    steps++;
  }
  return { steps, opcodes };
}

/** The unary opcodes of the table, in its order. */
export const UNARY_OPCODES: readonly number[] = Array.from({ length: 256 }, (_, k) => k).filter(isUnary);
export { Opcode };

import { describe, expect, it } from "vitest";
import { insn, prng, program, randInt } from "../test/helpers/bytecode.js";
import { relu, sigmoid, tanh } from "./activations.js";
import { addValue, geluValue, leakyReluValue } from "./elementwise.js";
import { INT32_MAX, INT32_MIN, INT64_MAX, ONE, sat32 } from "./fixed.js";
import { CHUNK_WORDS, FlatMemory, LEAF_WORDS, dataBase } from "./memory.js";
import { OPCODES, Opcode } from "./opcodes.js";
import { type Instruction, type Program, stepCount, validateProgram } from "./program.js";
import { INITIAL_STATE, type State } from "./state.js";
import { step } from "./step.js";
import { type Window, encodeWindow } from "./window.js";

const DEPTH = 7; // 2^7 leaves: model region [0, 512), data region [512, 1024)
const BASE = dataBase(DEPTH);
/** Two 4×4 channels pooled 2×2 with stride 2 (vm/window.ts). */
const WINDOW: Window = {
  channels: 2, height: 4, width: 4, outHeight: 2, outWidth: 2, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1,
};

/** Runs one instruction from a fresh state to the step where pc moves on; returns the states it passed through. */
function runInstruction(instruction: Instruction, memory: FlatMemory): State[] {
  const states = [INITIAL_STATE];
  let s = INITIAL_STATE;
  while (s.pc === 0 && !s.halted) {
    const r = step(s, instruction, memory);
    if (r.write) memory.write(r.write);
    s = r.state;
    states.push(s);
  }
  return states;
}

/** The rounded output of one dense row (bias widened by and sum shifted by `shift`), computed independently with BigInt. */
function denseRowOracle(w: number[], x: number[], b: number, shift = 16): number {
  let acc = BigInt(b) * 2n ** BigInt(shift);
  for (let c = 0; c < w.length; c += CHUNK_WORDS) {
    let sum = 0n;
    for (let t = c; t < Math.min(c + CHUNK_WORDS, w.length); t++) sum += BigInt(w[t]) * BigInt(x[t]);
    acc += sum;
    const max = (1n << 63n) - 1n;
    acc = acc > max ? max : acc < -max - 1n ? -max - 1n : acc;
  }
  const neg = acc < 0n;
  const q = shift === 0 ? (neg ? -acc : acc) : ((neg ? -acc : acc) + 2n ** BigInt(shift - 1)) / 2n ** BigInt(shift);
  const r = neg ? -q : q;
  return r > 2147483647n ? INT32_MAX : r < -2147483648n ? INT32_MIN : Number(r);
}

/** Lays out a DENSE instruction with the compiler's conventions: weights at 0, bias after, x and y in data. */
function denseSetup(W: number[][], b: number[], x: number[], shift = 16) {
  const inputs = x.length;
  const outputs = b.length;
  const stride = Math.ceil(inputs / CHUNK_WORDS) * CHUNK_WORDS;
  const biasAt = stride * outputs;
  const yAt = BASE + Math.ceil(inputs / CHUNK_WORDS) * CHUNK_WORDS;
  const memory = new FlatMemory(2 * BASE);
  W.forEach((row, r) => memory.words.set(row, r * stride));
  memory.words.set(b, biasAt);
  memory.words.set(x, BASE);
  const instruction = insn("DENSE", BASE, 0, biasAt, yAt, inputs, outputs, shift);
  return { memory, instruction, yAt };
}

describe("the opcode table", () => {
  it("has unique codes and names, and HALT is the all-zero instruction", () => {
    expect(new Set(OPCODES.map((o) => o.code)).size).toBe(OPCODES.length);
    expect(new Set(OPCODES.map((o) => o.name)).size).toBe(OPCODES.length);
    expect(Opcode.HALT).toBe(0);
  });

  // One sample instruction per opcode; the table's step count must equal the steps the executor takes.
  const samples: Record<string, Instruction> = {
    DENSE: insn("DENSE", BASE, 0, 300, BASE + 96, 70, 3, 16),
    RELU: insn("RELU", BASE, BASE, 19, 16, 16),
    SIGMOID: insn("SIGMOID", BASE, BASE + 64, 8, 16, 16),
    TANH: insn("TANH", BASE, BASE, 1, 16, 20),
    ARGMAX: insn("ARGMAX", BASE, 17, BASE + 40),
    LEAKY_RELU: insn("LEAKY_RELU", BASE, BASE, 9, 16, 16, ONE / 10),
    ELU: insn("ELU", BASE, BASE + 32, 16, 16, 16, ONE),
    SOFTPLUS: insn("SOFTPLUS", BASE, BASE, 3, 8, 16),
    CLIP: insn("CLIP", BASE, BASE, 25, 16, 16, 0, 6 * ONE),
    GELU: insn("GELU", BASE, BASE, 8, 16, 16),
    GELU_TANH: insn("GELU_TANH", BASE, BASE, 17, 16, 16),
    SILU: insn("SILU", BASE, BASE, 64, 16, 16),
    ADD: insn("ADD", BASE, BASE + 32, BASE + 64, 20, 16, 16, 16),
    LAYERNORM: insn("LAYERNORM", BASE, BASE + 32, 19, 0, 16, 16, 42950),
    IM2COL: insn("IM2COL", BASE + 3, BASE + 64, ...encodeWindow({ ...WINDOW, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 0 })),
    MATMUL: insn("MATMUL", BASE, 0, BASE + 200, 40, 2, 3, 20),
    MAXPOOL: insn("MAXPOOL", BASE, BASE + 64, ...encodeWindow(WINDOW)),
    AVGPOOL: insn("AVGPOOL", BASE + 5, BASE + 64, ...encodeWindow({ ...WINDOW, padTop: 1, padLeft: 1, outHeight: 3, outWidth: 3 })),
    AVGPOOL_VALID: insn("AVGPOOL_VALID", BASE, BASE + 64, ...encodeWindow({ ...WINDOW, dilationH: 2, dilationW: 2, outHeight: 1, outWidth: 1 })),
  };
  it.each(OPCODES.filter((o) => o.code !== Opcode.HALT).map((o) => [o.name, o] as const))(
    "%s runs for exactly the steps its table entry declares",
    (name, info) => {
      const instruction = samples[name];
      const states = runInstruction(instruction, new FlatMemory(2 * BASE));
      expect(states.length - 1).toBe(info.steps(instruction.args));
      expect(states.at(-1)).toMatchObject({ pc: 1, i: 0, j: 0, acc: 0n, aux: 0, halted: false });
    },
  );

  it("a program's step count is the sum over its instructions, HALT included", () => {
    const p = program(DEPTH, 70, 96, 4, [samples.DENSE, insn("RELU", BASE + 96, BASE + 96, 3, 16, 16), insn("ARGMAX", BASE + 96, 3, BASE + 99)], true);
    validateProgram(p);
    expect(stepCount(p)).toBe(3 * 3 + 1 + 1 + 1);
  });
});

describe("HALT and traps", () => {
  it("HALT halts without moving pc; a halted state steps to itself", () => {
    const memory = new FlatMemory(2 * BASE);
    const halted = step({ ...INITIAL_STATE, pc: 4, step: 10 }, insn("HALT"), memory);
    expect(halted.state).toMatchObject({ pc: 4, step: 11, halted: true });
    expect(halted.write).toBeUndefined();
    const again = step(halted.state, insn("HALT"), memory);
    expect(again.state).toBe(halted.state);
    expect(again.write).toBeUndefined();
    const other = step(halted.state, insn("RELU", BASE, BASE, 8, 16, 16), memory);
    expect(other.state).toBe(halted.state);
  });

  it("an opcode outside the table traps: the machine halts where it is", () => {
    const r = step({ ...INITIAL_STATE, pc: 2, i: 3 }, { opcode: 0x7f, args: [] }, new FlatMemory(2 * BASE));
    expect(r.state).toMatchObject({ pc: 2, i: 3, halted: true, step: 1 });
    expect(r.write).toBeUndefined();
  });

  it("every step counts: s_k has step = k", () => {
    const { memory, instruction } = denseSetup([[ONE, ONE]], [0], [ONE, ONE]);
    const states = runInstruction(instruction, memory);
    states.forEach((s, k) => expect(s.step).toBe(k));
  });
});

describe("DENSE", () => {
  it("computes a small layer exactly (hand-checked)", () => {
    // y0 = 0.5 + 1.5·2 − 2·3 = −2.5 ; y1 = −1 + 0.25·2 + 0·3 = −0.5
    const { memory, instruction, yAt } = denseSetup([[1.5 * ONE, -2 * ONE], [0.25 * ONE, 0]], [0.5 * ONE, -ONE], [2 * ONE, 3 * ONE]);
    runInstruction(instruction, memory);
    expect(Array.from(memory.words.subarray(yAt, yAt + 2))).toEqual([-2.5 * ONE, -0.5 * ONE]);
  });

  it("walks rows and chunks through (i, j), starting each row from its bias", () => {
    const rand = prng(7);
    const W = [0, 1, 2].map(() => Array.from({ length: 70 }, () => randInt(rand, -ONE, ONE)));
    const x = Array.from({ length: 70 }, () => randInt(rand, -ONE, ONE));
    const b = [ONE, -ONE, 3];
    const { memory, instruction, yAt } = denseSetup(W, b, x);
    const states = runInstruction(instruction, memory);
    expect(states.map((s) => [s.i, s.j])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [2, 2], [0, 0]]);
    let partial = BigInt(b[0]) << 16n;
    for (let t = 0; t < 32; t++) partial += BigInt(W[0][t]) * BigInt(x[t]);
    expect(states[1].acc).toBe(partial);
    expect(Array.from(memory.words.subarray(yAt, yAt + 3))).toEqual(W.map((row, r) => denseRowOracle(row, x, b[r])));
  });

  it("writes one leaf per row, changing only the row's output word", () => {
    const { memory, instruction, yAt } = denseSetup([[ONE], [2 * ONE]], [0, 0], [ONE]);
    memory.words.fill(-7, yAt + 2, yAt + LEAF_WORDS); // neighbours of the outputs in the same leaf
    let s = INITIAL_STATE;
    const r = step(s, instruction, memory);
    expect(r.write?.addr).toBe(yAt);
    expect(Array.from(r.write!.words)).toEqual([ONE, 0, -7, -7, -7, -7, -7, -7]);
    memory.write(r.write!);
    s = r.state;
    expect(Array.from(step(s, instruction, memory).write!.words)).toEqual([ONE, 2 * ONE, -7, -7, -7, -7, -7, -7]);
  });

  it("saturates the output and the accumulator instead of wrapping, and counts each clamp", () => {
    const big = Array.from({ length: 64 }, () => INT32_MAX);
    const { memory, instruction, yAt } = denseSetup([big, big.map(() => INT32_MIN)], [INT32_MAX, INT32_MIN], big);
    const counts: number[] = [];
    let s = INITIAL_STATE;
    const states = [s];
    while (s.pc === 0) {
      const r = step(s, instruction, memory);
      if (r.write) memory.write(r.write);
      counts.push(r.saturated ?? 0);
      states.push((s = r.state));
    }
    expect(states[1].acc).toBe(INT64_MAX); // after the first chunk: 2^47 + 32·(2^31 − 1)^2 > 2^63
    expect(Array.from(memory.words.subarray(yAt, yAt + 2))).toEqual([INT32_MAX, INT32_MIN]);
    // Row 0: both chunk steps clamp the accumulator, and the last also clamps the output; row 1 likewise.
    expect(counts).toEqual([1, 2, 1, 2]);
  });

  it("a row that neither overflows int64 nor its output format counts nothing", () => {
    const { memory, instruction } = denseSetup([[ONE, ONE]], [0], [ONE, ONE]);
    expect(step(INITIAL_STATE, instruction, memory).saturated).toBe(0);
  });

  it("rounds by its shift: the weights' and the output's formats are the compiler's choice", () => {
    // x = 1.5 in Q15.16, w = 0.75 in Q7.24, b = 0.5 in Q21.10: y = 1.625 in Q21.10 (shift = 16 + 24 − 10 = 30)
    const { memory, instruction, yAt } = denseSetup([[0.75 * 2 ** 24]], [0.5 * 1024], [1.5 * ONE], 30);
    runInstruction(instruction, memory);
    expect(memory.words[yAt]).toBe(1.625 * 1024);
    // shift 0: integers in, integers out
    const zero = denseSetup([[3, -2]], [7], [5, 4], 0);
    runInstruction(zero.instruction, zero.memory);
    expect(zero.memory.words[zero.yAt]).toBe(7 + 15 - 8);
  });

  it("matches the BigInt oracle on random layers of every shape up to 3 chunks", () => {
    const rand = prng(42);
    for (let trial = 0; trial < 60; trial++) {
      const inputs = randInt(rand, 1, 96);
      const outputs = randInt(rand, 1, 2);
      const scale = [ONE, 2 ** 24, INT32_MAX][trial % 3];
      const W = Array.from({ length: outputs }, () => Array.from({ length: inputs }, () => randInt(rand, -scale, scale)));
      const x = Array.from({ length: inputs }, () => randInt(rand, -scale, scale));
      const b = Array.from({ length: outputs }, () => randInt(rand, -scale, scale));
      const shift = randInt(rand, 0, 31);
      const { memory, instruction, yAt } = denseSetup(W, b, x, shift);
      runInstruction(instruction, memory);
      expect(Array.from(memory.words.subarray(yAt, yAt + outputs))).toEqual(W.map((row, r) => denseRowOracle(row, x, b[r], shift)));
    }
  });
});

describe("unary elementwise ops", () => {
  const values = [0, 1, -1, ONE, -ONE, INT32_MAX, INT32_MIN, 3 * ONE, -5 * ONE, 12345, -12345];
  it.each([
    ["RELU", relu],
    ["SIGMOID", sigmoid],
    ["TANH", tanh],
  ] as const)("%s in Q15.16 maps each of its n words in place and leaves the rest of the last leaf alone", (name, fn) => {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set(values, BASE);
    memory.words.fill(99, BASE + values.length, BASE + 16);
    const states = runInstruction(insn(name, BASE, BASE, values.length, 16, 16), memory);
    expect(states.length - 1).toBe(2);
    expect(Array.from(memory.words.subarray(BASE, BASE + values.length))).toEqual(values.map(fn));
    expect(Array.from(memory.words.subarray(BASE + values.length, BASE + 16))).toEqual([99, 99, 99, 99, 99]);
  });

  it("to another buffer: reads src then dst, writes dst's leaf, keeps dst's words past n and leaves src alone", () => {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set(values, BASE);
    memory.words.fill(-7, BASE + 64, BASE + 80);
    const reads: number[] = [];
    const reader = { readLeaf: (a: number) => (reads.push(a), memory.readLeaf(a)), readChunk: (a: number) => memory.readChunk(a) };
    const instruction = insn("LEAKY_RELU", BASE, BASE + 64, values.length, 16, 16, ONE / 4);
    const first = step(INITIAL_STATE, instruction, reader);
    expect(reads).toEqual([BASE, BASE + 64]);
    expect(first.write?.addr).toBe(BASE + 64);
    memory.write(first.write!);
    memory.write(step(first.state, instruction, memory).write!);
    const want = values.map((v) => sat32(leakyReluValue(v, 16, 16, ONE / 4)));
    expect(Array.from(memory.words.subarray(BASE + 64, BASE + 64 + values.length))).toEqual(want);
    expect(Array.from(memory.words.subarray(BASE + 64 + values.length, BASE + 80))).toEqual([-7, -7, -7, -7, -7]);
    expect(Array.from(memory.words.subarray(BASE, BASE + values.length))).toEqual(values);
  });

  it("in place reads the leaf once", () => {
    const memory = new FlatMemory(2 * BASE);
    const reads: number[] = [];
    const reader = { readLeaf: (a: number) => (reads.push(a), memory.readLeaf(a)), readChunk: (a: number) => memory.readChunk(a) };
    step(INITIAL_STATE, insn("GELU", BASE, BASE, 8, 16, 16), reader);
    expect(reads).toEqual([BASE]);
  });

  it("converts formats and counts the words it clamps", () => {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set([200 * ONE, -200 * ONE, ONE, 5], BASE);
    // RELU from Q15.16 to Q7.24 (±128): 200 clamps, −200 becomes 0, 1.0 and 5 ulps convert exactly
    const r = step(INITIAL_STATE, insn("RELU", BASE, BASE, 4, 16, 24), memory);
    expect(Array.from(r.write!.words.subarray(0, 4))).toEqual([INT32_MAX, 0, 1 << 24, 5 << 8]);
    expect(r.saturated).toBe(1);
    const g = step(INITIAL_STATE, insn("GELU", BASE, BASE, 4, 16, 24), memory);
    expect(g.saturated).toBe(1);
    expect(g.write!.words[2]).toBe(sat32(geluValue(ONE, 16, 24)));
  });

  it("reads its signed parameters as int32: a CLIP to [−1, 1] (Hardtanh)", () => {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set([-3 * ONE, -ONE / 2, 2 * ONE], BASE);
    runInstruction(insn("CLIP", BASE, BASE, 3, 16, 16, -ONE >>> 0, ONE), memory);
    expect(Array.from(memory.words.subarray(BASE, BASE + 3))).toEqual([-ONE, -ONE / 2, ONE]);
  });
});

describe("ADD", () => {
  const a = [ONE, -ONE, INT32_MAX, 7, 0, 1, 2, 3, 4, 5];
  const b = [ONE, ONE, INT32_MAX, -7, 1, 1, 1, 1, 1, 1];
  function setup() {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set(a, BASE);
    memory.words.set(b, BASE + 32);
    return memory;
  }
  const sum = (fout = 16) => a.map((x, k) => sat32(addValue(x, b[k], 16, 16, fout)));

  it("adds two buffers into a third, reading a, b, then dst, and counts what it clamps", () => {
    const memory = setup();
    const reads: number[] = [];
    const reader = { readLeaf: (x: number) => (reads.push(x), memory.readLeaf(x)), readChunk: (x: number) => memory.readChunk(x) };
    const r = step(INITIAL_STATE, insn("ADD", BASE, BASE + 32, BASE + 64, a.length, 16, 16, 16), reader);
    expect(reads).toEqual([BASE, BASE + 32, BASE + 64]);
    expect(r.saturated).toBe(1); // INT32_MAX + INT32_MAX
    memory.write(r.write!);
    memory.write(step(r.state, insn("ADD", BASE, BASE + 32, BASE + 64, a.length, 16, 16, 16), memory).write!);
    expect(Array.from(memory.words.subarray(BASE + 64, BASE + 64 + a.length))).toEqual(sum());
    expect(sum()[0]).toBe(2 * ONE);
  });

  it.each([
    ["a", 0],
    ["b", 32],
  ])("into its operand %s: two reads, no third", (_, at) => {
    const memory = setup();
    const reads: number[] = [];
    const reader = { readLeaf: (x: number) => (reads.push(x), memory.readLeaf(x)), readChunk: (x: number) => memory.readChunk(x) };
    const instruction = insn("ADD", BASE, BASE + 32, BASE + at, a.length, 16, 16, 16);
    const r = step(INITIAL_STATE, instruction, reader);
    expect(reads).toEqual([BASE, BASE + 32]);
    memory.write(r.write!);
    memory.write(step(r.state, instruction, memory).write!);
    expect(Array.from(memory.words.subarray(BASE + at, BASE + at + a.length))).toEqual(sum());
  });

  it("adds operands of different formats", () => {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set([3 << 24], BASE); // 3.0 in Q7.24
    memory.words.set([1 << 8], BASE + 32); // 1.0 in Q23.8
    runInstruction(insn("ADD", BASE, BASE + 32, BASE + 64, 1, 24, 8, 10), memory);
    expect(memory.words[BASE + 64]).toBe(4 << 10);
  });
});

describe("ARGMAX", () => {
  function argmax(values: number[], dstOffset = 40): number {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set(values, BASE);
    runInstruction(insn("ARGMAX", BASE, values.length, BASE + dstOffset), memory);
    return memory.words[BASE + dstOffset];
  }

  it.each([
    ["a single value", [5], 0],
    ["ties go to the lowest index", [3, 7, 7, 1], 1],
    ["all equal", [2, 2, 2, 2, 2, 2, 2, 2, 2], 0],
    ["all negative", [-9, -3, -4], 1],
    ["extremes", [INT32_MIN, INT32_MAX, INT32_MAX], 1],
    ["the maximum in a later leaf", [1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 11], 9],
    ["a tie across leaves", [0, 0, 0, 0, 0, 0, 0, 50, 0, 50], 7],
  ])("%s", (_, values, expected) => expect(argmax(values)).toBe(expected));

  it("can store its result in the same leaf it reads (the word after a classifier's logits)", () => {
    expect(argmax([1, 2, 3, 9, 4], 5)).toBe(3);
  });

  it("carries the best value and index between leaves in acc and aux", () => {
    const memory = new FlatMemory(2 * BASE);
    memory.words.set([1, 2, 3, 4, 5, 6, 7, -8, 0, 0], BASE);
    const states = runInstruction(insn("ARGMAX", BASE, 10, BASE + 40), memory);
    expect(states[1]).toMatchObject({ i: 1, acc: 7n, aux: 6 });
  });
});

describe("program validation", () => {
  const valid = (): Program => program(DEPTH, 8, 32, 1, [insn("DENSE", BASE, BASE - 32, 64, BASE + 32, 8, 1, 16)]);
  it.each([
    ["a program that does not end with HALT", (p: Program) => ({ ...p, instructions: p.instructions.slice(0, -1) }), /end with HALT/],
    ["a HALT in the middle", (p: Program) => ({ ...p, instructions: [insn("HALT"), ...p.instructions] }), /HALT may only be the last/],
    ["an unaligned chunk read", (p: Program) => ({ ...p, instructions: [insn("DENSE", BASE + 8, 0, 64, BASE + 32, 8, 1, 16), insn("HALT")] }), /not aligned to 32/],
    ["weights past the end of memory", (p: Program) => ({ ...p, instructions: [insn("DENSE", BASE, 2 * BASE, 64, BASE + 32, 8, 1, 16), insn("HALT")] }), /outside memory/],
    ["an output in the model region", (p: Program) => ({ ...p, instructions: [insn("DENSE", BASE, 0, 64, 100, 8, 1, 16), insn("HALT")] }), /outside the data region/],
    ["an empty activation", (p: Program) => ({ ...p, instructions: [insn("RELU", BASE, BASE, 0, 16, 16), insn("HALT")] }), /at least 1/],
    ["a memory depth of 0", (p: Program) => ({ ...p, memoryDepth: 0 }), /memory depth/],
    ["an operand that is not a u32", (p: Program) => ({ ...p, instructions: [insn("RELU", BASE, BASE, 2 ** 32, 16, 16), insn("HALT")] }), /not a u32/],
    ["a format past 24 fraction bits", (p: Program) => ({ ...p, instructions: [insn("RELU", BASE, BASE, 8, 16, 25), insn("HALT")] }), /fout = 25 is outside \[0, 24\]/],
    ["a DENSE shift past 31", (p: Program) => ({ ...p, instructions: [insn("DENSE", BASE, BASE - 32, 64, BASE + 32, 8, 1, 32), insn("HALT")] }), /shift = 32/],
    ["a CLIP whose lo is above hi", (p: Program) => ({ ...p, instructions: [insn("CLIP", BASE, BASE, 8, 16, 16, ONE, 0), insn("HALT")] }), /lo = 65536 is above hi = 0/],
    ["a unary op writing into the model region", (p: Program) => ({ ...p, instructions: [insn("SILU", BASE, 0, 8, 16, 16), insn("HALT")] }), /dst .* outside the data region/],
    ["an ADD reading an unaligned leaf", (p: Program) => ({ ...p, instructions: [insn("ADD", BASE + 4, BASE, BASE, 8, 16, 16, 16), insn("HALT")] }), /a address .* not aligned to 8/],
    ["an input format past 24", (p: Program) => ({ ...p, inputFrac: 30 }), /input format 30/],
  ])("rejects %s", (_, mutate, message) => {
    expect(() => validateProgram(valid())).not.toThrow();
    expect(() => validateProgram(mutate(valid()))).toThrow(message);
  });
});

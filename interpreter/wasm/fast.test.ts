/**
 * The kernel's fast path (assembly/fast.ts: whole instructions for plain runs) against its step path and the
 * TypeScript interpreter: the same memory, final registers, step count and saturation counts, on random programs
 * over every opcode (wild ones that saturate everywhere, tame ones whose DENSE/MATMUL rows pass the no-clamp bound),
 * on a LeNet-5-shaped program with random weights, at the bound's exact edge, and when a step limit stops a run
 * inside an instruction.
 */
import { describe, expect, it } from "vitest";
import { INT32_MAX, INT32_MIN } from "../../vm/fixed.js";
import { dataBase } from "../../vm/memory.js";
import { Opcode, opcodeInfo } from "../../vm/opcodes.js";
import { dataExtent, stepCount, validateProgram } from "../../vm/program.js";
import { insn } from "../../test/helpers/bytecode.js";
import { type Executable, run } from "../run.js";
import { lenet5, mnistInput } from "../../test/helpers/models.js";
import { lenetProgram } from "./lenet-program.js";
import { WasmMachine } from "./machine.js";
import { BODY_OPCODES, WINDOW_OPCODES, randomProgram } from "./random-programs.js";

const PLAN_STEP = 0;
const PLAN_WHOLE = 1;
const PLAN_BLOCKED = 2;

/** Everything a plain run leaves: the data region, the registers, the saturation counts. */
function after(m: WasmMachine): { data: number[]; registers: unknown; saturations: unknown } {
  const { program } = m.model;
  return { data: Array.from(m.words(dataBase(program.memoryDepth), dataExtent(program))), registers: m.registers(), saturations: m.saturations() };
}

/** Runs `input` on the fast and the stepping machine and on interpreter/run.ts; expects all three to agree. */
function agree(fast: WasmMachine, stepped: WasmMachine, model: Executable, input: Int32Array): void {
  const output = fast.run(input);
  expect(Array.from(stepped.run(input))).toEqual(Array.from(output));
  const a = after(fast);
  expect(a).toEqual(after(stepped));
  const reference = run(model, input);
  expect(a.registers).toEqual(reference.state);
  expect(a.saturations).toEqual(reference.saturations);
  const base = dataBase(model.program.memoryDepth);
  expect(a.data).toEqual(Array.from(reference.memory.words.subarray(base, base + dataExtent(model.program))));
}

describe("the fast path ≡ the step path ≡ interpreter/run.ts", () => {
  const WINDOW_MIX = [...WINDOW_OPCODES, ...WINDOW_OPCODES, ...BODY_OPCODES];
  const suites = [
    ["wild programs over every opcode", (seed: number) => randomProgram(seed, { opcodes: WINDOW_MIX, depths: [9, 10], count: [2, 8] })],
    ["tame programs over every opcode", (seed: number) => randomProgram(seed, { opcodes: WINDOW_MIX, depths: [9, 10], count: [2, 8], tame: true })],
  ] as const;

  it.each(suites)("%s: 150 programs × 3 inputs, every instruction planned whole where it can be", (_, draw) => {
    const plans = new Map<string, number>();
    let wholeSaturations = 0;
    for (let seed = 0; seed < 150; seed++) {
      const { model, inputs } = draw(9000 + seed);
      const fast = new WasmMachine(model);
      const stepped = new WasmMachine(model, { fastPath: false });
      const plan = fast.fastPlans();
      model.program.instructions.forEach((i, pc) => plans.set(`${i.opcode}:${plan[pc]}`, (plans.get(`${i.opcode}:${plan[pc]}`) ?? 0) + 1));
      for (const input of inputs) {
        agree(fast, stepped, model, input);
        for (const { pc } of fast.saturations()) if (plan[pc] !== PLAN_STEP) wholeSaturations++;
      }
    }
    const count = (opcode: number, plan: number) => plans.get(`${opcode}:${plan}`) ?? 0;
    // the ops that always run whole did; convolutions ran whole, in blocks of four pixels and not
    for (const op of [Opcode.RELU, Opcode.ADD, Opcode.ARGMAX, Opcode.MAXPOOL, Opcode.AVGPOOL, Opcode.AVGPOOL_VALID]) expect(count(op, PLAN_WHOLE), `opcode ${op}`).toBeGreaterThan(10);
    expect(count(Opcode.IM2COL, PLAN_WHOLE)).toBeGreaterThan(20);
    expect(count(Opcode.LAYERNORM, PLAN_WHOLE) + count(Opcode.HALT, PLAN_WHOLE)).toBe(0);
    expect(wholeSaturations).toBeGreaterThan(20); // whole instructions count their int32 clamps too
    if (_ === "tame programs over every opcode") {
      expect(count(Opcode.MATMUL, PLAN_BLOCKED)).toBeGreaterThan(20);
      expect(count(Opcode.MATMUL, PLAN_WHOLE) + count(Opcode.DENSE, PLAN_WHOLE)).toBeGreaterThan(10);
    } else {
      expect(count(Opcode.MATMUL, PLAN_STEP) + count(Opcode.DENSE, PLAN_STEP)).toBeGreaterThan(50); // rows that may clamp: stepped
    }
  });

  it("a LeNet-5-shaped program with random weights: every instruction but HALT whole, both convolutions in blocks", () => {
    const { model, inputs } = lenetProgram(7, 3);
    const fast = new WasmMachine(model);
    const stepped = new WasmMachine(model, { fastPath: false });
    const plans = fast.fastPlans();
    model.program.instructions.forEach((i, pc) => {
      const expected = i.opcode === Opcode.HALT ? PLAN_STEP : i.opcode === Opcode.MATMUL ? PLAN_BLOCKED : PLAN_WHOLE;
      expect(plans[pc], `pc ${pc}`).toBe(expected);
    });
    expect(stepCount(model.program)).toBeGreaterThan(29_000);
    for (const input of inputs) agree(fast, stepped, model, input);
    // and with inputs that push the convolutions past int32 (large pixels): the rows' clamps are counted alike
    const loud = inputs[0].map((v) => (v === 0 ? 0 : INT32_MAX - v));
    agree(fast, stepped, model, loud);
    expect(fast.saturations().length).toBeGreaterThan(0);
  });
});

describe("the compiled LeNet-5 (fixtures, compiler/): the weight formats the compiler picks pass the bound", () => {
  it("every instruction but HALT runs whole, convolutions in blocks, and 4 digits agree with the steps and run.ts", () => {
    const model = lenet5();
    const fast = new WasmMachine(model);
    const stepped = new WasmMachine(model, { fastPath: false });
    fast.fastPlans().forEach((plan, pc) => {
      const { opcode } = model.program.instructions[pc];
      expect(plan, `pc ${pc}`).toBe(opcode === Opcode.HALT ? PLAN_STEP : opcode === Opcode.MATMUL ? PLAN_BLOCKED : PLAN_WHOLE);
    });
    for (let k = 0; k < 4; k++) agree(fast, stepped, model, mnistInput(8100 + k, model));
  });
});

describe("the no-clamp bound at its edge: |bias|·2^shift + Σ|W|·2^31 < 2^63 − 2^31", () => {
  const DEPTH = 4; // model region [0, 64), data region [64, 128)
  const dense = (weights: number[], bias: number, shift: number): Executable => {
    const image = new Int32Array(64);
    image.set(weights, 0); // one row, padded to 32 words
    image[32] = bias;
    return {
      program: validateProgram({
        memoryDepth: DEPTH, flags: 0, inputLength: 2, outputAddress: 96, outputLength: 1, inputFrac: 16, outputFrac: 16,
        instructions: [insn("DENSE", 64, 0, 32, 96, 2, 1, shift), insn("HALT")],
      }),
      image,
    };
  };
  const cases: [string, number[], number, number, number][] = [
    // [what, W, bias, shift, plan]: whole below 2^63 − 2^31 (the int64 range less storeRow's rounding margin)
    ["Σ|W| = 2^32 − 2, no bias: 2^63 − 2^32", [INT32_MIN + 1, INT32_MAX], 0, 0, PLAN_WHOLE],
    ["Σ|W| = 2^32 − 1, no bias: 2^63 − 2^31, the edge", [INT32_MIN, INT32_MAX], 0, 0, PLAN_STEP],
    ["Σ|W| = 2^32: reaches 2^63", [INT32_MIN, INT32_MIN], 0, 0, PLAN_STEP],
    ["Σ|W| = 2^32 − 2 and bias 1 at shift 31: 2^63 − 2^32 + 2^31, past the edge", [INT32_MIN + 1, INT32_MAX], 1, 31, PLAN_STEP],
    ["Σ|W| = 2^31, bias −2^31 at shift 31: 2^62 + 2^62 = 2^63", [INT32_MIN, 0], INT32_MIN, 31, PLAN_STEP],
    ["Σ|W| = 2^31 − 2, bias −2^31 at shift 31: 2^63 − 2^32", [INT32_MAX - 1, 0], INT32_MIN, 31, PLAN_WHOLE],
    ["Σ|W| = 2^31 − 2, bias 2^31 − 1 at shift 30: 2^61 − 2^30 + 2^62 − 2^32", [INT32_MAX - 1, 0], INT32_MAX, 30, PLAN_WHOLE],
  ];
  const inputs = [
    [INT32_MIN, INT32_MIN], [INT32_MIN, INT32_MAX], [INT32_MAX, INT32_MAX], [INT32_MAX, INT32_MIN], [1, -1], [-1, 0], [0, 0],
  ].map((x) => Int32Array.from(x));

  it.each(cases)("%s", (_, weights, bias, shift, plan) => {
    const model = dense(weights, bias, shift);
    const fast = new WasmMachine(model);
    expect(fast.fastPlans()[0]).toBe(plan);
    const stepped = new WasmMachine(model, { fastPath: false });
    for (const input of inputs) agree(fast, stepped, model, input);
  });

  it("the stepped edge rows do clamp at int64's ends for some input (so the bound is not loose there)", () => {
    const model = dense([INT32_MIN, INT32_MIN], 0, 0);
    // (−2^31)·(−2^31)·2 = 2^63: the accumulate clamps to 2^63 − 1, one saturation, then the int32 clamp, another
    expect(run(model, Int32Array.from([INT32_MIN, INT32_MIN])).saturations).toEqual([{ pc: 0, count: 2 }]);
  });
});

describe("a step limit inside an instruction", () => {
  it("runFast(limit) leaves what runSteps(limit) leaves, for limits at and around every instruction's end", () => {
    const { model, inputs } = lenetProgram(3, 1);
    const ends: number[] = [];
    const fast = new WasmMachine(model);
    const k = fast.raw as unknown as { resetMachine(): void; runFast(n: bigint): bigint; runSteps(n: bigint): bigint };
    let total = 0;
    for (const i of model.program.instructions) {
      total += opcodeInfo(i.opcode)!.steps(i.args);
      ends.push(total);
    }
    const base = dataBase(model.program.memoryDepth);
    const state = (limit: number, fastRun: boolean) => {
      k.resetMachine();
      fast.words(base, inputs[0].length).set(inputs[0]);
      if (fastRun) k.runFast(BigInt(limit));
      else k.runSteps(BigInt(limit));
      return { registers: fast.registers(), data: Array.from(fast.words(base, dataExtent(model.program))) };
    };
    const limits = [0, 1, ...ends.flatMap((e) => [e - 1, e, e + 1])].filter((l) => l >= 0 && l <= total + 1);
    for (const limit of limits) {
      const a = state(limit, true);
      const b = state(limit, false);
      expect(a.registers, `limit ${limit}`).toEqual(b.registers);
      expect(a.data.join() === b.data.join(), `limit ${limit}`).toBe(true);
    }
  });
});

import { describe, expect, it } from "vitest";
import { compileGraph } from "../compiler/compile.js";
import { type RandomStep, STEP_KINDS, randomStepWitnesses } from "../test/helpers/random-steps.js";
import { mnist, mnistInput, randomGraph, randomInput } from "../test/helpers/models.js";
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN } from "../vm/fixed.js";
import { toHex } from "../vm/hash.js";
import { LEAF_WORDS, MemoryBoundsError } from "../vm/memory.js";
import { verifyStep } from "../vm/onestep.js";
import { Opcode, isUnary, opcodeInfo } from "../vm/opcodes.js";
import { type Instruction, MAX_OPERANDS, validateProgram } from "../vm/program.js";
import { INITIAL_STATE, type State, decodeState } from "../vm/state.js";
import { type StepResult, step } from "../vm/step.js";
import { type StepWitness, WitnessError, witnessToJson } from "../vm/witness.js";
import { type Executable, initialMemory } from "./run.js";
import { WasmMachine } from "./wasm/machine.js";
import { MemoryTree, referenceWitness } from "./witness-reference.js";

/** The whole memory and the state after `k` steps of a plain run (vm/step.ts over a flat array). */
function runTo(model: Executable, input: Int32Array, k: number): { words: Int32Array; state: State } {
  const memory = initialMemory(model, input);
  let state = INITIAL_STATE;
  for (let t = 0; t < k && !state.halted; t++) {
    const result = step(state, model.program.instructions[state.pc], memory);
    if (result.write) memory.write(result.write);
    state = result.state;
  }
  return { words: memory.words, state };
}

const json = (w: StepWitness) => witnessToJson(w);

describe("reference witnesses agree with Trace.witness on real traces", () => {
  const small = compileGraph(randomGraph(11, [37, 19, 3], ["tanh", "sigmoid"]));

  it("every step of a small model with tanh and sigmoid, through the halted padding", () => {
    const input = randomInput(5, 37, 4);
    const trace = new WasmMachine(small, { checkpointInterval: 7 }).trace(input);
    const tree = new MemoryTree(small.program, initialMemory(small, input).words);
    const opcodes = new Set<number>();
    let state = INITIAL_STATE;
    for (let k = 0; k < 2 ** trace.depth - 1; k++) {
      expect(toHex(tree.stateHash(state))).toBe(toHex(trace.stateHash(k)));
      const ours = tree.witness(state, k);
      expect(json(ours)).toEqual(json(trace.witness(k)));
      expect(toHex(verifyStep(trace.stateHash(k), ours))).toBe(toHex(trace.stateHash(k + 1)));
      if (!state.halted) opcodes.add(small.program.instructions[state.pc].opcode);
      state = tree.apply(state);
    }
    expect(trace.steps).toBeLessThan(2 ** trace.depth - 1); // the loop went past sN
    expect([...opcodes].sort()).toEqual([Opcode.HALT, Opcode.DENSE, Opcode.SIGMOID, Opcode.TANH, Opcode.ARGMAX].sort());
  });

  it("one-shot referenceWitness over the memory of a plain run, at steps of every kind", () => {
    const input = randomInput(6, 37, 4);
    const trace = new WasmMachine(small).trace(input);
    for (let k = 0; k <= trace.steps; k += 3) {
      const { words, state } = runTo(small, input, k);
      expect(json(referenceWitness(small.program, words, state))).toEqual(json(trace.witness(k)));
    }
  });

  it("MNIST steps of every kind (tree walked through the whole run, and one-shot)", () => {
    const model = mnist();
    const input = mnistInput(8000);
    const trace = new WasmMachine(model).trace(input);
    // DENSE 0–3199 (128 rows × 25 chunks), RELU 3200–3215, DENSE 3216–3471, RELU 3472–3479, DENSE 3480–3499,
    // ARGMAX 3500–3501, HALT 3502, halted 3503 …
    const at = new Set([0, 1, 23, 24, 25, 3199, 3200, 3215, 3216, 3471, 3472, 3479, 3480, 3499, 3500, 3501, 3502, 3503, 4094]);
    const tree = new MemoryTree(model.program, initialMemory(model, input).words);
    let state = INITIAL_STATE;
    const seen = new Set<string>();
    for (let k = 0; k <= 4094; k++) {
      if (at.has(k)) {
        const ours = tree.witness(state, k);
        expect(json(ours)).toEqual(json(trace.witness(k)));
        seen.add(state.halted ? "halted" : String(model.program.instructions[state.pc].opcode));
      }
      state = tree.apply(state);
    }
    expect(seen).toEqual(new Set([Opcode.DENSE, Opcode.RELU, Opcode.ARGMAX, Opcode.HALT].map(String).concat("halted")));
    for (const k of [24, 3216, 3501]) {
      const { words, state: s } = runTo(model, input, k);
      expect(json(referenceWitness(model.program, words, s))).toEqual(json(trace.witness(k)));
    }
  });
});

describe("MemoryTree", () => {
  const program = validateProgram({
    memoryDepth: 4,
    flags: 0,
    inputLength: 8,
    outputAddress: 64,
    outputLength: 8,
    inputFrac: 16,
    outputFrac: 16,
    instructions: [{ opcode: Opcode.RELU, args: [64, 64, 8, 16, 16] }, { opcode: Opcode.HALT, args: [] }],
  });
  const words = Int32Array.from({ length: 128 }, (_, k) => (k % 3) - 1);

  it("rejects a memory of the wrong size", () => {
    expect(() => new MemoryTree(program, new Int32Array(64))).toThrow(/a memory of depth 4 is 128 words, got 64/);
  });

  it("a pc past the program is the tree's HALT padding; past the tree, no witness", () => {
    const three = { ...program, instructions: [program.instructions[0], { opcode: Opcode.RELU, args: [72, 3] }, { opcode: Opcode.HALT, args: [] }] };
    const tree = new MemoryTree(three, words);
    const state = { ...INITIAL_STATE, pc: 3, step: 9 };
    const w = tree.witness(state);
    expect(Array.from(w.instruction)).toEqual(Array(32).fill(0));
    expect(w.reads).toHaveLength(0);
    expect(toHex(verifyStep(tree.stateHash(state), w))).toBe(toHex(tree.stateHash({ ...state, step: 10, halted: true })));
    expect(() => tree.witness({ ...state, pc: 4 })).toThrow(RangeError);
  });

  it("a step whose read falls outside memory has no witness", () => {
    const tree = new MemoryTree(program, words);
    expect(() => tree.witness({ ...INITIAL_STATE, i: 16 })).toThrow(MemoryBoundsError);
  });

  it("apply() keeps the tree's root equal to a fresh tree's over the written words", () => {
    const original = words.slice();
    const tree = new MemoryTree(program, words);
    const before = toHex(tree.root);
    const next = tree.apply(INITIAL_STATE);
    expect(next).toEqual({ ...INITIAL_STATE, step: 1, pc: 1 });
    expect(toHex(tree.root)).not.toBe(before);
    expect(toHex(tree.root)).toBe(toHex(new MemoryTree(program, tree.words).root));
    expect(Array.from(tree.words.subarray(64, 72))).toEqual(Array.from(original.subarray(64, 72), (x) => Math.max(x, 0)));
    expect(words).toEqual(original); // the caller's words are not touched
  });

  it("writes past the stored (non-zero) prefix of a sparse memory", () => {
    const sparse = new Int32Array(128);
    sparse[3] = 5;
    const tree = new MemoryTree(program, sparse);
    tree.write({ addr: 120, words: Int32Array.from({ length: LEAF_WORDS }, (_, t) => t + 1) });
    expect(toHex(tree.root)).toBe(toHex(new MemoryTree(program, tree.words).root));
  });
});

const fail = (): never => {
  throw new Error("a halted state reads nothing");
};

/** Replays a witness's step with its reads (already checked by verifyStep): the result, for coverage checks. */
function replay({ witness, state }: RandomStep): { insn: Instruction; result: StepResult } {
  if (witness.instruction.length === 0) return { insn: { opcode: Opcode.HALT, args: [] }, result: step(state, { opcode: Opcode.HALT, args: [] }, { readLeaf: fail, readChunk: fail }) };
  const view = new DataView(witness.instruction.buffer, witness.instruction.byteOffset, 32);
  const insn = { opcode: view.getUint8(0), args: Array.from({ length: MAX_OPERANDS }, (_, k) => view.getUint32(4 + 4 * k, false)) };
  let next = 0;
  const serve = () => witness.reads[next++].words;
  return { insn, result: step(state, insn, { readLeaf: serve, readChunk: serve }) };
}

describe("randomized step witnesses", () => {
  const COUNT = 500;

  it.each(STEP_KINDS.map((k) => [k.name, k.kind] as const))("%s: every witness verifies to its post-state hash", (name, kind) => {
    const steps = randomStepWitnesses(kind, COUNT, 2024);
    expect(steps).toHaveLength(COUNT);
    for (const s of steps) {
      expect(toHex(verifyStep(s.preStateHash, s.witness))).toBe(toHex(s.witness.postStateHash));
      expect(decodeState(s.witness.preState).state).toEqual(s.state);
    }
    const count = (p: (s: RandomStep, r: ReturnType<typeof replay>) => boolean) => steps.filter((s) => p(s, replay(s))).length;
    const some = (what: string, p: Parameters<typeof count>[0]) => expect(count(p), `${name}: ${what}`).toBeGreaterThan(0);
    const all = (what: string, p: Parameters<typeof count>[0]) => expect(count(p), `${name}: ${what}`).toBe(COUNT);

    some("a step counter above 2^32", (s) => s.state.step > 2 ** 32);
    some("several memory depths", (s) => s.program.memoryDepth === 6);
    some("several memory depths", (s) => s.program.memoryDepth === 8);
    if (kind !== "halted") some("an instruction proof of 2+ levels", (s) => s.witness.instructionProof.length >= 2);
    switch (kind) {
      case Opcode.DENSE: {
        const rowEnd = (s: RandomStep) => s.state.j === Math.ceil(s.program.instructions[s.state.pc].args[4] / 32) - 1;
        all("the instruction is DENSE", (_, r) => r.insn.opcode === Opcode.DENSE);
        some("a row's first chunk (bias read)", (s) => s.state.j === 0 && s.witness.reads.length >= 3);
        some("a mid-row chunk (no write)", (s) => s.witness.reads.length === 2);
        some("a row end (write)", (_, r) => r.result.write !== undefined);
        some("a single-chunk row (bias and output)", (s) => s.witness.reads.length === 4);
        some("a partial last chunk", (s) => rowEnd(s) && s.program.instructions[s.state.pc].args[4] % 32 !== 0);
        some("a full last chunk", (s) => rowEnd(s) && s.program.instructions[s.state.pc].args[4] % 32 === 0);
        some("the last row (next instruction)", (s, r) => r.result.state.pc === s.state.pc + 1);
        some("an accumulator near ±2^63", (s) => s.state.acc > INT64_MAX / 2n || s.state.acc < INT64_MIN / 2n);
        some("a saturated accumulator", (_, r) => r.result.state.acc === INT64_MAX || r.result.state.acc === INT64_MIN);
        some("a saturated output", (s, r) => {
          const out = s.program.instructions[s.state.pc].args[3] + s.state.i;
          const w = r.result.write;
          return w !== undefined && [INT32_MAX, INT32_MIN].includes(w.words[out - w.addr]);
        });
        some("extreme words read", (s) => s.witness.reads.some((rd) => rd.words.includes(INT32_MIN)));
        break;
      }
      case Opcode.ADD:
        all("reads a, b (and dst unless it is one of them) and writes dst", (s, r) => {
          const [a, b, dst] = s.program.instructions[s.state.pc].args.map((v) => v + s.state.i * 8);
          const expected = dst === a || dst === b ? [a, b] : [a, b, dst];
          return JSON.stringify(s.witness.reads.map((x) => x.address)) === JSON.stringify(expected) && r.result.write?.addr === dst;
        });
        some("into a", (s) => s.program.instructions[s.state.pc].args[2] === s.program.instructions[s.state.pc].args[0]);
        some("into a third buffer", (s) => s.witness.reads.length === 3);
        break;
      case Opcode.LAYERNORM:
        some("the sum pass (one read, no write)", (s, r) => s.state.j === 0 && s.witness.reads.length === 1 && !r.result.write);
        some("the variance pass", (s) => s.state.j === 1);
        some("the output pass (src, gamma, beta, dst unless in place; a write)", (s, r) => s.state.j === 2 && s.witness.reads.length >= 3 && r.result.write !== undefined);
        break;
      default:
        if (!isUnary(kind as number)) break;
        all("reads src (then dst unless in place) and writes dst", (s, r) => {
          const [src, dst] = s.program.instructions[s.state.pc].args.map((v) => v + s.state.i * 8);
          const expected = src === dst ? [src] : [src, dst];
          return JSON.stringify(s.witness.reads.map((x) => x.address)) === JSON.stringify(expected) && r.result.write?.addr === dst;
        });
        some("in place", (s) => s.witness.reads.length === 1);
        some("to another buffer", (s) => s.witness.reads.length === 2);
        some("a partial last leaf", (s) => s.program.instructions[s.state.pc].args[2] - s.state.i * 8 < 8);
        some("a leaf before the last", (_, r) => r.result.state.i > 0);
        some("the last leaf (next instruction)", (s, r) => r.result.state.pc === s.state.pc + 1);
        some("extreme words", (s) => s.witness.reads[0].words.includes(INT32_MAX));
        break;
      case Opcode.ARGMAX:
        some("mid-scan", (_, r) => r.result.write === undefined);
        some("the last leaf (stores the index)", (_, r) => r.result.write !== undefined);
        some("a best value carried from earlier leaves", (s) => s.state.i > 0 && s.state.acc !== 0n);
        some("the best stays the carried one", (s, r) => s.state.i > 0 && r.result.write === undefined && r.result.state.aux === s.state.aux);
        break;
      case Opcode.HALT:
        all("halts", (s, r) => r.result.state.halted && r.result.state.step === s.state.step + 1);
        some("a pc in the program tree's padding", (s) => s.state.pc >= s.program.instructions.length);
        break;
      case "unknown":
        all("an opcode outside the table", (_, r) => opcodeInfo(r.insn.opcode) === undefined);
        for (const st of steps) expect(replay(st).result).toEqual({ state: { ...st.state, step: st.state.step + 1, halted: true }, write: undefined });
        break;
      case "halted":
        all("steps to itself", (s) => toHex(s.witness.postStateHash) === toHex(s.preStateHash) && s.witness.reads.length === 0);
        break;
    }
  });

  it("are reproducible from the seed", () => {
    const a = randomStepWitnesses(Opcode.DENSE, 30, 7).map((s) => json(s.witness));
    expect(randomStepWitnesses(Opcode.DENSE, 30, 7).map((s) => json(s.witness))).toEqual(a);
    expect(randomStepWitnesses(Opcode.DENSE, 30, 8).map((s) => json(s.witness))).not.toEqual(a);
  });

  it("a tampered witness is rejected", () => {
    const [s] = randomStepWitnesses(Opcode.DENSE, 1, 3);
    const words = s.witness.reads[0].words.slice();
    words[0] ^= 1;
    const tampered = { ...s.witness, reads: [{ ...s.witness.reads[0], words }, ...s.witness.reads.slice(1)] };
    expect(() => verifyStep(s.preStateHash, tampered)).toThrow(WitnessError);
  });
});

import { keccak_256 } from "@noble/hashes/sha3.js";
import { MerkleTree } from "merkletreejs";
import { describe, expect, it } from "vitest";
import { compileGraph } from "../../compiler/compile.js";
import { mnist, mnistInput, randomGraph, randomInput } from "../../test/helpers/models.js";
import { TAG, toHex } from "../../vm/hash.js";
import { FlatMemory, LEAF_WORDS, type MemoryReader, dataBase } from "../../vm/memory.js";
import { emptySubtrees, merkleRoot, rootFromProof } from "../../vm/merkle.js";
import { Opcode, isUnary } from "../../vm/opcodes.js";
import { dataExtent } from "../../vm/program.js";
import { INITIAL_STATE } from "../../vm/state.js";
import { step } from "../../vm/step.js";
import { verifyStep } from "../../vm/onestep.js";
import { decodeState } from "../../vm/state.js";
import { witnessFromJson, witnessToJson } from "../../vm/witness.js";
import { type Executable, initialMemory, run } from "../run.js";
import { referenceTrace } from "../trace-reference.js";
import { StaleTraceError, UnsupportedOpcodeError, WasmMachine } from "./machine.js";
import { BODY_OPCODES, WINDOW_OPCODES, randomProgram as randomProgramOf } from "./random-programs.js";

const model = mnist();
const machine = new WasmMachine(model);

const shapes: [string, number[], ("relu" | "sigmoid" | "tanh" | null)[]][] = [
  ["tanh/sigmoid, ragged sizes", [37, 19, 3], ["tanh", "sigmoid"]],
  ["a single output", [70, 5, 1], ["relu", "sigmoid"]],
  ["wide", [300, 65, 10], ["relu", null]],
  ["one input", [1, 8, 2], ["sigmoid", null]],
];

describe("WASM plain runs agree with the reference interpreter", () => {
  it("on 250 MNIST digits", () => {
    for (let k = 0; k < 250; k++) {
      const input = mnistInput(8000 + k);
      expect(Array.from(machine.run(input))).toEqual(Array.from(run(model, input).output));
    }
  });

  it.each(shapes)("on random models: %s", (_, sizes, activations) => {
    const random = compileGraph(randomGraph(sizes.length, sizes, activations));
    const m = new WasmMachine(random);
    for (let seed = 0; seed < 20; seed++) {
      const input = randomInput(seed, sizes[0], 4);
      expect(Array.from(m.run(input))).toEqual(Array.from(run(random, input).output));
    }
  });

  it("rejects a wrong input length like the reference", () => {
    expect(() => machine.run(new Int32Array(10))).toThrow(/input has 10 words, the model takes 784/);
  });
});

describe("traced runs", () => {
  it.each(shapes)("every state hash equals the reference's: %s", (_, sizes, activations) => {
    const random = compileGraph(randomGraph(sizes.length + 100, sizes, activations));
    const m = new WasmMachine(random, { checkpointInterval: 5 });
    const input = randomInput(3, sizes[0], 4);
    const trace = m.trace(input);
    const expected = referenceTrace(random, input);
    expect(trace.steps).toBe(expected.length - 1);
    expected.forEach((h, k) => expect(toHex(trace.stateHash(k))).toBe(toHex(h)));
    expect(Array.from(trace.output)).toEqual(Array.from(run(random, input).output));
  });

  it("the trace root is the Merkle root of s0 … sN padded with sN, and merkletreejs agrees", () => {
    const input = mnistInput(8001);
    const trace = machine.trace(input);
    const hashes = Array.from({ length: trace.steps + 1 }, (_, k) => trace.stateHash(k));
    const padding = emptySubtrees(hashes[trace.steps], trace.depth);
    expect(toHex(trace.root)).toBe(toHex(merkleRoot(hashes, trace.depth, padding)));

    const padded = [...hashes, ...Array(2 ** trace.depth - hashes.length).fill(hashes[trace.steps])].map((h) => Buffer.from(h));
    const hashFn = (data: Buffer) => Buffer.from(keccak_256(Uint8Array.from([...TAG.node, ...data])));
    const tree = new MerkleTree(padded, hashFn, { hashLeaves: false, sortPairs: false });
    expect(tree.getHexRoot()).toBe(toHex(trace.root));
    for (const k of [0, 1, 1234, trace.steps - 1, trace.steps, 2 ** trace.depth - 1]) {
      const proof = trace.proof(k);
      expect(toHex(rootFromProof(trace.stateHash(k), k, proof))).toBe(toHex(trace.root));
      const theirs = tree.getProof(padded[k], k).map((p) => toHex(p.data));
      expect(theirs).toEqual(proof.map(toHex));
      expect(tree.verify(tree.getProof(padded[k], k), padded[k], tree.getRoot())).toBe(true);
    }
  });

  it("a trace is invalid once its machine runs another input", () => {
    const trace = machine.trace(mnistInput(8002));
    machine.run(mnistInput(8003));
    expect(() => trace.stateHash(0)).toThrow(StaleTraceError);
  });
});

describe("step witnesses", () => {
  const input = mnistInput(8004);

  it("every step of a full MNIST trace verifies to the next state hash", () => {
    const freshTrace = machine.trace(input);
    for (let k = 0; k < freshTrace.steps; k++) {
      const w = freshTrace.witness(k);
      expect(toHex(verifyStep(freshTrace.stateHash(k), w))).toBe(toHex(freshTrace.stateHash(k + 1)));
      expect(toHex(w.postStateHash)).toBe(toHex(freshTrace.stateHash(k + 1)));
    }
  });

  it("covers every step kind: DENSE chunks, row ends, RELU, ARGMAX, HALT", () => {
    const trace = machine.trace(input);
    const states = Array.from({ length: trace.steps }, (_, k) => decodeState(trace.witness(k).preState).state);
    const kinds = new Set(states.map((s) => model.program.instructions[s.pc].opcode));
    expect([...kinds].sort()).toEqual([Opcode.HALT, Opcode.DENSE, Opcode.RELU, Opcode.ARGMAX].sort());
    const rowEnd = trace.witness(24); // row 0 of the first layer: chunks 0..24, the last one stores y[0]
    expect(rowEnd.reads.map((r) => r.kind)).toEqual(["chunk", "chunk", "leaf"]);
    const first = trace.witness(0);
    expect(first.reads.map((r) => r.kind)).toEqual(["chunk", "chunk", "leaf"]); // weights, input, bias
    // a chunk is proven from height 2 of the depth-15 memory tree, a leaf from height 0
    expect(first.reads.map((r) => r.proof.length)).toEqual([13, 13, 15]);
  });

  it("past the halted state, a step proves sN → sN", () => {
    const trace = machine.trace(input);
    const w = trace.witness(2 ** trace.depth - 2);
    expect(w.reads).toHaveLength(0);
    expect(toHex(verifyStep(w.postStateHash, w))).toBe(toHex(w.postStateHash));
  });

  it("is the same whatever the checkpoint interval", () => {
    const every = [1, 7, 256, 10_000].map((interval) => {
      const t = new WasmMachine(model, { checkpointInterval: interval }).trace(input);
      return [0, 1, 24, 25, 3200, 3216, 3490, 3500, 3502].map((k) => JSON.stringify(witnessToJson(t.witness(k))));
    });
    for (const w of every.slice(1)) expect(w).toEqual(every[0]);
  });

  it("round-trips through JSON", () => {
    const t = machine.trace(input);
    for (const k of [0, 24, 3300, 3502]) {
      const w = t.witness(k);
      const back = witnessFromJson(JSON.parse(JSON.stringify(witnessToJson(w))));
      expect(back).toEqual(w);
      expect(toHex(verifyStep(t.stateHash(k), back))).toBe(toHex(t.stateHash(k + 1)));
    }
  });

});

// ---------------------------------------------------------------------------------------------------------------
// Random programs over every opcode (formats, shifts, parameters, in place and not, ragged n), written here
// rather than compiled, so that they reach what no compiled model does: every format pair, saturation everywhere.

/** The programs before issue 13's window ops: the same seeds draw the same programs as they always did. */
const LEAF_OPCODES = BODY_OPCODES.filter((c) => !WINDOW_OPCODES.includes(c));
const randomProgram = (seed: number) => randomProgramOf(seed, { opcodes: LEAF_OPCODES });

/** The data region a run leaves, as the kernel holds it. */
function kernelData(m: WasmMachine): number[] {
  const { program } = m.model;
  return Array.from(m.words(dataBase(program.memoryDepth), dataExtent(program)));
}

function referenceData(model: Executable, words: Int32Array): number[] {
  const base = dataBase(model.program.memoryDepth);
  return Array.from(words.subarray(base, base + dataExtent(model.program)));
}

describe("random programs over every opcode: the kernel ≡ interpreter/run.ts", () => {
  const PROGRAMS = 300;
  const programs = Array.from({ length: PROGRAMS }, (_, seed) => randomProgram(1000 + seed));

  it(`${PROGRAMS} programs × 3 inputs: the whole data region word for word, and the saturations count for count`, () => {
    let saturatedRuns = 0;
    let cleanRuns = 0;
    let denseAccumulateClamps = 0;
    for (const { model, inputs } of programs) {
      const m = new WasmMachine(model);
      for (const input of inputs) {
        const output = m.run(input);
        const expected = run(model, input);
        expect(Array.from(output)).toEqual(Array.from(expected.output));
        expect(kernelData(m)).toEqual(referenceData(model, expected.memory.words));
        expect(m.saturations()).toEqual(expected.saturations);
        if (expected.saturations.length > 0) saturatedRuns++;
        else cleanRuns++;
        // A DENSE instruction that clamped more values than it has rows clamped an accumulator (int64) too.
        for (const { pc, count } of expected.saturations) {
          const insn = model.program.instructions[pc];
          if (insn.opcode === Opcode.DENSE && count > insn.args[5]) denseAccumulateClamps++;
        }
      }
    }
    expect(saturatedRuns).toBeGreaterThan(100);
    expect(cleanRuns).toBeGreaterThan(10);
    expect(denseAccumulateClamps).toBeGreaterThan(5);
  });

  it("the programs cover every opcode, in place and not, ADD into a and into b, and partial last leaves", () => {
    const all = programs.flatMap((p) => p.model.program.instructions);
    expect(new Set(all.map((i) => i.opcode))).toEqual(new Set([Opcode.HALT, ...LEAF_OPCODES]));
    const unary = all.filter((i) => isUnary(i.opcode));
    expect(unary.filter((i) => i.args[0] === i.args[1]).length).toBeGreaterThan(50);
    expect(unary.filter((i) => i.args[0] !== i.args[1]).length).toBeGreaterThan(50);
    const adds = all.filter((i) => i.opcode === Opcode.ADD);
    expect(adds.filter((i) => i.args[2] === i.args[0]).length).toBeGreaterThan(10);
    expect(adds.filter((i) => i.args[2] === i.args[1] && i.args[0] !== i.args[1]).length).toBeGreaterThan(10);
    expect(adds.filter((i) => i.args[2] !== i.args[0] && i.args[2] !== i.args[1]).length).toBeGreaterThan(10);
    expect([...unary, ...adds].filter((i) => i.args[i.opcode === Opcode.ADD ? 3 : 2] % LEAF_WORDS !== 0).length).toBeGreaterThan(100);
  });

  it("a program with an opcode the kernel does not run is refused when the machine is built, by name", () => {
    const { model } = programs[0];
    const program = { ...model.program, instructions: [{ opcode: 0x14, args: [] }, ...model.program.instructions] };
    expect(() => new WasmMachine({ program, image: model.image })).toThrow(UnsupportedOpcodeError);
    expect(() => new WasmMachine({ program, image: model.image })).toThrow("instruction 0 is 0x14, which the WASM kernel does not run");
  });

  it("a run's saturations replace the previous run's; a model that never saturates reports none", () => {
    const { model, inputs } = programs.find((p) => run(p.model, p.inputs[0]).saturations.length > 0)!;
    const m = new WasmMachine(model);
    expect(m.saturations()).toEqual([]); // before any run
    m.run(inputs[0]);
    const first = m.saturations();
    m.run(inputs[0]);
    expect(m.saturations()).toEqual(first); // not doubled
    expect(first).toEqual(run(model, inputs[0]).saturations);
    const clean = new WasmMachine(mnist());
    clean.run(mnistInput(8000));
    expect(clean.saturations()).toEqual([]);
    expect(run(mnist(), mnistInput(8000)).saturations).toEqual([]);
  });

  it("traced runs: every state hash equals the reference's, the saturations are the plain run's, and witnesses do not change them", () => {
    for (const { model, inputs } of programs.slice(0, 40)) {
      const m = new WasmMachine(model, { checkpointInterval: 7 });
      const input = inputs[1];
      const trace = m.trace(input);
      const expected = referenceTrace(model, input);
      expect(trace.steps).toBe(expected.length - 1);
      expected.forEach((h, k) => expect(toHex(trace.stateHash(k))).toBe(toHex(h)));
      const saturations = run(model, input).saturations;
      expect(m.saturations()).toEqual(saturations);
      for (let k = 0; k < trace.steps; k += 3) {
        const w = trace.witness(k);
        expect(toHex(verifyStep(trace.stateHash(k), w))).toBe(toHex(trace.stateHash(k + 1)));
      }
      expect(m.saturations()).toEqual(saturations);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Issue 13: IM2COL, MATMUL (often over the patches of the IM2COL before it), MAXPOOL, AVGPOOL, AVGPOOL_VALID with
// random geometries (vm/window.ts), mixed with DENSE, RELU and ADD, in memories of depth 9 or 10.

const WINDOW_MIX = [...WINDOW_OPCODES, ...WINDOW_OPCODES, Opcode.DENSE, Opcode.RELU, Opcode.ADD];
const windowProgram = (seed: number) => randomProgramOf(seed, { opcodes: WINDOW_MIX, depths: [9, 10], count: [2, 7] });

/** What the TypeScript steps of a run did that the tests want covered: per opcode, steps reading 0, 1, 2 chunks. */
function readProfile(model: Executable, input: Int32Array): Map<number, number[]> {
  const memory: FlatMemory = initialMemory(model, input);
  const profile = new Map<number, number[]>();
  let state = INITIAL_STATE;
  while (!state.halted) {
    let chunks = 0;
    const counting: MemoryReader = { readLeaf: (a) => memory.readLeaf(a), readChunk: (a) => (chunks++, memory.readChunk(a)) };
    const opcode = model.program.instructions[state.pc].opcode;
    const r = step(state, model.program.instructions[state.pc], counting);
    if (r.write) memory.write(r.write);
    state = r.state;
    const counts = profile.get(opcode) ?? [0, 0, 0];
    counts[Math.min(chunks, 2)]++;
    profile.set(opcode, counts);
  }
  return profile;
}

describe("random programs with windows and MATMUL: the kernel ≡ interpreter/run.ts", () => {
  const PROGRAMS = 200;
  const programs = Array.from({ length: PROGRAMS }, (_, seed) => windowProgram(5000 + seed));

  it(`${PROGRAMS} programs × 3 inputs: the whole data region word for word, and the saturations count for count`, () => {
    let matmulAccumulateClamps = 0;
    let saturatedMatmuls = 0;
    for (const { model, inputs } of programs) {
      const m = new WasmMachine(model);
      for (const input of inputs) {
        const output = m.run(input);
        const expected = run(model, input);
        expect(Array.from(output)).toEqual(Array.from(expected.output));
        expect(kernelData(m)).toEqual(referenceData(model, expected.memory.words));
        expect(m.saturations()).toEqual(expected.saturations);
        for (const { pc, count } of expected.saturations) {
          const insn = model.program.instructions[pc];
          if (insn.opcode !== Opcode.MATMUL) continue;
          saturatedMatmuls++;
          if (count > insn.args[4] * insn.args[5]) matmulAccumulateClamps++; // more clamps than outputs: an int64 clamp
        }
      }
    }
    expect(saturatedMatmuls).toBeGreaterThan(50);
    expect(matmulAccumulateClamps).toBeGreaterThan(5);
  });

  it("the programs cover every window op, convolutions over the IM2COL before them, straddling and all-padding kernel rows", () => {
    const all = programs.flatMap((p) => p.model.program.instructions);
    for (const code of WINDOW_OPCODES) expect(all.filter((i) => i.opcode === code).length, `opcode ${code}`).toBeGreaterThan(40);
    const convolutions = programs.filter(({ model: { program } }) =>
      program.instructions.some((insn, pc) => insn.opcode === Opcode.MATMUL && pc > 0 && program.instructions[pc - 1].opcode === Opcode.IM2COL && program.instructions[pc - 1].args[1] === insn.args[0]),
    );
    expect(convolutions.length).toBeGreaterThan(30);
    const total = new Map<number, number[]>();
    for (const { model, inputs } of programs.slice(0, 80)) {
      for (const [code, counts] of readProfile(model, inputs[0])) {
        const t = total.get(code) ?? [0, 0, 0];
        counts.forEach((c, k) => (t[k] += c));
        total.set(code, t);
      }
    }
    // [steps reading no chunk (a kernel row all padding), one chunk, two chunks (a segment straddling a boundary)]
    for (const code of [Opcode.IM2COL, Opcode.MAXPOOL, Opcode.AVGPOOL, Opcode.AVGPOOL_VALID]) {
      const [none, one, two] = total.get(code)!;
      expect(none, `opcode ${code}`).toBeGreaterThan(20);
      expect(one, `opcode ${code}`).toBeGreaterThan(100);
      expect(two, `opcode ${code}`).toBeGreaterThan(20);
    }
  });

  it("traced runs over programs with every window op: every state hash equals the reference's, and witnesses verify", () => {
    const chosen = programs.filter((p) => p.model.program.instructions.length <= 6).slice(0, 30);
    const seen = new Set<number>();
    for (const { model, inputs } of chosen) {
      const m = new WasmMachine(model, { checkpointInterval: 11 });
      const input = inputs[2];
      const trace = m.trace(input);
      const expected = referenceTrace(model, input);
      expect(trace.steps).toBe(expected.length - 1);
      expected.forEach((h, k) => expect(toHex(trace.stateHash(k))).toBe(toHex(h)));
      expect(m.saturations()).toEqual(run(model, input).saturations);
      for (let k = 0; k < trace.steps; k += 5) {
        const w = trace.witness(k);
        expect(toHex(verifyStep(trace.stateHash(k), w))).toBe(toHex(trace.stateHash(k + 1)));
        if (!decodeState(w.preState).state.halted) seen.add(model.program.instructions[decodeState(w.preState).state.pc].opcode);
      }
    }
    for (const code of WINDOW_OPCODES) expect(seen.has(code), `opcode ${code}`).toBe(true);
  });
});

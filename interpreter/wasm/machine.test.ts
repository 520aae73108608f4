import { keccak_256 } from "@noble/hashes/sha3.js";
import { MerkleTree } from "merkletreejs";
import { describe, expect, it } from "vitest";
import { compileGraph } from "../../compiler/compile.js";
import { prng, randInt } from "../../datasets/synthetic.js";
import { mnist, mnistInput, randomGraph, randomInput } from "../../test/helpers/models.js";
import { TAG, toHex } from "../../vm/hash.js";
import { INT32_MAX, INT32_MIN, MAX_FRAC, MAX_SHIFT, ONE } from "../../vm/fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, dataBase } from "../../vm/memory.js";
import { emptySubtrees, merkleRoot, rootFromProof } from "../../vm/merkle.js";
import { OPCODES, Opcode, isUnary } from "../../vm/opcodes.js";
import { type Instruction, type Program, dataExtent, validateProgram } from "../../vm/program.js";
import { verifyStep } from "../../vm/onestep.js";
import { decodeState } from "../../vm/state.js";
import { witnessFromJson, witnessToJson } from "../../vm/witness.js";
import { type Executable, run } from "../run.js";
import { referenceTrace } from "../trace-reference.js";
import { StaleTraceError, UnsupportedOpcodeError, WasmMachine } from "./machine.js";

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

type Rand = () => number;
const chance = (rand: Rand, p: number) => rand() < p;
const pickOf = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

/** A word of one of the magnitudes that matter: zero, small, a Q16.16 activation, large, the int32 ends. */
function randomWord(rand: Rand): number {
  switch (randInt(rand, 0, 5)) {
    case 0:
      return 0;
    case 1:
      return randInt(rand, -300, 300);
    case 2:
      return randInt(rand, -8 * ONE, 8 * ONE);
    case 3:
      return randInt(rand, -(2 ** 24), 2 ** 24);
    case 4:
      return pickOf(rand, [INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1, 2 ** 30, -(2 ** 30)]);
    default:
      return randInt(rand, INT32_MIN, INT32_MAX);
  }
}

const randomFrac = (rand: Rand) => (chance(rand, 0.5) ? pickOf(rand, [0, 8, 16, 24]) : randInt(rand, 0, MAX_FRAC));
/** A count: mostly not a multiple of 8, so that a last leaf is partial. */
const randomCount = (rand: Rand, max: number) => (chance(rand, 0.2) ? LEAF_WORDS * randInt(rand, 1, max / LEAF_WORDS) : randInt(rand, 1, max));
/** A signed parameter as the u32 operand carries it. */
const u32 = (v: number) => v >>> 0;

/** One random instruction over a memory of depth `depth`; validateProgram decides whether it is kept. */
function randomInstruction(rand: Rand, depth: number, opcode: number): Instruction {
  const base = dataBase(depth);
  const leafIn = (lo: number, hi: number) => lo + LEAF_WORDS * randInt(rand, 0, (hi - lo) / LEAF_WORDS - 1);
  const dataLeaf = () => leafIn(base, 2 * base - 64);
  const sourceLeaf = () => (chance(rand, 0.6) ? dataLeaf() : leafIn(0, base));
  if (opcode === Opcode.DENSE) {
    const inputs = randInt(rand, 1, 80);
    const outputs = randInt(rand, 1, 9);
    const span = Math.ceil(inputs / CHUNK_WORDS) * CHUNK_WORDS;
    const input = chance(rand, 0.7) ? base : CHUNK_WORDS * randInt(rand, 0, (2 * base - span) / CHUNK_WORDS - 1);
    const weights = CHUNK_WORDS * randInt(rand, 0, (base - span * outputs) / CHUNK_WORDS);
    const bias = randInt(rand, 0, base - outputs);
    const output = randInt(rand, base, 2 * base - outputs);
    const shift = chance(rand, 0.5) ? pickOf(rand, [0, 8, 16, 24, MAX_SHIFT]) : randInt(rand, 0, MAX_SHIFT);
    return { opcode, args: [input, weights, bias, output, inputs, outputs, shift] };
  }
  if (opcode === Opcode.LAYERNORM) {
    const n = randomCount(rand, 48);
    const src = sourceLeaf();
    const dst = chance(rand, 0.4) && src >= base ? src : dataLeaf();
    const params = leafIn(0, base - 2 * 56); // gamma then beta, each ⌈n/8⌉ leaves, in the model region
    const eps = u32(pickOf(rand, [0, 1, 43, 429497, randInt(rand, 0, 2 ** 32 - 1)])); // Q0.32: 0, 2^−32, 1e-8, 1e-4, any
    return { opcode, args: [src, dst, n, params, randomFrac(rand), randomFrac(rand), eps] };
  }
  if (opcode === Opcode.ARGMAX) return { opcode, args: [sourceLeaf(), randomCount(rand, 48), randInt(rand, base, 2 * base - 1)] };
  if (opcode === Opcode.ADD) {
    const a = sourceLeaf();
    const b = chance(rand, 0.15) ? a : sourceLeaf();
    const roll = rand();
    const dst = roll < 0.25 && a >= base ? a : roll < 0.5 && b >= base ? b : dataLeaf();
    return { opcode, args: [a, b, dst, randomCount(rand, 48), randomFrac(rand), randomFrac(rand), randomFrac(rand)] };
  }
  const src = sourceLeaf();
  const dst = chance(rand, 0.4) && src >= base ? src : dataLeaf();
  const alpha = () => u32(chance(rand, 0.5) ? pickOf(rand, [0, 655, 13107, ONE, -ONE, 2 * ONE]) : randomWord(rand));
  const lo = randomWord(rand);
  const hi = randomWord(rand);
  const params =
    opcode === Opcode.CLIP ? [u32(Math.min(lo, hi)), u32(Math.max(lo, hi))] : opcode === Opcode.LEAKY_RELU || opcode === Opcode.ELU ? [alpha()] : [];
  return { opcode, args: [src, dst, randomCount(rand, 48), randomFrac(rand), randomFrac(rand), ...params] };
}

const BODY_OPCODES = OPCODES.map((o) => o.code).filter((c) => c !== Opcode.HALT);

/** A valid random program (3 … 10 instructions, then HALT), its model image and a few inputs. */
function randomProgram(seed: number): { model: Executable; inputs: Int32Array[] } {
  const rand = prng(seed);
  const depth = pickOf(rand, [7, 8]);
  const base = dataBase(depth);
  const inputLength = randInt(rand, 1, 70);
  const instructions: Instruction[] = [];
  const count = randInt(rand, 3, 10);
  while (instructions.length < count) {
    const insn = randomInstruction(rand, depth, pickOf(rand, BODY_OPCODES));
    const candidate: Program = {
      memoryDepth: depth, flags: 0, inputLength, outputAddress: base, outputLength: 64, inputFrac: 16, outputFrac: 16,
      instructions: [...instructions, insn, { opcode: Opcode.HALT, args: [] }],
    };
    try {
      validateProgram(candidate);
      instructions.push(insn);
    } catch {
      // an access out of range or misaligned: draw again
    }
  }
  const program = validateProgram({
    memoryDepth: depth, flags: 0, inputLength, outputAddress: base, outputLength: 64, inputFrac: 16, outputFrac: 16,
    instructions: [...instructions, { opcode: Opcode.HALT, args: [] }],
  });
  const image = Int32Array.from({ length: base - randInt(rand, 0, 64) }, () => randomWord(rand));
  const inputs = Array.from({ length: 3 }, () => Int32Array.from({ length: inputLength }, () => randomWord(rand)));
  return { model: { program, image }, inputs };
}

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
    expect(new Set(all.map((i) => i.opcode))).toEqual(new Set(OPCODES.map((o) => o.code)));
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
    const program = { ...model.program, instructions: [{ opcode: 0x0f, args: [] }, ...model.program.instructions] };
    expect(() => new WasmMachine({ program, image: model.image })).toThrow(UnsupportedOpcodeError);
    expect(() => new WasmMachine({ program, image: model.image })).toThrow("instruction 0 is 0xf, which the WASM kernel does not run");
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

/**
 * Randomized step witnesses for differential tests (the TypeScript verifier against the Solidity one): for each
 * step kind, small programs (memory depth 6–8) whose instruction at pc is of that kind with random valid operands,
 * random memory contents and random but consistent registers, proven by interpreter/witness-reference.ts.
 *
 * Kinds: every opcode of the table (DENSE, RELU, SIGMOID, TANH, ARGMAX, HALT), "unknown" (an opcode outside the
 * table, which traps: the machine halts where it is) and "halted" (a halted state, which steps to itself). A
 * number outside the table is an unknown opcode too, that one exactly.
 *
 * Each memory is hashed once (MemoryTree) and proves `perTree` witnesses from different registers; before most
 * of them one leaf the step reads is rewritten with fresh random words (one leaf path rehashed), so the cost of a
 * witness is the step and a few hashes. Memory depths take turns 6, 7, 8 from one tree to the next. Everything
 * is reproducible from the seed. 10,000 witnesses of one kind take about 1–2.5 s (keccak dominates).
 *
 * What is varied:
 *   - memory: per leaf, one of zero / uniform int32 / small / MNIST-like Q16.16 magnitudes / extremes (INT32_MIN,
 *     INT32_MAX, ±1, ±ONE …), sometimes with an all-zero tail (a sparse tree, as in a real run);
 *   - DENSE: inputs with full and partial last chunks (1 … 128), outputs 1 … 12, weights / input / bias / output
 *     anywhere validation allows (overlaps included); registers row < outputs, chunk < chunks, acc = 0 on a row's
 *     first chunk and a random int64 after (small, realistic, near ±2^63, uniform, exact extremes);
 *   - RELU / SIGMOID / TANH: n 1 … 64 (whole and partial last leaf), any leaf-aligned data-region address, any leaf;
 *   - ARGMAX: n 1 … 40, src anywhere, dst any data word (possibly inside src); mid-scan acc / aux either the true
 *     best so far or a random int32 value with a random index already scanned;
 *   - HALT: the program's last instruction, or a pc past it served by the program tree's HALT padding;
 *   - unknown: opcode 0x06 … 0xff with random u32 operands and random registers (a trap keeps them);
 *   - halted: random registers and pc, halted set;
 *   - pc: the instruction sits among 0–3 random valid instructions before and after it (program trees of depth
 *     0 … 3); the step counter is random up to 2^40.
 */
import { MemoryTree } from "../../interpreter/witness-reference.js";
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, ONE } from "../../vm/fixed.js";
import { CHUNK_WORDS, FlatMemory, LEAF_WORDS, dataBase } from "../../vm/memory.js";
import { OPCODES, Opcode, opcodeInfo } from "../../vm/opcodes.js";
import { type Instruction, type Program, MAX_OPERANDS, validateProgram } from "../../vm/program.js";
import type { State } from "../../vm/state.js";
import { step } from "../../vm/step.js";
import type { StepWitness } from "../../vm/witness.js";
import { prng, randInt } from "./bytecode.js";

export type StepKind = number | "unknown" | "halted";

/** Every kind the differential tests cover, with a name for test titles. */
export const STEP_KINDS: readonly { name: string; kind: StepKind }[] = [
  ...OPCODES.map((o) => ({ name: o.name, kind: o.code as StepKind })),
  { name: "UNKNOWN", kind: "unknown" },
  { name: "HALTED", kind: "halted" },
];

export interface RandomStep {
  /** The hash of the pre-state, what verifyStep is given. */
  preStateHash: Uint8Array;
  witness: StepWitness;
  /** The pre-state's registers (also in witness.preState). */
  state: State;
  /** The program the step belongs to (not validated for an unknown opcode). */
  program: Program;
}

export interface RandomStepOptions {
  /** Witnesses proven from one memory (one tree) before drawing a new program and memory; default 40. */
  perTree?: number;
}

/** `count` random witnesses of steps of `kind`, reproducible from `seed`. */
export function randomStepWitnesses(kind: StepKind, count: number, seed: number, { perTree = 40 }: RandomStepOptions = {}): RandomStep[] {
  const code = kind === "unknown" ? 0x100 : kind === "halted" ? 0x101 : kind;
  const rand = prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(code + 1, 0x85ebca6b)) >>> 0);
  const out: RandomStep[] = [];
  for (let trees = 0; out.length < count; trees++) {
    const scenario = makeScenario(kind, rand, MEMORY_DEPTHS[trees % MEMORY_DEPTHS.length]);
    const tree = new MemoryTree(scenario.program, scenario.words);
    for (let t = 0; t < perTree && out.length < count; t++) {
      const state = scenario.state(tree.words);
      if (chance(rand, REFRESH)) refreshRead(rand, tree, state);
      out.push({ preStateHash: tree.stateHash(state), witness: tree.witness(state), state, program: scenario.program });
    }
  }
  return out;
}

/** The chance that a witness's memory gets one of the leaves its step reads rewritten first (fresh values). */
const REFRESH = 0.6;

/**
 * Rewrites one leaf the step from `state` reads with new random words (one leaf path rehashed, far cheaper
 * than a new tree), so that witnesses from one tree do not keep reading the same values. ARGMAX: only the
 * leaf being scanned, so that a best-so-far taken from the words before it stays the true one.
 */
function refreshRead(rand: Rand, tree: MemoryTree, state: State): void {
  if (state.halted) return;
  const insn = tree.program.instructions[state.pc];
  if (!insn || opcodeInfo(insn.opcode) === undefined) return;
  const reads: number[] = [];
  const memory = new FlatMemory(tree.words);
  step(state, insn, {
    readLeaf: (addr) => (reads.push(addr), memory.readLeaf(addr)),
    readChunk: (addr) => (reads.push(addr + LEAF_WORDS * randInt(rand, 0, CHUNK_WORDS / LEAF_WORDS - 1)), memory.readChunk(addr)),
  });
  if (reads.length === 0) return;
  const addr = insn.opcode === Opcode.ARGMAX ? reads[0] : pick(rand, reads);
  const mode = pick(rand, MODES);
  tree.write({ addr, words: Int32Array.from({ length: LEAF_WORDS }, () => randomWord(rand, mode)) });
}

interface Scenario {
  program: Program;
  words: Int32Array;
  /** A random pre-state for this program, consistent with the instruction at its pc (and the memory). */
  state(words: Int32Array): State;
}

type Rand = () => number;

/** Memory depths, in turn from one tree to the next. */
const MEMORY_DEPTHS = [6, 7, 8];
const BODY_OPCODES = [Opcode.DENSE, Opcode.RELU, Opcode.SIGMOID, Opcode.TANH, Opcode.ARGMAX];

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const chance = (rand: Rand, p: number) => rand() < p;

function makeScenario(kind: StepKind, rand: Rand, depth: number): Scenario {
  const words = randomMemory(rand, depth);
  if (kind === "halted") {
    const { program } = withNeighbours(rand, depth, chance(rand, 0.2) ? undefined : randomInstruction(rand, depth, pick(rand, BODY_OPCODES)), true);
    const last = program.instructions.length - 1;
    return {
      program,
      words,
      state: () => {
        const real = chance(rand, 0.5); // as a real run leaves it: at the HALT, loop registers cleared
        return {
          step: randomStepCounter(rand),
          pc: real ? last : chance(rand, 0.5) ? randInt(rand, 0, last) : randU32(rand),
          i: real ? 0 : randU32(rand),
          j: real ? 0 : randU32(rand),
          acc: real ? 0n : randomAcc(rand),
          aux: real ? 0 : randI32(rand),
          halted: true,
        };
      },
    };
  }
  if (kind === "unknown" || opcodeInfo(kind) === undefined) {
    const opcode = kind === "unknown" ? randInt(rand, 0x06, 0xff) : kind;
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xff) throw new RangeError(`${kind} is not an opcode byte`);
    const args = Array.from({ length: MAX_OPERANDS }, () => (chance(rand, 0.3) ? 0 : chance(rand, 0.5) ? randInt(rand, 0, 2 * dataBase(depth)) : randU32(rand)));
    const { program, pc } = withNeighbours(rand, depth, { opcode, args }, false);
    return {
      program,
      words,
      state: () => ({ step: randomStepCounter(rand), pc, i: randU32(rand), j: randU32(rand), acc: randomAcc(rand), aux: randI32(rand), halted: false }),
    };
  }
  const { program, pc } = kind === Opcode.HALT ? withNeighbours(rand, depth, undefined, true) : withNeighbours(rand, depth, randomInstruction(rand, depth, kind), true);
  const insn = program.instructions[pc];
  if (kind === Opcode.HALT) {
    // The last instruction, or a pc in the program tree's padding (a HALT as well): both prove the all-zero leaf or a real one.
    const treeSize = 2 ** Math.ceil(Math.log2(program.instructions.length));
    return {
      program,
      words,
      state: () => ({ step: randomStepCounter(rand), pc: chance(rand, 0.25) && treeSize > pc + 1 ? randInt(rand, pc + 1, treeSize - 1) : pc, i: 0, j: 0, acc: 0n, aux: 0, halted: false }),
    };
  }
  return { program, words, state: (memory) => randomRegisters(rand, pc, insn, memory) };
}

/** Registers a real run could hold at some step of `insn` (ARGMAX: or a random best so far). */
function randomRegisters(rand: Rand, pc: number, insn: Instruction, memory: Int32Array): State {
  const base = { step: randomStepCounter(rand), pc, i: 0, j: 0, acc: 0n, aux: 0, halted: false };
  switch (insn.opcode) {
    case Opcode.DENSE: {
      const [, , , , inputs, outputs] = insn.args;
      const chunks = Math.ceil(inputs / CHUNK_WORDS);
      const i = chance(rand, 0.2) ? outputs - 1 : randInt(rand, 0, outputs - 1);
      const j = chance(rand, 0.25) ? chunks - 1 : chance(rand, 0.2) ? 0 : randInt(rand, 0, chunks - 1);
      return { ...base, i, j, acc: j === 0 ? 0n : randomAcc(rand) };
    }
    case Opcode.RELU:
    case Opcode.SIGMOID:
    case Opcode.TANH: {
      const leaves = Math.ceil(insn.args[1] / LEAF_WORDS);
      return { ...base, i: chance(rand, 0.25) ? leaves - 1 : randInt(rand, 0, leaves - 1) };
    }
    case Opcode.ARGMAX: {
      const [src, n] = insn.args;
      const leaves = Math.ceil(n / LEAF_WORDS);
      const i = chance(rand, 0.3) ? leaves - 1 : randInt(rand, 0, leaves - 1);
      if (i === 0) return base;
      if (chance(rand, 0.5)) {
        // the true best of the words already scanned, lowest index on ties
        let best = 0;
        for (let t = 1; t < i * LEAF_WORDS; t++) if (memory[src + t] > memory[src + best]) best = t;
        return { ...base, i, acc: BigInt(memory[src + best]), aux: best };
      }
      return { ...base, i, acc: BigInt(randomWord(rand, pick(rand, MODES))), aux: randInt(rand, 0, i * LEAF_WORDS - 1) };
    }
    default:
      throw new Error(`no registers for opcode ${insn.opcode}`);
  }
}

/** [0–3 random instructions, target, 0–3 random instructions, HALT]; validated unless the target is hand-made. */
function withNeighbours(rand: Rand, depth: number, target: Instruction | undefined, validate: boolean): { program: Program; pc: number } {
  const before = Array.from({ length: randInt(rand, 0, 3) }, () => randomInstruction(rand, depth, pick(rand, BODY_OPCODES)));
  const after = Array.from({ length: randInt(rand, 0, 3) }, () => randomInstruction(rand, depth, pick(rand, BODY_OPCODES)));
  const instructions = target ? [...before, target, ...after, { opcode: Opcode.HALT, args: [] }] : [...before, ...after, { opcode: Opcode.HALT, args: [] }];
  const base = dataBase(depth);
  const inputLength = randInt(rand, 1, 64);
  const outputLength = randInt(rand, 1, 16);
  const program: Program = {
    memoryDepth: depth,
    flags: randInt(rand, 0, 1),
    inputLength,
    outputAddress: randInt(rand, base, 2 * base - outputLength),
    outputLength,
    instructions,
  };
  if (validate) validateProgram(program);
  return { program, pc: target ? before.length : instructions.length - 1 };
}

/** A random instruction of `opcode` that validation accepts in a memory of depth `depth`. */
function randomInstruction(rand: Rand, depth: number, opcode: number): Instruction {
  const base = dataBase(depth);
  const end = 2 * base;
  switch (opcode) {
    case Opcode.DENSE: {
      for (;;) {
        const chunks = pick(rand, [1, 2, 2, 3, 3, 4, 4]);
        const inputs = chance(rand, 0.4) ? chunks * CHUNK_WORDS : chance(rand, 0.1) ? (chunks - 1) * CHUNK_WORDS + 1 : randInt(rand, (chunks - 1) * CHUNK_WORDS + 1, chunks * CHUNK_WORDS);
        const span = chunks * CHUNK_WORDS;
        const outputs = chance(rand, 0.2) ? 1 : randInt(rand, 1, 12);
        if (span * outputs > end || outputs > base) continue;
        // weights preferably in the model region, as a compiler lays them out; input anywhere
        const weightsEnd = span * outputs <= base && chance(rand, 0.8) ? base : end;
        const weights = CHUNK_WORDS * randInt(rand, 0, (weightsEnd - span * outputs) / CHUNK_WORDS);
        const input = chance(rand, 0.7) && span <= base ? base + CHUNK_WORDS * randInt(rand, 0, (base - span) / CHUNK_WORDS) : CHUNK_WORDS * randInt(rand, 0, (end - span) / CHUNK_WORDS);
        const bias = chance(rand, 0.8) ? randInt(rand, 0, base - outputs) : randInt(rand, 0, end - outputs);
        const output = randInt(rand, base, end - outputs);
        return { opcode, args: [input, weights, bias, output, inputs, outputs] };
      }
    }
    case Opcode.RELU:
    case Opcode.SIGMOID:
    case Opcode.TANH: {
      const n = chance(rand, 0.3) ? LEAF_WORDS * randInt(rand, 1, 8) : randInt(rand, 1, 64);
      const span = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
      return { opcode, args: [base + LEAF_WORDS * randInt(rand, 0, (base - span) / LEAF_WORDS), n] };
    }
    case Opcode.ARGMAX: {
      const n = chance(rand, 0.3) ? LEAF_WORDS * randInt(rand, 1, 5) : randInt(rand, 1, 40);
      const span = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
      const src = chance(rand, 0.6) ? base + LEAF_WORDS * randInt(rand, 0, (base - span) / LEAF_WORDS) : LEAF_WORDS * randInt(rand, 0, (end - span) / LEAF_WORDS);
      // dst sometimes inside the scanned words (allowed: the write comes after the last read)
      const dst = src >= base && chance(rand, 0.15) ? randInt(rand, src, src + n - 1) : randInt(rand, base, end - 1);
      return { opcode, args: [src, n, dst] };
    }
    default:
      throw new Error(`no random operands for opcode ${opcode}`);
  }
}

type Mode = "zero" | "uniform" | "small" | "mnist" | "extreme";
const MODES: readonly Mode[] = ["zero", "uniform", "uniform", "small", "small", "mnist", "mnist", "mnist", "extreme", "extreme"];
const EXTREMES = [INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1, -1, 0, 1, ONE, -ONE, 32767, -32768, 0x7fff_0000, -0x7fff_0000];

function randomWord(rand: Rand, mode: Mode): number {
  switch (mode) {
    case "zero":
      return 0;
    case "uniform":
      return randI32(rand);
    case "small":
      return randInt(rand, -256, 256);
    case "mnist": {
      // Q16.16 weights (±0.1), activations (±4), logits (±30), and the occasional large value
      const scale = pick(rand, [0.1, 0.1, 1, 4, 4, 30, 500]);
      return Math.round((rand() * 2 - 1) * scale * ONE);
    }
    case "extreme":
      return chance(rand, 0.7) ? pick(rand, EXTREMES) : randI32(rand);
  }
}

function randomMemory(rand: Rand, depth: number): Int32Array {
  const words = new Int32Array(2 ** depth * LEAF_WORDS);
  const used = chance(rand, 0.3) ? LEAF_WORDS * randInt(rand, 1, 2 ** depth) : words.length; // sometimes an all-zero tail
  const leafMode = chance(rand, 0.3) ? pick(rand, MODES) : undefined; // sometimes one mode for the whole memory
  for (let off = 0; off < used; off += LEAF_WORDS) {
    const mode = leafMode ?? pick(rand, MODES);
    for (let t = 0; t < LEAF_WORDS; t++) words[off + t] = randomWord(rand, mode);
  }
  return words;
}

function randU32(rand: Rand): number {
  return Math.floor(rand() * 2 ** 32);
}

function randI32(rand: Rand): number {
  return randU32(rand) | 0;
}

/** A random int64 accumulator: small, realistic Q32.32 sums, near ±2^63 (saturation), uniform, or an exact extreme. */
function randomAcc(rand: Rand): bigint {
  const r = rand();
  const u64 = (BigInt(randU32(rand)) << 32n) | BigInt(randU32(rand));
  if (r < 0.2) return BigInt(randInt(rand, -(2 ** 20), 2 ** 20));
  if (r < 0.45) return BigInt.asIntN(64, u64) >> BigInt(randInt(rand, 8, 30)); // |acc| up to 2^55 … 2^33
  if (r < 0.65) return chance(rand, 0.5) ? INT64_MAX - (u64 >> BigInt(randInt(rand, 20, 63))) : INT64_MIN + (u64 >> BigInt(randInt(rand, 20, 63)));
  if (r < 0.9) return BigInt.asIntN(64, u64);
  return pick(rand, [INT64_MAX, INT64_MIN, INT64_MIN + 1n, INT64_MAX - 1n, 0n, -1n]);
}

/** A step counter up to 2^40: any value, or a small one. */
function randomStepCounter(rand: Rand): number {
  return chance(rand, 0.2) ? randInt(rand, 0, 5000) : Math.floor(rand() * 2 ** 40);
}

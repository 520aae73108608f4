/**
 * Randomized step witnesses for differential tests (the TypeScript verifier against the Solidity one): for each
 * step kind, small programs (memory depth 6–8) whose instruction at pc is of that kind with random valid operands,
 * random memory contents and random but consistent registers, proven by interpreter/witness-reference.ts.
 *
 * Kinds: every opcode of the table (vm/opcodes.ts OPCODES), "unknown" (an opcode outside the table, which traps:
 * the machine halts where it is) and "halted" (a halted state, which steps to itself). A number outside the table
 * is an unknown opcode too, that one exactly. The generators are driven by the table: every unary op (isUnary)
 * gets the unary generator, its parameters drawn by operand name (alpha, lo/hi); every windowed op (isWindowed:
 * IM2COL and the poolings) the window generator; DENSE, ARGMAX, ADD, LAYERNORM and MATMUL have their own. An opcode the table gains without a generator (or a unary op with a parameter name not known here) makes
 * generatorFor throw NoStepGeneratorError, and test/evm/random-steps.test.ts fails on it.
 *
 * Each memory is hashed once (MemoryTree) and proves `perTree` witnesses from different registers; before most
 * of them one leaf the step reads is rewritten with fresh random words (one leaf path rehashed), so the cost of a
 * witness is the step and a few hashes. Memory depths take turns 6, 7, 8 from one tree to the next. Everything
 * is reproducible from the seed. 10,000 witnesses of one kind take about 1–2.5 s (keccak dominates).
 *
 * What is varied:
 *   - memory: per leaf, one of zero / uniform int32 / small / MNIST-like Q16.16 magnitudes / extremes (INT32_MIN,
 *     INT32_MAX, ±1, ±ONE …), sometimes with an all-zero tail (a sparse tree, as in a real run);
 *   - formats: every format operand (fin, fout, fa, fb) uniform in [0, MAX_FRAC] or 16; DENSE's shift in
 *     [0, MAX_SHIFT] or a typical 16 / 24 / 32 − f; the header's input and output formats likewise;
 *   - DENSE: inputs with full and partial last chunks (1 … 128), outputs 1 … 12, weights / input / bias / output
 *     anywhere validation allows (overlaps included); registers row < outputs, chunk < chunks, acc = 0 on a row's
 *     first chunk and a random int64 after (small, realistic, near ±2^63, uniform, exact extremes);
 *   - unary ops (RELU … SILU): n 1 … 64 (whole and partial last leaf), src anywhere leaf-aligned, dst in the data
 *     region: in place (dst = src), overlapping (a leaf or two apart) or elsewhere; alpha realistic (0.01, 0.2, 1 …),
 *     negative, zero or any int32; CLIP's lo ≤ hi realistic (ReLU6), equal, extreme or random; any leaf;
 *   - ADD: n 1 … 64; a, b anywhere, dst in the data region: distinct, dst = a, dst = b, a = b, or all three equal;
 *   - LAYERNORM: src, dst and n as the unary ops, gamma and beta anywhere, eps realistic or any u32; any leaf of any
 *     of the three passes, with the true sum / mean / scale of the words before or random ones of the same ranges;
 *   - ARGMAX: n 1 … 40, src anywhere, dst any data word (possibly inside src); mid-scan acc / aux either the true
 *     best so far or a random int32 value with a random index already scanned;
 *   - MATMUL: as DENSE (rows of 1–4 chunks, full or partial, acc near ±2^63 …) over 1–6 output channels × 1–6
 *     pixels; registers i = oc·pixels + p < outputs·pixels, chunk j, acc = 0 on a row's first chunk;
 *   - IM2COL, MAXPOOL, AVGPOOL, AVGPOOL_VALID (randomWindow): 1–4 channels, images up to 12 × 40 at any word address
 *     (segments straddle chunk boundaries), kernels up to 5 rows and up to the 33-word segment bound in columns,
 *     strides and dilations 1–3 (IM2COL's column dilation up to 4), padding none / "same"-like / whole kernel rows
 *     of it, outputs of the natural size or any up to 2 past it (windows wholly in the padding); IM2COL's registers
 *     any output position and any piece start of its patch; a pooling's any output and kernel row, with acc / aux
 *     the true running largest or sum and count of the rows before, or a random count with a value such a count
 *     can have. A quarter of the time the registers are chosen among those whose segment straddles two chunks;
 *   - HALT: the program's last instruction, or a pc past it served by the program tree's HALT padding;
 *   - unknown: an opcode byte outside the table with random u32 operands and random registers (a trap keeps them);
 *   - halted: random registers and pc, halted set;
 *   - pc: the instruction sits among 0–3 random valid instructions (of any opcode) before and after it (program
 *     trees of depth 0 … 3); the step counter is random up to 2^40.
 */
import { MemoryTree } from "../../interpreter/witness-reference.js";
import { MlvmError } from "../../vm/errors.js";
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, MAX_FRAC, MAX_SHIFT, ONE } from "../../vm/fixed.js";
import { CHUNK_WORDS, FlatMemory, LEAF_WORDS, dataBase } from "../../vm/memory.js";
import { OPCODES, Opcode, type OpcodeInfo, UNARY_OPERANDS, isUnary, isWindowed, opcodeInfo } from "../../vm/opcodes.js";
import { type Instruction, type Program, MAX_OPERANDS, validateProgram } from "../../vm/program.js";
import { type Window, SEGMENT_WORDS, decodeWindow, encodeWindow, imageAddress, imageColumn, outputPixels, patchWords, windowRow } from "../../vm/window.js";
import { layerMean, layerScale, squareTerm } from "../../vm/layernorm.js";
import type { State } from "../../vm/state.js";
import { step } from "../../vm/step.js";
import type { StepWitness } from "../../vm/witness.js";
import { prng, randInt } from "./bytecode.js";

/** An opcode of the table that this generator cannot make random instructions of: write it a generator. */
export class NoStepGeneratorError extends MlvmError {}

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

export type Rand = () => number;

/** Memory depths, in turn from one tree to the next. */
const MEMORY_DEPTHS = [6, 7, 8];
/** Every opcode but HALT, for the instructions around the one under test. */
const BODY_OPCODES = OPCODES.filter((o) => o.code !== Opcode.HALT).map((o) => o.code);
/** The opcode bytes outside the table: what "unknown" draws from. */
const UNKNOWN_OPCODES = Array.from({ length: 256 }, (_, k) => k).filter((k) => opcodeInfo(k) === undefined);

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
    const opcode = kind === "unknown" ? pick(rand, UNKNOWN_OPCODES) : kind;
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
  const info = generatorFor(insn.opcode);
  if (info.leafCount) {
    const leaves = info.leafCount(insn.args);
    return { ...base, i: chance(rand, 0.25) ? leaves - 1 : randInt(rand, 0, leaves - 1) };
  }
  switch (insn.opcode) {
    case Opcode.DENSE: {
      const [, , , , inputs, outputs] = insn.args;
      const chunks = Math.ceil(inputs / CHUNK_WORDS);
      const i = chance(rand, 0.2) ? outputs - 1 : randInt(rand, 0, outputs - 1);
      const j = chance(rand, 0.25) ? chunks - 1 : chance(rand, 0.2) ? 0 : randInt(rand, 0, chunks - 1);
      return { ...base, i, j, acc: j === 0 ? 0n : randomAcc(rand) };
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
    case Opcode.LAYERNORM:
      return layerNormRegisters(rand, base, insn, memory);
    case Opcode.MATMUL: {
      const [, , , inputs, outputs, pixels] = insn.args;
      const chunks = Math.ceil(inputs / CHUNK_WORDS);
      const rows = outputs * pixels;
      const i = chance(rand, 0.2) ? rows - 1 : randInt(rand, 0, rows - 1);
      const j = chance(rand, 0.25) ? chunks - 1 : chance(rand, 0.2) ? 0 : randInt(rand, 0, chunks - 1);
      return { ...base, i, j, acc: j === 0 ? 0n : randomAcc(rand) };
    }
    case Opcode.IM2COL:
      return im2colRegisters(rand, base, insn);
    case Opcode.MAXPOOL:
    case Opcode.AVGPOOL:
    case Opcode.AVGPOOL_VALID:
      return poolRegisters(rand, base, insn, memory);
    default:
      throw new NoStepGeneratorError(`no registers for opcode ${insn.opcode}`);
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
    inputFrac: randomFormat(rand),
    outputFrac: randomFormat(rand),
    instructions,
  };
  if (validate) validateProgram(program);
  return { program, pc: target ? before.length : instructions.length - 1 };
}

/** A random instruction of `opcode` that validation accepts in a memory of depth `depth`. */
function randomInstruction(rand: Rand, depth: number, opcode: number): Instruction {
  return { opcode, args: generatorFor(opcode).operands(rand, depth) };
}

/** How to draw an opcode's operands, and (for the one-leaf-a-step ops) how many leaves its instruction runs over. */
interface StepGenerator {
  operands(rand: Rand, depth: number): number[];
  /** Unary ops and ADD: the number of steps (leaves); their registers are just i < leafCount. */
  leafCount?(args: readonly number[]): number;
}

const generators = new Map<number, StepGenerator>();

/**
 * The generator of an opcode of the table, built from its table entry: DENSE, ARGMAX and ADD by name, any unary op
 * from its operand names. Throws NoStepGeneratorError for an opcode nothing here can generate (HALT included: it
 * has no operands to draw, makeScenario handles it).
 */
export function generatorFor(code: number): StepGenerator {
  const cached = generators.get(code);
  if (cached) return cached;
  const info = opcodeInfo(code);
  if (!info) throw new NoStepGeneratorError(`opcode ${code} is not in the table`);
  const generator = makeGenerator(info);
  generators.set(code, generator);
  return generator;
}

/** The generator for a table entry (exported so that a test can show an unknown operand name is refused). */
export function makeGenerator(info: OpcodeInfo): StepGenerator {
  switch (info.name) {
    case "DENSE":
      return { operands: denseOperands };
    case "ARGMAX":
      return { operands: argmaxOperands };
    case "ADD":
      return { operands: addOperands, leafCount: (args) => Math.ceil(args[3] / LEAF_WORDS) };
    case "LAYERNORM":
      return { operands: layerNormOperands };
    case "MATMUL":
      return { operands: matmulOperands };
  }
  if (isWindowed(info.code)) return { operands: (rand, depth) => windowOperands(rand, depth, info.code) };
  if (isUnary(info.code) && UNARY_OPERANDS.every((name, k) => info.operands[k] === name)) {
    const params = info.operands.slice(UNARY_OPERANDS.length);
    const draw = PARAMETERS[params.join(",")];
    if (!draw) throw new NoStepGeneratorError(`${info.name}: no generator for the parameters (${params.join(", ")})`);
    return { operands: (rand, depth) => [...unaryOperands(rand, depth), ...draw(rand)], leafCount: (args) => Math.ceil(args[2] / LEAF_WORDS) };
  }
  throw new NoStepGeneratorError(`${info.name} (${info.operands.join(" ")}) has no random-step generator`);
}

/** Random signed parameters of the unary ops, by their operand names, as u32 operands (int32 bits). */
const PARAMETERS: Record<string, (rand: Rand) => number[]> = {
  "": () => [],
  alpha: (rand) => [u32(randomAlpha(rand))],
  "lo,hi": (rand) => {
    const r = rand();
    let lo: number, hi: number;
    if (r < 0.3) [lo, hi] = [0, 6 * 2 ** randomFormat(rand)]; // ReLU6 in some format (saturates past f = 28)
    else if (r < 0.45) [lo, hi] = [-randInt(rand, 1, 4 * ONE), randInt(rand, 1, 4 * ONE)];
    else if (r < 0.55) lo = hi = randomWord(rand, pick(rand, MODES));
    else if (r < 0.65) [lo, hi] = pick(rand, [[INT32_MIN, INT32_MAX], [INT32_MIN, INT32_MIN], [INT32_MAX, INT32_MAX], [INT32_MIN, 0], [0, INT32_MAX]]);
    else [lo, hi] = [randomWord(rand, pick(rand, MODES)), randomWord(rand, pick(rand, MODES))].sort((a, b) => a - b);
    return [u32(Math.max(INT32_MIN, Math.min(INT32_MAX, lo))), u32(Math.max(INT32_MIN, Math.min(INT32_MAX, hi)))];
  },
};

/** Random values for a unary opcode's parameters (its operands past src dst n fin fout), as u32 operands. */
export function randomParameters(rand: Rand, code: number): number[] {
  const info = opcodeInfo(code);
  const params = info && isUnary(code) ? info.operands.slice(UNARY_OPERANDS.length).join(",") : undefined;
  const draw = params === undefined ? undefined : PARAMETERS[params];
  if (!draw) throw new NoStepGeneratorError(`opcode ${code} has no unary parameters to draw`);
  return draw(rand);
}

/** A Q16.16 alpha: LeakyReLU's 0.01 / 0.2, ELU's 1.0, others, negative, zero, or any int32. */
function randomAlpha(rand: Rand): number {
  const r = rand();
  if (r < 0.5) return pick(rand, [655, 13107, ONE, ONE / 2, 6554, 2 * ONE, 0, -ONE, 1, -1]);
  if (r < 0.8) return randInt(rand, -4 * ONE, 4 * ONE);
  return chance(rand, 0.3) ? pick(rand, [INT32_MIN, INT32_MAX]) : randI32(rand);
}

/** A format (fraction bits): often 16 (Q15.16, the old fixed format), else uniform in [0, MAX_FRAC]. */
function randomFormat(rand: Rand): number {
  return chance(rand, 0.3) ? 16 : randInt(rand, 0, MAX_FRAC);
}

const u32 = (x: number) => x >>> 0;

/** n 1 … 64: whole leaves (30%) or any count (a partial last leaf). */
function randomCount(rand: Rand): number {
  return chance(rand, 0.3) ? LEAF_WORDS * randInt(rand, 1, 8) : randInt(rand, 1, 64);
}

/** A leaf-aligned address whose `span` words lie in the data region. */
function dataLeaf(rand: Rand, depth: number, span: number): number {
  const base = dataBase(depth);
  return base + LEAF_WORDS * randInt(rand, 0, (base - span) / LEAF_WORDS);
}

/** A leaf-aligned address whose `span` words lie anywhere in memory (model region included). */
function anyLeaf(rand: Rand, depth: number, span: number): number {
  return LEAF_WORDS * randInt(rand, 0, (2 * dataBase(depth) - span) / LEAF_WORDS);
}

/** An address near `addr` (a leaf or two apart, overlapping its span) still inside the data region, or addr. */
function nearLeaf(rand: Rand, depth: number, addr: number, span: number): number {
  const base = dataBase(depth);
  const moved = addr + LEAF_WORDS * pick(rand, [-2, -1, 1, 2]);
  return moved >= base && moved + span <= 2 * base ? moved : addr;
}

/** src dst n fin fout: in place, overlapping, or apart (src possibly in the model region). */
function unaryOperands(rand: Rand, depth: number): number[] {
  const n = randomCount(rand);
  const span = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
  const dst = dataLeaf(rand, depth, span);
  const r = rand();
  const src = r < 0.35 ? dst : r < 0.5 ? nearLeaf(rand, depth, dst, span) : r < 0.85 ? dataLeaf(rand, depth, span) : anyLeaf(rand, depth, span);
  return [src, dst, n, randomFormat(rand), randomFormat(rand)];
}

/** a b dst n fa fb fout: distinct, dst = a, dst = b, a = b, or all three the same. */
function addOperands(rand: Rand, depth: number): number[] {
  const n = randomCount(rand);
  const span = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
  const dst = dataLeaf(rand, depth, span);
  const other = () => (chance(rand, 0.2) ? anyLeaf(rand, depth, span) : chance(rand, 0.2) ? nearLeaf(rand, depth, dst, span) : dataLeaf(rand, depth, span));
  const mode = pick(rand, ["distinct", "distinct", "dst=a", "dst=b", "a=b", "all"] as const);
  const a = mode === "dst=a" || mode === "all" ? dst : other();
  const b = mode === "dst=b" || mode === "all" ? dst : mode === "a=b" ? a : other();
  return [a, b, dst, n, randomFormat(rand), randomFormat(rand), randomFormat(rand)];
}

function denseOperands(rand: Rand, depth: number): number[] {
  const base = dataBase(depth);
  const end = 2 * base;
  for (;;) {
    const chunks = pick(rand, [1, 1, 2, 3, 4]); // single-chunk rows (bias and output read in one step) are common
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
    // shift = fx + fw − fy: the old Q16.16 16, a typical 24 or 32 − f, or anything up to MAX_SHIFT
    const shift = chance(rand, 0.5) ? pick(rand, [16, 16, 24, 32 - randomFormat(rand), 0, MAX_SHIFT]) : randInt(rand, 0, MAX_SHIFT);
    return [input, weights, bias, output, inputs, outputs, Math.min(shift, MAX_SHIFT)];
  }
}

/** src dst n params fin fout eps: in place or not, gamma and beta anywhere, eps 1e-5, 1e-12, 0 or any u32 (Q0.32). */
function layerNormOperands(rand: Rand, depth: number): number[] {
  const [src, dst, n, fin, fout] = unaryOperands(rand, depth);
  const span = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
  const params = chance(rand, 0.7) ? LEAF_WORDS * randInt(rand, 0, (dataBase(depth) - 2 * span) / LEAF_WORDS) : anyLeaf(rand, depth, 2 * span);
  const eps = chance(rand, 0.6) ? pick(rand, [42950, 0, 1, 4295, 429497]) : randU32(rand);
  return [src, dst, n, params, fin, fout, eps];
}

/**
 * LAYERNORM's registers at leaf i of pass j: the true running sum (pass 0), sum of squared deviations (pass 1) or
 * mean and packed scale (pass 2) of the words before, or (half the time) random values of the same ranges.
 */
function layerNormRegisters(rand: Rand, base: State, insn: Instruction, memory: Int32Array): State {
  const [src, , n, , fin, , eps] = insn.args;
  const leaves = Math.ceil(n / LEAF_WORDS);
  const j = randInt(rand, 0, 2);
  const i = chance(rand, 0.3) ? leaves - 1 : randInt(rand, 0, leaves - 1);
  const words = Array.from(memory.subarray(src, src + n));
  const trueMean = layerMean(words.reduce((a, x) => a + BigInt(x), 0n), n);
  const mean = chance(rand, 0.5) ? trueMean : randomWord(rand, pick(rand, MODES));
  const real = chance(rand, 0.5);
  if (j === 0) {
    const acc = real ? words.slice(0, i * LEAF_WORDS).reduce((a, x) => a + BigInt(x), 0n) : BigInt(randInt(rand, -(i * LEAF_WORDS), i * LEAF_WORDS)) * BigInt(randI32(rand));
    return { ...base, i, j, acc, aux: randI32(rand) };
  }
  if (j === 1) {
    const acc = real ? words.slice(0, i * LEAF_WORDS).reduce((a, x) => a + squareTerm(x, mean, n), 0n) : BigInt(randU32(rand)) << BigInt(randInt(rand, 0, 29));
    return { ...base, i, j, acc, aux: mean };
  }
  const v = words.reduce((a, x) => a + squareTerm(x, mean, n), 0n);
  const scale = real ? layerScale(v, n, fin, eps) : chance(rand, 0.1) ? 0n : (BigInt(randInt(rand, 0, 31)) << 40n) | BigInt(randInt(rand, 2 ** 28, 2 ** 31 - 1));
  return { ...base, i, j, acc: scale, aux: mean };
}

/**
 * MATMUL patches weights output inputs outputs pixels shift: rows of 1–4 chunks (full, one word into the last, or
 * partial), 1–6 output channels × 1–6 pixels, patches anywhere chunk-aligned (mostly in the data region), weights and
 * their biases preferably in the model region, output in the data region; shift as DENSE's.
 */
function matmulOperands(rand: Rand, depth: number): number[] {
  const base = dataBase(depth);
  const end = 2 * base;
  for (;;) {
    const chunks = pick(rand, [1, 1, 2, 3, 4]);
    const inputs = chance(rand, 0.4) ? chunks * CHUNK_WORDS : chance(rand, 0.1) ? (chunks - 1) * CHUNK_WORDS + 1 : randInt(rand, (chunks - 1) * CHUNK_WORDS + 1, chunks * CHUNK_WORDS);
    const stride = chunks * CHUNK_WORDS;
    const outputs = chance(rand, 0.2) ? 1 : randInt(rand, 1, 6);
    const pixels = chance(rand, 0.2) ? 1 : randInt(rand, 1, 6);
    const weightWords = stride * outputs + outputs; // the rows, then the biases
    if (weightWords + LEAF_WORDS > end || stride * pixels > end || outputs * pixels > base) continue;
    const weightsEnd = weightWords + LEAF_WORDS <= base && chance(rand, 0.8) ? base : end - LEAF_WORDS;
    const weights = CHUNK_WORDS * randInt(rand, 0, Math.floor((weightsEnd - weightWords) / CHUNK_WORDS));
    const patches = chance(rand, 0.7) && stride * pixels <= base ? base + CHUNK_WORDS * randInt(rand, 0, (base - stride * pixels) / CHUNK_WORDS) : CHUNK_WORDS * randInt(rand, 0, (end - stride * pixels) / CHUNK_WORDS);
    const output = randInt(rand, base, end - outputs * pixels);
    const shift = chance(rand, 0.5) ? pick(rand, [16, 16, 24, 32 - randomFormat(rand), 0, MAX_SHIFT]) : randInt(rand, 0, MAX_SHIFT);
    return [patches, weights, output, inputs, outputs, pixels, Math.min(shift, MAX_SHIFT)];
  }
}

/**
 * A random window geometry for `opcode` (vm/window.ts) that validation accepts: 1–4 channels, images up to 12 rows
 * and 40 columns (wide rows give segments across chunk boundaries), kernels 1–5 rows and up to the segment bound
 * in columns (a pooling row of up to 33 words, IM2COL's 8-column pieces at dilations up to 4), strides and row
 * dilations 1–3, padding none, within the kernel or past it (whole kernel rows of padding), and the output size
 * the image gives (with 0–2 rows and columns of bottom/right padding) or any size up to 2 past it.
 */
export function randomWindow(rand: Rand, opcode: number): Window {
  const im2col = opcode === Opcode.IM2COL;
  const dilationW = chance(rand, 0.65) ? 1 : randInt(rand, 2, im2col ? 4 : 3);
  // columns a step reads: IM2COL at most 8 of them, a pooling all KW; their span is bounded by SEGMENT_WORDS
  const widest = im2col ? (chance(rand, 0.2) ? 12 : 6) : Math.floor((SEGMENT_WORDS - 1) / dilationW) + 1;
  const kernelW = chance(rand, 0.25) ? randInt(rand, Math.min(widest, 6), widest) : randInt(rand, 1, Math.min(widest, 5));
  const kernelH = randInt(rand, 1, chance(rand, 0.2) ? 5 : 3);
  const [strideH, strideW, dilationH] = [randInt(rand, 1, 3), chance(rand, 0.5) ? 1 : randInt(rand, 2, 3), chance(rand, 0.7) ? 1 : randInt(rand, 2, 3)];
  const extentH = (kernelH - 1) * dilationH + 1;
  const extentW = (kernelW - 1) * dilationW + 1;
  // no padding, "same"-like padding (up to half the kernel's extent), or (rarely) whole kernel rows of it and more
  const pad = (extent: number) => (chance(rand, 0.4) ? 0 : chance(rand, 0.85) ? randInt(rand, 1, Math.max(1, extent >> 1)) : Math.min(extent + randInt(rand, -1, 2), 255));
  const [padTop, padLeft] = [pad(extentH), pad(extentW)];
  const height = randInt(rand, chance(rand, 0.1) ? 1 : 3, chance(rand, 0.3) ? 12 : 6);
  const width = chance(rand, 0.35) ? randInt(rand, Math.max(16, extentW), 40) : randInt(rand, chance(rand, 0.1) ? 1 : Math.min(extentW, 10), 10);
  const natural = (size: number, before: number, extent: number, stride: number) => {
    const n = Math.floor((size + before + randInt(rand, 0, 2) - extent) / stride) + 1;
    return chance(rand, 0.8) ? Math.max(1, n) : randInt(rand, 1, Math.max(1, n) + 2);
  };
  return {
    channels: chance(rand, 0.4) ? 1 : randInt(rand, 2, 4),
    height,
    width,
    outHeight: natural(height, padTop, extentH, strideH),
    outWidth: natural(width, padLeft, extentW, strideW),
    kernelH,
    kernelW,
    strideH,
    strideW,
    padTop,
    padLeft,
    dilationH,
    dilationW,
  };
}

/**
 * src dst channels image out kernel pad of IM2COL or a pooling: a random window (randomWindow) that fits the memory,
 * the image at any word address (mostly in the data region; not chunk-aligned, so segments straddle chunks), the
 * patch rows (IM2COL, chunk-aligned) or the pooled words anywhere in the data region.
 */
function windowOperands(rand: Rand, depth: number, opcode: number): number[] {
  const base = dataBase(depth);
  for (;;) {
    const w = randomWindow(rand, opcode);
    const image = w.channels * w.height * w.width;
    const out = opcode === Opcode.IM2COL ? Math.ceil(patchWords(w) / CHUNK_WORDS) * CHUNK_WORDS * outputPixels(w) : w.channels * outputPixels(w);
    if (image + CHUNK_WORDS > 2 * base || out > base) continue;
    const src = chance(rand, 0.7) && image <= base ? randInt(rand, base, 2 * base - image) : randInt(rand, 0, 2 * base - image);
    const dst = opcode === Opcode.IM2COL ? base + CHUNK_WORDS * randInt(rand, 0, (base - out) / CHUNK_WORDS) : randInt(rand, base, 2 * base - out);
    return [src, dst, ...encodeWindow(w)];
  }
}

/** The first words of IM2COL's pieces: 0 and every multiple of KW or of 8 below K (vm/window.ts im2colPieces). */
export function im2colPieceStarts(w: Window): number[] {
  const starts: number[] = [];
  for (let k = 0; k < patchWords(w); k++) if (k % w.kernelW === 0 || k % LEAF_WORDS === 0) starts.push(k);
  return starts;
}

/**
 * Whether the step of a windowed instruction at output (position or index) `i`, piece start or kernel row `j`, reads
 * its segment from two chunks (the segment's first and last words in different chunks).
 */
function straddles(insn: Instruction, i: number, j: number): boolean {
  const w = decodeWindow(insn.args);
  const pixels = outputPixels(w);
  let c: number, pixel: number, kh: number, kw0: number, kw1: number;
  if (insn.opcode === Opcode.IM2COL) {
    const row = Math.floor(j / w.kernelW);
    [pixel, c, kh, kw0] = [i, Math.floor(row / w.kernelH), row % w.kernelH, j % w.kernelW];
    kw1 = kw0 + Math.min((row + 1) * w.kernelW, Math.floor(j / LEAF_WORDS) * LEAF_WORDS + LEAF_WORDS, patchWords(w)) - j;
  } else [c, pixel, kh, kw0, kw1] = [Math.floor(i / pixels), i % pixels, j, 0, w.kernelW];
  const ow = pixel % w.outWidth;
  const span = windowRow(w, Math.floor(pixel / w.outWidth), ow, kh, kw0, kw1);
  if (span.hi === span.lo) return false;
  const first = imageAddress(w, insn.args[0], c, span.ih, imageColumn(w, ow, span.lo));
  return Math.floor(first / CHUNK_WORDS) !== Math.floor((first + (span.hi - span.lo - 1) * w.dilationW) / CHUNK_WORDS);
}

/** Registers (i, j) drawn by `draw`, or a quarter of the time the first of 64 draws whose segment straddles two chunks. */
function preferStraddling(rand: Rand, insn: Instruction, draw: () => [number, number]): [number, number] {
  const first = draw();
  if (!chance(rand, 0.25)) return first;
  for (let t = 0; t < 64; t++) {
    const [i, j] = draw();
    if (straddles(insn, i, j)) return [i, j];
  }
  return first;
}

/** IM2COL's registers: any output position (often the last), any piece of its patch (often the first or last). */
function im2colRegisters(rand: Rand, base: State, insn: Instruction): State {
  const w = decodeWindow(insn.args);
  const pixels = outputPixels(w);
  const starts = im2colPieceStarts(w);
  const [i, j] = preferStraddling(rand, insn, () => [
    chance(rand, 0.2) ? pixels - 1 : randInt(rand, 0, pixels - 1),
    chance(rand, 0.15) ? starts[starts.length - 1] : chance(rand, 0.1) ? 0 : pick(rand, starts),
  ]);
  return { ...base, i, j };
}

/**
 * A pooling's registers at output r (often the last), kernel row kh (often the last): acc and aux the true running
 * largest / sum and count of the window's positions in rows 0 … kh−1 (half the time), or a random count of at most
 * kh·KW positions with a largest word / a sum any such count of int32 words can have (acc = 0 when none).
 */
function poolRegisters(rand: Rand, base: State, insn: Instruction, memory: Int32Array): State {
  const w = decodeWindow(insn.args);
  const pixels = outputPixels(w);
  const outputs = w.channels * pixels;
  const [i, j] = preferStraddling(rand, insn, () => [
    chance(rand, 0.2) ? outputs - 1 : randInt(rand, 0, outputs - 1),
    chance(rand, 0.35) ? w.kernelH - 1 : randInt(rand, 0, w.kernelH - 1),
  ]);
  if (chance(rand, 0.5)) {
    const c = Math.floor(i / pixels);
    const [oh, ow] = [Math.floor((i % pixels) / w.outWidth), (i % pixels) % w.outWidth];
    let [acc, aux] = [0n, 0];
    for (let kh = 0; kh < j; kh++) {
      const span = windowRow(w, oh, ow, kh, 0, w.kernelW);
      for (let kw = span.lo; kw < span.hi; kw++) {
        const v = BigInt(memory[imageAddress(w, insn.args[0], c, span.ih, imageColumn(w, ow, kw))]);
        if (insn.opcode !== Opcode.MAXPOOL) acc += v;
        else if (aux === 0 || v > acc) acc = v;
        aux++;
      }
    }
    return { ...base, i, j, acc, aux };
  }
  const aux = chance(rand, 0.2) ? j * w.kernelW : randInt(rand, 0, j * w.kernelW);
  if (aux === 0) return { ...base, i, j };
  if (insn.opcode === Opcode.MAXPOOL) return { ...base, i, j, acc: BigInt(randomWord(rand, pick(rand, MODES))), aux };
  const r = rand();
  const acc = r < 0.15 ? BigInt(aux) * BigInt(pick(rand, [INT32_MIN, INT32_MAX])) : r < 0.6 ? BigInt(aux) * BigInt(randomWord(rand, pick(rand, MODES))) / 2n : BigInt(randInt(rand, -aux, aux)) * BigInt(randomWord(rand, "mnist"));
  return { ...base, i, j, acc, aux };
}

function argmaxOperands(rand: Rand, depth: number): number[] {
  const base = dataBase(depth);
  const end = 2 * base;
  const n = chance(rand, 0.3) ? LEAF_WORDS * randInt(rand, 1, 5) : randInt(rand, 1, 40);
  const span = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
  const src = chance(rand, 0.6) ? base + LEAF_WORDS * randInt(rand, 0, (base - span) / LEAF_WORDS) : LEAF_WORDS * randInt(rand, 0, (end - span) / LEAF_WORDS);
  // dst sometimes inside the scanned words (allowed: the write comes after the last read)
  const dst = src >= base && chance(rand, 0.15) ? randInt(rand, src, src + n - 1) : randInt(rand, base, end - 1);
  return [src, n, dst];
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

/**
 * Programs and their bytecode.
 *
 * Bytecode = a 32-byte header followed by 32-byte instructions.
 *   header: "MLBC" | u16 version | u8 memory depth D | u8 flags | u32 input length | u32 output address
 *           | u32 output length | u32 instruction count | u8 input format | u8 output format | 6 zero bytes
 *           (all big-endian)
 *   instruction: u8 opcode | 3 zero bytes | 7 × u32 operands (unused ones zero)
 * The input always sits at the start of the data region (memory.ts), its words in the input format (fraction
 * bits, vm/fixed.ts). Flag bit 0 (ARGMAX_OUTPUT) says the last output word is the argmax index of the words
 * before it (a classifier's prediction); the other output words are values in the output format.
 *
 * The program root commits to the instructions: a Merkle tree of H(insn, 32 bytes) leaves, padded with the
 * all-zero instruction (HALT), so the one-step verifier can check "the instruction at pc" with one proof.
 */
import { BytecodeError } from "./errors.js";
import { TAG, taggedHash } from "./hash.js";
import { MAX_FRAC, MAX_SHIFT } from "./fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, MAX_MEMORY_DEPTH, dataBase } from "./memory.js";
import { buildLevels, emptySubtrees, merkleProof } from "./merkle.js";
import { Opcode, isUnary, isWindowed, opcodeInfo } from "./opcodes.js";
import { SEGMENT_WORDS, decodeWindow, outputPixels, patchWords, segmentSpan, stepColumns } from "./window.js";

export const BYTECODE_MAGIC = "MLBC";
/** 2: per-tensor formats (the header's input and output formats, format operands, DENSE's shift). */
export const BYTECODE_VERSION = 2;
export const HEADER_BYTES = 32;
export const INSN_BYTES = 32;
export const MAX_OPERANDS = 7;
export const FLAG_ARGMAX_OUTPUT = 1;

export interface Instruction {
  opcode: number;
  /** Operands in the order the opcode table names them. */
  args: readonly number[];
}

export interface Program {
  memoryDepth: number;
  flags: number;
  inputLength: number;
  outputAddress: number;
  outputLength: number;
  /** Fraction bits of the input words (vm/fixed.ts). */
  inputFrac: number;
  /** Fraction bits of the output values (not of a classifier's prediction index). */
  outputFrac: number;
  instructions: readonly Instruction[];
}

export function encodeInstruction(insn: Instruction): Uint8Array {
  const bytes = new Uint8Array(INSN_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, insn.opcode);
  insn.args.forEach((arg, k) => view.setUint32(4 + 4 * k, arg, false));
  return bytes;
}

export function decodeInstruction(bytes: Uint8Array, index: number): Instruction {
  const view = new DataView(bytes.buffer, bytes.byteOffset, INSN_BYTES);
  const opcode = view.getUint8(0);
  const info = opcodeInfo(opcode);
  if (!info) throw new BytecodeError(`instruction ${index}: unknown opcode 0x${opcode.toString(16).padStart(2, "0")}`);
  if (view.getUint8(1) | view.getUint8(2) | view.getUint8(3)) throw new BytecodeError(`instruction ${index} (${info.name}): reserved bytes are not zero`);
  const args: number[] = [];
  for (let k = 0; k < MAX_OPERANDS; k++) {
    const value = view.getUint32(4 + 4 * k, false);
    if (k < info.operands.length) args.push(value);
    else if (value !== 0) throw new BytecodeError(`instruction ${index} (${info.name}): unused operand ${k} is not zero`);
  }
  return { opcode, args };
}

export function encodeProgram(program: Program): Uint8Array {
  validateProgram(program);
  const bytes = new Uint8Array(HEADER_BYTES + INSN_BYTES * program.instructions.length);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(BYTECODE_MAGIC), 0);
  view.setUint16(4, BYTECODE_VERSION, false);
  view.setUint8(6, program.memoryDepth);
  view.setUint8(7, program.flags);
  view.setUint32(8, program.inputLength, false);
  view.setUint32(12, program.outputAddress, false);
  view.setUint32(16, program.outputLength, false);
  view.setUint32(20, program.instructions.length, false);
  view.setUint8(24, program.inputFrac);
  view.setUint8(25, program.outputFrac);
  program.instructions.forEach((insn, k) => bytes.set(encodeInstruction(insn), HEADER_BYTES + INSN_BYTES * k));
  return bytes;
}

export function decodeProgram(bytes: Uint8Array): Program {
  if (bytes.length < HEADER_BYTES) throw new BytecodeError(`bytecode is ${bytes.length} bytes, shorter than its ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== BYTECODE_MAGIC) throw new BytecodeError(`bytecode magic is ${JSON.stringify(magic)}, expected "${BYTECODE_MAGIC}"`);
  const version = view.getUint16(4, false);
  if (version !== BYTECODE_VERSION) throw new BytecodeError(`bytecode version ${version} is not supported (this mlvm reads version ${BYTECODE_VERSION})`);
  const count = view.getUint32(20, false);
  if (bytes.length !== HEADER_BYTES + INSN_BYTES * count) {
    throw new BytecodeError(`bytecode declares ${count} instructions (${HEADER_BYTES + INSN_BYTES * count} bytes) but is ${bytes.length} bytes`);
  }
  for (let k = 26; k < HEADER_BYTES; k++) if (bytes[k] !== 0) throw new BytecodeError(`header byte ${k} is reserved and must be zero`);
  const instructions: Instruction[] = [];
  for (let k = 0; k < count; k++) {
    instructions.push(decodeInstruction(bytes.subarray(HEADER_BYTES + INSN_BYTES * k, HEADER_BYTES + INSN_BYTES * (k + 1)), k));
  }
  return validateProgram({
    memoryDepth: view.getUint8(6),
    flags: view.getUint8(7),
    inputLength: view.getUint32(8, false),
    outputAddress: view.getUint32(12, false),
    outputLength: view.getUint32(16, false),
    inputFrac: view.getUint8(24),
    outputFrac: view.getUint8(25),
    instructions,
  });
}

/** The operands that are formats: fraction bits in [0, MAX_FRAC]. */
const FORMAT_OPERANDS = ["fin", "fout", "fa", "fb"];

/** A range of words an instruction reads or writes, and whether it must lie in the data region. */
export interface Access {
  what: string;
  addr: number;
  words: number;
  /** Writable: must lie in the data region. */
  data: boolean;
  /** The alignment the address must have (1 when any word address will do). */
  align: number;
}

const leafSpan = (addr: number, n: number) => {
  const first = Math.floor(addr / LEAF_WORDS) * LEAF_WORDS;
  return { addr: first, words: Math.ceil((addr + n) / LEAF_WORDS) * LEAF_WORDS - first };
};

/**
 * The memory an instruction touches, in whole leaves or chunks as its steps read them: what validation checks
 * and what sizes the data region a run needs.
 */
export function accesses(insn: Instruction): Access[] {
  switch (insn.opcode) {
    case Opcode.DENSE: {
      const [input, weights, bias, output, inputs, outputs] = insn.args;
      const span = Math.ceil(inputs / CHUNK_WORDS) * CHUNK_WORDS;
      return [
        { what: "input", addr: input, words: span, data: false, align: CHUNK_WORDS },
        { what: "weights", addr: weights, words: span * outputs, data: false, align: CHUNK_WORDS },
        { what: "bias", ...leafSpan(bias, outputs), data: false, align: 1 },
        { what: "output", ...leafSpan(output, outputs), data: true, align: 1 },
      ];
    }
    case Opcode.ADD: {
      const [a, b, dst, n] = insn.args;
      const words = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
      return [
        { what: "a", addr: a, words, data: false, align: LEAF_WORDS },
        { what: "b", addr: b, words, data: false, align: LEAF_WORDS },
        { what: "dst", addr: dst, words, data: true, align: LEAF_WORDS },
      ];
    }
    case Opcode.ARGMAX: {
      const [src, n, dst] = insn.args;
      return [
        { what: "src", addr: src, words: Math.ceil(n / LEAF_WORDS) * LEAF_WORDS, data: false, align: LEAF_WORDS },
        { what: "dst", ...leafSpan(dst, 1), data: true, align: 1 },
      ];
    }
    case Opcode.MATMUL: {
      const [patches, weights, output, inputs, outputs, pixels] = insn.args;
      const stride = Math.ceil(inputs / CHUNK_WORDS) * CHUNK_WORDS;
      return [
        { what: "patches", addr: patches, words: stride * pixels, data: false, align: CHUNK_WORDS },
        { what: "weights", addr: weights, words: stride * outputs, data: false, align: CHUNK_WORDS },
        { what: "bias", ...leafSpan(weights + stride * outputs, outputs), data: false, align: 1 },
        { what: "output", ...leafSpan(output, outputs * pixels), data: true, align: 1 },
      ];
    }
    case Opcode.IM2COL: {
      const [src, dst] = insn.args;
      const w = decodeWindow(insn.args);
      const stride = Math.ceil(patchWords(w) / CHUNK_WORDS) * CHUNK_WORDS;
      return [imageAccess(src, w.channels * w.height * w.width), { what: "dst", addr: dst, words: stride * outputPixels(w), data: true, align: CHUNK_WORDS }];
    }
    case Opcode.LAYERNORM: {
      const [src, dst, n, params] = insn.args;
      const words = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
      return [
        { what: "src", addr: src, words, data: false, align: LEAF_WORDS },
        { what: "dst", addr: dst, words, data: true, align: LEAF_WORDS },
        { what: "params", addr: params, words: 2 * words, data: false, align: LEAF_WORDS },
      ];
    }
    default: {
      if (isWindowed(insn.opcode)) {
        // MAXPOOL, AVGPOOL, AVGPOOL_VALID: one output word per channel and output position
        const [src, dst] = insn.args;
        const w = decodeWindow(insn.args);
        return [imageAccess(src, w.channels * w.height * w.width), { what: "dst", ...leafSpan(dst, w.channels * outputPixels(w)), data: true, align: 1 }];
      }
      if (!isUnary(insn.opcode)) return [];
      const [src, dst, n] = insn.args;
      const words = Math.ceil(n / LEAF_WORDS) * LEAF_WORDS;
      return [
        { what: "src", addr: src, words, data: false, align: LEAF_WORDS },
        { what: "dst", addr: dst, words, data: true, align: LEAF_WORDS },
      ];
    }
  }
}

/** An image read by window segments: the whole chunks around its words (a segment's chunks may reach past them). */
function imageAccess(src: number, words: number): Access {
  const first = Math.floor(src / CHUNK_WORDS) * CHUNK_WORDS;
  return { what: "src", addr: first, words: Math.ceil((src + words) / CHUNK_WORDS) * CHUNK_WORDS - first, data: false, align: CHUNK_WORDS };
}

/**
 * A windowed instruction's geometry (vm/window.ts): every size, stride and dilation at least 1, and a kernel row's
 * segment (IM2COL reads at most 8 of its columns a step, a pooling all KW) spanning at most SEGMENT_WORDS words.
 */
function validateWindow(insn: Instruction, at: string): void {
  const w = decodeWindow(insn.args);
  const positive: [string, number][] = [
    ["channels", w.channels], ["height", w.height], ["width", w.width], ["output height", w.outHeight], ["output width", w.outWidth],
    ["kernel height", w.kernelH], ["kernel width", w.kernelW], ["row stride", w.strideH], ["column stride", w.strideW],
    ["row dilation", w.dilationH], ["column dilation", w.dilationW],
  ];
  for (const [what, v] of positive) if (v < 1) throw new BytecodeError(`${at} window ${what} must be at least 1`);
  const columns = stepColumns(w, insn.opcode === Opcode.IM2COL);
  const span = segmentSpan(w, columns);
  if (span > SEGMENT_WORDS) throw new BytecodeError(`${at} a kernel row spans ${span} words (${columns} columns at dilation ${w.dilationW}), more than ${SEGMENT_WORDS}`);
  const outputs = insn.opcode === Opcode.IM2COL ? outputPixels(w) : w.channels * outputPixels(w);
  if (outputs > 0xffffffff || patchWords(w) > 0xffffff) throw new BytecodeError(`${at} window has ${outputs} outputs of ${patchWords(w)} words, beyond the VM's counters`);
}

/**
 * The rules every runnable program obeys; the compiler only emits such programs and the decoder rejects
 * others. They guarantee that every memory access of every step is aligned and inside memory, and that every
 * write lands in the data region, so the interpreter never faults and every step has a witness.
 */
export function validateProgram(program: Program): Program {
  const { memoryDepth: depth, instructions } = program;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_MEMORY_DEPTH) throw new BytecodeError(`memory depth ${depth} is outside [1, ${MAX_MEMORY_DEPTH}]`);
  if ((program.flags & ~FLAG_ARGMAX_OUTPUT) !== 0) throw new BytecodeError(`unknown header flags 0x${program.flags.toString(16)}`);
  const base = dataBase(depth);
  const end = 2 * base;
  if (program.inputLength < 1) throw new BytecodeError("input length must be at least 1");
  for (const [what, f] of [["input format", program.inputFrac], ["output format", program.outputFrac]] as const) {
    if (!Number.isInteger(f) || f < 0 || f > MAX_FRAC) throw new BytecodeError(`${what} ${f} is outside [0, ${MAX_FRAC}] fraction bits`);
  }
  if (program.outputLength < 1) throw new BytecodeError("output length must be at least 1");
  if (base + program.inputLength > end) throw new BytecodeError(`input [${base}, ${base + program.inputLength}) is outside the data region [${base}, ${end})`);
  if (program.outputAddress < base || program.outputAddress + program.outputLength > end) {
    throw new BytecodeError(`output [${program.outputAddress}, ${program.outputAddress + program.outputLength}) is outside the data region [${base}, ${end})`);
  }
  if (instructions.length === 0 || instructions[instructions.length - 1].opcode !== Opcode.HALT) {
    throw new BytecodeError("a program must end with HALT");
  }
  instructions.forEach((insn, k) => {
    const info = opcodeInfo(insn.opcode);
    if (!info) throw new BytecodeError(`instruction ${k}: unknown opcode 0x${insn.opcode.toString(16)}`);
    const at = `instruction ${k} (${info.name})`;
    if (insn.args.length !== info.operands.length) throw new BytecodeError(`${at} has ${insn.args.length} operands, expected ${info.operands.length}`);
    insn.args.forEach((a, j) => {
      if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new BytecodeError(`${at} operand ${info.operands[j]} = ${a} is not a u32`);
    });
    if (insn.opcode === Opcode.HALT && k !== instructions.length - 1) throw new BytecodeError(`${at}: HALT may only be the last instruction`);
    // Every count must be at least 1; every format (fraction bits) and shift within its range.
    info.operands.forEach((name, j) => {
      const v = insn.args[j];
      if (["inputs", "outputs", "n", "pixels"].includes(name) && v < 1) throw new BytecodeError(`${at} ${name} must be at least 1`);
      if (FORMAT_OPERANDS.includes(name) && v > MAX_FRAC) throw new BytecodeError(`${at} ${name} = ${v} is outside [0, ${MAX_FRAC}] fraction bits`);
      if (name === "shift" && v > MAX_SHIFT) throw new BytecodeError(`${at} shift = ${v} is outside [0, ${MAX_SHIFT}]`);
    });
    if (isWindowed(insn.opcode)) validateWindow(insn, at);
    if (insn.opcode === Opcode.MATMUL && insn.args[4] * insn.args[5] > 0xffffffff) {
      throw new BytecodeError(`${at} has ${insn.args[4] * insn.args[5]} outputs, beyond the VM's u32 counter`);
    }
    if (insn.opcode === Opcode.CLIP && (insn.args[5] | 0) > (insn.args[6] | 0)) {
      throw new BytecodeError(`${at} lo = ${insn.args[5] | 0} is above hi = ${insn.args[6] | 0}`);
    }
    for (const a of accesses(insn)) {
      if (a.addr % a.align !== 0) throw new BytecodeError(`${at} ${a.what} address ${a.addr} is not aligned to ${a.align} words`);
      if (a.data && a.addr < base) throw new BytecodeError(`${at} ${a.what} [${a.addr}, ${a.addr + a.words}) is outside the data region [${base}, ${end})`);
      if (a.addr + a.words > end) throw new BytecodeError(`${at} ${a.what} [${a.addr}, ${a.addr + a.words}) is outside memory [0, ${end})`);
    }
  });
  return program;
}

/**
 * How many words of the data region, from its base, a run of the program can touch: the input, every buffer
 * read or written there, and the output, rounded up to whole chunks so that any chunk holding one of those
 * words (an output chunk a claim proves, say) lies inside. A traced run keeps a Merkle tree over just these.
 */
export function dataExtent(program: Program): number {
  const base = dataBase(program.memoryDepth);
  let end = base + Math.ceil(program.inputLength / CHUNK_WORDS) * CHUNK_WORDS;
  end = Math.max(end, program.outputAddress + program.outputLength);
  for (const insn of program.instructions) {
    for (const a of accesses(insn)) if (a.addr + a.words > base) end = Math.max(end, a.addr + a.words);
  }
  return Math.ceil((end - base) / CHUNK_WORDS) * CHUNK_WORDS;
}

/** The number of steps from the initial state to the halted one: N, so the trace is s0 … sN. */
export function stepCount(program: Program): number {
  let n = 0;
  for (const insn of program.instructions) n += opcodeInfo(insn.opcode)!.steps(insn.args);
  return n;
}

/** The first step of each instruction: the step at which pc becomes k is firstStep[k]. */
export function instructionStarts(program: Program): number[] {
  const starts: number[] = [];
  let n = 0;
  for (const insn of program.instructions) {
    starts.push(n);
    n += opcodeInfo(insn.opcode)!.steps(insn.args);
  }
  return starts;
}

/** Depth of the program tree: the smallest d with 2^d ≥ instruction count. */
export function programDepth(program: Program): number {
  return Math.ceil(Math.log2(Math.max(1, program.instructions.length)));
}

/** Padding hashes of the program tree: empty[0] is the hash of the all-zero instruction, HALT. */
export const EMPTY_PROGRAM = emptySubtrees(taggedHash(TAG.insn, new Uint8Array(INSN_BYTES)), 32);

export function hashInstruction(insn: Instruction): Uint8Array {
  return taggedHash(TAG.insn, encodeInstruction(insn));
}

/** The program tree's levels (leaves first), for its root and for instruction proofs. */
export function programLevels(program: Program): Uint8Array[][] {
  return buildLevels(program.instructions.map(hashInstruction), programDepth(program), EMPTY_PROGRAM);
}

/** The program root: the Merkle root of the instruction leaves, padded with HALT. */
export function programRoot(program: Program): Uint8Array {
  const levels = programLevels(program);
  return levels[levels.length - 1][0];
}

/** The program-tree siblings of the instruction at pc. */
export function instructionProof(levels: Uint8Array[][], pc: number): Uint8Array[] {
  return merkleProof(levels, pc, EMPTY_PROGRAM);
}

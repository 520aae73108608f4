// The loaded model and the machine registers: the WASM twin of vm/state.ts plus the flat memory of
// interpreter/run.ts. One kernel instance holds one model; setupMachine allocates everything once.
import { alloc } from "./heap";

/** Words per leaf and per chunk: vm/memory.ts's LEAF_WORDS and CHUNK_WORDS. */
export const LEAF_WORDS: i32 = 8;
export const CHUNK_WORDS: i32 = 32;
/** Each instruction is stored as 8 i32: opcode, then its 7 operands. */
export const INSN_SLOTS: i32 = 8;

export let memoryDepth: i32 = 0;
/** The first data-region word: 2^(D-1) · 8. */
export let dataBaseWord: i32 = 0;
/** Words of the data region a run touches (vm/program.ts dataExtent). */
export let dataWords: i32 = 0;
/** Model image words (the model region holds these, then zeros). */
export let imageWords: i32 = 0;
/** Memory: words [0, dataBaseWord + dataWords) as i32. */
export let mem: usize = 0;
export let program: usize = 0;
export let instructionCount: i32 = 0;

// Registers (vm/state.ts): step, pc, i, j, acc, aux, halted.
export let regStep: i64 = 0;
export let regPc: i32 = 0;
export let regI: i32 = 0;
export let regJ: i32 = 0;
export let regAcc: i64 = 0;
export let regAux: i32 = 0;
export let regHalted: i32 = 0;

/** The leaf the last step wrote, or -1: a traced run rehashes its path. */
export let lastWriteLeaf: i32 = -1;

/**
 * Saturations per instruction (u32[instructionCount]): how many values the last run from s0 clamped at each pc
 * (vm/step.ts StepResult.saturated, summed). resetMachine clears them; a replay from a checkpoint (witness
 * generation) does not count, so they stay those of the last whole run, plain or traced.
 */
export let saturationCounts: usize = 0;
/** 1 while steps count their saturations: from resetMachine to the next restoreCheckpoint. */
export let countingSaturations: i32 = 1;

/** Allocates memory and program storage for a model; the host then fills the image and the instructions. */
export function setupMachine(depth: i32, instructions: i32, image: i32, data: i32): void {
  memoryDepth = depth;
  dataBaseWord = (1 << (depth - 1)) * LEAF_WORDS;
  dataWords = data;
  imageWords = image;
  instructionCount = instructions;
  mem = alloc(<usize>(dataBaseWord + dataWords) * 4);
  program = alloc(<usize>instructions * INSN_SLOTS * 4);
  saturationCounts = alloc(<usize>instructions * 4);
}

export function memoryPointer(): usize {
  return mem;
}

export function programPointer(): usize {
  return program;
}

export function saturationsPointer(): usize {
  return saturationCounts;
}

/** Adds `count` saturations to instruction `pc`'s counter (a u32: it wraps only past 4·10^9 clamps in one run). */
export function countSaturations(pc: i32, count: i32): void {
  if (!countingSaturations) return;
  const at = saturationCounts + (<usize>pc << 2);
  store<u32>(at, load<u32>(at) + <u32>count);
}

/** Clears the registers and the data region: the host then writes the input at the data base. */
export function resetMachine(): void {
  memory.fill(mem + <usize>dataBaseWord * 4, 0, <usize>dataWords * 4);
  regStep = 0;
  regPc = 0;
  regI = 0;
  regJ = 0;
  regAcc = 0;
  regAux = 0;
  regHalted = 0;
  lastWriteLeaf = -1;
  memory.fill(saturationCounts, 0, <usize>instructionCount * 4);
  countingSaturations = 1;
}

export function setRegisters(step: i64, pc: i32, i: i32, j: i32, acc: i64, aux: i32, halted: i32): void {
  regStep = step;
  regPc = pc;
  regI = i;
  regJ = j;
  regAcc = acc;
  regAux = aux;
  regHalted = halted;
}

@inline export function word(addr: i32): i32 {
  return load<i32>(mem + (<usize>addr << 2));
}

@inline export function setWord(addr: i32, value: i32): void {
  store<i32>(mem + (<usize>addr << 2), value);
}

@inline export function operand(k: i32): i32 {
  return load<i32>(program + (<usize>(regPc * INSN_SLOTS + 1 + k) << 2));
}

@inline export function opcodeAt(pc: i32): i32 {
  return load<i32>(program + (<usize>(pc * INSN_SLOTS) << 2));
}

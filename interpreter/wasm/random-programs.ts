/**
 * Random valid programs over every opcode, for the kernel's differential tests (machine.test.ts: WASM ≡ the
 * TypeScript interpreter; fast.test.ts: the kernel's whole-instruction path ≡ its step path). Written here rather
 * than compiled, so that they reach what no compiled model does: every format pair, saturation everywhere, windows
 * whose segments straddle chunks, padding-only kernel rows, MATMUL rows that clamp at int64's ends, buffers that
 * alias, weights in the data region. `tame` programs draw their model image from small words instead (the
 * magnitudes of a compiled model), so that the fast path's no-saturation bound holds for most of their rows.
 */
import { prng, randInt } from "../../datasets/synthetic.js";
import { INT32_MAX, INT32_MIN, MAX_FRAC, MAX_SHIFT, ONE } from "../../vm/fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, dataBase } from "../../vm/memory.js";
import { OPCODES, Opcode } from "../../vm/opcodes.js";
import { type Instruction, type Program, validateProgram } from "../../vm/program.js";
import { type Window, encodeWindow, outputPixels, patchWords } from "../../vm/window.js";
import type { Executable } from "../run.js";

export type Rand = () => number;
export const chance = (rand: Rand, p: number) => rand() < p;
export const pickOf = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
/** An integer in [0, n). */
const below = (rand: Rand, n: number) => Math.floor(rand() * n);

/** A word of one of the magnitudes that matter: zero, small, a Q16.16 activation, large, the int32 ends. */
export function randomWord(rand: Rand): number {
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

/** A word of a compiled model's magnitudes: a Q16.16 weight or activation, often 0 (padding), now and then a large one. */
export function tameWord(rand: Rand): number {
  if (chance(rand, 0.4)) return 0;
  return chance(rand, 0.03) ? randomWord(rand) : randInt(rand, -2 * ONE, 2 * ONE);
}

const randomFrac = (rand: Rand) => (chance(rand, 0.5) ? pickOf(rand, [0, 8, 16, 24]) : randInt(rand, 0, MAX_FRAC));
/** A count: mostly not a multiple of 8, so that a last leaf is partial. */
const randomCount = (rand: Rand, max: number) => (chance(rand, 0.2) ? LEAF_WORDS * randInt(rand, 1, max / LEAF_WORDS) : randInt(rand, 1, max));
/** A signed parameter as the u32 operand carries it. */
const u32 = (v: number) => v >>> 0;

/**
 * A small random window (vm/window.test.ts's randomWindow, scaled down to the few-thousand-word memories here):
 * kernels up to 5×5 and now and then a wide one (up to 12 columns: IM2COL splits its rows into pieces, a pooling's
 * segment spans up to 23 words), strides 1–3, dilations 1–2, padding below the kernel, and sometimes one output row
 * or column more than ONNX's floor mode gives (windows reaching past the image, rows that are all padding).
 */
export function randomWindow(rand: Rand): Window {
  const wide = chance(rand, 0.15);
  const kernelH = 1 + below(rand, 5);
  const kernelW = wide ? 6 + below(rand, 7) : 1 + below(rand, 5);
  const dilationH = 1 + below(rand, 2);
  const dilationW = 1 + below(rand, 2);
  const strideH = 1 + below(rand, 3);
  const strideW = 1 + below(rand, 3);
  const height = 1 + below(rand, 9);
  const width = wide ? 8 + below(rand, 20) : 1 + below(rand, 11);
  const padTop = below(rand, kernelH);
  const padLeft = below(rand, kernelW);
  const out = (n: number, k: number, d: number, s: number, p: number) => Math.max(1, Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1 + below(rand, 2));
  return {
    channels: 1 + below(rand, 3), height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, dilationH, dilationW,
    outHeight: out(height, kernelH, dilationH, strideH, padTop), outWidth: out(width, kernelW, dilationW, strideW, padLeft),
  };
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** One random instruction over a memory of depth `depth`; validateProgram decides whether it is kept. */
export function randomInstruction(rand: Rand, depth: number, opcode: number, previous?: Instruction): Instruction {
  const base = dataBase(depth);
  const leafIn = (lo: number, hi: number) => lo + LEAF_WORDS * randInt(rand, 0, (hi - lo) / LEAF_WORDS - 1);
  const chunkIn = (lo: number, hi: number, words: number) => lo + CHUNK_WORDS * randInt(rand, 0, Math.max(0, Math.floor((hi - lo - words) / CHUNK_WORDS)));
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
  if (opcode === Opcode.IM2COL || opcode === Opcode.MAXPOOL || opcode === Opcode.AVGPOOL || opcode === Opcode.AVGPOOL_VALID) {
    const w = randomWindow(rand);
    const imageWords = w.channels * w.height * w.width;
    // any word address, either region: segments straddle chunks, and an offset image is a group of channels
    const src = chance(rand, 0.6) ? base + below(rand, base - imageWords) : below(rand, base - imageWords);
    if (opcode === Opcode.IM2COL) {
      const rows = alignUp(patchWords(w), CHUNK_WORDS) * outputPixels(w);
      return { opcode, args: [src, chunkIn(base, 2 * base, rows), ...encodeWindow(w)] };
    }
    const outputs = w.channels * outputPixels(w);
    // now and then in place over its own image (the validator allows it; the steps define what it does)
    const dst = chance(rand, 0.1) && src >= base ? src : base + below(rand, Math.max(1, base - outputs));
    return { opcode, args: [src, dst, ...encodeWindow(w)] };
  }
  if (opcode === Opcode.MATMUL) {
    // Half the time the convolution after the IM2COL just drawn: its patches, its K, its pixels.
    let patches: number, inputs: number, pixels: number;
    if (previous?.opcode === Opcode.IM2COL && chance(rand, 0.8)) {
      const [, dst, channels, image, out, kernel] = previous.args;
      inputs = channels * (kernel >>> 24) * ((kernel >>> 16) & 0xff);
      pixels = (out >>> 16) * (out & 0xffff);
      patches = dst;
      void image;
    } else {
      inputs = randInt(rand, 1, 80);
      pixels = randInt(rand, 1, 12);
      patches = chance(rand, 0.6) ? chunkIn(base, 2 * base, alignUp(inputs, CHUNK_WORDS) * pixels) : chunkIn(0, base, alignUp(inputs, CHUNK_WORDS) * pixels);
    }
    const outputs = randInt(rand, 1, 6);
    const stride = alignUp(inputs, CHUNK_WORDS);
    const weightWords = stride * outputs + outputs; // the rows, then the biases
    const weights = chance(rand, 0.85) ? chunkIn(0, base, weightWords) : chunkIn(base, 2 * base, weightWords);
    const output = base + below(rand, Math.max(1, base - outputs * pixels));
    const shift = chance(rand, 0.5) ? pickOf(rand, [0, 8, 16, 24, MAX_SHIFT]) : randInt(rand, 0, MAX_SHIFT);
    return { opcode, args: [patches, weights, output, inputs, outputs, pixels, shift] };
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

export const BODY_OPCODES = OPCODES.map((o) => o.code).filter((c) => c !== Opcode.HALT);
/** The window opcodes and MATMUL (issue 13). */
export const WINDOW_OPCODES: readonly number[] = [Opcode.IM2COL, Opcode.MATMUL, Opcode.MAXPOOL, Opcode.AVGPOOL, Opcode.AVGPOOL_VALID];

export interface RandomProgramOptions {
  /** The opcodes to draw from (default: every opcode but HALT). */
  opcodes?: readonly number[];
  /** Memory depths to pick from (default 7 or 8; windows want 9 or 10). */
  depths?: readonly number[];
  /** Draw the model image and inputs from tameWord rather than randomWord. */
  tame?: boolean;
  /** How many instructions before HALT (default 3 … 10). */
  count?: readonly [number, number];
}

/** A valid random program (then HALT), its model image and three inputs. */
export function randomProgram(seed: number, options: RandomProgramOptions = {}): { model: Executable; inputs: Int32Array[] } {
  const { opcodes = BODY_OPCODES, depths = [7, 8], tame = false, count: [least, most] = [3, 10] } = options;
  const rand = prng(seed);
  const depth = pickOf(rand, depths);
  const base = dataBase(depth);
  const inputLength = randInt(rand, 1, 70);
  const instructions: Instruction[] = [];
  const count = randInt(rand, least, most);
  const header = { memoryDepth: depth, flags: 0, inputLength, outputAddress: base, outputLength: 64, inputFrac: 16, outputFrac: 16 };
  while (instructions.length < count) {
    const previous = instructions[instructions.length - 1];
    // after an IM2COL, mostly the MATMUL that makes it a convolution
    const convolve = previous?.opcode === Opcode.IM2COL && opcodes.includes(Opcode.MATMUL) && chance(rand, 0.7);
    const insn = randomInstruction(rand, depth, convolve ? Opcode.MATMUL : pickOf(rand, opcodes), previous);
    const candidate: Program = { ...header, instructions: [...instructions, insn, { opcode: Opcode.HALT, args: [] }] };
    try {
      validateProgram(candidate);
      instructions.push(insn);
    } catch {
      // an access out of range or misaligned: draw again
    }
  }
  const program = validateProgram({ ...header, instructions: [...instructions, { opcode: Opcode.HALT, args: [] }] });
  const word = tame ? tameWord : randomWord;
  const image = Int32Array.from({ length: base - randInt(rand, 0, 64) }, () => word(rand));
  const inputs = Array.from({ length: 3 }, () => Int32Array.from({ length: inputLength }, () => word(rand)));
  return { model: { program, image }, inputs };
}

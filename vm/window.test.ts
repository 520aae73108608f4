import { describe, expect, it } from "vitest";
import { insn, prng } from "../test/helpers/bytecode.js";
import { INT32_MAX, INT32_MIN } from "./fixed.js";
import { CHUNK_WORDS, FlatMemory, LEAF_WORDS, type MemoryReader, dataBase } from "./memory.js";
import { Opcode, opcodeInfo } from "./opcodes.js";
import { type Instruction, validateProgram } from "./program.js";
import { INITIAL_STATE, type State } from "./state.js";
import { step } from "./step.js";
import { SEGMENT_WORDS, type Window, decodeWindow, encodeWindow, im2colPieces, outputPixels, patchWords } from "./window.js";

const DEPTH = 14; // model region [0, 65536), data region [65536, 131072)
const BASE = dataBase(DEPTH);

/** An integer in [0, n). */
const below = (rand: () => number, n: number) => Math.floor(rand() * n);

/** Runs one instruction to its end, counting steps and the reads each step makes. */
function runInstruction(instruction: Instruction, memory: FlatMemory): { steps: number; maxReads: number; reads: number[] } {
  let s: State = INITIAL_STATE;
  let steps = 0;
  let maxReads = 0;
  const reads: number[] = [];
  while (s.pc === 0 && !s.halted) {
    let count = 0;
    const counting: MemoryReader = {
      readLeaf: (a) => (count++, memory.readLeaf(a)),
      readChunk: (a) => (count++, memory.readChunk(a)),
    };
    const r = step(s, instruction, counting);
    if (r.write) memory.write(r.write);
    s = r.state;
    steps++;
    maxReads = Math.max(maxReads, count);
    reads.push(count);
  }
  return { steps, maxReads, reads };
}

function randomWindow(rand: () => number): Window {
  const kernelH = 1 + below(rand, 5);
  const kernelW = 1 + below(rand, 5);
  const dilationH = 1 + below(rand, 2);
  const dilationW = 1 + below(rand, 2);
  const strideH = 1 + below(rand, 3);
  const strideW = 1 + below(rand, 3);
  const height = 1 + below(rand, 12);
  const width = 1 + below(rand, 12);
  const padTop = below(rand, kernelH);
  const padLeft = below(rand, kernelW);
  // As ONNX computes it (floor mode), at least one output; sometimes one more column/row reaching past the image.
  const out = (n: number, k: number, d: number, s: number, p: number) => Math.max(1, Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1 + below(rand, 2));
  return {
    channels: 1 + below(rand, 4), height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, dilationH, dilationW,
    outHeight: out(height, kernelH, dilationH, strideH, padTop), outWidth: out(width, kernelW, dilationW, strideW, padLeft),
  };
}

/** The image word under (c, kh, kw) of output position (oh, ow), or undefined on padding: the window's definition. */
function pixel(w: Window, image: Int32Array, c: number, oh: number, ow: number, kh: number, kw: number): number | undefined {
  const ih = oh * w.strideH - w.padTop + kh * w.dilationH;
  const iw = ow * w.strideW - w.padLeft + kw * w.dilationW;
  if (ih < 0 || ih >= w.height || iw < 0 || iw >= w.width) return undefined;
  return image[(c * w.height + ih) * w.width + iw];
}

function roundDiv(v: bigint, d: bigint): bigint {
  const m = ((v < 0n ? -v : v) * 2n + d) / (2n * d);
  return v < 0n ? -m : m;
}

function shiftRoundRef(v: bigint, s: number): bigint {
  return s === 0 ? v : roundDiv(v, 1n << BigInt(s));
}

describe("window operands", () => {
  it("encode and decode every field", () => {
    const rand = prng(1);
    for (let k = 0; k < 200; k++) {
      const w = randomWindow(rand);
      expect(decodeWindow([0, 0, ...encodeWindow(w)])).toEqual(w);
    }
    expect(() => encodeWindow({ ...randomWindow(rand), kernelH: 256 })).toThrow(/kernel height = 256 does not fit 8 bits/);
  });

  it("count IM2COL's pieces per patch by the formula", () => {
    for (let channels = 1; channels <= 4; channels++) {
      for (let kh = 1; kh <= 5; kh++) {
        for (let kw = 1; kw <= 12; kw++) {
          const w = { ...randomWindow(prng(kw)), channels, kernelH: kh, kernelW: kw };
          let pieces = 0;
          for (let k = 0; k < patchWords(w); k++) if (k === 0 || k % kw === 0 || k % LEAF_WORDS === 0) pieces++;
          expect(im2colPieces(w)).toBe(pieces);
        }
      }
    }
  });
});

describe("IM2COL then MATMUL is the convolution", () => {
  it("matches a direct convolution on 300 random geometries, every step reading at most 2 chunks and 1-2 leaves", () => {
    const rand = prng(13);
    for (let trial = 0; trial < 300; trial++) {
      const w = randomWindow(rand);
      const outputs = 1 + below(rand, 5);
      const K = patchWords(w);
      const stride = Math.ceil(K / CHUNK_WORDS) * CHUNK_WORDS;
      const pixels = outputPixels(w);
      const big = trial % 10 === 0;
      const word = () => (big ? (rand() * 2 ** 32) | 0 : below(rand, 1 << 18) - (1 << 17));
      const imageWords = w.channels * w.height * w.width;
      const image = Int32Array.from({ length: imageWords }, word);
      const weights = Array.from({ length: outputs }, () => Array.from({ length: K }, word));
      const bias = Array.from({ length: outputs }, word);
      const shift = below(rand, 32);
      const memory = new FlatMemory(2 * BASE);
      weights.forEach((row, oc) => memory.words.set(row, oc * stride));
      memory.words.set(bias, outputs * stride);
      const src = BASE + below(rand, 40); // any word address: segments straddle chunks
      memory.words.set(image, src);
      const patches = BASE + 1024;
      for (let t = patches; t < patches + stride * pixels; t++) memory.words[t] = word(); // garbage a patch row must overwrite or never use
      const output = patches + stride * pixels + below(rand, 8);
      const im2col = insn("IM2COL", src, patches, ...encodeWindow(w));
      const matmul = insn("MATMUL", patches, 0, output, K, outputs, pixels, shift);
      validateProgram({ memoryDepth: DEPTH, flags: 0, inputLength: 1, outputAddress: output, outputLength: 1, inputFrac: 16, outputFrac: 16, instructions: [im2col, matmul, insn("HALT")] });
      const a = runInstruction(im2col, memory);
      expect(a.steps).toBe(opcodeInfo(Opcode.IM2COL)!.steps(im2col.args));
      expect(a.maxReads).toBeLessThanOrEqual(3);
      const m = runInstruction(matmul, memory);
      expect(m.steps).toBe(opcodeInfo(Opcode.MATMUL)!.steps(matmul.args));
      for (let oc = 0; oc < outputs; oc++) {
        for (let p = 0; p < pixels; p++) {
          const oh = Math.floor(p / w.outWidth);
          const ow = p % w.outWidth;
          // bias·2^shift, then each chunk of 32 products added and saturated to int64, as a DENSE row
          const max = (1n << 63n) - 1n;
          const terms: bigint[] = [];
          for (let c = 0; c < w.channels; c++) for (let kh = 0; kh < w.kernelH; kh++) for (let kw = 0; kw < w.kernelW; kw++) {
            terms.push(BigInt(weights[oc][terms.length]) * BigInt(pixel(w, image, c, oh, ow, kh, kw) ?? 0));
          }
          let acc = BigInt(bias[oc]) << BigInt(shift);
          for (let c = 0; c < terms.length; c += CHUNK_WORDS) {
            acc += terms.slice(c, c + CHUNK_WORDS).reduce((a, b) => a + b, 0n);
            acc = acc > max ? max : acc < -max - 1n ? -max - 1n : acc;
          }
          const r = shiftRoundRef(acc, shift);
          const expected = r > 2147483647n ? INT32_MAX : r < -2147483648n ? INT32_MIN : Number(r);
          expect(memory.words[output + oc * pixels + p], `trial ${trial} oc ${oc} p ${p}`).toBe(expected);
        }
      }
    }
  });
});

describe("pooling", () => {
  it.each([
    ["MAXPOOL", Opcode.MAXPOOL],
    ["AVGPOOL", Opcode.AVGPOOL],
    ["AVGPOOL_VALID", Opcode.AVGPOOL_VALID],
  ] as const)("%s matches its definition on 300 random geometries, at most 2 chunks and a leaf a step", (name, code) => {
    const rand = prng(code);
    for (let trial = 0; trial < 300; trial++) {
      const w = randomWindow(rand);
      const image = Int32Array.from({ length: w.channels * w.height * w.width }, () => (trial % 7 === 0 ? (rand() * 2 ** 32) | 0 : below(rand, 1 << 18) - (1 << 17)));
      const memory = new FlatMemory(2 * BASE);
      const src = BASE + below(rand, 40);
      memory.words.set(image, src);
      const dst = BASE + 4096 + below(rand, 8);
      const instruction = insn(name, src, dst, ...encodeWindow(w));
      validateProgram({ memoryDepth: DEPTH, flags: 0, inputLength: 1, outputAddress: dst, outputLength: 1, inputFrac: 16, outputFrac: 16, instructions: [instruction, insn("HALT")] });
      const r = runInstruction(instruction, memory);
      expect(r.steps).toBe(opcodeInfo(code)!.steps(instruction.args));
      expect(r.maxReads).toBeLessThanOrEqual(3);
      for (let c = 0; c < w.channels; c++) for (let p = 0; p < outputPixels(w); p++) {
        const inside: bigint[] = [];
        for (let kh = 0; kh < w.kernelH; kh++) for (let kw = 0; kw < w.kernelW; kw++) {
          const v = pixel(w, image, c, Math.floor(p / w.outWidth), p % w.outWidth, kh, kw);
          if (v !== undefined) inside.push(BigInt(v));
        }
        const sum = inside.reduce((a, b) => a + b, 0n);
        const expected =
          code === Opcode.MAXPOOL ? (inside.length ? Number(inside.reduce((a, b) => (b > a ? b : a))) : 0)
          : code === Opcode.AVGPOOL ? Number(roundDiv(sum, BigInt(w.kernelH * w.kernelW)))
          : inside.length ? Number(roundDiv(sum, BigInt(inside.length))) : 0;
        expect(memory.words[dst + c * outputPixels(w) + p], `${name} trial ${trial} c ${c} p ${p}`).toBe(expected);
      }
    }
  });

  it("rounds a mean half away from zero, both signs", () => {
    const w: Window = { channels: 1, height: 1, width: 4, outHeight: 1, outWidth: 2, kernelH: 1, kernelW: 2, strideH: 1, strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1 };
    const memory = new FlatMemory(2 * BASE);
    memory.words.set([3, 4, -3, -4], BASE);
    runInstruction(insn("AVGPOOL", BASE, BASE + 64, ...encodeWindow(w)), memory);
    expect(Array.from(memory.words.subarray(BASE + 64, BASE + 66))).toEqual([4, -4]);
  });
});

describe("window validation", () => {
  const program = (instruction: Instruction) => () =>
    validateProgram({ memoryDepth: DEPTH, flags: 0, inputLength: 1, outputAddress: BASE, outputLength: 1, inputFrac: 16, outputFrac: 16, instructions: [instruction, insn("HALT")] });
  const base: Window = { channels: 2, height: 8, width: 8, outHeight: 8, outWidth: 8, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1 };

  it("refuses zero sizes, strides and dilations", () => {
    for (const field of ["channels", "height", "width", "outHeight", "outWidth", "kernelH", "kernelW", "strideH", "strideW", "dilationH", "dilationW"] as const) {
      expect(program(insn("MAXPOOL", BASE, BASE + 1024, ...encodeWindow({ ...base, [field]: 0 }))), field).toThrow(/must be at least 1/);
    }
  });

  it("refuses a kernel row spanning more than two chunks, and accepts one that fits", () => {
    expect(program(insn("MAXPOOL", BASE, BASE + 1024, ...encodeWindow({ ...base, width: 64, kernelW: 17, dilationW: 2 })))).not.toThrow();
    expect(program(insn("MAXPOOL", BASE, BASE + 1024, ...encodeWindow({ ...base, width: 64, kernelW: 18, dilationW: 2 })))).toThrow(/spans 35 words/);
    expect(program(insn("MAXPOOL", BASE, BASE + 1024, ...encodeWindow({ ...base, width: 64, kernelW: 12, dilationW: 3 })))).toThrow(/spans 34 words/);
    // IM2COL reads at most 8 columns a step: a 30-wide kernel is fine, 8 columns at dilation 5 are not
    expect(program(insn("IM2COL", BASE, BASE + 1024, ...encodeWindow({ ...base, width: 64, kernelW: 30 })))).not.toThrow();
    expect(program(insn("IM2COL", BASE, BASE + 1024, ...encodeWindow({ ...base, width: 64, kernelW: 8, dilationW: 5 })))).toThrow(/spans 36 words/);
    expect(SEGMENT_WORDS).toBe(33);
  });

  it("refuses patches that are not chunk-aligned and windows reading outside memory", () => {
    expect(program(insn("IM2COL", BASE, BASE + 1000, ...encodeWindow(base)))).toThrow(/dst address .* not aligned to 32/);
    expect(program(insn("MAXPOOL", 2 * BASE - 10, BASE, ...encodeWindow(base)))).toThrow(/src .* outside memory/);
    expect(program(insn("MAXPOOL", BASE, 10, ...encodeWindow(base)))).toThrow(/dst .* outside the data region/);
    expect(program(insn("MATMUL", BASE, 0, BASE + 512, 20, 3, 0, 16))).toThrow(/pixels must be at least 1/);
  });
});

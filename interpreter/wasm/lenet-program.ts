/**
 * A LeNet-5-shaped program built by hand with seeded random weights, for the kernel's fast-path tests
 * (interpreter/wasm/fast.test.ts): a hand-built program needs neither the compiler nor an ONNX file, and its
 * inputs can be pushed into saturation. The layers, as the compiler lays a convolution out (IM2COL, then MATMUL
 * over the patches; pooling on the CHW output):
 *   conv 1→6 5×5 pad 2 on 28×28, RELU, MAXPOOL 2, conv 6→16 5×5, RELU, MAXPOOL 2, DENSE 400→120, RELU,
 *   DENSE 120→84, RELU, DENSE 84→10, ARGMAX  (~416k multiply-accumulates).
 * Weights are Q15.16 words of magnitude ≤ 1/√K-ish scaled as the compiler's formats would leave them (every
 * layer Q15.16, shift 16), so that the fast path's no-saturation bound holds, as it does for compiled models.
 */
import { prng, randInt } from "../../datasets/synthetic.js";
import { ONE } from "../../vm/fixed.js";
import { CHUNK_WORDS, alignUp, dataBase } from "../../vm/memory.js";
import { OPCODES } from "../../vm/opcodes.js";
import { FLAG_ARGMAX_OUTPUT, type Instruction, validateProgram } from "../../vm/program.js";
import { type Window, encodeWindow, outputPixels, patchWords } from "../../vm/window.js";
import type { Executable } from "../run.js";

const DEPTH = 15; // model region [0, 131072), data region [131072, 262144)
const SHIFT = 16; // Q15.16 weights × Q15.16 activations → Q15.16

const op = (name: (typeof OPCODES)[number]["name"], ...args: number[]): Instruction => ({ opcode: OPCODES.find((o) => o.name === name)!.code, args });

const square = (channels: number, size: number, out: number, kernel: number, stride: number, pad: number): Window => ({
  channels, height: size, width: size, outHeight: out, outWidth: out, kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride,
  padTop: pad, padLeft: pad, dilationH: 1, dilationW: 1,
});

/** LeNet-5 over a 28×28 input with random weights (seeded): the program, its model image, and `inputs` random digits. */
export function lenetProgram(seed: number, inputs = 4): { model: Executable; inputs: Int32Array[] } {
  const rand = prng(seed);
  const base = dataBase(DEPTH);
  const image: number[] = [];
  /** Appends `rows` weight rows of `k` words (padded to whole chunks) then `rows` biases; returns where they start. */
  const weights = (rows: number, k: number): number => {
    const at = alignUp(image.length, CHUNK_WORDS);
    while (image.length < at) image.push(0);
    const scale = Math.round(ONE / Math.sqrt(k));
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < alignUp(k, CHUNK_WORDS); t++) image.push(t < k ? randInt(rand, -scale, scale) : 0);
    }
    for (let r = 0; r < rows; r++) image.push(randInt(rand, -ONE / 8, ONE / 8));
    return at;
  };
  let free = base; // the data region's next chunk
  const buffer = (words: number): number => {
    const at = alignUp(free, CHUNK_WORDS);
    free = at + words;
    return at;
  };
  const input = buffer(28 * 28);
  const program: Instruction[] = [];
  /** A convolution (IM2COL + MATMUL) then RELU in place: returns the output's address. */
  const conv = (src: number, w: Window, outChannels: number): number => {
    const k = patchWords(w);
    const pixels = outputPixels(w);
    const patches = buffer(alignUp(k, CHUNK_WORDS) * pixels);
    const out = buffer(outChannels * pixels);
    program.push(op("IM2COL", src, patches, ...encodeWindow(w)));
    program.push(op("MATMUL", patches, weights(outChannels, k), out, k, outChannels, pixels, SHIFT));
    program.push(op("RELU", out, out, outChannels * pixels, 16, 16));
    return out;
  };
  const pool = (src: number, w: Window): number => {
    const out = buffer(w.channels * outputPixels(w));
    program.push(op("MAXPOOL", src, out, ...encodeWindow(w)));
    return out;
  };
  const dense = (src: number, inputs: number, outputs: number, relu: boolean): number => {
    const w = weights(outputs, inputs);
    const out = buffer(outputs);
    program.push(op("DENSE", src, w, w + outputs * alignUp(inputs, CHUNK_WORDS), out, inputs, outputs, SHIFT));
    if (relu) program.push(op("RELU", out, out, outputs, 16, 16));
    return out;
  };
  const c1 = conv(input, square(1, 28, 28, 5, 1, 2), 6);
  const p1 = pool(c1, square(6, 28, 14, 2, 2, 0));
  const c2 = conv(p1, square(6, 14, 10, 5, 1, 0), 16);
  const p2 = pool(c2, square(16, 10, 5, 2, 2, 0));
  const d1 = dense(p2, 400, 120, true);
  const d2 = dense(d1, 120, 84, true);
  const logits = dense(d2, 84, 10, false);
  const prediction = logits + 10; // the header's argmax flag: the prediction follows the logits
  free = prediction + 1;
  program.push(op("ARGMAX", logits, 10, prediction));
  program.push(op("HALT"));
  if (image.length > base) throw new Error(`LeNet's weights (${image.length} words) overflow the model region`);
  const validated = validateProgram({
    memoryDepth: DEPTH, flags: FLAG_ARGMAX_OUTPUT, inputLength: 28 * 28, outputAddress: logits, outputLength: 11, inputFrac: 16, outputFrac: 16,
    instructions: program,
  });
  // digits: mostly 0 with strokes of up to 1.0 (Q15.16), like normalized MNIST pixels
  const digits = Array.from({ length: inputs }, () => Int32Array.from({ length: 28 * 28 }, () => (rand() < 0.2 ? randInt(rand, 0, ONE) : 0)));
  return { model: { program: validated, image: Int32Array.from(image) }, inputs: digits };
}

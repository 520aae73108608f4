/**
 * Whole traces of small convolutional programs, every step replayed in the EVM and in vm/onestep.ts (with
 * replayOpsProgram, test/evm/traces-ops.ts). The programs are built here, as a compiler would lay a CNN out but
 * with whatever geometry the test asks for, so that every step of the new ops is proven from a state a real run
 * reaches:
 *
 *   for each group g:  IM2COL x[g] → patches[g]         MATMUL patches[g] × W[g] → c[g]   (a grouped convolution:
 *                                                                                        G pairs; depthwise G = C)
 *   RELU c → c (in place)      POOL c → p  (MAXPOOL, AVGPOOL or AVGPOOL_VALID)      DENSE p → y      ARGMAX y → out
 *
 * The image is CHW at the data region's base, the convolution's output c[g] is its group's channels in order
 * (channel-major, as the next layer reads an image), the pooled p is chunk-aligned so that DENSE reads it as its
 * input vector. Weights, biases and inputs are random at realistic magnitudes with a few int32 ends (saturation).
 */
import { INT32_MAX, INT32_MIN, MAX_SHIFT } from "../../vm/fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, dataBase } from "../../vm/memory.js";
import { Opcode } from "../../vm/opcodes.js";
import { type Instruction, type Program, stepCount, validateProgram } from "../../vm/program.js";
import { type Window, encodeWindow, outputPixels, patchWords } from "../../vm/window.js";
import { insn, prng, program as makeProgram, randInt } from "../helpers/bytecode.js";
import type { Rand } from "../helpers/random-steps.js";
import type { OpsProgram } from "./traces-ops.js";

/** The geometry of one CNN program; the window fields of `conv` and `pool` are vm/window.ts's (channels, image and out are derived). */
export interface CnnShape {
  channels: number;
  height: number;
  width: number;
  /** The convolution's output channels (a multiple of groups). */
  outChannels: number;
  groups: number;
  conv: Pick<Window, "kernelH" | "kernelW" | "strideH" | "strideW" | "padTop" | "padLeft" | "dilationH" | "dilationW">;
  pool: { op: number } & Pick<Window, "kernelH" | "kernelW" | "strideH" | "strideW" | "padTop" | "padLeft" | "dilationH" | "dilationW">;
  classes: number;
}

export interface CnnProgram extends OpsProgram {
  /** How many steps the run takes to its halted state (stepCount). */
  steps: number;
}

/** A random word of magnitude about 2^bits, or (1 in 60) an int32 end. */
function word(rand: Rand, bits: number): number {
  if (rand() < 1 / 60) return rand() < 0.5 ? INT32_MIN : INT32_MAX;
  return Math.round((rand() * 2 - 1) * 2 ** bits);
}

/** Output size along one axis, with `pad` before and after (ONNX's symmetric padding, floor mode). */
function outSize(size: number, pad: number, kernel: number, stride: number, dilation: number): number {
  return Math.max(1, Math.floor((size + 2 * pad - (kernel - 1) * dilation - 1) / stride) + 1);
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** The program above for `shape`, with random formats, weights and input from `seed`. */
export function cnnProgram(shape: CnnShape, seed: number): CnnProgram {
  const rand = prng(seed);
  const { channels: C, height: H, width: W, outChannels: OC, groups: G, conv, pool, classes } = shape;
  if (C % G !== 0 || OC % G !== 0) throw new RangeError(`groups ${G} must divide channels ${C} and output channels ${OC}`);
  const f = () => randInt(rand, 6, 18);
  const [fx, fw, fc, fd, fy] = [f(), randInt(rand, 8, 14), f(), randInt(rand, 8, 14), f()];
  const shift = (a: number, b: number, out: number) => Math.max(0, Math.min(MAX_SHIFT, a + b - out));
  const convWindow: Window = {
    channels: C / G,
    height: H,
    width: W,
    outHeight: outSize(H, conv.padTop, conv.kernelH, conv.strideH, conv.dilationH),
    outWidth: outSize(W, conv.padLeft, conv.kernelW, conv.strideW, conv.dilationW),
    ...conv,
  };
  const pixels = outputPixels(convWindow);
  const K = patchWords(convWindow);
  const stride = alignUp(K, CHUNK_WORDS);
  const perGroup = OC / G;
  const poolWindow: Window = {
    channels: OC,
    height: convWindow.outHeight,
    width: convWindow.outWidth,
    outHeight: outSize(convWindow.outHeight, pool.padTop, pool.kernelH, pool.strideH, pool.dilationH),
    outWidth: outSize(convWindow.outWidth, pool.padLeft, pool.kernelW, pool.strideW, pool.dilationW),
    ...pool,
  };
  const pooled = OC * outputPixels(poolWindow);
  const denseStride = alignUp(pooled, CHUNK_WORDS);

  // model region: each group's weight rows then its biases (chunk-aligned), then DENSE's rows, then its biases
  const groupWeights: number[] = [];
  let at = 0;
  for (let g = 0; g < G; g++) {
    groupWeights.push(at);
    at = alignUp(at + stride * perGroup + perGroup, CHUNK_WORDS);
  }
  const denseWeights = at;
  const denseBias = denseWeights + denseStride * classes;
  const modelWords = denseBias + classes;
  // data region: x, the patch matrices (one per group, reused: IM2COL then MATMUL per group), c, p, y, out
  const xWords = C * H * W;
  const dataWords = (base: number) => {
    const x = base;
    const patches = alignUp(x + xWords, CHUNK_WORDS);
    const c = alignUp(patches + stride * pixels, CHUNK_WORDS);
    const p = alignUp(c + OC * pixels, CHUNK_WORDS);
    const y = alignUp(p + denseStride, LEAF_WORDS);
    const out = alignUp(y + classes, LEAF_WORDS);
    return { x, patches, c, p, y, out, end: out + LEAF_WORDS };
  };
  let depth = 6;
  while (dataBase(depth) < modelWords || dataWords(dataBase(depth)).end > 2 * dataBase(depth)) depth++;
  const base = dataBase(depth);
  const { x, patches, c, p, y, out } = dataWords(base);

  const instructions: Instruction[] = [];
  for (let g = 0; g < G; g++) {
    instructions.push({ opcode: Opcode.IM2COL, args: [x + g * (C / G) * H * W, patches, ...encodeWindow(convWindow)] });
    instructions.push(insn("MATMUL", patches, groupWeights[g], c + g * perGroup * pixels, K, perGroup, pixels, shift(fx, fw, fc)));
  }
  instructions.push(insn("RELU", c, c, OC * pixels, fc, fc));
  instructions.push({ opcode: pool.op, args: [c, p, ...encodeWindow(poolWindow)] });
  instructions.push(insn("DENSE", p, denseWeights, denseBias, y, pooled, classes, shift(fc, fd, fy)));
  instructions.push(insn("ARGMAX", y, classes, out));
  const program: Program = validateProgram(makeProgram(depth, xWords, y - base, out + 1 - y, instructions, false, { inputFrac: fx, outputFrac: fy }));

  const words = new Int32Array(2 * base);
  for (let g = 0; g < G; g++) {
    for (let r = 0; r < perGroup; r++) for (let k = 0; k < K; k++) words[groupWeights[g] + r * stride + k] = word(rand, fw - 2);
    for (let r = 0; r < perGroup; r++) words[groupWeights[g] + stride * perGroup + r] = word(rand, fc - 3);
  }
  for (let r = 0; r < classes; r++) for (let k = 0; k < pooled; k++) words[denseWeights + r * denseStride + k] = word(rand, fd - 3);
  for (let r = 0; r < classes; r++) words[denseBias + r] = word(rand, fy - 3);
  for (let k = 0; k < xWords; k++) words[x + k] = word(rand, fx + 1);
  return { program, words, steps: stepCount(program) };
}

/** A random shape for the slow suite: small images, kernels 1–5, strides, padding, dilation, groups (depthwise too). */
export function randomCnnShape(rand: Rand): CnnShape {
  const channels = randInt(rand, 1, 3);
  const groups = rand() < 0.3 ? channels : 1;
  const outChannels = groups * randInt(rand, 1, groups > 1 ? 2 : 4);
  const kernel = [1, 2, 3, 3, 5][randInt(rand, 0, 4)];
  const dilation = kernel > 1 && rand() < 0.2 ? 2 : 1;
  const extent = (kernel - 1) * dilation + 1;
  const size = () => randInt(rand, Math.max(3, extent - 2), 9);
  const pools = [Opcode.MAXPOOL, Opcode.AVGPOOL, Opcode.AVGPOOL_VALID];
  const poolKernel = randInt(rand, 1, 3);
  return {
    channels,
    height: size(),
    width: size(),
    outChannels,
    groups,
    conv: {
      kernelH: kernel,
      kernelW: rand() < 0.2 ? randInt(rand, 1, 5) : kernel,
      strideH: randInt(rand, 1, 2),
      strideW: randInt(rand, 1, 2),
      padTop: randInt(rand, 0, Math.min(2, extent - 1)),
      padLeft: randInt(rand, 0, Math.min(2, extent - 1)),
      dilationH: dilation,
      dilationW: dilation,
    },
    pool: {
      op: pools[randInt(rand, 0, 2)],
      kernelH: poolKernel,
      kernelW: poolKernel,
      strideH: randInt(rand, 1, poolKernel),
      strideW: randInt(rand, 1, poolKernel),
      padTop: randInt(rand, 0, poolKernel >> 1),
      padLeft: randInt(rand, 0, poolKernel >> 1),
      dilationH: 1,
      dilationW: 1,
    },
    classes: randInt(rand, 2, 10),
  };
}

/** No stride, padding or dilation: what the shapes below override. */
const plain = { strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1 };

/**
 * Five small CNNs, each with the seed of its weights and input: what test/evm/traces-ops-cnn.test.ts replays whole and
 * test/helpers/witness-fixtures-cnn.ts takes golden witnesses from.
 */
export const CNN_SHAPES: [string, CnnShape, number][] = [
  [
    "LeNet-like: 1×6×6, conv 3×3 pad 1 → 3 channels, RELU, MAXPOOL 2×2 stride 2, DENSE → 10",
    { channels: 1, height: 6, width: 6, outChannels: 3, groups: 1, conv: { ...plain, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1 }, pool: { op: Opcode.MAXPOOL, ...plain, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2 }, classes: 10 },
    7011,
  ],
  [
    "2×5×5, conv 5×5 pad 2 stride 2 → 3 channels, AVGPOOL 3×3 pad 1 (padding counted), DENSE → 4",
    { channels: 2, height: 5, width: 5, outChannels: 3, groups: 1, conv: { ...plain, kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 2, padLeft: 2 }, pool: { op: Opcode.AVGPOOL, ...plain, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1 }, classes: 4 },
    7021,
  ],
  [
    "1×6×6, conv 3×3 dilation 2 pad 2 → 2 channels, AVGPOOL_VALID 3×3 stride 2 pad 1 (padding left out), DENSE → 3",
    { channels: 1, height: 6, width: 6, outChannels: 2, groups: 1, conv: { ...plain, kernelH: 3, kernelW: 3, padTop: 2, padLeft: 2, dilationH: 2, dilationW: 2 }, pool: { op: Opcode.AVGPOOL_VALID, ...plain, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 }, classes: 3 },
    7012,
  ],
  [
    "grouped: 4×5×5, 2 groups of conv 3×1 → 4 channels (2 IM2COL/MATMUL pairs), MAXPOOL 3×3 pad 1, DENSE → 5",
    { channels: 4, height: 5, width: 5, outChannels: 4, groups: 2, conv: { ...plain, kernelH: 3, kernelW: 1, padTop: 1 }, pool: { op: Opcode.MAXPOOL, ...plain, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1 }, classes: 5 },
    7042,
  ],
  [
    "depthwise: 3×4×4, 3 groups of conv 3×3 pad 1 (3 pairs), AVGPOOL 2×2 stride 2, DENSE → 2",
    { channels: 3, height: 4, width: 4, outChannels: 3, groups: 3, conv: { ...plain, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1 }, pool: { op: Opcode.AVGPOOL, ...plain, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2 }, classes: 2 },
    7033,
  ],
];

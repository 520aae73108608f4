/**
 * Convolutions and poolings through the emitter (compiler/emit.ts, compiler/emit-window.ts): hand-built graphs
 * compiled and run on both engines (interpreter/run.ts and the WASM kernel, which must agree word for word), each
 * conv's or pool's output buffer read back from the VM's memory and held to a naive float64 convolution/pooling
 * written here (independent of compiler/float.ts), within the rounding of the formats the emitter chose.
 */
import { describe, expect, it } from "vitest";
import { encodeInput, run } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { prng } from "../datasets/synthetic.js";
import { CHUNK_WORDS, dataBase } from "../vm/memory.js";
import { Opcode } from "../vm/opcodes.js";
import { stepCount } from "../vm/program.js";
import { decodeWindow } from "../vm/window.js";
import { compileGraph, describeInstruction } from "./compile.js";
import { type Emitted, emit } from "./emit.js";
import { chooseFormats } from "./formats.js";
import { WindowLimitError } from "./emit-window.js";
import type { ConvLayer, ImageShape, Layer, ModelGraph, PoolLayer } from "./graph.js";

type Geometry = { kernel: [number, number]; stride?: [number, number]; padding?: [number, number, number, number]; dilation?: [number, number] };

/** The output size along one axis (floor mode, or ceil mode as PyTorch: the last window starts inside the image or its top/left padding). */
function outSize(n: number, k: number, s: number, p0: number, p1: number, d: number, ceil = false): number {
  const span = n + p0 + p1 - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + p0) out--;
  return out;
}

function window(inShape: ImageShape, outChannels: number, g: Geometry, ceil = false) {
  const stride = g.stride ?? [1, 1];
  const padding = g.padding ?? [0, 0, 0, 0];
  const dilation = g.dilation ?? [1, 1];
  const outShape = {
    channels: outChannels,
    height: outSize(inShape.height, g.kernel[0], stride[0], padding[0], padding[2], dilation[0], ceil),
    width: outSize(inShape.width, g.kernel[1], stride[1], padding[1], padding[3], dilation[1], ceil),
  };
  return { inShape, outShape, kernel: g.kernel, stride, padding, dilation };
}

function conv(rand: () => number, inShape: ImageShape, outChannels: number, g: Geometry & { groups?: number }, input?: number): ConvLayer {
  const groups = g.groups ?? 1;
  const k = (inShape.channels / groups) * g.kernel[0] * g.kernel[1];
  return {
    kind: "conv",
    ...window(inShape, outChannels, g),
    groups,
    weights: Float64Array.from({ length: outChannels * k }, () => (rand() * 2 - 1) / Math.sqrt(k)),
    bias: Float64Array.from({ length: outChannels }, () => (rand() * 2 - 1) * 0.2),
    ...(input !== undefined ? { input } : {}),
  };
}

function pool(mode: PoolLayer["mode"], inShape: ImageShape, g: Geometry, ceil = false): PoolLayer {
  return { kind: "pool", mode, ...window(inShape, inShape.channels, g, ceil) };
}

const size = (s: ImageShape) => s.channels * s.height * s.width;

/** A graph of `layers` (conv and pool layers, activations) ending in a dense layer over the last one's output. */
function graph(rand: () => number, input: ImageShape, layers: Layer[], outputs = 3): ModelGraph {
  const last = layers[layers.length - 1];
  const n = last.kind === "conv" || last.kind === "pool" ? size(last.outShape) : (last as { size: number }).size;
  const dense: Layer = {
    kind: "dense",
    inputs: n,
    outputs,
    weights: Float64Array.from({ length: n * outputs }, () => (rand() * 2 - 1) / Math.sqrt(n)),
    bias: Float64Array.from({ length: outputs }, () => (rand() * 2 - 1) * 0.1),
  };
  return { name: "cnn", inputSize: size(input), inputShape: input, outputSize: outputs, softmaxFolded: false, layers: [...layers, dense] };
}

/** Inputs in [−2, 2) exactly representable in Q15.16, so the VM and the reference see the same input. */
const image = (rand: () => number, n: number) => Array.from({ length: n }, () => Math.round((rand() * 4 - 2) * 65536) / 65536);

/** Float64 convolution, the definition: out[o][y][x] = b[o] + Σ_{c in o's group, kh, kw} W[o][c][kh][kw]·in[c][y·s − p + kh·d][…]. */
function convRef(layer: ConvLayer, x: ArrayLike<number>): Float64Array {
  const { inShape: i, outShape: o, kernel: [KH, KW], stride: [SH, SW], padding: [PT, PL], dilation: [DH, DW], groups } = layer;
  const cg = i.channels / groups;
  const og = o.channels / groups;
  const y = new Float64Array(size(o));
  for (let oc = 0; oc < o.channels; oc++) {
    const g = Math.floor(oc / og);
    for (let oh = 0; oh < o.height; oh++) {
      for (let ow = 0; ow < o.width; ow++) {
        let sum = layer.bias[oc];
        for (let c = 0; c < cg; c++) {
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * SH - PT + kh * DH;
              const iw = ow * SW - PL + kw * DW;
              if (ih < 0 || ih >= i.height || iw < 0 || iw >= i.width) continue;
              sum += layer.weights[((oc * cg + c) * KH + kh) * KW + kw] * x[((g * cg + c) * i.height + ih) * i.width + iw];
            }
          }
        }
        y[(oc * o.height + oh) * o.width + ow] = sum;
      }
    }
  }
  return y;
}

/** Float64 pooling: max over the positions inside, mean over KH·KW (padding as zeros) or over the positions inside. */
function poolRef(layer: PoolLayer, x: ArrayLike<number>): Float64Array {
  const { inShape: i, outShape: o, kernel: [KH, KW], stride: [SH, SW], padding: [PT, PL], dilation: [DH, DW] } = layer;
  const y = new Float64Array(size(o));
  for (let c = 0; c < o.channels; c++) {
    for (let oh = 0; oh < o.height; oh++) {
      for (let ow = 0; ow < o.width; ow++) {
        let max = -Infinity;
        let sum = 0;
        let count = 0;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * SH - PT + kh * DH;
            const iw = ow * SW - PL + kw * DW;
            if (ih < 0 || ih >= i.height || iw < 0 || iw >= i.width) continue;
            const v = x[(c * i.height + ih) * i.width + iw];
            max = Math.max(max, v);
            sum += v;
            count++;
          }
        }
        y[(c * o.height + oh) * o.width + ow] = layer.mode === "max" ? max : layer.mode === "avg" ? sum / (KH * KW) : sum / count;
      }
    }
  }
  return y;
}

/** Runs `emitted` on `x` on both engines (which must agree on the whole memory's output words) and returns the TS run. */
function runBoth(emitted: Emitted, x: number[]) {
  const words = Int32Array.from(x, (v) => Math.round(v * 2 ** emitted.formats.input));
  const ts = run(emitted, words);
  const wasm = new WasmMachine(emitted);
  expect(Array.from(wasm.run(words))).toEqual(Array.from(ts.output));
  expect(wasm.saturations()).toEqual(ts.saturations);
  expect(ts.saturations).toEqual([]);
  return ts;
}

/** Layer `layer`'s output as the VM left it in memory, dequantized from its format. */
function layerOutput(emitted: Emitted, memory: Int32Array, layer: number): Float64Array {
  const pc = emitted.instructionLayers.indexOf(layer);
  const insn = emitted.program.instructions[pc];
  const l = emitted.graph.layers[layer] as ConvLayer | PoolLayer;
  const addr = insn.opcode === Opcode.IM2COL ? emitted.program.instructions[pc + 1].args[2] : insn.args[1];
  const f = emitted.formats.layers[layer];
  return Float64Array.from(memory.subarray(addr, addr + size(l.outShape)), (q) => q / 2 ** f);
}

/**
 * The conv's VM output against convRef: each output within Σ|x|·2^−(fw+1) (weight rounding) + 2^−fy (bias and
 * output rounding), fw the weight format the MATMUL's shift implies.
 */
function checkConv(layer: ConvLayer, g: Geometry & { groups?: number }, rand: () => number, extra: Layer[] = []) {
  const emitted = emit(graph(rand, layer.inShape, [layer, ...extra]));
  const matmul = emitted.program.instructions.find((i) => i.opcode === Opcode.MATMUL)!;
  const fin = emitted.formats.input;
  const fy = emitted.formats.layers[0];
  const fw = matmul.args[6] + fy - fin;
  const k = (layer.inShape.channels / (g.groups ?? 1)) * layer.kernel[0] * layer.kernel[1];
  expect(emitted.program.instructions.filter((i) => i.opcode === Opcode.MATMUL)).toHaveLength(layer.groups);
  let worst = 0;
  for (let trial = 0; trial < 3; trial++) {
    const x = image(rand, size(layer.inShape));
    const { memory } = runBoth(emitted, x);
    const got = layerOutput(emitted, memory.words, 0);
    const want = convRef(layer, x);
    const bound = k * 2 * 2 ** -(fw + 1) + 2 ** -fy + 1e-12; // |x| < 2
    want.forEach((v, t) => (worst = Math.max(worst, Math.abs(got[t] - v) / bound)));
  }
  expect(worst).toBeLessThanOrEqual(1);
  return emitted;
}

describe("convolutions: the VM's output buffer against a float64 convolution", () => {
  const cases: [string, ImageShape, number, Geometry & { groups?: number }][] = [
    ["kernel 1×1, 4→8 channels", { channels: 4, height: 5, width: 5 }, 8, { kernel: [1, 1] }],
    ["kernel 3×3 padding 1, 3→6", { channels: 3, height: 8, width: 8 }, 6, { kernel: [3, 3], padding: [1, 1, 1, 1] }],
    ["kernel 5×5 padding 2, 1→4", { channels: 1, height: 12, width: 12 }, 4, { kernel: [5, 5], padding: [2, 2, 2, 2] }],
    ["kernel 3×3 stride 2 padding 1 on 9×9", { channels: 2, height: 9, width: 9 }, 3, { kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1] }],
    ["kernel 3×3 dilation 2 padding 2", { channels: 2, height: 10, width: 10 }, 3, { kernel: [3, 3], dilation: [2, 2], padding: [2, 2, 2, 2] }],
    ["groups 2, 4→8", { channels: 4, height: 6, width: 6 }, 8, { kernel: [3, 3], padding: [1, 1, 1, 1], groups: 2 }],
    ["depthwise 3×3, 6 groups", { channels: 6, height: 7, width: 7 }, 6, { kernel: [3, 3], padding: [1, 1, 1, 1], groups: 6 }],
    ["depthwise with multiplier 2, 3→6", { channels: 3, height: 5, width: 5 }, 6, { kernel: [3, 3], groups: 3 }],
    ["kernel (3,5) stride (1,2) padding (1,2) on 7×10", { channels: 2, height: 7, width: 10 }, 4, { kernel: [3, 5], stride: [1, 2], padding: [1, 2, 1, 2] }],
    ["bottom/right padding only (asymmetric)", { channels: 2, height: 6, width: 6 }, 3, { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 1, 1] }],
    ["patch of 200 words (7 MATMUL chunks a row)", { channels: 8, height: 6, width: 6 }, 5, { kernel: [5, 5], padding: [2, 2, 2, 2] }],
    ["kernel width 11 (pieces split at 8 words)", { channels: 2, height: 4, width: 16 }, 2, { kernel: [1, 11], padding: [0, 5, 0, 5] }],
  ];
  it.each(cases)("%s", (_, inShape, outChannels, g) => {
    const rand = prng(inShape.width * 31 + outChannels);
    checkConv(conv(rand, inShape, outChannels, g), g, rand);
  });

  it("lays a grouped conv out as documented: per group IM2COL from its channels, MATMUL into its output channels", () => {
    const rand = prng(7);
    const inShape = { channels: 4, height: 3, width: 3 };
    const layer = conv(rand, inShape, 6, { kernel: [2, 2], groups: 2 });
    const emitted = emit(graph(rand, inShape, [layer]));
    const { program, image: words, formats } = emitted;
    const base = dataBase(program.memoryDepth);
    const ops = program.instructions.map((i) => i.opcode);
    expect(ops).toEqual([Opcode.IM2COL, Opcode.MATMUL, Opcode.IM2COL, Opcode.MATMUL, Opcode.DENSE, Opcode.ARGMAX, Opcode.HALT]);
    expect(emitted.instructionLayers).toEqual([0, 0, 0, 0, 1, -1, -1]);
    // K = 2·2·2 = 8 words a patch row, padded to 32; 4 output pixels; the patch buffer follows the input
    const patches = base + 2 * CHUNK_WORDS; // 36 input words take 2 chunks
    const [im0, mm0, im1, mm1] = program.instructions;
    expect(im0.args.slice(0, 2)).toEqual([base, patches]);
    expect(im1.args.slice(0, 2)).toEqual([base + 2 * 9, patches]);
    expect(decodeWindow(im0.args)).toMatchObject({ channels: 2, height: 3, width: 3, outHeight: 2, outWidth: 2, kernelH: 2, kernelW: 2 });
    const out = patches + 4 * CHUNK_WORDS;
    expect(mm0.args).toEqual([patches, 0, out, 8, 3, 4, mm0.args[6]]);
    // group 1's block: 3 rows of 32 words and 3 biases = 99 words from 0, so its rows start at the next chunk, 128
    expect(mm1.args).toEqual([patches, 128, out + 3 * 4, 8, 3, 4, mm0.args[6]]);
    const fw = mm0.args[6] + formats.layers[0] - formats.input;
    // the weight format of a dense layer over K = 8 inputs: the most fraction bits with K·max|W|·2^fw ≤ 2^30
    let maxW = 0;
    layer.weights.forEach((w) => (maxW = Math.max(maxW, Math.abs(w))));
    expect(8 * maxW * 2 ** fw).toBeLessThanOrEqual(2 ** 30);
    expect(8 * maxW * 2 ** (fw + 1)).toBeGreaterThan(2 ** 30);
    for (const [g, at] of [[0, 0], [1, 128]]) {
      for (let r = 0; r < 3; r++) {
        const oc = g * 3 + r;
        const row = Array.from(words.subarray(at + r * 32, at + r * 32 + 32));
        expect(row).toEqual([...Array.from(layer.weights.subarray(oc * 8, oc * 8 + 8), (w) => Math.round(w * 2 ** fw)), ...new Array(24).fill(0)]);
        expect(words[at + 96 + r]).toBe(Math.round(layer.bias[oc] * 2 ** formats.layers[0]));
      }
    }
  });

  it("conv → relu → maxpool → dense: relu in place, a new buffer for the pool, agreement with float64 end to end", () => {
    const rand = prng(11);
    const inShape = { channels: 1, height: 12, width: 12 };
    const c = conv(rand, inShape, 4, { kernel: [5, 5], padding: [2, 2, 2, 2] });
    const relu: Layer = { kind: "activation", fn: "relu", size: size(c.outShape) };
    const p = pool("max", c.outShape, { kernel: [2, 2], stride: [2, 2] });
    const g = graph(rand, inShape, [c, relu, p], 10);
    const emitted = emit(g);
    const { program } = emitted;
    expect(program.instructions.map((i) => i.opcode)).toEqual([Opcode.IM2COL, Opcode.MATMUL, Opcode.RELU, Opcode.MAXPOOL, Opcode.DENSE, Opcode.ARGMAX, Opcode.HALT]);
    const [, mm, relu1, mp, dense] = program.instructions;
    expect(relu1.args.slice(0, 2)).toEqual([mm.args[2], mm.args[2]]);
    expect(mp.args[0]).toBe(mm.args[2]);
    expect(dense.args[0]).toBe(mp.args[1]);
    expect(emitted.formats.layers[2]).toBe(emitted.formats.layers[1]); // the pool keeps the relu's format
    let worst = 0;
    let scale = 0;
    for (let trial = 0; trial < 4; trial++) {
      const x = image(rand, size(inShape));
      const ts = runBoth(emitted, x);
      const h = poolRef(p, Float64Array.from(convRef(c, x), (v) => Math.max(v, 0)));
      const d = g.layers[3] as Extract<Layer, { kind: "dense" }>;
      const want = Array.from({ length: 10 }, (_, o) => d.bias[o] + h.reduce((s, v, i) => s + v * d.weights[o * h.length + i], 0));
      const got = Array.from(ts.output.subarray(0, 10), (q) => q / 2 ** program.outputFrac);
      want.forEach((v, o) => {
        scale = Math.max(scale, Math.abs(v));
        worst = Math.max(worst, Math.abs(got[o] - v));
      });
      expect(ts.output[10]).toBe(want.indexOf(Math.max(...want)));
    }
    expect(worst / scale).toBeLessThan(1e-4);
    // N: IM2COL 144 pixels × 8 pieces, MATMUL 4·144·1, RELU 576/8, MAXPOOL 4·36·2, DENSE 10·⌈144/32⌉, ARGMAX 2, HALT 1
    expect(stepCount(program)).toBe(144 * 8 + 576 + 72 + 288 + 50 + 2 + 1);
    const meta = compileGraph(g).meta;
    expect(meta.layers[0]).toMatch(/^conv 5×5 1×12×12→4×12×12 pad 2,2,2,2 Q\d+\.\d+$/);
    expect(meta.parameters).toBe(4 * 25 + 4 + 10 * 144 + 10);
    expect(describeInstruction(meta, 1)).toMatch(/^instruction 1 \(conv 5×5 1×12×12→4×12×12 pad 2,2,2,2 Q\d+\.\d+\)$/);
    expect(describeInstruction(meta, 3)).toMatch(/^instruction 3 \(maxpool 2×2 4×12×12→6×6 Q\d+\.\d+\)$/);
    expect(meta.inputShape).toEqual(inShape);
  });
});

/** The pool's VM output against poolRef: a maximum exactly, a mean within its rounding (half an ulp). */
function checkPool(layer: PoolLayer, rand: () => number): Emitted {
  const emitted = emit(graph(rand, layer.inShape, [layer]));
  const f = emitted.formats.layers[0];
  expect(f).toBe(emitted.formats.input);
  for (let trial = 0; trial < 3; trial++) {
    const x = image(rand, size(layer.inShape)).map((v) => (layer.mode === "max" ? v - 1.5 : v)); // mostly negative for max
    const { memory } = runBoth(emitted, x);
    const got = layerOutput(emitted, memory.words, 0);
    const want = poolRef(layer, x);
    want.forEach((v, t) => expect(Math.abs(got[t] - v)).toBeLessThanOrEqual(layer.mode === "max" ? 0 : 2 ** -(f + 1)));
  }
  return emitted;
}

describe("poolings: the VM's output buffer against a float64 pooling", () => {
  const c6 = (h: number, w = h) => ({ channels: 3, height: h, width: w });
  const cases: [string, PoolLayer, number][] = [
    ["max 2×2 stride 2", pool("max", c6(8), { kernel: [2, 2], stride: [2, 2] }), Opcode.MAXPOOL],
    ["max 3×3 stride 2 padding 1 (padding left out)", pool("max", c6(7), { kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1] }), Opcode.MAXPOOL],
    ["max 2×2 ceil mode on 7×7", pool("max", c6(7), { kernel: [2, 2], stride: [2, 2] }, true), Opcode.MAXPOOL],
    ["max 3×3 dilation 2", pool("max", c6(9), { kernel: [3, 3], dilation: [2, 2] }), Opcode.MAXPOOL],
    ["avg 2×2 stride 2", pool("avg", c6(6), { kernel: [2, 2], stride: [2, 2] }), Opcode.AVGPOOL],
    ["avg 3×3 padding 1 counting the padding", pool("avg", c6(5), { kernel: [3, 3], padding: [1, 1, 1, 1] }), Opcode.AVGPOOL],
    ["avg 3×3 padding 1 over the positions inside", pool("avg_valid", c6(5), { kernel: [3, 3], padding: [1, 1, 1, 1] }), Opcode.AVGPOOL_VALID],
    ["avg 2×2 ceil mode over the positions inside", pool("avg_valid", c6(5), { kernel: [2, 2], stride: [2, 2] }, true), Opcode.AVGPOOL_VALID],
  ];
  it.each(cases)("%s", (_, layer, opcode) => {
    const emitted = checkPool(layer, prng(layer.inShape.height * 7 + opcode));
    expect(emitted.program.instructions[0].opcode).toBe(opcode);
  });

  it.each([
    // [H, W, rows × columns of the window the VM walks]
    [5, 5, 1, 25], // 25 words: one row
    [8, 8, 2, 32], // 2 rows of 32 instead of 8 of 8
    [7, 3, 1, 21],
    [40, 40, 50, 32], // rows of 40 words would span more than 33: 50 rows of 32
    [31, 37, 37, 31], // 31·37 (both prime): the image's own rows of 37 words are too long, 37 rows of 31
  ])("a global average pool over %i×%i walks %i rows of %i words", (h, w, rows, columns) => {
    const layer = pool("avg", { channels: 2, height: h, width: w }, { kernel: [h, w] });
    const emitted = checkPool(layer, prng(h * w));
    const win = decodeWindow(emitted.program.instructions[0].args);
    expect([win.height, win.width, win.kernelH, win.kernelW, win.outHeight, win.outWidth]).toEqual([rows, columns, rows, columns, 1, 1]);
    expect(stepCount(emitted.program)).toBe(2 * rows + stepCount({ ...emitted.program, instructions: emitted.program.instructions.slice(1) }));
  });

  it("a pooling's format is its input's, whatever range calibration saw (an average of one hot pixel in four)", () => {
    const rand = prng(9);
    const shape = { channels: 1, height: 2, width: 2 };
    const g = graph(rand, shape, [pool("avg", shape, { kernel: [2, 2] })]);
    const calibration = [[0.01, 0, 0, 0]];
    const formats = chooseFormats(g, calibration);
    expect(formats.ranges[0]).toBeCloseTo(0.0025, 12); // a tensor of this range alone would get 16 + 9 = 25 bits
    expect(formats.input).toBe(23); // 0.01: 16 + 7 bits
    expect(formats.layers[0]).toBe(formats.input);
    expect(emit(g, { calibration }).formats.layers[0]).toBe(formats.input);
  });

  it("a global max pool over 40×40 is the same maximum over the plane view", () => {
    checkPool(pool("max", { channels: 2, height: 40, width: 40 }, { kernel: [40, 40] }), prng(40));
  });
});

describe("saturation in a convolution", () => {
  it("is counted at its MATMUL and described as the conv layer", () => {
    const rand = prng(21);
    const shape = { channels: 3, height: 6, width: 6 };
    const layer = conv(rand, shape, 4, { kernel: [3, 3], padding: [1, 1, 1, 1] });
    layer.weights.fill(0.5);
    layer.bias.fill(0);
    const g = graph(rand, shape, [layer]);
    // calibrated on inputs ~1e-4: Q7.24 everywhere (±128); then every input 100: a conv output of 0.5·27·100 = 1350
    const model = compileGraph(g, { calibration: [image(rand, size(shape)).map((v) => v * 1e-4)] });
    expect(model.meta.layers[0]).toMatch(/Q7\.24$/);
    const { saturations } = run(model, encodeInput(model.program, new Array(size(shape)).fill(100)));
    expect(saturations.length).toBeGreaterThan(0);
    expect(model.program.instructions[saturations[0].pc].opcode).toBe(Opcode.MATMUL);
    expect(describeInstruction(model.meta, saturations[0].pc)).toMatch(/^instruction 1 \(conv 3×3 3×6×6→4×6×6 pad 1,1,1,1 Q\d+\.\d+\)$/);
  });
});

describe("what the VM's windows cannot say is refused, naming the layer", () => {
  const rand = prng(5);
  it.each([
    ["a kernel wider than 255", conv(rand, { channels: 1, height: 1, width: 300 }, 1, { kernel: [1, 256] }), /layer 0 \(conv 1×256 1×1×300→1×1×45\): kernel width 256 is more than the VM's window allows \(255\)/],
    ["a stride over 255", conv(rand, { channels: 1, height: 2, width: 600 }, 1, { kernel: [1, 1], stride: [1, 300] }), /column stride 300 is more than the VM's window allows \(255\)/],
    ["padding over 255", conv(rand, { channels: 1, height: 2, width: 2 }, 1, { kernel: [1, 1], padding: [0, 256, 0, 0] }), /left padding 256 is more than/],
    [
      "8 kernel columns at dilation 5 (an IM2COL piece spanning 36 words)",
      conv(rand, { channels: 1, height: 2, width: 40 }, 1, { kernel: [1, 8], dilation: [1, 5] }),
      /a kernel row read spans 36 words \(8 columns at dilation 5\), more than the VM's 33/,
    ],
    ["a pooling row of 34 columns (not the whole image)", pool("max", { channels: 1, height: 2, width: 40 }, { kernel: [1, 34] }), /a kernel row read spans 34 words \(34 columns at dilation 1\)/],
  ])("%s", (_, layer, message) => {
    const g = graph(rand, layer.inShape, [layer]);
    expect(() => emit(g)).toThrow(WindowLimitError);
    expect(() => emit(g)).toThrow(message);
  });

  it("a conv kernel row of 40 columns is fine: IM2COL reads it 8 columns a step", () => {
    const c = conv(rand, { channels: 1, height: 2, width: 40 }, 2, { kernel: [1, 40] });
    checkConv(c, { kernel: [1, 40] }, rand);
  });
});

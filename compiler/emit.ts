/**
 * Quantization and code generation: a float ModelGraph → an mlvm Program and its model-region memory image.
 *
 * The graph is first folded (compiler/fold.ts: no affine layers left), then every tensor gets a format
 * (compiler/formats.ts). Layout (word addresses; see vm/memory.ts for the two regions):
 *   model region, from 0:      for each dense layer, W with rows padded to whole chunks (stride ⌈in/K⌉·K),
 *                              chunk-aligned, then its bias, leaf-aligned; for each convolution, per group g:
 *                              its OC/G weight rows (K = C/G·KH·KW words in ONNX's (c, kh, kw) order, padded to
 *                              whole chunks), chunk-aligned, then its OC/G biases right after (MATMUL's layout)
 *   data region, from dataBase: the input, the patch buffer when there is a convolution (scratch: ⌈K/32⌉·32 words
 *                              per output position, sized for the largest convolution, rewritten by each), then
 *                              buffers, each chunk-aligned and padded to whole chunks so it can feed a dense
 *                              layer's chunk reads. A dense layer, a convolution and a pooling always write a new
 *                              buffer; an elementwise layer writes over its operand when nothing later reads that
 *                              operand (in place), else a new buffer. An image is stored channel-major (CHW,
 *                              vm/window.ts), so a Flatten is nothing: the next dense layer reads the same words.
 * A convolution of G groups is G pairs IM2COL (group g's C/G input channels, from src + g·C/G·H·W, into the patch
 * buffer) then MATMUL (into out + g·OC/G·OH·OW); a pooling is one MAXPOOL, AVGPOOL or AVGPOOL_VALID over all its
 * channels (compiler/emit-window.ts: their windows, and what the VM cannot do).
 * A model with more than one output ends with ARGMAX, whose index lands in the word after the outputs; the
 * output region is then [outputs…, prediction] and the header's ARGMAX_OUTPUT flag is set.
 */
import { FRAC_BITS, quantize } from "../vm/fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, MAX_MEMORY_DEPTH, alignUp, dataBase } from "../vm/memory.js";
import { Opcode } from "../vm/opcodes.js";
import { FLAG_ARGMAX_OUTPUT, type Instruction, type Program, validateProgram } from "../vm/program.js";
import { foldGraph } from "./fold.js";
import { encodeWindow, outputPixels, patchWords } from "../vm/window.js";
import { convWindow, poolWindow } from "./emit-window.js";
import { type Formats, chooseFormats, formatOf, linearFormat } from "./formats.js";
import {
  type ActivationKind, type ActivationLayer, INPUT, type ModelGraph, ModelFormatError, type PoolLayer, UnsupportedOpError, describeLayer, inputOf,
  layerSize, validateGraph,
} from "./graph.js";

/** A weight or bias outside the range its layer's format can hold. */
export class WeightRangeError extends ModelFormatError {}

/** A model whose memory would not fit mlvm's largest memory. */
export class ModelTooLargeError extends ModelFormatError {}

const UNARY_OPCODE: Record<ActivationKind, number> = {
  relu: Opcode.RELU,
  sigmoid: Opcode.SIGMOID,
  tanh: Opcode.TANH,
  leaky_relu: Opcode.LEAKY_RELU,
  elu: Opcode.ELU,
  softplus: Opcode.SOFTPLUS,
  clip: Opcode.CLIP,
  gelu: Opcode.GELU,
  gelu_tanh: Opcode.GELU_TANH,
  silu: Opcode.SILU,
};

const POOL_OPCODE: Record<PoolLayer["mode"], number> = {
  max: Opcode.MAXPOOL,
  avg: Opcode.AVGPOOL,
  avg_valid: Opcode.AVGPOOL_VALID,
};

export interface EmitOptions {
  /** Calibration inputs (float, graph.inputSize values each): the formats follow their ranges. */
  calibration?: readonly ArrayLike<number>[];
}

export interface Emitted {
  program: Program;
  image: Int32Array;
  /** The folded graph the program computes. */
  graph: ModelGraph;
  formats: Formats;
  /** For each instruction, the layer it computes (the folded graph's index), or -1 for ARGMAX and HALT. */
  instructionLayers: number[];
}

/** A place in the data region, relative to dataBase. */
interface Buffer {
  addr: number;
  /** Words it may hold (a multiple of CHUNK_WORDS). */
  capacity: number;
}

export function emit(source: ModelGraph, options: EmitOptions = {}): Emitted {
  const graph = validateGraph(foldGraph(validateGraph(source)));
  const formats = chooseFormats(graph, options.calibration);
  const { layers } = graph;
  const classifier = graph.outputSize > 1;
  const last = layers.length - 1;

  // The last reader of each value, so an elementwise layer knows whether it may overwrite its operand.
  const lastUse = new Map<number, number>();
  layers.forEach((layer, index) => {
    lastUse.set(inputOf(graph, index), index);
    if (layer.kind === "add") lastUse.set(layer.other, index);
  });
  const freeAfter = (ref: number, index: number) => lastUse.get(ref) === index;

  let modelEnd = 0;
  const modelWords: [number, Int32Array][] = [];
  let dataEnd = alignUp(graph.inputSize, CHUNK_WORDS);
  const newBuffer = (words: number): Buffer => {
    const addr = alignUp(dataEnd, CHUNK_WORDS);
    const capacity = alignUp(words, CHUNK_WORDS);
    dataEnd = addr + capacity;
    return { addr, capacity };
  };
  const buffers = new Map<number, Buffer>([[INPUT, { addr: 0, capacity: alignUp(graph.inputSize, CHUNK_WORDS) }]]);
  const relative: Instruction[] = [];
  const instructionLayers: number[] = [];
  const where = (index: number) => `layer ${index} (${layers[index].source ?? describeLayer(layers[index])})`;

  // The patch buffer every convolution's IM2COL fills and its MATMUL reads: rows of ⌈K/32⌉·32 words, one per pixel.
  let patchWordsNeeded = 0;
  layers.forEach((layer, index) => {
    if (layer.kind !== "conv") return;
    const w = convWindow(layer, where(index));
    patchWordsNeeded = Math.max(patchWordsNeeded, outputPixels(w) * alignUp(patchWords(w), CHUNK_WORDS));
  });
  const patches = patchWordsNeeded > 0 ? newBuffer(patchWordsNeeded) : null;

  layers.forEach((layer, index) => {
    const at = where(index);
    const from = inputOf(graph, index);
    const src = buffers.get(from)!;
    const fin = formatOf(formats, from);
    // The last layer of a classifier needs one more word for the prediction.
    const words = layerSize(layer) + (index === last && classifier ? 1 : 0);
    const reuse = (ref: number) => {
      const b = buffers.get(ref)!;
      return freeAfter(ref, index) && b.capacity >= words ? b : null;
    };
    let out: Buffer;
    switch (layer.kind) {
      case "dense": {
        // The output format may have to give up fraction bits so that the bias and the weights fit int32.
        const { fy, fw, shift } = linearFormat(layer.inputs, maxAbs(layer.weights), maxAbs(layer.bias), fin, formats.layers[index]);
        formats.layers[index] = fy;
        const stride = alignUp(layer.inputs, CHUNK_WORDS);
        const weights = alignUp(modelEnd, CHUNK_WORDS);
        const w = new Int32Array(stride * layer.outputs);
        for (let r = 0; r < layer.outputs; r++) {
          for (let c = 0; c < layer.inputs; c++) w[r * stride + c] = quantizeParam(layer.weights[r * layer.inputs + c], fw, () => `${at} weight [${r}][${c}]`);
        }
        const bias = alignUp(weights + w.length, LEAF_WORDS);
        const b = Int32Array.from(layer.bias, (v, r) => quantizeParam(v, fy, () => `${at} bias [${r}]`));
        modelWords.push([weights, w], [bias, b]);
        modelEnd = bias + layer.outputs;
        out = newBuffer(words);
        relative.push({ opcode: Opcode.DENSE, args: [src.addr, weights, bias, out.addr, layer.inputs, layer.outputs, shift] });
        break;
      }
      case "conv": {
        const window = convWindow(layer, at);
        const k = patchWords(window);
        const { kernelH: kh, kernelW: kw } = window;
        const stride = alignUp(k, CHUNK_WORDS);
        const pixels = outputPixels(window);
        const rows = layer.outShape.channels / layer.groups;
        const { fy, fw, shift } = linearFormat(k, maxAbs(layer.weights), maxAbs(layer.bias), fin, formats.layers[index]);
        formats.layers[index] = fy;
        out = newBuffer(words);
        for (let g = 0; g < layer.groups; g++) {
          // OC/G weight rows of K words (ONNX's [oc][c][kh][kw] rows), padded to whole chunks, then the OC/G biases
          const weights = alignUp(modelEnd, CHUNK_WORDS);
          const block = new Int32Array(rows * stride + rows);
          for (let r = 0; r < rows; r++) {
            const oc = g * rows + r;
            for (let t = 0; t < k; t++) {
              const what = () => `${at} weight [${oc}][${Math.floor(t / (kh * kw))}][${Math.floor(t / kw) % kh}][${t % kw}]`;
              block[r * stride + t] = quantizeParam(layer.weights[oc * k + t], fw, what);
            }
            block[rows * stride + r] = quantizeParam(layer.bias[oc], fy, () => `${at} bias [${oc}]`);
          }
          modelWords.push([weights, block]);
          modelEnd = weights + block.length;
          const input = src.addr + g * window.channels * window.height * window.width;
          relative.push({ opcode: Opcode.IM2COL, args: [input, patches!.addr, ...encodeWindow(window)] });
          relative.push({ opcode: Opcode.MATMUL, args: [patches!.addr, weights, out.addr + g * rows * pixels, k, rows, pixels, shift] });
        }
        break;
      }
      case "pool": {
        // A pooling's words keep their input's scale: its output format is its input's (compiler/formats.ts).
        formats.layers[index] = fin;
        out = newBuffer(words);
        relative.push({ opcode: POOL_OPCODE[layer.mode], args: [src.addr, out.addr, ...encodeWindow(poolWindow(layer, at))] });
        break;
      }
      case "activation": {
        out = reuse(from) ?? newBuffer(words);
        const fout = formats.layers[index];
        relative.push({ opcode: UNARY_OPCODE[layer.fn], args: [src.addr, out.addr, layer.size, fin, fout, ...activationParams(layer, fin, at)] });
        break;
      }
      case "add": {
        out = reuse(from) ?? reuse(layer.other) ?? newBuffer(words);
        const other = buffers.get(layer.other)!;
        relative.push({ opcode: Opcode.ADD, args: [src.addr, other.addr, out.addr, layer.size, fin, formatOf(formats, layer.other), formats.layers[index]] });
        break;
      }
      case "layernorm": {
        out = reuse(from) ?? newBuffer(words);
        const fout = formats.layers[index];
        const span = alignUp(layer.size, LEAF_WORDS);
        const params = alignUp(modelEnd, LEAF_WORDS);
        const gamma = Int32Array.from(layer.gamma, (v, t) => quantizeParam(v, FRAC_BITS, () => `${at} gamma [${t}]`));
        const beta = Int32Array.from(layer.beta, (v, t) => quantizeParam(v, fout, () => `${at} beta [${t}]`));
        modelWords.push([params, gamma], [params + span, beta]);
        modelEnd = params + 2 * span;
        const eps = Math.round(layer.epsilon * 2 ** 32);
        if (eps > 0xffffffff) throw new UnsupportedOpError(`${at}: epsilon ${layer.epsilon} is not below 1`);
        relative.push({ opcode: Opcode.LAYERNORM, args: [src.addr, out.addr, layer.size, params, fin, fout, eps] });
        break;
      }
      case "affine":
        throw new ModelFormatError(`${at}: an affine layer survived folding`); // foldGraph removes them all
    }
    buffers.set(index, out);
    while (instructionLayers.length < relative.length) instructionLayers.push(index);
  });

  const output = buffers.get(last)!;
  if (classifier) {
    relative.push({ opcode: Opcode.ARGMAX, args: [output.addr, graph.outputSize, output.addr + graph.outputSize] });
    instructionLayers.push(-1);
  }
  relative.push({ opcode: Opcode.HALT, args: [] });
  instructionLayers.push(-1);

  const depth = memoryDepthFor(Math.max(modelEnd, dataEnd));
  const base = dataBase(depth);
  const image = new Int32Array(modelEnd);
  for (const [addr, values] of modelWords) image.set(values, addr);
  const program = validateProgram({
    memoryDepth: depth,
    flags: classifier ? FLAG_ARGMAX_OUTPUT : 0,
    inputLength: graph.inputSize,
    outputAddress: base + output.addr,
    outputLength: graph.outputSize + (classifier ? 1 : 0),
    inputFrac: formats.input,
    outputFrac: formats.layers[last],
    instructions: relative.map((insn) => toAbsolute(insn, base)),
  });
  return { program, image, graph, formats, instructionLayers };
}

/** The signed parameters of an elementwise instruction, as u32 operands: alpha in Q16.16; clip bounds in the input format. */
function activationParams(layer: ActivationLayer, fin: number, at: string): number[] {
  switch (layer.fn) {
    case "leaky_relu":
    case "elu":
      return [quantizeParam(layer.alpha ?? 0, FRAC_BITS, () => `${at} alpha`) >>> 0];
    case "clip": {
      const limit = 2 ** (31 - fin);
      const bound = (v: number | undefined, fallback: number) => (v === undefined || Math.abs(v) >= limit ? fallback : quantize(v, `${at} bound`, fin));
      const lo = bound(layer.min, -2147483648);
      const hi = bound(layer.max, 2147483647);
      return [lo >>> 0, hi >>> 0];
    }
    default:
      return [];
  }
}

/** Data-region operands are relative to dataBase until the memory depth is known. */
function toAbsolute(insn: Instruction, base: number): Instruction {
  const a = insn.args;
  switch (insn.opcode) {
    case Opcode.HALT:
      return insn;
    case Opcode.DENSE:
      return { opcode: insn.opcode, args: [base + a[0], a[1], a[2], base + a[3], a[4], a[5], a[6]] };
    case Opcode.ARGMAX:
      return { opcode: insn.opcode, args: [base + a[0], a[1], base + a[2]] };
    case Opcode.ADD:
      return { opcode: insn.opcode, args: [base + a[0], base + a[1], base + a[2], ...a.slice(3)] };
    case Opcode.LAYERNORM: // src dst n params (model region) fin fout eps
      return { opcode: insn.opcode, args: [base + a[0], base + a[1], ...a.slice(2)] };
    case Opcode.MATMUL: // patches weights (model region) output inputs outputs pixels shift
      return { opcode: insn.opcode, args: [base + a[0], a[1], base + a[2], ...a.slice(3)] };
    default: // unary: src dst n fin fout params…; IM2COL and the poolings: src dst and the window
      return { opcode: insn.opcode, args: [base + a[0], base + a[1], ...a.slice(2)] };
  }
}

/** The smallest depth D whose two halves (2^(D-1) leaves each) hold `words` words. */
export function memoryDepthFor(words: number): number {
  for (let depth = 1; depth <= MAX_MEMORY_DEPTH; depth++) if (dataBase(depth) >= words) return depth;
  throw new ModelTooLargeError(`the model needs ${words} words of memory, more than mlvm's 2^${MAX_MEMORY_DEPTH - 1} leaves per region`);
}

function quantizeParam(value: number, frac: number, what: () => string): number {
  try {
    return quantize(value, "value", frac);
  } catch {
    throw new WeightRangeError(`${what()} is ${value}, beyond what its layer's formats can hold (|value| < 2^${31 - frac} with ${frac} fraction bits)`);
  }
}

function maxAbs(values: Float64Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}


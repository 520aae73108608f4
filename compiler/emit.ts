/**
 * Quantization and code generation: a float ModelGraph → an mlvm Program and its model-region memory image.
 *
 * The graph is first folded (compiler/fold.ts: no affine layers left), then every tensor gets a format
 * (compiler/formats.ts). Layout (word addresses; see vm/memory.ts for the two regions):
 *   model region, from 0:      for each dense layer, W with rows padded to whole chunks (stride ⌈in/K⌉·K),
 *                              chunk-aligned, then its bias, leaf-aligned
 *   data region, from dataBase: the input, then buffers, each chunk-aligned and padded to whole chunks so it can
 *                              feed a dense layer's chunk reads. A dense layer always writes a new buffer; an
 *                              elementwise layer writes over its operand when nothing later reads that operand
 *                              (in place), else a new buffer.
 * A model with more than one output ends with ARGMAX, whose index lands in the word after the outputs; the
 * output region is then [outputs…, prediction] and the header's ARGMAX_OUTPUT flag is set.
 */
import { FRAC_BITS, MAX_FRAC, quantize } from "../vm/fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, MAX_MEMORY_DEPTH, alignUp, dataBase } from "../vm/memory.js";
import { Opcode } from "../vm/opcodes.js";
import { FLAG_ARGMAX_OUTPUT, type Instruction, type Program, validateProgram } from "../vm/program.js";
import { foldGraph } from "./fold.js";
import { type Formats, chooseFormats, denseFormat, formatOf } from "./formats.js";
import { type ActivationKind, type ActivationLayer, INPUT, type ModelGraph, ModelFormatError, UnsupportedOpError, describeLayer, inputOf, layerSize, validateGraph } from "./graph.js";

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

  layers.forEach((layer, index) => {
    const at = `layer ${index} (${layer.source ?? describeLayer(layer)})`;
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
        const maxW = maxAbs(layer.weights);
        const maxB = maxAbs(layer.bias);
        // The output format may have to give up fraction bits so that the bias and the weights fit int32.
        let fy = formats.layers[index];
        if (maxB > 0) fy = Math.min(fy, 30 - Math.ceil(Math.log2(maxB)));
        if (maxW > 0) fy = Math.min(fy, fin + 30 - Math.ceil(Math.log2(maxW)));
        fy = Math.max(0, Math.min(fy, MAX_FRAC));
        formats.layers[index] = fy;
        const { fw, shift } = denseFormat(layer.inputs, maxW, fin, fy);
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
    instructionLayers.push(index);
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
    default: // unary: src dst n fin fout params…
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


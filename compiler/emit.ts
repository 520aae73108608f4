/**
 * Quantization and code generation: a float ModelGraph → an mlvm Program and its model-region memory image.
 *
 * Layout (word addresses; see vm/memory.ts for the two regions):
 *   model region, from 0:      for each dense layer, W with rows padded to whole chunks (stride ⌈in/K⌉·K),
 *                              chunk-aligned, then its bias, leaf-aligned
 *   data region, from dataBase: the input, then one buffer per dense layer, each chunk-aligned and padded
 *                              to whole chunks so it can feed the next layer's chunk reads. Activations work
 *                              in place on the buffer they follow.
 * A model with more than one output ends with ARGMAX, whose index lands in the word after the outputs; the
 * output region is then [outputs…, prediction] and the header's ARGMAX_OUTPUT flag is set.
 */
import { quantize } from "../vm/fixed.js";
import { CHUNK_WORDS, LEAF_WORDS, MAX_MEMORY_DEPTH, alignUp, dataBase } from "../vm/memory.js";
import { Opcode } from "../vm/opcodes.js";
import { FLAG_ARGMAX_OUTPUT, type Instruction, type Program, validateProgram } from "../vm/program.js";
import { type ActivationKind, type ModelGraph, ModelFormatError, validateGraph } from "./graph.js";

/** A weight or bias outside the Q16.16 range [-32768, 32768). */
export class WeightRangeError extends ModelFormatError {}

/** A model whose memory would not fit mlvm's largest memory. */
export class ModelTooLargeError extends ModelFormatError {}

const ACTIVATION_OPCODE: Record<ActivationKind, number> = {
  relu: Opcode.RELU,
  sigmoid: Opcode.SIGMOID,
  tanh: Opcode.TANH,
};

interface PendingDense {
  weights: number;
  bias: number;
  values: Int32Array;
  biasValues: Int32Array;
}

export function emit(graph: ModelGraph): { program: Program; image: Int32Array } {
  validateGraph(graph);
  // Pass 1: model-region layout and quantized values.
  let modelEnd = 0;
  const denses: PendingDense[] = [];
  graph.layers.forEach((layer, index) => {
    if (layer.kind !== "dense") return;
    const stride = alignUp(layer.inputs, CHUNK_WORDS);
    const weights = alignUp(modelEnd, CHUNK_WORDS);
    const values = new Int32Array(stride * layer.outputs);
    for (let r = 0; r < layer.outputs; r++) {
      for (let c = 0; c < layer.inputs; c++) {
        values[r * stride + c] = quantizeWeight(layer.weights[r * layer.inputs + c], () => `layer ${index} (dense) weight [${r}][${c}]`);
      }
    }
    const bias = alignUp(weights + values.length, LEAF_WORDS);
    const biasValues = Int32Array.from(layer.bias, (b, r) => quantizeWeight(b, () => `layer ${index} (dense) bias [${r}]`));
    denses.push({ weights, bias, values, biasValues });
    modelEnd = bias + layer.outputs;
  });

  // Pass 2: data-region layout (relative to dataBase), then instructions.
  const classifier = graph.outputSize > 1;
  const bufferSpan = (n: number) => alignUp(n, CHUNK_WORDS);
  let dataEnd = bufferSpan(graph.inputSize);
  let current = 0; // relative address of the buffer the next layer reads
  const relative: Instruction[] = [];
  let denseIndex = 0;
  let lastDense = -1;
  graph.layers.forEach((layer, index) => {
    if (layer.kind === "dense") lastDense = index;
  });
  graph.layers.forEach((layer, index) => {
    if (layer.kind === "dense") {
      const out = alignUp(dataEnd, CHUNK_WORDS);
      const { weights, bias } = denses[denseIndex++];
      relative.push({ opcode: Opcode.DENSE, args: [current, weights, bias, out, layer.inputs, layer.outputs] });
      dataEnd = out + bufferSpan(layer.outputs + (index === lastDense && classifier ? 1 : 0));
      current = out;
    } else {
      relative.push({ opcode: ACTIVATION_OPCODE[layer.fn], args: [current, layer.size] });
    }
  });
  if (classifier) relative.push({ opcode: Opcode.ARGMAX, args: [current, graph.outputSize, current + graph.outputSize] });
  relative.push({ opcode: Opcode.HALT, args: [] });

  const depth = memoryDepthFor(Math.max(modelEnd, dataEnd));
  const base = dataBase(depth);
  const toAbsolute = (insn: Instruction): Instruction => {
    switch (insn.opcode) {
      case Opcode.DENSE: {
        const [input, weights, bias, output, inputs, outputs] = insn.args;
        return { opcode: insn.opcode, args: [base + input, weights, bias, base + output, inputs, outputs] };
      }
      case Opcode.ARGMAX: {
        const [src, n, dst] = insn.args;
        return { opcode: insn.opcode, args: [base + src, n, base + dst] };
      }
      case Opcode.HALT:
        return insn;
      default: {
        const [addr, n] = insn.args;
        return { opcode: insn.opcode, args: [base + addr, n] };
      }
    }
  };

  const image = new Int32Array(modelEnd);
  for (const d of denses) {
    image.set(d.values, d.weights);
    image.set(d.biasValues, d.bias);
  }
  const program = validateProgram({
    memoryDepth: depth,
    flags: classifier ? FLAG_ARGMAX_OUTPUT : 0,
    inputLength: graph.inputSize,
    outputAddress: base + current,
    outputLength: graph.outputSize + (classifier ? 1 : 0),
    instructions: relative.map(toAbsolute),
  });
  return { program, image };
}

/** The smallest depth D whose two halves (2^(D-1) leaves each) hold `words` words. */
export function memoryDepthFor(words: number): number {
  for (let depth = 1; depth <= MAX_MEMORY_DEPTH; depth++) if (dataBase(depth) >= words) return depth;
  throw new ModelTooLargeError(`the model needs ${words} words of memory, more than mlvm's 2^${MAX_MEMORY_DEPTH - 1} leaves per region`);
}

function quantizeWeight(value: number, what: () => string): number {
  try {
    return quantize(value);
  } catch {
    throw new WeightRangeError(`${what()} is ${value}, outside the Q16.16 range [-32768, 32768)`);
  }
}

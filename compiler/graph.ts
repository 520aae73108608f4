/**
 * The compiler's intermediate form: a feed-forward network as a list of float64 layers, before quantization.
 * Every importer (ONNX, JSON weights) produces this; everything after (fold, quantize, emit) consumes only this.
 *
 * Each layer reads the output of one earlier layer (`input`, an index into `layers`, or INPUT for the graph
 * input; when absent, the layer just before it, or the graph input for layer 0). An `add` layer also reads
 * `other`. The graph's output is the last layer's output. So a plain MLP is a list in order, and a residual
 * block h + f(h) is `add` with input = f(h)'s last layer and other = h's layer.
 */
import { MlvmError } from "../vm/errors.js";

/** `input`/`other` value naming the graph input. */
export const INPUT = -1;

export type ActivationKind =
  | "relu"
  | "sigmoid"
  | "tanh"
  /** max(x, 0) + alpha·min(x, 0) (LeakyRelu, PRelu with one slope) */
  | "leaky_relu"
  /** x for x > 0, alpha·(e^x − 1) otherwise (Elu) */
  | "elu"
  /** ln(1 + e^x) (Softplus) */
  | "softplus"
  /** min(max(x, min), max) (Clip: ReLU6, Hardtanh) */
  | "clip"
  /** x·Φ(x), Φ the standard normal CDF (GELU, approximate='none': Div/Erf/Add/Mul/Mul) */
  | "gelu"
  /** x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GELU, approximate='tanh') */
  | "gelu_tanh"
  /** x·sigmoid(x) (SiLU / Swish: Sigmoid·Mul) */
  | "silu";

interface LayerBase {
  /** Index of the layer whose output this one reads; INPUT for the graph input; default: the previous layer. */
  input?: number;
  /** Where the layer came from, as the user wrote it, for messages: `Linear "fc1"`, `GELU (nodes Div_3…Mul_7)`. */
  source?: string;
}

export interface DenseLayer extends LayerBase {
  kind: "dense";
  inputs: number;
  outputs: number;
  /** Row-major [outputs][inputs]: weights[o * inputs + i] multiplies input i into output o (PyTorch's nn.Linear layout). */
  weights: Float64Array;
  bias: Float64Array;
}

export interface ActivationLayer extends LayerBase {
  kind: "activation";
  fn: ActivationKind;
  size: number;
  /** leaky_relu: the negative slope; elu: alpha. */
  alpha?: number;
  /** clip: the bounds (−Infinity / Infinity when absent). */
  min?: number;
  max?: number;
}

/** y[i] = x[i]·scale[i] + shift[i]: BatchNorm, constant Mul/Div/Add/Sub. Folded into a neighbouring dense layer before emit. */
export interface AffineLayer extends LayerBase {
  kind: "affine";
  size: number;
  scale: Float64Array;
  shift: Float64Array;
}

/** y = x + other, elementwise (a residual connection). */
export interface AddLayer extends LayerBase {
  kind: "add";
  /** Index of the second operand's layer (or INPUT). */
  other: number;
  size: number;
}

/** y = (x − mean(x)) / sqrt(var(x) + epsilon) · gamma + beta over the whole feature vector (LayerNorm on the last axis). */
export interface LayerNormLayer extends LayerBase {
  kind: "layernorm";
  size: number;
  epsilon: number;
  gamma: Float64Array;
  beta: Float64Array;
}

export type Layer = DenseLayer | ActivationLayer | AffineLayer | AddLayer | LayerNormLayer;

export interface ModelGraph {
  /** A human-readable name (the file's base name by default). */
  name: string;
  inputSize: number;
  outputSize: number;
  layers: Layer[];
  /**
   * True when the source model ended in Softmax or LogSoftmax. Both are monotonic, so argmax(softmax(z)) =
   * argmax(z): the VM computes the logits z and the prediction argmax(z), and never the probabilities.
   */
  softmaxFolded: boolean;
  /** Which function was folded, when softmaxFolded: a float reference applies it to the VM's logits to compare. */
  foldedHead?: "softmax" | "log_softmax";
}

/** A model file that is not a model we can compile (bad structure, unsupported op, inconsistent shapes). */
export class ModelFormatError extends MlvmError {}

/** An ONNX operator outside the supported subset (Conv, LSTM, ...). */
export class UnsupportedOpError extends ModelFormatError {}

/** A weight or bias that is NaN or infinite. */
export class NonFiniteWeightError extends ModelFormatError {}

/** The index of the layer that layer `index` reads (INPUT for the graph input). */
export function inputOf(graph: ModelGraph, index: number): number {
  const layer = graph.layers[index];
  return layer.input ?? index - 1;
}

/** The number of values a layer produces. */
export function layerSize(layer: Layer): number {
  return layer.kind === "dense" ? layer.outputs : layer.size;
}

/** The size of the value `ref` names (INPUT or a layer index). */
export function valueSize(graph: ModelGraph, ref: number): number {
  return ref === INPUT ? graph.inputSize : layerSize(graph.layers[ref]);
}

/** One line per layer for messages and `mlvm compile`: "dense 784→128", "relu 128", "add 64". */
export function describeLayer(layer: Layer): string {
  switch (layer.kind) {
    case "dense":
      return `dense ${layer.inputs}→${layer.outputs}`;
    case "activation":
      return `${layer.fn} ${layer.size}`;
    default:
      return `${layer.kind} ${layer.size}`;
  }
}

/**
 * Checks the invariants every importer must guarantee: at least one dense layer, every layer reading an
 * earlier one, consistent sizes, finite parameters. Throws a ModelFormatError naming the first violation.
 */
export function validateGraph(graph: ModelGraph): ModelGraph {
  if (!Number.isInteger(graph.inputSize) || graph.inputSize <= 0) {
    throw new ModelFormatError(`model input size must be a positive integer, got ${graph.inputSize}`);
  }
  if (!graph.layers.some((l) => l.kind === "dense")) throw new ModelFormatError("model has no dense (Gemm/MatMul) layer");
  graph.layers.forEach((layer, index) => {
    const at = `layer ${index} (${layer.kind === "activation" ? layer.fn : layer.kind})`;
    const refs = layer.kind === "add" ? [inputOf(graph, index), layer.other] : [inputOf(graph, index)];
    for (const ref of refs) {
      if (!Number.isInteger(ref) || ref < INPUT || ref >= index) throw new ModelFormatError(`${at} reads layer ${ref}, which is not an earlier layer or the graph input`);
    }
    const size = valueSize(graph, refs[0]);
    const expected = layer.kind === "dense" ? layer.inputs : layer.size;
    if (expected !== size) throw new ModelFormatError(`${at} expects ${expected} inputs but receives ${size}`);
    if (layer.kind === "add" && valueSize(graph, layer.other) !== size) {
      throw new ModelFormatError(`${at} adds ${valueSize(graph, layer.other)} values to ${size}`);
    }
    const arrays: [string, Float64Array, number][] =
      layer.kind === "dense"
        ? [["weight", layer.weights, layer.inputs * layer.outputs], ["bias", layer.bias, layer.outputs]]
        : layer.kind === "affine"
          ? [["scale", layer.scale, layer.size], ["shift", layer.shift, layer.size]]
          : layer.kind === "layernorm"
            ? [["gamma", layer.gamma, layer.size], ["beta", layer.beta, layer.size]]
            : [];
    for (const [what, values, n] of arrays) {
      if (values.length !== n) throw new ModelFormatError(`${at} has ${values.length} ${what} values, expected ${n}`);
      const bad = firstNonFinite(values);
      if (bad >= 0) {
        const pos = layer.kind === "dense" && what === "weight" ? `[${Math.floor(bad / layer.inputs)}][${bad % layer.inputs}]` : `[${bad}]`;
        throw new NonFiniteWeightError(`${at} ${what} ${pos} is ${values[bad]}`);
      }
    }
    if (layer.kind === "layernorm" && !(layer.epsilon >= 0 && Number.isFinite(layer.epsilon))) throw new ModelFormatError(`${at} epsilon is ${layer.epsilon}`);
    if (layer.kind === "activation") {
      if ((layer.fn === "leaky_relu" || layer.fn === "elu") && !Number.isFinite(layer.alpha)) throw new ModelFormatError(`${at} needs a finite alpha, got ${layer.alpha}`);
      if (layer.fn === "clip" && !((layer.min ?? -Infinity) <= (layer.max ?? Infinity))) throw new ModelFormatError(`${at} has min ${layer.min} > max ${layer.max}`);
    }
  });
  const size = layerSize(graph.layers[graph.layers.length - 1]);
  if (graph.outputSize !== size) throw new ModelFormatError(`model output size ${graph.outputSize} does not match its last layer (${size})`);
  return graph;
}

function firstNonFinite(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

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

/** The shape of an image value, [channels, height, width], stored channel-major then row-major (NCHW without N). */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/**
 * The window of a convolution or pooling, as ONNX's attributes give it. Output position (oh, ow) with kernel offset
 * (kh, kw) looks at input row oh·stride[0] − padding[0] + kh·dilation[0] and column ow·stride[1] − padding[1] +
 * kw·dilation[1]; positions outside the input are padding. `outShape` is the output's shape (the importer computes
 * it, floor or ceil mode), so padding[2] and padding[3] (bottom, right) are informative only.
 */
export interface WindowGeometry {
  /** The input image (the layer reads channels·height·width values). */
  inShape: ImageShape;
  /** The output image. */
  outShape: ImageShape;
  kernel: [number, number];
  stride: [number, number];
  /** [top, left, bottom, right]. */
  padding: [number, number, number, number];
  dilation: [number, number];
}

/** A 2-D convolution (ONNX Conv): output channel-major [output.channels][output.height][output.width]. */
export interface ConvLayer extends LayerBase, WindowGeometry {
  kind: "conv";
  /** Input and output channels are split into `groups` groups; output channel o sees input channel group ⌊o / (out/groups)⌋. */
  groups: number;
  /** [out channels][in channels / groups][kernel[0]][kernel[1]] row-major (ONNX's and PyTorch's layout). */
  weights: Float64Array;
  /** One per output channel. */
  bias: Float64Array;
}

/**
 * A pooling over each channel: "max" the largest value inside the window (padding ignored), "avg" the window's
 * sum over kernel[0]·kernel[1] (padding counted as zeros: count_include_pad), "avg_valid" its mean over the
 * positions inside the input. GlobalAveragePool is "avg" with the whole image as the kernel. Channels unchanged.
 */
export interface PoolLayer extends LayerBase, WindowGeometry {
  kind: "pool";
  mode: "max" | "avg" | "avg_valid";
}

export type Layer = DenseLayer | ActivationLayer | AffineLayer | AddLayer | LayerNormLayer | ConvLayer | PoolLayer;

export interface ModelGraph {
  /** A human-readable name (the file's base name by default). */
  name: string;
  inputSize: number;
  outputSize: number;
  /** The input's image shape, when the model reads images ([N, C, H, W] in ONNX): inputSize = C·H·W. */
  inputShape?: ImageShape;
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

/** The number of values of an image: channels·height·width. */
export function imageSize(shape: ImageShape): number {
  return shape.channels * shape.height * shape.width;
}

/** The number of values a layer produces. */
export function layerSize(layer: Layer): number {
  if (layer.kind === "dense") return layer.outputs;
  if (layer.kind === "conv" || layer.kind === "pool") return imageSize(layer.outShape);
  return layer.size;
}

/** The number of values a layer reads (from `input`). */
export function layerInputSize(layer: Layer): number {
  if (layer.kind === "dense") return layer.inputs;
  if (layer.kind === "conv" || layer.kind === "pool") return imageSize(layer.inShape);
  return layer.size;
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
    case "conv": {
      const shape = (i: ImageShape) => `${i.channels}×${i.height}×${i.width}`;
      const extra = [
        layer.stride.some((v) => v !== 1) ? ` stride ${layer.stride.join("×")}` : "",
        layer.padding.some((v) => v !== 0) ? ` pad ${layer.padding.join(",")}` : "",
        layer.dilation.some((v) => v !== 1) ? ` dilation ${layer.dilation.join("×")}` : "",
        layer.groups !== 1 ? ` groups ${layer.groups}` : "",
      ].join("");
      return `conv ${layer.kernel.join("×")} ${shape(layer.inShape)}→${shape(layer.outShape)}${extra}`;
    }
    case "pool":
      return `${layer.mode === "max" ? "maxpool" : "avgpool"} ${layer.kernel.join("×")} ${layer.inShape.channels}×${layer.inShape.height}×${layer.inShape.width}→${layer.outShape.height}×${layer.outShape.width}`;
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
  if (!graph.layers.some((l) => l.kind === "dense" || l.kind === "conv")) throw new ModelFormatError("model has no dense (Gemm/MatMul) or conv layer");
  graph.layers.forEach((layer, index) => {
    const at = `layer ${index} (${layer.kind === "activation" ? layer.fn : layer.kind})`;
    const refs = layer.kind === "add" ? [inputOf(graph, index), layer.other] : [inputOf(graph, index)];
    for (const ref of refs) {
      if (!Number.isInteger(ref) || ref < INPUT || ref >= index) throw new ModelFormatError(`${at} reads layer ${ref}, which is not an earlier layer or the graph input`);
    }
    const size = valueSize(graph, refs[0]);
    const expected = layerInputSize(layer);
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
            : layer.kind === "conv"
              ? [
                  ["weight", layer.weights, (layer.outShape.channels * layer.inShape.channels * layer.kernel[0] * layer.kernel[1]) / layer.groups],
                  ["bias", layer.bias, layer.outShape.channels],
                ]
              : [];
    for (const [what, values, n] of arrays) {
      if (values.length !== n) throw new ModelFormatError(`${at} has ${values.length} ${what} values, expected ${n}`);
      const bad = firstNonFinite(values);
      if (bad >= 0) {
        const pos = layer.kind === "dense" && what === "weight" ? `[${Math.floor(bad / layer.inputs)}][${bad % layer.inputs}]` : `[${bad}]`;
        throw new NonFiniteWeightError(`${at} ${what} ${pos} is ${values[bad]}`);
      }
    }
    if (layer.kind === "conv" || layer.kind === "pool") validateWindowGeometry(layer, at);
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

/** Positive integer sizes, strides and dilations; groups dividing both channel counts; pooling keeps the channels. */
function validateWindowGeometry(layer: ConvLayer | PoolLayer, at: string): void {
  const ints: [string, number][] = [
    ["input channels", layer.inShape.channels], ["input height", layer.inShape.height], ["input width", layer.inShape.width],
    ["output channels", layer.outShape.channels], ["output height", layer.outShape.height], ["output width", layer.outShape.width],
    ["kernel height", layer.kernel[0]], ["kernel width", layer.kernel[1]], ["row stride", layer.stride[0]], ["column stride", layer.stride[1]],
    ["row dilation", layer.dilation[0]], ["column dilation", layer.dilation[1]],
  ];
  for (const [what, v] of ints) if (!Number.isInteger(v) || v < 1) throw new ModelFormatError(`${at} ${what} must be a positive integer, got ${v}`);
  if (layer.padding.some((v) => !Number.isInteger(v) || v < 0)) throw new ModelFormatError(`${at} padding [${layer.padding}] must be non-negative integers`);
  if (layer.kind === "conv") {
    const g = layer.groups;
    if (!Number.isInteger(g) || g < 1 || layer.inShape.channels % g !== 0 || layer.outShape.channels % g !== 0) {
      throw new ModelFormatError(`${at} groups ${g} must divide its ${layer.inShape.channels} input and ${layer.outShape.channels} output channels`);
    }
  } else if (layer.outShape.channels !== layer.inShape.channels) {
    throw new ModelFormatError(`${at} pools ${layer.inShape.channels} channels into ${layer.outShape.channels}`);
  }
}

function firstNonFinite(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/**
 * The compiler's intermediate form: an MLP as a list of float64 layers, before quantization.
 * Every importer (ONNX, JSON weights) produces this; everything after (quantize, emit) consumes only this.
 */
import { MlvmError } from "../vm/errors.js";

export type ActivationKind = "relu" | "sigmoid" | "tanh";

export interface DenseLayer {
  kind: "dense";
  inputs: number;
  outputs: number;
  /** Row-major [outputs][inputs]: weights[o * inputs + i] multiplies input i into output o (PyTorch's nn.Linear layout). */
  weights: Float64Array;
  bias: Float64Array;
}

export interface ActivationLayer {
  kind: "activation";
  fn: ActivationKind;
  size: number;
}

export type Layer = DenseLayer | ActivationLayer;

export interface ModelGraph {
  /** A human-readable name (the file's base name by default). */
  name: string;
  inputSize: number;
  outputSize: number;
  layers: Layer[];
  /**
   * True when the source model ended in Softmax. Softmax is monotonic, so argmax(softmax(z)) = argmax(z):
   * the VM computes the logits z and the prediction argmax(z), and never the probabilities.
   */
  softmaxFolded: boolean;
}

/** A model file that is not a model we can compile (bad structure, unsupported op, inconsistent shapes). */
export class ModelFormatError extends MlvmError {}

/** An ONNX operator outside the supported MLP subset (Conv, LSTM, ...). */
export class UnsupportedOpError extends ModelFormatError {}

/** A weight or bias that is NaN or infinite. */
export class NonFiniteWeightError extends ModelFormatError {}

/**
 * Checks the invariants every importer must guarantee: at least one dense layer, consistent sizes
 * from layer to layer, finite weights. Throws a ModelFormatError naming the first violation.
 */
export function validateGraph(graph: ModelGraph): ModelGraph {
  if (!Number.isInteger(graph.inputSize) || graph.inputSize <= 0) {
    throw new ModelFormatError(`model input size must be a positive integer, got ${graph.inputSize}`);
  }
  if (!graph.layers.some((l) => l.kind === "dense")) throw new ModelFormatError("model has no dense (Gemm/MatMul) layer");
  let size = graph.inputSize;
  graph.layers.forEach((layer, index) => {
    if (layer.kind === "dense") {
      if (layer.inputs !== size) {
        throw new ModelFormatError(`layer ${index} (dense) expects ${layer.inputs} inputs but receives ${size}`);
      }
      if (layer.weights.length !== layer.inputs * layer.outputs) {
        throw new ModelFormatError(`layer ${index} (dense) has ${layer.weights.length} weights, expected ${layer.inputs}x${layer.outputs}`);
      }
      if (layer.bias.length !== layer.outputs) {
        throw new ModelFormatError(`layer ${index} (dense) has ${layer.bias.length} biases, expected ${layer.outputs}`);
      }
      const bad = firstNonFinite(layer.weights);
      if (bad >= 0) throw new NonFiniteWeightError(`layer ${index} (dense) weight [${Math.floor(bad / layer.inputs)}][${bad % layer.inputs}] is ${layer.weights[bad]}`);
      const badBias = firstNonFinite(layer.bias);
      if (badBias >= 0) throw new NonFiniteWeightError(`layer ${index} (dense) bias [${badBias}] is ${layer.bias[badBias]}`);
      size = layer.outputs;
    } else if (layer.size !== size) {
      throw new ModelFormatError(`layer ${index} (${layer.fn}) has size ${layer.size} but receives ${size}`);
    }
  });
  if (graph.outputSize !== size) throw new ModelFormatError(`model output size ${graph.outputSize} does not match its last layer (${size})`);
  return graph;
}

function firstNonFinite(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

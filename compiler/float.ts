/**
 * The float64 reference forward pass of a ModelGraph: dense y = W·x + b (W row-major [out][in]), relu, sigmoid
 * and tanh with Math functions. It returns the logits (a folded Softmax is not applied; see graph.ts).
 *
 * This is also the "float64 floor" of the latency benchmark, so it allocates only the returned array:
 * intermediate activations live in two scratch buffers cached per graph.
 */
import type { ModelGraph } from "./graph.js";
import { InputError } from "../vm/errors.js";

interface Scratch {
  a: Float64Array;
  b: Float64Array;
}

const scratchByGraph = new WeakMap<ModelGraph, Scratch>();

function scratchFor(graph: ModelGraph): Scratch {
  let width = graph.inputSize;
  const layers = graph.layers;
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    const n = layer.kind === "dense" ? layer.outputs : layer.size;
    if (n > width) width = n;
  }
  let s = scratchByGraph.get(graph);
  if (s === undefined || s.a.length < width) {
    s = { a: new Float64Array(width), b: new Float64Array(width) };
    scratchByGraph.set(graph, s);
  }
  return s;
}

/** Runs the graph on one input vector (length graph.inputSize) and returns a fresh array of graph.outputSize logits. */
export function forwardFloat(graph: ModelGraph, input: ArrayLike<number>): Float64Array {
  const n0 = graph.inputSize;
  if (input.length !== n0) throw new InputError(`input has ${input.length} values, the model expects ${n0}`);
  const scratch = scratchFor(graph);
  let x = scratch.a;
  let y = scratch.b;
  for (let i = 0; i < n0; i++) x[i] = input[i];
  let size = n0;

  const layers = graph.layers;
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    if (layer.kind === "dense") {
      const inputs = layer.inputs;
      const outputs = layer.outputs;
      const w = layer.weights;
      const b = layer.bias;
      for (let o = 0, row = 0; o < outputs; o++, row += inputs) {
        let sum = b[o];
        for (let i = 0; i < inputs; i++) sum += w[row + i] * x[i];
        y[o] = sum;
      }
      const t = x;
      x = y;
      y = t;
      size = outputs;
    } else if (layer.fn === "relu") {
      for (let i = 0; i < size; i++) if (x[i] < 0) x[i] = 0;
    } else if (layer.fn === "sigmoid") {
      for (let i = 0; i < size; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
    } else {
      for (let i = 0; i < size; i++) x[i] = Math.tanh(x[i]);
    }
  }
  return x.slice(0, size);
}

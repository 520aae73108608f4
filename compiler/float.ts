/**
 * The float64 reference forward pass of a ModelGraph, for every layer kind: dense y = W·x + b (W row-major
 * [out][in]), the activations (GELU with the float64 erf below), affine, add (residuals,
 * which is why every layer keeps its own output buffer), layernorm (population variance, as torch), and the
 * windows: conv and pool by direct loops over output pixel and kernel tap, images channel-major (CHW).
 * It returns the logits (a folded Softmax/LogSoftmax is not applied; see graph.ts).
 *
 * `observe(layerIndex, values)` is called with each layer's output as it is computed (the emitter uses it on
 * calibration inputs to choose per-layer number formats); `values` is a view that the next call overwrites.
 *
 * This is also the "float64 floor" of the latency benchmark, so it allocates only the returned array: the
 * input and every layer's output live in one buffer cached per graph.
 */
import { INPUT, inputOf, layerSize } from "./graph.js";
import type { ActivationLayer, ConvLayer, ModelGraph, PoolLayer } from "./graph.js";
import { InputError } from "../vm/errors.js";

interface Buffers {
  input: Float64Array;
  outputs: Float64Array[];
}

const buffersByGraph = new WeakMap<ModelGraph, Buffers>();

function buffersFor(graph: ModelGraph): Buffers {
  let b = buffersByGraph.get(graph);
  const layers = graph.layers;
  if (b === undefined || b.outputs.length !== layers.length || b.input.length !== graph.inputSize) {
    let total = graph.inputSize;
    for (let l = 0; l < layers.length; l++) total += layerSize(layers[l]);
    const all = new Float64Array(total);
    const input = all.subarray(0, graph.inputSize);
    const outputs: Float64Array[] = [];
    for (let l = 0, at = graph.inputSize; l < layers.length; l++) {
      const n = layerSize(layers[l]);
      outputs.push(all.subarray(at, at + n));
      at += n;
    }
    b = { input, outputs };
    buffersByGraph.set(graph, b);
  }
  return b;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Runs the graph on one input vector (length graph.inputSize) and returns a fresh array of graph.outputSize logits. */
export function forwardFloat(
  graph: ModelGraph,
  input: ArrayLike<number>,
  observe?: (layerIndex: number, values: Float64Array) => void,
): Float64Array {
  const n0 = graph.inputSize;
  if (input.length !== n0) throw new InputError(`input has ${input.length} values, the model expects ${n0}`);
  const { input: x0, outputs } = buffersFor(graph);
  for (let i = 0; i < n0; i++) x0[i] = input[i];

  const layers = graph.layers;
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    const from = inputOf(graph, l);
    const x = from === INPUT ? x0 : outputs[from];
    const y = outputs[l];
    switch (layer.kind) {
      case "dense": {
        const inputs = layer.inputs;
        const w = layer.weights;
        const b = layer.bias;
        for (let o = 0, row = 0; o < layer.outputs; o++, row += inputs) {
          let sum = b[o];
          for (let i = 0; i < inputs; i++) sum += w[row + i] * x[i];
          y[o] = sum;
        }
        break;
      }
      case "activation":
        activate(layer, x, y);
        break;
      case "affine": {
        const s = layer.scale;
        const t = layer.shift;
        for (let i = 0; i < layer.size; i++) y[i] = x[i] * s[i] + t[i];
        break;
      }
      case "add": {
        const z = layer.other === INPUT ? x0 : outputs[layer.other];
        for (let i = 0; i < layer.size; i++) y[i] = x[i] + z[i];
        break;
      }
      case "conv":
        convolve(layer, x, y);
        break;
      case "pool":
        pool(layer, x, y);
        break;
      case "layernorm": {
        const n = layer.size;
        let mean = 0;
        for (let i = 0; i < n; i++) mean += x[i];
        mean /= n;
        let variance = 0;
        for (let i = 0; i < n; i++) variance += (x[i] - mean) * (x[i] - mean);
        variance /= n;
        const inv = 1 / Math.sqrt(variance + layer.epsilon);
        const g = layer.gamma;
        const b = layer.beta;
        for (let i = 0; i < n; i++) y[i] = (x[i] - mean) * inv * g[i] + b[i];
        break;
      }
    }
    if (observe) observe(l, y);
  }
  return outputs[layers.length - 1].slice();
}

/** y[o][oh][ow] = b[o] + Σ over the group's input channels and the kernel taps inside the image of W·x. */
function convolve(layer: ConvLayer, x: Float64Array, y: Float64Array): void {
  const { inShape: i, outShape: o, kernel: [kh, kw], stride: [sh, sw], dilation: [dh, dw], padding: [pt, pl], groups } = layer;
  const perGroupIn = i.channels / groups;
  const perGroupOut = o.channels / groups;
  const plane = i.height * i.width;
  const taps = kh * kw;
  const w = layer.weights;
  let at = 0;
  for (let oc = 0; oc < o.channels; oc++) {
    const firstIn = Math.floor(oc / perGroupOut) * perGroupIn;
    const filter = oc * perGroupIn * taps;
    for (let oh = 0; oh < o.height; oh++) {
      for (let ow = 0; ow < o.width; ow++) {
        let sum = layer.bias[oc];
        for (let c = 0; c < perGroupIn; c++) {
          const image = (firstIn + c) * plane;
          const row = filter + c * taps;
          for (let a = 0; a < kh; a++) {
            const ih = oh * sh - pt + a * dh;
            if (ih < 0 || ih >= i.height) continue;
            for (let b = 0; b < kw; b++) {
              const iw = ow * sw - pl + b * dw;
              if (iw >= 0 && iw < i.width) sum += w[row + a * kw + b] * x[image + ih * i.width + iw];
            }
          }
        }
        y[at++] = sum;
      }
    }
  }
}

/** Per channel: the window's max or sum over the cells inside the image; "avg" divides by the kernel's area, "avg_valid" by the cells. */
function pool(layer: PoolLayer, x: Float64Array, y: Float64Array): void {
  const { inShape: i, outShape: o, kernel: [kh, kw], stride: [sh, sw], dilation: [dh, dw], padding: [pt, pl], mode } = layer;
  const plane = i.height * i.width;
  let at = 0;
  for (let c = 0; c < i.channels; c++) {
    for (let oh = 0; oh < o.height; oh++) {
      for (let ow = 0; ow < o.width; ow++) {
        let acc = mode === "max" ? -Infinity : 0;
        let count = 0;
        for (let a = 0; a < kh; a++) {
          const ih = oh * sh - pt + a * dh;
          if (ih < 0 || ih >= i.height) continue;
          for (let b = 0; b < kw; b++) {
            const iw = ow * sw - pl + b * dw;
            if (iw < 0 || iw >= i.width) continue;
            const v = x[c * plane + ih * i.width + iw];
            if (mode === "max") acc = v > acc ? v : acc;
            else acc += v;
            count++;
          }
        }
        y[at++] = mode === "max" ? acc : acc / (mode === "avg" ? kh * kw : count);
      }
    }
  }
}

function activate(layer: ActivationLayer, x: Float64Array, y: Float64Array): void {
  const n = layer.size;
  switch (layer.fn) {
    case "relu":
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
      return;
    case "tanh":
      for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
      return;
    case "leaky_relu": {
      const a = layer.alpha as number;
      for (let i = 0; i < n; i++) y[i] = x[i] >= 0 ? x[i] : a * x[i];
      return;
    }
    case "elu": {
      const a = layer.alpha as number;
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : a * Math.expm1(x[i]);
      return;
    }
    case "softplus":
      // ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|), exact for large |x|
      for (let i = 0; i < n; i++) y[i] = Math.max(x[i], 0) + Math.log1p(Math.exp(-Math.abs(x[i])));
      return;
    case "clip": {
      const lo = layer.min ?? -Infinity;
      const hi = layer.max ?? Infinity;
      for (let i = 0; i < n; i++) y[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
      return;
    }
    case "gelu":
      // x·Φ(x) = x/2·erfc(−x/√2): erfc keeps Φ's relative precision far into the negative tail
      for (let i = 0; i < n; i++) y[i] = 0.5 * x[i] * erfc(-x[i] * Math.SQRT1_2);
      return;
    case "gelu_tanh":
      for (let i = 0; i < n; i++) {
        const v = x[i];
        y[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
      }
      return;
    case "silu":
      for (let i = 0; i < n; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
      return;
  }
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) in float64, absolute error < 1e-15: for |x| < 2.5 the series erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)),
 * whose terms are all positive (no cancellation); beyond, 1 − erfc(x).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 2.5) return Math.sign(x) * (1 - erfcContinuedFraction(a));
  return erfSeries(x);
}

/** erfc(x) = 1 − erf(x), with relative precision kept for large positive x (continued fraction beyond 2.5). */
export function erfc(x: number): number {
  if (x >= 2.5) return erfcContinuedFraction(x);
  if (x <= -2.5) return 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x ≥ 2.5: e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated by Lentz's method. */
function erfcContinuedFraction(x: number): number {
  if (x > 27) return 0; // below the smallest float64
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

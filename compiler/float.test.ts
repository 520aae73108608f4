import { describe, expect, it } from "vitest";
import { InputError } from "../vm/errors.js";
import { erf, erfc, forwardFloat } from "./float.js";
import { INPUT, layerSize } from "./graph.js";
import type { ActivationKind, Layer, ModelGraph } from "./graph.js";

const denseLayer = (weights: number[][], bias: number[]): Layer => ({
  kind: "dense",
  inputs: weights[0].length,
  outputs: weights.length,
  weights: Float64Array.from(weights.flat()),
  bias: Float64Array.from(bias),
});
const act = (fn: ActivationKind, size: number): Layer => ({ kind: "activation", fn, size });
const graphOf = (inputSize: number, layers: Layer[], softmaxFolded = false): ModelGraph => {
  const outputSize = layerSize(layers[layers.length - 1]);
  return { name: "t", inputSize, outputSize, layers, softmaxFolded };
};

describe("forwardFloat", () => {
  it("computes W·x + b with W row-major [out][in]", () => {
    const g = graphOf(3, [denseLayer([[1, 2, 3], [-1, 0, 4]], [10, 20])]);
    expect(Array.from(forwardFloat(g, [1, 2, 3]))).toEqual([10 + 1 + 4 + 9, 20 - 1 + 12]);
  });

  it("applies relu, sigmoid and tanh elementwise", () => {
    const identity = denseLayer([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0]);
    const x = [-2, 0, 1.5];
    expect(Array.from(forwardFloat(graphOf(3, [identity, act("relu", 3)]), x))).toEqual([0, 0, 1.5]);
    expect(Array.from(forwardFloat(graphOf(3, [identity, act("sigmoid", 3)]), x))).toEqual(x.map((v) => 1 / (1 + Math.exp(-v))));
    expect(Array.from(forwardFloat(graphOf(3, [identity, act("tanh", 3)]), x))).toEqual(x.map(Math.tanh));
    expect(forwardFloat(graphOf(3, [identity, act("sigmoid", 3)]), [0, 0, 0])[0]).toBe(0.5);
  });

  it("chains layers that widen and narrow (2 -> 5 -> 1)", () => {
    const up = denseLayer([[1, 0], [0, 1], [1, 1], [1, -1], [-1, -1]], [0, 0, 0, 0, 0]);
    const down = denseLayer([[1, 1, 1, 1, 1]], [0.5]);
    const g = graphOf(2, [up, act("relu", 5), down]);
    // x = [2, 3]: [2, 3, 5, -1, -5] -> relu [2, 3, 5, 0, 0] -> 10 + 0.5
    expect(Array.from(forwardFloat(g, [2, 3]))).toEqual([10.5]);
    expect(Array.from(forwardFloat(g, Float64Array.of(-1, -1)))).toEqual([0 + 0 + 0 + 0 + 2 + 0.5]);
  });

  it("returns the logits when softmax is folded (not probabilities)", () => {
    const g = graphOf(1, [denseLayer([[2], [-3]], [1, 1])], true);
    expect(Array.from(forwardFloat(g, [1]))).toEqual([3, -2]);
  });

  it("returns a fresh array each call and leaves the input alone", () => {
    const g = graphOf(2, [denseLayer([[1, 1], [1, -1]], [0, 0]), act("relu", 2)]);
    const input = Float64Array.of(3, 1);
    const first = forwardFloat(g, input);
    const second = forwardFloat(g, [1, 3]);
    expect(Array.from(first)).toEqual([4, 2]);
    expect(Array.from(second)).toEqual([4, 0]);
    expect(Array.from(input)).toEqual([3, 1]);
    expect(first.length).toBe(2);
  });

  it("keeps separate scratch per graph", () => {
    const a = graphOf(1, [denseLayer([[2]], [0])]);
    const b = graphOf(4, [denseLayer([[1, 1, 1, 1], [1, 0, 0, 0]], [0, 0])]);
    expect(Array.from(forwardFloat(a, [5]))).toEqual([10]);
    expect(Array.from(forwardFloat(b, [1, 2, 3, 4]))).toEqual([10, 1]);
    expect(Array.from(forwardFloat(a, [1]))).toEqual([2]);
  });

  it("rejects an input of the wrong length with InputError", () => {
    const g = graphOf(3, [denseLayer([[1, 2, 3]], [0])]);
    expect(() => forwardFloat(g, [1, 2])).toThrow(InputError);
    expect(() => forwardFloat(g, [1, 2, 3, 4])).toThrow(/input has 4 values, the model expects 3/);
  });
});

describe("forwardFloat: the layer kinds of issue 12", () => {
  const id = (n: number): Layer => ({ kind: "dense", inputs: n, outputs: n, weights: Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)), bias: new Float64Array(n) });
  const xs = [-30, -5, -1.5, -0.25, 0, 0.5, 2, 40];
  const one = (layer: Layer) => Array.from(forwardFloat(graphOf(xs.length, [id(xs.length), layer]), xs));

  it("computes each activation by its definition", () => {
    const n = xs.length;
    const cases: [Layer, (v: number) => number][] = [
      [{ kind: "activation", fn: "leaky_relu", alpha: 0.1, size: n }, (v) => (v >= 0 ? v : 0.1 * v)],
      [{ kind: "activation", fn: "elu", alpha: 0.7, size: n }, (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1))],
      [{ kind: "activation", fn: "softplus", size: n }, (v) => (v > 30 ? v : Math.log(1 + Math.exp(v)))],
      [{ kind: "activation", fn: "clip", min: -1, max: 6, size: n }, (v) => Math.min(6, Math.max(-1, v))],
      [{ kind: "activation", fn: "gelu_tanh", size: n }, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
      [{ kind: "activation", fn: "silu", size: n }, (v) => v / (1 + Math.exp(-v))],
    ];
    for (const [layer, f] of cases) one(layer).forEach((y, i) => expect(y).toBeCloseTo(f(xs[i]), 13));
  });

  it("erf and erfc agree with 40-digit values (mpmath) to 1e-15 absolute; GELU = x·Φ(x) keeps its far negative tail", () => {
    // [x, erf(x), erfc(x)] from mpmath.erf/erfc at 40 digits
    const table = [
      [-4, -0.9999999845827421, 1.999999984582742], [-2.4999, -0.9995928300996666, 1.9995928300996666], [-0.7, -0.6778011938374184, 1.6778011938374184],
      [1e-8, 1.1283791670955126e-8, 0.9999999887162083], [0.5, 0.5204998778130465, 0.4795001221869535], [1, 0.8427007929497149, 0.15729920705028513],
      [2.2, 0.9981371537020182, 0.0018628462979818898], [2.5, 0.999593047982555, 0.0004069520174449589], [3, 0.9999779095030014, 2.209049699858544e-5],
      [5, 0.9999999999984626, 1.537459794428035e-12], [10, 1, 2.088487583762545e-45],
    ];
    for (const [x, e, c] of table) {
      expect(Math.abs(erf(x) - e)).toBeLessThan(1e-15);
      expect(Math.abs(erfc(x) - c)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(c)));
    }
    expect(Math.abs(erfc(5) / 1.537459794428035e-12 - 1)).toBeLessThan(1e-13);
    const gelu = one({ kind: "activation", fn: "gelu", size: xs.length });
    // x·Φ(x) at −30 is −30·Φ(−30) ≈ −1.47e-196 (mpmath): a cancelling 1 + erf would give 0
    expect(Math.abs(gelu[0] / -1.472014178144456e-196 - 1)).toBeLessThan(1e-12);
    expect(gelu[1]).toBeCloseTo(-5 * 0.5 * 5.733031437583878e-7, 18);
    expect(gelu[6]).toBeCloseTo(2 * 0.9772498680518208, 14);
    expect(gelu[7]).toBe(40);
  });

  it("affine, layernorm (population variance) and a residual add read the layers they name", () => {
    const affine: Layer = { kind: "affine", size: 3, scale: Float64Array.of(2, -1, 0.5), shift: Float64Array.of(1, 0, -1) };
    const ln: Layer = { kind: "layernorm", size: 3, epsilon: 0, gamma: Float64Array.of(1, 2, 1), beta: Float64Array.of(0, 0, 10), input: INPUT };
    const add: Layer = { kind: "add", size: 3, input: 0, other: 1 };
    const g = graphOf(3, [affine, ln, add, denseLayer([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0])]);
    const x = [1, 2, 6];
    const sd = Math.sqrt(((1 - 3) ** 2 + (2 - 3) ** 2 + (6 - 3) ** 2) / 3);
    const expected = [2 * 1 + 1 + (1 - 3) / sd, -2 + (2 * (2 - 3)) / sd, 3 - 1 + (6 - 3) / sd + 10];
    forwardFloat(g, x).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 13));
  });

  it("calls observe with each layer's index and output, in order", () => {
    const g = graphOf(2, [denseLayer([[1, 1], [1, -1]], [0, 0]), act("relu", 2), denseLayer([[1, 2]], [0.5])]);
    const seen: [number, number[]][] = [];
    const y = forwardFloat(g, [1, 3], (l, values) => seen.push([l, Array.from(values)]));
    expect(seen).toEqual([[0, [4, -2]], [1, [4, 0]], [2, [4.5]]]);
    expect(Array.from(y)).toEqual([4.5]);
  });
});

describe("forwardFloat: conv and pool layers (issue 13)", () => {
  const shape = (channels: number, height: number, width: number) => ({ channels, height, width });
  const window = { stride: [1, 1] as [number, number], padding: [0, 0, 0, 0] as [number, number, number, number], dilation: [1, 1] as [number, number] };
  const nine = Array.from({ length: 9 }, (_, i) => i + 1); // rows [1 2 3] [4 5 6] [7 8 9]

  it("conv: padding reads 0, stride skips, the kernel is [out][in][kh][kw] row-major", () => {
    const conv: Layer = {
      kind: "conv", ...window, inShape: shape(1, 3, 3), outShape: shape(1, 2, 2), kernel: [2, 2], stride: [2, 2], padding: [1, 1, 1, 1], groups: 1,
      weights: Float64Array.of(1, 0, 0, -1), bias: Float64Array.of(0.5),
    };
    // output (oh, ow) = x[2oh−1][2ow−1] − x[2oh][2ow] + 0.5, a padded cell being 0
    expect(Array.from(forwardFloat(graphOf(9, [conv]), nine))).toEqual([-1 + 0.5, -3 + 0.5, -7 + 0.5, 5 - 9 + 0.5]);
  });

  it("conv: groups give each output channel its own input channels; dilation spreads the taps", () => {
    const conv: Layer = {
      kind: "conv", ...window, inShape: shape(2, 3, 3), outShape: shape(2, 1, 1), kernel: [2, 2], dilation: [2, 2], groups: 2,
      weights: Float64Array.of(1, 1, 1, 1, 1, 0, 0, 2), bias: Float64Array.of(0, 1),
    };
    const x = [...nine, ...nine.map((v) => v + 9)];
    // channel 0's four corners 1 + 3 + 7 + 9; channel 1's top-left 10 plus twice its bottom-right 18, plus 1
    expect(Array.from(forwardFloat(graphOf(18, [conv]), x))).toEqual([20, 10 + 36 + 1]);
  });

  it("pool: max ignores padding (even below 0), avg divides by the kernel's area, avg_valid by the cells inside", () => {
    const x = nine.map((v) => v - 5); // rows [−4 −3 −2] [−1 0 1] [2 3 4]
    const pool = (mode: "max" | "avg" | "avg_valid"): Layer => ({
      kind: "pool", mode, ...window, inShape: shape(1, 3, 3), outShape: shape(1, 2, 2), kernel: [2, 2], stride: [2, 2], padding: [1, 1, 1, 1],
    });
    // the windows hold {−4}, {−3, −2}, {−1, 2}, {0, 1, 3, 4}
    expect(Array.from(forwardFloat(graphOf(9, [pool("max")]), x))).toEqual([-4, -2, 2, 4]);
    expect(Array.from(forwardFloat(graphOf(9, [pool("avg")]), x))).toEqual([-1, -1.25, 0.25, 2]);
    expect(Array.from(forwardFloat(graphOf(9, [pool("avg_valid")]), x))).toEqual([-4, -2.5, 0.5, 2]);
  });

  it("pool: a whole-image kernel per channel is global pooling, and observe sees each window layer's output", () => {
    const global: Layer = { kind: "pool", mode: "avg", ...window, inShape: shape(2, 3, 3), outShape: shape(2, 1, 1), kernel: [3, 3] };
    const seen: number[][] = [];
    const y = forwardFloat(graphOf(18, [global, denseLayer([[1, -1]], [0])]), [...nine, ...nine.map((v) => 2 * v)], (_, v) => seen.push(Array.from(v)));
    expect(seen[0]).toEqual([5, 10]);
    expect(Array.from(y)).toEqual([-5]);
  });
});

import { describe, expect, it } from "vitest";
import { InputError } from "../vm/errors.js";
import { forwardFloat } from "./float.js";
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
  const last = layers[layers.length - 1];
  const outputSize = last.kind === "dense" ? last.outputs : last.size;
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

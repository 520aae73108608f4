/**
 * foldGraph removes every affine layer and computes the same function (float64 forward before == after on
 * random inputs, to 1e-9 relative), choosing the cheap fold where one exists and a diagonal dense otherwise.
 */
import { describe, expect, it } from "vitest";
import { forwardFloat } from "./float.js";
import { compactGraph, foldGraph, mergeBiasAdds } from "./fold.js";
import { INPUT, describeLayer, validateGraph } from "./graph.js";
import type { Layer, ModelGraph } from "./graph.js";
import { randoms } from "./onnx/testing.js";

let seed = 100;
const rand = (n: number) => Float64Array.from(randoms(n, seed++));
const dense = (inputs: number, outputs: number, extra: Partial<Layer> = {}): Layer => ({ kind: "dense", inputs, outputs, weights: rand(inputs * outputs), bias: rand(outputs), ...extra } as Layer);
const affine = (size: number, extra: Partial<Layer> = {}): Layer => ({ kind: "affine", size, scale: rand(size).map((v) => v * 3), shift: rand(size), ...extra } as Layer);
const act = (fn: "relu" | "tanh", size: number, extra: Partial<Layer> = {}): Layer => ({ kind: "activation", fn, size, ...extra } as Layer);
const graph = (inputSize: number, layers: Layer[]): ModelGraph => {
  const last = layers[layers.length - 1];
  return validateGraph({ name: "t", inputSize, outputSize: last.kind === "dense" ? last.outputs : last.size, layers, softmaxFolded: false });
};

function sameFunction(before: ModelGraph, after: ModelGraph): void {
  validateGraph(after);
  expect(after.layers.some((l) => l.kind === "affine")).toBe(false);
  for (let k = 0; k < 20; k++) {
    const x = rand(before.inputSize).map((v) => v * 4);
    const a = forwardFloat(before, x);
    const b = forwardFloat(after, x);
    const scale = Math.max(1e-300, ...Array.from(a, Math.abs));
    a.forEach((v, i) => expect(Math.abs(v - b[i]) / scale).toBeLessThanOrEqual(1e-9));
  }
}

describe("foldGraph", () => {
  it("folds input normalization (two affines on the input) into the first dense layer", () => {
    const g = graph(4, [affine(4), affine(4), dense(4, 5), act("relu", 5), dense(5, 2)]);
    const f = foldGraph(g);
    expect(f.layers.map(describeLayer)).toEqual(["dense 4→5", "relu 5", "dense 5→2"]);
    sameFunction(g, f);
  });

  it("folds an affine after a dense (BatchNorm after Linear) into that dense's rows, and before a dense into its columns", () => {
    const after = graph(3, [dense(3, 4), affine(4), act("tanh", 4), dense(4, 2)]);
    expect(foldGraph(after).layers.map(describeLayer)).toEqual(["dense 3→4", "tanh 4", "dense 4→2"]);
    sameFunction(after, foldGraph(after));
    const before = graph(3, [dense(3, 4), act("relu", 4), affine(4), dense(4, 2)]);
    expect(foldGraph(before).layers.map(describeLayer)).toEqual(["dense 3→4", "relu 4", "dense 4→2"]);
    sameFunction(before, foldGraph(before));
    const last = graph(3, [dense(3, 4), act("relu", 4), dense(4, 2), affine(2)]);
    expect(foldGraph(last).layers.map(describeLayer)).toEqual(["dense 3→4", "relu 4", "dense 4→2"]);
    sameFunction(last, foldGraph(last));
  });

  it("makes a diagonal dense where no neighbour can take it (between activations, or a shared producer)", () => {
    const between = graph(3, [dense(3, 4), act("relu", 4), affine(4, { source: "S" }), act("tanh", 4), dense(4, 2)]);
    const f = foldGraph(between);
    expect(f.layers.map(describeLayer)).toEqual(["dense 3→4", "relu 4", "dense 4→4", "tanh 4", "dense 4→2"]);
    expect(f.layers[2].source).toBe("S");
    sameFunction(between, f);
    // a producer read by two layers (a PRelu decomposition): affine(−1)(h) and relu(h)
    const shared = graph(3, [dense(3, 4), act("relu", 4), affine(4, { input: 0 }), act("relu", 4), affine(4), { kind: "add", size: 4, input: 1, other: 4 }, dense(4, 2)]);
    const g = foldGraph(shared);
    expect(g.layers.map(describeLayer)).toEqual(["dense 3→4", "relu 4", "dense 4→4", "relu 4", "dense 4→4", "add 4", "dense 4→2"]);
    sameFunction(shared, g);
  });

  it("re-indexes input/other after removals (a residual around folded affines) and leaves its argument alone", () => {
    const layers: Layer[] = [affine(3), dense(3, 4), affine(4), act("relu", 4), dense(4, 4), affine(4), { kind: "add", size: 4, input: 5, other: 3 }, dense(4, 2)];
    const g = graph(3, layers);
    const copy = structuredClone(g);
    const f = foldGraph(g);
    expect(f.layers.map(describeLayer)).toEqual(["dense 3→4", "relu 4", "dense 4→4", "add 4", "dense 4→2"]);
    expect(f.layers[3]).toMatchObject({ kind: "add", other: 1 });
    sameFunction(g, f);
    expect(g).toEqual(copy);
  });

  it("random chains with affines anywhere compute the same function after folding", () => {
    for (let trial = 0; trial < 30; trial++) {
      const sizes = [3 + (trial % 4), 5, 4, 2];
      const layers: Layer[] = [];
      const r = Array.from(rand(12), (v) => v > 0);
      if (r[0]) layers.push(affine(sizes[0]));
      for (let l = 0; l < 3; l++) {
        if (l > 0 && r[1 + l]) layers.push(affine(sizes[l]));
        layers.push(dense(sizes[l], sizes[l + 1]));
        if (r[5 + l]) layers.push(affine(sizes[l + 1]));
        if (l < 2) layers.push(act(r[9 + l] ? "relu" : "tanh", sizes[l + 1]));
        if (l < 2 && r[8]) layers.push(affine(sizes[l + 1]));
      }
      const g = graph(sizes[0], layers);
      sameFunction(g, foldGraph(g));
    }
  });
});

describe("mergeBiasAdds and compactGraph", () => {
  it("mergeBiasAdds folds only shift-only affines into their sole dense producer", () => {
    const shift: Layer = { kind: "affine", size: 4, scale: new Float64Array(4).fill(1), shift: rand(4) };
    const g = graph(3, [dense(3, 4), shift, act("relu", 4), affine(4), dense(4, 2)]);
    const m = mergeBiasAdds(g);
    expect(m.layers.map(describeLayer)).toEqual(["dense 3→4", "relu 4", "affine 4", "dense 4→2"]);
    const x = rand(3);
    const before = forwardFloat(g, x);
    forwardFloat(m, x).forEach((v, i) => expect(v).toBeCloseTo(before[i], 12));
  });

  it("compactGraph drops layers the output does not read and omits default inputs", () => {
    const layers = [dense(3, 4), act("relu", 4), act("tanh", 4), dense(4, 2)].map((l, i) => ({ ...l, input: i === 3 ? 1 : i - 1 }));
    const g = compactGraph({ name: "c", inputSize: 3, softmaxFolded: false }, layers, 3);
    expect(g.layers.map(describeLayer)).toEqual(["dense 3→4", "relu 4", "dense 4→2"]);
    expect(g.layers.every((l) => l.input === undefined)).toBe(true);
    expect(g.outputSize).toBe(2);
    const fromInput = compactGraph({ name: "c", inputSize: 3, softmaxFolded: false }, [{ ...dense(3, 2), input: INPUT }, { ...dense(3, 2), input: INPUT }], 1);
    expect(fromInput.layers).toHaveLength(1);
  });
});

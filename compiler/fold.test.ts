/**
 * foldGraph removes every affine layer and computes the same function (float64 forward before == after on
 * random inputs, to 1e-9 relative), choosing the cheap fold where one exists (into a dense or conv neighbour,
 * a depthwise 1×1 conv on images) and a diagonal dense otherwise.
 */
import { describe, expect, it } from "vitest";
import { forwardFloat } from "./float.js";
import { compactGraph, foldGraph, mergeBiasAdds } from "./fold.js";
import { INPUT, describeLayer, layerSize, validateGraph } from "./graph.js";
import type { ConvLayer, ImageShape, Layer, ModelGraph } from "./graph.js";
import { randoms } from "./onnx/testing.js";

let seed = 100;
const rand = (n: number) => Float64Array.from(randoms(n, seed++));
const dense = (inputs: number, outputs: number, extra: Partial<Layer> = {}): Layer => ({ kind: "dense", inputs, outputs, weights: rand(inputs * outputs), bias: rand(outputs), ...extra } as Layer);
const affine = (size: number, extra: Partial<Layer> = {}): Layer => ({ kind: "affine", size, scale: rand(size).map((v) => v * 3), shift: rand(size), ...extra } as Layer);
const act = (fn: "relu" | "tanh", size: number, extra: Partial<Layer> = {}): Layer => ({ kind: "activation", fn, size, ...extra } as Layer);
const graph = (inputSize: number, layers: Layer[]): ModelGraph => {
  return validateGraph({ name: "t", inputSize, outputSize: layerSize(layers[layers.length - 1]), layers, softmaxFolded: false });
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

describe("foldGraph on images (conv layers, per-channel affines)", () => {
  const img = (channels: number, height: number, width: number): ImageShape => ({ channels, height, width });
  /** A stride-1 conv, square kernel k, padding p on every side. */
  const conv = (inShape: ImageShape, out: number, k: number, p = 0, groups = 1): ConvLayer => ({
    kind: "conv",
    inShape,
    outShape: img(out, inShape.height + 2 * p - k + 1, inShape.width + 2 * p - k + 1),
    kernel: [k, k],
    stride: [1, 1],
    padding: [p, p, p, p],
    dilation: [1, 1],
    groups,
    weights: rand((out * inShape.channels * k * k) / groups),
    bias: rand(out),
  });
  /** BatchNorm2d as the importer makes it: one scale and shift per channel, repeated over the plane. */
  const bn = (shape: ImageShape, extra: Partial<Layer> = {}): Layer => {
    const plane = shape.height * shape.width;
    const s = rand(shape.channels).map((v) => v * 3);
    const t = rand(shape.channels);
    const n = shape.channels * plane;
    return { kind: "affine", size: n, scale: Float64Array.from({ length: n }, (_, i) => s[Math.floor(i / plane)]), shift: Float64Array.from({ length: n }, (_, i) => t[Math.floor(i / plane)]), ...extra } as Layer;
  };
  const maxpool = (shape: ImageShape): Layer => ({
    kind: "pool", mode: "max", inShape: shape, outShape: img(shape.channels, shape.height >> 1, shape.width >> 1),
    kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1],
  });
  const imageGraph = (inputShape: ImageShape, layers: Layer[]) => ({ ...graph(inputShape.channels * inputShape.height * inputShape.width, layers), inputShape });

  it("folds BatchNorm2d after a conv into the conv (W[o] ·= s[o], b = b·s + t)", () => {
    const c = conv(img(2, 6, 6), 3, 3, 1);
    const g = imageGraph(img(2, 6, 6), [c, bn(c.outShape), act("relu", 108), dense(108, 2)]);
    const f = foldGraph(g);
    expect(f.layers.map(describeLayer)).toEqual(["conv 3×3 2×6×6→3×6×6 pad 1,1,1,1", "relu 108", "dense 108→2"]);
    sameFunction(g, f);
  });

  it("folds a per-channel affine before an unpadded conv into the conv's weights and bias (input normalization)", () => {
    const c = conv(img(3, 5, 5), 4, 3, 0, 1);
    const g = imageGraph(img(3, 5, 5), [bn(img(3, 5, 5)), c, act("relu", 36), dense(36, 2)]);
    const f = foldGraph(g);
    expect(f.layers.map(describeLayer)).toEqual(["conv 3×3 3×5×5→4×3×3", "relu 36", "dense 36→2"]);
    sameFunction(g, f);
    const grouped = conv(img(4, 5, 5), 6, 3, 0, 2);
    const h = imageGraph(img(4, 5, 5), [bn(img(4, 5, 5)), grouped, act("relu", 54), dense(54, 2)]);
    expect(foldGraph(h).layers).toHaveLength(3);
    sameFunction(h, foldGraph(h));
  });

  it("does not fold a shift into a padded conv (its padding would read t, not 0): a depthwise 1×1 conv instead; a pure scale folds", () => {
    const c = conv(img(2, 5, 5), 3, 3, 1);
    const g = imageGraph(img(2, 5, 5), [bn(img(2, 5, 5), { source: "BN" }), c, act("relu", 75), dense(75, 2)]);
    const f = foldGraph(g);
    expect(f.layers.map(describeLayer)).toEqual(["conv 1×1 2×5×5→2×5×5 groups 2", "conv 3×3 2×5×5→3×5×5 pad 1,1,1,1", "relu 75", "dense 75→2"]);
    expect(f.layers[0].source).toBe("BN");
    sameFunction(g, f);
    const scaleOnly = bn(img(2, 5, 5));
    if (scaleOnly.kind === "affine") scaleOnly.shift.fill(0);
    const h = imageGraph(img(2, 5, 5), [scaleOnly, c, act("relu", 75), dense(75, 2)]);
    expect(foldGraph(h).layers.map(describeLayer)).toEqual(["conv 3×3 2×5×5→3×5×5 pad 1,1,1,1", "relu 75", "dense 75→2"]);
    sameFunction(h, foldGraph(h));
  });

  it("turns BatchNorm2d between an activation and a pooling into a depthwise 1×1 conv of C weights, not a (C·H·W)² dense", () => {
    const c = conv(img(2, 8, 8), 4, 3, 1);
    const g = imageGraph(img(2, 8, 8), [c, act("relu", 256), bn(c.outShape), maxpool(c.outShape), dense(64, 3)]);
    const f = foldGraph(g);
    expect(f.layers.map(describeLayer)).toEqual(["conv 3×3 2×8×8→4×8×8 pad 1,1,1,1", "relu 256", "conv 1×1 4×8×8→4×8×8 groups 4", "maxpool 2×2 4×8×8→4×4", "dense 64→3"]);
    expect(f.layers[2]).toMatchObject({ kind: "conv", weights: { length: 4 }, bias: { length: 4 } });
    sameFunction(g, f);
    // on the graph input, shaped by graph.inputShape
    const onInput = imageGraph(img(2, 4, 4), [bn(img(2, 4, 4)), maxpool(img(2, 4, 4)), dense(8, 2)]);
    expect(foldGraph(onInput).layers.map(describeLayer)).toEqual(["conv 1×1 2×4×4→2×4×4 groups 2", "maxpool 2×2 2×4×4→2×2", "dense 8→2"]);
    sameFunction(onInput, foldGraph(onInput));
  });

  it("keeps a diagonal dense for an affine that varies within a channel's plane, and leaves the argument's conv arrays alone", () => {
    const c = conv(img(1, 4, 4), 2, 3, 1);
    const g = imageGraph(img(1, 4, 4), [c, act("relu", 32), affine(32), maxpool(c.outShape), dense(8, 2)]);
    const copy = structuredClone(g);
    const f = foldGraph(g);
    expect(f.layers.map(describeLayer)[2]).toBe("dense 32→32");
    sameFunction(g, f);
    const h = imageGraph(img(2, 6, 6), [conv(img(2, 6, 6), 3, 3, 1), bn(img(3, 6, 6)), act("relu", 108), dense(108, 2)]);
    const before = structuredClone(h);
    foldGraph(h);
    expect(h).toEqual(before);
    expect(g).toEqual(copy);
  });

  it("mergeBiasAdds folds a per-channel bias Add into the conv that produces it", () => {
    const c = conv(img(2, 5, 5), 3, 3, 1);
    const shift = bn(c.outShape);
    if (shift.kind === "affine") shift.scale.fill(1);
    const g = imageGraph(img(2, 5, 5), [c, shift, act("relu", 75), dense(75, 2)]);
    const m = mergeBiasAdds(g);
    expect(m.layers.map(describeLayer)).toEqual(["conv 3×3 2×5×5→3×5×5 pad 1,1,1,1", "relu 75", "dense 75→2"]);
    sameFunction(g, m);
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

/**
 * Every PyTorch export in fixtures/models/INDEX.json (written by scripts/export_fixtures.py with torch 1.13):
 * imported, folded and run in float64, it agrees with torch's float32 outputs to 1e-4 of the output scale,
 * and imports as the layers one would write by hand (a GELU subgraph is one gelu layer, BatchNorm one affine,
 * a Conv one conv layer, a Pad before an AveragePool no layer at all).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { forwardFloat } from "./float.js";
import { foldGraph } from "./fold.js";
import { UnsupportedOpError, describeLayer } from "./graph.js";
import type { ModelGraph } from "./graph.js";
import { importOnnx } from "./onnx.js";
import { build, node, tensor } from "./onnx/testing.js";
import { expectThrow } from "../test/helpers/expect.js";

const MODELS = new URL("../fixtures/models/", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, MODELS));
const INDEX: { file: string; layer: string; opset: number; expect?: string; ops: string[]; inputs: Record<string, (number | string)[]> }[] = JSON.parse(read("INDEX.json").toString("utf8"));
const layersOf = (g: ModelGraph) => g.layers.map((l) => describeLayer(l) + (l.input !== undefined ? ` ←${l.input}` : "") + (l.kind === "add" ? ` +${l.other}` : ""));

/** The imported layer list (before folding) and the folded head, per fixture. */
const EXPECTED: Record<string, { layers: string[]; head?: "softmax" | "log_softmax"; pool?: [string, number[]] }> = {
  "leaky-relu": { layers: ["dense 6→12", "leaky_relu 12", "dense 12→8", "leaky_relu 8", "dense 8→3"] },
  prelu: { layers: ["dense 6→12", "leaky_relu 12", "dense 12→8", "leaky_relu 8", "dense 8→3"] },
  "prelu-channels": {
    layers: ["dense 6→12", "relu 12", "affine 12 ←0", "relu 12", "affine 12", "add 12 ←1 +4", "dense 12→8", "relu 8", "affine 8 ←6", "relu 8", "affine 8", "add 8 ←7 +10", "dense 8→3"],
  },
  elu: { layers: ["dense 6→12", "elu 12", "dense 12→8", "elu 8", "dense 8→3"] },
  softplus: { layers: ["dense 6→12", "softplus 12", "dense 12→8", "softplus 8", "dense 8→3"] },
  relu6: { layers: ["dense 6→12", "clip 12", "dense 12→8", "clip 8", "dense 8→3"] },
  hardtanh: { layers: ["dense 6→12", "clip 12", "dense 12→8", "clip 8", "dense 8→3"] },
  "clip-opset9": { layers: ["dense 6→12", "clip 12", "dense 12→8", "clip 8", "dense 8→3"] },
  gelu: { layers: ["dense 6→12", "gelu 12", "dense 12→8", "gelu 8", "dense 8→3"] },
  "gelu-tanh": { layers: ["dense 6→12", "gelu_tanh 12", "dense 12→8", "gelu_tanh 8", "dense 8→3"] },
  silu: { layers: ["dense 6→12", "silu 12", "dense 12→8", "silu 8", "dense 8→3"] },
  batchnorm: { layers: ["dense 6→12", "affine 12", "relu 12", "dense 12→3"] },
  "batchnorm-after-relu": { layers: ["dense 6→12", "relu 12", "affine 12", "dense 12→3"] },
  "batchnorm-input": { layers: ["affine 6", "dense 6→10", "relu 10", "dense 10→3"] },
  "layernorm-17": { layers: ["dense 6→12", "layernorm 12", "relu 12", "dense 12→3"] },
  "layernorm-13": { layers: ["dense 6→12", "layernorm 12", "relu 12", "dense 12→3"] },
  "log-softmax": { layers: ["dense 6→10", "relu 10", "dense 10→4"], head: "log_softmax" },
  "normalized-input": { layers: ["affine 6", "affine 6", "dense 6→10", "relu 10", "dense 10→3"] },
  residual: { layers: ["dense 6→10", "relu 10", "dense 10→10", "relu 10", "add 10 ←1 +3", "dense 10→3"] },
  "squeeze-output": { layers: ["dense 6→10", "relu 10", "dense 10→1"] },
  "rank3-linear": { layers: ["dense 6→10", "relu 10", "dense 10→3"] },
  "two-outputs": { layers: ["dense 6→10", "relu 10", "dense 10→4"], head: "softmax" },
  "gemm-transa": { layers: ["dense 6→10", "relu 10", "dense 10→3"] },
  "matrix-bias": { layers: ["dense 6→10", "relu 10", "dense 10→3"] },
  "tanh-softmax": { layers: ["dense 5→7", "tanh 7", "dense 7→4"], head: "softmax" },
  conv: { layers: ["conv 3×3 1×4×4→2×2×2", "relu 8", "dense 8→3"] },
  "conv-k1": { layers: ["conv 1×1 4×6×6→8×6×6", "relu 288", "dense 288→3"] },
  "conv-k3-p1": { layers: ["conv 3×3 3×8×8→6×8×8 pad 1,1,1,1", "relu 384", "dense 384→3"] },
  "conv-k5-p2": { layers: ["conv 5×5 1×10×10→4×10×10 pad 2,2,2,2", "relu 400", "dense 400→3"] },
  "conv-k3-p0": { layers: ["conv 3×3 2×7×7→4×5×5", "relu 100", "dense 100→3"] },
  "conv-s2": { layers: ["conv 3×3 2×9×9→4×5×5 stride 2×2 pad 1,1,1,1", "relu 100", "dense 100→3"] },
  "conv-p2-s2": { layers: ["conv 5×5 2×10×10→4×5×5 stride 2×2 pad 2,2,2,2", "relu 100", "dense 100→3"] },
  "conv-dilation2": { layers: ["conv 3×3 2×8×8→4×8×8 pad 2,2,2,2 dilation 2×2", "relu 256", "dense 256→3"] },
  "conv-groups2": { layers: ["conv 3×3 4×6×6→8×6×6 pad 1,1,1,1 groups 2", "relu 288", "dense 288→3"] },
  "conv-depthwise": { layers: ["conv 3×3 6×6×6→6×6×6 pad 1,1,1,1 groups 6", "relu 216", "conv 1×1 6×6×6→8×6×6", "relu 288", "dense 288→3"] },
  "conv-nobias": { layers: ["conv 3×3 3×6×6→4×4×4", "relu 64", "dense 64→3"] },
  "conv-rect": { layers: ["conv 3×5 2×7×10→4×7×5 stride 1×2 pad 1,2,1,2", "relu 140", "dense 140→3"] },
  "conv-bn": { layers: ["conv 3×3 3×6×6→6×6×6 pad 1,1,1,1", "relu 216", "dense 216→3"] },
  "conv-relu-bn": { layers: ["conv 3×3 2×6×6→4×6×6 pad 1,1,1,1", "relu 144", "affine 144", "dense 144→3"] },
  "maxpool-2": { layers: ["conv 3×3 1×8×8→4×8×8 pad 1,1,1,1", "relu 256", "maxpool 2×2 4×8×8→4×4", "dense 64→3"] },
  "maxpool-3-s2-p1": { layers: ["maxpool 3×3 2×8×8→4×4", "dense 32→3"] },
  "maxpool-ceil": { layers: ["conv 3×3 2×7×7→4×7×7 pad 1,1,1,1", "maxpool 2×2 4×7×7→4×4", "dense 64→3"] },
  // the Pad (zeros, all 0 here) before the AveragePool is no layer
  "avgpool-2": { layers: ["conv 3×3 1×8×8→4×8×8 pad 1,1,1,1", "relu 256", "avgpool 2×2 4×8×8→4×4", "dense 64→3"] },
  "avgpool-3-p1": { layers: ["conv 3×3 2×6×6→4×6×6 pad 1,1,1,1", "avgpool 3×3 4×6×6→6×6", "relu 144", "dense 144→3"], pool: ["avg", [1, 1, 1, 1]] },
  "avgpool-exclude-pad": { layers: ["conv 3×3 2×6×6→4×6×6 pad 1,1,1,1", "avgpool 3×3 4×6×6→6×6", "relu 144", "dense 144→3"], pool: ["avg_valid", [1, 1, 1, 1]] },
  "global-avgpool": { layers: ["conv 3×3 3×6×6→6×6×6 pad 1,1,1,1", "relu 216", "avgpool 6×6 6×6×6→1×1", "dense 6→3"] },
  "mean-pool": { layers: ["conv 3×3 3×6×6→6×6×6 pad 1,1,1,1", "relu 216", "avgpool 6×6 6×6×6→1×1", "dense 6→4"] },
  "conv-static-batch": { layers: ["conv 3×3 2×6×6→4×6×6 pad 1,1,1,1", "relu 144", "maxpool 2×2 4×6×6→3×3", "dense 36→3"] },
  "conv-leaky-elu": { layers: ["conv 3×3 2×6×6→4×6×6 pad 1,1,1,1", "leaky_relu 144", "conv 3×3 4×6×6→4×6×6 pad 1,1,1,1", "elu 144", "dense 144→3"] },
};

/** Fixtures INDEX.json marks "unsupported" that mlvm has learnt to import since (no reference outputs: layers only). */

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flat(9) : [v as number]);

describe("importOnnx + foldGraph + forwardFloat on the PyTorch fixtures", () => {
  for (const entry of INDEX.filter((e) => e.expect !== "unsupported")) {
    const name = entry.file.replace(/\.onnx$/, "");
    it(`${name} (${entry.layer}, opset ${entry.opset}) agrees with torch to 1e-4 of the output scale`, () => {
      const graph = importOnnx(read(entry.file), name);
      const expected = EXPECTED[name];
      if (expected) {
        expect(layersOf(graph)).toEqual(expected.layers);
        expect(graph.foldedHead).toBe(expected.head);
        expect(graph.softmaxFolded).toBe(expected.head !== undefined);
        const pool = graph.layers.find((l) => l.kind === "pool");
        if (expected.pool) expect(pool?.kind === "pool" && [pool.mode, pool.padding]).toEqual(expected.pool);
      }
      const declared = Object.values(entry.inputs)[0];
      if (declared.length === 4) {
        const [, channels, height, width] = declared;
        expect(graph.inputShape).toEqual({ channels, height, width });
      } else {
        expect(graph.inputShape).toBeUndefined();
      }
      for (const layer of graph.layers) expect(layer.source).toMatch(/^[A-Za-z]+(\(tanh\))? (".+"|\(nodes .+ … .+\))$/);
      const folded = foldGraph(graph);
      expect(folded.layers.some((l) => l.kind === "affine")).toBe(false);
      const ref = JSON.parse(read(`${name}.reference.json`).toString("utf8"));
      const outputs: unknown[] = ref.logits;
      const scale = Math.max(...outputs.flatMap(flat).map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(ref.inputs.length).toBeGreaterThan(0);
      ref.inputs.forEach((x: unknown, k: number) => {
        const y = forwardFloat(folded, flat(x));
        const t = flat(outputs[k]);
        expect(y.length).toBe(t.length);
        t.forEach((v, i) => {
          if (!(Math.abs(y[i] - v) <= 1e-4 * scale)) throw new Error(`${name} input ${k} output ${i}: ${y[i]} vs torch ${v} (scale ${scale})`);
        });
        // the unfolded graph computes the same (folding is exact up to rounding)
        const unfolded = forwardFloat(graph, flat(x));
        t.forEach((_, i) => expect(Math.abs(unfolded[i] - y[i])).toBeLessThanOrEqual(1e-9 * scale));
      });
    });
  }

  it("covers every fixture it has an expectation for, and expects the layers of every CNN fixture", () => {
    const names = new Set(INDEX.map((e) => e.file.replace(/\.onnx$/, "")));
    expect(Object.keys(EXPECTED).filter((n) => !names.has(n))).toEqual([]);
    const windowed = (e: (typeof INDEX)[number]) => e.ops.some((op) => op === "Conv" || op.endsWith("Pool"));
    const images = INDEX.filter((e) => e.expect === undefined && windowed(e)).map((e) => e.file.replace(/\.onnx$/, ""));
    expect(images.length).toBeGreaterThanOrEqual(23);
    expect(images.filter((n) => !EXPECTED[n])).toEqual([]);
  });

  for (const entry of INDEX.filter((e) => e.expect === "unsupported")) {
    const name = entry.file.replace(/\.onnx$/, "");
    it(`${name} (marked unsupported) is refused with an UnsupportedOpError naming the operator`, () => {
      expectThrow(() => importOnnx(read(entry.file), name), UnsupportedOpError, new RegExp(`unsupported operator (${entry.ops.join("|")})`));
    });
  }

  it("log-softmax: LogSoftmax of the logits is torch's output", () => {
    const ref = JSON.parse(read("log-softmax.reference.json").toString("utf8"));
    const graph = foldGraph(importOnnx(read("log-softmax.onnx"), "log-softmax"));
    ref.inputs.forEach((x: number[], k: number) => {
      const z = Array.from(forwardFloat(graph, x));
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      z.forEach((v, i) => expect(v - lse).toBeCloseTo(ref.log_probabilities[k][i], 5));
    });
  });

  it("names layers as the user wrote them: Gemm, BatchNormalization, and GELU by its first and last node", () => {
    expect(importOnnx(read("batchnorm.onnx"), "b").layers.map((l) => l.source)).toEqual([
      expect.stringMatching(/^Gemm "/),
      expect.stringMatching(/^BatchNormalization "/),
      expect.stringMatching(/^Relu "/),
      expect.stringMatching(/^Gemm "/),
    ]);
    const gelu = importOnnx(read("gelu.onnx"), "g").layers[1];
    expect(gelu.source).toMatch(/^GELU \(nodes \S+Div\S* … \S+Mul\S*\)$/);
  });

  it("refuses an operator outside the subset (LSTM, as torch writes nn.LSTM) in one line naming the op and the node", () => {
    const lstm = build({
      nodes: [node("LSTM", ["x", "W", "R"], ["h"], { hidden_size: 2 }, "/lstm/LSTM"), node("Flatten", ["h"], ["f"], { axis: 1 }), node("Gemm", ["f", "G"], ["y"], { transB: 1 })],
      inits: [tensor("W", [1, 8, 3], new Array(24).fill(0.1)), tensor("R", [1, 8, 2], new Array(16).fill(0.1)), tensor("G", [1, 2], [1, 1])],
      inputShape: [5, "N", 3],
    });
    const err = expectThrow(() => importOnnx(lstm, "lstm"), UnsupportedOpError, /unsupported operator LSTM \(LSTM node "\/lstm\/LSTM"\); mlvm supports .*Conv, MaxPool, AveragePool/);
    expect(err.message).not.toContain("\n");
  });
});

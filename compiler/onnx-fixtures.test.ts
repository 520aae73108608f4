/**
 * Every PyTorch export in fixtures/models/INDEX.json (written by scripts/export_fixtures.py with torch 1.13):
 * imported, folded and run in float64, it agrees with torch's float32 outputs to 1e-4 of the output scale,
 * and imports as the layers one would write by hand (a GELU subgraph is one gelu layer, BatchNorm one affine).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { forwardFloat } from "./float.js";
import { foldGraph } from "./fold.js";
import { UnsupportedOpError, describeLayer } from "./graph.js";
import type { ModelGraph } from "./graph.js";
import { importOnnx } from "./onnx.js";
import { expectThrow } from "../test/helpers/expect.js";

const MODELS = new URL("../fixtures/models/", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, MODELS));
const INDEX: { file: string; layer: string; opset: number; expect?: string }[] = JSON.parse(read("INDEX.json").toString("utf8"));
const layersOf = (g: ModelGraph) => g.layers.map((l) => describeLayer(l) + (l.input !== undefined ? ` ←${l.input}` : "") + (l.kind === "add" ? ` +${l.other}` : ""));

/** The imported layer list (before folding) and the folded head, per fixture. */
const EXPECTED: Record<string, { layers: string[]; head?: "softmax" | "log_softmax" }> = {
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
};

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

  it("covers every fixture it has an expectation for", () => {
    const names = new Set(INDEX.map((e) => e.file.replace(/\.onnx$/, "")));
    expect(Object.keys(EXPECTED).filter((n) => !names.has(n))).toEqual([]);
  });

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

  it("refuses Conv in one line naming the op and the node", () => {
    const err = expectThrow(() => importOnnx(read("conv.onnx"), "conv"), UnsupportedOpError, /unsupported operator Conv \(Conv node "\/conv\/Conv"\)/);
    expect(err.message).not.toContain("\n");
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { forwardFloat } from "./float.js";
import { ModelFormatError, NonFiniteWeightError } from "./graph.js";
import type { ActivationLayer, DenseLayer } from "./graph.js";
import { importJson } from "./json.js";
import { importOnnx } from "./onnx.js";
import { expectThrow } from "../test/helpers/expect.js";

const MODELS = new URL("../fixtures/models/", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, MODELS), "utf8");


const base = () => ({
  format: "mlvm-mlp",
  version: 1,
  input_size: 2,
  layers: [
    { type: "dense", weights: [[1, 2], [3, 4], [5, 6]], bias: [0.5, 0, -0.5] } as Record<string, unknown>,
    { type: "relu" } as Record<string, unknown>,
    { type: "dense", weights: [[1, -1, 0.5]], bias: [0.25] } as Record<string, unknown>,
  ],
});
const load = (doc: unknown) => importJson(JSON.stringify(doc), "m.json");

describe("importJson", () => {
  it("imports the tiny.json fixture and matches PyTorch's logits", () => {
    const graph = importJson(read("tiny.json"), "tiny");
    const ref = JSON.parse(read("tiny.reference.json"));
    expect(graph.name).toBe("tiny");
    expect(graph.inputSize).toBe(3);
    expect(graph.outputSize).toBe(2);
    expect(graph.softmaxFolded).toBe(true);
    expect(graph.layers.map((l) => (l.kind === "dense" ? `dense ${l.inputs}x${l.outputs}` : (l as ActivationLayer).fn))).toEqual(["dense 3x4", "relu", "dense 4x2"]);
    ref.inputs.forEach((x: number[], k: number) => {
      const y = forwardFloat(graph, x);
      ref.logits[k].forEach((v: number, i: number) => expect(y[i]).toBeCloseTo(v, 6));
    });
  });

  it("imports the example in docs/json-weights.md", () => {
    const doc = readFileSync(new URL("../docs/json-weights.md", import.meta.url), "utf8");
    const example = /```json\n([\s\S]*?)```/.exec(doc)![1];
    const graph = importJson(example, "example.json");
    expect(graph).toMatchObject({ inputSize: 3, outputSize: 2, softmaxFolded: true });
    expect(graph.layers.map((l) => l.kind)).toEqual(["dense", "activation", "dense"]);
  });

  it("reads weights as [out][in] rows and computes W·x + b", () => {
    const graph = load(base());
    const first = graph.layers[0] as DenseLayer;
    expect(first).toMatchObject({ kind: "dense", inputs: 2, outputs: 3 });
    expect(Array.from(first.weights)).toEqual([1, 2, 3, 4, 5, 6]);
    // x = [1, -1]: layer 1 = [-1+0.5, -1+0, -1-0.5] -> relu [0, 0, 0] -> 0.25
    expect(Array.from(forwardFloat(graph, [1, -1]))).toEqual([0.25]);
    // x = [1, 1]: [3.5, 7, 10.5] -> 3.5 - 7 + 5.25 + 0.25
    expect(Array.from(forwardFloat(graph, [1, 1]))).toEqual([2]);
  });

  it("defaults an omitted bias to zeros and accepts sigmoid, tanh and metadata", () => {
    const doc = base();
    delete doc.layers[0].bias;
    doc.layers[1] = { type: "sigmoid" };
    doc.layers.push({ type: "tanh" });
    const graph = load({ ...doc, metadata: { source: "test", classes: ["a"] } });
    expect(Array.from((graph.layers[0] as DenseLayer).bias)).toEqual([0, 0, 0]);
    expect(graph.layers.map((l) => (l.kind === "activation" ? l.fn : "dense"))).toEqual(["dense", "sigmoid", "dense", "tanh"]);
  });

  it("round-trips the MNIST model: ONNX -> JSON -> the same forward pass", () => {
    const onnxGraph = importOnnx(readFileSync(new URL("mnist-mlp.onnx", MODELS)), "mnist");
    const layers = onnxGraph.layers.map((layer) => {
      if (layer.kind === "activation") return { type: layer.fn };
      const l = layer as DenseLayer;
      const rows = Array.from({ length: l.outputs }, (_, o) => Array.from(l.weights.subarray(o * l.inputs, (o + 1) * l.inputs)));
      return { type: "dense", weights: rows, bias: Array.from(l.bias) };
    });
    const jsonGraph = load({ format: "mlvm-mlp", version: 1, input_size: 784, layers });
    const x = Float64Array.from({ length: 784 }, (_, i) => ((i * 37) % 256) / 255);
    expect(Array.from(forwardFloat(jsonGraph, x))).toEqual(Array.from(forwardFloat(onnxGraph, x)));
  });

  it("rejects text that is not JSON, or not an object", () => {
    expectThrow(() => importJson("{ nope", "bad.json"), ModelFormatError, /bad\.json is not valid JSON/);
    expectThrow(() => importJson("", "empty.json"), ModelFormatError, /empty\.json is not valid JSON/);
    expectThrow(() => importJson("[1, 2]", "arr.json"), ModelFormatError, /top level must be a JSON object, got an array/);
  });

  it("rejects a wrong or missing format and version", () => {
    expectThrow(() => load({ ...base(), format: "keras" }), ModelFormatError, /"format" must be "mlvm-mlp", got "keras"/);
    const { format: _f, ...noFormat } = base();
    expectThrow(() => load(noFormat), ModelFormatError, /missing "format"/);
    expectThrow(() => load({ ...base(), version: 2 }), ModelFormatError, /unsupported "version" 2/);
    expectThrow(() => load({ ...base(), version: "1" }), ModelFormatError, /unsupported "version" "1"/);
    const { version: _v, ...noVersion } = base();
    expectThrow(() => load(noVersion), ModelFormatError, /missing "version"/);
  });

  it("rejects a bad input_size, bad layers and unknown fields", () => {
    expectThrow(() => load({ ...base(), input_size: 2.5 }), ModelFormatError, /"input_size" must be a positive integer, got 2.5/);
    expectThrow(() => load({ ...base(), input_size: 0 }), ModelFormatError, /"input_size"/);
    const { input_size: _i, ...noInput } = base();
    expectThrow(() => load(noInput), ModelFormatError, /"input_size" must be a positive integer, got nothing/);
    expectThrow(() => load({ ...base(), layers: [] }), ModelFormatError, /"layers" must be a non-empty array/);
    expectThrow(() => load({ ...base(), layers: {} }), ModelFormatError, /"layers" must be a non-empty array, got an object/);
    expectThrow(() => load({ ...base(), weights: [] }), ModelFormatError, /unknown field "weights"/);
    expectThrow(() => load({ ...base(), metadata: 3 }), ModelFormatError, /"metadata" must be an object/);
    const doc = base();
    doc.layers[0].bais = [1, 2, 3];
    expectThrow(() => load(doc), ModelFormatError, /layers\[0\]: unknown field "bais"/);
    const doc2 = base();
    doc2.layers[1].size = 3;
    expectThrow(() => load(doc2), ModelFormatError, /layers\[1\]: unknown field "size"/);
  });

  it("rejects an unknown layer type, naming the layer", () => {
    const doc = base();
    doc.layers[1] = { type: "conv2d" };
    expectThrow(() => load(doc), ModelFormatError, /layers\[1\]\.type: unknown layer type "conv2d"/, /dense, relu, sigmoid, tanh, leaky_relu, elu, softplus, clip, gelu, gelu_tanh, silu, softmax, log_softmax\)/);
    const doc2 = base();
    doc2.layers[1] = { kind: "relu" };
    expectThrow(() => load(doc2), ModelFormatError, /layers\[1\]\.type: unknown layer type \(missing\)/);
    const doc3 = base();
    doc3.layers[1] = "relu" as never;
    expectThrow(() => load(doc3), ModelFormatError, /layers\[1\] must be an object, got a string/);
  });

  it("rejects ragged rows, rows of the wrong width and a bias of the wrong length", () => {
    const ragged = base();
    ragged.layers[0].weights = [[1, 2], [3], [5, 6]];
    expectThrow(() => load(ragged), ModelFormatError, /layers\[0\]\.weights\[1\] has 1 entries, expected 2/);
    const wide = base();
    wide.layers[2].weights = [[1, 2]]; // the previous layer has 3 outputs
    expectThrow(() => load(wide), ModelFormatError, /layers\[2\]\.weights\[0\] has 2 entries, expected 3/);
    const flat = base();
    flat.layers[0].weights = [1, 2, 3, 4];
    expectThrow(() => load(flat), ModelFormatError, /layers\[0\]\.weights\[0\] must be an array of 2 numbers, got a number/);
    const empty = base();
    empty.layers[0].weights = [];
    expectThrow(() => load(empty), ModelFormatError, /layers\[0\]\.weights must be a non-empty array/);
    const bias = base();
    bias.layers[0].bias = [1, 2];
    expectThrow(() => load(bias), ModelFormatError, /layers\[0\]\.bias has 2 entries, expected 3/);
  });

  it("rejects non-numbers: strings like \"NaN\", null, booleans", () => {
    const nan = base();
    (nan.layers[0].weights as unknown[][])[2][1] = "NaN";
    expectThrow(() => load(nan), ModelFormatError, /layers\[0\]\.weights\[2\]\[1\] must be a number, got a string "NaN"/);
    const nul = base();
    (nul.layers[2].bias as unknown[])[0] = null;
    expectThrow(() => load(nul), ModelFormatError, /layers\[2\]\.bias\[0\] must be a number, got null/);
    const bool = base();
    (bool.layers[0].weights as unknown[][])[0][0] = true;
    expectThrow(() => load(bool), ModelFormatError, /layers\[0\]\.weights\[0\]\[0\] must be a number, got a boolean/);
  });

  it("rejects numbers that overflow to Infinity (1e400) with NonFiniteWeightError naming the entry", () => {
    const text = JSON.stringify(base()).replace("[3,4]", "[3,1e400]");
    expectThrow(() => importJson(text, "big.json"), NonFiniteWeightError, /layers\[0\]\.weights\[1\]\[1\] is Infinity/);
    const neg = JSON.stringify(base()).replace('"bias":[0.25]', '"bias":[-2e308]');
    expectThrow(() => importJson(neg, "big.json"), NonFiniteWeightError, /layers\[2\]\.bias\[0\] is -Infinity/);
  });

  it("folds a final softmax and rejects one in the middle", () => {
    const doc = base();
    doc.layers.push({ type: "softmax" });
    const graph = load(doc);
    expect(graph.softmaxFolded).toBe(true);
    expect(graph.layers).toHaveLength(3);
    const mid = base();
    mid.layers.splice(2, 0, { type: "softmax" });
    expectThrow(() => load(mid), ModelFormatError, /layers\[3\]: a softmax layer must be the last layer, but layers\[2\] is softmax/);
  });

  it("reads the activations with parameters, with PyTorch's defaults, and computes them", () => {
    const doc = base();
    const types = [
      { type: "leaky_relu", alpha: 0.2 },
      { type: "leaky_relu" },
      { type: "elu", alpha: 0.5 },
      { type: "elu" },
      { type: "softplus" },
      { type: "clip", min: -0.5, max: 0.75 },
      { type: "clip", min: 0 },
      { type: "gelu" },
      { type: "gelu_tanh" },
      { type: "silu" },
    ];
    const expected: Record<string, unknown>[] = [
      { fn: "leaky_relu", alpha: 0.2 },
      { fn: "leaky_relu", alpha: 0.01 },
      { fn: "elu", alpha: 0.5 },
      { fn: "elu", alpha: 1 },
      { fn: "softplus" },
      { fn: "clip", min: -0.5, max: 0.75 },
      { fn: "clip", min: 0 },
      { fn: "gelu" },
      { fn: "gelu_tanh" },
      { fn: "silu" },
    ];
    types.forEach((t, k) => {
      doc.layers[1] = t;
      const graph = load(doc);
      expect(graph.layers[1]).toEqual({ kind: "activation", size: 3, ...expected[k] });
    });
    // x = [1, -1] → first layer [-0.5, -1, -1.5] → clip(min 0) → [0, 0, 0] → 0.25; leaky 0.2 → [-0.1, -0.2, -0.3]
    doc.layers[1] = { type: "leaky_relu", alpha: 0.2 };
    expect(forwardFloat(load(doc), [1, -1])[0]).toBeCloseTo(-0.1 + 0.2 - 0.15 + 0.25, 14);
  });

  it("rejects a parameter an activation does not take, a non-number parameter, and a clip with no or crossed bounds", () => {
    const doc = base();
    doc.layers[1] = { type: "relu", alpha: 0.1 };
    expectThrow(() => load(doc), ModelFormatError, /layers\[1\]: unknown field "alpha" \(allowed: type\)/);
    doc.layers[1] = { type: "elu", alpha: "1" };
    expectThrow(() => load(doc), ModelFormatError, /layers\[1\]\.alpha must be a number, got a string/);
    doc.layers[1] = { type: "clip" };
    expectThrow(() => load(doc), ModelFormatError, /layers\[1\]: a clip layer needs "min", "max" or both/);
    doc.layers[1] = { type: "clip", min: 2, max: 1 };
    expectThrow(() => load(doc), ModelFormatError, /layers\[1\]: clip "min" 2 is greater than "max" 1/);
  });

  it("folds a final log_softmax like softmax, and names it when it is not last", () => {
    const doc = base();
    doc.layers.push({ type: "log_softmax" });
    const graph = load(doc);
    expect(graph).toMatchObject({ softmaxFolded: true, foldedHead: "log_softmax", outputSize: 1 });
    expect(graph.layers).toHaveLength(3);
    expect(load({ ...base(), layers: [...base().layers, { type: "softmax" }] }).foldedHead).toBe("softmax");
    const mid = base();
    mid.layers.splice(2, 0, { type: "log_softmax" });
    expectThrow(() => load(mid), ModelFormatError, /layers\[3\]: a log_softmax layer must be the last layer, but layers\[2\] is log_softmax/);
  });

  it("requires at least one dense layer", () => {
    expectThrow(() => load({ ...base(), layers: [{ type: "relu" }] }), ModelFormatError, /no dense/);
  });
});

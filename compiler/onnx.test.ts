import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { forwardFloat } from "./float.js";
import { ModelFormatError, NonFiniteWeightError, UnsupportedOpError } from "./graph.js";
import type { ActivationLayer, DenseLayer, ModelGraph } from "./graph.js";
import { importOnnx } from "./onnx.js";
import { expectThrow } from "../test/helpers/expect.js";
import { build, node, tensor } from "./onnx/testing.js";

const { onnx } = onnxProto;
const MODELS = new URL("../fixtures/models/", import.meta.url);
const fixture = (file: string): Uint8Array => readFileSync(new URL(file, MODELS));
const reference = (file: string) => JSON.parse(readFileSync(new URL(file, MODELS), "utf8"));
const dense = (g: ModelGraph) => g.layers.filter((l): l is DenseLayer => l.kind === "dense");
const summary = (g: ModelGraph) => g.layers.map((l) => (l.kind === "dense" ? `dense ${l.inputs}x${l.outputs}` : (l as ActivationLayer).fn ?? l.kind));

function closeTo(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
      throw new Error(`entry ${i}: ${actual[i]} differs from ${expected[i]} by more than ${tolerance}`);
    }
  }
}

// ---- synthetic models: compiler/onnx/testing.ts builds them ----

// A 3 -> 2 layer used by many synthetic models: W is [out][in].
const W = [
  [1, 2, 3],
  [-1, 0.5, 0.25],
];
const B = [0.5, -1];
const X = [0.1, -0.2, 0.3];
const WX_B = W.map((row, o) => row.reduce((s, w, i) => s + w * X[i], B[o]));
const transposed = (m: number[][]) => m[0].map((_, c) => m.map((row) => row[c]));

function decodeFixture(file: string) {
  return onnx.ModelProto.decode(fixture(file));
}
function encode(model: ReturnType<typeof decodeFixture>): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

// ---- the real MNIST fixture (PyTorch 1.13, opset 13) ----

function mnistImages(first: number, count: number): Float64Array[] {
  const bytes = gunzipSync(readFileSync(new URL("../fixtures/mnist/t10k-images-idx3-ubyte.gz", import.meta.url)));
  expect(bytes.readUInt32BE(0)).toBe(2051); // IDX magic for unsigned-byte 3-D data
  const size = bytes.readUInt32BE(8) * bytes.readUInt32BE(12);
  return Array.from({ length: count }, (_, k) => {
    const offset = 16 + (first + k) * size;
    return Float64Array.from(bytes.subarray(offset, offset + size), (p) => p / 255);
  });
}

describe("importOnnx: the MNIST fixture", () => {
  const graph = importOnnx(fixture("mnist-mlp.onnx"), "mnist-mlp");
  const ref = reference("mnist-mlp.reference.json");

  it("imports 784-128-64-10 with two Relus", () => {
    expect(graph.name).toBe("mnist-mlp");
    expect(graph.inputSize).toBe(784);
    expect(graph.outputSize).toBe(10);
    expect(graph.softmaxFolded).toBe(false);
    expect(summary(graph)).toEqual(["dense 784x128", "relu", "dense 128x64", "relu", "dense 64x10"]);
    for (const layer of dense(graph)) {
      expect(layer.weights.length).toBe(layer.inputs * layer.outputs);
      expect(layer.bias.length).toBe(layer.outputs);
      // float32 initializers widen exactly to float64
      expect(layer.weights.every((w) => Math.fround(w) === w && Number.isFinite(w))).toBe(true);
    }
  });

  it("keeps nn.Linear's [out][in] layout (Gemm transB=1) byte for byte", () => {
    const init = decodeFixture("mnist-mlp.onnx").graph!.initializer!.find((t) => t.name === "0.weight")!;
    const raw = init.rawData!;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const first = dense(graph)[0];
    for (const index of [0, 1, 783, 784, 5000, 128 * 784 - 1]) expect(first.weights[index]).toBe(view.getFloat32(index * 4, true));
  });

  it("matches PyTorch's float32 logits for test digits 8000..8019 within 1e-4", () => {
    const logits: number[][] = ref.float32_logits_first20;
    const images = mnistImages(8000, logits.length);
    images.forEach((x, k) => closeTo(forwardFloat(graph, x), logits[k], 1e-4));
  });

  it("predicts the same digit as PyTorch on all 2000 evaluation images", () => {
    const predictions: number[] = ref.float32_predictions;
    const images = mnistImages(8000, predictions.length);
    const mismatches = images.filter((x, k) => {
      const y = forwardFloat(graph, x);
      let best = 0;
      for (let i = 1; i < y.length; i++) if (y[i] > y[best]) best = i;
      return best !== predictions[k];
    }).length;
    expect(mismatches).toBe(0);
  });
});

// ---- fixtures exported by scripts/export_fixtures.py ----

describe("importOnnx: PyTorch exports match PyTorch", () => {
  const cases: [string, string[], boolean][] = [
    ["matmul-add-sigmoid", ["dense 6x8", "sigmoid", "dense 8x3"], false],
    ["tanh-softmax", ["dense 5x7", "tanh", "dense 7x4"], true],
    ["flatten-input", ["dense 16x12", "relu", "dense 12x3"], false],
    ["reshape-input", ["dense 16x10", "relu", "dense 10x2"], false],
    ["view-input", ["dense 16x9", "relu", "dense 9x9", "sigmoid", "dense 9x4"], false],
  ];
  for (const [name, layers, softmax] of cases) {
    it(`${name}: structure and logits`, () => {
      const ref = reference(`${name}.reference.json`);
      const graph = importOnnx(fixture(`${name}.onnx`), name);
      expect(summary(graph)).toEqual(layers);
      expect(graph.softmaxFolded).toBe(softmax);
      expect(graph.inputSize).toBe(ref.input_shape.reduce((a: number, b: number) => a * b, 1));
      expect(ref.inputs.length).toBeGreaterThan(0);
      ref.inputs.forEach((x: number[], k: number) => closeTo(forwardFloat(graph, x), ref.logits[k], 1e-5));
    });
  }

  it("tanh-softmax: softmax of the returned logits gives PyTorch's probabilities", () => {
    const ref = reference("tanh-softmax.reference.json");
    const graph = importOnnx(fixture("tanh-softmax.onnx"), "tanh-softmax");
    ref.inputs.forEach((x: number[], k: number) => {
      const z = forwardFloat(graph, x);
      const e = Array.from(z, (v) => Math.exp(v - Math.max(...z)));
      const total = e.reduce((a, b) => a + b, 0);
      closeTo(e.map((v) => v / total), ref.probabilities[k], 1e-6);
    });
  });

  it("matmul-add-sigmoid: MatMul weights [in][out] are transposed, Add biases folded (either operand order)", () => {
    const graph = importOnnx(fixture("matmul-add-sigmoid.onnx"), "m");
    const inits = decodeFixture("matmul-add-sigmoid.onnx").graph!.initializer!;
    const f32 = (name: string) => {
      const raw = inits.find((t) => t.name === name)!.rawData!;
      return Array.from(new Float32Array(new Uint8Array(raw).buffer)); // rawData is a Buffer view: copy it first
    };
    const [first, second] = dense(graph);
    const w1 = f32("w1"); // [6][8]
    expect(first.weights[3 * 6 + 2]).toBe(w1[2 * 8 + 3]);
    expect(Array.from(first.bias)).toEqual(f32("b1"));
    expect(Array.from(second.bias)).toEqual(f32("b2")); // the Add was (b2, MatMul)
  });

  it("view-input: a MatMul with no Add has a zero bias", () => {
    const graph = importOnnx(fixture("view-input.onnx"), "v");
    expect(Array.from(dense(graph)[1].bias)).toEqual(new Array(9).fill(0));
  });
});

// ---- synthetic models for the operator variants torch does not write ----

describe("importOnnx: operator variants", () => {
  const run = (bytes: Uint8Array) => {
    const graph = importOnnx(bytes, "t");
    return { graph, y: Array.from(forwardFloat(graph, X)) };
  };

  it("Gemm with transB=0, alpha and beta folded, bias C as [1, N]", () => {
    const { graph, y } = run(
      build({
        nodes: [node("Gemm", ["x", "W", "C"], ["y"], { alpha: { float: 2 }, beta: { float: 0.5 } })],
        inits: [tensor("W", [3, 2], transposed(W).flat()), tensor("C", [1, 2], B)],
      }),
    );
    const layer = dense(graph)[0];
    expect(Array.from(layer.weights)).toEqual(W.flat().map((w) => 2 * w));
    expect(Array.from(layer.bias)).toEqual(B.map((b) => 0.5 * b));
    closeTo(y, W.map((row, o) => row.reduce((s, w, i) => s + 2 * w * X[i], 0.5 * B[o])), 1e-12);
  });

  it("Gemm without C has a zero bias; a scalar C broadcasts", () => {
    const noBias = run(build({ nodes: [node("Gemm", ["x", "W"], ["y"], { transB: 1 })], inits: [tensor("W", [2, 3], W.flat())] }));
    expect(Array.from(dense(noBias.graph)[0].bias)).toEqual([0, 0]);
    const scalar = run(
      build({
        nodes: [node("Gemm", ["x", "W", "C"], ["y"], { transB: 1 })],
        inits: [tensor("W", [2, 3], W.flat()), tensor("C", [], [0.75])],
      }),
    );
    expect(Array.from(dense(scalar.graph)[0].bias)).toEqual([0.75, 0.75]);
  });

  it("Gemm with rawData float32 and DOUBLE weights", () => {
    const raw = new Uint8Array(new Float32Array(W.flat()).buffer);
    const doubles = { name: "W", dims: [2, 3], dataType: 11, doubleData: W.flat() };
    for (const init of [{ name: "W", dims: [2, 3], dataType: 1, rawData: raw }, doubles]) {
      const { y } = run(build({ nodes: [node("Gemm", ["x", "W", "b"], ["y"], { transB: 1 })], inits: [init as never, tensor("b", [2], B)] }));
      closeTo(y, WX_B, 1e-7);
    }
  });

  it("MatMul + Add, Relu, Identity on data and on weights, Dropout, Softmax last", () => {
    const { graph, y } = run(
      build({
        nodes: [
          node("Identity", ["Wt"], ["Wt2"]),
          node("MatMul", ["x", "Wt2"], ["m"]),
          node("Identity", ["m"], ["m2"]),
          node("Add", ["m2", "b"], ["a"]),
          node("Dropout", ["a"], ["d"]),
          node("Relu", ["d"], ["r"]),
          node("Softmax", ["r"], ["y"], { axis: 1 }),
        ],
        inits: [tensor("Wt", [3, 2], transposed(W).flat()), tensor("b", [1, 2], B)],
      }),
    );
    expect(summary(graph)).toEqual(["dense 3x2", "relu"]);
    expect(graph.softmaxFolded).toBe(true);
    closeTo(y, WX_B.map((v) => Math.max(0, v)), 1e-12);
  });

  it("Reshape with its shape from an initializer, from a Constant, and with 0 (copy) entries; Flatten", () => {
    const inits = [tensor("W", [2, 3], W.flat()), tensor("b", [2], B)];
    const gemm = node("Gemm", ["flat", "W", "b"], ["y"], { transB: 1 });
    const shapes = [
      { nodes: [node("Reshape", ["x", "s"], ["flat"]), gemm], inits: [...inits, tensor("s", [2], [-1, 3], 7)] },
      { nodes: [node("Constant", [], ["s"], { value: { tensor: tensor("", [2], [0, -1], 7) } }), node("Reshape", ["x", "s"], ["flat"]), gemm], inits },
      { nodes: [node("Flatten", ["x"], ["flat"]), gemm], inits },
      { nodes: [node("Flatten", ["x"], ["flat"], { axis: -3 }), gemm], inits },
    ];
    for (const spec of shapes) {
      const { graph, y } = run(build({ ...spec, inputShape: ["N", 1, 3, 1] }));
      expect(graph.inputSize).toBe(3);
      closeTo(y, WX_B, 1e-12);
    }
  });

  it("Shape -> Gather -> Unsqueeze -> Concat -> Reshape at opset 11 (axes as an attribute)", () => {
    const { graph } = run(
      build({
        opset: 11,
        inputShape: ["batch", 3, 1],
        nodes: [
          node("Shape", ["x"], ["shape"]),
          node("Constant", [], ["zero"], { value: { tensor: tensor("", [], [0], 7) } }),
          node("Gather", ["shape", "zero"], ["n"], { axis: 0 }),
          node("Unsqueeze", ["n"], ["n1"], { axes: [0] }),
          node("Concat", ["n1", "minus1"], ["target"], { axis: 0 }),
          node("Reshape", ["x", "target"], ["flat"]),
          node("Gemm", ["flat", "W"], ["y"], { transB: 1 }),
        ],
        inits: [tensor("W", [2, 3], W.flat()), tensor("minus1", [1], [-1], 7)],
      }),
    );
    expect(graph.inputSize).toBe(3);
  });

  it("accepts IR 3 style graphs that list initializers among the inputs, and a fixed batch size", () => {
    const { y } = run(
      build({
        inputs: ["x", "W"],
        inputShape: [1, 3],
        nodes: [node("Gemm", ["x", "W"], ["y"], { transB: 1 })],
        inits: [tensor("W", [2, 3], W.flat())],
      }),
    );
    closeTo(y, W.map((row) => row.reduce((s, w, i) => s + w * X[i], 0)), 1e-12);
  });
});

// ---- bad input ----

describe("importOnnx: bad input", () => {
  it("rejects a truncated file (the MNIST model cut in half)", () => {
    const bytes = fixture("mnist-mlp.onnx");
    expectThrow(() => importOnnx(bytes.subarray(0, bytes.length >> 1), "half.onnx"), ModelFormatError, "half.onnx", /not a valid ONNX model/);
  });

  it("rejects garbage bytes and an empty file", () => {
    const text = new TextEncoder().encode("this is not an onnx model at all, just some text\n");
    expectThrow(() => importOnnx(text, "text.onnx"), ModelFormatError, /text\.onnx is not a valid ONNX model/);
    let seed = 12345;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255);
    expectThrow(() => importOnnx(random, "random.onnx"), ModelFormatError, /random\.onnx is not a valid ONNX model/);
    expectThrow(() => importOnnx(new Uint8Array(0), "empty.onnx"), ModelFormatError, /empty\.onnx is not a valid ONNX model/);
  });

  it("rejects a 3-D Conv and an LSTM with an UnsupportedOpError naming the op and the node", () => {
    const conv3d = build({ nodes: [node("Conv", ["x", "W"], ["y"], {}, "/conv/Conv")], inits: [tensor("W", [1, 1, 2, 2, 2], new Array(8).fill(1))], inputShape: ["N", 1, 3, 3, 3] });
    expectThrow(() => importOnnx(conv3d, "t"), UnsupportedOpError, /3-D window/, '"/conv/Conv"');
    const lstm = build({ nodes: [node("LSTM", ["x", "W"], ["y"], {}, "my_lstm")], inits: [tensor("W", [1], [0])] });
    expectThrow(() => importOnnx(lstm, "t"), UnsupportedOpError, /LSTM/, "my_lstm");
  });

  it("rejects NaN and infinite weights with NonFiniteWeightError", () => {
    const model = decodeFixture("mnist-mlp.onnx");
    const init = model.graph!.initializer!.find((t) => t.name === "2.weight")!;
    const raw = new Uint8Array(init.rawData!); // a copy ([64][128] float32): rawData is a Buffer view into the file
    new DataView(raw.buffer).setFloat32((3 * 128 + 5) * 4, NaN, true);
    init.rawData = raw;
    expectThrow(() => importOnnx(encode(model), "nan"), NonFiniteWeightError, /layer 2 \(dense\) weight \[3\]\[5\] is NaN/);

    const model2 = decodeFixture("mnist-mlp.onnx");
    const bias = model2.graph!.initializer!.find((t) => t.name === "4.bias")!;
    bias.floatData = Array.from(new Float32Array(new Uint8Array(bias.rawData!).buffer));
    bias.floatData[7] = -Infinity;
    bias.rawData = new Uint8Array(0);
    expectThrow(() => importOnnx(encode(model2), "inf"), NonFiniteWeightError, /layer 4 \(dense\) bias \[7\] is -Infinity/);
  });

  it("rejects Softmax in the middle", () => {
    const bytes = build({
      nodes: [
        node("Gemm", ["x", "W"], ["h"], { transB: 1 }),
        node("Softmax", ["h"], ["s"], { axis: 1 }, "mid_softmax"),
        node("Relu", ["s"], ["y"], {}, "after"),
      ],
      inits: [tensor("W", [2, 3], W.flat())],
    });
    expectThrow(() => importOnnx(bytes, "t"), ModelFormatError, '"mid_softmax"', /not the last/, '"after"');
  });

  // Before issue 12 the importer read a single chain and refused these; the IR is now a DAG.
  it("reads a residual Add of two data tensors, drops a dead branch, and still refuses two graph inputs", () => {
    const inits = [tensor("W", [2, 3], W.flat()), tensor("V", [2, 2], [1, 0.5, -0.25, 1])];
    const residual = build({
      nodes: [
        node("Gemm", ["x", "W"], ["h"], { transB: 1 }),
        node("Gemm", ["h", "V"], ["g"], { transB: 1 }),
        node("Add", ["g", "h"], ["y"], {}, "skip_add"),
      ],
      inits,
    });
    const graph = importOnnx(residual, "t");
    expect(graph.layers.map((l) => l.kind)).toEqual(["dense", "dense", "add"]);
    expect(graph.layers[2]).toMatchObject({ kind: "add", other: 0, source: 'Add "skip_add"' });
    const h = W.map((row) => row.reduce((s, w, i) => s + w * X[i], 0));
    closeTo(forwardFloat(graph, X), [h[0] + 0.5 * h[1] + h[0], -0.25 * h[0] + h[1] + h[1]], 1e-12);
    const branch = build({
      nodes: [node("Gemm", ["x", "W"], ["h"], { transB: 1 }), node("Relu", ["h"], ["y"]), node("Sigmoid", ["h"], ["z"], {}, "side")],
      inits,
    });
    expect(summary(importOnnx(branch, "t"))).toEqual(["dense 3x2", "relu"]);
    const deadEnd = build({
      nodes: [node("Gemm", ["x", "W"], ["h"], { transB: 1 }), node("Relu", ["x"], ["y"])],
      inits,
    });
    expectThrow(() => importOnnx(deadEnd, "t"), ModelFormatError, /no dense/);
    const twoInputs = build({ inputs: ["x", "x2"], nodes: [node("Gemm", ["x", "W"], ["y"], { transB: 1 })], inits });
    expectThrow(() => importOnnx(twoInputs, "t"), ModelFormatError, /exactly one input/, '"x2"');
  });

  it("rejects a missing initializer, naming the node and the tensor", () => {
    const model = decodeFixture("mnist-mlp.onnx");
    model.graph!.initializer = model.graph!.initializer!.filter((t) => t.name !== "2.weight");
    expectThrow(() => importOnnx(encode(model), "t"), ModelFormatError, '"/2/Gemm"', '"2.weight"', /missing initializer/);
  });

  it("rejects non-float tensor types, naming the node", () => {
    const model = decodeFixture("mnist-mlp.onnx");
    model.graph!.initializer!.find((t) => t.name === "4.weight")!.dataType = 10; // FLOAT16
    expectThrow(() => importOnnx(encode(model), "t"), ModelFormatError, '"/4/Gemm"', /FLOAT16/);
    const ints = build({ nodes: [node("Gemm", ["x", "W"], ["y"], { transB: 1 }, "int_gemm")], inits: [tensor("W", [2, 3], [1, 2, 3, 4, 5, 6], 7)] });
    expectThrow(() => importOnnx(ints, "t"), ModelFormatError, '"int_gemm"', /integer tensor/);
    const intInput = build({ inputType: 7, nodes: [node("Gemm", ["x", "W"], ["y"], { transB: 1 })], inits: [tensor("W", [2, 3], W.flat())] });
    expectThrow(() => importOnnx(intInput, "t"), ModelFormatError, /graph input "x"/, /INT64/);
  });

  it("rejects shape mismatches, naming the node", () => {
    const wrongK = build({ nodes: [node("Gemm", ["x", "W"], ["y"], { transB: 1 }, "g1")], inits: [tensor("W", [2, 4], new Array(8).fill(1))] });
    expectThrow(() => importOnnx(wrongK, "t"), ModelFormatError, '"g1"', /take 4 inputs but the tensor has 3/);
    const wrongBias = build({
      nodes: [node("Gemm", ["x", "W", "C"], ["y"], { transB: 1 }, "g2")],
      inits: [tensor("W", [2, 3], W.flat()), tensor("C", [3], [1, 2, 3])],
    });
    expectThrow(() => importOnnx(wrongBias, "t"), ModelFormatError, '"g2"', /bias/, /\[3\]/);
    const byteCount = decodeFixture("mnist-mlp.onnx");
    const init = byteCount.graph!.initializer!.find((t) => t.name === "0.bias")!;
    init.rawData = new Uint8Array(init.rawData!).subarray(0, 100);
    expectThrow(() => importOnnx(encode(byteCount), "t"), ModelFormatError, '"/0/Gemm"', /100 bytes/);
    const noFlatten = build({ inputShape: ["N", 1, 3], nodes: [node("Gemm", ["x", "W"], ["y"], { transB: 1 }, "g3")], inits: [tensor("W", [2, 3], W.flat())] });
    expectThrow(() => importOnnx(noFlatten, "t"), ModelFormatError, '"g3"', /\[batch, 1, 3\]/);
  });

  it("rejects Flatten and Reshape that move the batch dimension", () => {
    const inits = [tensor("W", [2, 3], W.flat()), tensor("s", [2], [3, -1], 7)];
    const gemm = node("Gemm", ["flat", "W"], ["y"], { transB: 1 });
    const flatten0 = build({ inputShape: ["N", 3, 1], nodes: [node("Flatten", ["x"], ["flat"], { axis: 0 }, "f0"), gemm], inits });
    expectThrow(() => importOnnx(flatten0, "t"), ModelFormatError, '"f0"', /axis=0/);
    const reshape = build({ inputShape: ["N", 3, 1], nodes: [node("Reshape", ["x", "s"], ["flat"], {}, "r0"), gemm], inits });
    expectThrow(() => importOnnx(reshape, "t"), ModelFormatError, '"r0"', /batch dimension/);
  });

  // Before issue 12 this was refused ("only a bias Add right after MatMul/Gemm"); it is now an affine layer.
  it("reads an Add of a constant that does not follow MatMul/Gemm as an affine layer", () => {
    const bytes = build({
      nodes: [node("Gemm", ["x", "W"], ["h"], { transB: 1 }), node("Relu", ["h"], ["r"]), node("Add", ["r", "b"], ["y"], {}, "late_add")],
      inits: [tensor("W", [2, 3], W.flat()), tensor("b", [2], B)],
    });
    const graph = importOnnx(bytes, "t");
    expect(graph.layers.map((l) => l.kind)).toEqual(["dense", "activation", "affine"]);
    closeTo(forwardFloat(graph, X), W.map((row, o) => Math.max(0, row.reduce((s, w, i) => s + w * X[i], 0)) + B[o]), 1e-12);
  });

  it("rejects weights stored in an external file", () => {
    const model = decodeFixture("mnist-mlp.onnx");
    const init = model.graph!.initializer!.find((t) => t.name === "0.weight")!;
    init.dataLocation = 1;
    init.externalData = [{ key: "location", value: "weights.bin" }];
    init.rawData = new Uint8Array(0);
    expectThrow(() => importOnnx(encode(model), "t"), ModelFormatError, /external file/, '"0.weight"');
  });

  it("rejects a graph whose only layers are activations", () => {
    const bytes = build({ nodes: [node("Relu", ["x"], ["y"])] });
    expectThrow(() => importOnnx(bytes, "t"), ModelFormatError, /no dense/);
  });
});

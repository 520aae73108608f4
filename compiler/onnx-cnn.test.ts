/**
 * The image operators' import (onnx/conv.ts) on models built in the test, run beside onnxruntime-node on the
 * same bytes: every attribute variant PyTorch does not export (SAME/VALID auto_pad, asymmetric pads, ceil mode
 * with PyTorch's last-window rule, Pad as an input or an attribute, GlobalMaxPool, ReduceMean keepdims) imports,
 * folds and computes what ONNX Runtime computes; what the VM's windows cannot express is refused, naming the node.
 * Also LeNet-5 (fixtures/models/lenet5.onnx) against PyTorch's float32 logits and predictions on MNIST.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../datasets/mnist.js";
import { decodeOutput, encodeInput, run } from "../interpreter/run.js";
import { compileGraph } from "./compile.js";
import { forwardFloat } from "./float.js";
import { foldGraph } from "./fold.js";
import { ModelFormatError, UnsupportedOpError, describeLayer } from "./graph.js";
import type { ModelGraph, PoolLayer } from "./graph.js";
import { importOnnx } from "./onnx.js";
import { build, node, randoms, tensor } from "./onnx/testing.js";
import type { Attr, Spec } from "./onnx/testing.js";
import { expectThrow } from "../test/helpers/expect.js";

type Node = ReturnType<typeof node>;
type Init = ReturnType<typeof tensor>;

let seed = 7;
const weights = (name: string, dims: number[]) => tensor(name, dims, randoms(dims.reduce((p, d) => p * d, 1), seed++));
const ints = (name: string, values: number[]) => tensor(name, [values.length], values, 7);

/**
 * `body` maps the image x [N, C, H, W] to "h". ONNX Runtime runs x → h; mlvm imports x → h → Flatten → Gemm
 * (identity), so the VM's output is h flattened. Both see the same float32 inputs; returns mlvm's graph.
 */
async function agreesWithOrt(image: [number, number, number], body: Node[], inits: Init[] = [], opset = 13, batch: number | string = "N"): Promise<ModelGraph> {
  const inputShape = [batch, ...image];
  const alone = build({ nodes: body, inits, inputShape, outputs: ["h"], opset });
  const session = await ort.InferenceSession.create(alone, { logSeverityLevel: 3 });
  try {
    const size = image[0] * image[1] * image[2];
    const inputs = [0, 1, 2].map((k) => Float32Array.from(randoms(size, 1000 + k), (v) => v * 2));
    const expected: Float32Array[] = [];
    for (const x of inputs) {
      const out = await session.run({ x: new ort.Tensor("float32", x, [1, ...image]) });
      expected.push(out.h.data as Float32Array);
    }
    const features = expected[0].length;
    const identity = Array.from({ length: features * features }, (_, k) => (k % (features + 1) === 0 ? 1 : 0));
    const full: Spec = {
      nodes: [...body, node("Flatten", ["h"], ["f"], { axis: 1 }), node("Gemm", ["f", "I"], ["y"], { transB: 1 })],
      inits: [...inits, tensor("I", [features, features], identity)],
      inputShape,
      opset,
    };
    const graph = importOnnx(build(full), "t");
    const folded = foldGraph(graph);
    inputs.forEach((x, k) => {
      const got = forwardFloat(folded, x);
      const want = expected[k];
      const scale = Math.max(1e-6, ...Array.from(want, Math.abs));
      expect(got.length).toBe(want.length);
      want.forEach((v, i) => {
        if (!(Math.abs(got[i] - v) <= 1e-5 * scale)) throw new Error(`output ${i}: mlvm ${got[i]} vs onnxruntime ${v} (scale ${scale})`);
      });
    });
    return graph;
  } finally {
    await session.release();
  }
}

const conv = (attrs: Record<string, Attr>, w = "W", b?: string, input = "x", name = "/features/0/Conv") => node("Conv", b ? [input, w, b] : [input, w], ["h"], attrs, name);
const layers = (g: ModelGraph) => g.layers.map(describeLayer);

describe("Conv variants against onnxruntime", () => {
  it("auto_pad SAME_UPPER and SAME_LOWER with stride 2 on an even image (asymmetric padding)", async () => {
    for (const auto of ["SAME_UPPER", "SAME_LOWER"]) {
      const g = await agreesWithOrt([2, 8, 7], [conv({ auto_pad: { string: auto }, strides: [2, 2] }, "W", "B")], [weights("W", [3, 2, 3, 3]), weights("B", [3])]);
      expect(layers(g)[0]).toBe("conv 3×3 2×8×7→3×4×4 stride 2×2 pad " + (auto === "SAME_UPPER" ? "0,1,1,1" : "1,1,0,1"));
    }
  });

  it("auto_pad VALID, explicit asymmetric pads, dilation, groups, no bias, no kernel_shape attribute", async () => {
    await agreesWithOrt([2, 6, 6], [conv({ auto_pad: { string: "VALID" }, kernel_shape: [3, 3] })], [weights("W", [4, 2, 3, 3])]);
    const g = await agreesWithOrt([4, 7, 9], [conv({ pads: [0, 1, 2, 1], dilations: [2, 1], group: 2, strides: [1, 2] }, "W", "B")], [weights("W", [6, 2, 3, 3]), weights("B", [6])]);
    expect(layers(g)[0]).toBe("conv 3×3 4×7×9→6×5×5 stride 1×2 pad 0,1,2,1 dilation 2×1 groups 2");
  });

  it("a static batch [1, C, H, W] input sets the graph's inputShape like a dynamic one", async () => {
    for (const batch of [1, "batch"]) {
      const g = await agreesWithOrt([3, 5, 4], [conv({ pads: [1, 1, 1, 1] }, "W", "B")], [weights("W", [2, 3, 3, 3]), weights("B", [2])], 17, batch);
      expect(g.inputShape).toEqual({ channels: 3, height: 5, width: 4 });
      expect(g.inputSize).toBe(60);
    }
  });

  it("an [N, H, W] input unsqueezed to [N, 1, H, W] takes its inputShape from the conv that reads it", () => {
    const model = build({
      nodes: [node("Unsqueeze", ["x", "axes"], ["u"]), conv({}, "W", undefined, "u"), node("Flatten", ["h"], ["f"], { axis: 1 }), node("Gemm", ["f", "G"], ["y"], { transB: 1 })],
      inits: [ints("axes", [1]), weights("W", [2, 1, 3, 3]), weights("G", [1, 18])],
      inputShape: ["N", 5, 5],
    });
    const g = importOnnx(model, "t");
    expect(g.inputShape).toEqual({ channels: 1, height: 5, width: 5 });
    expect(layers(g)[0]).toBe("conv 3×3 1×5×5→2×3×3");
  });

  it("a BatchNormalization on the input before a padded conv becomes a depthwise 1×1 conv, not a dense layer", async () => {
    const bn = node("BatchNormalization", ["x", "g", "b", "m", "v"], ["n"], {}, "/bn/BatchNormalization");
    const pos = (name: string, n: number) => tensor(name, [n], randoms(n, seed++).map((v) => v + 1.5));
    const g = await agreesWithOrt([3, 6, 6], [bn, conv({ pads: [1, 1, 1, 1] }, "W", "B", "n")], [pos("g", 3), weights("b", [3]), weights("m", [3]), pos("v", 3), weights("W", [4, 3, 3, 3]), weights("B", [4])]);
    expect(layers(g).slice(0, 2)).toEqual(["affine 108", "conv 3×3 3×6×6→4×6×6 pad 1,1,1,1"]);
    expect(layers(foldGraph(g)).slice(0, 2)).toEqual(["conv 1×1 3×6×6→3×6×6 groups 3", "conv 3×3 3×6×6→4×6×6 pad 1,1,1,1"]);
  });
});

describe("per-channel constants and residuals on images", () => {
  it("Mul by a [C, 1, 1] and Add of a [1, C, 1, 1] constant after a conv fold into it; before a MaxPool they stay a depthwise conv", async () => {
    const body = [conv({ pads: [1, 1, 1, 1] }, "W", "B", "x", "c"), node("Mul", ["h0", "s"], ["m"]), node("Add", ["m", "t"], ["a"]), node("MaxPool", ["a"], ["h"], { kernel_shape: [2, 2], strides: [2, 2] })];
    body[0].output = ["h0"];
    const inits = [weights("W", [3, 2, 3, 3]), weights("B", [3]), weights("s", [3, 1, 1]), weights("t", [1, 3, 1, 1])];
    const g = await agreesWithOrt([2, 6, 6], body, inits);
    expect(layers(foldGraph(g))).toEqual(["conv 3×3 2×6×6→3×6×6 pad 1,1,1,1", "maxpool 2×2 3×6×6→3×3", "dense 27→27"]);
    const relu = [conv({ pads: [1, 1, 1, 1] }, "W", "B", "x", "c"), node("Relu", ["h0"], ["r"]), node("Mul", ["r", "s"], ["m"]), node("MaxPool", ["m"], ["h"], { kernel_shape: [2, 2], strides: [2, 2] })];
    relu[0].output = ["h0"];
    const f = foldGraph(await agreesWithOrt([2, 6, 6], relu, inits));
    expect(layers(f)[2]).toBe("conv 1×1 3×6×6→3×6×6 groups 3");
  });

  it("Add of two image tensors (a residual block) is an add layer", async () => {
    const body = [conv({ pads: [1, 1, 1, 1] }, "W", "B", "x", "c1"), node("Relu", ["h1"], ["r"]), conv({ pads: [1, 1, 1, 1] }, "V", undefined, "r", "c2"), node("Add", ["h2", "r"], ["h"])];
    body[0].output = ["h1"];
    body[2].output = ["h2"];
    const g = await agreesWithOrt([2, 5, 5], body, [weights("W", [3, 2, 3, 3]), weights("B", [3]), weights("V", [3, 3, 3, 3])]);
    expect(g.layers.map((l) => l.kind)).toEqual(["conv", "activation", "conv", "add", "dense"]);
  });
});

describe("Pad folded into the window after it", () => {
  const padNode = (pads: number[], opset: number, extra: Record<string, Attr> = {}) =>
    opset >= 11 ? node("Pad", ["x", "pads"], ["p"], extra, "/pad/Pad") : node("Pad", ["x"], ["p"], { pads, ...extra }, "/pad/Pad");

  it("into a Conv's padding: pads as a Constant input (opset 13) and as an attribute (opset 10)", async () => {
    for (const opset of [13, 10]) {
      const pads = [0, 0, 1, 2, 0, 0, 2, 0];
      const g = await agreesWithOrt([2, 5, 5], [padNode(pads, opset), conv({ pads: [1, 0, 0, 1] }, "W", undefined, "p")], [weights("W", [3, 2, 3, 3]), ...(opset >= 11 ? [ints("pads", pads)] : [])], opset);
      expect(layers(g)[0]).toBe("conv 3×3 2×5×5→3×7×6 pad 2,2,2,1");
    }
  });

  it("into an AveragePool as zeros that count (mode avg), as torch exports count_include_pad=True", async () => {
    const g = await agreesWithOrt([2, 6, 6], [padNode([0, 0, 1, 1, 0, 0, 1, 1], 13), node("AveragePool", ["p"], ["h"], { kernel_shape: [3, 3], strides: [2, 2] })], [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])]);
    expect((g.layers[0] as PoolLayer).mode).toBe("avg");
    expect((g.layers[0] as PoolLayer).padding).toEqual([1, 1, 1, 1]);
  });

  it("refuses what a window cannot absorb: before a MaxPool, before an activation, reflect mode, non-zero value, channel pads", () => {
    const model = (nodes: Node[], inits: Init[] = [], opset = 13) =>
      build({ nodes: [...nodes, node("Flatten", ["h"], ["f"], { axis: 1 }), node("Gemm", ["f", "G"], ["y"], { transB: 1 })], inits: [...inits, tensor("G", [1, 50], new Array(50).fill(0))], inputShape: ["N", 2, 5, 5], opset });
    const pads = ints("pads", [0, 0, 0, 0, 0, 0, 0, 0].map((_, i) => (i === 3 || i === 7 ? 1 : 0)));
    expectThrow(() => importOnnx(model([padNode([], 13), node("MaxPool", ["p"], ["h"], { kernel_shape: [2, 2] }, "/pool/MaxPool")], [pads]), "t"), UnsupportedOpError, /MaxPool node "\/pool\/MaxPool" reads Pad node "\/pad\/Pad"/);
    expectThrow(() => importOnnx(model([padNode([], 13), node("Relu", ["p"], ["h"])], [pads]), "t"), UnsupportedOpError, /Pad node "\/pad\/Pad" pads the data read by Relu/);
    expectThrow(() => importOnnx(model([padNode([], 13, { mode: { string: "reflect" } }), node("Relu", ["p"], ["h"])], [pads]), "t"), UnsupportedOpError, /Pad node "\/pad\/Pad": mode "reflect"/);
    expectThrow(() => importOnnx(model([padNode([0, 0, 0, 1, 0, 0, 0, 1], 10, { value: { float: 1 } }), node("Relu", ["p"], ["h"])], [], 10), "t"), UnsupportedOpError, /pads with 1; mlvm supports zero padding only/);
    const channelPads = ints("pads", [0, 1, 0, 0, 0, 0, 0, 0]);
    expectThrow(() => importOnnx(model([padNode([], 13), node("Relu", ["p"], ["h"])], [channelPads]), "t"), UnsupportedOpError, /pad the batch or channel axis/);
  });
});

describe("poolings against onnxruntime", () => {
  it("MaxPool: ceil mode with PyTorch's last-window rule, a kernel wider than the image, dilation, SAME_UPPER", async () => {
    let g = await agreesWithOrt([2, 4, 7], [node("MaxPool", ["x"], ["h"], { kernel_shape: [2, 2], strides: [3, 2], pads: [1, 1, 1, 1], ceil_mode: 1 })], [], 12);
    expect(layers(g)[0]).toBe("maxpool 2×2 2×4×7→2×4"); // ceil would give 3 rows; the third would start in the padding
    g = await agreesWithOrt([3, 1, 5], [node("MaxPool", ["x"], ["h"], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })], [], 12);
    expect(layers(g)[0]).toBe("maxpool 2×2 3×1×5→1×3");
    await agreesWithOrt([2, 9, 9], [node("MaxPool", ["x"], ["h"], { kernel_shape: [3, 2], dilations: [2, 2], pads: [1, 0, 1, 0] })], [], 12);
    await agreesWithOrt([2, 8, 7], [node("MaxPool", ["x"], ["h"], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: { string: "SAME_UPPER" } })], [], 12);
  });

  it("AveragePool: count_include_pad 1 → avg, 0 → avg_valid, ceil overhang with no padding → avg_valid", async () => {
    const mode = (g: ModelGraph) => (g.layers[0] as PoolLayer).mode;
    expect(mode(await agreesWithOrt([2, 6, 6], [node("AveragePool", ["x"], ["h"], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 })]))).toBe("avg");
    expect(mode(await agreesWithOrt([2, 6, 6], [node("AveragePool", ["x"], ["h"], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] })]))).toBe("avg_valid");
    expect(mode(await agreesWithOrt([2, 7, 5], [node("AveragePool", ["x"], ["h"], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })]))).toBe("avg_valid");
    expect(mode(await agreesWithOrt([2, 7, 5], [node("AveragePool", ["x"], ["h"], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1, count_include_pad: 1 })]))).toBe("avg_valid");
    expect(mode(await agreesWithOrt([2, 8, 6], [node("AveragePool", ["x"], ["h"], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })]))).toBe("avg");
  });

  it("AveragePool: refuses ceil mode reaching past counted padding (its divisor is neither kernel area nor cells inside)", () => {
    const model = build({
      // 6 + 1 + 1 − 3 = 5 is odd: ceil mode adds a 4th window, cells 5…7 of the padded 0…7, reaching past it
      nodes: [node("AveragePool", ["x"], ["h"], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 }, "/avg/AveragePool"), node("Flatten", ["h"], ["f"], { axis: 1 }), node("Gemm", ["f", "G"], ["y"], { transB: 1 })],
      inits: [tensor("G", [1, 32], new Array(32).fill(0))],
      inputShape: ["N", 2, 6, 6],
    });
    expectThrow(() => importOnnx(model, "t"), UnsupportedOpError, /AveragePool node "\/avg\/AveragePool": ceil_mode makes a window reach past the padded input/);
  });

  it("GlobalMaxPool, GlobalAveragePool, ReduceMean over [2, 3] (keepdims 1) and over [-1, -2] (keepdims 0)", async () => {
    const g = await agreesWithOrt([3, 4, 5], [node("GlobalMaxPool", ["x"], ["h"])]);
    expect(layers(g)[0]).toBe("maxpool 4×5 3×4×5→1×1");
    await agreesWithOrt([3, 4, 5], [node("GlobalAveragePool", ["x"], ["h"])]);
    await agreesWithOrt([3, 4, 5], [node("ReduceMean", ["x"], ["h"], { axes: [2, 3], keepdims: 1 })]);
    await agreesWithOrt([3, 4, 5], [node("ReduceMean", ["x"], ["h"], { axes: [-1, -2], keepdims: 0 })]);
    await agreesWithOrt([3, 4, 5], [node("ReduceMean", ["x", "axes"], ["h"], { keepdims: 0 })], [ints("axes", [2, 3])], 18);
  });
});

describe("a fully convolutional classifier (no Gemm)", () => {
  it("conv 3×3 → ReLU → conv 1×1 to the classes → GlobalAveragePool → Flatten compiles, and the VM agrees with onnxruntime", async () => {
    const body = [
      conv({ kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, "W1", "B1", "x", "/c1/Conv"),
      node("Relu", ["h"], ["r"]),
      node("Conv", ["r", "W2", "B2"], ["c"], { kernel_shape: [1, 1] }, "/c2/Conv"),
      node("GlobalAveragePool", ["c"], ["g"]),
      node("Flatten", ["g"], ["y"], { axis: 1 }),
    ];
    const inits = [weights("W1", [4, 2, 3, 3]), weights("B1", [4]), weights("W2", [5, 4, 1, 1]), weights("B2", [5])];
    const model = build({ nodes: body, inits, inputShape: ["N", 2, 6, 6] });
    const graph = importOnnx(model, "all-conv");
    expect(layers(graph)).toEqual(["conv 3×3 2×6×6→4×6×6 pad 1,1,1,1", "relu 144", "conv 1×1 4×6×6→5×6×6", "avgpool 6×6 5×6×6→1×1"]);
    const compiled = compileGraph(graph);
    const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
    try {
      for (let k = 0; k < 4; k++) {
        const x = Float32Array.from(randoms(72, 500 + k));
        const want = (await session.run({ x: new ort.Tensor("float32", x, [1, 2, 6, 6]) })).y.data as Float32Array;
        const got = decodeOutput(compiled.program, run(compiled, encodeInput(compiled.program, x)).output).values;
        expect(got).toHaveLength(5);
        const scale = Math.max(...Array.from(want, Math.abs));
        want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-3 * scale));
        expect(got.indexOf(Math.max(...got))).toBe(want.indexOf(Math.max(...want)));
      }
    } finally {
      await session.release();
    }
  });
});

describe("refusals name the node", () => {
  const withHead = (nodes: Node[], inits: Init[], inputShape: (number | string)[], opset = 13) =>
    build({ nodes: [...nodes, node("Flatten", ["h"], ["f"], { axis: 1 }), node("Gemm", ["f", "G"], ["y"], { transB: 1 })], inits: [...inits, tensor("G", [1, 1], [0])], inputShape, opset });

  it("3-D and 1-D convolutions", () => {
    const conv3d = withHead([conv({})], [weights("W", [2, 1, 3, 3, 3])], ["N", 1, 5, 5, 5]);
    expectThrow(() => importOnnx(conv3d, "t"), UnsupportedOpError, /Conv node "\/features\/0\/Conv" is a 3-D window/);
    const conv1d = withHead([conv({})], [weights("W", [2, 1, 3])], ["N", 1, 9]);
    expectThrow(() => importOnnx(conv1d, "t"), UnsupportedOpError, /Conv node "\/features\/0\/Conv" is a 1-D window/);
    const weights3d = withHead([conv({})], [weights("W", [2, 1, 3, 3, 3])], ["N", 1, 5, 5]);
    expectThrow(() => importOnnx(weights3d, "t"), UnsupportedOpError, /make a 3-D convolution/);
  });

  it("MaxPool with its indices used, storage_order 1; an unknown auto_pad; a kernel that does not fit; a ReduceMean over channels", () => {
    const indices = build({
      nodes: [node("MaxPool", ["x"], ["h", "i"], { kernel_shape: [2, 2] }, "mp"), node("Flatten", ["h"], ["f"], { axis: 1 }), node("Gemm", ["f", "G"], ["y"], { transB: 1 })],
      inits: [tensor("G", [1, 4], [0, 0, 0, 0])],
      inputShape: ["N", 1, 4, 4],
      outputs: ["y", "i"],
    });
    expectThrow(() => importOnnx(indices, "t"), ModelFormatError, /MaxPool node "mp": its indices output is used/);
    expectThrow(() => importOnnx(withHead([node("MaxPool", ["x"], ["h"], { kernel_shape: [2, 2], storage_order: 1 }, "mp")], [], ["N", 1, 4, 4]), "t"), UnsupportedOpError, /MaxPool node "mp": storage_order 1/);
    expectThrow(() => importOnnx(withHead([conv({ auto_pad: { string: "SAME" } })], [weights("W", [1, 1, 3, 3])], ["N", 1, 4, 4]), "t"), ModelFormatError, /auto_pad "SAME" is not one ONNX defines/);
    expectThrow(() => importOnnx(withHead([conv({})], [weights("W", [1, 1, 5, 5])], ["N", 1, 4, 4]), "t"), ModelFormatError, /the 5×5 kernel .* does not fit the 4×4 input/);
    const channels = withHead([node("ReduceMean", ["x"], ["h"], { axes: [1], keepdims: 1 }, "rm")], [], ["N", 2, 4, 4]);
    expectThrow(() => importOnnx(channels, "t"), UnsupportedOpError, /ReduceMean node "rm": ReduceMean is only supported over the spatial axes \[2, 3\]/);
  });
});

describe("LeNet-5 (fixtures/models/lenet5.onnx) in float64", () => {
  const fixture = (name: string) => readFileSync(new URL(`../fixtures/models/${name}`, import.meta.url));
  const reference = JSON.parse(fixture("lenet5.reference.json").toString()) as { float32_logits_first20: number[][]; float32_predictions: number[] };
  const graph = foldGraph(importOnnx(fixture("lenet5.onnx"), "lenet5"));
  const mnist = loadMnist(fileURLToPath(new URL("../fixtures/mnist/", import.meta.url)));

  it("imports as conv, relu, maxpool ×2 then three dense layers, reading a 1×28×28 image", () => {
    expect(graph.inputShape).toEqual({ channels: 1, height: 28, width: 28 });
    expect(layers(graph)).toEqual([
      "conv 5×5 1×28×28→6×28×28 pad 2,2,2,2",
      "relu 4704",
      "maxpool 2×2 6×28×28→14×14",
      "conv 5×5 6×14×14→16×10×10",
      "relu 1600",
      "maxpool 2×2 16×10×10→5×5",
      "dense 400→120",
      "relu 120",
      "dense 120→84",
      "relu 84",
      "dense 84→10",
    ]);
  });

  it("agrees with PyTorch's float32 logits on t10k[8000:8020] to 1e-4 of the output scale", () => {
    reference.float32_logits_first20.forEach((want, k) => {
      const got = forwardFloat(graph, mnist.image(8000 + k));
      const scale = Math.max(...want.map(Math.abs));
      want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(1e-4 * scale));
    });
  });

  it("predicts PyTorch's digit on all 2,000 held-out images t10k[8000:10000]", () => {
    let same = 0;
    reference.float32_predictions.forEach((want, k) => {
      const z = forwardFloat(graph, mnist.image(8000 + k));
      if (z.indexOf(Math.max(...z)) === want) same++;
    });
    expect(same).toBe(2000);
  });
});

/**
 * The per-op handlers on small models built in-test: the opset-dependent forms (Clip attributes vs inputs,
 * Squeeze/Unsqueeze axes attribute vs input), constant arithmetic as affine layers, shapes ([N, 1, F], a
 * squeezed output, a transposed input for Gemm transA=1), two outputs, the composite activations, and the
 * refusals, each one line naming the node.
 */
import { describe, expect, it } from "vitest";
import { forwardFloat } from "../float.js";
import { foldGraph } from "../fold.js";
import { ModelFormatError, UnsupportedOpError, describeLayer } from "../graph.js";
import type { ModelGraph } from "../graph.js";
import { importOnnx } from "../onnx.js";
import { expectThrow } from "../../test/helpers/expect.js";
import { build, node, scalarNode, tensor } from "./testing.js";
import type { Spec } from "./testing.js";

const W = [1, 2, 3, -1, 0.5, 0.25]; // [2][3]
const B = [0.5, -1];
const X = [0.1, -0.2, 0.3];
const H = [0, 1].map((o) => B[o] + X.reduce((s, v, i) => s + W[o * 3 + i] * v, 0)); // [1.1, -1.125]
const gemm = (out = "h", input = "x") => node("Gemm", [input, "W", "b"], [out], { transB: 1 }, `fc_${out}`);
const inits = [tensor("W", [2, 3], W), tensor("b", [2], B)];
const run = (spec: Spec, x = X) => {
  const graph = importOnnx(build({ ...spec, inits: [...inits, ...(spec.inits ?? [])] }), "t");
  return { graph, y: Array.from(forwardFloat(graph, x)) };
};
const kinds = (g: ModelGraph) => g.layers.map(describeLayer);
const near = (a: number[], b: number[], tolerance = 1e-12) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(tolerance));
};
const oneLine = (err: Error) => expect(err.message).not.toContain("\n");

describe("activations", () => {
  it("Clip: attributes before opset 11, optional inputs from 11; Clip(0, ∞) is a relu; no bounds is nothing", () => {
    const old = run({ opset: 10, nodes: [gemm(), node("Clip", ["h"], ["y"], { min: { float: -1 }, max: { float: 1 } })] });
    expect(old.graph.layers[1]).toMatchObject({ fn: "clip", min: -1, max: 1 });
    near(old.y, [1, -1]);
    const newer = run({ opset: 11, nodes: [gemm(), scalarNode("lo", -0.5), scalarNode("hi", 1.5), node("Clip", ["h", "lo", "hi"], ["y"])] });
    near(newer.y, [1.1, -0.5]);
    const maxOnly = run({ opset: 13, nodes: [gemm(), scalarNode("hi", 1), node("Clip", ["h", "", "hi"], ["y"])] });
    expect(maxOnly.graph.layers[1]).toMatchObject({ fn: "clip", min: -Infinity, max: 1 });
    const relu = run({ opset: 12, nodes: [gemm(), scalarNode("lo", 0), node("Clip", ["h", "lo"], ["y"])] });
    expect(kinds(relu.graph)).toEqual(["dense 3→2", "relu 2"]);
    expect(kinds(run({ opset: 12, nodes: [gemm(), node("Clip", ["h"], ["y"])] }).graph)).toEqual(["dense 3→2"]);
  });

  it("LeakyRelu (default 0.01), Elu, Selu = γ·elu, Celu = α·elu(x/α), HardSigmoid = clip(αx+β, 0, 1), Neg", () => {
    near(run({ nodes: [gemm(), node("LeakyRelu", ["h"], ["y"])] }).y, [1.1, -0.01125]);
    near(run({ nodes: [gemm(), node("Elu", ["h"], ["y"], { alpha: { float: 0.5 } })] }).y, [1.1, 0.5 * Math.expm1(-1.125)], 1e-9);
    const g = 1.05070102214813232421875;
    const a = 1.67326319217681884765625;
    near(run({ nodes: [gemm(), node("Selu", ["h"], ["y"])] }).y, [g * 1.1, g * a * Math.expm1(-1.125)], 1e-6);
    near(run({ opset: 12, nodes: [gemm(), node("Celu", ["h"], ["y"], { alpha: { float: 2 } })] }).y, [1.1, 2 * Math.expm1(-1.125 / 2)], 1e-9);
    near(run({ nodes: [gemm(), node("HardSigmoid", ["h"], ["y"])] }).y, [Math.min(1, 0.2 * 1.1 + 0.5), 0.2 * -1.125 + 0.5], 1e-7);
    near(run({ nodes: [gemm(), node("Neg", ["h"], ["y"])] }).y, [-1.1, 1.125]);
  });

  it("Gelu (opset 20) with approximate none and tanh", () => {
    expect(kinds(run({ opset: 20, nodes: [gemm(), node("Gelu", ["h"], ["y"])] }).graph)).toEqual(["dense 3→2", "gelu 2"]);
    expect(kinds(run({ opset: 20, nodes: [gemm(), node("Gelu", ["h"], ["y"], { approximate: { string: "tanh" } })] }).graph)).toEqual(["dense 3→2", "gelu_tanh 2"]);
  });

  it("PRelu with per-feature slopes is relu(x) − a·relu(−x), exact, and folds to dense layers", () => {
    const { graph, y } = run({ nodes: [gemm(), node("PRelu", ["h", "a"], ["y"], {}, "act")], inits: [tensor("a", [2], [0.3, 0.2])] });
    near(y, [1.1, -1.125 * 0.2], 1e-7); // the slopes are float32
    expect(graph.layers.every((l) => l.source === (l.kind === "dense" ? 'Gemm "fc_h"' : 'PRelu "act"'))).toBe(true);
    near(Array.from(forwardFloat(foldGraph(graph), X)), y);
  });
});

describe("arithmetic with constants and residuals", () => {
  it("Sub/Div/Mul/Add by scalars and per-feature constants in either order become affine layers", () => {
    const c = [tensor("c", [1, 2], [2, 4]), tensor("s", [], [3])];
    near(run({ nodes: [gemm(), node("Sub", ["c", "h"], ["y"])], inits: c }).y, [2 - 1.1, 4 + 1.125]);
    near(run({ nodes: [gemm(), node("Div", ["h", "c"], ["y"])], inits: c }).y, [1.1 / 2, -1.125 / 4]);
    near(run({ nodes: [gemm(), node("Mul", ["s", "h"], ["y"])], inits: c }).y, [3 * 1.1, -3 * 1.125]);
    const normalized = run({ nodes: [node("Sub", ["x", "m"], ["d"]), node("Div", ["d", "sd"], ["n"]), gemm("y", "n")], inits: [tensor("m", [3], [1, 2, 3]), tensor("sd", [3], [2, 4, 8])] });
    expect(kinds(normalized.graph)).toEqual(["affine 3", "affine 3", "dense 3→2"]);
    const n = X.map((v, i) => (v - [1, 2, 3][i]) / [2, 4, 8][i]);
    near(normalized.y, [0, 1].map((o) => B[o] + n.reduce((s, v, i) => s + W[o * 3 + i] * v, 0)));
    expect(kinds(foldGraph(normalized.graph))).toEqual(["dense 3→2"]);
  });

  it("Sub of two data tensors is an affine −1 and an add; Mul of two is refused in one line", () => {
    const { graph, y } = run({ nodes: [gemm(), node("Relu", ["h"], ["r"]), node("Sub", ["h", "r"], ["y"])] });
    expect(kinds(graph)).toEqual(["dense 3→2", "relu 2", "affine 2", "add 2"]);
    near(y, [0, -1.125]);
    const err = expectThrow(() => run({ nodes: [gemm(), node("Relu", ["h"], ["r"]), node("Mul", ["h", "r"], ["y"], {}, "prod")] }), UnsupportedOpError, /Mul node "prod" multiplies two tensors computed from the graph input/);
    oneLine(err);
    expectThrow(() => run({ nodes: [gemm(), node("Div", ["b", "h"], ["y"], {}, "recip")] }), UnsupportedOpError, /"recip" divides a constant by the data/);
  });

  it("a matrix bias [1, out] is one row; one that varies along a dynamic batch is refused", () => {
    near(run({ nodes: [node("Gemm", ["x", "W", "C"], ["y"], { transB: 1 })], inits: [tensor("C", [1, 2], B)] }).y, H);
    expectThrow(() => run({ nodes: [node("Gemm", ["x", "W", "C"], ["y"], { transB: 1 }, "g")], inits: [tensor("C", [2, 2], [...B, ...B])] }), ModelFormatError, /"g": bias initializer "C" has shape \[2, 2\], which varies along the batch of the data \[batch, 2\]/);
    // with the batch fixed at 1, a [batch, out] bias is one row
    near(run({ inputShape: [1, 3], nodes: [node("MatMul", ["x", "Wt"], ["m"]), node("Add", ["m", "C"], ["y"])], inits: [tensor("Wt", [3, 2], [1, -1, 2, 0.5, 3, 0.25]), tensor("C", [1, 2], B)] }).y, H);
  });
});

describe("shapes", () => {
  it("Squeeze/Unsqueeze with axes as an attribute (opset 11) and as an input (opset 13); MatMul + Add on [N, 1, F]", () => {
    const at11 = [node("Unsqueeze", ["x"], ["u"], { axes: [1] }), node("MatMul", ["u", "Wt"], ["m"]), node("Add", ["m", "b"], ["a"]), node("Squeeze", ["a"], ["y"], { axes: [1] })];
    const at13 = [node("Unsqueeze", ["x", "one"], ["u"]), node("MatMul", ["u", "Wt"], ["m"]), node("Add", ["b", "m"], ["a"]), node("Squeeze", ["a", "one"], ["y"])];
    for (const [opset, nodes] of [[11, at11], [13, at13]] as const) {
      const { graph, y } = run({ opset, nodes: [...nodes], inits: [tensor("Wt", [3, 2], [1, -1, 2, 0.5, 3, 0.25]), tensor("one", [1], [1], 7)] });
      expect(kinds(graph)).toEqual(["dense 3→2"]);
      near(y, H);
    }
    expectThrow(() => run({ nodes: [gemm(), node("Squeeze", ["h"], ["y"], { axes: [1] }, "sq")], opset: 11 }), ModelFormatError, /"sq" squeezes axis 1 of \[batch, 2\], which is not of size 1/);
    expectThrow(() => run({ nodes: [gemm(), node("Squeeze", ["h"], ["y"], { axes: [0] }, "sq")], opset: 11 }), ModelFormatError, /which is the batch/);
  });

  it("Gemm transA=1 reads a Transpose of the data; Transpose that reorders features is refused", () => {
    const { graph, y } = run({ nodes: [node("Transpose", ["x"], ["xt"], { perm: [1, 0] }), node("Gemm", ["xt", "W", "b"], ["y"], { transA: 1, transB: 1 })] });
    expect(kinds(graph)).toEqual(["dense 3→2"]);
    near(y, H);
    expectThrow(() => run({ nodes: [node("Gemm", ["x", "W", "b"], ["y"], { transA: 1, transB: 1 }, "ta")] }), ModelFormatError, /"ta" needs \[features, batch\] \(transA=1\) but gets \[batch, 3\]/);
    const rank3 = { inputShape: ["N", 2, 3], nodes: [node("Transpose", ["x"], ["t"], { perm: [0, 2, 1] }, "tr"), node("Flatten", ["t"], ["f"]), node("Gemm", ["f", "V"], ["y"], { transB: 1 })], inits: [tensor("V", [1, 6], [1, 1, 1, 1, 1, 1])] };
    expectThrow(() => run(rank3, [1, 2, 3, 4, 5, 6]), UnsupportedOpError, /"tr" reorders the features of \[batch, 2, 3\]/);
  });

  it("two outputs: logits and their LogSoftmax compile the logits; two unrelated outputs are refused", () => {
    const { graph } = run({ outputs: ["y", "p"], nodes: [gemm("y"), node("LogSoftmax", ["y"], ["p"], { axis: 1 })] });
    expect(graph).toMatchObject({ softmaxFolded: true, foldedHead: "log_softmax", outputSize: 2 });
    const probsFirst = run({ outputs: ["p", "y"], nodes: [gemm("y"), node("Softmax", ["y"], ["p"], { axis: -1 })] });
    expect(probsFirst.graph.foldedHead).toBe("softmax");
    expectThrow(() => run({ outputs: ["y", "z"], nodes: [gemm("y"), node("Relu", ["y"], ["z"])] }), ModelFormatError, /the graph has 2 outputs \("y", "z"\); mlvm computes one, or the logits and their Softmax\/LogSoftmax/);
  });
});

describe("normalization", () => {
  it("BatchNormalization is an affine (γ/√(var+ε), β − mean·scale); training mode is refused", () => {
    const bn = [tensor("g", [2], [2, 0.5]), tensor("be", [2], [0.1, -0.1]), tensor("mu", [2], [1, -1]), tensor("v", [2], [1, 0.25])];
    const { graph, y } = run({ nodes: [gemm(), node("BatchNormalization", ["h", "g", "be", "mu", "v"], ["y"], { epsilon: { float: 0 } }, "bn")], inits: bn });
    expect(graph.layers[1]).toMatchObject({ kind: "affine", source: 'BatchNormalization "bn"' });
    near(y, [(1.1 - 1) * 2 + 0.1, ((-1.125 + 1) / 0.5) * 0.5 - 0.1], 1e-7); // float32 parameters
    expectThrow(() => run({ opset: 14, nodes: [gemm(), node("BatchNormalization", ["h", "g", "be", "mu", "v"], ["y"], { training_mode: 1 }, "bn")], inits: bn }), ModelFormatError, /"bn" is in training mode/);
  });

  it("LayerNormalization over the last axis is a layernorm; over a part of the features it is refused", () => {
    const ln = [tensor("g", [2], [1, 2]), tensor("be", [2], [0, 1])];
    const { graph } = run({ opset: 17, nodes: [gemm(), node("LayerNormalization", ["h", "g", "be"], ["y"], {}, "ln")], inits: ln });
    expect(graph.layers[1]).toMatchObject({ kind: "layernorm", epsilon: 1e-5, source: 'LayerNormalization "ln"' });
    const part = { opset: 17, inputShape: ["N", 2, 3], nodes: [node("LayerNormalization", ["x", "g3"], ["n"], { axis: -1 }, "ln"), node("Flatten", ["n"], ["f"]), node("Gemm", ["f", "V"], ["y"], { transB: 1 })], inits: [tensor("g3", [3], [1, 1, 1]), tensor("V", [1, 6], [1, 1, 1, 1, 1, 1])] };
    expectThrow(() => run(part, [1, 2, 3, 4, 5, 6]), UnsupportedOpError, /LayerNormalization node "ln" normalizes over axes \[2\] of \[batch, 2, 3\]/);
    // over both feature axes it is the whole feature vector
    const whole = { ...part, nodes: [node("LayerNormalization", ["x", "g6"], ["n"], { axis: 1 }, "ln"), ...part.nodes.slice(1)], inits: [tensor("g6", [2, 3], [1, 1, 1, 1, 1, 1]), tensor("V", [1, 6], [1, 0, 0, 0, 0, 0])] };
    const mean = 3.5;
    const sd = Math.sqrt(17.5 / 6 + 1e-5);
    near(run(whole, [1, 2, 3, 4, 5, 6]).y, [(1 - mean) / sd], 1e-12);
  });
});

describe("refusals", () => {
  it("an unknown op, an LSTM and a Gather of data are one line naming the op and the node", () => {
    oneLine(expectThrow(() => run({ nodes: [gemm(), node("LSTM", ["h", "b"], ["y"], {}, "my_lstm")] }), UnsupportedOpError, /^unsupported operator LSTM \(LSTM node "my_lstm"\); mlvm supports Gemm, MatMul/));
    oneLine(expectThrow(() => run({ nodes: [gemm(), node("Gather", ["h", "i"], ["y"], {}, "emb")], inits: [tensor("i", [1], [0], 7)] }), UnsupportedOpError, /Gather node "emb" indexes the data/));
  });
});

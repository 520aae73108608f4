/**
 * The subgraph patterns: GELU (exact and tanh), SiLU and LayerNorm are recognised in the orders torch writes
 * and in the other orders people write them by hand, become one layer each, compute the right function, and
 * errors about them name the pattern; a near miss is refused naming the op.
 */
import { describe, expect, it } from "vitest";
import { erf, forwardFloat } from "../float.js";
import { ModelFormatError, UnsupportedOpError, describeLayer } from "../graph.js";
import type { ModelGraph } from "../graph.js";
import { importOnnx } from "../onnx.js";
import { expectThrow } from "../../test/helpers/expect.js";
import { build, node, randoms, scalarNode, tensor } from "./testing.js";

// h = W·x + b, 3 → 4, then the pattern on h, output "y"
const W = randoms(12, 7).map((v) => 2 * v);
const B = randoms(4, 8);
const gemm = node("Gemm", ["x", "W", "b"], ["h"], { transB: 1 }, "fc");
const inits = [tensor("W", [4, 3], W), tensor("b", [4], B)];
const hidden = (x: number[]) => B.map((b, o) => b + x.reduce((s, v, i) => s + W[o * 3 + i] * v, 0));
const INPUTS = [randoms(3, 1), randoms(3, 2).map((v) => 3 * v), [0, 0, 0], [2, -2, 1]];

const geluExact = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
const silu = (v: number) => v / (1 + Math.exp(-v));

function check(graph: ModelGraph, f: (h: number[]) => number[], tolerance = 1e-12): void {
  for (const x of INPUTS) {
    const y = forwardFloat(graph, x);
    f(hidden(x)).forEach((v, i) => expect(Math.abs(y[i] - v)).toBeLessThanOrEqual(tolerance));
  }
}
const kinds = (g: ModelGraph) => g.layers.map(describeLayer);

describe("GELU", () => {
  const variants: [string, ReturnType<typeof node>[]][] = [
    [
      "torch 1.13: Div √2, Erf, Add 1, Mul x, Mul 0.5",
      [scalarNode("s2", 1.4142135381698608), node("Div", ["h", "s2"], ["d"], {}, "/act/Div"), node("Erf", ["d"], ["e"]), scalarNode("one", 1), node("Add", ["e", "one"], ["a"]), node("Mul", ["h", "a"], ["m"]), scalarNode("half", 0.5), node("Mul", ["m", "half"], ["y"], {}, "/act/Mul_1")],
    ],
    [
      "hand-written: 0.5·x first (before the Erf), Mul by 1/√2, 1 + erf",
      [scalarNode("half", 0.5), node("Mul", ["half", "h"], ["hx"], {}, "/act/Mul_0"), scalarNode("r2", Math.SQRT1_2), node("Mul", ["r2", "h"], ["d"]), node("Erf", ["d"], ["e"]), scalarNode("one", 1), node("Add", ["one", "e"], ["a"]), node("Mul", ["a", "hx"], ["y"], {}, "/act/Mul_2")],
    ],
    [
      "x·(1 + erf)/2 with a Div by 2",
      [scalarNode("s2", Math.SQRT2), node("Div", ["h", "s2"], ["d"], {}, "/act/Div"), node("Erf", ["d"], ["e"]), scalarNode("one", 1), node("Add", ["e", "one"], ["a"]), node("Mul", ["a", "h"], ["m"]), scalarNode("two", 2), node("Div", ["m", "two"], ["y"], {}, "/act/Div_1")],
    ],
  ];
  for (const [what, nodes] of variants) {
    it(`recognises ${what} as one gelu layer`, () => {
      const graph = importOnnx(build({ nodes: [gemm, ...nodes], inits }), "t");
      expect(kinds(graph)).toEqual(["dense 3→4", "gelu 4"]);
      expect(graph.layers[1].source).toMatch(/^GELU \(nodes \/act\/\S+ … \/act\/\S+\)$/);
      check(graph, (h) => h.map(geluExact), 1e-7);
    });
  }

  it("recognises the tanh form as torch writes it and with Pow(x, 3)", () => {
    const torch = [
      node("Mul", ["h", "h"], ["sq"]), node("Mul", ["h", "sq"], ["cube"]), scalarNode("k", 0.044714998453855515), node("Mul", ["k", "cube"], ["kc"]),
      node("Add", ["h", "kc"], ["in"]), scalarNode("c", 0.7978845834732056), node("Mul", ["c", "in"], ["arg"]), node("Tanh", ["arg"], ["t"]),
      scalarNode("one", 1), node("Add", ["one", "t"], ["a"]), node("Mul", ["h", "a"], ["m"]), scalarNode("half", 0.5), node("Mul", ["half", "m"], ["y"]),
    ];
    const pow = [
      scalarNode("three", 3), node("Pow", ["h", "three"], ["cube"]), scalarNode("k", 0.044715), node("Mul", ["cube", "k"], ["kc"]),
      node("Add", ["kc", "h"], ["in"]), scalarNode("c", Math.sqrt(2 / Math.PI)), node("Mul", ["in", "c"], ["arg"]), node("Tanh", ["arg"], ["t"]),
      scalarNode("one", 1), node("Add", ["t", "one"], ["a"]), scalarNode("half", 0.5), node("Mul", ["h", "half"], ["hh"]), node("Mul", ["hh", "a"], ["y"]),
    ];
    for (const nodes of [torch, pow]) {
      const graph = importOnnx(build({ nodes: [gemm, ...nodes], inits }), "t");
      expect(kinds(graph)).toEqual(["dense 3→4", "gelu_tanh 4"]);
      check(graph, (h) => h.map(geluTanh), 1e-12);
    }
  });

  it("names the GELU in an error: after a Softmax it is the GELU that is 'not the last operation'", () => {
    const nodes = [gemm, node("Softmax", ["h"], ["s"], { axis: 1 }, "sm"), scalarNode("s2", Math.SQRT2), node("Div", ["s", "s2"], ["d"], {}, "g/Div"), node("Erf", ["d"], ["e"]), scalarNode("one", 1), node("Add", ["e", "one"], ["a"]), node("Mul", ["s", "a"], ["m"]), scalarNode("half", 0.5), node("Mul", ["m", "half"], ["y"], {}, "g/Mul_1")];
    expectThrow(() => importOnnx(build({ nodes, inits }), "t"), ModelFormatError, /Softmax node "sm" is not the last operation: it is followed by GELU \(nodes g\/Div … g\/Mul_1\)/);
  });

  it("refuses a near miss (x/2 into Erf, or an inner tensor used elsewhere) naming the Erf", () => {
    const half = [scalarNode("two", 2), node("Div", ["h", "two"], ["d"]), node("Erf", ["d"], ["e"], {}, "the_erf"), scalarNode("one", 1), node("Add", ["e", "one"], ["a"]), node("Mul", ["h", "a"], ["m"]), scalarNode("half", 0.5), node("Mul", ["m", "half"], ["y"])];
    expectThrow(() => importOnnx(build({ nodes: [gemm, ...half], inits }), "t"), UnsupportedOpError, /Erf node "the_erf": Erf is only supported as part of GELU/);
    const leak = [scalarNode("s2", Math.SQRT2), node("Div", ["h", "s2"], ["d"]), node("Erf", ["d"], ["e"], {}, "the_erf"), scalarNode("one", 1), node("Add", ["e", "one"], ["a"]), node("Mul", ["h", "a"], ["m"]), scalarNode("half", 0.5), node("Mul", ["m", "half"], ["g"]), node("Add", ["g", "a"], ["y"])];
    expectThrow(() => importOnnx(build({ nodes: [gemm, ...leak], inits }), "t"), UnsupportedOpError, /"the_erf"/);
  });
});

describe("SiLU", () => {
  it("recognises Sigmoid(x)·x in either operand order; a Sigmoid alone stays a sigmoid", () => {
    for (const mul of [node("Mul", ["h", "s"], ["y"]), node("Mul", ["s", "h"], ["y"])]) {
      const graph = importOnnx(build({ nodes: [gemm, node("Sigmoid", ["h"], ["s"]), mul], inits }), "t");
      expect(kinds(graph)).toEqual(["dense 3→4", "silu 4"]);
      expect(graph.layers[1].source).toMatch(/^SiLU \(nodes /);
      check(graph, (h) => h.map(silu));
    }
    const plain = importOnnx(build({ nodes: [gemm, node("Sigmoid", ["h"], ["y"])], inits }), "t");
    expect(kinds(plain)).toEqual(["dense 3→4", "sigmoid 4"]);
  });
});

describe("LayerNorm decomposition", () => {
  const ln = (axes: "attr" | "input", tail: ReturnType<typeof node>[], out = "n") => [
    gemm,
    ...(axes === "attr" ? [node("ReduceMean", ["h"], ["mu"], { axes: [-1] }, "/ln/ReduceMean")] : [node("ReduceMean", ["h", "ax"], ["mu"], {}, "/ln/ReduceMean")]),
    node("Sub", ["h", "mu"], ["dev"]),
    scalarNode("two", 2),
    node("Pow", ["dev", "two"], ["sq"]),
    ...(axes === "attr" ? [node("ReduceMean", ["sq"], ["var"], { axes: [-1] })] : [node("ReduceMean", ["sq", "ax"], ["var"])]),
    scalarNode("eps", 1e-5),
    node("Add", ["var", "eps"], ["ve"]),
    node("Sqrt", ["ve"], ["sd"]),
    node("Div", ["dev", "sd"], [out], {}, "/ln/Div"),
    ...tail,
  ];
  const layerNorm = (h: number[], gamma: number[], beta: number[]) => {
    const mean = h.reduce((s, v) => s + v, 0) / h.length;
    const variance = h.reduce((s, v) => s + (v - mean) ** 2, 0) / h.length;
    return h.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * gamma[i] + beta[i]);
  };
  const gamma = [1.5, -0.5, 2, 0.25];
  const beta = [0.1, 0.2, -0.3, 0];

  it("with γ and β (opset 13, axes attribute) is one layernorm layer", () => {
    const nodes = ln("attr", [node("Mul", ["n", "g"], ["m"]), node("Add", ["m", "be"], ["y"], {}, "/ln/Add_1")]);
    const graph = importOnnx(build({ nodes, inits: [...inits, tensor("g", [4], gamma), tensor("be", [4], beta)] }), "t");
    expect(kinds(graph)).toEqual(["dense 3→4", "layernorm 4"]);
    expect(graph.layers[1]).toMatchObject({ epsilon: Math.fround(1e-5), source: "LayerNorm (nodes /ln/ReduceMean … /ln/Add_1)" });
    check(graph, (h) => layerNorm(h, gamma, beta), 1e-6);
  });

  it("without γ and β, and with the axes as an input (opset 18)", () => {
    const graph = importOnnx(build({ opset: 18, nodes: ln("input", [], "y"), inits: [...inits, tensor("ax", [1], [-1], 7)] }), "t");
    expect(kinds(graph)).toEqual(["dense 3→4", "layernorm 4"]);
    check(graph, (h) => layerNorm(h, [1, 1, 1, 1], [0, 0, 0, 0]), 1e-6);
  });

  it("refuses a LayerNorm over a part of each sample's features, naming the pattern", () => {
    const nodes = ln("attr", [], "y").slice(1).map((n) => ({ ...n, input: n.input.map((i) => (i === "h" ? "x" : i)) }));
    const bytes = build({ inputShape: ["N", 2, 3], nodes: [...nodes.slice(0, -1), { ...nodes[nodes.length - 1], output: ["z"] }, node("Flatten", ["z"], ["f"]), node("Gemm", ["f", "V"], ["y"], { transB: 1 })], inits: [tensor("V", [1, 6], randoms(6, 3))] });
    expectThrow(() => importOnnx(bytes, "t"), UnsupportedOpError, /^LayerNorm \(nodes \/ln\/ReduceMean … \/ln\/Div\) normalizes over axes \[2\] of \[batch, 2, 3\], a part of each sample's features/);
  });
});

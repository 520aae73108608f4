/**
 * Subgraphs that mean one layer. torch.onnx.export (1.13, opsets 7-17) writes GELU as Div/Erf/Add/Mul/Mul,
 * GELU(approximate='tanh') as Mul/Mul/Mul/Add/Mul/Tanh/Add/Mul/Mul, SiLU as Sigmoid·Mul and LayerNorm as
 * ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div(/Mul/Add). Each PATTERNS entry looks at one anchor node (the Erf,
 * the Tanh, the Sigmoid, the first ReduceMean), follows producers and consumers, and returns the nodes it
 * consumes and how to build the one layer they compute. The arithmetic is matched by value, not by node order:
 * the argument of Erf or Tanh is read as a polynomial in x, the products around it as a product of factors, so
 * x·0.5·(1+erf) in any association and operand order is the same GELU.
 * The walk (onnx.ts) runs these before the per-op handlers, and emits the layer at the pattern's last node.
 */
import { ModelFormatError } from "../graph.js";
import type { ActivationKind } from "../graph.js";
import type { ImportContext } from "./context.js";
import { pushLayerNorm } from "./ops.js";
import { attrInt, attrInts } from "./proto.js";
import type { OnnxNode } from "./proto.js";
import type { DataValue, FloatValue, IntsValue } from "./values.js";
import { features, normalizeAxes } from "./values.js";

/** The ONNX graph as the patterns see it: structure and the constants known before the walk. */
export interface PatternGraph {
  nodes: OnnxNode[];
  producer: ReadonlyMap<string, number>;
  /** Node indices reading each tensor; -1 stands for a graph output. */
  consumers: ReadonlyMap<string, readonly number[]>;
  constants: ReadonlyMap<string, FloatValue | IntsValue>;
}

export interface Match {
  /** Every node the pattern consumes. */
  nodes: number[];
  /** The data tensor the layer reads. */
  input: string;
  /** The tensor the layer produces. */
  output: string;
  /** How messages and the layer's `source` name it: `GELU (nodes /act/Div … /act/Mul_1)`. */
  label: string;
  build(ctx: ImportContext, last: OnnxNode, label: string): void;
}

type Pattern = (g: PatternGraph, anchor: number) => Match | null;

const close = (a: number, b: number, tolerance = 1e-6) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));

function scalar(g: PatternGraph, name: string): number | undefined {
  const c = g.constants.get(name);
  if (c?.kind !== "float") return undefined;
  const values = c.load();
  return values.length === 1 ? values[0] : undefined;
}

/** The one node reading `name`, when exactly one node (and no graph output) does. */
function soleConsumer(g: PatternGraph, name: string): OnnxNode | undefined {
  const c = g.consumers.get(name);
  return c && c.length === 1 && c[0] >= 0 ? g.nodes[c[0]] : undefined;
}

function indexOf(g: PatternGraph, node: OnnxNode): number {
  return g.producer.get(node.output[0]) as number;
}

/** A polynomial c[0] + c[1]·x + c[2]·x² + … in one leaf tensor x. */
interface Poly {
  leaf: string | null;
  c: number[];
}

const MAX_DEGREE = 4;

function polyOf(g: PatternGraph, name: string, nodes: number[], depth = 0): Poly | null {
  const k = scalar(g, name);
  if (k !== undefined) return { leaf: null, c: [k] };
  const p = g.producer.get(name);
  const leaf: Poly = { leaf: name, c: [0, 1] };
  if (p === undefined || depth > 12 || !soleConsumer(g, name)) return leaf;
  const node = g.nodes[p];
  const operand = (i: number) => polyOf(g, node.input[i], nodes, depth + 1);
  let result: Poly | null;
  switch (node.opType) {
    case "Add":
    case "Sub":
    case "Mul": {
      const a = operand(0);
      const b = operand(1);
      result = a && b ? combine(a, b, node.opType) : null;
      break;
    }
    case "Div": {
      const a = operand(0);
      const d = scalar(g, node.input[1]);
      result = a && d !== undefined ? { leaf: a.leaf, c: a.c.map((v) => v / d) } : null;
      break;
    }
    case "Neg": {
      const a = operand(0);
      result = a && { leaf: a.leaf, c: a.c.map((v) => -v) };
      break;
    }
    case "Pow": {
      const a = operand(0);
      const e = scalar(g, node.input[1]);
      if (!a || e === undefined || !Number.isInteger(e) || e < 1 || e > MAX_DEGREE) return null;
      result = a;
      for (let i = 1; i < e && result; i++) result = combine(result, a, "Mul");
      break;
    }
    default:
      return leaf;
  }
  if (result) nodes.push(p);
  return result;
}

function combine(a: Poly, b: Poly, op: string): Poly | null {
  if (a.leaf && b.leaf && a.leaf !== b.leaf) return null;
  const leaf = a.leaf ?? b.leaf;
  if (op === "Mul") {
    if (a.c.length + b.c.length - 1 > MAX_DEGREE + 1) return null;
    const c = new Array<number>(a.c.length + b.c.length - 1).fill(0);
    a.c.forEach((p, i) => b.c.forEach((q, j) => (c[i + j] += p * q)));
    return { leaf, c };
  }
  const sign = op === "Sub" ? -1 : 1;
  const c = Array.from({ length: Math.max(a.c.length, b.c.length) }, (_, i) => (a.c[i] ?? 0) + sign * (b.c[i] ?? 0));
  return { leaf, c };
}

/** `name` as a product of factors: the `stops` tensors and other leaves, times a constant. */
function productOf(g: PatternGraph, name: string, stops: Set<string>, nodes: number[], top = true): { leaves: string[]; coef: number } {
  const k = scalar(g, name);
  if (k !== undefined) return { leaves: [], coef: k };
  const p = g.producer.get(name);
  // the top of the product is the pattern's output (read by anything); the factors inside must be read only here
  if (stops.has(name) || p === undefined || (!top && !soleConsumer(g, name))) return { leaves: [name], coef: 1 };
  const node = g.nodes[p];
  if (node.opType === "Mul") {
    const a = productOf(g, node.input[0], stops, nodes, false);
    const b = productOf(g, node.input[1], stops, nodes, false);
    nodes.push(p);
    return { leaves: [...a.leaves, ...b.leaves], coef: a.coef * b.coef };
  }
  const d = node.opType === "Div" ? scalar(g, node.input[1]) : undefined;
  if (d !== undefined) {
    const a = productOf(g, node.input[0], stops, nodes, false);
    nodes.push(p);
    return { leaves: a.leaves, coef: a.coef / d };
  }
  return { leaves: [name], coef: 1 };
}

/**
 * From `inner` (Erf(x/√2) or Tanh(…)), the rest of a GELU: + 1, then multiplied by x and 0.5 in any order.
 * Returns the nodes and the output, or null.
 */
function geluTail(g: PatternGraph, inner: string, x: string): { nodes: number[]; output: string } | null {
  const add = soleConsumer(g, inner);
  if (!add || add.opType !== "Add") return null;
  const one = scalar(g, add.input[0] === inner ? add.input[1] : add.input[0]);
  if (one === undefined || !close(one, 1)) return null;
  const onePlus = add.output[0];
  let top = onePlus;
  for (let step = 0; step < 4; step++) {
    const next = soleConsumer(g, top);
    if (!next || (next.opType !== "Mul" && next.opType !== "Div")) return null;
    top = next.output[0];
    const nodes: number[] = [];
    const { leaves, coef } = productOf(g, top, new Set([x, onePlus]), nodes);
    if (leaves.some((l) => l !== x && l !== onePlus)) return null;
    if (leaves.length === 2 && leaves.includes(x) && leaves.includes(onePlus) && close(coef, 0.5)) {
      return { nodes: [indexOf(g, add), ...nodes], output: top };
    }
  }
  return null;
}

function label(g: PatternGraph, what: string, nodes: number[]): string {
  const sorted = [...nodes].sort((a, b) => a - b);
  const name = (i: number) => g.nodes[i].name || `#${i}`;
  return `${what} (nodes ${name(sorted[0])} … ${name(sorted[sorted.length - 1])})`;
}

function dataNamed(ctx: ImportContext, name: string, where: string): DataValue {
  const v = ctx.named(name, where);
  if (v.kind !== "data") throw new ModelFormatError(`${where} acts on ${v.origin}, not on the tensor computed from the graph input`);
  return ctx.usable(v, where);
}

function activationMatch(g: PatternGraph, what: string, fn: ActivationKind, nodes: number[], input: string, output: string): Match {
  return {
    nodes,
    input,
    output,
    label: label(g, what, nodes),
    build(ctx, last, where) {
      const x = dataNamed(ctx, input, where);
      ctx.pushLike(last, { kind: "activation", fn, size: features(x), source: where }, x, where);
    },
  };
}

/** GELU, exact: x·0.5·(1 + erf(x/√2)), anchored at the Erf. */
const geluErf: Pattern = (g, anchor) => {
  const erf = g.nodes[anchor];
  if (erf.opType !== "Erf") return null;
  const inner: number[] = [];
  const arg = polyOf(g, erf.input[0], inner);
  if (!arg || !arg.leaf || arg.c.length !== 2 || arg.c[0] !== 0 || !close(arg.c[1], Math.SQRT1_2)) return null;
  const tail = geluTail(g, erf.output[0], arg.leaf);
  if (!tail) return null;
  return activationMatch(g, "GELU", "gelu", [...inner, anchor, ...tail.nodes], arg.leaf, tail.output);
};

/** GELU, tanh approximation: x·0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))), anchored at the Tanh. */
const geluTanh: Pattern = (g, anchor) => {
  const tanh = g.nodes[anchor];
  if (tanh.opType !== "Tanh") return null;
  const inner: number[] = [];
  const arg = polyOf(g, tanh.input[0], inner);
  if (!arg || !arg.leaf || arg.c.length !== 4 || arg.c[0] !== 0 || arg.c[2] !== 0) return null;
  if (!close(arg.c[1], Math.sqrt(2 / Math.PI)) || !close(arg.c[3] / arg.c[1], 0.044715)) return null;
  const tail = geluTail(g, tanh.output[0], arg.leaf);
  if (!tail) return null;
  return activationMatch(g, "GELU(tanh)", "gelu_tanh", [...inner, anchor, ...tail.nodes], arg.leaf, tail.output);
};

/** SiLU: x·sigmoid(x), either operand order, anchored at the Sigmoid. */
const silu: Pattern = (g, anchor) => {
  const sigmoid = g.nodes[anchor];
  if (sigmoid.opType !== "Sigmoid") return null;
  const x = sigmoid.input[0];
  const mul = soleConsumer(g, sigmoid.output[0]);
  if (!mul || mul.opType !== "Mul") return null;
  const other = mul.input[0] === sigmoid.output[0] ? mul.input[1] : mul.input[0];
  if (other !== x) return null;
  return activationMatch(g, "SiLU", "silu", [anchor, indexOf(g, mul)], x, mul.output[0]);
};

/** LayerNorm decomposed: ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div, then optionally Mul γ, Add β. */
const layerNorm: Pattern = (g, anchor) => {
  const mean = g.nodes[anchor];
  if (mean.opType !== "ReduceMean" || attrInt(mean, "keepdims", 1) !== 1) return null;
  const x = mean.input[0];
  const axes = reduceAxes(g, mean);
  if (!axes) return null;
  const sub = soleConsumer(g, mean.output[0]);
  if (!sub || sub.opType !== "Sub" || sub.input[0] !== x || sub.input[1] !== mean.output[0]) return null;
  const d = sub.output[0];
  const dUsers = (g.consumers.get(d) ?? []).map((i) => (i >= 0 ? g.nodes[i] : undefined));
  if (dUsers.length !== 2 || dUsers.some((n) => !n)) return null;
  const square = dUsers.find((n) => (n!.opType === "Pow" && n!.input[0] === d && scalar(g, n!.input[1]) === 2) || (n!.opType === "Mul" && n!.input[0] === d && n!.input[1] === d));
  const div = dUsers.find((n) => n!.opType === "Div" && n!.input[0] === d);
  if (!square || !div) return null;
  const variance = soleConsumer(g, square.output[0]);
  if (!variance || variance.opType !== "ReduceMean" || attrInt(variance, "keepdims", 1) !== 1) return null;
  if (JSON.stringify(reduceAxes(g, variance)) !== JSON.stringify(axes)) return null;
  const addEps = soleConsumer(g, variance.output[0]);
  if (!addEps || addEps.opType !== "Add") return null;
  const epsilon = scalar(g, addEps.input[0] === variance.output[0] ? addEps.input[1] : addEps.input[0]);
  if (epsilon === undefined) return null;
  const sqrt = soleConsumer(g, addEps.output[0]);
  if (!sqrt || sqrt.opType !== "Sqrt" || soleConsumer(g, sqrt.output[0]) !== div || div.input[1] !== sqrt.output[0]) return null;
  const chain = [mean, sub, square, variance, addEps, sqrt, div];
  let output = div.output[0];
  const constOperand = (n: OnnxNode | undefined, op: string) => {
    if (!n || n.opType !== op) return undefined;
    const other = n.input[0] === output ? n.input[1] : n.input[0];
    const c = g.constants.get(other);
    return c?.kind === "float" ? c : undefined;
  };
  let gamma: FloatValue | undefined;
  let beta: FloatValue | undefined;
  const mul = soleConsumer(g, output);
  if ((gamma = constOperand(mul, "Mul"))) {
    chain.push(mul!);
    output = mul!.output[0];
  }
  const add = soleConsumer(g, output);
  if ((beta = constOperand(add, "Add"))) {
    chain.push(add!);
    output = add!.output[0];
  }
  const nodes = chain.map((n) => indexOf(g, n));
  return {
    nodes,
    input: x,
    output,
    label: label(g, "LayerNorm", nodes),
    build(ctx, last, where) {
      const data = dataNamed(ctx, x, where);
      pushLayerNorm(ctx, last, where, where, data, normalizeAxes(axes, data.shape.length, where), epsilon, gamma, beta);
    },
  };
};

/** ReduceMean's axes: an attribute before opset 18, an optional input from 18 on; undefined when not a constant. */
function reduceAxes(g: PatternGraph, node: OnnxNode): number[] | undefined {
  if (node.input[1]) {
    const c = g.constants.get(node.input[1]);
    return c?.kind === "ints" && c.values.every((v) => v !== null) ? (c.values as number[]) : undefined;
  }
  return attrInts(node, "axes");
}

export const PATTERNS: Pattern[] = [geluErf, geluTanh, silu, layerNorm];

/**
 * Runs every pattern at every node; returns the matches by the index of their last node, and the set of
 * every node a match consumes. A match is kept only if its intermediate tensors are read by nothing outside it.
 */
export function findPatterns(g: PatternGraph): { byLast: Map<number, Match>; claimed: Set<number> } {
  const byLast = new Map<number, Match>();
  const claimed = new Set<number>();
  g.nodes.forEach((_, anchor) => {
    if (claimed.has(anchor)) return;
    for (const pattern of PATTERNS) {
      const m = pattern(g, anchor);
      if (!m || m.nodes.some((i) => claimed.has(i)) || !selfContained(g, m)) continue;
      const inside = new Set(m.nodes);
      for (const i of inside) claimed.add(i);
      byLast.set(Math.max(...inside), m);
      break;
    }
  });
  return { byLast, claimed };
}

function selfContained(g: PatternGraph, m: Match): boolean {
  const inside = new Set(m.nodes);
  const last = Math.max(...inside);
  if (g.nodes[last].output[0] !== m.output) return false;
  for (const i of inside) {
    for (const out of g.nodes[i].output) {
      if (!out || out === m.output) continue;
      if ((g.consumers.get(out) ?? []).some((c) => !inside.has(c))) return false;
    }
  }
  return true;
}

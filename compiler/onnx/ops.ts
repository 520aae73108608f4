/**
 * One handler per ONNX operator: OP_HANDLERS maps an op type to the function that reads the node's operands
 * from the ImportContext and appends the layers it means (or sets a constant, or a reshaped view of a data
 * tensor). Adding an operator is adding one entry here; the image operators' handlers (Conv, poolings, Pad)
 * are in conv.ts. Subgraphs that mean one layer (GELU, SiLU, LayerNorm) are recognised before these run, by
 * patterns.ts.
 */
import { INPUT, ModelFormatError, UnsupportedOpError } from "../graph.js";
import type { ActivationKind, Layer } from "../graph.js";
import { WINDOW_HANDLERS } from "./conv.js";
import type { ImportContext } from "./context.js";
import { DOUBLE, FLOAT, INT32, INT64, attrFloat, attrInt, attrInts, attrString, floatConstant } from "./proto.js";
import type { OnnxNode } from "./proto.js";
import type { DataValue, Dim, FloatValue, IntsValue, Value } from "./values.js";
import { coversFeatures, features, fmtShape, normalizeAxes, perFeature, scalarOf } from "./values.js";

/** `where` names the node in messages (`Gemm node "/fc1/Gemm"`); `source` names it on the layers it makes. */
export type Handler = (ctx: ImportContext, node: OnnxNode, where: string, source: string) => void;

const FLOAT_TYPES = [FLOAT, DOUBLE, 10 /* FLOAT16 */, 16 /* BFLOAT16 */];

// ---- dense layers ----

const gemm: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  const transA = attrInt(node, "transA", 0);
  const transB = attrInt(node, "transB", 0);
  const alpha = attrFloat(node, "alpha", 1);
  const beta = attrFloat(node, "beta", 1);
  if (x.shape.length !== 2) {
    throw new ModelFormatError(`${where} needs a [batch, features] tensor but gets ${fmtShape(x.shape, x.batchAxis)} (add a Flatten first)`);
  }
  const featureAxis = transA ? 0 : 1;
  const rowAxis = 1 - featureAxis;
  if (!(x.batchAxis === rowAxis || (x.batchAxis < 0 && x.shape[rowAxis] === 1))) {
    const expected = transA ? "[features, batch] (transA=1)" : "[batch, features]";
    throw new ModelFormatError(`${where} needs ${expected} but gets ${fmtShape(x.shape, x.batchAxis)}`);
  }
  const inputs = x.shape[featureAxis] as number;
  const b = ctx.floatConst(node, 1, where, "B (the weights)");
  if (b.dims.length !== 2) throw new ModelFormatError(`${where}: weights ${b.origin} must be 2-D, got ${fmtShape(b.dims)}`);
  const [rows, cols] = b.dims;
  const k = transB ? cols : rows;
  const outputs = transB ? rows : cols;
  if (k !== inputs) {
    throw new ModelFormatError(`${where}: weights ${b.origin} ${fmtShape(b.dims)} (transB=${transB}) take ${k} inputs but the tensor has ${inputs} features`);
  }
  const loaded = ctx.load(b, where);
  const weights = transB ? Float64Array.from(loaded) : transpose(loaded, rows, cols);
  if (alpha !== 1) for (let i = 0; i < weights.length; i++) weights[i] *= alpha;
  const shape: Dim[] = [x.shape[rowAxis], outputs];
  const batchAxis = x.batchAxis < 0 ? -1 : 0;
  const bias = new Float64Array(outputs);
  const c = node.input[2] ? ctx.floatConst(node, 2, where, "C (the bias)") : undefined;
  if (c) {
    const out: DataValue = { kind: "data", shape, batchAxis, ref: INPUT, origin: where };
    const { vector } = perFeature(c.dims, ctx.load(c, where), out, where, `bias ${c.origin}`);
    for (let o = 0; o < outputs; o++) bias[o] = beta * vector[o];
  }
  ctx.set(node, 0, ctx.push({ kind: "dense", inputs, outputs, weights, bias, source }, x, shape, batchAxis, where), where);
};

const matmul: Handler = (ctx, node, where, source) => {
  if (ctx.value(node, 0, where).kind !== "data") {
    throw new ModelFormatError(`${where}: the first operand must be the tensor computed from the graph input (x @ W)`);
  }
  const x = ctx.data(node, 0, where);
  const last = x.shape.length - 1;
  if (last < 0 || last === x.batchAxis || x.shape.some((d, i) => i !== last && i !== x.batchAxis && d !== 1)) {
    throw new ModelFormatError(`${where} needs a [batch, features] (or [batch, 1, …, features]) tensor but gets ${fmtShape(x.shape, x.batchAxis)} (add a Flatten first)`);
  }
  const inputs = x.shape[last] as number;
  const w = ctx.floatConst(node, 1, where, "the weights");
  if (w.dims.length !== 2) throw new ModelFormatError(`${where}: weights ${w.origin} must be 2-D, got ${fmtShape(w.dims)}`);
  const [rows, cols] = w.dims;
  if (rows !== inputs) {
    throw new ModelFormatError(`${where}: weights ${w.origin} ${fmtShape(w.dims)} take ${rows} inputs but the tensor has ${inputs} features`);
  }
  const shape = [...x.shape.slice(0, last), cols];
  const layer: Layer = { kind: "dense", inputs, outputs: cols, weights: transpose(ctx.load(w, where), rows, cols), bias: new Float64Array(cols), source };
  ctx.set(node, 0, ctx.push(layer, x, shape, x.batchAxis, where), where);
};

// ---- elementwise arithmetic: with a constant it is an affine layer; Add/Sub of two data tensors is a residual ----

type Arith = "Add" | "Sub" | "Mul" | "Div";

function arith(op: Arith): Handler {
  return (ctx, node, where, source) => {
    const a = ctx.value(node, 0, where);
    const b = ctx.value(node, 1, where);
    if (a.kind === "data" && b.kind === "data") return residual(ctx, node, where, source, op, a, b);
    if (a.kind !== "data" && b.kind !== "data") return ctx.set(node, 0, constantArith(op, a, b, where), where);
    const dataFirst = a.kind === "data";
    const x = ctx.usable((dataFirst ? a : b) as DataValue, where);
    const c = (dataFirst ? b : a) as Value;
    if (c.kind !== "float") throw new ModelFormatError(`${where}: ${c.origin} is an integer tensor; arithmetic on data needs float constants`);
    const { vector, shape, batchAxis } = perFeature(c.dims, ctx.load(c, where), x, where, `constant ${c.origin}`);
    const n = vector.length;
    const scale = new Float64Array(n).fill(1);
    const shift = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = vector[i];
      if (op === "Add") shift[i] = v;
      else if (op === "Sub") [scale[i], shift[i]] = dataFirst ? [1, -v] : [-1, v];
      else if (op === "Mul") scale[i] = v;
      else if (dataFirst) scale[i] = 1 / v;
      else throw new UnsupportedOpError(`${where} divides a constant by the data (c / x); mlvm does not support a reciprocal`);
    }
    ctx.set(node, 0, ctx.push({ kind: "affine", size: n, scale, shift, source }, x, shape, batchAxis, where), where);
  };
}

function residual(ctx: ImportContext, node: OnnxNode, where: string, source: string, op: Arith, a: DataValue, b: DataValue): void {
  if (op === "Mul" || op === "Div") {
    throw new UnsupportedOpError(
      `${where} ${op === "Mul" ? "multiplies" : "divides"} two tensors computed from the graph input; mlvm supports that only inside GELU and SiLU`,
    );
  }
  const x = ctx.usable(a, where);
  let y = ctx.usable(b, where);
  const squeezed = (v: DataValue) => v.shape.flatMap((d, i) => (i === v.batchAxis ? ["batch"] : d === 1 ? [] : [String(d)])).join(",");
  if (squeezed(x) !== squeezed(y)) {
    throw new ModelFormatError(`${where} combines ${fmtShape(x.shape, x.batchAxis)} and ${fmtShape(y.shape, y.batchAxis)}; the two operands must have the same shape`);
  }
  const size = features(x);
  if (op === "Sub") {
    y = ctx.push({ kind: "affine", size, scale: new Float64Array(size).fill(-1), shift: new Float64Array(size), source }, y, y.shape, y.batchAxis, where);
  }
  const out = x.shape.length >= y.shape.length ? x : y;
  ctx.set(node, 0, ctx.push({ kind: "add", other: y.ref, size, source }, x, out.shape, out.batchAxis, where), where);
}

/** Arithmetic on two constants (integer shape arithmetic, or float constants torch did not fold): same shape or a scalar. */
function constantArith(op: Arith, a: FloatValue | IntsValue, b: FloatValue | IntsValue, where: string): FloatValue | IntsValue {
  const f = (p: number, q: number) => (op === "Add" ? p + q : op === "Sub" ? p - q : op === "Mul" ? p * q : p / q);
  const na = a.dims.reduce((p, d) => p * d, 1);
  const nb = b.dims.reduce((p, d) => p * d, 1);
  if (na !== nb && na !== 1 && nb !== 1) throw new ModelFormatError(`${where}: constants of shapes ${fmtShape(a.dims)} and ${fmtShape(b.dims)} are not supported`);
  const dims = na >= nb ? a.dims : b.dims;
  const n = Math.max(na, nb);
  if (a.kind === "ints" && b.kind === "ints") {
    const values = Array.from({ length: n }, (_, i) => {
      const p = a.values[na === 1 ? 0 : i];
      const q = b.values[nb === 1 ? 0 : i];
      if (p === null || q === null) return null;
      return op === "Div" ? Math.trunc(p / q) : f(p, q);
    });
    return { kind: "ints", dims, values, origin: where };
  }
  const va = a.kind === "float" ? a.load() : Float64Array.from(a.values, (v) => v ?? NaN);
  const vb = b.kind === "float" ? b.load() : Float64Array.from(b.values, (v) => v ?? NaN);
  return floatConstant(dims, Float64Array.from({ length: n }, (_, i) => f(va[na === 1 ? 0 : i], vb[nb === 1 ? 0 : i])), where);
}

// ---- activations ----

function activation(fn: ActivationKind, params: (node: OnnxNode) => Partial<Layer> = () => ({})): Handler {
  return (ctx, node, where, source) => {
    const x = ctx.data(node, 0, where);
    ctx.pushLike(node, { kind: "activation", fn, size: features(x), ...params(node), source } as Layer, x, where);
  };
}

const affineOf = (size: number, scale: number | Float64Array, shift: number, source: string): Layer => ({
  kind: "affine",
  size,
  scale: typeof scale === "number" ? new Float64Array(size).fill(scale) : scale,
  shift: new Float64Array(size).fill(shift),
  source,
});

/** A chain of same-size layers after x; the last one's output is the node's output. */
function chain(ctx: ImportContext, node: OnnxNode, where: string, x: DataValue, layers: Layer[]): void {
  let v = x;
  for (const layer of layers) v = ctx.push(layer, v, x.shape, x.batchAxis, where);
  ctx.set(node, 0, v, where);
}

/** Selu(x) = γ·elu_α(x). */
const selu: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  const n = features(x);
  const alpha = attrFloat(node, "alpha", 1.67326319217681884765625);
  const gamma = attrFloat(node, "gamma", 1.05070102214813232421875);
  chain(ctx, node, where, x, [{ kind: "activation", fn: "elu", alpha, size: n, source }, affineOf(n, gamma, 0, source)]);
};

/** Celu(x) = α·elu_1(x/α). */
const celu: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  const n = features(x);
  const alpha = attrFloat(node, "alpha", 1);
  chain(ctx, node, where, x, [affineOf(n, 1 / alpha, 0, source), { kind: "activation", fn: "elu", alpha: 1, size: n, source }, affineOf(n, alpha, 0, source)]);
};

/** HardSigmoid(x) = clip(αx + β, 0, 1). */
const hardSigmoid: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  const n = features(x);
  const alpha = attrFloat(node, "alpha", 0.2);
  const beta = attrFloat(node, "beta", 0.5);
  chain(ctx, node, where, x, [affineOf(n, alpha, beta, source), { kind: "activation", fn: "clip", min: 0, max: 1, size: n, source }]);
};

const neg: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  chain(ctx, node, where, x, [affineOf(features(x), -1, 0, source)]);
};

/** Clip: bounds as attributes before opset 11, as optional inputs from 11 on. Clip(0, ∞) is a ReLU. */
const clip: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  let min = -Infinity;
  let max = Infinity;
  if (ctx.opset < 11) {
    min = attrFloat(node, "min", -Infinity);
    max = attrFloat(node, "max", Infinity);
  } else {
    const bound = (k: number, what: string) => {
      const v = ctx.optional(node, k, where);
      if (v === undefined) return undefined;
      if (v.kind !== "float") throw new ModelFormatError(`${where}: the ${what} bound must be a float constant, got ${v.origin}`);
      return scalarOf(v, where, `the ${what} bound`);
    };
    min = bound(1, "min") ?? -Infinity;
    max = bound(2, "max") ?? Infinity;
  }
  // float32's largest value stands for "no bound" in exports made before Clip took optional inputs
  if (min <= -3.4028234663852886e38) min = -Infinity;
  if (max >= 3.4028234663852886e38) max = Infinity;
  const n = features(x);
  if (min === -Infinity && max === Infinity) return ctx.set(node, 0, { ...x, origin: where }, where);
  const layer: Layer = min === 0 && max === Infinity ? { kind: "activation", fn: "relu", size: n, source } : { kind: "activation", fn: "clip", min, max, size: n, source };
  ctx.pushLike(node, layer, x, where);
};

/** PRelu: one slope is a LeakyRelu; per-feature slopes a are relu(x) + (−a)·relu(−x), from existing layers. */
const prelu: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  const s = ctx.floatConst(node, 1, where, "the slope");
  const { vector } = perFeature(s.dims, ctx.load(s, where), x, where, `slope ${s.origin}`);
  const n = vector.length;
  if (vector.every((a) => a === vector[0])) {
    return void ctx.pushLike(node, { kind: "activation", fn: "leaky_relu", alpha: vector[0], size: n, source }, x, where);
  }
  const positive = ctx.push({ kind: "activation", fn: "relu", size: n, source }, x, x.shape, x.batchAxis, where);
  const negated = ctx.push(affineOf(n, -1, 0, source), x, x.shape, x.batchAxis, where);
  const negativePart = ctx.push({ kind: "activation", fn: "relu", size: n, source }, negated, x.shape, x.batchAxis, where);
  const scaled = ctx.push(affineOf(n, vector.map((a) => -a), 0, source), negativePart, x.shape, x.batchAxis, where);
  ctx.set(node, 0, ctx.push({ kind: "add", other: scaled.ref, size: n, source }, positive, x.shape, x.batchAxis, where), where);
};

/** Gelu (opset 20): approximate "none" or "tanh". */
const gelu: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  const approximate = attrString(node, "approximate", "none");
  if (approximate !== "none" && approximate !== "tanh") throw new ModelFormatError(`${where}: approximate="${approximate}" is not a GELU mlvm knows`);
  ctx.pushLike(node, { kind: "activation", fn: approximate === "tanh" ? "gelu_tanh" : "gelu", size: features(x), source }, x, where);
};

// ---- normalization ----

/** BatchNormalization in inference mode: y = (x − mean)/√(var + ε)·γ + β per channel (axis 1) = an affine layer. */
const batchNorm: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  if (attrInt(node, "training_mode", 0) !== 0) throw new ModelFormatError(`${where} is in training mode; export the model in eval() mode`);
  for (let k = 1; k < node.output.length; k++) ctx.unusedOutput(node, k, where, "running statistics");
  if (x.shape.length < 2 || x.batchAxis > 0) throw new ModelFormatError(`${where} needs [batch, channels, …] but gets ${fmtShape(x.shape, x.batchAxis)}`);
  const epsilon = attrFloat(node, "epsilon", 1e-5);
  const channels = x.shape[1] as number;
  const param = (k: number, what: string) => {
    const v = ctx.floatConst(node, k, where, what);
    const values = ctx.load(v, where);
    if (values.length !== channels) throw new ModelFormatError(`${where}: ${what} ${v.origin} has ${values.length} values for ${channels} channels`);
    const dims = [channels, ...new Array<number>(x.shape.length - 2).fill(1)];
    return perFeature(dims, values, x, where, `${what} ${v.origin}`).vector;
  };
  const [gamma, beta, mean, variance] = [param(1, "scale"), param(2, "bias"), param(3, "mean"), param(4, "variance")];
  const n = gamma.length;
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    scale[i] = gamma[i] / Math.sqrt(variance[i] + epsilon);
    shift[i] = beta[i] - mean[i] * scale[i];
  }
  ctx.pushLike(node, { kind: "affine", size: n, scale, shift, source }, x, where);
};

/** LayerNormalization (opset 17): over the axes from `axis` to the last, which must be each sample's whole feature vector. */
const layerNorm: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  for (let k = 1; k < node.output.length; k++) ctx.unusedOutput(node, k, where, "mean/inverse deviation");
  const rank = x.shape.length;
  const [axis] = normalizeAxes([attrInt(node, "axis", -1)], rank, where);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const scale = ctx.floatConst(node, 1, where, "the scale");
  const bias = node.input[2] ? ctx.floatConst(node, 2, where, "the bias") : undefined;
  pushLayerNorm(ctx, node, where, source, x, axes, attrFloat(node, "epsilon", 1e-5), scale, bias);
};

/** Appends a layernorm layer over `axes` (checked to be the whole feature vector). Shared with the LayerNorm pattern. */
export function pushLayerNorm(
  ctx: ImportContext,
  node: OnnxNode,
  where: string,
  source: string,
  x: DataValue,
  axes: number[],
  epsilon: number,
  scale: FloatValue | undefined,
  bias: FloatValue | undefined,
): void {
  if (!coversFeatures(x, axes)) {
    throw new UnsupportedOpError(
      `${where} normalizes over axes [${axes.join(", ")}] of ${fmtShape(x.shape, x.batchAxis)}, a part of each sample's features; mlvm normalizes a sample's whole feature vector (LayerNorm over the last axis)`,
    );
  }
  const n = features(x);
  const vec = (v: FloatValue | undefined, fill: number, what: string) =>
    v ? perFeature(v.dims, ctx.load(v, where), x, where, `${what} ${v.origin}`).vector : new Float64Array(n).fill(fill);
  ctx.pushLike(node, { kind: "layernorm", size: n, epsilon, gamma: vec(scale, 1, "scale"), beta: vec(bias, 0, "bias"), source }, x, where);
}

/** Softmax/LogSoftmax over the features: marks the tensor as the model's head (monotonic: the VM computes the logits). */
function head(fn: "softmax" | "log_softmax"): Handler {
  return (ctx, node, where) => {
    const x = ctx.data(node, 0, where);
    const rank = x.shape.length;
    const given = attrInt(node, "axis", ctx.opset >= 13 ? -1 : 1);
    const [axis] = normalizeAxes([given], rank, where);
    // before opset 13 the input is coerced to 2-D at `axis`: the op runs over every axis from `axis` on
    const axes = ctx.opset >= 13 ? [axis] : Array.from({ length: rank - axis }, (_, i) => axis + i);
    if (!coversFeatures(x, axes)) {
      throw new ModelFormatError(`${where}: ${node.opType} must be over the features of a [batch, classes] tensor, got axis=${given} on ${fmtShape(x.shape, x.batchAxis)}`);
    }
    ctx.set(node, 0, { ...x, origin: where, head: { fn, of: node.input[0], where } }, where);
  };
}

// ---- shapes of data tensors ----

const flatten: Handler = (ctx, node, where) => {
  const x = ctx.data(node, 0, where);
  const rank = x.shape.length;
  const given = attrInt(node, "axis", 1);
  const axis = given < 0 ? given + rank : given;
  const product = (dims: Dim[]) => dims.reduce<number>((p, d) => p * (d as number), 1);
  if (x.batchAxis < 0) {
    return ctx.set(node, 0, { ...x, shape: [product(x.shape.slice(0, axis)), product(x.shape.slice(axis))], origin: where }, where);
  }
  if (!(x.batchAxis < axis) || x.shape.slice(0, axis).some((d, i) => i !== x.batchAxis && d !== 1)) {
    throw new ModelFormatError(`${where} has axis=${given} on a rank-${rank} tensor; only axis=1 (keep the batch, flatten the rest) is supported`);
  }
  ctx.set(node, 0, { ...x, shape: [x.shape[x.batchAxis], features(x)], batchAxis: 0, origin: where }, where);
};

const reshape: Handler = (ctx, node, where) => {
  const v = ctx.value(node, 0, where);
  const target = ctx.value(node, 1, where);
  if (target.kind !== "ints" || target.dims.length !== 1) {
    throw new ModelFormatError(`${where}: the target shape must be a 1-D integer constant (an initializer, a Constant, or computed with Shape/Gather/Concat)`);
  }
  const allowZero = attrInt(node, "allowzero", 0) !== 0;
  if (v.kind !== "data") {
    if (v.kind !== "float") throw new ModelFormatError(`${where}: only data tensors and float constants can be reshaped`);
    const dims = resolveFixed(v.dims, target.values, allowZero, where);
    return ctx.set(node, 0, { ...v, dims, origin: where }, where);
  }
  const x = ctx.usable(v, where);
  if (x.batchAxis < 0) {
    return ctx.set(node, 0, { ...x, shape: resolveFixed(x.shape as number[], target.values, allowZero, where), origin: where }, where);
  }
  if (x.batchAxis !== 0) throw new ModelFormatError(`${where} reshapes a transposed tensor ${fmtShape(x.shape, x.batchAxis)}`);
  ctx.set(node, 0, { ...x, shape: resolveReshape(x.shape, target.values, allowZero, where), origin: where }, where);
};

function squeezeAxes(ctx: ImportContext, node: OnnxNode, where: string): number[] | undefined {
  if (node.input[1]) return ctx.ints(node, 1, where).values.map((a) => (a === null ? NaN : a));
  return attrInts(node, "axes");
}

const squeeze: Handler = (ctx, node, where) => {
  const v = ctx.value(node, 0, where);
  const given = squeezeAxes(ctx, node, where);
  if (v.kind !== "data") {
    const dims = v.dims;
    const axes = given?.length ? normalizeAxes(given, dims.length, where) : dims.flatMap((d, i) => (d === 1 ? [i] : []));
    return ctx.set(node, 0, { ...v, dims: dims.filter((_, i) => !axes.includes(i)), origin: where }, where);
  }
  const x = ctx.usable(v, where);
  const axes = given?.length ? normalizeAxes(given, x.shape.length, where) : x.shape.flatMap((d, i) => (d === 1 && i !== x.batchAxis ? [i] : []));
  for (const a of axes) {
    if (a === x.batchAxis || x.shape[a] !== 1) {
      throw new ModelFormatError(`${where} squeezes axis ${a} of ${fmtShape(x.shape, x.batchAxis)}, which is ${a === x.batchAxis ? "the batch" : "not of size 1"}`);
    }
  }
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  const batchAxis = x.batchAxis < 0 ? -1 : x.batchAxis - axes.filter((a) => a < x.batchAxis).length;
  ctx.set(node, 0, { ...x, shape, batchAxis, origin: where }, where);
};

const unsqueeze: Handler = (ctx, node, where) => {
  const v = ctx.value(node, 0, where);
  const given = squeezeAxes(ctx, node, where) ?? [];
  const dims: Dim[] = v.kind === "data" ? v.shape : v.dims;
  const rank = dims.length + given.length;
  const axes = normalizeAxes(given, rank, where);
  const out: Dim[] = [];
  let batchAxis = -1;
  for (let i = 0, j = 0; i < rank; i++) {
    if (axes.includes(i)) {
      out.push(1);
    } else {
      if (v.kind === "data" && j === v.batchAxis) batchAxis = i;
      out.push(dims[j++]);
    }
  }
  if (out.some((d) => d === undefined)) throw new ModelFormatError(`${where}: bad axes ${JSON.stringify(given)}`);
  if (v.kind === "data") return ctx.set(node, 0, { ...ctx.usable(v, where), shape: out, batchAxis, origin: where }, where);
  ctx.set(node, 0, { ...v, dims: out as number[], origin: where }, where);
};

/** Transpose of a 2-D weight matrix, or of data when it keeps each sample's features in order (e.g. xᵀ for Gemm transA=1). */
const transposeOp: Handler = (ctx, node, where) => {
  const v = ctx.value(node, 0, where);
  const rank = v.kind === "data" ? v.shape.length : v.dims.length;
  const perm = attrInts(node, "perm") ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (v.kind === "float") {
    if (v.dims.length !== 2 || perm[0] !== 1 || perm[1] !== 0) throw new ModelFormatError(`${where}: Transpose of a constant is only supported on a 2-D weight matrix`);
    const [rows, cols] = v.dims;
    let memo: Float64Array | null = null;
    const load = () => (memo ??= transpose(v.load(), rows, cols));
    return ctx.set(node, 0, { kind: "float", dims: [cols, rows], origin: `${v.origin} transposed by ${where}`, load }, where);
  }
  if (v.kind !== "data") throw new ModelFormatError(`${where}: Transpose of an integer tensor is not supported`);
  const x = ctx.usable(v, where);
  const order = perm.filter((a) => a !== x.batchAxis && x.shape[a] !== 1);
  if (order.some((a, i) => i > 0 && a < order[i - 1])) {
    throw new UnsupportedOpError(`${where} reorders the features of ${fmtShape(x.shape, x.batchAxis)} (perm ${JSON.stringify(perm)}); mlvm only transposes the batch axis`);
  }
  ctx.set(node, 0, { ...x, shape: perm.map((a) => x.shape[a]), batchAxis: x.batchAxis < 0 ? -1 : perm.indexOf(x.batchAxis), origin: where }, where);
};

/** Identity, inference-mode Dropout and float Casts pass a value through (a Softmax head included). */
const passThrough: Handler = (ctx, node, where) => {
  const v = ctx.value(node, 0, where);
  if (node.opType === "Dropout") {
    ctx.unusedOutput(node, 1, where, "mask");
    const mode = ctx.optional(node, 2, where);
    if (mode && (mode.kind !== "ints" || mode.values.some((m) => m !== 0))) {
      throw new ModelFormatError(`${where}: only inference-mode Dropout (training_mode false) is supported`);
    }
  }
  ctx.set(node, 0, { ...v, origin: where }, where);
};

const cast: Handler = (ctx, node, where) => {
  const v = ctx.value(node, 0, where);
  const to = attrInt(node, "to", 0);
  const toFloat = FLOAT_TYPES.includes(to);
  if (!toFloat && to !== INT64 && to !== INT32) throw new ModelFormatError(`${where}: a Cast to type ${to} is not supported`);
  if (v.kind === "data") {
    if (!toFloat) throw new ModelFormatError(`${where} casts the data to integers; mlvm computes on real numbers`);
    return ctx.set(node, 0, { ...v, origin: where }, where);
  }
  if (v.kind === "ints") {
    if (!toFloat) return ctx.set(node, 0, { ...v, origin: where }, where);
    return ctx.set(node, 0, floatConstant(v.dims, Float64Array.from(v.values, (d) => d ?? NaN), where), where);
  }
  if (toFloat) return ctx.set(node, 0, { ...v, origin: where }, where);
  ctx.set(node, 0, { kind: "ints", dims: v.dims, values: Array.from(v.load(), Math.trunc), origin: where }, where);
};

// ---- shape computations (constant or derived from the input's shape) ----

const shape: Handler = (ctx, node, where) => {
  const v = ctx.value(node, 0, where);
  const dims: Dim[] = v.kind === "data" ? v.shape : v.dims;
  const rank = dims.length;
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + rank : i, 0), rank);
  const start = clamp(attrInt(node, "start", 0));
  const end = clamp(attrInt(node, "end", rank));
  const values = dims.slice(start, Math.max(start, end));
  ctx.set(node, 0, { kind: "ints", dims: [values.length], values, origin: where }, where);
};

const gather: Handler = (ctx, node, where) => {
  if (ctx.value(node, 0, where).kind === "data") throw new UnsupportedOpError(`${where} indexes the data (Gather, an embedding or a slice); mlvm does not support it`);
  const data = ctx.ints(node, 0, where);
  const indices = ctx.ints(node, 1, where);
  if (data.dims.length !== 1 || attrInt(node, "axis", 0) !== 0) {
    throw new ModelFormatError(`${where}: Gather is only supported on a 1-D shape tensor with axis=0`);
  }
  const values = indices.values.map((i) => {
    const n = data.values.length;
    if (i === null || i < -n || i >= n) throw new ModelFormatError(`${where}: index ${i} is out of range for ${n} values`);
    return data.values[i < 0 ? i + n : i];
  });
  ctx.set(node, 0, { kind: "ints", dims: indices.dims, values, origin: where }, where);
};

const concat: Handler = (ctx, node, where) => {
  if (node.input.some((n) => ctx.named(n, where).kind === "data")) throw new UnsupportedOpError(`${where} concatenates tensors computed from the graph input; mlvm does not support Concat of data`);
  const parts = node.input.map((_, i) => ctx.ints(node, i, where));
  const axis = attrInt(node, "axis", 0);
  if (parts.some((p) => p.dims.length !== 1) || (axis !== 0 && axis !== -1)) {
    throw new ModelFormatError(`${where}: Concat is only supported on 1-D shape tensors`);
  }
  const values = parts.flatMap((p) => p.values);
  ctx.set(node, 0, { kind: "ints", dims: [values.length], values, origin: where }, where);
};

/** Constant nodes are read before the walk (patterns need their values); their handler has nothing left to do. */
const constant: Handler = () => {};

/** Ops that mlvm reads only as part of a recognised subgraph. */
function onlyIn(what: string): Handler {
  return (_ctx, node, where) => {
    throw new UnsupportedOpError(`${where}: ${node.opType} is only supported as part of ${what}, and this one is not`);
  };
}

export const OP_HANDLERS: Record<string, Handler> = {
  Gemm: gemm,
  MatMul: matmul,
  Add: arith("Add"),
  Sub: arith("Sub"),
  Mul: arith("Mul"),
  Div: arith("Div"),
  Neg: neg,
  Relu: activation("relu"),
  Sigmoid: activation("sigmoid"),
  Tanh: activation("tanh"),
  LeakyRelu: activation("leaky_relu", (n) => ({ alpha: attrFloat(n, "alpha", 0.01) })),
  Elu: activation("elu", (n) => ({ alpha: attrFloat(n, "alpha", 1) })),
  Softplus: activation("softplus"),
  Selu: selu,
  Celu: celu,
  HardSigmoid: hardSigmoid,
  Clip: clip,
  PRelu: prelu,
  Gelu: gelu,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Softmax: head("softmax"),
  LogSoftmax: head("log_softmax"),
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transposeOp,
  Identity: passThrough,
  Dropout: passThrough,
  Cast: cast,
  Constant: constant,
  Shape: shape,
  Gather: gather,
  Concat: concat,
  Erf: onlyIn("GELU (x/√2 → Erf → +1 → ·x → ·0.5)"),
  Pow: onlyIn("GELU (tanh) or LayerNorm"),
  Sqrt: onlyIn("LayerNorm"),
  ...WINDOW_HANDLERS,
};

/** The op list for "mlvm supports …" messages. */
export const SUPPORTED_OPS = Object.keys(OP_HANDLERS).filter((op) => !["Erf", "Pow", "Sqrt", "Constant"].includes(op)).join(", ");

// ---- helpers ----

/** [rows][cols] → [cols][rows]. */
export function transpose(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** Resolves a Reshape target (0 = copy, -1 = inferred) for a tensor of known dims. */
function resolveFixed(input: number[], target: Dim[], allowZero: boolean, where: string): number[] {
  const total = input.reduce((p, d) => p * d, 1);
  const out = target.map((t, i) => {
    if (t === null) throw new ModelFormatError(`${where}: shape entry ${i} is the batch size of a tensor that has none`);
    if (t === 0 && !allowZero) return input[i];
    return t;
  });
  const known = out.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const inferred = out.indexOf(-1);
  if (inferred >= 0 && known > 0 && total % known === 0) out[inferred] = total / known;
  if (out.some((d) => d === undefined || d < 0) || out.reduce((p, d) => p * d, 1) !== total) {
    throw new ModelFormatError(`${where}: cannot reshape ${fmtShape(input)} to ${fmtShape(target)}`);
  }
  return out;
}

/** Resolves a Reshape target for a tensor whose axis 0 is the batch, which must stay first. */
function resolveReshape(input: Dim[], target: Dim[], allowZero: boolean, where: string): Dim[] {
  const batch = input[0];
  const features = input.slice(1).reduce<number>((p, d) => p * (d as number), 1);
  const out = target.map((t, i) => {
    if (t === 0 && !allowZero) {
      if (i >= input.length) throw new ModelFormatError(`${where}: shape entry ${i} is 0 (copy) but the input has rank ${input.length}`);
      return input[i];
    }
    return t;
  });
  const bad = () =>
    new ModelFormatError(`${where}: reshaping ${fmtShape(input)} to ${fmtShape(target)} does not keep the batch dimension first; the result must be [batch, features]`);
  if (out.length === 0 || out.slice(1).some((d) => d === null || (d as number) < -1)) throw bad();
  if (out.filter((d) => d === -1).length > 1) throw new ModelFormatError(`${where}: shape ${fmtShape(target)} has more than one -1`);
  const rest = out.slice(1) as number[];
  const known = rest.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  if (out[0] === -1) {
    if (known !== features) throw bad();
    out[0] = batch;
  } else {
    if (out[0] !== batch) throw bad();
    const inferred = rest.indexOf(-1);
    if (inferred >= 0) {
      if (known === 0 || features % known !== 0) throw bad();
      out[inferred + 1] = features / known;
    } else if (known !== features) {
      throw bad();
    }
  }
  return out;
}

/**
 * The handlers of the image operators: Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, ReduceMean
 * over the spatial axes, and Pad. Each reads an image [N, C, H, W] (or [1, C, H, W], no batch) and appends one
 * conv or pool layer (graph.ts) whose window geometry is the node's attributes resolved: explicit pads or
 * auto_pad, the output size in floor or ceil mode (geometry.ts). A Pad does not make a layer: it marks its output
 * as padded (values.ts), and the Conv or AveragePool that reads it takes the zeros as padding of its own. What the
 * VM's windows cannot express (non-zero or non-spatial Pad, zeros before a MaxPool, an average whose divisor is
 * neither the kernel's area nor the count of cells inside the input) is refused naming the node.
 */
import { ModelFormatError, UnsupportedOpError } from "../graph.js";
import type { ImageShape, Layer } from "../graph.js";
import type { ImportContext } from "./context.js";
import { kernelSpan, outputSize, windowPads } from "./geometry.js";
import type { Handler } from "./ops.js";
import { attrFloat, attrInt, attrInts, attrString } from "./proto.js";
import type { OnnxNode } from "./proto.js";
import type { DataValue, Dim } from "./values.js";
import { fmtShape, imageOf, normalizeAxes, scalarOf } from "./values.js";

type Quad = [number, number, number, number];

/** The image a window op reads: the unpadded image and the zeros a Pad before the node put around it. */
interface WindowInput {
  x: DataValue;
  image: ImageShape;
  /** [top, left, bottom, right] from a Pad node (zeros), all 0 when the input is not a Pad's output. */
  prePad: Quad;
}

function windowInput(ctx: ImportContext, node: OnnxNode, where: string): WindowInput {
  const x = ctx.window(node, 0, where);
  const padded = imageOf(x);
  if (!padded) {
    const rank = x.shape.length;
    const what = rank === 3 ? "a 1-D window ([N, C, L])" : rank === 5 ? "a 3-D window ([N, C, D, H, W])" : `a ${fmtShape(x.shape, x.batchAxis)} tensor`;
    throw new UnsupportedOpError(`${where} is ${what}; mlvm supports 2-D convolution and pooling on [N, C, H, W] images, batch first`);
  }
  const prePad: Quad = x.pad ? x.pad.pads : [0, 0, 0, 0];
  const image = { channels: padded.channels, height: padded.height - prePad[0] - prePad[2], width: padded.width - prePad[1] - prePad[3] };
  return { x, image, prePad };
}

/** A pair attribute (strides, dilations, kernel_shape): two positive integers, or `fallback` for each when absent. */
function pair(node: OnnxNode, name: string, fallback: number | undefined, where: string): [number, number] {
  const v = attrInts(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw new ModelFormatError(`${where} has no ${name} attribute`);
    return [fallback, fallback];
  }
  if (v.length !== 2 || v.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ModelFormatError(`${where}: ${name} [${v.join(", ")}] must be two positive integers (a 2-D window)`);
  }
  return [v[0], v[1]];
}

interface Resolved {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** The node's own pads (explicit or auto_pad), on the image it reads (a Pad's output included). */
  own: Quad;
  out: [number, number];
}

/** The node's window on its input (the padded image when a Pad precedes it), and its output size. */
function resolveWindow(node: OnnxNode, where: string, input: WindowInput, kernel: [number, number], ceil: boolean): Resolved {
  const stride = pair(node, "strides", 1, where);
  const dilation = pair(node, "dilations", 1, where);
  const seen: [number, number] = [input.image.height + input.prePad[0] + input.prePad[2], input.image.width + input.prePad[1] + input.prePad[3]];
  const own = windowPads(attrString(node, "auto_pad", "NOTSET"), attrInts(node, "pads"), seen, kernel, stride, dilation, where);
  const out: [number, number] = [0, 1].map((a) => outputSize(seen[a], kernel[a], stride[a], dilation[a], own[a], own[a + 2], ceil)) as [number, number];
  if (out[0] < 1 || out[1] < 1) {
    throw new ModelFormatError(
      `${where}: the ${kernel.join("×")} kernel (dilation ${dilation.join("×")}) does not fit the ${seen.join("×")} input with pads [${own.join(", ")}]`,
    );
  }
  return { kernel, stride, dilation, own, out };
}

const sum = (a: Quad, b: Quad): Quad => [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
const isZero = (q: Quad) => q.every((v) => v === 0);

/** Whether some window along one axis reaches past the padded input (ceil mode): its divisor would be clipped. */
function overhangs(n: number, k: number, s: number, d: number, begin: number, end: number, out: number): boolean {
  return (out - 1) * s + kernelSpan(k, d) > n + begin + end;
}

/** Whether some window along one axis holds no cell of the input (only padding): its max would be −∞. */
function emptyWindow(n: number, k: number, s: number, d: number, begin: number, out: number): boolean {
  for (let o = 0; o < out; o++) {
    let inside = false;
    for (let t = 0; t < k && !inside; t++) {
      const i = o * s - begin + t * d;
      inside = i >= 0 && i < n;
    }
    if (!inside) return true;
  }
  return false;
}

function pushWindow(ctx: ImportContext, node: OnnxNode, where: string, x: DataValue, layer: Layer, channels: number, out: [number, number]): void {
  const shape: Dim[] = [x.shape[0], channels, out[0], out[1]];
  ctx.set(node, 0, ctx.push(layer, x, shape, x.batchAxis, where), where);
}

// ---- Conv ----

const conv: Handler = (ctx, node, where, source) => {
  const input = windowInput(ctx, node, where);
  const { x, image } = input;
  const w = ctx.floatConst(node, 1, where, "W (the weights)");
  if (w.dims.length !== 4) {
    const what = w.dims.length === 3 ? "a 1-D convolution" : w.dims.length === 5 ? "a 3-D convolution" : "not a 2-D convolution";
    throw new UnsupportedOpError(`${where}: weights ${w.origin} ${fmtShape(w.dims)} make ${what}; mlvm supports 2-D convolutions`);
  }
  const [outChannels, perGroup, kh, kw] = w.dims;
  const groups = attrInt(node, "group", 1);
  if (!(groups >= 1) || image.channels % groups !== 0 || outChannels % groups !== 0 || perGroup * groups !== image.channels) {
    throw new ModelFormatError(
      `${where}: weights ${fmtShape(w.dims)} with group ${groups} do not fit ${image.channels} input channels (need [out, ${image.channels}/group, kH, kW], out divisible by group)`,
    );
  }
  const kernelAttr = attrInts(node, "kernel_shape");
  if (kernelAttr && (kernelAttr.length !== 2 || kernelAttr[0] !== kh || kernelAttr[1] !== kw)) {
    throw new ModelFormatError(`${where}: kernel_shape [${kernelAttr.join(", ")}] disagrees with the weights ${fmtShape(w.dims)}`);
  }
  const r = resolveWindow(node, where, input, [kh, kw], false);
  const weights = Float64Array.from(ctx.load(w, where));
  const bias = new Float64Array(outChannels);
  if (node.input[2]) {
    const b = ctx.floatConst(node, 2, where, "B (the bias)");
    const values = ctx.load(b, where);
    if (values.length !== outChannels) throw new ModelFormatError(`${where}: bias ${b.origin} has ${values.length} values for ${outChannels} output channels`);
    bias.set(values);
  }
  const layer: Layer = {
    kind: "conv",
    inShape: image,
    outShape: { channels: outChannels, height: r.out[0], width: r.out[1] },
    kernel: r.kernel,
    stride: r.stride,
    padding: sum(input.prePad, r.own),
    dilation: r.dilation,
    groups,
    weights,
    bias,
    source,
  };
  pushWindow(ctx, node, where, x, layer, outChannels, r.out);
};

// ---- poolings ----

const maxPool: Handler = (ctx, node, where, source) => {
  if (attrInt(node, "storage_order", 0) !== 0) throw new UnsupportedOpError(`${where}: storage_order 1 (column-major indices) is not supported`);
  ctx.unusedOutput(node, 1, where, "indices");
  const input = windowInput(ctx, node, where);
  const { x, image } = input;
  if (!isZero(input.prePad)) {
    throw new UnsupportedOpError(`${where} reads ${input.x.pad?.where}: zeros padded before a MaxPool are values it would compare; mlvm supports only the MaxPool's own pads (ignored cells)`);
  }
  const r = resolveWindow(node, where, input, pair(node, "kernel_shape", undefined, where), attrInt(node, "ceil_mode", 0) !== 0);
  const n = [image.height, image.width];
  for (const a of [0, 1]) {
    if (emptyWindow(n[a], r.kernel[a], r.stride[a], r.dilation[a], r.own[a], r.out[a])) {
      throw new ModelFormatError(`${where}: pads [${r.own.join(", ")}] leave a window with no cell of the ${n.join("×")} input`);
    }
  }
  const layer: Layer = { kind: "pool", mode: "max", ...geometry(image, r, r.own), source };
  pushWindow(ctx, node, where, x, layer, image.channels, r.out);
};

/**
 * AveragePool. The divisor is the kernel's area when every cell of every window is either input or zeros that
 * count (count_include_pad 1, or a Pad's zeros before the node): mode "avg". It is the number of input cells
 * when all the padding is left out (count_include_pad 0) and, in ceil mode, a window reaching past the end
 * (ONNX and PyTorch clip the divisor to the padded input): "avg_valid". A mix of the two is refused.
 */
const averagePool: Handler = (ctx, node, where, source) => {
  const input = windowInput(ctx, node, where);
  const { x, image, prePad } = input;
  const countPad = attrInt(node, "count_include_pad", 0) !== 0;
  const r = resolveWindow(node, where, input, pair(node, "kernel_shape", undefined, where), attrInt(node, "ceil_mode", 0) !== 0);
  const seen = [image.height + prePad[0] + prePad[2], image.width + prePad[1] + prePad[3]];
  const overhang = [0, 1].some((a) => overhangs(seen[a], r.kernel[a], r.stride[a], r.dilation[a], r.own[a], r.own[a + 2], r.out[a]));
  const padding = sum(prePad, r.own);
  let mode: "avg" | "avg_valid";
  if (!overhang && (countPad || isZero(r.own))) {
    mode = "avg"; // every cell of every window is input or counted zeros
  } else if (isZero(prePad) && (!countPad || isZero(r.own))) {
    mode = "avg_valid"; // own pads not counted, the overhang never: divide by the cells inside the input
  } else {
    const why = overhang
      ? `ceil_mode makes a window reach past the padded input, where ${countPad ? "count_include_pad" : "the Pad's zeros"} would make its divisor neither the kernel's area nor its cells inside`
      : `it averages over zeros from ${input.x.pad?.where} (counted) and its own pads [${r.own.join(", ")}] (not counted)`;
    throw new UnsupportedOpError(`${where}: ${why}; mlvm supports one or the other`);
  }
  const layer: Layer = { kind: "pool", mode, ...geometry(image, r, padding), source };
  pushWindow(ctx, node, where, x, layer, image.channels, r.out);
};

function geometry(image: ImageShape, r: Resolved, padding: Quad) {
  return {
    inShape: image,
    outShape: { channels: image.channels, height: r.out[0], width: r.out[1] },
    kernel: r.kernel,
    stride: r.stride,
    padding,
    dilation: r.dilation,
  };
}

/** A pooling over each channel's whole plane ([N, C, H, W] → [N, C, 1, 1], or [N, C] when `keep` is false). */
function globalPool(ctx: ImportContext, node: OnnxNode, where: string, source: string, mode: "avg" | "max", keep: boolean): void {
  const x = ctx.data(node, 0, where);
  const image = imageOf(x);
  if (!image) throw new UnsupportedOpError(`${where} needs an [N, C, H, W] image, batch first, but gets ${fmtShape(x.shape, x.batchAxis)}`);
  const layer: Layer = {
    kind: "pool",
    mode,
    inShape: image,
    outShape: { channels: image.channels, height: 1, width: 1 },
    kernel: [image.height, image.width],
    stride: [1, 1],
    padding: [0, 0, 0, 0],
    dilation: [1, 1],
    source,
  };
  const shape: Dim[] = keep ? [x.shape[0], image.channels, 1, 1] : [x.shape[0], image.channels];
  // over a 1×1 image it is the identity: a view, no layer
  if (image.height * image.width === 1) return ctx.set(node, 0, { ...x, shape, origin: where }, where);
  ctx.set(node, 0, ctx.push(layer, x, shape, x.batchAxis, where), where);
}

const globalAveragePool: Handler = (ctx, node, where, source) => globalPool(ctx, node, where, source, "avg", true);
const globalMaxPool: Handler = (ctx, node, where, source) => globalPool(ctx, node, where, source, "max", true);

/** ReduceMean over axes (2, 3) of an image is a global average pooling; other ReduceMeans only inside LayerNorm (patterns.ts). */
const reduceMean: Handler = (ctx, node, where, source) => {
  const x = ctx.data(node, 0, where);
  const given = node.input[1] ? ctx.ints(node, 1, where).values.map((a) => (a === null ? NaN : a)) : attrInts(node, "axes");
  const axes = given && imageOf(x) ? normalizeAxes(given, 4, where).sort((a, b) => a - b) : [];
  if (axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) {
    throw new UnsupportedOpError(
      `${where}: ReduceMean is only supported over the spatial axes [2, 3] of an [N, C, H, W] image (global average pooling) or as part of LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div), and this one is neither`,
    );
  }
  globalPool(ctx, node, where, source, "avg", attrInt(node, "keepdims", 1) !== 0);
};

// ---- Pad ----

/** Pad with zeros on H and W: no layer, the output is the image marked padded for the Conv/pooling that reads it. */
const pad: Handler = (ctx, node, where) => {
  const x = ctx.data(node, 0, where);
  const image = imageOf(x);
  if (!image) throw new UnsupportedOpError(`${where} pads a ${fmtShape(x.shape, x.batchAxis)} tensor; mlvm supports Pad only on [N, C, H, W] images before a Conv or pooling`);
  const mode = attrString(node, "mode", "constant");
  if (mode !== "constant") throw new UnsupportedOpError(`${where}: mode "${mode}" is not supported; mlvm pads with zeros (mode "constant")`);
  let pads: number[];
  let value = 0;
  if (ctx.opset < 11) {
    pads = attrInts(node, "pads") ?? [];
    value = attrFloat(node, "value", 0);
  } else {
    pads = ctx.ints(node, 1, where).values.map((v) => (v === null ? NaN : v));
    const c = ctx.optional(node, 2, where);
    if (c) {
      if (c.kind !== "float") throw new ModelFormatError(`${where}: the padding value must be a float constant, got ${c.origin}`);
      value = scalarOf(c, where, "the padding value");
    }
    const axesValue = ctx.optional(node, 3, where);
    if (axesValue) {
      if (axesValue.kind !== "ints") throw new ModelFormatError(`${where}: axes must be an integer constant`);
      const axes = normalizeAxes(axesValue.values.map((a) => (a === null ? NaN : a)), 4, where);
      const full = new Array<number>(8).fill(0);
      axes.forEach((a, i) => {
        full[a] = pads[i];
        full[a + 4] = pads[i + axes.length];
      });
      pads = full;
    }
  }
  if (value !== 0) throw new UnsupportedOpError(`${where} pads with ${value}; mlvm supports zero padding only`);
  if (pads.length !== 8 || pads.some((p) => !Number.isInteger(p))) throw new ModelFormatError(`${where}: pads [${pads.join(", ")}] must be 8 integers for an [N, C, H, W] image`);
  if (pads.some((p) => p < 0)) throw new UnsupportedOpError(`${where}: negative pads [${pads.join(", ")}] crop the image; mlvm does not support that`);
  if (pads[0] || pads[1] || pads[4] || pads[5]) throw new UnsupportedOpError(`${where}: pads [${pads.join(", ")}] pad the batch or channel axis; mlvm pads only H and W`);
  const quad: Quad = [pads[2], pads[3], pads[6], pads[7]];
  if (isZero(quad)) return ctx.set(node, 0, { ...x, origin: where }, where);
  const shape: Dim[] = [x.shape[0], image.channels, image.height + quad[0] + quad[2], image.width + quad[1] + quad[3]];
  ctx.set(node, 0, { ...x, shape, origin: where, pad: { pads: quad, where } }, where);
};

export const WINDOW_HANDLERS: Record<string, Handler> = {
  Conv: conv,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  ReduceMean: reduceMean,
  Pad: pad,
};

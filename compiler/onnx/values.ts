/**
 * What an ONNX tensor is at import time. A data tensor is computed from the graph input: it is the output of a
 * layer (or the input itself) seen through a shape, one of whose axes may be the batch. Everything mlvm computes
 * is one sample's feature vector: the data tensor's non-batch entries in row-major order. Constants are float
 * weights or integer shape tensors, known at import time.
 */
import { ModelFormatError } from "../graph.js";
import type { ImageShape } from "../graph.js";

/** A dimension: a number, or null for the symbolic batch size. */
export type Dim = number | null;

/** A tensor computed from the graph input. */
export interface DataValue {
  kind: "data";
  shape: Dim[];
  /** The batch axis in `shape`, or -1 when there is none (the batch is fixed at 1, or was squeezed away). */
  batchAxis: number;
  /** The layer whose output this is (an index into the layer list), or INPUT. */
  ref: number;
  /** The node that produced it ("graph input" for the input itself), for messages. */
  origin: string;
  /** Set when this is Softmax/LogSoftmax of another data tensor: nothing may consume it but a graph output. */
  head?: { fn: "softmax" | "log_softmax"; of: string; where: string };
  /**
   * Set when this is a Pad of an image (zeros around each channel's plane): `shape` is the padded shape, and
   * `ref` still names the unpadded layer. Only a Conv or a pooling may read it (they take the zeros as padding).
   */
  pad?: { pads: [number, number, number, number]; where: string };
}

/** A float constant (an initializer, a Constant node, or a transpose of one), decoded on first use. */
export interface FloatValue {
  kind: "float";
  dims: number[];
  origin: string;
  load(): Float64Array;
}

/** An integer tensor known at import time (shapes, axes, indices); it may hold the symbolic batch size. */
export interface IntsValue {
  kind: "ints";
  dims: number[];
  values: Dim[];
  origin: string;
}

export type Value = DataValue | FloatValue | IntsValue;

export function fmtShape(shape: readonly Dim[], batchAxis = -2): string {
  return `[${shape.map((d, i) => (d === null || i === batchAxis ? "batch" : d)).join(", ")}]`;
}

/**
 * The image a 4-D data tensor [batch, C, H, W] (or [1, C, H, W] with no batch) holds, per sample; undefined for
 * any other shape. For a Pad's output, the padded image.
 */
export function imageOf(x: DataValue): ImageShape | undefined {
  if (x.shape.length !== 4 || !(x.batchAxis === 0 || (x.batchAxis < 0 && x.shape[0] === 1))) return undefined;
  const [, channels, height, width] = x.shape as number[];
  return { channels, height, width };
}

/** The number of values one sample of `x` holds. */
export function features(x: DataValue): number {
  let n = 1;
  x.shape.forEach((d, i) => {
    if (i !== x.batchAxis) n *= d as number;
  });
  return n;
}

/** The non-batch axes of `x` whose size is not 1: the axes the feature vector actually runs along. */
function featureAxes(x: DataValue): number[] {
  return x.shape.flatMap((d, i) => (i !== x.batchAxis && d !== 1 ? [i] : []));
}

/**
 * Whether an operation over `axes` (normalized, e.g. Softmax's axis or LayerNorm's axes) acts on each sample's
 * whole feature vector: the axes include every non-batch axis of size > 1 and not the batch axis.
 */
export function coversFeatures(x: DataValue, axes: number[]): boolean {
  return !axes.includes(x.batchAxis) && featureAxes(x).every((a) => axes.includes(a));
}

/** Normalizes possibly negative axes against `rank`; throws naming `where` when one is out of range. */
export function normalizeAxes(axes: number[], rank: number, where: string): number[] {
  return axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!(n >= 0 && n < rank)) throw new ModelFormatError(`${where}: axis ${a} is out of range for a rank-${rank} tensor`);
    return n;
  });
}

/**
 * A constant of shape `dims` broadcast (numpy rules) against the data tensor `x`, as one value per feature.
 * Throws when the constant varies along the batch or would enlarge the data (x + c with c wider than x).
 * Returns also the result's shape (a constant of higher rank prepends axes of size 1) and batch axis.
 */
export function perFeature(
  dims: readonly number[],
  values: Float64Array,
  x: DataValue,
  where: string,
  what: string,
): { vector: Float64Array; shape: Dim[]; batchAxis: number } {
  const extra = Math.max(0, dims.length - x.shape.length);
  const shape: Dim[] = [...new Array<Dim>(extra).fill(1), ...x.shape];
  const batchAxis = x.batchAxis < 0 ? -1 : x.batchAxis + extra;
  const rank = shape.length;
  const cd = [...new Array<number>(rank - dims.length).fill(1), ...dims];
  const bad = (why: string) =>
    new ModelFormatError(`${where}: ${what} has shape ${fmtShape(dims)}, which ${why} the data ${fmtShape(x.shape, x.batchAxis)}`);
  for (let a = 0; a < extra; a++) if (cd[a] !== 1) throw bad("enlarges");
  const strides = new Array<number>(rank).fill(0);
  for (let a = rank - 1, s = 1; a >= 0; s *= cd[a], a--) strides[a] = cd[a] === 1 ? 0 : s;
  const axes: number[] = [];
  for (let a = 0; a < rank; a++) {
    if (a === batchAxis) {
      if (cd[a] !== 1) throw bad("varies along the batch of");
    } else if (cd[a] !== 1 && cd[a] !== shape[a]) {
      throw bad(shape[a] === 1 ? "enlarges" : "does not broadcast to");
    } else {
      axes.push(a);
    }
  }
  const n = axes.reduce((p, a) => p * (shape[a] as number), 1);
  const vector = new Float64Array(n);
  const index = new Array<number>(axes.length).fill(0);
  for (let k = 0; k < n; k++) {
    let offset = 0;
    for (let j = 0; j < axes.length; j++) offset += index[j] * strides[axes[j]];
    vector[k] = values[offset];
    for (let j = axes.length - 1; j >= 0; j--) {
      if (++index[j] < (shape[axes[j]] as number)) break;
      index[j] = 0;
    }
  }
  return { vector, shape, batchAxis };
}

/** The one value of a constant that must be a scalar (any shape holding one value). */
export function scalarOf(v: FloatValue, where: string, what: string): number {
  const values = v.load();
  if (values.length !== 1) throw new ModelFormatError(`${where}: ${what} ${v.origin} must be a single value, got shape ${fmtShape(v.dims)}`);
  return values[0];
}

/**
 * Conv and pool layers as the VM's windows (vm/window.ts): which Window an instruction gets, and the refusals, naming
 * the layer, of what the window operands cannot say. emit.ts lays out memory and writes the instructions around these.
 *
 * A convolution with G groups is G windows of C/G channels each (one IM2COL + MATMUL pair per group, compiler/emit.ts);
 * a pooling is one window over all its channels. A window's kernel sizes, strides, top/left padding and dilations are
 * 8-bit fields, its image and output sizes 16-bit, and a kernel row may span at most SEGMENT_WORDS words (IM2COL reads
 * at most 8 of its columns a step, a pooling all of them). Bottom and right padding need no field: the output size
 * implies them. A stride along an axis with a single output position is never used, so it is written as 1.
 *
 * A pooling whose window is the whole image (GlobalAveragePool, ONNX's global max, AdaptiveAvgPool2d(1)) is the same
 * sum, maximum and divisor over any row/column view of the plane, since the plane is H·W consecutive words: it is
 * emitted over R rows of Wv columns (Wv the largest divisor of H·W that is at most CHUNK_WORDS) whenever that has
 * fewer rows than the image (a pooling step reads one kernel row, so fewer steps) or the image's own rows break the
 * rules above (a 40×40 image: rows of 40 words span more than 33).
 */
import { CHUNK_WORDS } from "../vm/memory.js";
import { SEGMENT_WORDS, type Window, segmentSpan, stepColumns } from "../vm/window.js";
import { type ConvLayer, type PoolLayer, ModelFormatError } from "./graph.js";

/** A conv or pool layer whose window the VM's operands cannot describe (a field too wide, a kernel row too long). */
export class WindowLimitError extends ModelFormatError {}

const FIELD8 = 255;
const FIELD16 = 65535;

/** The window of each of a convolution's groups: its C/groups input channels over the whole image. */
export function convWindow(layer: ConvLayer, at: string): Window {
  const w = geometry(layer, layer.inShape.channels / layer.groups);
  checkWindow(w, at, stepColumns(w, true));
  return w;
}

/** A pooling's window over all its channels (a whole-image pooling possibly over a row/column view, see the header). */
export function poolWindow(layer: PoolLayer, at: string): Window {
  const w = geometry(layer, layer.inShape.channels);
  if (isGlobal(layer)) {
    const plane = w.height * w.width;
    let columns = 1;
    for (let d = 1; d <= Math.min(CHUNK_WORDS, plane); d++) if (plane % d === 0) columns = d;
    const rows = plane / columns;
    if (rows < w.height || windowProblem(w, w.kernelW) !== null) {
      const view = { ...w, height: rows, width: columns, kernelH: rows, kernelW: columns };
      if (windowProblem(view, columns) === null) return view;
    }
  }
  checkWindow(w, at, stepColumns(w, false));
  return w;
}

/** A pooling whose one output position's window is exactly the image: no padding, no dilation. */
function isGlobal(layer: PoolLayer): boolean {
  const { inShape, outShape } = layer;
  return (
    outShape.height === 1 && outShape.width === 1 && layer.kernel[0] === inShape.height && layer.kernel[1] === inShape.width &&
    layer.padding.every((p) => p === 0) && layer.dilation[0] === 1 && layer.dilation[1] === 1
  );
}

function geometry(layer: ConvLayer | PoolLayer, channels: number): Window {
  return {
    channels,
    height: layer.inShape.height,
    width: layer.inShape.width,
    outHeight: layer.outShape.height,
    outWidth: layer.outShape.width,
    kernelH: layer.kernel[0],
    kernelW: layer.kernel[1],
    strideH: layer.outShape.height === 1 ? 1 : layer.stride[0],
    strideW: layer.outShape.width === 1 ? 1 : layer.stride[1],
    padTop: layer.padding[0],
    padLeft: layer.padding[1],
    dilationH: layer.dilation[0],
    dilationW: layer.dilation[1],
  };
}

function checkWindow(w: Window, at: string, rowColumns: number): void {
  const problem = windowProblem(w, rowColumns);
  if (problem !== null) throw new WindowLimitError(`${at}: ${problem}`);
}

/** What the VM cannot do with this window, or null. rowColumns: the kernel columns one step reads. */
function windowProblem(w: Window, rowColumns: number): string | null {
  const fields: [string, number, number][] = [
    ["input height", w.height, FIELD16], ["input width", w.width, FIELD16],
    ["output height", w.outHeight, FIELD16], ["output width", w.outWidth, FIELD16],
    ["kernel height", w.kernelH, FIELD8], ["kernel width", w.kernelW, FIELD8],
    ["row stride", w.strideH, FIELD8], ["column stride", w.strideW, FIELD8],
    ["top padding", w.padTop, FIELD8], ["left padding", w.padLeft, FIELD8],
    ["row dilation", w.dilationH, FIELD8], ["column dilation", w.dilationW, FIELD8],
  ];
  for (const [what, v, max] of fields) if (v > max) return `${what} ${v} is more than the VM's window allows (${max})`;
  const span = segmentSpan(w, rowColumns);
  if (span > SEGMENT_WORDS) {
    return `a kernel row read spans ${span} words (${rowColumns} columns at dilation ${w.dilationW}), more than the VM's ${SEGMENT_WORDS}`;
  }
  return null;
}

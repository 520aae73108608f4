/**
 * Windows over images: the geometry of a convolution or a pooling, shared by IM2COL, MAXPOOL, AVGPOOL and
 * AVGPOOL_VALID (vm/step.ts). The Solidity (contracts/vm/Window.sol) and AssemblyScript twins have the same functions.
 *
 * Layout. An image of C channels, H rows and W columns is C·H·W words, channel-major then row-major (ONNX's and
 * PyTorch's NCHW without the batch): word (c, y, x) is at  base + c·H·W + y·W + x.  A layer's output is the next
 * layer's image, so a convolution's output and a flattened feature vector are the same words in the same order.
 *
 * A window is described by five u32 operands (after src and dst), each packing small fields big-endian:
 *   channels = C                                       (≥ 1)
 *   image    = H << 16 | W                             (each ≥ 1)
 *   out      = OH << 16 | OW                           (the output's rows and columns, each ≥ 1)
 *   kernel   = KH << 24 | KW << 16 | SH << 8 | SW      (kernel rows/columns and strides, each ≥ 1)
 *   pad      = PT << 24 | PL << 16 | DH << 8 | DW      (top and left padding ≥ 0, dilations ≥ 1)
 * Output position (oh, ow) with kernel offset (kh, kw) looks at image row and column
 *   ih = oh·SH − PT + kh·DH,      iw = ow·SW − PL + kw·DW
 * and a position with ih ∉ [0, H) or iw ∉ [0, W) is padding: it reads as 0 in a convolution (IM2COL) and is left
 * out of a pooling (MAXPOOL takes the largest of the positions inside, AVGPOOL_VALID divides by their number).
 * Bottom and right padding need no field: they are whatever OH, OW make the last windows reach past the image.
 *
 * Reads. For one kernel row kh, the positions kw of a window that lie inside the image form one interval
 * [lo, hi) (iw grows with kw), at word addresses a + t·DW for a = base + c·H·W + ih·W + iw(lo): a segment spanning
 * (hi − lo − 1)·DW + 1 words. The validator (vm/program.ts) bounds that span by SEGMENT_WORDS = 33, so a segment
 * lies in at most two 32-word chunks: a step reads the one or two chunks holding it, never more.
 */
import { BytecodeError } from "./errors.js";
import { CHUNK_WORDS, LEAF_WORDS } from "./memory.js";

/** The most words a segment of a window row may span: 33 words lie in at most two 32-word chunks. */
export const SEGMENT_WORDS = CHUNK_WORDS + 1;

export interface Window {
  channels: number;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
}

/** The window of an instruction whose operands 2 … 6 are channels, image, out, kernel, pad. */
export function decodeWindow(args: readonly number[]): Window {
  const [, , channels, image, out, kernel, pad] = args;
  return {
    channels,
    height: image >>> 16,
    width: image & 0xffff,
    outHeight: out >>> 16,
    outWidth: out & 0xffff,
    kernelH: kernel >>> 24,
    kernelW: (kernel >>> 16) & 0xff,
    strideH: (kernel >>> 8) & 0xff,
    strideW: kernel & 0xff,
    padTop: pad >>> 24,
    padLeft: (pad >>> 16) & 0xff,
    dilationH: (pad >>> 8) & 0xff,
    dilationW: pad & 0xff,
  };
}

/** The five operands channels, image, out, kernel, pad of a window (the compiler's side of decodeWindow). */
export function encodeWindow(w: Window): number[] {
  const fits = (v: number, bits: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new BytecodeError(`window ${what} = ${v} does not fit ${bits} bits`);
    return v;
  };
  return [
    fits(w.channels, 32, "channels"),
    (fits(w.height, 16, "height") * 65536 + fits(w.width, 16, "width")) >>> 0,
    (fits(w.outHeight, 16, "output height") * 65536 + fits(w.outWidth, 16, "output width")) >>> 0,
    ((fits(w.kernelH, 8, "kernel height") << 24) | (fits(w.kernelW, 8, "kernel width") << 16) | (fits(w.strideH, 8, "row stride") << 8) | fits(w.strideW, 8, "column stride")) >>> 0,
    ((fits(w.padTop, 8, "top padding") << 24) | (fits(w.padLeft, 8, "left padding") << 16) | (fits(w.dilationH, 8, "row dilation") << 8) | fits(w.dilationW, 8, "column dilation")) >>> 0,
  ];
}

/** The interval [lo, hi) of kernel columns in [kw0, kw1) whose positions lie inside the image, and the image row. */
export interface RowSpan {
  ih: number;
  lo: number;
  hi: number;
}

/**
 * Which of kernel row kh's columns kw0 … kw1−1 of output position (oh, ow) are inside the image (lo = hi when none
 * is: the whole row is padding). A loop, not a closed form, so that the three twins agree trivially; it runs at
 * most SEGMENT_WORDS times.
 */
export function windowRow(w: Window, oh: number, ow: number, kh: number, kw0: number, kw1: number): RowSpan {
  const ih = oh * w.strideH - w.padTop + kh * w.dilationH;
  let lo = kw1;
  let hi = kw1;
  if (ih >= 0 && ih < w.height) {
    for (let kw = kw0; kw < kw1; kw++) {
      const iw = ow * w.strideW - w.padLeft + kw * w.dilationW;
      if (iw >= 0 && iw < w.width) {
        if (lo === kw1) lo = kw;
        hi = kw + 1;
      }
    }
  }
  return { ih, lo, hi };
}

/** The word address of image position (c, ih, iw) of the image at `base`. */
export function imageAddress(w: Window, base: number, c: number, ih: number, iw: number): number {
  return base + (c * w.height + ih) * w.width + iw;
}

/** The image column of kernel column kw at output column ow. */
export function imageColumn(w: Window, ow: number, kw: number): number {
  return ow * w.strideW - w.padLeft + kw * w.dilationW;
}

/** The kernel columns one step reads: IM2COL at most a leaf's worth (8) of a kernel row, a pooling the whole row. */
export function stepColumns(w: Window, im2col: boolean): number {
  return im2col ? Math.min(w.kernelW, LEAF_WORDS) : w.kernelW;
}

/** The words a segment of `columns` kernel columns spans: (columns − 1)·DW + 1; a valid window keeps it ≤ SEGMENT_WORDS. */
export function segmentSpan(w: Window, columns: number): number {
  return (columns - 1) * w.dilationW + 1;
}

/** A patch's length: the words of one output position's window over every channel, C·KH·KW (IM2COL's K). */
export function patchWords(w: Window): number {
  return w.channels * w.kernelH * w.kernelW;
}

/** Output positions: OH·OW. */
export function outputPixels(w: Window): number {
  return w.outHeight * w.outWidth;
}

/**
 * IM2COL's steps per output position: a patch of K words, in the order (c, kh, kw), is filled one piece a step,
 * a piece being a run of words that is inside one kernel row and one 8-word leaf. Pieces start at 0 and at every
 * multiple of KW or of 8 below K:   1 + ⌊(K−1)/KW⌋ + ⌊(K−1)/8⌋ − ⌊(K−1)/lcm(KW, 8)⌋.
 */
export function im2colPieces(w: Window): number {
  const k = patchWords(w) - 1;
  const lcm = (w.kernelW * 8) / gcd(w.kernelW, 8);
  return 1 + Math.floor(k / w.kernelW) + Math.floor(k / 8) - Math.floor(k / lcm);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

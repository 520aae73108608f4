// Windows over images: the WASM twin of vm/window.ts (the geometry of IM2COL, MAXPOOL, AVGPOOL, AVGPOOL_VALID),
// function for function and in the same order. Layout CHW: word (c, y, x) of an image at base is
// base + c·H·W + y·W + x. Differences of form, not of meaning:
//   - decodeWindow fills this module's win* globals instead of returning a Window object (the kernel decodes the
//     current instruction's window once per step; nothing else holds one), and windowRow returns its RowSpan in
//     the row* globals;
//   - every field is an i32: the validator (vm/program.ts) keeps sizes below 2^16 and patches below 2^24 words,
//     and the kernel's addresses are i32 anyway (a wasm32 memory holds at most 2^30 words);
//   - encodeWindow is host-side only (the compiler's).

/** The most words a segment of a window row may span: 33 words lie in at most two 32-word chunks. */
export const SEGMENT_WORDS: i32 = 33;

export let winChannels: i32 = 0;
export let winHeight: i32 = 0;
export let winWidth: i32 = 0;
export let winOutHeight: i32 = 0;
export let winOutWidth: i32 = 0;
export let winKernelH: i32 = 0;
export let winKernelW: i32 = 0;
export let winStrideH: i32 = 0;
export let winStrideW: i32 = 0;
export let winPadTop: i32 = 0;
export let winPadLeft: i32 = 0;
export let winDilationH: i32 = 0;
export let winDilationW: i32 = 0;

/** The window of an instruction whose operands 2 … 6 are channels, image, out, kernel, pad (into the win* globals). */
export function decodeWindow(channels: i32, image: i32, out: i32, kernel: i32, pad: i32): void {
  winChannels = channels;
  winHeight = <i32>(<u32>image >> 16);
  winWidth = image & 0xffff;
  winOutHeight = <i32>(<u32>out >> 16);
  winOutWidth = out & 0xffff;
  winKernelH = <i32>(<u32>kernel >> 24);
  winKernelW = (kernel >> 16) & 0xff;
  winStrideH = (kernel >> 8) & 0xff;
  winStrideW = kernel & 0xff;
  winPadTop = <i32>(<u32>pad >> 24);
  winPadLeft = (pad >> 16) & 0xff;
  winDilationH = (pad >> 8) & 0xff;
  winDilationW = pad & 0xff;
}

/** windowRow's RowSpan: the image row, and the interval [lo, hi) of kernel columns inside the image. */
export let rowIh: i32 = 0;
export let rowLo: i32 = 0;
export let rowHi: i32 = 0;

/**
 * Which of kernel row kh's columns kw0 … kw1−1 of output position (oh, ow) are inside the image (lo = hi when none
 * is: the whole row is padding). The same loop as vm/window.ts; it runs at most SEGMENT_WORDS times.
 */
export function windowRow(oh: i32, ow: i32, kh: i32, kw0: i32, kw1: i32): void {
  const ih = oh * winStrideH - winPadTop + kh * winDilationH;
  let lo = kw1;
  let hi = kw1;
  if (ih >= 0 && ih < winHeight) {
    for (let kw = kw0; kw < kw1; kw++) {
      const iw = ow * winStrideW - winPadLeft + kw * winDilationW;
      if (iw >= 0 && iw < winWidth) {
        if (lo == kw1) lo = kw;
        hi = kw + 1;
      }
    }
  }
  rowIh = ih;
  rowLo = lo;
  rowHi = hi;
}

/** The word address of image position (c, ih, iw) of the image at `base`. */
export function imageAddress(base: i32, c: i32, ih: i32, iw: i32): i32 {
  return base + (c * winHeight + ih) * winWidth + iw;
}

/** The image column of kernel column kw at output column ow. */
export function imageColumn(ow: i32, kw: i32): i32 {
  return ow * winStrideW - winPadLeft + kw * winDilationW;
}

/** A patch's length: the words of one output position's window over every channel, C·KH·KW (IM2COL's K). */
export function patchWords(): i32 {
  return winChannels * winKernelH * winKernelW;
}

/** Output positions: OH·OW. */
export function outputPixels(): i32 {
  return winOutHeight * winOutWidth;
}

/**
 * IM2COL's steps per output position: 1 + ⌊(K−1)/KW⌋ + ⌊(K−1)/8⌋ − ⌊(K−1)/lcm(KW, 8)⌋ (vm/window.ts).
 */
export function im2colPieces(): i32 {
  const k = patchWords() - 1;
  const lcm = (winKernelW * 8) / gcd(winKernelW, 8);
  return 1 + k / winKernelW + k / 8 - k / lcm;
}

function gcd(a: i32, b: i32): i32 {
  return b == 0 ? a : gcd(b, a % b);
}

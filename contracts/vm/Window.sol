// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// A convolution's or a pooling's window geometry, unpacked from its five operands (vm/window.ts Window).
struct Window {
    uint256 channels;
    uint256 height;
    uint256 width;
    uint256 outHeight;
    uint256 outWidth;
    uint256 kernelH;
    uint256 kernelW;
    uint256 strideH;
    uint256 strideW;
    uint256 padTop;
    uint256 padLeft;
    uint256 dilationH;
    uint256 dilationW;
}

/// The kernel columns [lo, hi) of a window row that lie inside the image (lo = hi: the whole row is padding), and
/// the image row ih (negative or past the image when the row is padding).
struct RowSpan {
    int256 ih;
    uint256 lo;
    uint256 hi;
}

/// A windowed instruction has an output height or width, or a kernel height or width, of 0: validated programs never
/// do (vm/program.ts validateWindow), and the step would divide by it.
error WindowDimensionZero(uint256 outHeight, uint256 outWidth, uint256 kernelH, uint256 kernelW);

/// @title Windows over images.
/// @notice The Solidity twin of vm/window.ts (the specification, with the layout and the formulas): same functions,
/// same order. Images are CHW: word (c, y, x) at base + c·H·W + y·W + x. Output position (oh, ow) with kernel
/// offset (kh, kw) looks at ih = oh·SH − PT + kh·DH, iw = ow·SW − PL + kw·DW; outside the image is padding.
/// (SEGMENT_WORDS and encodeWindow are the validator's and the compiler's: no twin here.)
library WindowLib {
    /// The window of an instruction whose operands 2 … 6 are channels, image, out, kernel, pad (each a u32 packing
    /// big-endian fields: H << 16 | W, OH << 16 | OW, KH << 24 | KW << 16 | SH << 8 | SW, PT << 24 | PL << 16 | DH << 8 | DW).
    function decodeWindow(uint256[7] memory args) internal pure returns (Window memory w) {
        (uint256 image, uint256 out, uint256 kernel, uint256 pad) = (args[3], args[4], args[5], args[6]);
        w.channels = args[2];
        w.height = image >> 16;
        w.width = image & 0xffff;
        w.outHeight = out >> 16;
        w.outWidth = out & 0xffff;
        w.kernelH = kernel >> 24;
        w.kernelW = (kernel >> 16) & 0xff;
        w.strideH = (kernel >> 8) & 0xff;
        w.strideW = kernel & 0xff;
        w.padTop = pad >> 24;
        w.padLeft = (pad >> 16) & 0xff;
        w.dilationH = (pad >> 8) & 0xff;
        w.dilationW = pad & 0xff;
        if (w.outHeight == 0 || w.outWidth == 0 || w.kernelH == 0 || w.kernelW == 0) {
            revert WindowDimensionZero(w.outHeight, w.outWidth, w.kernelH, w.kernelW);
        }
    }

    /// Which of kernel row kh's columns kw0 … kw1−1 of output position (oh, ow) are inside the image. The same loop
    /// as vm/window.ts (at most SEGMENT_WORDS iterations in a valid program), its image column iw stepped by DW
    /// instead of recomputed, and unchecked: every operand is a u32 field or a column below 2^8, nothing can overflow.
    function windowRow(Window memory w, uint256 oh, uint256 ow, uint256 kh, uint256 kw0, uint256 kw1) internal pure returns (RowSpan memory span) {
        int256 ih = int256(oh * w.strideH + kh * w.dilationH) - int256(w.padTop);
        (uint256 lo, uint256 hi) = (kw1, kw1);
        if (ih >= 0 && ih < int256(w.height)) {
            int256 iw = imageColumn(w, ow, kw0);
            (int256 width, int256 dilation) = (int256(w.width), int256(w.dilationW));
            unchecked {
                for (uint256 kw = kw0; kw < kw1; ++kw) {
                    if (iw >= 0 && iw < width) {
                        if (lo == kw1) lo = kw;
                        hi = kw + 1;
                    }
                    iw += dilation;
                }
            }
        }
        span = RowSpan(ih, lo, hi);
    }

    /// The word address of image position (c, ih, iw) of the image at `base` (the position is inside the image).
    function imageAddress(Window memory w, uint256 base, uint256 c, uint256 ih, uint256 iw) internal pure returns (uint256) {
        return base + (c * w.height + ih) * w.width + iw;
    }

    /// The image column of kernel column kw at output column ow (negative on the left padding).
    function imageColumn(Window memory w, uint256 ow, uint256 kw) internal pure returns (int256) {
        return int256(ow * w.strideW + kw * w.dilationW) - int256(w.padLeft);
    }

    /// A patch's length: C·KH·KW (IM2COL's K).
    function patchWords(Window memory w) internal pure returns (uint256) {
        return w.channels * w.kernelH * w.kernelW;
    }

    /// Output positions: OH·OW.
    function outputPixels(Window memory w) internal pure returns (uint256) {
        return w.outHeight * w.outWidth;
    }
}

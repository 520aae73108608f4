// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The VM's number format and the only arithmetic it does on it.
/// @notice The Solidity twin of vm/fixed.ts: same functions, same order, same formulas. vm/fixed.ts is the
/// specification. Q16.16 words are int32; products are exact in int256; the accumulator is int64.
/// (quantize/dequantize are compile-time and off-chain only, so they have no twin here.)
library Fixed {
    int256 internal constant FRAC_BITS = 16;
    /// 1.0 in Q16.16: 2^16.
    int256 internal constant ONE = 65536;
    /// Half an ulp of the Q32.32 → Q16.16 rescale: 2^15, added before the shift to round to nearest.
    int256 private constant HALF = 1 << 15;

    /// Clamp a value to the int32 range.
    function sat32(int256 x) internal pure returns (int32) {
        if (x > type(int32).max) return type(int32).max;
        if (x < type(int32).min) return type(int32).min;
        return int32(x);
    }

    /// Clamp a value to the int64 range: the accumulator saturates instead of wrapping.
    function sat64(int256 x) internal pure returns (int64) {
        if (x > type(int64).max) return type(int64).max;
        if (x < type(int64).min) return type(int64).min;
        return int64(x);
    }

    /// The accumulator a row starts from: its Q16.16 bias widened to Q32.32, bias · 2^16 (exact: |·| < 2^47).
    function biasToAcc(int32 bias) internal pure returns (int64) {
        return int64(bias) * 65536;
    }

    /// The exact sum Σ_{t<n} w[t] · x[t] of the Q16.16 words of two 32-word chunks (4 leaves each), as a Q32.32
    /// integer. |sum| ≤ 32 · 2^62 = 2^67, far inside int256, so nothing here can overflow. Each leaf is loaded
    /// from calldata once and its 8 big-endian words are taken by shifts (Memory.wordAt, inlined).
    function dot(bytes32[] calldata w, bytes32[] calldata x, uint256 n) internal pure returns (int256 sum) {
        unchecked {
            for (uint256 leaf = 0; leaf * 8 < n; ++leaf) {
                uint256 wl = uint256(w[leaf]);
                uint256 xl = uint256(x[leaf]);
                uint256 end = n - leaf * 8 < 8 ? n - leaf * 8 : 8;
                for (uint256 t = 0; t < end; ++t) {
                    uint256 shift = 224 - 32 * t;
                    sum += int256(int32(uint32(wl >> shift))) * int256(int32(uint32(xl >> shift)));
                }
            }
        }
    }

    /// acc + sum, saturated to int64: the one place the accumulator changes during a row.
    function accumulate(int64 acc, int256 sum) internal pure returns (int64) {
        return sat64(int256(acc) + sum);
    }

    /// Q32.32 accumulator → Q16.16 word: round to nearest, ties away from zero, then saturate to int32.
    ///   rescale(a) = sign(a) · floor((|a| + 2^15) / 2^16), clamped to [-2^31, 2^31 - 1]
    function rescale(int64 acc) internal pure returns (int32) {
        int256 a = acc;
        int256 magnitude = ((a < 0 ? -a : a) + HALF) >> 16;
        return sat32(a < 0 ? -magnitude : magnitude);
    }
}

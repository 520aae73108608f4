// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The VM's number format and the only arithmetic it does on it.
/// @notice The Solidity twin of vm/fixed.ts: same functions, same order, same formulas. vm/fixed.ts is the
/// specification. Words are int32 in a per-tensor format (f fraction bits, f ∈ [0, MAX_FRAC]); products are exact
/// in int256; the accumulator is int64. (overflows32, formatName, formatLimit, quantize and dequantize are
/// off-chain only — saturation counts and messages — so they have no twin here.)
library Fixed {
    /// The format of the activation functions' fixed-point core and of Q16.16 parameters (alpha).
    int256 internal constant FRAC_BITS = 16;
    /// 1.0 in Q16.16: 2^16.
    int256 internal constant ONE = 65536;
    /// The most fraction bits a tensor format may have.
    int256 internal constant MAX_FRAC = 24;
    /// The largest DENSE shift: a bias widened by 2^shift stays inside int64.
    uint256 internal constant MAX_SHIFT = 31;

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

    /// The accumulator a row starts from: its bias (in the output format) widened by the row's shift,
    /// bias · 2^shift (|·| ≤ 2^62 for shift ≤ MAX_SHIFT; validated programs never exceed it).
    function biasToAcc(int32 bias, uint256 shift) internal pure returns (int64) {
        return int64(int256(bias) << shift);
    }

    /// The exact sum Σ_{t<n} w[t] · x[t] of the int32 words of two 32-word chunks (4 leaves each).
    /// |sum| ≤ 32 · 2^62 = 2^67, far inside int256, so nothing here can overflow. Each leaf is loaded
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

    /// v / 2^s rounded to nearest, ties away from zero, for s ≥ 0; v · 2^(−s) for s < 0 (exact); not saturated.
    ///   shiftRound(v, s) = sign(v) · floor((|v| + 2^(s−1)) / 2^s)        (s ≥ 1; s = 0 gives v)
    /// Every change of format in the VM is this one function followed by sat32. (Valid programs keep |v| < 2^120
    /// and |s| < 64, so int256 holds every intermediate.)
    function shiftRound(int256 v, int256 s) internal pure returns (int256) {
        if (s <= 0) return v << uint256(-s);
        uint256 k = uint256(s);
        int256 magnitude = ((v < 0 ? -v : v) + int256(1 << (k - 1))) >> k;
        return v < 0 ? -magnitude : magnitude;
    }

    /// v / d rounded to nearest, ties away from zero (the rule of shiftRound), for d ≥ 1: an average pooling's mean.
    ///   divRound(v, d) = sign(v) · floor((2·|v| + d) / (2·d))
    /// The mean of int32 words lies in the int32 range, and so does its rounding: the cast cannot lose bits when
    /// the accumulator holds such a sum (|v| ≤ d·2^31; |v| < 2^63 here, so 2·|v| + d cannot overflow).
    function divRound(int256 v, uint256 d) internal pure returns (int32) {
        int256 magnitude = ((v < 0 ? -v : v) * 2 + int256(d)) / (2 * int256(d));
        return int32(v < 0 ? -magnitude : magnitude);
    }

    /// A finished row's accumulator → its output word: shiftRound by the row's shift, saturated to int32.
    function rescale(int64 acc, uint256 shift) internal pure returns (int32) {
        return sat32(shiftRound(acc, int256(shift)));
    }

    /// A word in format `from` → the same number in format `to`, rounded (shiftRound) and saturated to int32.
    function convert(int32 x, uint256 from, uint256 to) internal pure returns (int32) {
        return sat32(shiftRound(x, int256(from) - int256(to)));
    }
}

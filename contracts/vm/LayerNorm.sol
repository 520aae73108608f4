// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Fixed} from "./Fixed.sol";

/// @title LayerNorm's arithmetic: y[t] = (x[t] − mean) / sqrt(var + eps) · gamma[t] + beta[t] over n words.
/// @notice The Solidity twin of vm/layernorm.ts, function for function and in the same order (vm/layernorm.ts is
/// the specification: the three passes, the packed scale m·2^40 + R, and the bounds that keep every value inside
/// int64 there). int256 holds every intermediate exactly, as bigint does there; shifts of signed values are
/// arithmetic, as bigint's.
library LayerNorm {
    /// The number of bits of a non-negative integer: 0 for 0, ⌊log2 v⌋ + 1 otherwise.
    function bitLength(int256 v) internal pure returns (int256 n) {
        for (int256 r = v; r > 0; r >>= 1) n++;
    }

    /// ⌊sqrt(v)⌋ for 0 ≤ v < 2^64, exactly (Newton's method from above).
    function isqrt(int256 v) internal pure returns (int256) {
        if (v < 2) return v;
        int256 x = int256(1) << uint256((bitLength(v) + 1) >> 1); // ≥ sqrt(v)
        int256 y = (x + v / x) >> 1;
        while (y < x) {
            x = y;
            y = (x + v / x) >> 1;
        }
        return x;
    }

    /// ⌊a / b⌋ for b > 0, rounding toward −∞ (Solidity's `/` truncates toward zero).
    function floorDiv(int256 a, int256 b) internal pure returns (int256) {
        int256 q = a / b;
        return a % b < 0 ? q - 1 : q;
    }

    /// mean = round half up of Σx / n = ⌊(2·Σx + n) / (2n)⌋.
    function layerMean(int256 sum, uint256 n) internal pure returns (int256) {
        return floorDiv(2 * sum + int256(n), 2 * int256(n));
    }

    /// The second pass's term for word x: d² >> (k + 2), d = x − mean, k = bitLength(n − 1).
    function squareTerm(int32 x, int32 mean, uint256 n) internal pure returns (int256) {
        int256 d = int256(x) - int256(mean);
        return (d * d) >> uint256(bitLength(int256(n) - 1) + 2);
    }

    /// R and m from V (the second pass's sum), packed as m·2^40 + R: the third pass's scale.
    function layerScale(int256 v, uint256 n, uint256 fin, uint256 eps) internal pure returns (int256) {
        int256 k = bitLength(int256(n) - 1);
        int256 epsQ = Fixed.shiftRound(int256(eps), 32 - 2 * int256(fin)); // eps (a Q0.32 u32) in the variance's units
        int256 w = v + (epsQ >> uint256(k + 2)) * int256(n);
        if (w == 0) return 0;
        int256 m = (62 - bitLength(w)) >> 1;
        int256 s = isqrt(m >= 0 ? w << uint256(2 * m) : w >> uint256(-2 * m)); // bigint's w << 2m, a right shift for m < 0
        int256 c = isqrt(int256(n) << uint256(60 - k));
        int256 r = (c << 30) / s; // both positive: truncation is the floor
        return (m << 40) | r;
    }

    /// y = z · gamma + beta for word x, with z from the packed scale; unsaturated, in fout.
    function layerNormValue(int32 x, int32 mean, int256 scale, int32 gamma, int32 beta, uint256 fout) internal pure returns (int256) {
        int256 m = scale >> 40;
        int256 r = scale & ((int256(1) << 40) - 1);
        int256 z16 = Fixed.shiftRound((int256(x) - int256(mean)) * r, 45 - m);
        return Fixed.shiftRound(z16 * int256(gamma), 32 - int256(fout)) + int256(beta);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Activations} from "./Activations.sol";
import {Fixed} from "./Fixed.sol";

/// @title What each unary elementwise instruction, and ADD, computes for one word.
/// @notice The Solidity twin of vm/elementwise.ts, function for function and in the same order (vm/elementwise.ts
/// is the specification, with the error of each function): x in format fin → the result in format fout, BEFORE
/// saturation (Step.sol clamps it to int32). int256 holds every intermediate exactly, as bigint does there.
/// Formats are u32 operands in [0, MAX_FRAC] (validated off-chain); signed parameters arrive as int32.
library Elementwise {
    int256 private constant Q26_ONE = 67108864; // 2^26
    /// GELU_TANH clamps its core argument to ±8·ONE: the tanh argument there is > 24.6, where tanh is 1.0 in Q16.16.
    int256 internal constant GELU_TANH_ARG_MAX = 524288;
    /// round(0.044715 · 2^24)
    int256 private constant GELU_CUBIC_Q24 = 750193;
    /// round(√(2/π) · 2^22)
    int256 private constant SQRT_2_OVER_PI_Q22 = 3346570;

    /// x in format fin → Q16.16 for a core function, saturated (the core is flat or linear beyond ±32768).
    function toCore(int32 x, uint256 fin) private pure returns (int32) {
        return Fixed.convert(x, fin, uint256(Fixed.FRAC_BITS));
    }

    /// x·y (exact) in format fxy → format fout.
    function product(int256 x, int256 y, int256 fxy, uint256 fout) private pure returns (int256) {
        return Fixed.shiftRound(x * y, fxy - int256(fout));
    }

    function reluValue(int32 x, uint256 fin, uint256 fout) internal pure returns (int256) {
        return Fixed.shiftRound(x > 0 ? int256(x) : int256(0), int256(fin) - int256(fout));
    }

    function sigmoidValue(int32 x, uint256 fin, uint256 fout) internal pure returns (int256) {
        return Fixed.shiftRound(Activations.sigmoid(toCore(x, fin)), Fixed.FRAC_BITS - int256(fout));
    }

    /// |x| < 2^−5: tanh(x) = x − x^3/3 + 2x^5/15 in Q.30, so a tiny input keeps its relative precision; larger |x|
    /// use the Q16.16 core. (fin < 5: only x = 0 is below 2^(fin−5), and both ways give 0.)
    function tanhValue(int32 x, uint256 fin, uint256 fout) internal pure returns (int256) {
        int256 small = fin >= 5 ? int256(1 << (fin - 5)) : int256(1);
        if (x < small && x > -small) {
            int256 x30 = int256(x) << uint256(30 - int256(fin));
            int256 x2 = Activations.sar(x30 * x30, 30); // x^2 in Q.30
            int256 x3 = Activations.sar(x2 * x30, 30);
            int256 x5 = Activations.sar(x3 * x2, 30);
            return Fixed.shiftRound(x30 - Activations.divFloor(x3, 3) + Activations.divFloor(2 * x5, 15), 30 - int256(fout));
        }
        return Fixed.shiftRound(Activations.tanh(toCore(x, fin)), Fixed.FRAC_BITS - int256(fout));
    }

    /// alpha: the negative slope, a Q16.16 int32.
    function leakyReluValue(int32 x, uint256 fin, uint256 fout, int32 alpha) internal pure returns (int256) {
        return x >= 0 ? Fixed.shiftRound(x, int256(fin) - int256(fout)) : product(x, alpha, int256(fin) + Fixed.FRAC_BITS, fout);
    }

    /// alpha: a Q16.16 int32. e^x − 1 = expNeg(−x) − 1 in Q.26, in [−2^26, 0].
    function eluValue(int32 x, uint256 fin, uint256 fout, int32 alpha) internal pure returns (int256) {
        if (x >= 0) return Fixed.shiftRound(x, int256(fin) - int256(fout));
        int256 em1 = Activations.expNeg(-int256(toCore(x, fin))) - Q26_ONE;
        return product(em1, alpha, 26 + Fixed.FRAC_BITS, fout);
    }

    /// ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|)), summed exactly in Q.26 and rounded once.
    function softplusValue(int32 x, uint256 fin, uint256 fout) internal pure returns (int256) {
        int256 ax = x < 0 ? -int256(x) : int256(x); // ≤ 2^31
        int256 l = Activations.log1p26(Activations.expNeg(Fixed.sat32(Fixed.shiftRound(ax, int256(fin) - Fixed.FRAC_BITS))));
        int256 positive = (x > 0 ? int256(x) : int256(0)) << uint256(26 - int256(fin)); // fin ≤ MAX_FRAC = 24 < 26
        return Fixed.shiftRound(positive + l, 26 - int256(fout));
    }

    /// lo, hi: int32 words in format fin, lo ≤ hi.
    function clipValue(int32 x, uint256 fin, uint256 fout, int32 lo, int32 hi) internal pure returns (int256) {
        int32 c = x < lo ? lo : x > hi ? hi : x;
        return Fixed.shiftRound(c, int256(fin) - int256(fout));
    }

    /// x·Φ(x), Φ in Q.26 from the saturated core input, x exact.
    function geluValue(int32 x, uint256 fin, uint256 fout) internal pure returns (int256) {
        return product(x, Activations.phi26(toCore(x, fin)), int256(fin) + 26, fout);
    }

    /// x/2·(1 + tanh(u)), u = √(2/π)·(c + 0.044715·c^3), c the core input clamped to ±8.
    function geluTanhValue(int32 x, uint256 fin, uint256 fout) internal pure returns (int256) {
        int256 x16 = toCore(x, fin);
        int256 c = x16 < -GELU_TANH_ARG_MAX ? -GELU_TANH_ARG_MAX : x16 > GELU_TANH_ARG_MAX ? GELU_TANH_ARG_MAX : x16; // |c| ≤ 2^19
        int256 c3 = Activations.sar(Activations.sar(c * c, 16) * c, 16); // c^3 in Q16.16
        int256 inner = c * 256 + Activations.sar(c3 * GELU_CUBIC_Q24, 16); // c + 0.044715·c^3 in Q.24
        int256 u = Activations.sar(inner * SQRT_2_OVER_PI_Q22 + 536870912, 30); // rounded (+2^29) to Q16.16; an int32
        return product(x, Fixed.ONE + Activations.tanh(int32(u)), int256(fin) + Fixed.FRAC_BITS + 1, fout); // (1 + tanh)/2
    }

    /// x·σ(x), σ in Q16.16 from the saturated core input, x exact.
    function siluValue(int32 x, uint256 fin, uint256 fout) internal pure returns (int256) {
        return product(x, Activations.sigmoid(toCore(x, fin)), int256(fin) + Fixed.FRAC_BITS, fout);
    }

    /// a (format fa) + b (format fb), summed exactly in format MAX_FRAC (|·| < 2^56) and rounded once to fout.
    function addValue(int32 a, int32 b, uint256 fa, uint256 fb, uint256 fout) internal pure returns (int256) {
        int256 sum = (int256(a) << uint256(Fixed.MAX_FRAC - int256(fa))) + (int256(b) << uint256(Fixed.MAX_FRAC - int256(fb)));
        return Fixed.shiftRound(sum, Fixed.MAX_FRAC - int256(fout));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Activation functions, integer-only.
/// @notice The Solidity twin of vm/activations.ts, function for function, with the same constants and formula
/// comments; int256 holds every intermediate (all below 2^53 in magnitude there). `sar` is Solidity's signed
/// `>>`, which rounds toward −∞ like the TypeScript floor division by 2^k.
library Activations {
    int256 private constant ONE = 65536; // 2^16: 1.0 in Q16.16
    int256 private constant Q26_ONE = 67108864; // 2^26: 1.0 in Q.26
    int256 private constant Q26_HALF = 33554432; // 2^25: 1/2 in Q.26

    /// round(log2(e) · 2^26)
    int256 internal constant LOG2E_Q26 = 96817625;
    /// 19 · ONE: expNeg clamps its argument here (its result is 0 from a = 1226505 ≈ 18.715 on).
    int256 internal constant EXP_ARG_MAX = 1245184;
    /// EXP_ARG_MAX / 2: tanh clamps |x| here so that 2·|x| ≤ EXP_ARG_MAX.
    int256 internal constant TANH_ARG_MAX = 622592;

    // P(g) ≈ 2^28 · 2^(−1/2 − g/2^26) for g ∈ [−2^25, 2^25), degree 6, Q.28 (scripts/fit-exp2.ts).
    int256 private constant EXP2_C0 = 189812532;
    int256 private constant EXP2_C1 = -131568025;
    int256 private constant EXP2_C2 = 45598002;
    int256 private constant EXP2_C3 = -10535218;
    int256 private constant EXP2_C4 = 1825616;
    int256 private constant EXP2_C5 = -254357;
    int256 private constant EXP2_C6 = 29379;

    /// floor(v / 2^k): an arithmetic shift right.
    function sar(int256 v, uint256 k) internal pure returns (int256) {
        return v >> k;
    }

    /// floor(a / b) for b > 0 (Solidity's `/` truncates toward zero, so negative a needs the correction).
    function divFloor(int256 a, int256 b) internal pure returns (int256) {
        int256 q = a / b;
        return (a % b != 0 && a < 0) ? q - 1 : q;
    }

    /// max(x, 0), exact.
    function relu(int32 x) internal pure returns (int32) {
        return x > 0 ? x : int32(0);
    }

    /// e^(−a/2^16) in Q.26 for an integer a ≥ 0, as 2^(−a·log2 e) = 2^(−n) · 2^(−f).
    function expNeg(int256 a) internal pure returns (int256) {
        int256 x = a < EXP_ARG_MAX ? a : EXP_ARG_MAX; // the result is 0 from well below the clamp
        int256 u = sar(x * LOG2E_Q26 + 32768, 16); // round(x·log2(e)) in Q.26
        int256 n = sar(u, 26); // integer part of the exponent, 0 … 27
        int256 g = u - n * Q26_ONE - Q26_HALF; // fraction − 1/2 in Q.26, in [−2^25, 2^25)
        // Horner in Q.28: p ≈ 2^28 · 2^(−1/2 − g/2^26); |p·g| < 2^52.23
        int256 p = EXP2_C6;
        p = EXP2_C5 + sar(p * g, 26);
        p = EXP2_C4 + sar(p * g, 26);
        p = EXP2_C3 + sar(p * g, 26);
        p = EXP2_C2 + sar(p * g, 26);
        p = EXP2_C1 + sar(p * g, 26);
        p = EXP2_C0 + sar(p * g, 26); // p ∈ [2^27, 2^28]
        return sar(p + int256(1 << uint256(n + 1)), uint256(n + 2)); // round half up of p / 2^(n+2)
    }

    /// 1 / (1 + e^(−x)) in Q16.16, in [0, ONE]; sigmoid(−x) = ONE − sigmoid(x) exactly.
    function sigmoid(int32 x) internal pure returns (int32) {
        int256 e = expNeg(x < 0 ? -int256(x) : int256(x)); // e^(−|x|) in Q.26
        int256 d = Q26_ONE + e; // 1 + e^(−|x|) in Q.26
        int256 s = divFloor(2 ** 43 + d, 2 * d); // round half up of 2^42 / d
        return int32(x < 0 ? ONE - s : s);
    }

    /// (1 − e^(−2x)) / (1 + e^(−2x)) in Q16.16, in [−ONE, ONE]; tanh(−x) = −tanh(x) exactly.
    function tanh(int32 x) internal pure returns (int32) {
        int256 ax = x < 0 ? -int256(x) : int256(x); // |x| ≤ 2^31
        int256 c = ax < TANH_ARG_MAX ? ax : TANH_ARG_MAX; // clamp first so that 2·c ≤ EXP_ARG_MAX
        int256 e = expNeg(2 * c); // e^(−2|x|) in Q.26
        int256 d = Q26_ONE + e; // 1 + e^(−2|x|) in Q.26
        int256 t = divFloor(2 * (Q26_ONE - e) * ONE + d, 2 * d); // round half up of (2^26 − e)·2^16 / d
        return int32(x < 0 ? -t : t);
    }

    /// ln(1 + e/2^26) in Q.26 for e ∈ [0, 2^26] (so the result is in [0, ln 2 · 2^26]): softplus's core.
    /// With z = u / (2 + u) ∈ [0, 1/3], ln(1 + u) = 2·atanh(z) = 2·(z + z^3/3 + … + z^13/13).
    function log1p26(int256 e) internal pure returns (int256) {
        int256 z = divFloor(e * Q26_ONE, 2 * Q26_ONE + e); // u/(2+u) in Q.26, in [0, 2^26/3]; e·2^26 ≤ 2^52
        int256 z2 = sar(z * z, 26); // z^2 in Q.26
        int256 term = z;
        int256 sum = z;
        for (int256 k = 3; k <= 13; k += 2) {
            term = sar(term * z2, 26); // z^k in Q.26
            sum += divFloor(term, k);
        }
        return 2 * sum;
    }

    /// 8 · ONE: Φ(8) is 1.0 in Q.26; phi26 clamps |x| here so that x^2 stays small.
    int256 internal constant PHI_ARG_MAX = 524288;
    // erf(z) ≈ 1 − (a1·t + … + a5·t^5)·e^(−z^2), t = 1/(1 + p·z): Abramowitz & Stegun 7.1.26, Q.26 coefficients.
    int256 private constant ERF_A1 = 17101324; // 0.254829592 · 2^26
    int256 private constant ERF_A2 = -19092253; // −0.284496736 · 2^26
    int256 private constant ERF_A3 = 95389461; // 1.421413741 · 2^26
    int256 private constant ERF_A4 = -97519382; // −1.453152027 · 2^26
    int256 private constant ERF_A5 = 71229713; // 1.061405429 · 2^26
    int256 private constant ERF_P_OVER_SQRT2 = 15545224; // 0.3275911 / √2 · 2^26

    /// Φ(x/2^16) = P(N(0,1) ≤ x/2^16) in Q.26, in [0, 2^26], for any int32 x: GELU's core.
    /// Φ(|x|) = 1 − erfc(|x|/√2)/2 with erfc from A&S 7.1.26; Φ(−x) = 1 − Φ(x) exactly.
    function phi26(int256 x) internal pure returns (int256) {
        int256 ax = x < 0 ? (-x < PHI_ARG_MAX ? -x : PHI_ARG_MAX) : x < PHI_ARG_MAX ? x : PHI_ARG_MAX; // |x| ≤ 2^19
        int256 q = ax * ax; // x² in Q.32, ≤ 2^38; x²/2 = q / 2^33
        int256 h = sar(q, 17); // x²/2 in Q16.16 (floor): expNeg's argument
        // e^(−x²/2) = e^(−h/2^16) · e^(−r), r = (q − h·2^17)/2^33 ∈ [0, 2^−16): the first-order term restores what
        // the Q16.16 argument drops
        int256 e0 = expNeg(h);
        int256 e = e0 - sar(e0 * (q - h * 131072), 33); // in Q.26
        int256 d = Q26_ONE + sar(ax * ERF_P_OVER_SQRT2, 16); // 1 + p·|x|/√2 in Q.26
        int256 t = divFloor(2 ** 52, d); // 1/(1 + p·z) in Q.26, in (0, 2^26]
        int256 p = ERF_A5; // Horner
        p = ERF_A4 + sar(p * t, 26);
        p = ERF_A3 + sar(p * t, 26);
        p = ERF_A2 + sar(p * t, 26);
        p = ERF_A1 + sar(p * t, 26);
        int256 poly = sar(p * t, 26); // Σ a_k t^k in Q.26, in [0, 2^26]
        int256 erfc = sar(poly * e, 26); // erfc(|x|/√2) in Q.26
        int256 phiAbs = Q26_ONE - sar(erfc + 1, 1); // 1 − erfc/2, rounded half up
        return x < 0 ? Q26_ONE - phiAbs : phiAbs;
    }
}

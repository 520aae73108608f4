// Activation functions of the VM, integer-only and deterministic, on Q16.16 values (int32, ONE = 2^16 = 1.0):
// the AssemblyScript twin of vm/activations.ts, function for function, in the same order, with the same constants
// and formula comments. vm/activations.ts is the specification; every function here must give the same bits for
// every input (interpreter/wasm/ops.test.ts checks it, exhaustively over a strided sweep of the int32 range).
//
// The TypeScript file keeps every intermediate an integer below 2^53 in a JS number; here every intermediate is
// an i64 (far inside its range: the bounds are stated next to each product), so the same formulas are exact.
//   - TypeScript sar(v, k) = floor(v / 2^k)   →  v >> k on i64 (an ARITHMETIC shift: rounds toward −∞);
//   - TypeScript divFloor(a, b), b > 0        →  a / b on i64, corrected by one when a < 0 leaves a remainder
//     (i64 `/` truncates toward zero); every call below has a > 0, where it is plain `/`;
//   - TypeScript 2 ** k                        →  1 << k on i64.
// Inputs are i32; sigmoid / tanh accept any int32 (|INT32_MIN| = 2^31 is formed in i64).
// SIGMOID_MAX_ABS_ERROR / TANH_MAX_ABS_ERROR of the TypeScript file are float bounds for its tests: not needed here.
// log1p26 and phi26 (softplus's and GELU's cores) are in Q.26 and return i64, like expNeg.

const ONE: i64 = 65536; // 2^16: 1.0 in Q16.16
const Q26_ONE: i64 = 67108864; // 2^26: 1.0 in Q.26
const Q26_HALF: i64 = 33554432; // 2^25: 1/2 in Q.26

/** round(log2(e) · 2^26) */
export const LOG2E_Q26: i64 = 96817625;
/**
 * 19 · ONE = 1245184. expNeg clamps its argument here: 2^26 · e^(−x) < 1/2 once x > 27·ln 2 ≈ 18.715, and the
 * formula below gives 0 from a = 1226505 (≈ 18.7150) on, so the clamp changes nothing but the range of a.
 */
export const EXP_ARG_MAX: i64 = 1245184;
/** EXP_ARG_MAX / 2 = 9.5 · ONE = 622592: tanh clamps |x| here so that 2·|x| ≤ EXP_ARG_MAX (tanh is ONE long before). */
export const TANH_ARG_MAX: i64 = 622592;

// P(g) ≈ 2^28 · 2^(−1/2 − g/2^26) for g ∈ [−2^25, 2^25) (i.e. 2^(−f) for the fraction f = 1/2 + g/2^26 ∈ [0, 1)),
// degree 6, Q.28 coefficients: Remez minimax fit of 2^(−y) on [0, 1] in powers of (y − 1/2), rounded to Q.28 and
// tuned on the integers by scripts/fit-exp2.ts. Integer max error of round(P / 4) vs 2^26 · 2^(−f): 0.81 Q.26
// ulp over all 2^26 values of f. Each is close to its Taylor value 2^(−1/2) · (−ln 2)^k / k! · 2^28:
const EXP2_C0: i64 = 189812532; // ≈ 2^(−1/2) · 2^28                = 189812531.2
const EXP2_C1: i64 = -131568025; // ≈ 2^(−1/2) · (−ln 2)   · 2^28     = −131568020.9
const EXP2_C2: i64 = 45598002; // ≈ 2^(−1/2) · (ln 2)^2/2 · 2^28     = 45598001.4
const EXP2_C3: i64 = -10535218; // ≈ 2^(−1/2) · (−ln 2)^3/6 · 2^28   = −10535375.4
const EXP2_C4: i64 = 1825616; // ≈ 2^(−1/2) · (ln 2)^4/24 · 2^28    = 1825641.4
const EXP2_C5: i64 = -254357; // ≈ 2^(−1/2) · (−ln 2)^5/120 · 2^28  = −253087.6
const EXP2_C6: i64 = 29379; // ≈ 2^(−1/2) · (ln 2)^6/720 · 2^28    = 29237.8

/** floor(v / 2^k), 0 ≤ k < 64: an arithmetic shift right (i64 `>>` rounds toward −∞, like the TypeScript floor). */
export function sar(v: i64, k: i64): i64 {
  return v >> k;
}

/** floor(a / b) for 0 < b, exactly: i64 `/` truncates toward zero, which is one too high when a < 0 leaves a remainder. */
export function divFloor(a: i64, b: i64): i64 {
  const q = a / b;
  return q * b > a ? q - 1 : q; // q·b > a only for a < 0 with a nonzero remainder; |q·b| ≤ |a|: no overflow
}

/** max(x, 0), exact. */
export function relu(x: i32): i32 {
  return x > 0 ? x : 0;
}

/**
 * e^(−a/2^16) in Q.26 (in [0, 2^26]) for an integer a ≥ 0, as 2^(−a·log2 e) = 2^(−n) · 2^(−f):
 * expNeg(0) = 2^26 exactly, non-increasing in a, 0 from a = 1226505 on; max error 1.11 Q.26 ulp.
 */
export function expNeg(a: i64): i64 {
  const x = a < EXP_ARG_MAX ? a : EXP_ARG_MAX; // the result is 0 from well below the clamp
  const u = sar(x * LOG2E_Q26 + 32768, 16); // round(x·log2(e)) in Q.26; x < 2^20.25, LOG2E_Q26 < 2^26.53 ⇒ < 2^46.8
  const n = sar(u, 26); // integer part of the exponent, 0 … 27
  const g = u - n * Q26_ONE - Q26_HALF; // fraction − 1/2 in Q.26, in [−2^25, 2^25)
  // Horner in Q.28: p ≈ 2^28 · 2^(−1/2 − g/2^26). Every p multiplied below has |p| < 2^27.23 (the largest partial
  // sum, measured over all g by scripts/fit-exp2.ts) and |g| ≤ 2^25 ⇒ |p·g| < 2^52.23.
  let p = EXP2_C6;
  p = EXP2_C5 + sar(p * g, 26);
  p = EXP2_C4 + sar(p * g, 26);
  p = EXP2_C3 + sar(p * g, 26);
  p = EXP2_C2 + sar(p * g, 26);
  p = EXP2_C1 + sar(p * g, 26);
  p = EXP2_C0 + sar(p * g, 26); // p ∈ [2^27, 2^28]
  return sar(p + ((<i64>1) << (n + 1)), n + 2); // round half up of p / 2^(n+2): Q.28 · 2^(−n) → Q.26; p + 2^28 < 2^30
}

/** 1 / (1 + e^(−x)) in Q16.16, in [0, ONE]; sigmoid(−x) = ONE − sigmoid(x) exactly, sigmoid(0) = ONE/2. */
export function sigmoid(x: i32): i32 {
  const e = expNeg(x < 0 ? -(<i64>x) : <i64>x); // e^(−|x|) in Q.26, in [0, 2^26]
  const d = Q26_ONE + e; // 1 + e^(−|x|) in Q.26, in [2^26, 2^27]
  // round half up of 2^42 / d = σ(|x|) in Q16.16, in [2^15, 2^16]: floor((2·2^42 + d) / (2·d)); 2^43 + d < 2^44
  const s = divFloor(((<i64>1) << 43) + d, 2 * d);
  return <i32>(x < 0 ? ONE - s : s); // σ(−|x|) = 1 − σ(|x|)
}

/** (1 − e^(−2x)) / (1 + e^(−2x)) in Q16.16, in [−ONE, ONE]; tanh(−x) = −tanh(x) exactly, tanh(0) = 0. */
export function tanh(x: i32): i32 {
  const ax = x < 0 ? -(<i64>x) : <i64>x; // |x| ≤ 2^31
  const c = ax < TANH_ARG_MAX ? ax : TANH_ARG_MAX; // clamp first so that 2·c ≤ EXP_ARG_MAX (expNeg is 0 there)
  const e = expNeg(2 * c); // e^(−2|x|) in Q.26, in [0, 2^26]
  const d = Q26_ONE + e; // 1 + e^(−2|x|) in Q.26, in [2^26, 2^27]
  // round half up of (2^26 − e)·2^16 / d = tanh(|x|) in Q16.16, in [0, 2^16]; 2·(2^26 − e)·2^16 + d ≤ 2^43 + 2^27
  const t = divFloor(2 * (Q26_ONE - e) * ONE + d, 2 * d);
  return <i32>(x < 0 ? -t : t); // tanh(−|x|) = −tanh(|x|)
}

/**
 * ln(1 + e/2^26) in Q.26 for e ∈ [0, 2^26] (so the result is in [0, ln 2 · 2^26]): softplus's core.
 * With z = u / (2 + u) ∈ [0, 1/3], ln(1 + u) = 2·atanh(z) = 2·(z + z^3/3 + z^5/5 + … + z^13/13 + …); the terms
 * kept end at z^13/13, the rest is < 2·(1/3)^15/15 < 1e-8, and each of the 7 truncations costs < 1 Q.26 ulp
 * (1.5e-8), doubled at the end: measured max error 2.13e-7 over every e (vm/activations.test.ts). Every divFloor
 * here has a ≥ 0.
 */
export function log1p26(e: i64): i64 {
  const z = divFloor(e * Q26_ONE, 2 * Q26_ONE + e); // u/(2+u) in Q.26, in [0, 2^26/3]; e·2^26 ≤ 2^52
  const z2 = sar(z * z, 26); // z^2 in Q.26; z·z < 2^52
  let term = z;
  let sum = z;
  for (let k: i64 = 3; k <= 13; k += 2) {
    term = sar(term * z2, 26); // z^k in Q.26; term, z2 < 2^25 ⇒ < 2^50
    sum += divFloor(term, k);
  }
  return 2 * sum;
}

/** 8 · ONE: Φ(8) = 1 − 6.2e-16, which is 1.0 in Q.26; phi26 clamps |x| here so that x^2 stays small. */
export const PHI_ARG_MAX: i64 = 524288;
// erf(z) ≈ 1 − (a1·t + a2·t^2 + a3·t^3 + a4·t^4 + a5·t^5)·e^(−z^2), t = 1/(1 + p·z), z ≥ 0: Abramowitz & Stegun 7.1.26,
// |error| ≤ 1.5e-7. Coefficients in Q.26 (round(a · 2^26)); P_OVER_SQRT2 = round(p / √2 · 2^26) since z = x/√2.
const ERF_A1: i64 = 17101324; // 0.254829592 · 2^26
const ERF_A2: i64 = -19092253; // −0.284496736 · 2^26
const ERF_A3: i64 = 95389461; // 1.421413741 · 2^26
const ERF_A4: i64 = -97519382; // −1.453152027 · 2^26
const ERF_A5: i64 = 71229713; // 1.061405429 · 2^26
const ERF_P_OVER_SQRT2: i64 = 15545224; // 0.3275911 / √2 · 2^26 = 15545223.98

/**
 * Φ(x/2^16) = P(N(0,1) ≤ x/2^16) in Q.26, in [0, 2^26], for any int32 x: GELU's core.
 * Φ(|x|) = 1 − erfc(|x|/√2)/2 with erfc from A&S 7.1.26; Φ(−x) = 1 − Φ(x) exactly. Error ≤ 7.5e-8 from the
 * formula plus a few Q.26 ulps of rounding: measured max 1.27e-7 over every x in [−2^20, 2^20] (vm/activations.test.ts).
 * |x| is formed in i64 (|INT32_MIN| = 2^31); the one divFloor has a = 2^52 > 0.
 */
export function phi26(x: i32): i64 {
  const wide = <i64>x;
  const ax = wide < 0 ? (-wide < PHI_ARG_MAX ? -wide : PHI_ARG_MAX) : wide < PHI_ARG_MAX ? wide : PHI_ARG_MAX; // |x| ≤ 8·ONE = 2^19
  const q = ax * ax; // x² in Q.32, ≤ 2^38; x²/2 = q / 2^33
  const h = sar(q, 17); // x²/2 in Q16.16 (floor): expNeg's argument
  // e^(−x²/2) = e^(−h/2^16) · e^(−r), r = (q − h·2^17)/2^33 ∈ [0, 2^−16): the first-order term e·r restores what
  // the Q16.16 argument drops (without it Φ would be off by up to 7.6e-6 near 0); r²/2 < 2^−33 is left out.
  const e0 = expNeg(h);
  const e = e0 - sar(e0 * (q - h * 131072), 33); // in Q.26; e0 ≤ 2^26, q − h·2^17 < 2^17 ⇒ < 2^43
  const d = Q26_ONE + sar(ax * ERF_P_OVER_SQRT2, 16); // 1 + p·|x|/√2 in Q.26; ax · 2^23.9 < 2^43
  const t = divFloor((<i64>1) << 52, d); // 1/(1 + p·z) in Q.26, in (0, 2^26]
  let p = ERF_A5; // Horner: every |p| < 2^27 and t ≤ 2^26 ⇒ |p·t| < 2^53
  p = ERF_A4 + sar(p * t, 26);
  p = ERF_A3 + sar(p * t, 26);
  p = ERF_A2 + sar(p * t, 26);
  p = ERF_A1 + sar(p * t, 26);
  const poly = sar(p * t, 26); // Σ a_k t^k in Q.26, in [0, 2^26]
  const erfc = sar(poly * e, 26); // erfc(|x|/√2) in Q.26; poly, e ≤ 2^26
  const phiAbs = Q26_ONE - sar(erfc + 1, 1); // 1 − erfc/2, rounded half up
  return x < 0 ? Q26_ONE - phiAbs : phiAbs;
}

// What each unary elementwise instruction computes for one word, and ADD's sum: the AssemblyScript twin of
// vm/elementwise.ts, function for function, in the same order, with the same constants. vm/elementwise.ts is the
// specification (its header gives each function's error); every function here must give the same bits for every
// input (interpreter/wasm/ops.test.ts checks it).
//
// Each function returns the unsaturated result in format fout as an i64, where TypeScript returns a bigint; the step
// (assembly/step.ts) clamps it to int32 and counts the clamp. Every bound below keeps the i64 arithmetic exact,
// with one exception that changes nothing: LEAKY_RELU's x·alpha (≤ 2^62) shifted LEFT by up to 8 bits (fin + 16 <
// fout) can leave i64, and shiftRound then returns INT64_MAX / INT64_MIN for it (assembly/fixed.ts), which
// saturates to the same int32 word and counts as the same one clamp.
import { divFloor, expNeg, log1p26, phi26, sar, sigmoid, tanh } from "./activations";
import { FRAC_BITS, MAX_FRAC, ONE, convert, sat32, shiftRound } from "./fixed";

// UnaryFunction (the TypeScript type of the value functions): the kernel dispatches on the opcode instead
// (applyUnary in assembly/step.ts), since AssemblyScript has no closures.

const Q26_ONE: i64 = 67108864; // 2^26
/** GELU_TANH clamps its core argument to ±8·ONE: the tanh argument there is > 24.6, where tanh is 1.0 in Q16.16. */
export const GELU_TANH_ARG_MAX: i64 = 524288;
/** round(0.044715 · 2^24) */
const GELU_CUBIC_Q24: i64 = 750193;
/** round(√(2/π) · 2^22) */
const SQRT_2_OVER_PI_Q22: i64 = 3346570;

/** x in format fin → Q16.16 for a core function, saturated (the core is flat or linear beyond ±32768). */
@inline function toCore(x: i32, fin: i32): i32 {
  return convert(x, fin, FRAC_BITS);
}

/** x·y (exact: both int32-range, |x·y| ≤ 2^62) in format fx + fy → format fout. */
@inline function product(x: i64, y: i64, fxy: i32, fout: i32): i64 {
  return shiftRound(x * y, fxy - fout);
}

export function reluValue(x: i32, fin: i32, fout: i32): i64 {
  return shiftRound(<i64>(x > 0 ? x : 0), fin - fout); // |x| < 2^31, a left shift ≤ 24: < 2^55
}

export function sigmoidValue(x: i32, fin: i32, fout: i32): i64 {
  return shiftRound(<i64>sigmoid(toCore(x, fin)), FRAC_BITS - fout);
}

/**
 * |x| < 2^−5: tanh(x) = x − x^3/3 + 2x^5/15 − …, in Q.30 (the next term, 17x^7/315, is < 2e-12), so a tiny input
 * (a 10^-4 activation in Q7.24) keeps its relative precision; the Q16.16 core's absolute 7.6e-6 would not.
 * Larger |x| use the core. |x| < 2^(fin−5) ⇒ x30 = x·2^(30−fin) < 2^25, x30² < 2^50. For fin < 5 the bound
 * 2^(fin−5) is below 1, so only x = 0 is small (TypeScript compares with the fraction itself).
 */
export function tanhValue(x: i32, fin: i32, fout: i32): i64 {
  const small = fin >= 5 ? x < (1 << (fin - 5)) && x > -(1 << (fin - 5)) : x == 0;
  if (small) {
    const x30 = <i64>x << (30 - fin);
    const x2 = sar(x30 * x30, 30); // x^2 in Q.30, < 2^20
    const x3 = sar(x2 * x30, 30); // < 2^15
    const x5 = sar(x3 * x2, 30);
    return shiftRound(x30 - divFloor(x3, 3) + divFloor(2 * x5, 15), 30 - fout);
  }
  return shiftRound(<i64>tanh(toCore(x, fin)), FRAC_BITS - fout);
}

/** alpha: the negative slope, a Q16.16 int32. */
export function leakyReluValue(x: i32, fin: i32, fout: i32, alpha: i32): i64 {
  return x >= 0 ? shiftRound(<i64>x, fin - fout) : product(<i64>x, <i64>alpha, fin + FRAC_BITS, fout);
}

/** alpha: a Q16.16 int32. e^x − 1 = expNeg(−x) − 1 in Q.26, in [−2^26, 0]; |em1·alpha| ≤ 2^57. */
export function eluValue(x: i32, fin: i32, fout: i32, alpha: i32): i64 {
  if (x >= 0) return shiftRound(<i64>x, fin - fout);
  const em1 = expNeg(-(<i64>toCore(x, fin))) - Q26_ONE; // toCore(x) ∈ [−2^31, 0]: negated in i64
  return product(em1, <i64>alpha, 26 + FRAC_BITS, fout);
}

/** ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|)), summed exactly in Q.26 and rounded once. */
export function softplusValue(x: i32, fin: i32, fout: i32): i64 {
  const ax = x < 0 ? -(<i64>x) : <i64>x; // ≤ 2^31; shifted left by ≤ 16 below: ≤ 2^47
  const l = log1p26(expNeg(<i64>sat32(shiftRound(ax, fin - FRAC_BITS))));
  const positive = <i64>(x > 0 ? x : 0) << (26 - fin); // fin ≤ MAX_FRAC = 24 < 26; < 2^31 · 2^26 = 2^57
  return shiftRound(positive + l, 26 - fout);
}

/** lo, hi: int32 words in format fin, lo ≤ hi. */
export function clipValue(x: i32, fin: i32, fout: i32, lo: i32, hi: i32): i64 {
  const c = x < lo ? lo : x > hi ? hi : x;
  return shiftRound(<i64>c, fin - fout);
}

/** x·Φ(x), Φ in Q.26 from the saturated core input, x exact; |x·Φ| ≤ 2^31 · 2^26 = 2^57. */
export function geluValue(x: i32, fin: i32, fout: i32): i64 {
  return product(<i64>x, phi26(toCore(x, fin)), fin + 26, fout);
}

/** x/2·(1 + tanh(u)), u = √(2/π)·(c + 0.044715·c^3), c the core input clamped to ±8. */
export function geluTanhValue(x: i32, fin: i32, fout: i32): i64 {
  const x16 = <i64>toCore(x, fin);
  const c = x16 < -GELU_TANH_ARG_MAX ? -GELU_TANH_ARG_MAX : x16 > GELU_TANH_ARG_MAX ? GELU_TANH_ARG_MAX : x16; // |c| ≤ 2^19
  const c3 = sar(sar(c * c, 16) * c, 16); // c^3 in Q16.16: c² ≤ 2^38, (c²/2^16)·|c| ≤ 2^41
  const inner = c * 256 + sar(c3 * GELU_CUBIC_Q24, 16); // c + 0.044715·c^3 in Q.24: |c3|·K < 2^45, |inner| < 2^30
  const u = sar(inner * SQRT_2_OVER_PI_Q22 + 536870912, 30); // rounded (+2^29) to Q16.16; |inner|·K < 2^51.7; |u| < 2^22 fits i32
  return product(<i64>x, <i64>(ONE + tanh(<i32>u)), fin + FRAC_BITS + 1, fout); // (1 + tanh)/2: one more fraction bit; ≤ 2^48
}

/** x·σ(x), σ in Q16.16 from the saturated core input, x exact; |x·σ| ≤ 2^47. */
export function siluValue(x: i32, fin: i32, fout: i32): i64 {
  return product(<i64>x, <i64>sigmoid(toCore(x, fin)), fin + FRAC_BITS, fout);
}

/** a (format fa) + b (format fb), summed exactly in format MAX_FRAC (|·| < 2^56) and rounded once to fout. */
export function addValue(a: i32, b: i32, fa: i32, fb: i32, fout: i32): i64 {
  return shiftRound((<i64>a << (MAX_FRAC - fa)) + (<i64>b << (MAX_FRAC - fb)), MAX_FRAC - fout);
}

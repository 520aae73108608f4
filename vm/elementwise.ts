/**
 * What each unary elementwise instruction computes for one word: x in format fin (vm/fixed.ts) → the result in
 * format fout, BEFORE saturation (the executor in vm/step.ts clamps it to int32 and counts the clamp). The Solidity
 * (contracts/vm/Elementwise.sol) and AssemblyScript (interpreter/wasm/assembly/elementwise.ts) twins have the same
 * functions in the same order.
 *
 * Every function rounds once, at the end (shiftRound to fout), from an exact integer product, so its error is its
 * core's error (vm/activations.ts) times the slope that multiplies it, plus half an ulp of fout:
 *   RELU, LEAKY_RELU (alpha exact in Q16.16), CLIP           exact up to that half ulp
 *   SIGMOID, TANH                                            7.65e-6 (the Q16.16 core); TANH below 2^−5: 3e-9
 *                                                            (a series in Q.30), so tiny values keep their precision
 *   ELU                                                      |alpha| · 1.7e-8 (expNeg, Q.26)
 *   SOFTPLUS                                                 2.4e-7 (log1p26 + expNeg)
 *   GELU (x·Φ(x), Φ in Q.26)                                 |x|·1.3e-7 for |x| < 8 (≤ 1.1e-6), exact beyond
 *   GELU_TANH (tanh's Q16.16 core, its argument rounded to it) |x|·8.5e-6 for |x| < 8 (≤ 6.8e-5), exact beyond
 *   SILU (x·σ(x), σ in Q16.16)                               |x| · 7.65e-6 (< 4e-5 where σ is not 0 or 1 exactly)
 * The core functions take Q16.16; an input outside ±32768 is clamped only for the core (the functions are flat or
 * exactly linear there), never for the factor x, so large inputs keep their value where the function is linear.
 * When fin > 16 the core sees x rounded to Q16.16 (2^−17 off at most), which adds up to (the core's slope) · 2^−17
 * · (|x| for the x·core(x) functions): 3e-6·|x| for GELU, 1.9e-6·|x| for SiLU, 7.6e-6 for tanh. Measured in
 * vm/elementwise.test.ts.
 */
import { divFloor, expNeg, log1p26, phi26, sar, sigmoid, tanh } from "./activations.js";
import { FRAC_BITS, MAX_FRAC, ONE, convert, sat32, shiftRound } from "./fixed.js";

/** (word, fin, fout, first parameter, second parameter) → the unsaturated result in fout. */
export type UnaryFunction = (x: number, fin: number, fout: number, p0: number, p1: number) => bigint;

const Q26_ONE = 67108864; // 2^26
/** GELU_TANH clamps its core argument to ±8·ONE: the tanh argument there is > 24.6, where tanh is 1.0 in Q16.16. */
export const GELU_TANH_ARG_MAX = 524288;
/** round(0.044715 · 2^24) */
const GELU_CUBIC_Q24 = 750193;
/** round(√(2/π) · 2^22) */
const SQRT_2_OVER_PI_Q22 = 3346570;

/** x in format fin → Q16.16 for a core function, saturated (the core is flat or linear beyond ±32768). */
function toCore(x: number, fin: number): number {
  return convert(x, fin, FRAC_BITS);
}

/** x·y (exact) in format fx + fy → format fout. */
function product(x: number, y: number, fxy: number, fout: number): bigint {
  return shiftRound(BigInt(x) * BigInt(y), fxy - fout);
}

export function reluValue(x: number, fin: number, fout: number): bigint {
  return shiftRound(BigInt(x > 0 ? x : 0), fin - fout);
}

export function sigmoidValue(x: number, fin: number, fout: number): bigint {
  return shiftRound(BigInt(sigmoid(toCore(x, fin))), FRAC_BITS - fout);
}

/**
 * |x| < 2^−5: tanh(x) = x − x^3/3 + 2x^5/15 − …, in Q.30 (the next term, 17x^7/315, is < 2e-12), so a tiny input
 * (a 10^-4 activation in Q7.24) keeps its relative precision; the Q16.16 core's absolute 7.6e-6 would not.
 * Larger |x| use the core. |x| < 2^(fin−5) ⇒ x30 = x·2^(30−fin) < 2^25, x30² < 2^50.
 */
export function tanhValue(x: number, fin: number, fout: number): bigint {
  const small = 2 ** (fin - 5);
  if (x < small && x > -small) {
    const x30 = x * 2 ** (30 - fin);
    const x2 = sar(x30 * x30, 30); // x^2 in Q.30, < 2^20
    const x3 = sar(x2 * x30, 30); // < 2^15
    const x5 = sar(x3 * x2, 30);
    return shiftRound(BigInt(x30 - divFloor(x3, 3) + divFloor(2 * x5, 15)), 30 - fout);
  }
  return shiftRound(BigInt(tanh(toCore(x, fin))), FRAC_BITS - fout);
}

/** alpha: the negative slope, a Q16.16 int32. */
export function leakyReluValue(x: number, fin: number, fout: number, alpha: number): bigint {
  return x >= 0 ? shiftRound(BigInt(x), fin - fout) : product(x, alpha, fin + FRAC_BITS, fout);
}

/** alpha: a Q16.16 int32. e^x − 1 = expNeg(−x) − 1 in Q.26, in [−2^26, 0]. */
export function eluValue(x: number, fin: number, fout: number, alpha: number): bigint {
  if (x >= 0) return shiftRound(BigInt(x), fin - fout);
  const em1 = expNeg(-toCore(x, fin)) - Q26_ONE;
  return product(em1, alpha, 26 + FRAC_BITS, fout);
}

/** ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|)), summed exactly in Q.26 and rounded once. */
export function softplusValue(x: number, fin: number, fout: number): bigint {
  const ax = x < 0 ? -x : x; // ≤ 2^31
  const l = log1p26(expNeg(sat32(shiftRound(BigInt(ax), fin - FRAC_BITS))));
  const positive = BigInt(x > 0 ? x : 0) << BigInt(26 - fin); // fin ≤ MAX_FRAC = 24 < 26
  return shiftRound(positive + BigInt(l), 26 - fout);
}

/** lo, hi: int32 words in format fin, lo ≤ hi. */
export function clipValue(x: number, fin: number, fout: number, lo: number, hi: number): bigint {
  const c = x < lo ? lo : x > hi ? hi : x;
  return shiftRound(BigInt(c), fin - fout);
}

/** x·Φ(x), Φ in Q.26 from the saturated core input, x exact. */
export function geluValue(x: number, fin: number, fout: number): bigint {
  return product(x, phi26(toCore(x, fin)), fin + 26, fout);
}

/** x/2·(1 + tanh(u)), u = √(2/π)·(c + 0.044715·c^3), c the core input clamped to ±8. */
export function geluTanhValue(x: number, fin: number, fout: number): bigint {
  const x16 = toCore(x, fin);
  const c = x16 < -GELU_TANH_ARG_MAX ? -GELU_TANH_ARG_MAX : x16 > GELU_TANH_ARG_MAX ? GELU_TANH_ARG_MAX : x16; // |c| ≤ 2^19
  const c3 = sar(sar(c * c, 16) * c, 16); // c^3 in Q16.16: c² ≤ 2^38, (c²/2^16)·|c| ≤ 2^41
  const inner = c * 256 + sar(c3 * GELU_CUBIC_Q24, 16); // c + 0.044715·c^3 in Q.24: |c3|·K < 2^45, |inner| < 2^30
  const u = sar(inner * SQRT_2_OVER_PI_Q22 + 536870912, 30); // rounded (+2^29) to Q16.16; |inner|·K < 2^51.7
  return product(x, ONE + tanh(u), fin + FRAC_BITS + 1, fout); // (1 + tanh)/2: one more fraction bit
}

/** x·σ(x), σ in Q16.16 from the saturated core input, x exact. */
export function siluValue(x: number, fin: number, fout: number): bigint {
  return product(x, sigmoid(toCore(x, fin)), fin + FRAC_BITS, fout);
}

/** a (format fa) + b (format fb), summed exactly in format MAX_FRAC (|·| < 2^56) and rounded once to fout. */
export function addValue(a: number, b: number, fa: number, fb: number, fout: number): bigint {
  return shiftRound((BigInt(a) << BigInt(MAX_FRAC - fa)) + (BigInt(b) << BigInt(MAX_FRAC - fb)), MAX_FRAC - fout);
}

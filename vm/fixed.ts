/**
 * The VM's number format and the only arithmetic it does on it. Every rule here has its Solidity twin in
 * contracts/ (same names, same order) and its AssemblyScript twin in the WASM kernel.
 *
 * Format: signed fixed point in an int32 word, with a number of fraction bits f that the compiler chooses per
 * tensor (a "format", written Q(31−f).f below, the sign not counted: the Q16.16 of comments elsewhere, 16
 * fraction bits, is Q15.16; f ∈ [0, MAX_FRAC]). A word q in format f stands for q / 2^f, so
 * the range is [−2^(31−f), 2^(31−f) − 2^−f] with a resolution (1 ulp) of 2^−f:
 *     f = 16 (Q15.16): ±32768, ulp 1.53e-5       f = 24 (Q7.24): ±128, ulp 5.96e-8
 *     f =  8 (Q23.8):  ±8.4e6, ulp 3.9e-3        f =  0 (Q31.0): ±2.1e9, ulp 1
 * Instructions carry the formats of what they read and write as operands (fin, fout, fa, fb) and the compiler
 * picks them from the model's weights and calibration inputs (compiler/formats.ts), so a model whose values
 * reach 10^5 or 10^-4 keeps its precision. A value that still falls outside its format's range is clamped to
 * the nearest end (saturation): that is the VM's defined result, the same on every path, and the interpreters
 * count every clamp so that a run can say where it happened (see interpreter/run.ts).
 *
 * A dense layer multiplies two int32 words (input in format fx, weights in fw) into an exact 64-bit product in
 * format fx + fw, adds products into a 64-bit accumulator, and only when the row is done rounds the
 * accumulator to the output format fy by a right shift of `shift` = fx + fw − fy bits. So a whole row loses at
 * most half an ulp to rounding, whatever its length. Its bias is stored in format fy and widened by the same shift.
 */
import { FixedPointRangeError } from "./errors.js";

/** The format of the activation functions' fixed-point core (vm/activations.ts) and of Q16.16 parameters (alpha). */
export const FRAC_BITS = 16;
/** 1.0 in Q16.16: 2^16. */
export const ONE = 65536;
/** The most fraction bits a tensor format may have: 24 leaves 7 integer bits (±128) at an ulp of 6e-8. */
export const MAX_FRAC = 24;
/** The largest DENSE shift: a bias b (|b| ≤ 2^31) widened by 2^shift stays inside int64 (2^62 < 2^63). */
export const MAX_SHIFT = 31;

export const INT32_MIN = -2147483648; // -2^31
export const INT32_MAX = 2147483647; //  2^31 - 1
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** Clamp a value to the int32 range. */
export function sat32(x: bigint): number {
  if (x > 2147483647n) return INT32_MAX;
  if (x < -2147483648n) return INT32_MIN;
  return Number(x);
}

/** Clamp a value to the int64 range: the accumulator saturates instead of wrapping. */
export function sat64(x: bigint): bigint {
  if (x > INT64_MAX) return INT64_MAX;
  if (x < INT64_MIN) return INT64_MIN;
  return x;
}

/** The accumulator a row starts from: its bias (in the output format) widened by the row's shift, bias · 2^shift (|·| ≤ 2^62). */
export function biasToAcc(bias: number, shift: number): bigint {
  return BigInt(bias) << BigInt(shift);
}

/**
 * The exact sum Σ_{t<n} w[wOff+t] · x[xOff+t] of Q16.16 words, as a Q32.32 integer.
 *
 * No intermediate rounds or wraps: the result is the mathematical sum. A chunk has at most CHUNK_WORDS = 32
 * terms, so |sum| ≤ 32 · 2^62 = 2^67 (it fits Solidity's int256 with room to spare).
 *
 * Why plain numbers are exact here: split x = xh·2^16 + xl with xl ∈ [0, 2^16) and xh ∈ [-2^15, 2^15).
 * Then |w·xh| ≤ 2^46 and |w·xl| < 2^47, so 32 of each sum to less than 2^52 < 2^53, the limit below which
 * float64 represents every integer. Only the final recombination hi·2^16 + lo needs BigInt.
 */
export function dot(w: Int32Array, wOff: number, x: Int32Array, xOff: number, n: number): bigint {
  let hi = 0;
  let lo = 0;
  for (let t = 0; t < n; t++) {
    const xv = x[xOff + t];
    const xl = xv & 0xffff;
    const wv = w[wOff + t];
    hi += wv * ((xv - xl) / 65536);
    lo += wv * xl;
  }
  return BigInt(hi) * 65536n + BigInt(lo);
}

/** acc + sum, saturated to int64: the one place the accumulator changes during a row. */
export function accumulate(acc: bigint, sum: bigint): bigint {
  return sat64(acc + sum);
}

/**
 * v / 2^s rounded to nearest, ties away from zero, for s ≥ 0; v · 2^(−s) for s < 0 (exact); not saturated.
 *   shiftRound(v, s) = sign(v) · floor((|v| + 2^(s−1)) / 2^s)        (s ≥ 1; s = 0 gives v)
 * Ties away from zero make rounding symmetric: shiftRound(−v, s) = −shiftRound(v, s).
 * Every change of format in the VM is this one function followed by sat32.
 */
export function shiftRound(v: bigint, s: number): bigint {
  if (s <= 0) return v << BigInt(-s);
  const magnitude = ((v < 0n ? -v : v) + (1n << BigInt(s - 1))) >> BigInt(s);
  return v < 0n ? -magnitude : magnitude;
}

/**
 * v / d rounded to nearest, ties away from zero (the rule of shiftRound), for d ≥ 1: an average pooling's mean.
 *   divRound(v, d) = sign(v) · floor((2·|v| + d) / (2·d))
 * The mean of int32 words lies in the int32 range, and so does its rounding: no saturation is possible.
 */
export function divRound(v: bigint, d: number): number {
  const magnitude = ((v < 0n ? -v : v) * 2n + BigInt(d)) / (2n * BigInt(d));
  return Number(v < 0n ? -magnitude : magnitude);
}

/** A finished row's accumulator → its output word: shiftRound by the row's shift, saturated to int32. */
export function rescale(acc: bigint, shift: number): number {
  return sat32(shiftRound(acc, shift));
}

/** A word in format `from` → the same number in format `to`, rounded (shiftRound) and saturated to int32. */
export function convert(x: number, from: number, to: number): number {
  return sat32(shiftRound(BigInt(x), from - to));
}

/** Does v lie outside int32 (so that sat32 clamps it)? How the interpreters count saturation. */
export function overflows32(v: bigint): boolean {
  return v > 2147483647n || v < -2147483648n;
}

/** "Q15.16": how messages name format f. */
export function formatName(frac: number): string {
  return `Q${31 - frac}.${frac}`;
}

/** The largest magnitude format f represents (2^(31−f)), for messages. */
export function formatLimit(frac: number): number {
  return 2 ** (31 - frac);
}

/**
 * A real number → a word in format `frac` (default 16), with the same rounding rule as shiftRound (nearest,
 * ties away from zero). Used by the compiler (weights) and by the off-chain input encoder, never inside a step.
 * `what` names the value in the error when it is NaN, infinite or outside the format's range.
 */
export function quantize(value: number, what = "value", frac = FRAC_BITS): number {
  if (!Number.isFinite(value)) throw new FixedPointRangeError(`${what} is ${value}, which has no fixed-point representation`);
  const scaled = Math.abs(value) * 2 ** frac; // exact: a power-of-two scaling
  const floor = Math.floor(scaled);
  const rounded = scaled - floor >= 0.5 ? floor + 1 : floor; // scaled - floor is exact, unlike Math.round(scaled)
  const q = value < 0 ? -rounded : rounded;
  if (q < INT32_MIN || q > INT32_MAX) {
    throw new FixedPointRangeError(`${what} is ${value}, outside the ${formatName(frac)} range ±${formatLimit(frac)}`);
  }
  return q;
}

/** A word in format `frac` (default 16) → the real number it stands for. */
export function dequantize(q: number, frac = FRAC_BITS): number {
  return q / 2 ** frac;
}

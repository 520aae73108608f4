/**
 * The VM's number format and the only arithmetic it does on it. Every rule here has its Solidity twin in
 * contracts/ (same names, same order) and its AssemblyScript twin in the WASM kernel.
 *
 * Format: Q16.16 signed fixed point in an int32 word. A word q stands for q / 2^16, so the representable
 * range is [-32768, 32768 - 2^-16] with a resolution (1 ulp) of 2^-16 ≈ 1.53e-5.
 *
 * A dense layer multiplies two Q16.16 words into a Q32.32 product (exact in 64 bits: |w·x| ≤ 2^62) and adds
 * products into a 64-bit Q32.32 accumulator. Only when the row is done is the accumulator rounded back to
 * Q16.16. So a whole row loses at most half an ulp to rounding, whatever its length.
 */
import { FixedPointRangeError } from "./errors.js";

export const FRAC_BITS = 16;
/** 1.0 in Q16.16: 2^16. */
export const ONE = 65536;
/** Half an ulp of the Q32.32 → Q16.16 rescale: 2^15, added before the shift to round to nearest. */
const HALF = 1n << 15n;

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

/** The accumulator a row starts from: its Q16.16 bias widened to Q32.32, bias · 2^16 (exact: |·| < 2^47). */
export function biasToAcc(bias: number): bigint {
  return BigInt(bias) << 16n;
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
 * Q32.32 accumulator → Q16.16 word: round to nearest, ties away from zero, then saturate to int32.
 *   rescale(a) = sign(a) · floor((|a| + 2^15) / 2^16), clamped to [-2^31, 2^31 - 1]
 * Ties away from zero make rounding symmetric: rescale(-a) = -rescale(a) wherever neither side saturates.
 */
export function rescale(acc: bigint): number {
  const magnitude = ((acc < 0n ? -acc : acc) + HALF) >> 16n;
  return sat32(acc < 0n ? -magnitude : magnitude);
}

/**
 * A real number → Q16.16, with the same rounding rule as rescale (nearest, ties away from zero).
 * Used by the compiler (weights) and by the off-chain input encoder, never inside a step.
 * `what` names the value in the error when it is NaN, infinite or outside [-32768, 32768).
 */
export function quantize(value: number, what = "value"): number {
  if (!Number.isFinite(value)) throw new FixedPointRangeError(`${what} is ${value}, which has no fixed-point representation`);
  const scaled = Math.abs(value) * ONE; // exact: a power-of-two scaling
  const floor = Math.floor(scaled);
  const rounded = scaled - floor >= 0.5 ? floor + 1 : floor; // scaled - floor is exact, unlike Math.round(scaled)
  const q = value < 0 ? -rounded : rounded;
  if (q < INT32_MIN || q > INT32_MAX) {
    throw new FixedPointRangeError(`${what} is ${value}, outside the Q16.16 range [-32768, 32767.99998]`);
  }
  return q;
}

/** Q16.16 → the real number it stands for. */
export function dequantize(q: number): number {
  return q / ONE;
}

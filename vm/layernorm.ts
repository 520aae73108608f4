/**
 * LayerNorm's arithmetic: the VM's LAYERNORM instruction normalizes a vector over its n words,
 *   y[t] = (x[t] − mean) / sqrt(var + eps) · gamma[t] + beta[t]        (population variance, as PyTorch)
 * in three passes of one leaf a step (vm/step.ts executeLayerNorm): the sum, the sum of squared deviations,
 * then the outputs. The Solidity (contracts/vm/LayerNorm.sol) and AssemblyScript twins have the same functions.
 *
 * Normalization does not depend on the input's scale, so the passes work on the raw words x (format fin only
 * enters through eps). Integer steps, with the bounds that keep every intermediate inside int64:
 *   mean  = round(Σx / n)                               |Σx| ≤ n·2^31
 *   d     = x − mean                                    |d| < 2^32, d² < 2^64 (a u64 in the AssemblyScript twin)
 *   V     = Σ (d² >> (k + 2)),  k = bitLength(n − 1)    2^k ≥ n terms of < 2^62/2^k: V < 2^62
 *   E     = (eps·2^(2·fin) >> (k + 2)) · n              eps in the variance's units, scaled like V (≤ 2^46)
 * so that W = V + E ≈ n·(var + eps)/2^(k+2) and z = (x − mean)/sqrt(var + eps) = d · sqrt(n/2^k) / (2·sqrt(W)). With
 *   m = ⌊(62 − bitLength(W)) / 2⌋, s = isqrt(W · 4^m) ∈ [2^29.5, 2^31),  c = isqrt(n · 2^(60 − k)) ≈ sqrt(n/2^k)·2^30,
 *   R = ⌊c · 2^30 / s⌋ ∈ (2^28.5, 2^30.5]:    z = d · R / 2^(61 − m)
 * R and m travel from the second pass to the third in the accumulator, packed as m·2^40 + R. W = 0 (every word
 * equal and eps too small to register) gives R = 0: z = 0, the limit of the formula.
 * The output: z16 = shiftRound(d · R, 45 − m) (z in Q15.16; |d·R| < 2^62.5), y = shiftRound(z16 · gamma, 32 − fout)
 * + beta, gamma in Q15.16 and beta in fout. Error: z to 2^−17 (7.6e-6) from z16's rounding, relative 2^−28 from R,
 * and V's truncations (< 1 unit per word of W ≈ n·var/2^(k+2): relative < 2^(k+2)/(2·Σd²/n) on z); then |gamma|
 * times that, plus half an ulp of fout; and the mean's rounding to a word moves each deviation by ≤ 1/2 word, ≤ 1/(2σ)
 * on z for a standard deviation of σ words. The deviations carry the input's full precision (vm/layernorm.test.ts).
 */
import { shiftRound } from "./fixed.js";

/** The number of bits of a non-negative integer: 0 for 0, ⌊log2 v⌋ + 1 otherwise. */
export function bitLength(v: bigint): number {
  let n = 0;
  for (let r = v; r > 0n; r >>= 1n) n++;
  return n;
}

/** ⌊sqrt(v)⌋ for 0 ≤ v < 2^64, exactly (Newton's method from above; any exact method gives the same integer). */
export function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt((bitLength(v) + 1) >> 1); // ≥ sqrt(v)
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** ⌊a / b⌋ for b > 0, rounding toward −∞ (BigInt division truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** mean = round half up of Σx / n = ⌊(2·Σx + n) / (2n)⌋. */
export function layerMean(sum: bigint, n: number): number {
  return Number(floorDiv(2n * sum + BigInt(n), 2n * BigInt(n)));
}

/** The second pass's term for word x: d² >> (k + 2), d = x − mean, k = bitLength(n − 1). */
export function squareTerm(x: number, mean: number, n: number): bigint {
  const d = BigInt(x) - BigInt(mean);
  return (d * d) >> BigInt(bitLength(BigInt(n - 1)) + 2);
}

/** R and m from V (the second pass's sum), packed as m·2^40 + R: the third pass's scale (see the header). */
export function layerScale(v: bigint, n: number, fin: number, eps: number): bigint {
  const k = bitLength(BigInt(n - 1));
  const epsQ = shiftRound(BigInt(eps), 32 - 2 * fin); // eps (a Q0.32 u32) in the variance's units, 2^(2·fin): ≤ 2^48
  const w = v + (epsQ >> BigInt(k + 2)) * BigInt(n);
  if (w === 0n) return 0n;
  const m = (62 - bitLength(w)) >> 1;
  const s = isqrt(w << BigInt(2 * m));
  const c = isqrt(BigInt(n) << BigInt(60 - k));
  const r = (c << 30n) / s; // both positive: truncation is the floor
  return (BigInt(m) << 40n) | r;
}

/** y = z · gamma + beta for word x, with z from the packed scale (see the header); unsaturated, in fout. */
export function layerNormValue(x: number, mean: number, scale: bigint, gamma: number, beta: number, fout: number): bigint {
  const m = Number(scale >> 40n);
  const r = scale & ((1n << 40n) - 1n);
  const z16 = shiftRound((BigInt(x) - BigInt(mean)) * r, 45 - m);
  return shiftRound(z16 * BigInt(gamma), 32 - fout) + BigInt(beta);
}

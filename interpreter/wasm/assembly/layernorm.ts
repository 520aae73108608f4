// LayerNorm's arithmetic: the AssemblyScript twin of vm/layernorm.ts, function for function, in the same order.
// vm/layernorm.ts is the specification (its header derives every step and bound); every function here must give
// the same bits for every input (interpreter/wasm/ops.test.ts checks it).
//
// TypeScript's bigints are i64 here (u64 for d² and isqrt's argument). Every intermediate fits, by the bounds of
// the TypeScript header: |Σx| ≤ n·2^31 < 2^62, |d| < 2^32 so d² < 2^64 (a u64: the wrapping i64 product has the
// right bits), V < 2^62, E ≤ 2^46, |d·R| < 2^62.5. One more, which the TypeScript file does not need: z16·gamma.
// In a run, |z| ≤ sqrt(2n)·(1 + 2^−27) (W ≥ d²/2^(k+2) − 1 for every word's d, and W ≥ 1 when R ≠ 0) and n < 2^30
// (a wasm32 memory holds fewer words), so |z16| < 2^31.6 and |z16·gamma| < 2^62.6; but the function takes any
// (x, mean, scale), so a larger |z16| goes through scaleGamma's exact wide path, and a result beyond ±2^62 is
// returned as ±2^62 + beta (the same int32 word after saturation, and the same count).
import { shiftRound } from "./fixed";

/** The number of bits of a non-negative integer: 0 for 0, ⌊log2 v⌋ + 1 otherwise. */
export function bitLength(v: u64): i32 {
  return 64 - <i32>clz(v);
}

/** ⌊sqrt(v)⌋ for 0 ≤ v < 2^64, exactly (Newton's method from above, the same iterates as TypeScript's). */
export function isqrt(v: u64): u64 {
  if (v < 2) return v;
  let x: u64 = (<u64>1) << <u64>((bitLength(v) + 1) >> 1); // ≥ sqrt(v), ≤ 2^32
  while (true) {
    const y = (x + v / x) >> 1; // x + v/x < 2^33 + 2^64/x: v < 2^63 at every call (see layerScale)
    if (y >= x) return x;
    x = y;
  }
  return x; // unreachable
}

/** ⌊a / b⌋ for b > 0, rounding toward −∞ (i64 division truncates toward zero). */
export function floorDiv(a: i64, b: i64): i64 {
  const q = a / b;
  return a % b < 0 ? q - 1 : q;
}

/** mean = round half up of Σx / n = ⌊(2·Σx + n) / (2n)⌋; |2·Σx| < 2^63. */
export function layerMean(sum: i64, n: i64): i32 {
  return <i32>floorDiv(2 * sum + n, 2 * n);
}

/** The second pass's term for word x: d² >> (k + 2), d = x − mean, k = bitLength(n − 1); d² < 2^64 as a u64. */
export function squareTerm(x: i32, mean: i32, n: i64): i64 {
  const d = <i64>x - <i64>mean;
  return <i64>(<u64>(d * d) >> <u64>(bitLength(<u64>(n - 1)) + 2));
}

/** R and m from V (the second pass's sum), packed as m·2^40 + R: the third pass's scale (see vm/layernorm.ts). */
export function layerScale(v: i64, n: i64, fin: i32, eps: u32): i64 {
  const k = bitLength(<u64>(n - 1));
  const epsQ = shiftRound(<i64>eps, 32 - 2 * fin); // eps (a Q0.32 u32) in the variance's units, 2^(2·fin): ≤ 2^48
  const w = v + (epsQ >> <i64>(k + 2)) * n; // ≤ 2^62 + 2^46
  if (w == 0) return 0;
  const m = (62 - bitLength(<u64>w)) >> 1; // −1 when w ≥ 2^62 (TypeScript: a BigInt shift by −2 is a right shift)
  const s = isqrt(<u64>(m >= 0 ? w << <i64>(2 * m) : w >> <i64>(-2 * m))); // the argument < 2^62
  const c = isqrt(<u64>n << <u64>(60 - k)); // n ≤ 2^k ⇒ < 2^61
  const r = <i64>((c << 30) / s); // both positive: truncation is the floor; c < 2^30.5
  return (<i64>m << 40) | r;
}

/** y = z · gamma + beta for word x, with z from the packed scale (see the header); unsaturated, in fout. */
export function layerNormValue(x: i32, mean: i32, scale: i64, gamma: i32, beta: i32, fout: i32): i64 {
  const m = <i32>(scale >> 40);
  const r = scale & 0xffffffffff; // 2^40 − 1
  const z16 = shiftRound((<i64>x - <i64>mean) * r, 45 - m); // |d·R| < 2^62.5
  return scaleGamma(z16, gamma, 32 - fout) + <i64>beta;
}

/**
 * shiftRound(z16 · gamma, s) for 8 ≤ s ≤ 32, exactly when its magnitude is below 2^62 and ±2^62 otherwise. |z16| <
 * 2^31 (every real run): the i64 product (≤ 2^62). Otherwise |z16| = hi·2^32 + lo: the magnitude is
 * ⌊(|z16|·|g| + 2^(s−1)) / 2^s⌋ = hi·|g|·2^(32−s) + ⌊(lo·|g| + 2^(s−1)) / 2^s⌋ (hi·|g|·2^32 is a multiple of 2^s),
 * with lo·|g| + 2^(s−1) < 2^63 + 2^31 in a u64 and hi·|g| < 2^63.
 */
function scaleGamma(z16: i64, gamma: i32, s: i32): i64 {
  if (z16 < 2147483648 && z16 > -2147483648) return shiftRound(z16 * <i64>gamma, s);
  const negative = (z16 < 0) != (gamma < 0);
  const a = <u64>(z16 < 0 ? -z16 : z16); // ≤ 2^62 (|d·R| / 2^15)
  const g = <u64>(gamma < 0 ? -(<i64>gamma) : <i64>gamma); // ≤ 2^31
  const low = ((a & 0xffffffff) * g + ((<u64>1) << <u64>(s - 1))) >> <u64>s; // < 2^56
  const high = (a >> 32) * g; // < 2^31 · 2^31
  const limit: u64 = (<u64>1) << 62;
  const magnitude = high >= limit >> <u64>(32 - s) ? limit : min<u64>((high << <u64>(32 - s)) + low, limit);
  return negative ? -(<i64>magnitude) : <i64>magnitude;
}

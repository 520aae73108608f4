// The VM's number format and the only arithmetic it does on it: the AssemblyScript twin of vm/fixed.ts, function
// for function and in the same order, so the two read side by side. vm/fixed.ts is the specification; every
// function here must give the same bits for every input (interpreter/wasm/ops.test.ts checks it).
//
// Format: signed fixed point in an int32 word with f ∈ [0, MAX_FRAC] fraction bits, chosen per tensor by the
// compiler and carried by the instructions as operands (a word q in format f stands for q / 2^f).
//
// A dense layer multiplies two int32 words into an exact 64-bit product (|w·x| ≤ 2^62) and adds products into a
// 64-bit accumulator; only when the row is done is the accumulator rounded to the output format, by a right shift
// of `shift` bits (shiftRound). So a whole row loses at most half an ulp to rounding, whatever its length.
//
// Where TypeScript uses bigint, this file uses i64, and `x >> k` on i64 is the arithmetic shift (floor division
// by 2^k), exactly like bigint's `>>`. Differences of form, not of meaning:
//   - sat64 clamps a value that need not fit i64 (acc + a chunk's sum can reach 2^63 + 2^67), and dot returns
//     such a value; so the kernel uses their fusion accumulateDot(acc, w, x, n) = accumulate(acc, dot(w, 0, x, 0, n)),
//     which computes the clamp of the exact sum without ever holding it, and says whether it clamped
//     (accumulateClamped: the step counts that as one saturation, like vm/step.ts's acc ≠ start + products);
//   - shiftRound's left shift (s < 0) can leave i64 where bigint does not (x·alpha ≤ 2^62 shifted left by up to
//     8 bits in LEAKY_RELU): here it returns sat64 of the exact value. Every caller only saturates the result to
//     int32 or asks whether it overflows int32, and sat32(sat64(v)) = sat32(v), overflows32(sat64(v)) = overflows32(v).
// quantize / dequantize / formatName / formatLimit are host-side only.

export const FRAC_BITS: i32 = 16;
/** 1.0 in Q16.16: 2^16. */
export const ONE: i32 = 65536;
/** The most fraction bits a tensor format may have: 24 leaves 7 integer bits (±128) at an ulp of 6e-8. */
export const MAX_FRAC: i32 = 24;
/** The largest DENSE shift: a bias b (|b| ≤ 2^31) widened by 2^shift stays inside int64 (2^62 < 2^63). */
export const MAX_SHIFT: i32 = 31;

export const INT32_MIN: i32 = -2147483648; // -2^31
export const INT32_MAX: i32 = 2147483647; //  2^31 - 1
export const INT64_MIN: i64 = i64.MIN_VALUE; // -2^63
export const INT64_MAX: i64 = i64.MAX_VALUE; //  2^63 - 1

/** Clamp a value to the int32 range. */
export function sat32(x: i64): i32 {
  if (x > 2147483647) return INT32_MAX;
  if (x < -2147483648) return INT32_MIN;
  return <i32>x;
}

// sat64: see accumulateDotExact, which clamps the exact acc + sum to the int64 range (saturate, never wrap).

/** The accumulator a row starts from: its bias (in the output format) widened by the row's shift, bias · 2^shift (|·| ≤ 2^62). */
export function biasToAcc(bias: i32, shift: i32): i64 {
  return <i64>bias << shift;
}

/**
 * Set to 1 by accumulateDot / accumulateDotExact when the exact acc + sum lies outside int64 and was clamped; the
 * reader (the DENSE step) clears it, so it is 0 again before the next chunk. Written only on the clamping
 * branches, so the fast path pays nothing for it.
 */
export let accumulateClamped: i32 = 0;

/**
 * accumulate(acc, dot(w, 0, x, 0, n)) of vm/fixed.ts: sat64(acc + Σ_{t<n} w[t] · x[t]), exactly, for any int32
 * words w[t], x[t] (i32 arrays at byte addresses w and x in linear memory) and 0 ≤ n ≤ 32 (CHUNK_WORDS).
 *
 * The hot loop of the kernel. Fast path, one SIMD pass: the products Σ w·x are summed in plain (wrapping) i64
 * lanes while the magnitudes are OR-ed together. With bw = 32 − clz(OR |w[t]|) and bx = 32 − clz(OR |x[t]|),
 * every |w[t]| < 2^bw and |x[t]| < 2^bx (i32x4.abs(INT32_MIN) = 0x80000000, read unsigned: 2^31 < 2^32), so
 *   |sum| < n · 2^(bw + bx) ≤ 2^(5 + bw + bx) ≤ 2^63   when   bw + bx ≤ 58, i.e. clz(OR|w|) + clz(OR|x|) ≥ 6.
 * Then the wrapped i64 total, which is the exact sum modulo 2^64 whatever the order of the additions, IS the
 * exact sum, and acc + sum needs only the usual signed-overflow test of one i64 addition to saturate.
 * Otherwise (some |w|·|x| may reach 2^58 and the sum may not fit i64) the chunk is redone by accumulateDotExact.
 * MNIST-like data (|w| ≲ 2^16, 0 ≤ x ≲ 2^17: bw + bx ≈ 35) always takes the fast path.
 */
export function accumulateDot(acc: i64, w: usize, x: usize, n: i32): i64 {
  if (<u32>n > 32) return accumulateDotExact(acc, w, x, n); // the bound above assumes n ≤ 2^5
  let sum0 = i64x2.splat(0);
  let sum1 = i64x2.splat(0);
  let orW = i32x4.splat(0);
  let orX = i32x4.splat(0);
  let pw = w;
  let px = x;
  // Eight products per iteration, then four if n mod 8 ≥ 4 (extmul: i32 × i32 → i64 lanes, exact).
  const end8 = w + (<usize>(n & ~7) << 2);
  while (pw < end8) {
    const vw0 = v128.load(pw);
    const vx0 = v128.load(px);
    const vw1 = v128.load(pw, 16);
    const vx1 = v128.load(px, 16);
    orW = v128.or(orW, v128.or(i32x4.abs(vw0), i32x4.abs(vw1)));
    orX = v128.or(orX, v128.or(i32x4.abs(vx0), i32x4.abs(vx1)));
    sum0 = i64x2.add(sum0, i64x2.add(i64x2.extmul_low_i32x4_s(vw0, vx0), i64x2.extmul_low_i32x4_s(vw1, vx1)));
    sum1 = i64x2.add(sum1, i64x2.add(i64x2.extmul_high_i32x4_s(vw0, vx0), i64x2.extmul_high_i32x4_s(vw1, vx1)));
    pw += 32;
    px += 32;
  }
  if (n & 4) {
    const vw = v128.load(pw);
    const vx = v128.load(px);
    orW = v128.or(orW, i32x4.abs(vw));
    orX = v128.or(orX, i32x4.abs(vx));
    sum0 = i64x2.add(sum0, i64x2.extmul_low_i32x4_s(vw, vx));
    sum1 = i64x2.add(sum1, i64x2.extmul_high_i32x4_s(vw, vx));
    pw += 16;
    px += 16;
  }
  const sums = i64x2.add(sum0, sum1);
  let sum = i64x2.extract_lane(sums, 0) + i64x2.extract_lane(sums, 1); // wrapping: exact mod 2^64
  let mw = i32x4.extract_lane(orW, 0) | i32x4.extract_lane(orW, 1) | i32x4.extract_lane(orW, 2) | i32x4.extract_lane(orW, 3);
  let mx = i32x4.extract_lane(orX, 0) | i32x4.extract_lane(orX, 1) | i32x4.extract_lane(orX, 2) | i32x4.extract_lane(orX, 3);
  // The last n mod 4 words, one at a time.
  const end = w + (<usize>n << 2);
  while (pw < end) {
    const wv = load<i32>(pw);
    const xv = load<i32>(px);
    mw |= abs<i32>(wv);
    mx |= abs<i32>(xv);
    sum += <i64>wv * <i64>xv;
    pw += 4;
    px += 4;
  }
  if (clz<i32>(mw) + clz<i32>(mx) < 6) return accumulateDotExact(acc, w, x, n);
  // |sum| < 2^63: sum is exact. acc + sum, saturated: it overflows iff acc and sum have the same sign and the
  // wrapped result has the other one; it then saturates toward the sign of sum.
  const r = acc + sum;
  if (((acc ^ r) & (sum ^ r)) < 0) {
    accumulateClamped = 1;
    return sum < 0 ? INT64_MIN : INT64_MAX;
  }
  return r;
}

/**
 * The same value as accumulateDot, by the split of vm/fixed.ts `dot`, for any inputs (the fast path's fallback).
 *
 * Split x = xh·2^16 + xl with xl ∈ [0, 2^16) and xh ∈ [-2^15, 2^15). Then |w·xh| ≤ 2^46 and |w·xl| < 2^47, so
 * for n ≤ 32 the partial sums hi = Σ w·xh and lo = Σ w·xl stay below 2^51 and 2^52: exact in i64 (as in float64
 * in TypeScript). The exact total is acc + hi·2^16 + lo, which may not fit i64; split acc the same way,
 * acc = accH·2^16 + accL with accH = acc >> 16 ∈ [-2^47, 2^47) and accL = acc & 0xFFFF ∈ [0, 2^16):
 *   T = accL + lo                       |T| < 2^52 + 2^16
 *   H = accH + hi + (T >> 16)           |H| < 2^47 + 2^51 + 2^37 (floor division: T = (T >> 16)·2^16 + L)
 *   L = T & 0xFFFF                      ∈ [0, 2^16)
 * so the exact total is H·2^16 + L. With 0 ≤ L < 2^16 it lies in [-2^63, 2^63 − 1] iff H ∈ [-2^47, 2^47 − 1]
 * (H = 2^47 − 1 gives at most 2^63 − 2^16 + 2^16 − 1; H = −2^47 gives at least −2^63; H ≥ 2^47 gives ≥ 2^63,
 * H ≤ −2^47 − 1 gives ≤ −2^63 − 1). Hence sat64: INT64_MAX if H > 2^47 − 1, INT64_MIN if H < −2^47, else
 * (H << 16) | L, which is H·2^16 + L exactly (H·2^16 fits and has 16 zero low bits).
 */
export function accumulateDotExact(acc: i64, w: usize, x: usize, n: i32): i64 {
  let hi: i64 = 0;
  let lo: i64 = 0;
  for (let t = 0; t < n; t++) {
    const xv = load<i32>(x + (<usize>t << 2));
    const xl = xv & 0xffff;
    const wv = <i64>load<i32>(w + (<usize>t << 2));
    hi += wv * <i64>(xv >> 16); // (xv - xl) / 65536, exactly
    lo += wv * <i64>xl;
  }
  // accumulate(acc, hi·2^16 + lo) = sat64(acc + sum), without forming the sum.
  const low = (acc & 0xffff) + lo;
  const high = (acc >> 16) + hi + (low >> 16);
  if (high > 140737488355327) {
    accumulateClamped = 1;
    return INT64_MAX; //  2^47 − 1
  }
  if (high < -140737488355328) {
    accumulateClamped = 1;
    return INT64_MIN; // −2^47
  }
  return (high << 16) | (low & 0xffff);
}

/**
 * v / 2^s rounded to nearest, ties away from zero, for s ≥ 0; v · 2^(−s) for s < 0; not saturated to int32.
 *   shiftRound(v, s) = sign(v) · floor((|v| + 2^(s−1)) / 2^s)        (s ≥ 1; s = 0 gives v)
 * Valid for −63 ≤ s ≤ 63 (wasm takes shift counts mod 64; every call has −24 ≤ s ≤ 50). |v| is taken in u64: for
 * v = INT64_MIN, −v wraps to the same bits, which read unsigned are 2^63 = |v|, and 2^63 + 2^62 < 2^64, so the
 * magnitude never wraps. The left shift (s < 0) returns the exact product when it fits i64 and INT64_MAX / INT64_MIN
 * otherwise (sat64: see the header).
 */
export function shiftRound(v: i64, s: i32): i64 {
  if (s <= 0) {
    const r = v << -s;
    if (r >> -s != v) return v < 0 ? INT64_MIN : INT64_MAX; // bits shifted out: outside i64
    return r;
  }
  const magnitude = <i64>((<u64>(v < 0 ? -v : v) + ((<u64>1) << (s - 1))) >> s); // ≤ (2^63 + 2^(s−1)) / 2^s ≤ 2^62
  return v < 0 ? -magnitude : magnitude;
}

/**
 * v / d rounded to nearest, ties away from zero (the rule of shiftRound), for d ≥ 1: an average pooling's mean.
 *   divRound(v, d) = sign(v) · floor((2·|v| + d) / (2·d))
 * Computed without forming 2·|v| (which leaves u64 for |v| near 2^63): with |v| = q·d + r, 0 ≤ r < d,
 * (2qd + 2r + d) / (2d) = q + (2r + d) / (2d), whose floor is q + 1 when 2r ≥ d and q otherwise. Exact for every
 * i64 v and every d in [1, 2^32). Returns an i64 where TypeScript returns a number: the callers (the pools) store
 * it as an i32 word, the mean of int32 words being an int32.
 */
export function divRound(v: i64, d: i64): i64 {
  const m = <u64>(v < 0 ? -v : v); // |INT64_MIN| = 2^63 read unsigned
  const q = m / <u64>d;
  const r = m % <u64>d;
  const magnitude = <i64>(r * 2 >= <u64>d ? q + 1 : q); // q ≤ 2^63: q + 1 reaches 2^63 only for d = 1, v = INT64_MIN
  return v < 0 ? -magnitude : magnitude;
}

/** A finished row's accumulator → its output word: shiftRound by the row's shift, saturated to int32. */
export function rescale(acc: i64, shift: i32): i32 {
  return sat32(shiftRound(acc, shift));
}

/** A word in format `from` → the same number in format `to`, rounded (shiftRound) and saturated to int32. */
export function convert(x: i32, from: i32, to: i32): i32 {
  return sat32(shiftRound(<i64>x, from - to));
}

/** Does v lie outside int32 (so that sat32 clamps it)? How the interpreters count saturation. */
export function overflows32(v: i64): bool {
  return v > 2147483647 || v < -2147483648;
}

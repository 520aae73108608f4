import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FixedPointRangeError } from "./errors.js";
import {
  INT32_MAX,
  INT32_MIN,
  INT64_MAX,
  INT64_MIN,
  ONE,
  accumulate,
  biasToAcc,
  convert,
  dequantize,
  dot,
  quantize,
  rescale,
  sat32,
  sat64,
  shiftRound,
} from "./fixed.js";

const int32 = fc.integer({ min: INT32_MIN, max: INT32_MAX });
const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });

/** The oracle for rescale: exact rational rounding with BigInt, written independently of the implementation. */
function rescaleOracle(acc: bigint, shift = 16): bigint {
  const d = 1n << BigInt(shift);
  const q = acc / d; // truncates toward zero
  const r = acc % d; // same sign as acc
  const twice = 2n * (r < 0n ? -r : r);
  const rounded = shift > 0 && twice >= d ? q + (acc < 0n ? -1n : 1n) : q;
  return rounded > 2147483647n ? 2147483647n : rounded < -2147483648n ? -2147483648n : rounded;
}

describe("sat32 / sat64", () => {
  it.each([
    [0n, 0],
    [2147483647n, INT32_MAX],
    [2147483648n, INT32_MAX],
    [-2147483648n, INT32_MIN],
    [-2147483649n, INT32_MIN],
    [1n << 100n, INT32_MAX],
  ])("sat32(%s) = %s", (x, expected) => expect(sat32(x)).toBe(expected));

  it.each([
    [INT64_MAX, INT64_MAX],
    [INT64_MAX + 1n, INT64_MAX],
    [INT64_MIN, INT64_MIN],
    [INT64_MIN - 1n, INT64_MIN],
    [-5n, -5n],
  ])("sat64(%s) = %s", (x, expected) => expect(sat64(x)).toBe(expected));
});

describe("rescale: Q32.32 → Q16.16, nearest, ties away from zero, saturating", () => {
  it.each([
    ["zero", 0n, 0],
    ["one", 1n << 32n, ONE],
    ["+1 ulp of Q32.32 rounds to 0", 1n, 0],
    ["-1 ulp of Q32.32 rounds to 0", -1n, 0],
    ["just below +half", 32767n, 0],
    ["+half rounds away from zero", 32768n, 1],
    ["-half rounds away from zero", -32768n, -1],
    ["just above -half", -32767n, 0],
    ["-1.5 ulp rounds to -2", -(65536n + 32768n), -2],
    ["+1.5 ulp rounds to 2", 65536n + 32768n, 2],
    ["largest value that does not saturate", (2147483647n << 16n) + 32767n, INT32_MAX],
    ["saturates high", 2147483648n << 16n, INT32_MAX],
    ["smallest negative that does not saturate", (-2147483648n << 16n) - 32767n, INT32_MIN],
    ["saturates low", INT64_MIN, INT32_MIN],
    ["int64 max saturates", INT64_MAX, INT32_MAX],
  ])("%s", (_, acc, expected) => expect(rescale(acc, 16)).toBe(expected));

  it("matches the BigInt oracle on random int64 and on values near ties", () => {
    fc.assert(fc.property(int64, (acc) => BigInt(rescale(acc, 16)) === rescaleOracle(acc)), { numRuns: 20000 });
    const nearTie = fc.tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: -2, max: 2 })).map(([q, d]) => (BigInt(q) << 16n) + 32768n + BigInt(d));
    fc.assert(fc.property(nearTie, (acc) => BigInt(rescale(acc, 16)) === rescaleOracle(acc)), { numRuns: 20000 });
  });

  it("is symmetric: rescale(-a) = -rescale(a) wherever neither saturates", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 46n), max: 1n << 46n }), (acc) => rescale(-acc, 16) === -rescale(acc, 16)),
      { numRuns: 20000 },
    );
  });

  it("is within half an ulp of the exact quotient (float64 oracle)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 46), max: 2 ** 46 }), (acc) => Math.abs(rescale(BigInt(acc), 16) - acc / 65536) <= 0.5),
      { numRuns: 20000 },
    );
  });

  it("matches the oracle for every shift 0…31 on random int64 accumulators and on ties", () => {
    for (let shift = 0; shift <= 31; shift++) {
      fc.assert(fc.property(int64, (acc) => BigInt(rescale(acc, shift)) === rescaleOracle(acc, shift)), { numRuns: 500 });
      if (shift > 0) {
        const half = 1n << BigInt(shift - 1);
        for (const acc of [half, -half, half - 1n, -(half - 1n), 3n * half, -3n * half]) expect(BigInt(rescale(acc, shift))).toBe(rescaleOracle(acc, shift));
      }
    }
  });
});

describe("shiftRound and convert: changes of format", () => {
  it("a negative shift is an exact left shift; zero is the identity", () => {
    expect(shiftRound(5n, 0)).toBe(5n);
    expect(shiftRound(-5n, -3)).toBe(-40n);
    expect(shiftRound(1n, -40)).toBe(1n << 40n);
  });

  it("rounds half away from zero, symmetrically", () => {
    expect(shiftRound(3n, 1)).toBe(2n);
    expect(shiftRound(-3n, 1)).toBe(-2n);
    expect(shiftRound(5n, 2)).toBe(1n); // 1.25
    expect(shiftRound(6n, 2)).toBe(2n); // 1.5
    expect(shiftRound(-6n, 2)).toBe(-2n);
    fc.assert(fc.property(int64, fc.integer({ min: 0, max: 62 }), (v, s) => shiftRound(-v, s) === -shiftRound(v, s)), { numRuns: 5000 });
  });

  it("convert is the value in the other format, to half an ulp, saturating", () => {
    expect(convert(ONE, 16, 24)).toBe(1 << 24); // 1.0 in Q7.24
    expect(convert(1 << 24, 24, 16)).toBe(ONE);
    expect(convert(200 * ONE, 16, 24)).toBe(INT32_MAX); // 200 is beyond Q7.24's ±128
    expect(convert(-200 * ONE, 16, 24)).toBe(INT32_MIN);
    expect(convert(3, 2, 0)).toBe(1); // 0.75 → 1
    fc.assert(
      fc.property(int32, fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 24 }), (x, from, to) => {
        const y = convert(x, from, to);
        const exact = x / 2 ** from;
        const limit = 2 ** (31 - to);
        if (exact >= limit || exact < -limit) return y === (exact > 0 ? INT32_MAX : INT32_MIN);
        return Math.abs(y / 2 ** to - exact) <= 2 ** -(to + 1);
      }),
      { numRuns: 20000 },
    );
  });
});

describe("dot: the exact sum of Q16.16 products", () => {
  const product = (w: number[], x: number[]) => w.reduce((s, wv, t) => s + BigInt(wv) * BigInt(x[t]), 0n);

  it("is exact at the extremes, where float64 products would round", () => {
    const w = Int32Array.from({ length: 32 }, () => INT32_MIN);
    const x = Int32Array.from({ length: 32 }, () => INT32_MIN);
    expect(dot(w, 0, x, 0, 32)).toBe(32n * (1n << 62n));
    const y = Int32Array.from({ length: 32 }, () => INT32_MAX);
    expect(dot(w, 0, y, 0, 32)).toBe(32n * -2147483648n * 2147483647n);
    expect(dot(y, 0, y, 0, 32)).toBe(32n * 2147483647n * 2147483647n);
  });

  it("handles ±1 ulp and sign combinations", () => {
    const w = Int32Array.of(1, -1, 1, -1, ONE, -ONE);
    const x = Int32Array.of(1, 1, -1, -1, -1, ONE);
    expect(dot(w, 0, x, 0, 6)).toBe(1n - 1n - 1n + 1n - 65536n - (1n << 32n));
  });

  it("uses offsets and the count, not whole arrays", () => {
    const w = Int32Array.of(9, 9, 2, 3, 9);
    const x = Int32Array.of(9, 5, 7, 9);
    expect(dot(w, 2, x, 1, 2)).toBe(2n * 5n + 3n * 7n);
    expect(dot(w, 0, x, 0, 0)).toBe(0n);
  });

  it("matches a BigInt oracle on random chunks of up to 32 words", () => {
    const chunk = fc.integer({ min: 0, max: 32 }).chain((n) => fc.tuple(fc.array(int32, { minLength: n, maxLength: n }), fc.array(int32, { minLength: n, maxLength: n })));
    fc.assert(
      fc.property(chunk, ([w, x]) => dot(Int32Array.from(w), 0, Int32Array.from(x), 0, w.length) === product(w, x)),
      { numRuns: 20000 },
    );
  });
});

describe("accumulate and biasToAcc", () => {
  it("widens a bias exactly by its row's shift", () => {
    expect(biasToAcc(ONE, 16)).toBe(1n << 32n);
    expect(biasToAcc(-1, 16)).toBe(-65536n);
    expect(biasToAcc(INT32_MIN, 16)).toBe(-(1n << 47n));
    expect(biasToAcc(7, 0)).toBe(7n);
    expect(biasToAcc(INT32_MIN, 31)).toBe(-(1n << 62n)); // the largest shift stays inside int64
  });

  it("saturates instead of wrapping", () => {
    expect(accumulate(INT64_MAX, 1n)).toBe(INT64_MAX);
    expect(accumulate(INT64_MIN, -1n)).toBe(INT64_MIN);
    expect(accumulate(INT64_MAX, -1n)).toBe(INT64_MAX - 1n);
    expect(accumulate(0n, 1n << 67n)).toBe(INT64_MAX);
    expect(accumulate(INT64_MAX, -(1n << 67n))).toBe(INT64_MIN);
  });

  it("matches the oracle clamp(a + b) on random values", () => {
    fc.assert(
      fc.property(int64, fc.bigInt({ min: -(1n << 67n), max: 1n << 67n }), (a, b) => {
        const exact = a + b;
        return accumulate(a, b) === (exact > INT64_MAX ? INT64_MAX : exact < INT64_MIN ? INT64_MIN : exact);
      }),
      { numRuns: 20000 },
    );
  });
});

describe("quantize / dequantize", () => {
  it.each([
    [0, 0],
    [1, ONE],
    [-1, -ONE],
    [2 ** -16, 1],
    [-(2 ** -16), -1],
    [2 ** -17, 1], // half an ulp: away from zero
    [-(2 ** -17), -1],
    [2 ** -17 - 2 ** -40, 0],
    [0.49999999999999994 / 65536, 0], // the value on which Math.round(x · 2^16) would round up
    [32767.99998, INT32_MAX],
    [-32768, INT32_MIN],
  ])("quantize(%s) = %s", (x, q) => expect(quantize(x)).toBe(q));

  it("quantizes into any format, with that format's range", () => {
    expect(quantize(1, "v", 24)).toBe(1 << 24);
    expect(quantize(100000, "v", 10)).toBe(100000 * 1024);
    expect(quantize(1.5, "v", 0)).toBe(2);
    expect(() => quantize(128, "v", 24)).toThrow(/Q7\.24 range ±128/);
    expect(dequantize(1 << 24, 24)).toBe(1);
  });

  it.each([NaN, Infinity, -Infinity, 32768, -32768.00001, 1e300])("rejects %s with a FixedPointRangeError", (x) => {
    expect(() => quantize(x, "weight w")).toThrow(FixedPointRangeError);
    expect(() => quantize(x, "weight w")).toThrow(/weight w/);
  });

  it("round-trips every representable value, and is within half an ulp otherwise", () => {
    fc.assert(fc.property(int32, (q) => quantize(dequantize(q)) === q), { numRuns: 20000 });
    fc.assert(
      fc.property(fc.double({ min: -32767, max: 32767, noNaN: true }), (x) => Math.abs(dequantize(quantize(x)) - x) <= 2 ** -17),
      { numRuns: 20000 },
    );
  });
});

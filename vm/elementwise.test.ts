import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { erf } from "../compiler/float.js";

/** The standard normal CDF, from compiler/float.ts's float64 erf. */
const phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
import {
  addValue, clipValue, eluValue, geluTanhValue, geluValue, leakyReluValue, reluValue, sigmoidValue, siluValue, softplusValue,
  tanhValue, type UnaryFunction,
} from "./elementwise.js";
import { INT32_MAX, INT32_MIN, MAX_FRAC, sat32 } from "./fixed.js";

const ONE = 65536;
const int32 = fc.integer({ min: INT32_MIN, max: INT32_MAX });
const frac = fc.integer({ min: 0, max: MAX_FRAC });
const q16 = fc.integer({ min: -4 * ONE, max: 4 * ONE }); // a Q16.16 parameter: alpha in [−4, 4]

/** x in format f → its real value. */
const real = (x: number, f: number) => x / 2 ** f;
/** The word a real value saturates to in format f (no rounding: the oracle compares within tolerance). */
const limitWord = (v: number, f: number) => (v >= 2 ** (31 - f) ? INT32_MAX : v < -(2 ** (31 - f)) ? INT32_MIN : null);

/**
 * Checks fn against a float64 oracle: the saturated result is the oracle's value within `tol(x)` plus half an ulp
 * of fout, or the int32 end the oracle's value lies beyond.
 */
function agrees(fn: UnaryFunction, oracle: (x: number, p0: number, p1: number, fin: number) => number, tol: (x: number, fin: number) => number, params: fc.Arbitrary<[number, number]> = fc.constant([0, 0])) {
  fc.assert(
    fc.property(int32, frac, frac, params, (xw, fin, fout, [p0, p1]) => {
      const x = real(xw, fin);
      const want = oracle(x, p0, p1, fin);
      const got = sat32(fn(xw, fin, fout, p0, p1));
      const end = limitWord(want, fout);
      if (end !== null) return got === end || Math.abs(real(got, fout) - want) <= tol(x, fin) + 2 ** -(fout + 1);
      return Math.abs(real(got, fout) - want) <= tol(x, fin) + 2 ** -(fout + 1) + 1e-12 * Math.abs(want);
    }),
    { numRuns: 20000 },
  );
}

/** What the Q16.16 rounding of a core input can add when fin > 16: slope · 2^−17. */
const coreRounding = (fin: number, slope: number) => (fin > 16 ? slope * 2 ** -17 : 0);

describe("elementwise functions against float64, over random words, formats and parameters", () => {
  it("relu: exact up to the output rounding", () => agrees(reluValue, (x) => Math.max(x, 0), () => 0));
  it("sigmoid: ≤ 7.65e-6", () => agrees(sigmoidValue, (x) => 1 / (1 + Math.exp(-x)), (_, fin) => 7.65e-6 + coreRounding(fin, 0.25)));
  it("tanh: ≤ 7.65e-6, and ≤ 3e-9 below 2^−5", () => {
    agrees(tanhValue, (x) => Math.tanh(x), (x, fin) => (Math.abs(x) < 2 ** -5 ? 3e-9 : 7.65e-6 + coreRounding(fin, 1)));
    // tiny activations (1e-4 in Q7.24) keep their relative precision
    for (const v of [1e-4, -3.7e-4, 2e-6, 0.03]) {
      const got = Number(tanhValue(Math.round(v * 2 ** 24), 24, 24)) / 2 ** 24;
      expect(Math.abs(got - Math.tanh(Math.round(v * 2 ** 24) / 2 ** 24))).toBeLessThan(3e-9 + 2 ** -25);
    }
  });
  it("leaky_relu: exact up to the output rounding", () =>
    agrees(leakyReluValue, (x, a) => (x >= 0 ? x : (x * a) / ONE), () => 0, fc.tuple(q16, fc.constant(0))));
  it("elu: ≤ |alpha|·1.7e-8", () =>
    agrees(eluValue, (x, a) => (x >= 0 ? x : (a / ONE) * Math.expm1(x)), (_, fin) => 4 * (1.7e-8 + coreRounding(fin, 1)), fc.tuple(q16, fc.constant(0))));
  it("softplus: ≤ 2.4e-7", () =>
    agrees(softplusValue, (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), (_, fin) => 2.4e-7 + coreRounding(fin, 1)));
  it("clip: exact up to the output rounding", () =>
    agrees(
      clipValue,
      (x, lo, hi, fin) => Math.min(Math.max(x, real(lo, fin)), real(hi, fin)),
      () => 0,
      fc.tuple(int32, int32).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]),
    ),
  );
  it("gelu: ≤ |x|·1.3e-7", () => agrees(geluValue, (x) => x * phi(x), (x, fin) => Math.abs(x) * (1.3e-7 + coreRounding(fin, 0.4))));
  it("gelu_tanh: ≤ |x|·8.5e-6", () =>
    agrees(
      geluTanhValue,
      (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
      (x, fin) => Math.abs(x) * (8.5e-6 + coreRounding(fin, 1)),
    ));
  it("silu: ≤ |x|·7.65e-6", () => agrees(siluValue, (x) => x / (1 + Math.exp(-x)), (x, fin) => Math.abs(x) * (7.65e-6 + coreRounding(fin, 0.25))));
});

describe("clip's bounds are in the input format", () => {
  it("clips a Q15.16 word to [0, 6] (ReLU6) and converts", () => {
    const six = 6 * ONE;
    expect(clipValue(7 * ONE, 16, 16, 0, six)).toBe(BigInt(six));
    expect(clipValue(-ONE, 16, 24, 0, six)).toBe(0n);
    expect(clipValue(3 * ONE, 16, 24, 0, six)).toBe(3n << 24n);
  });
});

describe("where the functions are linear or flat, large inputs keep their exact value", () => {
  it("gelu and silu are x above 32768 and 0 below −32768; softplus is x; elu is −alpha", () => {
    const x = 100000 * 2 ** 8; // 100000 in Q23.8: beyond the Q16.16 core's range
    expect(geluValue(x, 8, 8)).toBe(BigInt(x));
    expect(siluValue(x, 8, 8)).toBe(BigInt(x));
    expect(softplusValue(x, 8, 8)).toBe(BigInt(x));
    expect(geluValue(-x, 8, 8)).toBe(0n);
    expect(siluValue(-x, 8, 8)).toBe(0n);
    expect(eluValue(-x, 8, 8, ONE / 2)).toBe(-(1n << 7n)); // −0.5 in Q23.8
  });
});

describe("addValue", () => {
  it("is the rounded, unsaturated sum of two words in their own formats", () => {
    expect(addValue(ONE, 1 << 24, 16, 24, 16)).toBe(2n * 65536n);
    expect(addValue(INT32_MAX, INT32_MAX, 0, 0, 0)).toBe(2n * 2147483647n); // unsaturated: the executor clamps
    fc.assert(
      fc.property(int32, int32, frac, frac, frac, (a, b, fa, fb, fout) => {
        const want = real(a, fa) + real(b, fb);
        const got = Number(addValue(a, b, fa, fb, fout)) / 2 ** fout;
        return Math.abs(got - want) <= 2 ** -(fout + 1) + 1e-15 * Math.abs(want);
      }),
      { numRuns: 20000 },
    );
  });
});

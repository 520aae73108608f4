import { describe, expect, it } from "vitest";
import {
  divFloor,
  EXP_ARG_MAX,
  expNeg,
  relu,
  sar,
  sigmoid,
  SIGMOID_MAX_ABS_ERROR,
  tanh,
  TANH_ARG_MAX,
  TANH_MAX_ABS_ERROR,
  LOG1P_MAX_ABS_ERROR,
  PHI_ARG_MAX,
  PHI_MAX_ABS_ERROR,
  log1p26,
  phi26,
} from "./activations.js";
import { erf } from "../compiler/float.js";

/** The standard normal CDF, from compiler/float.ts's float64 erf. */
const phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));

const ONE = 65536;
const Q26 = 2 ** 26;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Deterministic pseudo-random integers in [lo, hi] (xorshift32), so failures reproduce. */
function* randomInts(count: number, lo: number, hi: number, seed = 0x9e3779b9): Generator<number> {
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const hiBits = s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const r = (hiBits * 2 ** 32 + s) / 2 ** 64; // [0, 1)
    yield lo + Math.floor(r * (hi - lo + 1));
  }
}

/**
 * One pass over every integer x in [−clamp, clamp]: the max error against float64, monotonicity, the
 * symmetry identity, the output range, and the smallest x ≥ 0 from which the output is the limit `top`.
 * Beyond ±clamp the functions clamp their argument, so the output there is the output at ±clamp.
 */
type Sweep = {
  maxErr: number;
  argMaxErr: number;
  firstDecrease: number | null;
  firstSymmetryFailure: number | null;
  firstOutOfRange: number | null;
  saturatedFrom: number; // smallest x ≥ 0 with f(x) = top
};
function sweep(
  f: (x: number) => number,
  ref: (x: number) => number,
  clamp: number,
  top: number,
  bottom: number,
  mirror: (y: number) => number, // f(−x) must equal mirror(f(x))
): Sweep {
  let maxErr = 0;
  let argMaxErr = 0;
  let firstDecrease: number | null = null;
  let firstSymmetryFailure: number | null = null;
  let firstOutOfRange: number | null = null;
  let saturatedFrom = -1;
  let prev = -Infinity;
  const values = new Int32Array(2 * clamp + 1);
  for (let x = -clamp; x <= clamp; x++) {
    const y = f(x);
    values[x + clamp] = y;
    const err = Math.abs(y / ONE - ref(x / ONE));
    if (err > maxErr) {
      maxErr = err;
      argMaxErr = x;
    }
    if (y < prev && firstDecrease === null) firstDecrease = x;
    if (!(Number.isInteger(y) && y >= bottom && y <= top) && firstOutOfRange === null) firstOutOfRange = x;
    if (x >= 0 && saturatedFrom < 0 && y === top) saturatedFrom = x;
    prev = y;
  }
  for (let x = 1; x <= clamp; x++) {
    if (values[clamp - x] !== mirror(values[clamp + x]!)) {
      firstSymmetryFailure = x;
      break;
    }
  }
  return { maxErr, argMaxErr, firstDecrease, firstSymmetryFailure, firstOutOfRange, saturatedFrom };
}

/** Inputs beyond ±clamp: a stride through to the int32 ends, plus the ends themselves. */
function tailInputs(clamp: number): number[] {
  const xs: number[] = [];
  for (let x = clamp; x <= INT32_MAX; x += 1_000_003) xs.push(x, -x);
  xs.push(clamp + 1, -(clamp + 1), INT32_MAX, -INT32_MAX, INT32_MIN, 2 ** 30, -(2 ** 30));
  return xs;
}

const sigmoidRef = (r: number): number => 1 / (1 + Math.exp(-r));
const tanhRef = (r: number): number => Math.tanh(r);

let sigmoidSweep: Sweep | undefined;
const getSigmoidSweep = (): Sweep =>
  (sigmoidSweep ??= sweep(sigmoid, sigmoidRef, EXP_ARG_MAX, ONE, 0, (y) => ONE - y));
let tanhSweep: Sweep | undefined;
const getTanhSweep = (): Sweep => (tanhSweep ??= sweep(tanh, tanhRef, TANH_ARG_MAX, ONE, -ONE, (y) => -y));

describe("relu", () => {
  it("is max(x, 0) exactly", () => {
    expect(relu(0)).toBe(0);
    expect(Object.is(relu(-0), 0)).toBe(true);
    expect(relu(1)).toBe(1);
    expect(relu(-1)).toBe(0);
    expect(relu(ONE)).toBe(ONE);
    expect(relu(-ONE)).toBe(0);
    expect(relu(INT32_MAX)).toBe(INT32_MAX);
    expect(relu(INT32_MIN)).toBe(0);
    let mismatches = 0;
    for (const x of randomInts(10_000, INT32_MIN, INT32_MAX)) if (relu(x) !== (x > 0 ? x : 0)) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe("sar and divFloor", () => {
  it("sar(v, k) is floor(v / 2^k), rounding toward −infinity like an arithmetic shift", () => {
    expect(sar(5, 1)).toBe(2);
    expect(sar(-5, 1)).toBe(-3);
    expect(sar(-1, 26)).toBe(-1);
    expect(sar(2 ** 52 + 3, 2)).toBe(2 ** 50);
    const mismatches: string[] = [];
    for (const v of randomInts(10_000, -(2 ** 52), 2 ** 52)) {
      const k = Math.abs(v) % 40;
      if (sar(v, k) !== Number(BigInt(v) >> BigInt(k))) mismatches.push(`${v} >> ${k}`);
    }
    expect(mismatches).toEqual([]);
  });

  it("divFloor(a, b) is floor(a / b) exactly, also where the float quotient rounds across an integer", () => {
    const floorBig = (a: number, b: number): number => {
      const A = BigInt(a);
      const B = BigInt(b);
      const q = A / B; // truncates toward 0
      return Number(A % B !== 0n && A < 0n ? q - 1n : q);
    };
    expect(divFloor(7, 2)).toBe(3);
    expect(divFloor(-7, 2)).toBe(-4);
    expect(divFloor(-8, 2)).toBe(-4);
    expect(divFloor(0, 5)).toBe(0);
    // a = q·b − 1 with a large quotient: a / b in float64 rounds up to q, the true floor is q − 1.
    const b = 3;
    const a = 2 ** 53 - 2; // 9007199254740990 = 3 · 3002399751580330
    expect(divFloor(a - 1, b)).toBe(floorBig(a - 1, b));
    expect(divFloor(a, b)).toBe(floorBig(a, b));
    expect(divFloor(2 ** 52 - 1, 2 ** 52)).toBe(0);
    const mismatches: string[] = [];
    let checked = 0;
    for (const x of randomInts(20_000, -(2 ** 52), 2 ** 52)) {
      for (const d of [1, 2, 3, 7, 2 * (Q26 + (Math.abs(x) % Q26)), 2 ** 27 + 1, 2 ** 40 - 3]) {
        const m = Math.floor(x / d) * d; // near an exact multiple: x itself, the multiple and its neighbours
        for (const y of [x, m - 1, m, m + 1]) {
          if (Math.abs(y) >= 2 ** 52) continue;
          checked++;
          if (divFloor(y, d) !== floorBig(y, d)) mismatches.push(`${y} / ${d}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(500_000);
  });
});

describe("expNeg", () => {
  it("is exact at 0 and 0 for large arguments", () => {
    expect(expNeg(0)).toBe(Q26);
    expect(expNeg(1)).toBe(Math.round(Q26 * Math.exp(-1 / ONE)));
    expect(Math.abs(expNeg(ONE) - Q26 / Math.E)).toBeLessThanOrEqual(1.2);
    // 2^26 · e^(−x) < 1/2 once x > 27 ln 2 ≈ 18.715: the last non-zero value and the first zero.
    expect(expNeg(1226504)).toBe(1);
    expect(expNeg(1226505)).toBe(0);
    for (const a of [EXP_ARG_MAX - 1, EXP_ARG_MAX, EXP_ARG_MAX + 1, 20 * ONE, INT32_MAX, 2 ** 31, 2 ** 40, 2 ** 52]) {
      expect(expNeg(a)).toBe(0);
    }
  });

  it("is within 1.2 Q.26 ulp of 2^26·e^(−a/2^16), in [0, 2^26] and non-increasing, for every a in [0, EXP_ARG_MAX]", () => {
    let maxErr = 0;
    let prev = Q26;
    let firstBad: number | null = null;
    for (let a = 0; a <= EXP_ARG_MAX; a++) {
      const v = expNeg(a);
      maxErr = Math.max(maxErr, Math.abs(v - Q26 * Math.exp(-a / ONE)));
      if ((!Number.isInteger(v) || v < 0 || v > prev) && firstBad === null) firstBad = a;
      prev = v;
    }
    expect(firstBad).toBeNull();
    expect(maxErr).toBeLessThanOrEqual(1.2);
    expect(maxErr).toBeGreaterThan(0.5); // a rounded integer result: at least half an ulp somewhere
  });
});

describe("sigmoid", () => {
  it("edge values", () => {
    expect(sigmoid(0)).toBe(32768);
    expect(sigmoid(1)).toBe(32768); // σ(2^-16) − 1/2 ≈ 2^-18, below half an ulp
    expect(sigmoid(-1)).toBe(32768);
    // σ(2^-15)·2^16 = 32768.5 − 2^-34, a near tie; expNeg(2) = 67106816 is 0.03 ulp below 2^26·e^(−2^-15),
    // which makes 2^42 / (2^26 + e) just above 32768.5, so round half up gives 32769 (error still ≈ 1/2 ulp).
    expect(sigmoid(2)).toBe(32769);
    expect(sigmoid(-2)).toBe(32767);
    expect(sigmoid(ONE)).toBe(Math.round(ONE / (1 + Math.exp(-1)))); // 47911
    expect(sigmoid(-ONE)).toBe(ONE - sigmoid(ONE));
    expect(sigmoid(INT32_MAX)).toBe(ONE);
    expect(sigmoid(INT32_MIN)).toBe(0);
    expect(sigmoid(-INT32_MAX)).toBe(0);
  });

  it(`error ≤ SIGMOID_MAX_ABS_ERROR = ${SIGMOID_MAX_ABS_ERROR} on every x in [−EXP_ARG_MAX, EXP_ARG_MAX], and that bound is tight`, () => {
    const s = getSigmoidSweep();
    expect(s.maxErr).toBeLessThanOrEqual(SIGMOID_MAX_ABS_ERROR);
    expect(s.maxErr).toBeGreaterThan(0.8 * SIGMOID_MAX_ABS_ERROR);
    expect(s.maxErr).toBeGreaterThanOrEqual(2 ** -17); // rounding to Q16.16 alone costs 1/2 ulp
  });

  it("is monotonic non-decreasing, in [0, ONE], and σ(−x) = ONE − σ(x) on every x in [−EXP_ARG_MAX, EXP_ARG_MAX]", () => {
    const s = getSigmoidSweep();
    expect(s.firstDecrease).toBeNull();
    expect(s.firstOutOfRange).toBeNull();
    expect(s.firstSymmetryFailure).toBeNull();
  });

  it("saturates inside the exhaustive range and stays saturated through to ±2^31, within the error bound", () => {
    const s = getSigmoidSweep();
    // Non-decreasing and = ONE at EXP_ARG_MAX (the sweep): constant ONE on [saturatedFrom, EXP_ARG_MAX].
    expect(s.saturatedFrom).toBeGreaterThan(11 * ONE); // ≈ 772180 ≈ 11.78: 1 − σ(x) < 2^-17 from there
    expect(s.saturatedFrom).toBeLessThan(EXP_ARG_MAX);
    expect(sigmoid(s.saturatedFrom - 1)).toBe(ONE - 1);
    expect(sigmoid(EXP_ARG_MAX)).toBe(ONE);
    expect(sigmoid(-EXP_ARG_MAX)).toBe(0);
    // Beyond ±EXP_ARG_MAX expNeg clamps its argument, so the output is the output at ±EXP_ARG_MAX; the float
    // value only moves further toward the limit (its error there is below the error at saturatedFrom).
    for (const x of tailInputs(EXP_ARG_MAX)) {
      expect(sigmoid(x)).toBe(x > 0 ? ONE : 0);
      expect(Math.abs(sigmoid(x) / ONE - sigmoidRef(x / ONE))).toBeLessThanOrEqual(SIGMOID_MAX_ABS_ERROR);
    }
    expect(1 - sigmoidRef(s.saturatedFrom / ONE)).toBeLessThanOrEqual(SIGMOID_MAX_ABS_ERROR);
  });
});

describe("tanh", () => {
  it("edge values", () => {
    expect(Object.is(tanh(0), 0)).toBe(true);
    expect(tanh(1)).toBe(1);
    expect(tanh(-1)).toBe(-1);
    expect(tanh(ONE)).toBe(Math.round(ONE * Math.tanh(1))); // 49911
    expect(tanh(-ONE)).toBe(-tanh(ONE));
    expect(tanh(INT32_MAX)).toBe(ONE);
    expect(tanh(INT32_MIN)).toBe(-ONE);
    expect(tanh(-INT32_MAX)).toBe(-ONE);
  });

  it(`error ≤ TANH_MAX_ABS_ERROR = ${TANH_MAX_ABS_ERROR} on every x in [−TANH_ARG_MAX, TANH_ARG_MAX], and that bound is tight`, () => {
    const s = getTanhSweep();
    expect(s.maxErr).toBeLessThanOrEqual(TANH_MAX_ABS_ERROR);
    expect(s.maxErr).toBeGreaterThan(0.8 * TANH_MAX_ABS_ERROR);
    expect(s.maxErr).toBeGreaterThanOrEqual(2 ** -17);
  });

  it("is monotonic non-decreasing, in [−ONE, ONE], and tanh(−x) = −tanh(x) on every x in [−TANH_ARG_MAX, TANH_ARG_MAX]", () => {
    const s = getTanhSweep();
    expect(s.firstDecrease).toBeNull();
    expect(s.firstOutOfRange).toBeNull();
    expect(s.firstSymmetryFailure).toBeNull();
  });

  it("saturates inside the exhaustive range and stays saturated through to ±2^31, within the error bound", () => {
    const s = getTanhSweep();
    expect(s.saturatedFrom).toBeGreaterThan(6 * ONE); // ≈ 408771 ≈ 6.24: 1 − tanh(x) < 2^-17 from there
    expect(s.saturatedFrom).toBeLessThan(TANH_ARG_MAX);
    expect(tanh(s.saturatedFrom - 1)).toBe(ONE - 1);
    expect(tanh(TANH_ARG_MAX)).toBe(ONE);
    expect(tanh(-TANH_ARG_MAX)).toBe(-ONE);
    // Beyond ±TANH_ARG_MAX tanh clamps |x|, so the output is the output at ±TANH_ARG_MAX.
    for (const x of tailInputs(TANH_ARG_MAX)) {
      expect(tanh(x)).toBe(x > 0 ? ONE : -ONE);
      expect(Math.abs(tanh(x) / ONE - tanhRef(x / ONE))).toBeLessThanOrEqual(TANH_MAX_ABS_ERROR);
    }
    expect(1 - tanhRef(s.saturatedFrom / ONE)).toBeLessThanOrEqual(TANH_MAX_ABS_ERROR);
  });
});

describe("log1p26 (softplus's core)", () => {
  it(`error ≤ LOG1P_MAX_ABS_ERROR = ${LOG1P_MAX_ABS_ERROR} on every 7th e in [0, 2^26] and both ends, and the bound is tight`, () => {
    let worst = 0;
    const check = (e: number) => {
      const err = Math.abs(log1p26(e) / Q26 - Math.log1p(e / Q26));
      if (err > worst) worst = err;
    };
    for (let e = 0; e <= Q26; e += 7) check(e);
    check(Q26);
    expect(log1p26(0)).toBe(0);
    expect(worst).toBeLessThanOrEqual(LOG1P_MAX_ABS_ERROR);
    expect(worst).toBeGreaterThan(LOG1P_MAX_ABS_ERROR / 2);
  });

  it("is non-decreasing", () => {
    let prev = -1;
    for (let e = 0; e <= Q26; e += 997) {
      const v = log1p26(e);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
  });
});

describe("phi26 (GELU's core)", () => {
  it(`error ≤ PHI_MAX_ABS_ERROR = ${PHI_MAX_ABS_ERROR} on every x in [−2^20, 2^20], and the bound is tight`, () => {
    let worst = 0;
    for (let x = -(2 ** 20); x <= 2 ** 20; x++) {
      const err = Math.abs(phi26(x) / Q26 - phi(x / ONE));
      if (err > worst) worst = err;
    }
    expect(worst).toBeLessThanOrEqual(PHI_MAX_ABS_ERROR);
    expect(worst).toBeGreaterThan(PHI_MAX_ABS_ERROR / 2);
  });

  it("Φ(0) = 1/2, Φ(−x) = 1 − Φ(x), and Φ is 0 and 1 exactly past ±8 through to the int32 ends", () => {
    expect(phi26(0)).toBe(Q26 / 2);
    for (const x of randomInts(20000, INT32_MIN + 1, INT32_MAX)) expect(phi26(-x)).toBe(Q26 - phi26(x));
    for (const x of [PHI_ARG_MAX, PHI_ARG_MAX + 1, 2 ** 30, INT32_MAX]) {
      expect(phi26(x)).toBe(Q26);
      expect(phi26(-x)).toBe(0);
    }
    expect(phi26(INT32_MIN)).toBe(0);
  });
});

/**
 * The WASM kernel's arithmetic at scale (the fast checks are in ops.test.ts): accumulateDot over ≥ 100,000 random
 * chunks through both of its paths (the SIMD fast path and the exact split) and through the exact path alone,
 * including their saturation, and MNIST-like chunks at unaligned addresses; expNeg over every argument up to its
 * clamp; sigmoid, tanh and phi26 over every integer of the range where they are not constant plus a stride-1009
 * sweep of all of int32; log1p26 over its whole domain [0, 2^26] at a stride of 61. Bit for bit against vm/.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { EXP_ARG_MAX, PHI_ARG_MAX, TANH_ARG_MAX, expNeg, log1p26, phi26, sigmoid, tanh } from "../../vm/activations.js";
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, ONE, biasToAcc } from "../../vm/fixed.js";
import {
  type DotCase, INT32_EDGES, RANDOM, compare, fastPath, generate, k, loadOps, prng, randomDotCase, randomInt32, runDot,
} from "./ops-harness.js";

beforeAll(loadOps);

describe("accumulateDot ≡ accumulate(acc, dot(…)) of vm/fixed.ts, at scale", () => {
  it("≥ 100,000 random chunks, through both paths and through the exact path alone", () => {
    const r = prng(4);
    const cases = Array.from({ length: RANDOM }, () => randomDotCase(r));
    const fast = cases.filter(fastPath);
    const dispatch = runDot(cases, 0);
    const exactOnly = runDot(cases, 1);
    expect(dispatch.mismatches).toEqual([]);
    expect(exactOnly.mismatches).toEqual([]);
    expect(dispatch.results).toEqual(exactOnly.results);
    // Both paths are exercised heavily, including their saturation.
    expect(fast.length).toBeGreaterThan(30_000);
    expect(cases.length - fast.length).toBeGreaterThan(30_000);
    const saturated = (c: DotCase, i: number) => dispatch.results[i] === INT64_MAX || dispatch.results[i] === INT64_MIN ? c : null;
    const sat = cases.map(saturated).filter((c): c is DotCase => c !== null);
    expect(sat.filter(fastPath).length).toBeGreaterThan(1_000);
    expect(sat.filter((c) => !fastPath(c)).length).toBeGreaterThan(1_000);
    expect(cases.filter((c) => c.n === 32).length).toBeGreaterThan(40_000);
  });

  it("MNIST-like chunks (all on the fast path), at 16-byte-unaligned addresses like the step function's", () => {
    const r = prng(5);
    const cases: DotCase[] = [];
    for (let i = 0; i < 40_000; i++) {
      const w = Array.from({ length: 32 }, () => r.range(-(2 ** 16), 2 ** 16));
      const x = Array.from({ length: 32 }, () => (r.u32() % 3 === 0 ? 0 : r.range(0, 2 ** 17)));
      cases.push({ acc: i % 2 ? biasToAcc(r.range(-(2 ** 17), 2 ** 17), 16) : BigInt(r.range(-(2 ** 40), 2 ** 40)), w, x, n: r.pick([32, 32, 32, 16, r.range(0, 32)]) });
    }
    expect(cases.every(fastPath)).toBe(true);
    const mixed = Array.from({ length: 20_000 }, () => randomDotCase(r));
    for (const misalign of [0, 1, 2, 3]) {
      expect(runDot(cases, 0, misalign).mismatches).toEqual([]);
      expect(runDot(mixed, 0, misalign).mismatches).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("activations.ts ≡ vm/activations.ts, exhaustively", () => {
  it("expNeg: every a in [0, EXP_ARG_MAX + 16], and ≥ 100,000 random a up to 2^53", () => {
    const dense = Array.from({ length: EXP_ARG_MAX + 17 }, (_, a) => a);
    const random = generate(8, RANDOM, (r) => {
      switch (r.u32() % 4) {
        case 0:
          return r.range(0, 2 ** 31);
        case 1:
          return r.range(0, 1_300_000);
        case 2:
          return EXP_ARG_MAX + r.range(-50_000, 50_000);
        default:
          return r.range(0, 2 ** r.range(0, 53) - 1);
      }
    }, [0, 1, 1226504, 1226505, EXP_ARG_MAX - 1, EXP_ARG_MAX, EXP_ARG_MAX + 1, 2 ** 31, 2 ** 53 - 1]);
    const inputs = [...dense, ...random].map(BigInt);
    const { checked, mismatches } = compare("i64", "i64", inputs, k.batchExpNeg, (a) => BigInt(expNeg(Number(a))));
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(100_000 + EXP_ARG_MAX);
    expect([k.expNeg(0n), k.expNeg(1226504n) > 0n, k.expNeg(1226505n), k.expNeg(1n << 31n)]).toEqual([1n << 26n, true, 0n, 0n]);
  });

  /** Every integer in [−clamp − 16, clamp + 16], the whole int32 range at a stride, and random values. */
  function activationInputs(clamp: number, seed: number): number[] {
    const xs: number[] = [];
    for (let x = -clamp - 16; x <= clamp + 16; x++) xs.push(x);
    for (let x = INT32_MIN; x <= INT32_MAX; x += 1009) xs.push(x); // 4.26 M values, all residues mod small numbers
    xs.push(...INT32_EDGES);
    return xs.concat(generate(seed, RANDOM, randomInt32));
  }

  it("sigmoid: every x where it is not constant, a stride-1009 sweep of int32, ≥ 100,000 random x", () => {
    const inputs = activationInputs(EXP_ARG_MAX, 9);
    const { checked, mismatches } = compare("i32", "i32", inputs, k.batchSigmoid, sigmoid);
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(2 * EXP_ARG_MAX + 4_000_000 + 100_000);
    expect([k.sigmoid(0), k.sigmoid(INT32_MIN), k.sigmoid(INT32_MAX)]).toEqual([ONE / 2, 0, ONE]);
  });

  it("tanh: every x where it is not constant, a stride-1009 sweep of int32, ≥ 100,000 random x", () => {
    const inputs = activationInputs(TANH_ARG_MAX, 10);
    const { checked, mismatches } = compare("i32", "i32", inputs, k.batchTanh, tanh);
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(2 * TANH_ARG_MAX + 4_000_000 + 100_000);
    expect([k.tanh(0), k.tanh(INT32_MIN), k.tanh(INT32_MAX)]).toEqual([0, -ONE, ONE]);
  });

  it("log1p26: every e in [0, 2^26] at a stride of 61 and its neighbours, both ends, ≥ 100,000 random e", () => {
    const inputs: number[] = [0, 1, 2, 2 ** 25, 2 ** 26 - 1, 2 ** 26];
    for (let e = 0; e <= 2 ** 26; e += 61) inputs.push(e, Math.min(e + 1, 2 ** 26));
    inputs.push(...generate(13, RANDOM, (r) => (r.u32() % 2 === 0 ? r.range(0, 2 ** 26) : r.range(0, 2 ** r.range(0, 26)))));
    const { checked, mismatches } = compare("i64", "i64", inputs.map(BigInt), k.batchLog1p26, (e) => BigInt(log1p26(Number(e))));
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(2 * 2 ** 26 / 61 + 100_000);
    expect([k.log1p26(0n), k.log1p26(1n << 26n)]).toEqual([0n, BigInt(log1p26(2 ** 26))]);
  });

  it("phi26: every x in [−PHI_ARG_MAX − 16, PHI_ARG_MAX + 16], a stride-1009 sweep of int32, ≥ 100,000 random x", () => {
    const inputs = activationInputs(PHI_ARG_MAX, 14);
    const { checked, mismatches } = compare("i32", "i64", inputs, k.batchPhi26, (x) => BigInt(phi26(x)));
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(2 * PHI_ARG_MAX + 4_000_000 + 100_000);
    expect([k.phi26(0), k.phi26(INT32_MIN), k.phi26(INT32_MAX)]).toEqual([1n << 25n, 0n, 1n << 26n]);
  });
});

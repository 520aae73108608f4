import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { insn, prng } from "../test/helpers/bytecode.js";
import { bitLength, floorDiv, isqrt, layerMean, layerScale } from "./layernorm.js";
import { FlatMemory, LEAF_WORDS, alignUp, dataBase } from "./memory.js";
import { INITIAL_STATE, type State } from "./state.js";
import { step } from "./step.js";

const DEPTH = 9;
const BASE = dataBase(DEPTH);

describe("the integer helpers", () => {
  it("isqrt is ⌊sqrt(v)⌋ exactly, up to 2^64", () => {
    for (const v of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, (1n << 62n) - 1n, 1n << 62n, (1n << 64n) - 1n]) {
      const r = isqrt(v);
      expect(r * r <= v && (r + 1n) * (r + 1n) > v).toBe(true);
    }
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
      const r = isqrt(v);
      return r * r <= v && (r + 1n) * (r + 1n) > v;
    }), { numRuns: 20000 });
  });

  it("bitLength and floorDiv", () => {
    expect([0n, 1n, 2n, 3n, 4n, (1n << 62n)].map(bitLength)).toEqual([0, 1, 2, 2, 3, 63]);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-8n, 2n)).toBe(-4n);
  });

  it("the mean rounds half up", () => {
    expect(layerMean(5n, 2)).toBe(3); // 2.5
    expect(layerMean(-5n, 2)).toBe(-2); // −2.5
    expect(layerMean(-7n, 3)).toBe(-2); // −2.33
  });

  it("W = 0 (every word equal, eps below the variance's resolution) gives a zero scale", () => {
    expect(layerScale(0n, 8, 0, 1)).toBe(0n);
  });
});

/** Runs one LAYERNORM over `x` (words in fin) with gamma/beta, returning the output words and the steps' saturation counts. */
function runLayerNorm(x: number[], gamma: number[], beta: number[], fin: number, fout: number, eps: number, inPlace = false) {
  const n = x.length;
  const memory = new FlatMemory(2 * BASE);
  memory.words.set(gamma, 0);
  memory.words.set(beta, alignUp(n, LEAF_WORDS));
  memory.words.set(x, BASE);
  const dst = inPlace ? BASE : BASE + alignUp(n, 32);
  const instruction = insn("LAYERNORM", BASE, dst, n, 0, fin, fout, Math.round(eps * 2 ** 32));
  let s: State = INITIAL_STATE;
  let steps = 0;
  let saturated = 0;
  while (s.pc === 0) {
    const r = step(s, instruction, memory);
    if (r.write) memory.write(r.write);
    saturated += r.saturated ?? 0;
    s = r.state;
    steps++;
  }
  return { y: Array.from(memory.words.subarray(dst, dst + n)), steps, saturated };
}

/**
 * The error on z that the integer passes allow, beyond z16's rounding: each of the n terms of W = Σd²/2^(k+2) (and
 * the eps term) loses < 1, so W is off by < 2n/W relatively and z (∝ W^−1/2) by < n/W of |z|; the mean is rounded
 * to a word, which moves every deviation by ≤ 1/2 word: ≤ 1/(2σ) on z, σ the standard deviation in words.
 */
function truncation(x: number[], z: number): number {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const k = Math.ceil(Math.log2(n));
  const squares = x.reduce((a, v) => a + (v - mean) ** 2, 0);
  const w = squares / 2 ** (k + 2);
  return w > 0 ? (Math.abs(z) * n) / w + 0.5 / Math.sqrt(squares / n) : 0;
}

function layerNormFloat(x: number[], gamma: number[], beta: number[], eps: number): number[] {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return x.map((v, t) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[t] + beta[t]);
}

describe("LAYERNORM", () => {
  it("agrees with float64 on random vectors, sizes, scales and formats (error ≤ |gamma|·2e-5 + an ulp of fout)", () => {
    const rand = prng(12);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 100);
      const fin = [8, 12, 16, 20, 24][trial % 5];
      const fout = [16, 24, 10][trial % 3];
      // Words from ~2^10 to ~2^27, as the compiler's formats give (a value's format leaves it ≥ 16 significant bits
      // and 16× headroom); the spread from n tiny deviations around a large mean to a wide vector.
      const magnitude = 2 ** (10 + 17 * rand() - fin);
      const mean = (rand() * 2 - 1) * magnitude * [0, 1, 8][trial % 3];
      const xs = Array.from({ length: n }, () => mean + (rand() * 2 - 1) * magnitude);
      const x = xs.map((v) => Math.round(v * 2 ** fin));
      const g = Array.from({ length: n }, () => (rand() * 2 - 1) * 2);
      const b = Array.from({ length: n }, () => rand() - 0.5);
      const gamma = g.map((v) => Math.round(v * 65536));
      const beta = b.map((v) => Math.round(v * 2 ** fout));
      const eps = 1e-5;
      const { y, steps, saturated } = runLayerNorm(x, gamma, beta, fin, fout, eps, trial % 2 === 0);
      expect(steps).toBe(3 * Math.ceil(n / 8));
      expect(saturated).toBe(0);
      const want = layerNormFloat(x.map((v) => v / 2 ** fin), gamma.map((v) => v / 65536), beta.map((v) => v / 2 ** fout), eps);
      const z = layerNormFloat(x, Array(n).fill(1), Array(n).fill(0), eps * 4 ** fin);
      const tol = (t: number) => Math.abs(gamma[t] / 65536) * (1.6e-5 + truncation(x, z[t])) + 2 ** -fout;
      y.forEach((v, t) => expect(Math.abs(v / 2 ** fout - want[t])).toBeLessThanOrEqual(tol(t)));
    }
  });

  it("handles int32-extreme words without overflow", () => {
    const x = [2147483647, -2147483648, 2147483647, -2147483648, 0, 5, -5, 2147483647, -2147483648];
    const n = x.length;
    const { y } = runLayerNorm(x, Array(n).fill(65536), Array(n).fill(0), 16, 16, 0);
    const want = layerNormFloat(x, Array(n).fill(1), Array(n).fill(0), 0);
    y.forEach((v, t) => expect(Math.abs(v / 65536 - want[t])).toBeLessThan(3e-5));
  });

  it("eps counts where the variance is of its size", () => {
    // deviations of ±0.001 in Q15.16: var 1e-6, eps 1e-5 dominates; float64 says z = ±0.001/sqrt(1.1e-5) = ±0.3015
    const x = [65536 + 66, 65536 - 66, 65536 + 66, 65536 - 66];
    const { y } = runLayerNorm(x, Array(4).fill(65536), Array(4).fill(0), 16, 16, 1e-5);
    const want = layerNormFloat(x.map((v) => v / 65536), [1, 1, 1, 1], [0, 0, 0, 0], 1e-5);
    y.forEach((v, t) => expect(Math.abs(v / 65536 - want[t])).toBeLessThan(1.6e-5 + truncation(x, 0.31)));
    expect(Math.abs(want[0])).toBeGreaterThan(0.3);
  });

  it("a constant vector normalizes to beta", () => {
    const { y } = runLayerNorm(Array(11).fill(12345), Array(11).fill(65536), Array(11).fill(7), 16, 16, 1e-5);
    expect(y).toEqual(Array(11).fill(7));
  });

  it("counts an output that its format cannot hold", () => {
    // gamma 1000: z·gamma reaches ~2000, beyond Q7.24's ±128
    const { saturated } = runLayerNorm([0, 65536, 2 * 65536, 3 * 65536], Array(4).fill(1000 * 65536), Array(4).fill(0), 16, 24, 1e-5);
    expect(saturated).toBe(4);
  });

  it("reads src in passes 0 and 1, then src, gamma, beta and dst (unless in place) in pass 2", () => {
    const n = 10;
    const memory = new FlatMemory(2 * BASE);
    const reads: number[] = [];
    const reader = { readLeaf: (a: number) => (reads.push(a), memory.readLeaf(a)), readChunk: (a: number) => memory.readChunk(a) };
    const instruction = insn("LAYERNORM", BASE, BASE + 32, n, 0, 16, 16, 0);
    let s: State = INITIAL_STATE;
    while (s.pc === 0) {
      const r = step(s, instruction, reader);
      if (r.write) memory.write(r.write);
      s = r.state;
    }
    expect(reads).toEqual([BASE, BASE + 8, BASE, BASE + 8, BASE, 0, 16, BASE + 32, BASE + 8, 8, 24, BASE + 40]);
  });
});

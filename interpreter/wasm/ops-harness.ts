/**
 * The harness of the kernel-arithmetic tests (ops.test.ts, ops.slow.test.ts): one kernel instance and its
 * buffers, a seeded PRNG with generators of the values that matter (ties, saturation points, int32 / int64 ends,
 * MNIST-like magnitudes), and batch comparisons of a kernel entry (assembly/testing.ts) against its TypeScript
 * specification that return the first few mismatches. accumulateDot's cases (random chunks by kind, hand-picked
 * edges) live here too, since both suites use them.
 */
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, MAX_SHIFT, ONE, accumulate, biasToAcc, dot } from "../../vm/fixed.js";
import { instantiateKernel } from "./load.js";

export type Batch = (inPtr: number, outPtr: number, n: number) => void;
export type Batch2 = (inPtr: number, shiftPtr: number, outPtr: number, n: number) => void;
export interface Ops {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  sat32(x: bigint): number;
  biasToAcc(bias: number, shift: number): bigint;
  shiftRound(v: bigint, s: number): bigint;
  rescale(acc: bigint, shift: number): number;
  divRound(v: bigint, d: bigint): bigint;
  convert(x: number, from: number, to: number): number;
  overflows32(v: bigint): number;
  log1p26(e: bigint): bigint;
  phi26(x: number): bigint;
  sar(v: bigint, k: bigint): bigint;
  divFloor(a: bigint, b: bigint): bigint;
  relu(x: number): number;
  expNeg(a: bigint): bigint;
  sigmoid(x: number): number;
  tanh(x: number): number;
  batchSat32: Batch;
  batchBiasToAcc: Batch2;
  batchShiftRound: Batch2;
  batchRescale: Batch2;
  batchDivRound: Batch2;
  batchWindow: Batch;
  batchConvert: Batch;
  batchRelu: Batch;
  batchExpNeg: Batch;
  batchLog1p26: Batch;
  batchPhi26: Batch;
  batchSigmoid: Batch;
  batchTanh: Batch;
  batchUnary(op: number, inPtr: number, outPtr: number, n: number): void;
  batchAddValue: Batch;
  batchAccumulateDot(accPtr: number, wPtr: number, xPtr: number, nsPtr: number, outPtr: number, clampedPtr: number, count: number, exact: number): void;
}

export const RANDOM = 120_000; // random vectors per op
export const BATCH = 1 << 16; // elements per WASM call for the element-wise ops
export const DOT_BATCH = 1 << 14; // cases per WASM call for accumulateDot
export const MAX_REPORTED = 5;

/** The kernel instance the ops tests share, with its buffers: loadOps() (in a beforeAll) sets them. */
export let k: Ops;
export let inPtr = 0; // BATCH × 20 bytes (records of 5 i32, or i64 values)
export let shiftPtr = 0; // BATCH × 4 bytes
export let outPtr = 0; // BATCH × 8 bytes
export let accPtr = 0; // DOT_BATCH × 8
export let nsPtr = 0; // DOT_BATCH × 4
export let wPtr = 0; // DOT_BATCH × 128 + 16 (slack for the misaligned runs)
export let xPtr = 0;
export let dotOutPtr = 0; // DOT_BATCH × 8
export let clampedPtr = 0; // DOT_BATCH × 4

export function loadOps(): void {
  k = instantiateKernel() as unknown as Ops;
  inPtr = k.alloc(BATCH * 20);
  shiftPtr = k.alloc(BATCH * 4);
  outPtr = k.alloc(BATCH * 8);
  accPtr = k.alloc(DOT_BATCH * 8);
  nsPtr = k.alloc(DOT_BATCH * 4);
  wPtr = k.alloc(DOT_BATCH * 128 + 16);
  xPtr = k.alloc(DOT_BATCH * 128 + 16);
  dotOutPtr = k.alloc(DOT_BATCH * 8);
  clampedPtr = k.alloc(DOT_BATCH * 4);
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded PRNG (xorshift128), so that a failure reproduces.

export function prng(seed: number) {
  let a = seed >>> 0 || 1;
  let b = 0x9e3779b9;
  let c = 0x243f6a88;
  let d = 0xb7e15162;
  const u32 = (): number => {
    const t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return d;
  };
  for (let i = 0; i < 16; i++) u32();
  /** An integer in [lo, hi], for hi − lo < 2^53. */
  const range = (lo: number, hi: number): number => lo + Math.floor(((u32() * 2 ** 21 + (u32() >>> 11)) / 2 ** 53) * (hi - lo + 1));
  const int32 = (): number => u32() | 0;
  const int64 = (): bigint => BigInt.asIntN(64, (BigInt(u32()) << 32n) | BigInt(u32()));
  const pick = <T>(xs: readonly T[]): T => xs[u32() % xs.length]!;
  const sign = (): number => (u32() & 1 ? 1 : -1);
  return { u32, range, int32, int64, pick, sign };
}
export type Rng = ReturnType<typeof prng>;

/** int32 inputs: uniform, small, near the ends, MNIST-like magnitudes, ±2^k ± small. */
export function randomInt32(r: Rng): number {
  switch (r.u32() % 6) {
    case 0:
      return r.int32();
    case 1:
      return r.range(-1024, 1024);
    case 2:
      return r.u32() & 1 ? INT32_MAX - r.range(0, 100) : INT32_MIN + r.range(0, 100);
    case 3:
      return r.range(-(2 ** 20), 2 ** 20); // activations of a trained MLP: |x| ≲ 16
    case 4:
      return r.sign() * 2 ** r.range(0, 30) + r.range(-3, 3);
    default:
      return r.range(-(2 ** 24), 2 ** 24);
  }
}

/** int64 accumulators: uniform, near rounding ties, near the int32 saturation of rescale, near the int64 ends, realistic. */
export function randomAcc(r: Rng): bigint {
  switch (r.u32() % 7) {
    case 0:
      return r.int64();
    case 1: // q·2^16 ± 2^15 + d: ties and their neighbours, of either sign
      return (BigInt(r.range(-(2 ** 31) - 2, 2 ** 31 + 1)) << 16n) + BigInt(r.sign() * 32768 + r.range(-2, 2));
    case 2: // around the points where rescale starts to saturate
      return r.u32() & 1
        ? (2147483647n << 16n) + 32768n + BigInt(r.range(-70000, 70000))
        : (-2147483648n << 16n) - 32768n + BigInt(r.range(-70000, 70000));
    case 3:
      return r.u32() & 1 ? INT64_MAX - BigInt(r.range(0, 2 ** 20)) : INT64_MIN + BigInt(r.range(0, 2 ** 20));
    case 4:
      return BigInt(r.range(-(2 ** 40), 2 ** 40)); // realistic Q32.32 row sums
    case 5:
      return BigInt(r.range(-(2 ** 20), 2 ** 20));
    default:
      return BigInt(r.sign()) * (1n << BigInt(r.range(0, 62))) + BigInt(r.range(-3, 3));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Element-wise comparison: inputs through a WASM batch entry and through the TypeScript function.

export type Lane = "i32" | "i64";
export function view(lane: Lane, ptr: number, n: number): Int32Array | BigInt64Array {
  return lane === "i32" ? new Int32Array(k.memory.buffer, ptr, n) : new BigInt64Array(k.memory.buffer, ptr, n);
}

/** Runs `inputs` through `batch` and compares with `ref`; returns the (first few) mismatches and the count checked. */
export function compare<I extends number | bigint, O extends number | bigint>(
  inLane: Lane,
  outLane: Lane,
  inputs: readonly I[],
  batch: Batch,
  ref: (x: I) => O,
): { checked: number; mismatches: string[] } {
  const mismatches: string[] = [];
  for (let start = 0; start < inputs.length; start += BATCH) {
    const n = Math.min(BATCH, inputs.length - start);
    const src = view(inLane, inPtr, n);
    for (let i = 0; i < n; i++) src[i] = inputs[start + i] as never;
    batch(inPtr, outPtr, n);
    const out = view(outLane, outPtr, n);
    for (let i = 0; i < n; i++) {
      const x = inputs[start + i]!;
      const expected = ref(x);
      if (out[i] !== expected && mismatches.length < MAX_REPORTED) mismatches.push(`f(${x}) = ${out[i]}, expected ${expected}`);
    }
  }
  return { checked: inputs.length, mismatches };
}

/** The same for (value, shift) pairs through a two-input batch entry (shifts as i32). */
export function compareShifted<I extends number | bigint, O extends number | bigint>(
  inLane: Lane,
  outLane: Lane,
  inputs: readonly (readonly [I, number])[],
  batch: Batch2,
  ref: (x: I, s: number) => O,
): { checked: number; mismatches: string[] } {
  const mismatches: string[] = [];
  for (let start = 0; start < inputs.length; start += BATCH) {
    const n = Math.min(BATCH, inputs.length - start);
    const src = view(inLane, inPtr, n);
    const shifts = new Int32Array(k.memory.buffer, shiftPtr, n);
    for (let i = 0; i < n; i++) {
      src[i] = inputs[start + i]![0] as never;
      shifts[i] = inputs[start + i]![1];
    }
    batch(inPtr, shiftPtr, outPtr, n);
    const out = view(outLane, outPtr, n);
    for (let i = 0; i < n; i++) {
      const [x, sh] = inputs[start + i]!;
      const expected = ref(x, sh);
      if (out[i] !== expected && mismatches.length < MAX_REPORTED) mismatches.push(`f(${x}, ${sh}) = ${out[i]}, expected ${expected}`);
    }
  }
  return { checked: inputs.length, mismatches };
}

/** A record of five int32 operands: (x, fin, fout, p0, p1) for a unary op, (a, b, fa, fb, fout) for ADD, (x, from, to, ·, ·) for convert. */
export type Rec = readonly [number, number, number, number, number];

/** The same for records, through `call(inPtr, outPtr, n)`. */
export function compareRecords<O extends number | bigint>(outLane: Lane, records: readonly Rec[], call: Batch, ref: (r: Rec) => O): { checked: number; mismatches: string[] } {
  const mismatches: string[] = [];
  for (let start = 0; start < records.length; start += BATCH) {
    const n = Math.min(BATCH, records.length - start);
    const src = new Int32Array(k.memory.buffer, inPtr, 5 * n);
    for (let i = 0; i < n; i++) src.set(records[start + i]!, 5 * i);
    call(inPtr, outPtr, n);
    const out = view(outLane, outPtr, n);
    for (let i = 0; i < n; i++) {
      const r = records[start + i]!;
      const expected = ref(r);
      if (out[i] !== expected && mismatches.length < MAX_REPORTED) mismatches.push(`f(${r.join(", ")}) = ${out[i]}, expected ${expected}`);
    }
  }
  return { checked: records.length, mismatches };
}

export function generate<T>(seed: number, count: number, gen: (r: Rng) => T, edges: readonly T[] = []): T[] {
  const r = prng(seed);
  const xs = [...edges];
  for (let i = 0; i < count; i++) xs.push(gen(r));
  return xs;
}

export const INT32_EDGES = [0, 1, -1, 2, -2, ONE, -ONE, ONE / 2, -ONE / 2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 2 ** 30, -(2 ** 30)];
export const ACC_EDGES = [
  0n, 1n, -1n, 32767n, -32767n, 32768n, -32768n, 32769n, -32769n, 65535n, -65535n, 65536n + 32768n, -(65536n + 32768n),
  INT64_MAX, INT64_MIN, INT64_MAX - 1n, INT64_MIN + 1n, 1n << 32n, -(1n << 32n),
  (2147483647n << 16n) + 32767n, (2147483647n << 16n) + 32768n, (-2147483648n << 16n) - 32767n, (-2147483648n << 16n) - 32768n,
  (-2147483648n << 16n) - 32769n, 2147483647n, 2147483648n, -2147483648n, -2147483649n,
];

// ---------------------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------------------
// accumulateDot(acc, w, x, n) ≡ accumulate(acc, dot(w, off, x, off, n)).

export type DotCase = { acc: bigint; w: number[]; x: number[]; n: number };

export const EXTREMES = [INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, -(2 ** 30), 2 ** 30];

/** A chunk's words, by kind: [w, x]. */
export function randomChunk(r: Rng): [number[], number[]] {
  const kind = r.u32() % 8;
  const wide = r.u32() & 1;
  const productSign = r.u32() % 4 === 0 ? r.sign() : 1; // per chunk: mostly all products of one sign
  const w: number[] = [];
  const x: number[] = [];
  for (let t = 0; t < 32; t++) {
    switch (kind === 7 ? r.u32() % 7 : kind) {
      case 0: // uniform int32
        w.push(r.int32());
        x.push(r.int32());
        break;
      case 1: // MNIST-like: |w| ≲ 2^16, 0 ≤ x ≲ 2^17
        w.push(r.range(-(2 ** 16), 2 ** 16));
        x.push(r.range(0, 2 ** 17));
        break;
      case 2:
        w.push(r.range(-256, 256));
        x.push(r.range(-256, 256));
        break;
      case 3: // the int32 ends: products near 2^62, sums far beyond int64
        w.push(r.pick(EXTREMES));
        x.push(r.pick(EXTREMES));
        break;
      case 4: {
        // The fast path's bound. |w|, |x| < 2^29 (clz sum 6) passes: the sum stays below 2^63. With wide = 1, |w|
        // reaches 2^30 − 1 (clz sum 5) and, the products sharing one sign, the sum often passes 2^63: it must not
        // take the fast path. One x word at 2^29 also fails the bound.
        const wv = r.sign() * r.range(2 ** 28, wide ? 2 ** 30 - 1 : 2 ** 29 - 1);
        w.push(wv);
        x.push(Math.sign(wv) * productSign * (r.u32() % 64 === 0 ? 2 ** 29 : r.range(2 ** 28, 2 ** 29 - 1)));
        break;
      }
      case 5: // mostly zero, a few extremes
        w.push(r.u32() % 8 === 0 ? r.pick(EXTREMES) : 0);
        x.push(r.u32() % 2 === 0 ? r.pick(EXTREMES) : r.range(-3, 3));
        break;
      default: // wide magnitude mix
        w.push(r.sign() * 2 ** r.range(0, 31) + r.range(-1, 0));
        x.push(r.sign() * 2 ** r.range(0, 31) + r.range(-1, 0));
    }
  }
  return [w.map((v) => v | 0), x.map((v) => v | 0)];
}

export function randomDotCase(r: Rng): DotCase {
  const [w, x] = randomChunk(r);
  const roll = r.u32() % 10;
  const n = roll < 4 ? 32 : roll < 5 ? 16 : r.range(0, 32);
  const sum = dot(Int32Array.from(w), 0, Int32Array.from(x), 0, n);
  let acc: bigint;
  switch (r.u32() % 6) {
    case 0:
      acc = 0n;
      break;
    case 1:
      acc = biasToAcc(randomInt32(r), r.range(0, MAX_SHIFT));
      break;
    case 2: // acc + sum lands within a few units of INT64_MAX / INT64_MIN / 0: the exact saturation boundary
      acc = r.pick([INT64_MAX, INT64_MIN, 0n]) - sum + BigInt(r.range(-3, 3));
      acc = acc > INT64_MAX ? INT64_MAX : acc < INT64_MIN ? INT64_MIN : acc;
      break;
    default:
      acc = randomAcc(r);
  }
  return { acc, w, x, n };
}

/** The chunk's words all take the fast path's bound: clz(OR |w|) + clz(OR |x|) ≥ 6 (see assembly/fixed.ts). */
export function fastPath(c: DotCase): boolean {
  let mw = 0;
  let mx = 0;
  for (let t = 0; t < c.n; t++) {
    mw |= Math.abs(c.w[t]!) | 0;
    mx |= Math.abs(c.x[t]!) | 0;
  }
  return Math.clz32(mw) + Math.clz32(mx) >= 6;
}

/**
 * Runs the cases through batchAccumulateDot (exact = 0: the dispatching accumulateDot, 1: accumulateDotExact only),
 * case k's words starting `misalign` words after word 32·k, and compares with the TypeScript reference.
 */
export function runDot(cases: readonly DotCase[], exact: number, misalign = 0): { mismatches: string[]; results: bigint[] } {
  const mismatches: string[] = [];
  const results: bigint[] = [];
  for (let start = 0; start < cases.length; start += DOT_BATCH) {
    const count = Math.min(DOT_BATCH, cases.length - start);
    const words = count * 32 + 4;
    const W = new Int32Array(k.memory.buffer, wPtr, words);
    const X = new Int32Array(k.memory.buffer, xPtr, words);
    const A = new BigInt64Array(k.memory.buffer, accPtr, count);
    const N = new Int32Array(k.memory.buffer, nsPtr, count);
    W.fill(0);
    X.fill(0);
    for (let i = 0; i < count; i++) {
      const c = cases[start + i]!;
      A[i] = c.acc;
      N[i] = c.n;
      for (let t = 0; t < c.n; t++) {
        W[i * 32 + misalign + t] = c.w[t]!;
        X[i * 32 + misalign + t] = c.x[t]!;
      }
      // Case i owns words [32i + misalign, 32i + misalign + 32); those past n must not count: fill them with garbage.
      for (let t = c.n; t < 32; t++) {
        W[i * 32 + misalign + t] = INT32_MIN;
        X[i * 32 + misalign + t] = INT32_MIN;
      }
    }
    k.batchAccumulateDot(accPtr, wPtr + 4 * misalign, xPtr + 4 * misalign, nsPtr, dotOutPtr, clampedPtr, count, exact);
    const out = new BigInt64Array(k.memory.buffer, dotOutPtr, count);
    const clamped = new Int32Array(k.memory.buffer, clampedPtr, count);
    for (let i = 0; i < count; i++) {
      const c = cases[start + i]!;
      const off = i * 32 + misalign;
      const sum = dot(W, off, X, off, c.n);
      const expected = accumulate(c.acc, sum);
      const expectedClamp = expected === c.acc + sum ? 0 : 1; // vm/step.ts's saturation test
      results.push(out[i]!);
      if ((out[i] !== expected || clamped[i] !== expectedClamp) && mismatches.length < MAX_REPORTED) {
        mismatches.push(`acc=${c.acc} n=${c.n} w=[${c.w.slice(0, c.n)}] x=[${c.x.slice(0, c.n)}]: ${out[i]} (clamped ${clamped[i]}), expected ${expected} (${expectedClamp})`);
      }
    }
  }
  return { mismatches, results };
}

/** Hand-picked chunks: n = 0, 1, 2, 32; all-extreme chunks whose sum overflows int64; sums that land exactly on the int64 ends. */
export function edgeDotCases(): { c: DotCase; expected: bigint }[] {
  const fill = (v: number) => Array.from({ length: 32 }, () => v);
  const P62 = 1n << 62n;
  const out: { c: DotCase; expected: bigint }[] = [];
  const add = (acc: bigint, w: number[], x: number[], n: number, expected: bigint) => out.push({ c: { acc, w: [...w, ...fill(0)].slice(0, 32), x: [...x, ...fill(0)].slice(0, 32), n }, expected });
  for (const acc of [0n, 1n, -1n, INT64_MAX, INT64_MIN]) add(acc, fill(INT32_MIN), fill(INT32_MIN), 0, acc); // n = 0: acc unchanged
  add(0n, [INT32_MIN], [INT32_MIN], 1, P62);
  add(P62 - 1n, [INT32_MIN], [INT32_MIN], 1, INT64_MAX); // exactly 2^63 − 1
  add(P62, [INT32_MIN], [INT32_MIN], 1, INT64_MAX); // 2^63: saturates
  add(INT64_MIN, [INT32_MIN], [INT32_MIN], 1, INT64_MIN + P62);
  add(INT64_MAX, [0], [0], 1, INT64_MAX); // lands exactly on the end: no clamp
  add(INT64_MIN, [1], [0], 1, INT64_MIN);
  add(0n, [INT32_MAX], [INT32_MAX], 1, 4611686014132420609n);
  add(0n, [INT32_MIN], [INT32_MAX], 1, -4611686016279904256n);
  add(-1n, [INT32_MIN, INT32_MIN], [INT32_MIN, INT32_MIN], 2, INT64_MAX); // sum 2^63 overflows int64; acc brings it back
  add(-2n, [INT32_MIN, INT32_MIN], [INT32_MIN, INT32_MIN], 2, INT64_MAX - 1n);
  add(0n, [INT32_MIN, INT32_MIN], [INT32_MIN, INT32_MIN], 2, INT64_MAX);
  add(INT64_MIN, [INT32_MIN, INT32_MIN], [INT32_MIN, INT32_MIN], 2, 0n);
  add(0n, [INT32_MIN, INT32_MIN], [INT32_MIN, -INT32_MAX], 2, P62 + (P62 - (1n << 31n))); // 2^63 − 2^31: fits, just below INT64_MAX
  add(0n, [INT32_MIN, INT32_MIN], [INT32_MAX, INT32_MAX], 2, INT64_MIN + (1n << 32n)); // −2^63 + 2^32: fits
  add(-(1n << 32n), [INT32_MIN, INT32_MIN], [INT32_MAX, INT32_MAX], 2, INT64_MIN); // exactly −2^63
  add(-(1n << 32n) - 1n, [INT32_MIN, INT32_MIN], [INT32_MAX, INT32_MAX], 2, INT64_MIN); // saturates
  for (const acc of [0n, INT64_MIN, INT64_MAX]) {
    add(acc, fill(INT32_MIN), fill(INT32_MIN), 32, INT64_MAX); // 2^67
    add(acc, fill(INT32_MAX), fill(INT32_MAX), 32, INT64_MAX);
    add(acc, fill(INT32_MIN), fill(INT32_MAX), 32, INT64_MIN); // −2^67 + 2^36
    add(acc, fill(INT32_MAX), fill(INT32_MIN), 32, INT64_MIN);
  }
  add(0n, fill(ONE), fill(ONE), 32, 32n << 32n);
  add(0n, fill(-1), fill(1), 32, -32n);
  add(7n, fill(1), fill(-1), 16, -9n);
  add(0n, fill(2 ** 29 - 1), fill(2 ** 29 - 1), 32, 32n * (2n ** 29n - 1n) ** 2n); // the largest fast-path sum
  add(INT64_MAX, fill(2 ** 29 - 1), fill(2 ** 29 - 1), 32, INT64_MAX); // … saturating on the fast path
  add(INT64_MIN, fill(-(2 ** 29 - 1)), fill(2 ** 29 - 1), 32, INT64_MIN);
  add(-1n, fill(2 ** 29), fill(2 ** 29), 32, INT64_MAX); // 32·2^58 = 2^63 (exact path), −1: exactly INT64_MAX
  add(0n, fill(2 ** 29), fill(2 ** 29), 32, INT64_MAX);
  add(0n, fill(2 ** 30 - 1), fill(2 ** 29 - 1), 32, INT64_MAX); // clz sum 5, ≈ 2^64: must not take the fast path
  add(0n, fill(-(2 ** 30 - 1)), fill(2 ** 29 - 1), 32, INT64_MIN);
  return out;
}

/**
 * Derives the integer constants of vm/activations.ts, so that they are reproducible:
 *
 *   npx tsx scripts/fit-exp2.ts          (about 70 s; prints every candidate's errors, then the constants)
 *
 * expNeg(a) ≈ 2^26 · e^(−a/2^16) writes e^(−x) = 2^(−x·log2 e) = 2^(−n) · 2^(−f/2^26), with u = x·log2(e) in
 * Q.26 (rounded), n = floor(u / 2^26), f = u mod 2^26. The polynomial P(g) ≈ 2^W · 2^(−f/2^26) (W = 26 + G, G
 * guard bits) is evaluated at g = f − CENTER by Horner with integer coefficients in Q.W:
 *
 *   p = C[d];  for k = d−1 … 0:  p = C[k] + floor((p·g + R) / 2^26)       R = 0 ("floor") or 2^25 ("round")
 *
 * and finally P / 2^(n+G) is rounded to Q.26 (one rounding, half up).
 *
 * Exactness: every Horner partial sum Σ_{j≥k} C[j]·g^(j−k) / 2^W (k ≥ 1) is below 1 in magnitude (the checks
 * below measure it), so |p·g| < 2^W · max|g|. Uncentered (CENTER = 0): g < 2^26 allows G ≤ 1; centered
 * (CENTER = 2^25, |g| ≤ 2^25) allows G ≤ 2: |p·g| < 2^28 · 2^25 = 2^53, exact in float64.
 *
 * Candidates: degree d ∈ {4 … 7}; uncentered with C[0] pinned to 2^W (P(0) = 2^W exactly), G ∈ {0, 1}; and
 * centered, G ∈ {0, 1, 2}; each with "floor" and "round" Horner steps. For each, two float64 fits of 2^(−y)
 * on y ∈ [0, 1] in powers of (y − CENTER/2^26):
 *   - "lsq":   least squares on 4096 Chebyshev nodes,
 *   - "remez": minimax (Remez exchange),
 * rounded to Q.W integers, then tuned by ±1 coordinate descent on the integers to minimise the max error of the
 * INTEGER evaluation over a 2^17-point sample, and (if that sample error is below 1 ulp) checked exhaustively
 * on all 2^26 values of f after the reduction to Q.26. Degrees are tried upwards until one has a candidate whose
 * exhaustive max error is below 1 Q.26 ulp and that meets the range requirements; among those the fewest
 * operations win, then the smallest error.
 * Then the whole expNeg pipeline is checked on every a in [0, EXP_ARG_MAX].
 *
 * Everything here is float64 / plain-number integer arithmetic; nothing is read from vm/activations.ts.
 */

const Q26 = 2 ** 26;
const ONE = 65536;

type Variant = { centered: boolean; G: 0 | 1 | 2; round: boolean };
const center = (v: Variant): number => (v.centered ? 2 ** 25 : 0);

/** Exact value in Q.26 units: 2^26 · 2^(−f/2^26). Float64 error ≈ 1e-8 ulp, negligible. */
function target(f: number): number {
  return Q26 * Math.pow(2, -f / Q26);
}

/** The integer Horner evaluation; c = [C0, …, Cd] in Q.(26+G); returns P(f − CENTER) in Q.(26+G). */
function horner(c: readonly number[], f: number, v: Variant): number {
  const R = v.round ? 2 ** 25 : 0;
  const g = f - center(v);
  let p = c[c.length - 1]!;
  for (let k = c.length - 2; k >= 0; k--) p = c[k]! + Math.floor((p * g + R) / Q26);
  return p;
}

/** Round P / 2^s half up (s ≥ 0). */
function roundShift(P: number, s: number): number {
  return s === 0 ? P : Math.floor((P + 2 ** (s - 1)) / 2 ** s);
}

/** Max |P/2^G − target| over a sample (the smooth objective used for tuning). */
function sampleErr(c: readonly number[], fs: Float64Array, v: Variant): number {
  let m = 0;
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i]!;
    const e = Math.abs(horner(c, f, v) / 2 ** v.G - target(f));
    if (e > m) m = e;
  }
  return m;
}

type Exhaustive = { maxErr: number; argMax: number; atZero: number; maxQ26: number; maxAbsPartial: number; last: number };

/** Exhaustive check over all 2^26 f of round(P / 2^G); also the largest |p| that gets multiplied in Horner. */
function exhaustive(c: readonly number[], v: Variant): Exhaustive {
  const R = v.round ? 2 ** 25 : 0;
  let m = 0;
  let argMax = 0;
  let maxQ26 = -Infinity;
  let maxAbsPartial = 0;
  let last = 0;
  let atZero = 0;
  for (let f = 0; f < Q26; f++) {
    const g = f - center(v);
    let p = c[c.length - 1]!;
    for (let k = c.length - 2; k >= 0; k--) {
      if (Math.abs(p) > maxAbsPartial) maxAbsPartial = Math.abs(p);
      p = c[k]! + Math.floor((p * g + R) / Q26);
    }
    const r = roundShift(p, v.G);
    const e = Math.abs(r - target(f));
    if (e > m) {
      m = e;
      argMax = f;
    }
    if (r > maxQ26) maxQ26 = r;
    if (f === 0) atZero = r;
    last = r;
  }
  return { maxErr: m, argMax, atZero, maxQ26, maxAbsPartial, last };
}

/** Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r]![col]!) > Math.abs(M[piv]![col]!)) piv = r;
    [M[col], M[piv]] = [M[piv]!, M[col]!];
    for (let r = col + 1; r < n; r++) {
      const fac = M[r]![col]! / M[col]![col]!;
      for (let k = col; k <= n; k++) M[r]![k]! -= fac * M[col]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/**
 * A fit problem: 2^(−y) on y ∈ [0, 1] as Σ c_k s^k with s = y − s0 (s0 = CENTER / 2^26). When pinned (s0 = 0),
 * c_0 = 1 and only c_1..c_d are fitted, to 2^(−s) − 1 (their error vanishes at s = 0).
 */
type Problem = { d: number; s0: number; pinned: boolean };
const ks = (p: Problem): number[] => Array.from({ length: p.pinned ? p.d : p.d + 1 }, (_, i) => (p.pinned ? i + 1 : i));
const rhs = (p: Problem, s: number): number => Math.pow(2, -(s + p.s0)) - (p.pinned ? 1 : 0);
const full = (p: Problem, c: number[]): number[] => (p.pinned ? [1, ...c] : c);

/** Least squares on Chebyshev nodes (normal equations; conditioning is ample at these degrees). */
function lsqFit(p: Problem): number[] {
  const N = 4096;
  const K = ks(p);
  const G: number[][] = K.map(() => new Array<number>(K.length).fill(0));
  const r = new Array<number>(K.length).fill(0);
  for (let i = 0; i < N; i++) {
    const s = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / N) - p.s0;
    const phi = K.map((k) => s ** k);
    for (let a = 0; a < K.length; a++) {
      r[a]! += phi[a]! * rhs(p, s);
      for (let b = 0; b < K.length; b++) G[a]![b]! += phi[a]! * phi[b]!;
    }
  }
  return full(p, solve(G, r));
}

/** Minimax by Remez exchange: |K| coefficients + the levelled error, on |K|+1 reference points. */
function remezFit(p: Problem): number[] {
  const K = ks(p);
  const m = K.length + 1;
  // Initial reference: Chebyshev extrema; pinned problems skip s = 0, where the error is 0 by construction.
  let xs = Array.from({ length: m }, (_, i) =>
    p.pinned ? 0.5 - 0.5 * Math.cos((Math.PI * (i + 1)) / m) : 0.5 - 0.5 * Math.cos((Math.PI * i) / (m - 1)) - p.s0,
  );
  const GRID = 20000;
  let c: number[] = [];
  for (let iter = 0; iter < 40; iter++) {
    const A = xs.map((x, i) => [...K.map((k) => x ** k), i % 2 === 0 ? 1 : -1]);
    c = solve(
      A,
      xs.map((x) => rhs(p, x)),
    ).slice(0, K.length);
    const err = (s: number): number => K.reduce((acc, k, i) => acc + c[i]! * s ** k, 0) - rhs(p, s);
    // New reference: the extremum of each sign run of the error on a fine grid.
    const ext: number[] = [];
    let best = 0;
    let bestS = 0;
    let sign = 0;
    for (let i = p.pinned ? 1 : 0; i <= GRID; i++) {
      const s = i / GRID - p.s0;
      const e = err(s);
      const sg = Math.sign(e);
      if (sg !== 0 && sg !== sign) {
        if (sign !== 0) ext.push(bestS);
        sign = sg;
        best = 0;
      }
      if (Math.abs(e) >= best) {
        best = Math.abs(e);
        bestS = s;
      }
    }
    ext.push(bestS);
    if (ext.length !== m) break; // keep the last solution
    const moved = ext.reduce((mv, x, i) => Math.max(mv, Math.abs(x - xs[i]!)), 0);
    xs = ext;
    if (moved < 1e-12) break;
  }
  return full(p, c);
}

/** Round real coefficients to Q.(26+G) integers (pinned C0 = 2^(26+G) kept), then ±1 coordinate descent. */
function roundAndTune(real: number[], pinned: boolean, sample: Float64Array, v: Variant): number[] {
  const W = 2 ** (26 + v.G);
  const c = real.map((x) => Math.round(x * W));
  if (pinned) c[0] = W;
  let cur = sampleErr(c, sample, v);
  for (let improved = true; improved; ) {
    improved = false;
    for (let k = pinned ? 1 : 0; k < c.length; k++) {
      for (const step of [-1, 1]) {
        for (;;) {
          c[k]! += step;
          const e = sampleErr(c, sample, v);
          if (e < cur - 1e-12) {
            cur = e;
            improved = true;
          } else {
            c[k]! -= step;
            break;
          }
        }
      }
    }
  }
  return c;
}

// Tuning sample: a uniform stride including both ends of [0, 2^26) (2^17 points).
const sample = new Float64Array(1 << 17);
for (let i = 0; i < sample.length; i++) sample[i] = Math.floor((i * (Q26 - 1)) / (sample.length - 1));

const variants: Variant[] = [];
for (const centered of [false, true])
  for (const G of centered ? ([0, 1, 2] as const) : ([0, 1] as const))
    for (const round of [false, true]) variants.push({ centered, G, round });
const vname = (v: Variant): string => `${v.centered ? "centered" : "at 0    "} G=${v.G} ${v.round ? "round" : "floor"}`;

console.log("real (float64) fits: max |poly − 2^(−y)| over [0, 1], in Q.26 ulps");
type Fit = { d: number; centered: boolean; fit: string; real: number[] };
const fits: Fit[] = [];
for (const d of [4, 5, 6, 7]) {
  for (const centered of [false, true]) {
    const prob: Problem = { d, s0: centered ? 0.5 : 0, pinned: !centered };
    for (const [name, fit] of [
      ["lsq", lsqFit],
      ["remez", remezFit],
    ] as const) {
      const real = fit(prob);
      let realMax = 0;
      for (let i = 0; i <= 100000; i++) {
        const s = i / 100000 - prob.s0;
        realMax = Math.max(realMax, Math.abs(real.reduce((acc, ck, k) => acc + ck * s ** k, 0) - Math.pow(2, -(s + prob.s0))));
      }
      console.log(`  degree ${d} ${centered ? "centered" : "at 0    "} ${name.padEnd(6)} ${(realMax * Q26).toFixed(4)}`);
      // A fit already worse than 1/2 ulp in exact arithmetic cannot end below 1 ulp after integer rounding.
      if (realMax * Q26 < 0.5) fits.push({ d, centered, fit: name, real });
    }
  }
}

type Cand = { d: number; fit: string; v: Variant; c: number[]; ex: Exhaustive };
const cands: Cand[] = [];
// Requirements: error below 1 ulp; expNeg(0) = 2^26 exactly and never above it; every product exact (|p·g| plus
// the rounding term < 2^53); the value at the top of the interval ≥ 2^25 (expNeg must not increase where n
// steps up by one).
const ok = (x: Cand): boolean =>
  x.ex.maxErr < 1 &&
  x.ex.atZero === Q26 &&
  x.ex.maxQ26 === Q26 &&
  x.ex.maxAbsPartial * (x.v.centered ? 2 ** 25 : Q26) + 2 ** 25 < 2 ** 53 &&
  x.ex.last >= Q26 / 2;
console.log("");
console.log("integer evaluation reduced to Q.26 (max error: exhaustive over all 2^26 f if the 2^17 sample is below 1)");
console.log("  degree variant                fit      max err (ulp)  max|p·g| / 2^53   round(P(0))−2^26  max−2^26  last−2^25");
for (const { d, centered, fit, real } of fits) {
  // Degrees are tried in increasing order; stop once a degree has produced a passing candidate.
  if (cands.some((x) => x.d < d && ok(x))) break;
  for (const v of variants.filter((x) => x.centered === centered)) {
    const c = roundAndTune(real, !centered, sample, v);
    const sErr = sampleErr(c, sample, v);
    const head = `  ${d}      ${vname(v).padEnd(22)} ${fit.padEnd(6)}`;
    if (sErr >= 1) {
      console.log(`${head}   ≥ ${sErr.toFixed(4)} (sample)`);
      continue;
    }
    const ex = exhaustive(c, v);
    cands.push({ d, fit, v, c, ex });
    const prodBound = (ex.maxAbsPartial * (centered ? 2 ** 25 : Q26)) / 2 ** 53;
    console.log(
      `${head}     ${ex.maxErr.toFixed(4)}         ${prodBound.toFixed(4)}            ${ex.atZero - Q26}                 ` +
        `${ex.maxQ26 - Q26}         ${ex.last - Q26 / 2}`,
    );
  }
}

// Operations: d multiply-shift steps, + d additions for "round", + 1 subtraction for centering.
const cost = (x: Cand): number => x.d * 10 + (x.v.round ? x.d : 0) + (x.v.centered ? 1 : 0);
const best = cands.filter(ok).sort((a, b) => cost(a) - cost(b) || a.ex.maxErr - b.ex.maxErr)[0];
if (best === undefined) throw new Error("no candidate meets the requirements");

// ---- The whole expNeg pipeline of vm/activations.ts, with the chosen polynomial ----------------------------
const LOG2E_Q26 = Math.round(Math.LOG2E * Q26); // round(log2(e) · 2^26)

/** expNeg as vm/activations.ts computes it (clamp first; amax = Infinity for the unclamped formula). */
function expNegModel(a: number, amax: number): number {
  const x = Math.min(a, amax);
  const u = Math.floor((x * LOG2E_Q26 + 2 ** 15) / 2 ** 16); // x·log2(e) in Q.26, rounded
  const n = Math.floor(u / Q26);
  const f = u - n * Q26;
  return roundShift(horner(best.c, f, best.v), n + best.v.G);
}
// The first a giving 0; the scan below shows expNeg is non-increasing, so it stays 0 from there on.
let zeroFrom = 0;
while (expNegModel(zeroFrom, Infinity) !== 0) zeroFrom++;
const EXP_ARG_MAX = Math.ceil(zeroFrom / ONE) * ONE; // a round clamp at/after the first zero
let pipeMax = 0;
let pipeArg = 0;
let prev = Infinity;
for (let a = 0; a <= EXP_ARG_MAX; a++) {
  const val = expNegModel(a, EXP_ARG_MAX);
  if (val > prev) throw new Error(`expNeg increases at a = ${a}`);
  if (a >= zeroFrom && val !== 0) throw new Error(`expNeg(${a}) is not 0`);
  prev = val;
  const e = Math.abs(val - Q26 * Math.exp(-a / ONE));
  if (e > pipeMax) {
    pipeMax = e;
    pipeArg = a;
  }
}

console.log("");
console.log(
  `chosen: degree ${best.d}, ${best.fit} fit, ${vname(best.v).replace(/ +/g, " ")}: ` +
    `max error ${best.ex.maxErr.toFixed(4)} Q.26 ulp over all 2^26 f`,
);
console.log(`expNeg, every a in [0, EXP_ARG_MAX]: max error ${pipeMax.toFixed(4)} Q.26 ulp (at a = ${pipeArg}), non-increasing`);
console.log(`expNeg is 0 from a = ${zeroFrom} (${(zeroFrom / ONE).toFixed(4)}) on`);
console.log(`largest |p| multiplied in Horner: ${best.ex.maxAbsPartial} (< 2^${Math.log2(best.ex.maxAbsPartial).toFixed(3)})`);
console.log("");
console.log(`const LOG2E_Q26 = ${LOG2E_Q26}; // round(log2(e) · 2^26)`);
console.log(`const EXP_ARG_MAX = ${EXP_ARG_MAX}; // ${EXP_ARG_MAX / ONE} · ONE (expNeg is 0 from ${zeroFrom} on)`);
const fact = [1, 1, 2, 6, 24, 120, 720, 5040, 40320];
const s0 = center(best.v) / Q26;
best.c.forEach((ck, k) => {
  // Taylor coefficient of 2^(−y) about y = s0: 2^(−s0) · (−ln 2)^k / k!
  const taylor = ((Math.pow(2, -s0) * Math.pow(-Math.LN2, k)) / fact[k]!) * 2 ** (26 + best.v.G);
  console.log(`const EXP2_C${k} = ${ck}; // Taylor: 2^(−${s0}) · (−ln 2)^${k}/${k}! · 2^${26 + best.v.G} = ${taylor.toFixed(1)}`);
});

// Batch entry points for interpreter/wasm/ops.test.ts (TypeScript ≡ WASM, bit for bit) and a micro-benchmark of
// the dense inner loop. Nothing in the kernel calls these. Every array lives in linear memory (buffers from
// `alloc`): i32 arrays are 4 bytes per element, i64 arrays 8, all little-endian.
import { accumulateDot, accumulateDotExact, biasToAcc, rescale, sat32 } from "./fixed";
import { expNeg, relu, sigmoid, tanh } from "./activations";

/** out[k] = sat32(in[k]) for k < n; in: i64[], out: i32[]. */
export function batchSat32(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i32>(outPtr + (k << 2), sat32(load<i64>(inPtr + (k << 3))));
}

/** out[k] = biasToAcc(in[k]); in: i32[], out: i64[]. */
export function batchBiasToAcc(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i64>(outPtr + (k << 3), biasToAcc(load<i32>(inPtr + (k << 2))));
}

/** out[k] = rescale(in[k]); in: i64[], out: i32[]. */
export function batchRescale(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i32>(outPtr + (k << 2), rescale(load<i64>(inPtr + (k << 3))));
}

/**
 * Case k: out[k] = accumulateDot(acc[k], w + 128k, x + 128k, ns[k]) (exact = 0), or the same through
 * accumulateDotExact only (exact ≠ 0). acc, out: i64[count]; ns: i32[count]; w, x: 32 i32 words per case, at a
 * stride of 32 words from wPtr / xPtr (which need not be 16-byte aligned).
 */
export function batchAccumulateDot(accPtr: usize, wPtr: usize, xPtr: usize, nsPtr: usize, outPtr: usize, count: i32, exact: i32): void {
  for (let k: usize = 0; k < <usize>count; k++) {
    const acc = load<i64>(accPtr + (k << 3));
    const w = wPtr + (k << 7);
    const x = xPtr + (k << 7);
    const n = load<i32>(nsPtr + (k << 2));
    store<i64>(outPtr + (k << 3), exact ? accumulateDotExact(acc, w, x, n) : accumulateDot(acc, w, x, n));
  }
}

/** out[k] = relu(in[k]); i32[] → i32[]. */
export function batchRelu(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i32>(outPtr + (k << 2), relu(load<i32>(inPtr + (k << 2))));
}

/** out[k] = expNeg(in[k]); i64[] → i64[]. */
export function batchExpNeg(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i64>(outPtr + (k << 3), expNeg(load<i64>(inPtr + (k << 3))));
}

/** out[k] = sigmoid(in[k]); i32[] → i32[]. */
export function batchSigmoid(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i32>(outPtr + (k << 2), sigmoid(load<i32>(inPtr + (k << 2))));
}

/** out[k] = tanh(in[k]); i32[] → i32[]. */
export function batchTanh(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i32>(outPtr + (k << 2), tanh(load<i32>(inPtr + (k << 2))));
}

/**
 * Micro-benchmark: `reps` times, a dense layer's rows as the step function computes them: for each of `rows`
 * rows, acc = biasToAcc(0), then accumulateDot over ⌈inputs/32⌉ chunks of w (row-major, rows × chunks × 32
 * words, zero-padded) against x, then rescale. Returns a checksum so that nothing is optimized away.
 * MACs performed: reps · rows · inputs.
 */
export function benchDense(wPtr: usize, xPtr: usize, inputs: i32, rows: i32, reps: i32): i64 {
  const chunks = (inputs + 31) >> 5;
  let check: i64 = 0;
  for (let r = 0; r < reps; r++) {
    for (let row = 0; row < rows; row++) {
      let acc = biasToAcc(row + r);
      for (let c = 0; c < chunks; c++) {
        const offset = c << 5;
        const n = min(32, inputs - offset);
        acc = accumulateDot(acc, wPtr + ((<usize>(row * chunks + c) << 5) << 2), xPtr + (<usize>offset << 2), n);
      }
      check += rescale(acc);
    }
  }
  return check;
}

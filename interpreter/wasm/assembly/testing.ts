// Batch entry points for interpreter/wasm/ops.test.ts (TypeScript ≡ WASM, bit for bit) and a micro-benchmark of
// the dense inner loop. Nothing in the kernel calls these. Every array lives in linear memory (buffers from
// `alloc`): i32 arrays are 4 bytes per element, i64 arrays 8, all little-endian.
import { accumulateClamped, accumulateDot, accumulateDotExact, biasToAcc, convert, divRound, rescale, sat32, shiftRound } from "./fixed";
import { expNeg, log1p26, phi26, relu, sigmoid, tanh } from "./activations";
import { addValue } from "./elementwise";
import { applyUnary } from "./step";
import {
  decodeWindow, im2colPieces, imageAddress, imageColumn, outputPixels, patchWords, rowHi, rowIh, rowLo, windowRow,
} from "./window";

/** out[k] = sat32(in[k]) for k < n; in: i64[], out: i32[]. */
export function batchSat32(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i32>(outPtr + (k << 2), sat32(load<i64>(inPtr + (k << 3))));
}

/** out[k] = biasToAcc(in[k], shifts[k]); in, shifts: i32[], out: i64[]. */
export function batchBiasToAcc(inPtr: usize, shiftPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    store<i64>(outPtr + (k << 3), biasToAcc(load<i32>(inPtr + (k << 2)), load<i32>(shiftPtr + (k << 2))));
  }
}

/** out[k] = shiftRound(in[k], shifts[k]); in: i64[], shifts: i32[], out: i64[]. */
export function batchShiftRound(inPtr: usize, shiftPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    store<i64>(outPtr + (k << 3), shiftRound(load<i64>(inPtr + (k << 3)), load<i32>(shiftPtr + (k << 2))));
  }
}

/** out[k] = divRound(in[k], d[k]); in: i64[], d: u32[] (as i32), out: i64[]. */
export function batchDivRound(inPtr: usize, dPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    store<i64>(outPtr + (k << 3), divRound(load<i64>(inPtr + (k << 3)), <i64>load<u32>(dPtr + (k << 2))));
  }
}

/**
 * The window geometry (assembly/window.ts) on the record (channels, image, out, kernel, pad, oh, ow, kh, kw0, kw1,
 * base, c) at in + 48k (12 i32): out + 32k gets 8 i32, windowRow's (ih, lo, hi), then imageAddress(base, c, ih,
 * imageColumn(ow, kw0)), imageColumn(ow, kw0), patchWords, outputPixels, im2colPieces.
 */
export function batchWindow(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    const r = inPtr + k * 48;
    const o = outPtr + k * 32;
    decodeWindow(load<i32>(r), load<i32>(r, 4), load<i32>(r, 8), load<i32>(r, 12), load<i32>(r, 16));
    const ow = load<i32>(r, 24);
    const kw0 = load<i32>(r, 32);
    windowRow(load<i32>(r, 20), ow, load<i32>(r, 28), kw0, load<i32>(r, 36));
    store<i32>(o, rowIh);
    store<i32>(o, rowLo, 4);
    store<i32>(o, rowHi, 8);
    store<i32>(o, imageAddress(load<i32>(r, 40), load<i32>(r, 44), rowIh, imageColumn(ow, kw0)), 12);
    store<i32>(o, imageColumn(ow, kw0), 16);
    store<i32>(o, patchWords(), 20);
    store<i32>(o, outputPixels(), 24);
    store<i32>(o, im2colPieces(), 28);
  }
}

/** out[k] = rescale(in[k], shifts[k]); in: i64[], shifts: i32[], out: i32[]. */
export function batchRescale(inPtr: usize, shiftPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    store<i32>(outPtr + (k << 2), rescale(load<i64>(inPtr + (k << 3)), load<i32>(shiftPtr + (k << 2))));
  }
}

/** out[k] = convert(x, from, to) for the record (x, from, to) at in + 20k (5 i32 per record, the last two unused); out: i32[]. */
export function batchConvert(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    const r = inPtr + k * 20;
    store<i32>(outPtr + (k << 2), convert(load<i32>(r), load<i32>(r, 4), load<i32>(r, 8)));
  }
}

/**
 * Case k: out[k] = accumulateDot(acc[k], w + 128k, x + 128k, ns[k]) (exact = 0), or the same through
 * accumulateDotExact only (exact ≠ 0), and clamped[k] = accumulateClamped after it (cleared before and after). acc, out:
 * i64[count]; ns, clamped: i32[count]; w, x: 32 i32 words per case, at a stride of 32 words from wPtr / xPtr
 * (which need not be 16-byte aligned).
 */
export function batchAccumulateDot(accPtr: usize, wPtr: usize, xPtr: usize, nsPtr: usize, outPtr: usize, clampedPtr: usize, count: i32, exact: i32): void {
  for (let k: usize = 0; k < <usize>count; k++) {
    const acc = load<i64>(accPtr + (k << 3));
    const w = wPtr + (k << 7);
    const x = xPtr + (k << 7);
    const n = load<i32>(nsPtr + (k << 2));
    accumulateClamped = 0;
    store<i64>(outPtr + (k << 3), exact ? accumulateDotExact(acc, w, x, n) : accumulateDot(acc, w, x, n));
    store<i32>(clampedPtr + (k << 2), accumulateClamped);
    accumulateClamped = 0;
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

/** out[k] = log1p26(in[k]); i64[] → i64[]. */
export function batchLog1p26(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i64>(outPtr + (k << 3), log1p26(load<i64>(inPtr + (k << 3))));
}

/** out[k] = phi26(in[k]); i32[] → i64[]. */
export function batchPhi26(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) store<i64>(outPtr + (k << 3), phi26(load<i32>(inPtr + (k << 2))));
}

/**
 * The value function of unary opcode `op` (RELU … SILU but ARGMAX) on the record (x, fin, fout, p0, p1) at in + 20k
 * (5 i32 per record); out: i64[] (the unsaturated value).
 */
export function batchUnary(op: i32, inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    const r = inPtr + k * 20;
    store<i64>(outPtr + (k << 3), applyUnary(op, load<i32>(r), load<i32>(r, 4), load<i32>(r, 8), load<i32>(r, 12), load<i32>(r, 16)));
  }
}

/** out[k] = addValue(a, b, fa, fb, fout) for the record (a, b, fa, fb, fout) at in + 20k; out: i64[]. */
export function batchAddValue(inPtr: usize, outPtr: usize, n: i32): void {
  for (let k: usize = 0; k < <usize>n; k++) {
    const r = inPtr + k * 20;
    store<i64>(outPtr + (k << 3), addValue(load<i32>(r), load<i32>(r, 4), load<i32>(r, 8), load<i32>(r, 12), load<i32>(r, 16)));
  }
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
 * rows, acc = biasToAcc(row + r, 16), then accumulateDot over ⌈inputs/32⌉ chunks of w (row-major, rows × chunks × 32
 * words, zero-padded) against x, then rescale. Returns a checksum so that nothing is optimized away.
 * MACs performed: reps · rows · inputs.
 */
export function benchDense(wPtr: usize, xPtr: usize, inputs: i32, rows: i32, reps: i32): i64 {
  const chunks = (inputs + 31) >> 5;
  let check: i64 = 0;
  for (let r = 0; r < reps; r++) {
    for (let row = 0; row < rows; row++) {
      let acc = biasToAcc(row + r, 16);
      for (let c = 0; c < chunks; c++) {
        const offset = c << 5;
        const n = min(32, inputs - offset);
        acc = accumulateDot(acc, wPtr + ((<usize>(row * chunks + c) << 5) << 2), xPtr + (<usize>offset << 2), n);
      }
      check += rescale(acc, 16);
    }
  }
  return check;
}

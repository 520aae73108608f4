/**
 * The output size of a convolution or pooling window along one axis, as ONNX (and PyTorch, which writes the
 * models) define it: floor or ceil mode, explicit pads or auto_pad. Kept apart from the handlers so the formulas
 * can be tested on their own against the numbers PyTorch prints.
 *
 * With an effective kernel span e = (k − 1)·d + 1 and pads b (begin) and a (end) on an input of n:
 *   floor mode:  out = ⌊(n + b + a − e) / s⌋ + 1
 *   ceil mode:   out = ⌈(n + b + a − e) / s⌉ + 1, minus one when the last window would start at or past
 *                n + b (inside the end padding): PyTorch's rule, which ONNX Runtime follows too. The
 *                ceiling of a negative room is 0, so a kernel wider than the padded input still has one
 *                window (PyTorch's MaxPool2d(2, ceil_mode=True) on a 1×1 image gives 1×1).
 *   auto_pad SAME_UPPER / SAME_LOWER: out = ⌈n / s⌉, total padding max(0, (out − 1)·s + e − n), the odd
 *                cell at the end (UPPER) or the beginning (LOWER); VALID: no padding.
 */
import { ModelFormatError } from "../graph.js";

export type AutoPad = "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER";

export const AUTO_PADS: readonly AutoPad[] = ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"];

/** The span of a kernel of k taps at dilation d. */
export function kernelSpan(k: number, d: number): number {
  return (k - 1) * d + 1;
}

/** [begin, end] padding of one axis under auto_pad SAME_UPPER / SAME_LOWER. */
export function samePads(n: number, k: number, s: number, d: number, mode: "SAME_UPPER" | "SAME_LOWER"): [number, number] {
  const out = Math.ceil(n / s);
  const total = Math.max(0, (out - 1) * s + kernelSpan(k, d) - n);
  const small = Math.floor(total / 2);
  return mode === "SAME_UPPER" ? [small, total - small] : [total - small, small];
}

/** The number of window positions along one axis (see the header); 0 or less when the kernel does not fit. */
export function outputSize(n: number, k: number, s: number, d: number, begin: number, end: number, ceil: boolean): number {
  const room = n + begin + end - kernelSpan(k, d);
  if (!ceil) return Math.floor(room / s) + 1;
  let out = Math.floor((room + s - 1) / s) + 1;
  if ((out - 1) * s >= n + begin) out--;
  return out;
}

/**
 * The pads [top, left, bottom, right] a node's attributes mean for a 2-D window over an h×w image: `pads`
 * (ONNX order [x1_begin, x2_begin, x1_end, x2_end]) under NOTSET, zeros under VALID, computed under SAME_*.
 */
export function windowPads(
  autoPad: string,
  pads: number[] | undefined,
  image: [number, number],
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
  where: string,
): [number, number, number, number] {
  if (!(AUTO_PADS as readonly string[]).includes(autoPad)) {
    throw new ModelFormatError(`${where}: auto_pad "${autoPad}" is not one ONNX defines (NOTSET, VALID, SAME_UPPER, SAME_LOWER)`);
  }
  if (autoPad === "VALID") return [0, 0, 0, 0];
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const [t, b] = samePads(image[0], kernel[0], stride[0], dilation[0], autoPad);
    const [l, r] = samePads(image[1], kernel[1], stride[1], dilation[1], autoPad);
    return [t, l, b, r];
  }
  const p = pads ?? [0, 0, 0, 0];
  if (p.length !== 4 || p.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ModelFormatError(`${where}: pads [${p.join(", ")}] must be 4 non-negative integers [top, left, bottom, right]`);
  }
  return [p[0], p[1], p[2], p[3]];
}

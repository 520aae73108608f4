/**
 * Choosing the fixed-point formats of a model (vm/fixed.ts): how many fraction bits each tensor gets, and each
 * dense layer's weights.
 *
 * A tensor's format comes from the largest magnitude R it reaches, measured by the float64 forward pass
 * (compiler/float.ts) over calibration inputs: the user's (`mlvm compile --calibrate FILE`) or, without them,
 * CALIBRATION_SAMPLES seeded standard-normal inputs (the scale inputs of a trained network usually have). Then
 *   f_range = 31 − ⌈log2(R · HEADROOM)⌉     the most fraction bits that still leave HEADROOM× room above R
 *   f_prec  = 16 + max(0, −⌊log2 R⌋)         16 bits, plus one per halving below 1: small values keep 16
 *                                            significant bits (a 10^-4 activation gets 30, capped below)
 *   f = clamp(min(f_range, f_prec), 0, MAX_FRAC)
 * so an O(1) tensor is Q15.16 as before, a 10^5 one Q21.10 (±2^21 = 2.1e6, ulp 1e-3: 1e-8 relative), a 10^-4 one
 * Q7.24. The input keeps Q15.16 unless calibration inputs are given (it is what users send, not what they
 * happened to calibrate with). A value beyond its format's range at run time saturates, and the run says so.
 *
 * A dense layer with input format fx and output format fy gets the weight format
 *   fw = ⌊log2(2^30 / (n · max|W|))⌋            so that n · max|W| · 2^fw ≤ 2^30: with |x| < 2^31, no partial
 *                                            sum can reach 2^61, nor the bias (≤ 2^62 after its shift): the
 *                                            int64 accumulator never saturates
 * raised to fy − fx when lower (the shift cannot be negative) and lowered to keep the shift ≤ MAX_SHIFT.
 * A convolution is a dense layer over each patch (MATMUL): the same rule with n = K, its patch length C/groups·KH·KW,
 * and one weight format for all its groups. Before that, fy gives up fraction bits when the bias or the weights
 * would not fit int32 (linearFormat).
 * A pooling computes in its input's format (MAXPOOL, AVGPOOL keep the words' scale): its output format is its
 * input's, whatever its calibrated range, and so is that of a pooling of a pooling.
 */
import { MAX_FRAC, MAX_SHIFT } from "../vm/fixed.js";
import { prng } from "../datasets/synthetic.js";
import { forwardFloat } from "./float.js";
import { INPUT, type ModelGraph, ModelFormatError, inputOf } from "./graph.js";

/** Room left above the largest calibrated magnitude: 16× (4 bits). */
export const HEADROOM = 16;
/** Fraction bits of a tensor whose magnitude is about 1, and of an uncalibrated input. */
export const DEFAULT_FRAC = 16;
/** How many seeded standard-normal inputs stand in for calibration inputs when none are given. */
export const CALIBRATION_SAMPLES = 64;
const CALIBRATION_SEED = 0x6d6c766d; // "mlvm"

/** Calibration inputs that do not fit the model. */
export class CalibrationError extends ModelFormatError {}

export interface Formats {
  /** Fraction bits of the graph input. */
  input: number;
  /** Fraction bits of each layer's output. */
  layers: number[];
  /** The largest magnitude each layer's output reached over the calibration inputs (for messages). */
  ranges: number[];
  /** Whether the ranges came from the user's calibration inputs. */
  calibrated: boolean;
}

/** f = clamp(min(f_range, f_prec), 0, MAX_FRAC) for a largest magnitude `range` (see the header). */
export function fracFor(range: number): number {
  if (!(range > 0)) return DEFAULT_FRAC;
  const fRange = 31 - Math.ceil(Math.log2(range * HEADROOM));
  const fPrec = DEFAULT_FRAC + Math.max(0, -Math.floor(Math.log2(range)));
  return Math.min(Math.max(Math.min(fRange, fPrec), 0), MAX_FRAC);
}

/** The formats of every tensor of `graph` (a folded graph: no affine layers), from calibration inputs when given. */
export function chooseFormats(graph: ModelGraph, calibration?: readonly ArrayLike<number>[]): Formats {
  const calibrated = calibration !== undefined && calibration.length > 0;
  const inputs = calibrated ? calibration : syntheticInputs(graph.inputSize);
  const ranges = new Array<number>(graph.layers.length).fill(0);
  let inputRange = 0;
  inputs.forEach((x, k) => {
    if (x.length !== graph.inputSize) throw new CalibrationError(`calibration input ${k} has ${x.length} values, the model takes ${graph.inputSize}`);
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) throw new CalibrationError(`calibration input ${k} value ${i} is ${x[i]}`);
      inputRange = Math.max(inputRange, Math.abs(x[i]));
    }
    forwardFloat(graph, x, (index, values) => {
      let m = ranges[index];
      for (let i = 0; i < values.length; i++) {
        const a = Math.abs(values[i]);
        if (a > m) m = a;
      }
      ranges[index] = m;
    });
  });
  const input = calibrated ? fracFor(inputRange) : DEFAULT_FRAC;
  const layers = ranges.map(fracFor);
  graph.layers.forEach((layer, index) => {
    if (layer.kind === "pool") {
      const from = inputOf(graph, index);
      layers[index] = from === INPUT ? input : layers[from];
    }
  });
  return { input, layers, ranges, calibrated };
}

/** The format of value `ref` (INPUT or a layer index). */
export function formatOf(formats: Formats, ref: number): number {
  return ref === INPUT ? formats.input : formats.layers[ref];
}

/** A dense layer's weight format and shift (see the header), given its input and output formats. */
export function denseFormat(inputs: number, maxWeight: number, fx: number, fy: number): { fw: number; shift: number } {
  let fw = maxWeight > 0 ? Math.floor(Math.log2(2 ** 30 / (inputs * maxWeight))) : 30;
  fw = Math.max(fw, fy - fx);
  fw = Math.min(fw, MAX_SHIFT + fy - fx);
  return { fw, shift: fx + fw - fy };
}

/**
 * The formats of a dense layer or a convolution (n inputs a row, largest |weight| maxWeight and |bias| maxBias) whose
 * input is in format fx and whose calibration asked for fy: fy lowered so that the bias (in fy) and the weights (in
 * fw ≥ fy − fx) fit int32, then denseFormat.
 */
export function linearFormat(inputs: number, maxWeight: number, maxBias: number, fx: number, fy: number): { fy: number; fw: number; shift: number } {
  if (maxBias > 0) fy = Math.min(fy, 30 - Math.ceil(Math.log2(maxBias)));
  if (maxWeight > 0) fy = Math.min(fy, fx + 30 - Math.ceil(Math.log2(maxWeight)));
  fy = Math.max(0, Math.min(fy, MAX_FRAC));
  return { fy, ...denseFormat(inputs, maxWeight, fx, fy) };
}

/** Seeded standard-normal inputs (Box-Muller over mulberry32). */
function syntheticInputs(size: number): Float64Array[] {
  const rand = prng(CALIBRATION_SEED);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: CALIBRATION_SAMPLES }, () => Float64Array.from({ length: size }, normal));
}

/**
 * The opcode table: the one place that says which instructions exist, what operands each takes and how many
 * steps each runs for. The compiler emits from it, the decoder validates against it, the interpreters
 * dispatch on it and the tests are generated from it.
 *
 * An instruction is one layer-level operation (a dense layer, an activation over a buffer, an argmax). It
 * runs for a number of steps that depends only on its operands, so a program's step count is known before
 * it runs. Every operand is a u32: word addresses, element counts, formats (fraction bits, see vm/fixed.ts)
 * and, for the few signed parameters (`alpha`, `lo`, `hi`), an int32's two's-complement bits.
 */
import { CHUNK_WORDS, LEAF_WORDS } from "./memory.js";
import { decodeWindow, im2colPieces, outputPixels } from "./window.js";

export const Opcode = {
  /** Stop. The all-zero instruction word is HALT, so padding a program with zeros pads it with HALTs. */
  HALT: 0x00,
  /** y[r] = round((b[r]·2^shift + Σ_i W[r][i]·x[i]) / 2^shift) for every row r, CHUNK_WORDS multiply-accumulates a step. */
  DENSE: 0x01,
  /** dst[i] = max(src[i], 0), one 8-word leaf a step. Every unary op converts from format fin to fout. */
  RELU: 0x02,
  /** dst[i] = 1 / (1 + e^(−src[i])). */
  SIGMOID: 0x03,
  /** dst[i] = tanh(src[i]). */
  TANH: 0x04,
  /** dst = the lowest index of the largest of src[0..n), one 8-word leaf a step. */
  ARGMAX: 0x05,
  /** dst[i] = src[i] ≥ 0 ? src[i] : alpha·src[i] (alpha a Q16.16 int32). */
  LEAKY_RELU: 0x06,
  /** dst[i] = src[i] ≥ 0 ? src[i] : alpha·(e^src[i] − 1) (alpha a Q16.16 int32). */
  ELU: 0x07,
  /** dst[i] = ln(1 + e^src[i]). */
  SOFTPLUS: 0x08,
  /** dst[i] = min(max(src[i], lo), hi) (lo ≤ hi, int32 words in format fin). */
  CLIP: 0x09,
  /** dst[i] = src[i]·Φ(src[i]), Φ the standard normal CDF (GELU). */
  GELU: 0x0a,
  /** dst[i] = src[i]/2·(1 + tanh(√(2/π)·(src[i] + 0.044715·src[i]³))) (GELU, tanh approximation). */
  GELU_TANH: 0x0b,
  /** dst[i] = src[i]·sigmoid(src[i]) (SiLU, Swish). */
  SILU: 0x0c,
  /** dst[i] = a[i] + b[i], each in its own format, one 8-word leaf a step (a residual connection). */
  ADD: 0x0d,
  /** dst = (src − mean) / sqrt(var + eps) · gamma + beta over n words, in three passes of one leaf a step (vm/layernorm.ts). */
  LAYERNORM: 0x0e,
  /**
   * patches[p][k] = the image word under position k = (c, kh, kw) of output position p's window, 0 on padding
   * (vm/window.ts): a convolution's input laid out as rows of a matrix, one 8-word piece a step.
   */
  IM2COL: 0x0f,
  /**
   * y[oc·pixels + p] = round((b[oc]·2^shift + Σ_k W[oc][k]·patches[p][k]) / 2^shift): a convolution, DENSE once per
   * output position (pixel), CHUNK_WORDS multiply-accumulates a step; the biases follow the weight rows.
   */
  MATMUL: 0x10,
  /** dst[c][oh][ow] = the largest image word in the window (padding left out), one kernel row a step. */
  MAXPOOL: 0x11,
  /** dst[c][oh][ow] = the window's sum / (KH·KW), padding counted as zeros (count_include_pad), one kernel row a step. */
  AVGPOOL: 0x12,
  /** dst[c][oh][ow] = the window's sum / the number of its positions inside the image, one kernel row a step. */
  AVGPOOL_VALID: 0x13,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

export interface OpcodeInfo {
  code: Opcode;
  name: keyof typeof Opcode;
  /** Operand names, in encoding order. */
  operands: readonly string[];
  /** How many steps an instruction with these operands runs for (operands already validated). */
  steps(args: readonly number[]): number;
  /** A unary elementwise op: operands UNARY_OPERANDS then its parameters, one leaf of src to one of dst a step. */
  unary?: true;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** The operands every unary elementwise op starts with: where it reads, where it writes, how many, which formats. */
export const UNARY_OPERANDS = ["src", "dst", "n", "fin", "fout"] as const;

const unary = (code: Opcode, name: keyof typeof Opcode, params: readonly string[] = []): OpcodeInfo => ({
  code,
  name,
  operands: [...UNARY_OPERANDS, ...params],
  steps: ([, , n]) => ceilDiv(n, LEAF_WORDS),
  unary: true,
});

/** The operands of an instruction that walks windows over an image (vm/window.ts): where, then the window's geometry. */
export const WINDOW_OPERANDS = ["src", "dst", "channels", "image", "out", "kernel", "pad"] as const;

/** A pooling op: one step per kernel row of each output word (channels · OH · OW · KH). */
const pool = (code: Opcode, name: keyof typeof Opcode): OpcodeInfo => ({
  code,
  name,
  operands: WINDOW_OPERANDS,
  steps: (args) => {
    const w = decodeWindow(args);
    return w.channels * outputPixels(w) * w.kernelH;
  },
});

export const OPCODES: readonly OpcodeInfo[] = [
  { code: Opcode.HALT, name: "HALT", operands: [], steps: () => 1 },
  {
    code: Opcode.DENSE,
    name: "DENSE",
    operands: ["input", "weights", "bias", "output", "inputs", "outputs", "shift"],
    steps: ([, , , , inputs, outputs]) => outputs * ceilDiv(inputs, CHUNK_WORDS),
  },
  unary(Opcode.RELU, "RELU"),
  unary(Opcode.SIGMOID, "SIGMOID"),
  unary(Opcode.TANH, "TANH"),
  { code: Opcode.ARGMAX, name: "ARGMAX", operands: ["src", "n", "dst"], steps: ([, n]) => ceilDiv(n, LEAF_WORDS) },
  unary(Opcode.LEAKY_RELU, "LEAKY_RELU", ["alpha"]),
  unary(Opcode.ELU, "ELU", ["alpha"]),
  unary(Opcode.SOFTPLUS, "SOFTPLUS"),
  unary(Opcode.CLIP, "CLIP", ["lo", "hi"]),
  unary(Opcode.GELU, "GELU"),
  unary(Opcode.GELU_TANH, "GELU_TANH"),
  unary(Opcode.SILU, "SILU"),
  {
    code: Opcode.ADD,
    name: "ADD",
    operands: ["a", "b", "dst", "n", "fa", "fb", "fout"],
    steps: ([, , , n]) => ceilDiv(n, LEAF_WORDS),
  },
  {
    code: Opcode.LAYERNORM,
    name: "LAYERNORM",
    // params: gamma (n words, Q15.16) then beta (n words, format fout), each padded to whole leaves; eps a Q0.32 u32
    operands: ["src", "dst", "n", "params", "fin", "fout", "eps"],
    steps: ([, , n]) => 3 * ceilDiv(n, LEAF_WORDS),
  },
  {
    code: Opcode.IM2COL,
    name: "IM2COL",
    // patches: one row of ⌈K/32⌉·32 words per output position (chunk-aligned rows, as MATMUL reads them), K = C·KH·KW
    operands: WINDOW_OPERANDS,
    steps: (args) => {
      const w = decodeWindow(args);
      return outputPixels(w) * im2colPieces(w);
    },
  },
  {
    code: Opcode.MATMUL,
    name: "MATMUL",
    // weights: `outputs` rows of ⌈inputs/32⌉·32 words, then the `outputs` biases (in the output format)
    operands: ["patches", "weights", "output", "inputs", "outputs", "pixels", "shift"],
    steps: ([, , , inputs, outputs, pixels]) => outputs * pixels * ceilDiv(inputs, CHUNK_WORDS),
  },
  pool(Opcode.MAXPOOL, "MAXPOOL"),
  pool(Opcode.AVGPOOL, "AVGPOOL"),
  pool(Opcode.AVGPOOL_VALID, "AVGPOOL_VALID"),
];

const byCode = new Map<number, OpcodeInfo>(OPCODES.map((info) => [info.code, info]));

/** The table entry for a code, or undefined for a code that is not an mlvm opcode. */
export function opcodeInfo(code: number): OpcodeInfo | undefined {
  return byCode.get(code);
}

/** Unary elementwise ops: one leaf of src in, one leaf of dst out per step. */
export function isUnary(code: number): boolean {
  return byCode.get(code)?.unary === true;
}

/** The ops that walk windows over an image (IM2COL and the poolings): their operands are WINDOW_OPERANDS. */
export function isWindowed(code: number): boolean {
  return byCode.get(code)?.operands === WINDOW_OPERANDS;
}

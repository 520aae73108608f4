/**
 * The opcode table: the one place that says which instructions exist, what operands each takes and how many
 * steps each runs for. The compiler emits from it, the decoder validates against it, the interpreters
 * dispatch on it and the tests are generated from it.
 *
 * An instruction is one layer-level operation (a dense layer, an activation over a buffer, an argmax). It
 * runs for a number of steps that depends only on its operands, so a program's step count is known before
 * it runs. Every operand is a u32: word addresses and element counts.
 */
import { CHUNK_WORDS, LEAF_WORDS } from "./memory.js";

export const Opcode = {
  /** Stop. The all-zero instruction word is HALT, so padding a program with zeros pads it with HALTs. */
  HALT: 0x00,
  /** y[r] = rescale(b[r]·2^16 + Σ_i W[r][i]·x[i]) for every row r, CHUNK_WORDS multiply-accumulates a step. */
  DENSE: 0x01,
  /** x[i] = relu(x[i]) in place, one 8-word leaf a step. */
  RELU: 0x02,
  /** x[i] = sigmoid(x[i]) in place, one 8-word leaf a step. */
  SIGMOID: 0x03,
  /** x[i] = tanh(x[i]) in place, one 8-word leaf a step. */
  TANH: 0x04,
  /** dst = the lowest index of the largest of x[0..n), one 8-word leaf a step. */
  ARGMAX: 0x05,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

export interface OpcodeInfo {
  code: Opcode;
  name: keyof typeof Opcode;
  /** Operand names, in encoding order. */
  operands: readonly string[];
  /** How many steps an instruction with these operands runs for (operands already validated). */
  steps(args: readonly number[]): number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

const activation = (code: Opcode, name: keyof typeof Opcode): OpcodeInfo => ({
  code,
  name,
  operands: ["addr", "n"],
  steps: ([, n]) => ceilDiv(n, LEAF_WORDS),
});

export const OPCODES: readonly OpcodeInfo[] = [
  { code: Opcode.HALT, name: "HALT", operands: [], steps: () => 1 },
  {
    code: Opcode.DENSE,
    name: "DENSE",
    operands: ["input", "weights", "bias", "output", "inputs", "outputs"],
    steps: ([, , , , inputs, outputs]) => outputs * ceilDiv(inputs, CHUNK_WORDS),
  },
  activation(Opcode.RELU, "RELU"),
  activation(Opcode.SIGMOID, "SIGMOID"),
  activation(Opcode.TANH, "TANH"),
  { code: Opcode.ARGMAX, name: "ARGMAX", operands: ["src", "n", "dst"], steps: ([, n]) => ceilDiv(n, LEAF_WORDS) },
];

const byCode = new Map<number, OpcodeInfo>(OPCODES.map((info) => [info.code, info]));

/** The table entry for a code, or undefined for a code that is not an mlvm opcode. */
export function opcodeInfo(code: number): OpcodeInfo | undefined {
  return byCode.get(code);
}

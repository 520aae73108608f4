/**
 * Small builders for hand-written programs, from the opcode table: insn("DENSE", input, weights, ...) with
 * operands in the table's order, and a program/memory pair laid out in a memory of a given depth.
 */
import { OPCODES } from "../../vm/opcodes.js";
import { type Instruction, type Program, FLAG_ARGMAX_OUTPUT } from "../../vm/program.js";
import { dataBase } from "../../vm/memory.js";

export function insn(name: (typeof OPCODES)[number]["name"], ...args: number[]): Instruction {
  const info = OPCODES.find((o) => o.name === name)!;
  if (args.length !== info.operands.length) throw new Error(`${name} takes ${info.operands.join(", ")}`);
  return { opcode: info.code, args };
}

/**
 * A program over a memory of depth `depth`, its output at data-region word `outputAt`; the input and output
 * formats (fraction bits, vm/fixed.ts) default to 16, Q15.16.
 */
export function program(
  depth: number,
  inputLength: number,
  outputAt: number,
  outputLength: number,
  instructions: Instruction[],
  argmax = false,
  { inputFrac = 16, outputFrac = 16 }: { inputFrac?: number; outputFrac?: number } = {},
): Program {
  return {
    memoryDepth: depth,
    flags: argmax ? FLAG_ARGMAX_OUTPUT : 0,
    inputLength,
    outputAddress: dataBase(depth) + outputAt,
    outputLength,
    inputFrac,
    outputFrac,
    instructions: [...instructions, insn("HALT")],
  };
}

export { prng, randInt } from "../../datasets/synthetic.js";

/**
 * The reference interpreter: runs a program to completion by calling vm/step.ts until the machine halts.
 * It keeps memory as one flat array and hashes nothing, so it is the plain-run baseline that every other
 * execution path (traced, WASM, EVM) must agree with.
 */
import { InputError } from "../vm/errors.js";
import { FlatMemory, dataBase } from "../vm/memory.js";
import { FLAG_ARGMAX_OUTPUT, type Program } from "../vm/program.js";
import { INITIAL_STATE, type State } from "../vm/state.js";
import { step } from "../vm/step.js";
import { dequantize, formatLimit, formatName, quantize } from "../vm/fixed.js";

/** What the interpreter needs of a model: its program and its model-region memory image. */
export interface Executable {
  program: Program;
  image: Int32Array;
}

/** Values an instruction clamped to its output format's range during a run (vm/step.ts StepResult.saturated). */
export interface Saturation {
  /** The instruction's index. */
  pc: number;
  /** How many values it clamped. */
  count: number;
}

export interface RunResult {
  /** The raw words of the program's output region. */
  output: Int32Array;
  /** Every instruction that clamped a value, in pc order: empty when nothing saturated. */
  saturations: Saturation[];
  /** The halted state. */
  state: State;
  /** The final memory (model region and data region). */
  memory: FlatMemory;
}

/** The memory a program starts from: the model image in the model region, the input at the data base. */
export function initialMemory(model: Executable, input: Int32Array): FlatMemory {
  checkInput(model.program, input);
  const base = dataBase(model.program.memoryDepth);
  const memory = new FlatMemory(2 * base);
  memory.words.set(model.image, 0);
  memory.words.set(input, base);
  return memory;
}

/** Runs `model` on an input vector (words in the program's input format) to the halted state. */
export function run(model: Executable, input: Int32Array): RunResult {
  const memory = initialMemory(model, input);
  const { instructions } = model.program;
  const counts = new Map<number, number>();
  let state = INITIAL_STATE;
  while (!state.halted) {
    const result = step(state, instructions[state.pc], memory);
    if (result.write) memory.write(result.write);
    if (result.saturated) counts.set(state.pc, (counts.get(state.pc) ?? 0) + result.saturated);
    state = result.state;
  }
  const saturations = [...counts].map(([pc, count]) => ({ pc, count })).sort((a, b) => a.pc - b.pc);
  return { output: readOutput(model.program, memory.words), saturations, state, memory };
}

/** The output region's words. */
export function readOutput(program: Program, words: Int32Array): Int32Array {
  return words.slice(program.outputAddress, program.outputAddress + program.outputLength);
}

export interface DecodedOutput {
  /** The model's outputs as real numbers (for a classifier, the logits). */
  values: number[];
  /** A classifier's argmax (lowest index on ties), or a single-output model's value. */
  prediction: number;
}

/** Reads an output region the way its program's header describes it. */
export function decodeOutput(program: Program, output: Int32Array): DecodedOutput {
  const value = (q: number) => dequantize(q, program.outputFrac);
  if (program.flags & FLAG_ARGMAX_OUTPUT) {
    return { values: Array.from(output.subarray(0, output.length - 1), value), prediction: output[output.length - 1] };
  }
  const values = Array.from(output, value);
  return { values, prediction: values[0] };
}

/** Real-valued input → the words a program takes (in its input format), checking length and range. */
export function encodeInput(program: Program, values: ArrayLike<number>): Int32Array {
  if (values.length !== program.inputLength) {
    throw new InputError(`input has ${values.length} values, the model takes ${program.inputLength}`);
  }
  const words = new Int32Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (typeof v !== "number") throw new InputError(`input value ${k} is ${JSON.stringify(v)}, not a number`);
    try {
      words[k] = quantize(v, "value", program.inputFrac);
    } catch {
      const f = program.inputFrac;
      throw new InputError(
        Number.isFinite(v)
          ? `input value ${k} is ${v}, outside the range ±${formatLimit(f)} of the model's input format ${formatName(f)} (recompile with --calibrate inputs that reach it)`
          : `input value ${k} is ${v}: not a finite number`,
      );
    }
  }
  return words;
}

/** The input fits the program (InputError otherwise). */
export function checkInput(program: Program, input: Int32Array): void {
  if (input.length !== program.inputLength) {
    throw new InputError(`input has ${input.length} words, the model takes ${program.inputLength}`);
  }
}

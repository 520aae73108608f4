/** The --engine option: run on the WASM kernel (default, fast) or the TypeScript reference interpreter. */
import type { CompiledModel } from "../compiler/compile.js";
import { type Saturation, run } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { UsageError, type OptionSpec } from "./command.js";

export const ENGINE_OPTION: OptionSpec = {
  type: "string",
  valueName: "NAME",
  description: "wasm (default: the AssemblyScript kernel) or ts (the reference interpreter); they agree bit for bit",
};

/** One run's output words and the instructions that clamped values on the way (both engines count the same). */
export interface EngineRun {
  output: Int32Array;
  saturations: Saturation[];
}

/** A function running the model on one input (words in its input format). */
export function engine(model: CompiledModel, name: unknown): (input: Int32Array) => EngineRun {
  if (name === undefined || name === "wasm") {
    const machine = new WasmMachine(model);
    return (input) => ({ output: machine.run(input), saturations: machine.saturations() });
  }
  if (name === "ts") return (input) => run(model, input);
  throw new UsageError(`--engine must be wasm or ts, got "${String(name)}"`);
}

/** The --engine option: run on the WASM kernel (default, fast) or the TypeScript reference interpreter. */
import type { CompiledModel } from "../compiler/compile.js";
import { run } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { UsageError, type OptionSpec } from "./command.js";

export const ENGINE_OPTION: OptionSpec = {
  type: "string",
  valueName: "NAME",
  description: "wasm (default: the AssemblyScript kernel) or ts (the reference interpreter); they agree bit for bit",
};

/** A function running the model on one Q16.16 input and returning its output words. */
export function engine(model: CompiledModel, name: unknown): (input: Int32Array) => Int32Array {
  if (name === undefined || name === "wasm") {
    const machine = new WasmMachine(model);
    return (input) => machine.run(input);
  }
  if (name === "ts") return (input) => run(model, input).output;
  throw new UsageError(`--engine must be wasm or ts, got "${String(name)}"`);
}

import { writeFileSync } from "node:fs";
import { loadModel } from "../../compiler/compile.js";
import { InputError } from "../../vm/errors.js";
import { toHex } from "../../vm/hash.js";
import { witnessToJson } from "../../vm/witness.js";
import { decodeOutput, encodeInput } from "../../interpreter/run.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { type Command, UsageError } from "../command.js";
import { onePositional, requiredString } from "../args.js";
import { readInputs } from "../inputs.js";

export const traceCommand: Command = {
  name: "trace",
  summary: "run a model with its execution trace: the trace root a claim commits to, and step witnesses",
  usage: "mlvm trace MODEL --input FILE [--witness K [-o FILE]] [--json]",
  options: {
    input: { type: "string", short: "i", valueName: "FILE", description: "a JSON array of numbers: one input" },
    witness: { type: "string", valueName: "K", description: "also produce the witness of step K → K+1 (vm/witness.ts JSON)" },
    out: { type: "string", short: "o", valueName: "FILE", description: "write the witness there instead of printing it" },
    json: { type: "boolean", description: "print the summary (and witness) as JSON" },
  },
  details: "The trace is the hash of every state s0 … sN in a Merkle tree padded to a power of two with sN;\nits root, N and sN are what a claim commits to.",
  run(positionals, values, io) {
    const model = loadModel(onePositional(positionals, "MODEL"));
    const inputPath = requiredString(values, "input");
    const batch = readInputs(inputPath, "--input", model.meta.inputSize, model.meta.inputShape);
    if (batch.length !== 1) throw new InputError(`mlvm trace takes one input; ${inputPath} holds ${batch.length}`);
    const began = performance.now();
    const trace = new WasmMachine(model).trace(encodeInput(model.program, batch[0]));
    const ms = performance.now() - began;
    const { values: outputs, prediction } = decodeOutput(model.program, trace.output);
    let witness;
    if (values.witness !== undefined) {
      const k = Number(values.witness);
      const last = 2 ** trace.depth - 2;
      if (!Number.isInteger(k) || k < 0 || k > last) throw new UsageError(`--witness must be a step in [0, ${last}], got "${values.witness}"`);
      witness = witnessToJson(trace.witness(k));
    }
    const summary = {
      model: model.meta.commitment,
      steps: trace.steps,
      traceDepth: trace.depth,
      traceRoot: toHex(trace.root),
      initialState: toHex(trace.stateHash(0)),
      finalState: toHex(trace.stateHash(trace.steps)),
      output: Array.from(trace.output),
      outputs,
      prediction,
      milliseconds: ms,
    };
    if (witness && values.out) writeFileSync(values.out as string, JSON.stringify(witness, null, 2) + "\n");
    if (values.json) return io.out(JSON.stringify(witness && !values.out ? { ...summary, witness } : summary));
    io.out(`traced ${trace.steps} steps in ${ms.toFixed(1)} ms: prediction ${prediction}`);
    io.out(`  trace root    ${summary.traceRoot} (depth ${trace.depth})`);
    io.out(`  s0            ${summary.initialState}`);
    io.out(`  sN            ${summary.finalState}`);
    if (witness) io.out(values.out ? `  witness of step ${witness.step} written to ${values.out}` : JSON.stringify(witness, null, 2));
  },
};

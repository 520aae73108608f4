import { loadModel } from "../../compiler/compile.js";
import { InputError } from "../../vm/errors.js";
import { decodeOutput, encodeInput } from "../../interpreter/run.js";
import { ENGINE_OPTION, engine } from "../engine.js";
import { saturationWarning } from "../saturation.js";
import type { Command } from "../command.js";
import { onePositional, readJsonFile, requiredString } from "../args.js";

export const runCommand: Command = {
  name: "run",
  summary: "run a model on one input or a batch of inputs",
  usage: "mlvm run MODEL.onnx|MODEL.json|MODEL.mlvm --input FILE [--json]",
  options: {
    input: { type: "string", short: "i", valueName: "FILE", description: "a JSON array of numbers (one input) or of arrays (a batch); - reads stdin" },
    json: { type: "boolean", description: 'print {"outputs": [[…]], "predictions": […]}' },
    engine: ENGINE_OPTION,
  },
  details:
    "Outputs are dequantized from the model's output format; for a classifier they are the logits (a final Softmax is\nfolded into the argmax), and the prediction is the argmax, ties going to the lowest index. A run whose values\nleft their format's range (saturated) says where, on its own line.",
  run(positionals, values, io) {
    const model = loadModel(onePositional(positionals, "MODEL"));
    const inputPath = requiredString(values, "input");
    const batch = parseBatch(readJsonFile(inputPath, "input file"), inputPath);
    const execute = engine(model, values.engine);
    const results = batch.map((vector, k) => {
      try {
        const { output, saturations } = execute(encodeInput(model.program, vector));
        return { ...decodeOutput(model.program, output), saturations };
      } catch (error) {
        if (error instanceof InputError && batch.length > 1) throw new InputError(`input ${k}: ${error.message}`);
        throw error;
      }
    });
    if (values.json) {
      io.out(JSON.stringify({ outputs: results.map((r) => r.values), predictions: results.map((r) => r.prediction), saturations: results.map((r) => r.saturations) }));
      return;
    }
    results.forEach((r, k) => {
      const prefix = batch.length > 1 ? `[${k}] ` : "";
      io.out(`${prefix}prediction ${r.prediction}  outputs [${r.values.map((v) => v.toPrecision(6)).join(", ")}]`);
      const warning = saturationWarning(model.meta, r.saturations);
      if (warning) io.out(`${prefix}${warning}`);
    });
  },
};

/** A JSON array of numbers is one input; an array of such arrays is a batch. */
export function parseBatch(json: unknown, path: string): number[][] {
  if (!Array.isArray(json) || json.length === 0) throw new InputError(`input file ${path} must hold a non-empty JSON array`);
  if (json.every((v) => typeof v === "number")) return [json as number[]];
  if (json.every((v) => Array.isArray(v))) return json as number[][];
  throw new InputError(`input file ${path} must hold an array of numbers or an array of arrays of numbers`);
}

import { loadModel } from "../../compiler/compile.js";
import { InputError } from "../../vm/errors.js";
import { decodeOutput, encodeInput } from "../../interpreter/run.js";
import { ENGINE_OPTION, engine } from "../engine.js";
import { saturationWarning } from "../saturation.js";
import type { Command } from "../command.js";
import { onePositional, parseRange, requiredString } from "../args.js";
import { readInputs } from "../inputs.js";

export const runCommand: Command = {
  name: "run",
  summary: "run a model on one input or a batch of inputs",
  usage: "mlvm run MODEL.onnx|MODEL.json|MODEL.mlvm --input FILE [--range START:END] [--json]",
  options: {
    input: { type: "string", short: "i", valueName: "FILE", description: "JSON: one input (flat, or an image [C][H][W]) or a list of them; or an IDX file of images (MNIST's format); - reads stdin" },
    range: { type: "string", valueName: "START:END", description: "run only inputs [START, END) of the file (an IDX file of 10,000 images, say)" },
    json: { type: "boolean", description: 'print {"outputs": [[…]], "predictions": […]}' },
    engine: ENGINE_OPTION,
  },
  details:
    "Outputs are dequantized from the model's output format; for a classifier they are the logits (a final Softmax is\nfolded into the argmax), and the prediction is the argmax, ties going to the lowest index. A run whose values\nleft their format's range (saturated) says where, on its own line.",
  run(positionals, values, io) {
    const model = loadModel(onePositional(positionals, "MODEL"));
    const inputPath = requiredString(values, "input");
    const range = values.range === undefined ? undefined : parseRange(String(values.range), Number.MAX_SAFE_INTEGER);
    const batch = readInputs(inputPath, "--input", model.meta.inputSize, model.meta.inputShape, range);
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

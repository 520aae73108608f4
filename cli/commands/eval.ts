import { fileURLToPath } from "node:url";
import { loadModel } from "../../compiler/compile.js";
import { loadMnist } from "../../datasets/mnist.js";
import { decodeOutput, encodeInput } from "../../interpreter/run.js";
import { ENGINE_OPTION, engine } from "../engine.js";
import { SaturationTally } from "../saturation.js";
import { InputError } from "../../vm/errors.js";
import type { Command } from "../command.js";
import { onePositional, parseRange, readJsonFile } from "../args.js";

const BUNDLED_MNIST = fileURLToPath(new URL("../../fixtures/mnist", import.meta.url));

export const evalCommand: Command = {
  name: "eval",
  summary: "measure a model's MNIST accuracy, and its agreement with a float reference",
  usage: "mlvm eval MODEL [--mnist DIR] [--range START:END] [--reference REF.json] [--json]",
  options: {
    mnist: { type: "string", valueName: "DIR", description: "directory with the MNIST IDX files (default: the bundled test set)" },
    split: { type: "string", valueName: "NAME", description: "t10k (default) or train, when DIR holds the training files too" },
    range: { type: "string", valueName: "START:END", description: "digits [START, END) of the split (default: all)" },
    reference: { type: "string", valueName: "FILE", description: "reference predictions: JSON with float32_predictions for evaluated_on \"t10k[A:B]\"" },
    json: { type: "boolean", description: 'print {"n", "accuracy", "agreement", ...} as JSON' },
    engine: ENGINE_OPTION,
  },
  details: "Pixels are scaled to [0, 1] and quantized to the model's input format; every digit runs through the VM (--engine).",
  run(positionals, values, io) {
    const model = loadModel(onePositional(positionals, "MODEL"));
    const split = (values.split as string | undefined) ?? "t10k";
    if (split !== "t10k" && split !== "train") throw new InputError(`--split must be t10k or train, got "${split}"`);
    const mnist = loadMnist((values.mnist as string | undefined) ?? BUNDLED_MNIST, split);
    const [start, end] = values.range ? parseRange(values.range as string, mnist.count) : [0, mnist.count];
    const reference = values.reference ? loadReference(values.reference as string, start, end) : undefined;
    const execute = engine(model, values.engine);

    let correct = 0;
    let agree = 0;
    const disagreements: number[] = [];
    const tally = new SaturationTally();
    const began = performance.now();
    for (let k = start; k < end; k++) {
      const { output, saturations } = execute(encodeInput(model.program, mnist.image(k)));
      tally.add(saturations);
      const { prediction } = decodeOutput(model.program, output);
      if (prediction === mnist.label(k)) correct++;
      if (reference) {
        if (prediction === reference.predictions[k - reference.start]) agree++;
        else disagreements.push(k);
      }
    }
    const n = end - start;
    const seconds = (performance.now() - began) / 1000;
    const result = {
      n,
      accuracy: correct / n,
      agreement: reference ? agree / n : null,
      referenceAccuracy: reference?.accuracy ?? null,
      disagreements: reference ? disagreements : null,
      saturatedRuns: tally.saturatedRuns,
      saturations: tally.entries(),
      seconds,
    };
    if (values.json) return io.out(JSON.stringify(result));
    io.out(`${n} digits [${start}, ${end}) of MNIST ${split}: accuracy ${(100 * result.accuracy).toFixed(2)}% (${correct}/${n})`);
    if (reference) {
      io.out(`agreement with the reference: ${(100 * agree / n).toFixed(2)}% (${n - agree} differ${disagreements.length ? `: digits ${disagreements.join(", ")}` : ""})`);
      if (reference.accuracy !== null) io.out(`reference accuracy on its range: ${(100 * reference.accuracy).toFixed(2)}%`);
    }
    io.out(tally.line(model.meta));
    io.out(`${((seconds * 1e6) / n).toFixed(0)} µs per digit (${values.engine ?? "wasm"} engine, loading and quantizing included)`);
  },
};

interface Reference {
  start: number;
  predictions: number[];
  accuracy: number | null;
}

/** A reference file's predictions cover "t10k[A:B]" (its evaluated_on field); the eval range must lie inside. */
function loadReference(path: string, start: number, end: number): Reference {
  const json = readJsonFile(path, "reference file") as { float32_predictions?: unknown; evaluated_on?: unknown; float32_accuracy?: unknown };
  const predictions = json.float32_predictions;
  if (!Array.isArray(predictions) || !predictions.every((p) => Number.isInteger(p))) {
    throw new InputError(`reference file ${path} has no float32_predictions array of integers`);
  }
  const match = typeof json.evaluated_on === "string" ? /\[(\d+):(\d+)\]/.exec(json.evaluated_on) : null;
  const refStart = match ? Number(match[1]) : 0;
  const refEnd = match ? Number(match[2]) : predictions.length;
  if (refEnd - refStart !== predictions.length) throw new InputError(`reference file ${path} has ${predictions.length} predictions for range [${refStart}, ${refEnd})`);
  if (start < refStart || end > refEnd) throw new InputError(`--range ${start}:${end} is not inside the reference's range ${refStart}:${refEnd}`);
  const covers = start === refStart && end === refEnd;
  return { start: refStart, predictions, accuracy: covers && typeof json.float32_accuracy === "number" ? json.float32_accuracy : null };
}

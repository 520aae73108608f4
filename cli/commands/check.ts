/**
 * `mlvm check MODEL.onnx --inputs FILE`: does the VM compute what the model computes? A user has the .onnx file
 * and some inputs, not PyTorch's predictions, so the float32 reference is onnxruntime-node running the same
 * file. Both run every input; the command prints how often their predictions agree, the largest difference
 * relative to the output's scale, and which runs saturated (values clamped to the fixed-point range) and where.
 */
import { basename, extname } from "node:path";
import { compileGraph, describeInstruction, readModelFile } from "../../compiler/compile.js";
import { importOnnx } from "../../compiler/onnx.js";
import { REGRESSION_TOLERANCE, compareWithOnnxruntime } from "../../reference/compare.js";
import { InputError } from "../../vm/errors.js";
import { ENGINE_OPTION, engine } from "../engine.js";
import { SaturationTally } from "../saturation.js";
import type { Command } from "../command.js";
import { onePositional, requiredString } from "../args.js";
import { readInputs } from "../inputs.js";


export const checkCommand: Command = {
  name: "check",
  summary: "compare the VM with onnxruntime (float32) on the same ONNX file and inputs",
  usage: "mlvm check MODEL.onnx --inputs FILE [--calibrate FILE] [--engine wasm|ts] [--json]",
  options: {
    inputs: { type: "string", valueName: "FILE", description: 'inputs to compare on: JSON {"inputs": [[...], ...]} or an array of arrays' },
    calibrate: { type: "string", valueName: "FILE", description: "calibration inputs for the compiler's fixed-point scales, same format (default: the --inputs)" },
    json: { type: "boolean", description: 'print {"n", "output", "agreement", "maxRelativeDelta", "saturatedRuns", ...} as JSON' },
    engine: ENGINE_OPTION,
  },
  details: [
    "MODEL is compiled by mlvm and run in the VM, and run by onnxruntime-node (CPU, float32, one thread), on every",
    "input; each input is flattened row-major to the model's input size. Prints the agreement of the predictions",
    `(with several outputs, the argmax, and beside it the share of values within ${100 * REGRESSION_TOLERANCE}% of the output scale, which is`,
    "what a many-output regressor reads; with one output, that share), the largest |VM − onnxruntime| relative to",
    "the output scale (the largest |onnxruntime output| over the file), and the runs that saturated, by",
    "instruction. A folded Softmax/LogSoftmax head is applied to the VM's logits before values are compared; when",
    "the model also returns its logits, those are compared instead.",
    "",
    "Without --calibrate the compiler is calibrated on the --inputs themselves: a user's real inputs are the",
    "best calibration. Both engines count saturation. Exits 0 whatever the agreement; 1 when",
    "mlvm or onnxruntime refuses the model or an input.",
  ].join("\n"),
  async run(positionals, values, io) {
    const path = onePositional(positionals, "MODEL.onnx");
    if (extname(path).toLowerCase() !== ".onnx") throw new InputError(`${path}: mlvm check compares with onnxruntime, so MODEL must be an .onnx file`);
    const inputsPath = requiredString(values, "inputs");
    const { bytes } = readModelFile(path, [".onnx"]);
    const graph = importOnnx(bytes, basename(path, extname(path)));
    const inputs = readInputs(inputsPath, "--inputs", graph.inputSize);
    const calibrate = values.calibrate as string | undefined;
    const calibration = calibrate ? readInputs(calibrate, "--calibrate", graph.inputSize) : inputs;
    const model = compileGraph(graph, { calibration });
    const engineName = (values.engine as string | undefined) ?? "wasm";
    const checked = await compareWithOnnxruntime(path, bytes, model, inputs, engine(model, engineName));
    const summary = checked.comparison;
    const tally = new SaturationTally();
    checked.saturations.forEach((s) => tally.add(s));
    const result = {
      model: path,
      n: inputs.length,
      engine: engineName,
      onnxruntime: checked.onnxruntime,
      calibration: calibrate ?? "--inputs",
      output: checked.output,
      outputSize: model.meta.outputSize,
      headApplied: checked.head ?? null,
      kind: summary.classifier ? "classifier" : "regressor",
      agreement: summary.agree / summary.of,
      disagreements: summary.disagreements,
      scale: summary.scale,
      maxAbsDelta: summary.maxAbsDelta,
      maxRelativeDelta: summary.maxRelativeDelta,
      valuesWithinTolerance: summary.valuesWithin / summary.values,
      saturatedRuns: tally.saturatedRuns,
      saturations: tally.entries().map((e) => ({ ...e, instruction: describeInstruction(model.meta, e.pc) })),
    };
    if (values.json) return io.out(JSON.stringify(result));
    const head = checked.head ? `, ${checked.head} applied to the VM's logits` : "";
    const others = checked.outputNames.length > 1 ? ` (of ${checked.outputNames.map((n) => `"${n}"`).join(", ")})` : "";
    io.out(`${basename(path)}: ${inputs.length} inputs, the VM (${engineName} engine, calibrated on ${calibrate ?? "the --inputs"}) against onnxruntime-node ${checked.onnxruntime} (float32)`);
    io.out(`compared output: "${result.output}"${others}, ${result.outputSize} values${head}`);
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    io.out(
      summary.classifier
        ? `prediction agreement (argmax): ${pct(result.agreement)} (${summary.agree}/${summary.of})${summary.disagreements.length ? `, inputs ${summary.disagreements.slice(0, 20).join(", ")}${summary.disagreements.length > 20 ? ", …" : ""} differ` : ""}; values within ${100 * REGRESSION_TOLERANCE}% of the output scale: ${pct(result.valuesWithinTolerance)}`
        : `prediction agreement (within ${100 * REGRESSION_TOLERANCE}% of the output scale): ${pct(result.agreement)} (${summary.agree}/${summary.of} outputs)`,
    );
    io.out(`max |Δ|: ${summary.scale > 0 ? `${(100 * summary.maxRelativeDelta).toPrecision(3)}% of the output scale` : "—"} (|Δ| ${summary.maxAbsDelta.toPrecision(3)}, scale ${summary.scale.toPrecision(4)} = max |onnxruntime output|)`);
    io.out(tally.line(model.meta));
  },
};

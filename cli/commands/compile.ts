import { writeFileSync } from "node:fs";
import { basename, extname, join, dirname } from "node:path";
import { compileGraph, loadGraph } from "../../compiler/compile.js";
import { encodeModelFile } from "../../compiler/modelfile.js";
import { toHex } from "../../vm/hash.js";
import { formatName } from "../../vm/fixed.js";
import { type Command, UsageError } from "../command.js";
import { onePositional } from "../args.js";
import { readInputs } from "../inputs.js";

export const compileCommand: Command = {
  name: "compile",
  summary: "compile an MLP (ONNX from PyTorch, or JSON weights) into an .mlvm model file",
  usage: "mlvm compile MODEL.onnx|MODEL.json [-o OUT.mlvm] [--calibrate FILE] [--json]",
  options: {
    out: { type: "string", short: "o", valueName: "FILE", description: "the model file to write (default: MODEL's name with .mlvm)" },
    calibrate: { type: "string", valueName: "FILE", description: 'inputs whose value ranges set the fixed-point formats: JSON {"inputs": [[...], ...]} or an array of arrays' },
    json: { type: "boolean", description: "print the summary as JSON" },
  },
  details: [
    "Supported ONNX ops and patterns are listed in the README (Linear, activations from ReLU to GELU and SiLU,",
    "BatchNorm and input normalization folded into the weights, LayerNorm, residual adds, a final Softmax or",
    "LogSoftmax folded into the argmax). The JSON weights format is described in docs/json-weights.md.",
    "",
    "Every tensor gets a fixed-point format (fraction bits) from the range its values reach: over the --calibrate",
    "inputs when given (your real inputs are the best calibration), else over 64 seeded standard-normal inputs,",
    "and the input stays Q15.16. A value that later leaves its format's range is clamped, and `mlvm run`,",
    "`eval` and `check` say where.",
  ].join("\n"),
  run(positionals, values, io) {
    const path = onePositional(positionals, "MODEL");
    if (extname(path).toLowerCase() === ".mlvm") throw new UsageError(`${path} is already compiled`);
    const out = (values.out as string | undefined) ?? join(dirname(path), `${basename(path, extname(path))}.mlvm`);
    const graph = loadGraph(path);
    const calibrate = values.calibrate as string | undefined;
    const model = compileGraph(graph, calibrate ? { calibration: readInputs(calibrate, "--calibrate", graph.inputSize) } : {});
    const file = encodeModelFile(model);
    writeFileSync(out, file);
    const summary = {
      file: out,
      bytes: file.length,
      name: model.meta.name,
      layers: model.meta.layers,
      parameters: model.meta.parameters,
      instructions: model.program.instructions.length,
      steps: model.meta.steps,
      memoryDepth: model.program.memoryDepth,
      softmaxFolded: model.meta.softmaxFolded,
      foldedHead: model.meta.foldedHead ?? null,
      calibrated: model.meta.calibrated,
      inputFormat: formatName(model.program.inputFrac),
      outputFormat: formatName(model.program.outputFrac),
      commitment: model.meta.commitment,
      programRoot: toHex(model.commitment.programRoot),
      modelRoot: toHex(model.commitment.modelRoot),
    };
    if (values.json) return io.out(JSON.stringify(summary));
    io.out(`compiled ${path} → ${out} (${file.length} bytes)`);
    io.out(`  layers       ${summary.layers.join(", ")}${summary.softmaxFolded ? `, ${summary.foldedHead ?? "softmax"} (folded into argmax)` : ""}`);
    io.out(`  formats      input ${summary.inputFormat}, output ${summary.outputFormat}, from ${calibrate ? `the --calibrate inputs (${calibrate})` : "seeded standard-normal inputs (no --calibrate)"}`);
    io.out(`  parameters   ${summary.parameters}`);
    io.out(`  program      ${summary.instructions} instructions, ${summary.steps} steps, memory depth ${summary.memoryDepth}`);
    io.out(`  commitment   ${summary.commitment}`);
  },
};

import { writeFileSync } from "node:fs";
import { basename, extname, join, dirname } from "node:path";
import { loadModel } from "../../compiler/compile.js";
import { encodeModelFile } from "../../compiler/modelfile.js";
import { toHex } from "../../vm/hash.js";
import { type Command, UsageError } from "../command.js";
import { onePositional } from "../args.js";

export const compileCommand: Command = {
  name: "compile",
  summary: "compile an MLP (ONNX from PyTorch, or JSON weights) into an .mlvm model file",
  usage: "mlvm compile MODEL.onnx|MODEL.json [-o OUT.mlvm] [--json]",
  options: {
    out: { type: "string", short: "o", valueName: "FILE", description: "the model file to write (default: MODEL's name with .mlvm)" },
    json: { type: "boolean", description: "print the summary as JSON" },
  },
  details: "Supported ONNX ops: Gemm, MatMul(+Add), Relu, Sigmoid, Tanh, Flatten/Reshape of the input, Softmax as the last op\n(folded into argmax). The JSON weights format is described in docs/json-weights.md.",
  run(positionals, values, io) {
    const path = onePositional(positionals, "MODEL");
    if (extname(path).toLowerCase() === ".mlvm") throw new UsageError(`${path} is already compiled`);
    const out = (values.out as string | undefined) ?? join(dirname(path), `${basename(path, extname(path))}.mlvm`);
    const model = loadModel(path);
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
      commitment: model.meta.commitment,
      programRoot: toHex(model.commitment.programRoot),
      modelRoot: toHex(model.commitment.modelRoot),
    };
    if (values.json) return io.out(JSON.stringify(summary));
    io.out(`compiled ${path} → ${out} (${file.length} bytes)`);
    io.out(`  layers       ${summary.layers.join(", ")}${summary.softmaxFolded ? ", softmax (folded into argmax)" : ""}`);
    io.out(`  parameters   ${summary.parameters}`);
    io.out(`  program      ${summary.instructions} instructions, ${summary.steps} steps, memory depth ${summary.memoryDepth}`);
    io.out(`  commitment   ${summary.commitment}`);
  },
};

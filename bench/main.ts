/**
 * `npm run bench [-- --json]`: MNIST inference latency in the reference interpreter, next to a plain
 * float64 JavaScript forward pass of the same weights (the practical floor), and their ratio.
 * --json prints the same figures as one JSON object (fields documented in the README).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileGraph } from "../compiler/compile.js";
import { forwardFloat } from "../compiler/float.js";
import { importOnnx } from "../compiler/onnx.js";
import { loadMnist } from "../datasets/mnist.js";
import { encodeInput, run } from "../interpreter/run.js";
import { formatUs, measure } from "./timing.js";

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes("--json");
  const graph = importOnnx(readFileSync(root("fixtures/models/mnist-mlp.onnx")), "mnist-mlp");
  const model = compileGraph(graph);
  const mnist = loadMnist(root("fixtures/mnist"));
  const digits = Array.from({ length: 200 }, (_, k) => mnist.image(8000 + k));
  const words = digits.map((d) => encodeInput(model.program, d));

  const reference = measure((k) => run(model, words[k % words.length]), { samples: 200 });
  const float = measure((k) => forwardFloat(graph, digits[k % digits.length]), { samples: 200, perBatch: 50, warmup: 500 });

  const figures = {
    model: "mnist-mlp 784-128-64-10",
    parameters: model.meta.parameters,
    steps: model.meta.steps,
    mnistInference: {
      referenceInterpreterUs: reference.medianUs,
      float64Us: float.medianUs,
      referenceOverFloat: reference.medianUs / float.medianUs,
    },
    node: process.version,
  };
  if (json) {
    console.log(JSON.stringify(figures, null, 2));
    return;
  }
  console.log(`MNIST inference, ${figures.model} (${figures.parameters} parameters, ${figures.steps} VM steps), median of 200`);
  console.log(`  reference interpreter (TypeScript)   ${formatUs(reference.medianUs).padStart(10)}`);
  console.log(`  float64 forward pass (plain JS)      ${formatUs(float.medianUs).padStart(10)}`);
  console.log(`  ratio reference / float64            ${figures.mnistInference.referenceOverFloat.toFixed(1).padStart(8)}×`);
}

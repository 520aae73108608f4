/**
 * MNIST end to end: the PyTorch-exported ONNX model, compiled to mlvm and run in the reference interpreter
 * on the 2,000 held-out test digits, against PyTorch's own float32 predictions.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileGraph } from "../compiler/compile.js";
import { forwardFloat } from "../compiler/float.js";
import { importOnnx } from "../compiler/onnx.js";
import { loadMnist } from "../datasets/mnist.js";
import { decodeOutput, encodeInput, run } from "../interpreter/run.js";

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const reference = JSON.parse(readFileSync(fixture("models/mnist-mlp.reference.json"), "utf8")) as {
  float32_accuracy: number;
  float32_predictions: number[];
};
const graph = importOnnx(readFileSync(fixture("models/mnist-mlp.onnx")), "mnist-mlp");
const model = compileGraph(graph);
const mnist = loadMnist(fixture("mnist"));

describe("MNIST, digits 8000..9999", () => {
  const results = Array.from({ length: 2000 }, (_, k) => {
    const image = mnist.image(8000 + k);
    const { values, prediction } = decodeOutput(model.program, run(model, encodeInput(model.program, image)).output);
    return { values, prediction, float: forwardFloat(graph, image), label: mnist.label(8000 + k) };
  });

  it("agrees with PyTorch's float32 predictions on at least 99.9% (at most 2 differ)", () => {
    const differ = results.filter((r, k) => r.prediction !== reference.float32_predictions[k]).length;
    expect(differ).toBeLessThanOrEqual(2);
  });

  it("has accuracy within 0.1 percentage point of PyTorch's 0.954", () => {
    const accuracy = results.filter((r) => r.prediction === r.label).length / results.length;
    expect(Math.abs(accuracy - reference.float32_accuracy)).toBeLessThanOrEqual(0.001);
  });

  it("produces logits within 1e-3 of the float64 forward pass of the same weights", () => {
    let worst = 0;
    for (const r of results) r.values.forEach((v, o) => (worst = Math.max(worst, Math.abs(v - r.float[o]))));
    expect(worst).toBeLessThan(1e-3);
  });
});

describe("the MNIST loader", () => {
  it("reads the 10,000 test digits with their labels", () => {
    expect(mnist.count).toBe(10000);
    expect(mnist.label(0)).toBe(7); // the first MNIST test digit is a 7
    const image = mnist.image(0);
    expect(image.length).toBe(784);
    expect(Math.max(...image)).toBe(1);
    expect(Math.min(...image)).toBe(0);
  });
});

/** Models for tests: the bundled MNIST model, MNIST inputs, and random MLPs of any shape. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type CompiledModel, compileGraph } from "../../compiler/compile.js";
import { importOnnx } from "../../compiler/onnx.js";
import { loadMnist } from "../../datasets/mnist.js";
import { BUNDLED_MODELS, compileBundled } from "../../demo/models.js";
import { encodeInput } from "../../interpreter/run.js";

export const fixturePath = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

let mnistModel: CompiledModel | undefined;
export function mnist(): CompiledModel {
  mnistModel ??= compileGraph(importOnnx(readFileSync(fixturePath("models/mnist-mlp.onnx")), "mnist-mlp"));
  return mnistModel;
}

let lenet5Model: CompiledModel | undefined;
/** The second bundled model, LeNet-5 (demo/models.ts). */
export function lenet5(): CompiledModel {
  lenet5Model ??= compileBundled(BUNDLED_MODELS.lenet5);
  return lenet5Model;
}

let digits: ReturnType<typeof loadMnist> | undefined;
/** MNIST test digit k as the model's (default: the MLP's) Q15.16 input. */
export function mnistInput(k: number, model: CompiledModel = mnist()): Int32Array {
  digits ??= loadMnist(fixturePath("mnist"));
  return encodeInput(model.program, digits.image(k));
}

export { randomGraph, randomInput } from "../../datasets/synthetic.js";

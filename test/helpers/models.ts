/** Models for tests: the bundled MNIST model, MNIST inputs, and random MLPs of any shape. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type CompiledModel, compileGraph } from "../../compiler/compile.js";
import type { ActivationKind, Layer, ModelGraph } from "../../compiler/graph.js";
import { importOnnx } from "../../compiler/onnx.js";
import { loadMnist } from "../../datasets/mnist.js";
import { encodeInput } from "../../interpreter/run.js";
import { prng } from "./bytecode.js";

export const fixturePath = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

let mnistModel: CompiledModel | undefined;
export function mnist(): CompiledModel {
  mnistModel ??= compileGraph(importOnnx(readFileSync(fixturePath("models/mnist-mlp.onnx")), "mnist-mlp"));
  return mnistModel;
}

let digits: ReturnType<typeof loadMnist> | undefined;
/** MNIST test digit k as the model's Q16.16 input. */
export function mnistInput(k: number): Int32Array {
  digits ??= loadMnist(fixturePath("mnist"));
  return encodeInput(mnist().program, digits.image(k));
}

/** A random MLP: sizes[0] inputs, then dense layers of sizes[1..], each followed by `activation`. */
export function randomGraph(seed: number, sizes: number[], activations: (ActivationKind | null)[] = []): ModelGraph {
  const rand = prng(seed);
  const layers: Layer[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const [inputs, outputs] = [sizes[l - 1], sizes[l]];
    const scale = 1 / Math.sqrt(inputs);
    layers.push({
      kind: "dense",
      inputs,
      outputs,
      weights: Float64Array.from({ length: inputs * outputs }, () => (rand() * 2 - 1) * scale),
      bias: Float64Array.from({ length: outputs }, () => (rand() * 2 - 1) * 0.1),
    });
    const fn = activations[l - 1];
    if (fn) layers.push({ kind: "activation", fn, size: outputs });
  }
  return { name: `random-${sizes.join("-")}`, inputSize: sizes[0], outputSize: sizes.at(-1)!, layers, softmaxFolded: false };
}

/** A random input in [-range, range) as Q16.16 words. */
export function randomInput(seed: number, length: number, range = 2): Int32Array {
  const rand = prng(seed);
  return Int32Array.from({ length }, () => Math.round((rand() * 2 - 1) * range * 65536));
}

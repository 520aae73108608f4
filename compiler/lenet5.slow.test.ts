/**
 * LeNet-5's whole evaluation on the TypeScript interpreter (interpreter/run.ts, the semantics every other engine is
 * held to): all 2,000 images of MNIST t10k[8000:10000], which it was not trained on, word for word equal to the WASM
 * engine's output, ≥ 99.9% agreement with PyTorch's float32 predictions and accuracy within 0.1 pp of PyTorch's.
 * About 37 ms an image (29,371 steps), so it is a slow suite; vm-fixtures.test.ts runs WASM on all 2,000 and TS on 100.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { loadMnist } from "../datasets/mnist.js";
import { encodeInput, run } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { compileGraph } from "./compile.js";
import { importOnnx } from "./onnx.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/models/${name}`, import.meta.url));

it("LeNet-5 on t10k[8000:10000]: the TypeScript interpreter equals WASM word for word and agrees with PyTorch", () => {
  const reference = JSON.parse(fixture("lenet5.reference.json").toString()) as { float32_accuracy: number; float32_predictions: number[] };
  const model = compileGraph(importOnnx(fixture("lenet5.onnx"), "lenet5"));
  const mnist = loadMnist(fileURLToPath(new URL("../fixtures/mnist/", import.meta.url)));
  const machine = new WasmMachine(model);
  let agree = 0;
  let correct = 0;
  let mismatches = 0;
  let saturated = 0;
  reference.float32_predictions.forEach((want, k) => {
    const words = encodeInput(model.program, mnist.image(8000 + k));
    const ts = run(model, words);
    const wasm = machine.run(words);
    if (ts.output.some((w, j) => w !== wasm[j])) mismatches++;
    if (ts.saturations.length) saturated++;
    const prediction = ts.output[ts.output.length - 1];
    if (prediction === want) agree++;
    if (prediction === mnist.label(8000 + k)) correct++;
  });
  expect(mismatches).toBe(0);
  expect(saturated).toBe(0);
  expect(agree / 2000).toBeGreaterThanOrEqual(0.999);
  expect(Math.abs(correct / 2000 - reference.float32_accuracy)).toBeLessThanOrEqual(0.001);
}, 300_000);

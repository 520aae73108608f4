/**
 * Every PyTorch export in fixtures/models/ (INDEX.json), compiled and run in the VM on both engines, against
 * PyTorch's float32 outputs: 100% of predictions agree (argmax for a classifier), every output within 0.1% of the
 * output scale (a regressor's "prediction"), and no run saturates. The large/tiny regressors are also compiled
 * without their calibration inputs; and a run beyond a model's calibrated range says where it saturated.
 * LeNet-5 (fixtures/models/lenet5.onnx) on the images it was not trained on, MNIST t10k[8000:10000]: the WASM engine
 * on all 2,000, the TypeScript interpreter on the first 100 word for word (all 2,000 in lenet5.slow.test.ts).
 * (The float64 import is held to PyTorch in onnx-fixtures.test.ts; TS ≡ WASM ≡ EVM per opcode in interpreter/wasm
 * and test/evm.)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../datasets/mnist.js";
import { stepCount } from "../vm/program.js";
import { decodeOutput, encodeInput, run } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { type CompiledModel, compileGraph, describeInstruction } from "./compile.js";
import { importOnnx } from "./onnx.js";

const dir = new URL("../fixtures/models/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
const json = (name: string) => JSON.parse(read(name).toString()) as Record<string, unknown>;

interface Entry {
  file: string;
  layer: string;
  opset: number;
  outputKind: "classifier" | "regressor";
  expect?: string;
}
const index = (json("INDEX.json") as unknown as Entry[]).filter((e) => e.expect !== "unsupported");

interface Reference {
  inputs: number[][];
  logits: number[][];
  large_inputs?: number[];
}

/** Runs every reference input on both engines (which must agree word for word) and compares with PyTorch. */
function measure(model: CompiledModel, ref: Reference, rows: number[]) {
  const machine = new WasmMachine(model);
  let scale = 0;
  let worst = 0;
  let agree = 0;
  let saturated = 0;
  for (const k of rows) {
    const words = encodeInput(model.program, ref.inputs[k]);
    const ts = run(model, words);
    expect(Array.from(machine.run(words))).toEqual(Array.from(ts.output));
    expect(machine.saturations()).toEqual(ts.saturations);
    if (ts.saturations.length) saturated++;
    const got = decodeOutput(model.program, ts.output).values;
    const want = ref.logits[k].flat();
    want.forEach((v) => (scale = Math.max(scale, Math.abs(v))));
    want.forEach((v, j) => (worst = Math.max(worst, Math.abs(got[j] - v))));
    const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
    if (want.length === 1 || argmax(got) === argmax(want)) agree++;
  }
  return { relative: worst / scale, agree: agree / rows.length, saturated };
}

describe("every PyTorch fixture, compiled and run in the VM, agrees with PyTorch", () => {
  it.each(index.map((e) => [e.file, e] as const))("%s", (file, entry) => {
    const name = file.replace(/\.onnx$/, "");
    const ref = json(`${name}.reference.json`) as unknown as Reference;
    const large = new Set(ref.large_inputs ?? []);
    const rows = ref.inputs.map((_, k) => k).filter((k) => !large.has(k));
    const model = compileGraph(importOnnx(read(file), name), { calibration: rows.map((k) => ref.inputs[k]) });
    const { relative, agree, saturated } = measure(model, ref, rows);
    expect(agree, `${entry.layer}: prediction agreement`).toBe(1);
    expect(relative, `${entry.layer}: max |Δ| relative to the output scale`).toBeLessThan(1e-3);
    expect(saturated).toBe(0);
  });
});

describe("a range that fits the model", () => {
  it.each(["regression-large", "regression-tiny"])("%s agrees with PyTorch without calibration inputs too", (name) => {
    const ref = json(`${name}.reference.json`) as unknown as Reference;
    const model = compileGraph(importOnnx(read(`${name}.onnx`), name));
    const { relative, saturated } = measure(model, ref, ref.inputs.map((_, k) => k));
    expect(relative).toBeLessThan(1e-3);
    expect(saturated).toBe(0);
  });

  it("iris-like: inputs ×6000 beyond its calibration saturate, and the run says where; calibrated on them, it agrees", () => {
    const ref = json("iris-like.reference.json") as unknown as Reference;
    const graph = importOnnx(read("iris-like.onnx"), "iris-like");
    const calibration = (json("iris-like.calibration.json") as { inputs: number[][] }).inputs;
    // Iris rows only: the input stays Q15.16, so the large rows (up to 34,200) must shrink to fit it at all:
    // at ×0.9 they fit the input and overflow the logits (~8.6e4 > 32768).
    const model = compileGraph(graph, { calibration });
    const big = ref.large_inputs!.map((k) => ref.inputs[k].map((v) => v * 0.9));
    const run0 = run(model, encodeInput(model.program, big[0]));
    expect(run0.saturations.length).toBeGreaterThan(0);
    const where = describeInstruction(model.meta, run0.saturations[0].pc);
    expect(where).toMatch(/^instruction \d+ \(dense 16→3 Q15\.16, from Gemm "[^"]+"\)$/);
    // Calibrated on inputs that reach those values, the formats widen and nothing saturates.
    const wide = compileGraph(graph, { calibration: [...calibration, ...big] });
    const { relative, saturated } = measure(wide, { inputs: ref.large_inputs!.map((k) => ref.inputs[k]), logits: ref.large_inputs!.map((k) => ref.logits[k]) }, [0, 1, 2]);
    expect(saturated).toBe(0);
    expect(relative).toBeLessThan(1e-3);
  });
});

describe("LeNet-5 on MNIST t10k[8000:10000], which it was not trained on", () => {
  const reference = json("lenet5.reference.json") as { float32_accuracy: number; float32_predictions: number[] };
  const model = compileGraph(importOnnx(read("lenet5.onnx"), "lenet5"));
  const mnist = loadMnist(fileURLToPath(new URL("../fixtures/mnist/", import.meta.url)));
  const FIRST = 8000;

  it("compiles to the documented program: 15 instructions, 29,371 steps, memory depth 14", () => {
    expect(model.meta.layers.slice(0, 3)).toEqual(["conv 5×5 1×28×28→6×28×28 pad 2,2,2,2 Q15.16", "relu 4704 Q15.16", "maxpool 2×2 6×28×28→14×14 Q15.16"]);
    expect(model.program.instructions).toHaveLength(15);
    expect(stepCount(model.program)).toBe(29371);
    expect(model.program.memoryDepth).toBe(14);
    expect(model.meta.parameters).toBe(61706);
  });

  it("the WASM engine agrees with PyTorch's float32 predictions on ≥ 99.9% of the 2,000 images, accuracy within 0.1 pp", () => {
    const machine = new WasmMachine(model);
    let agree = 0;
    let correct = 0;
    for (let k = 0; k < reference.float32_predictions.length; k++) {
      const output = machine.run(encodeInput(model.program, mnist.image(FIRST + k)));
      const prediction = output[output.length - 1];
      if (prediction === reference.float32_predictions[k]) agree++;
      if (prediction === mnist.label(FIRST + k)) correct++;
      expect(machine.saturations()).toEqual([]);
    }
    expect(reference.float32_predictions).toHaveLength(2000);
    expect(agree / 2000).toBeGreaterThanOrEqual(0.999);
    expect(Math.abs(correct / 2000 - reference.float32_accuracy)).toBeLessThanOrEqual(0.001);
  });

  it("the TypeScript interpreter computes the WASM engine's words on the first 100 images", () => {
    const machine = new WasmMachine(model);
    for (let k = 0; k < 100; k++) {
      const words = encodeInput(model.program, mnist.image(FIRST + k));
      const ts = run(model, words);
      expect(Array.from(ts.output)).toEqual(Array.from(machine.run(words)));
      expect(ts.output[ts.output.length - 1]).toBe(reference.float32_predictions[k]);
    }
  });
});

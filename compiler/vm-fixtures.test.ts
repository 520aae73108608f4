/**
 * Every PyTorch export in fixtures/models/ (INDEX.json), compiled and run in the VM on both engines, against
 * PyTorch's float32 outputs: 100% of predictions agree (argmax for a classifier), every output within 0.1% of the
 * output scale (a regressor's "prediction"), and no run saturates. The large/tiny regressors are also compiled
 * without their calibration inputs; and a run beyond a model's calibrated range says where it saturated.
 * (The float64 import is held to PyTorch in onnx-fixtures.test.ts; TS ≡ WASM ≡ EVM per opcode in interpreter/wasm
 * and test/evm.)
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
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

/**
 * `mlvm check`: the VM against onnxruntime-node on the same ONNX file. The real bin/mlvm.js is spawned as a user
 * types it (exit codes, one-line errors); the rest runs in-process through main() on real models: the bundled
 * MNIST export and fixtures, and small ONNX files built here with onnx-proto (a regressor, two graph outputs,
 * a file onnxruntime refuses).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import { loadMnist } from "../../datasets/mnist.js";
import { OrtRunError } from "../../reference/onnxruntime.js";
import { chooseOutput, compare } from "../../reference/compare.js";
import { readInputs } from "../inputs.js";

const { onnx } = onnxProto;
const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = (path: string) => join(root, "fixtures", path);
const tmp = mkdtempSync(join(tmpdir(), "mlvm-check-"));
const mnist = loadMnist(fixture("mnist"));

function write(name: string, value: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, value instanceof Uint8Array ? value : JSON.stringify(value));
  return path;
}

/** 50 held-out MNIST test digits (8000–8049), as a user would save them. */
const digits = write("digits.json", { inputs: Array.from({ length: 50 }, (_, k) => Array.from(mnist.image(8000 + k))) });

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function spawnMlvm(...argv: string[]) {
  const r = spawnSync(process.execPath, [join(root, "bin/mlvm.js"), ...argv], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderrLines: r.stderr.split("\n").filter((l) => l !== "") };
}

/** A one-input ONNX model: Gemm layers (weights [out][in], transB=1) and the given extra nodes and outputs. */
function onnxModel(opts: { layers: { w: number[][]; b: number[] }[]; tail?: { opType: string; input: string; output: string }[]; outputs: { name: string; size: number }[]; irVersion?: number }): Uint8Array {
  const inits: object[] = [];
  const nodes: object[] = [];
  let x = "input";
  opts.layers.forEach(({ w, b }, k) => {
    inits.push({ name: `W${k}`, dims: [w.length, w[0].length], dataType: 1, floatData: w.flat() }, { name: `B${k}`, dims: [b.length], dataType: 1, floatData: b });
    const y = k === opts.layers.length - 1 ? "logits" : `h${k}`;
    nodes.push({ name: `Gemm_${k}`, opType: "Gemm", input: [x, `W${k}`, `B${k}`], output: [y], attribute: [{ name: "transB", type: 2, i: 1 }] });
    if (k < opts.layers.length - 1) {
      nodes.push({ name: `Relu_${k}`, opType: "Relu", input: [y], output: [`r${k}`] });
      x = `r${k}`;
    }
  });
  for (const t of opts.tail ?? []) nodes.push({ name: `${t.opType}_${t.output}`, opType: t.opType, input: [t.input], output: [t.output], attribute: t.opType.endsWith("Softmax") ? [{ name: "axis", type: 2, i: -1 }] : [] });
  const info = (name: string, size: number) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: size }] } } } });
  const model = onnx.ModelProto.fromObject({
    irVersion: opts.irVersion ?? 7,
    producerName: "mlvm check test",
    opsetImport: [{ domain: "", version: 13 }],
    graph: { name: "g", node: nodes, initializer: inits, input: [info("input", opts.layers[0].w[0].length)], output: opts.outputs.map((o) => info(o.name, o.size)) },
  });
  return onnx.ModelProto.encode(model).finish();
}

describe("mlvm check as a user types it", () => {
  it("the bundled MNIST export on 50 test digits: 100% agreement, |Δ| under 0.1% of scale, no saturation", () => {
    const r = spawnMlvm("check", "fixtures/models/mnist-mlp.onnx", "--inputs", digits);
    expect(r.stderrLines).toEqual([]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^mnist-mlp\.onnx: 50 inputs, the VM \(wasm engine, calibrated on the --inputs\) against onnxruntime-node 1\.30\.0 \(float32\)$/);
    expect(lines[1]).toBe('compared output: "output", 10 values');
    expect(lines[2]).toBe("prediction agreement (argmax): 100.00% (50/50); values within 2% of the output scale: 100.00%");
    const relative = Number(/^max \|Δ\|: ([\d.e-]+)% of the output scale/.exec(lines[3])?.[1]);
    expect(relative).toBeGreaterThan(0);
    expect(relative).toBeLessThan(0.1);
    expect(lines[4]).toBe("saturated runs: 0 of 50");
    expect(lines).toHaveLength(5);
  });

  it("a model mlvm refuses (an LSTM layer): its one-line error, exit 1", () => {
    const r = spawnMlvm("check", "fixtures/models/lstm.onnx", "--inputs", digits);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderrLines[0]).toMatch(/^mlvm check: unsupported operator ConstantOfShape \(ConstantOfShape node "\/lstm\/ConstantOfShape"\)/);
  });

  it("a model onnxruntime refuses (an IR version it does not know): one line, exit 1", () => {
    const bytes = onnxModel({ layers: [{ w: [[1, 2], [3, 4]], b: [0, 1] }], outputs: [{ name: "logits", size: 2 }], irVersion: 99 });
    const path = write("future-ir.onnx", bytes);
    const r = spawnMlvm("check", path, "--inputs", write("two.json", [[1, 2]]));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderrLines[0]).toMatch(new RegExp(`^mlvm check: onnxruntime cannot load ${path}: .*IR version`));
  });
});

describe("mlvm check --json", () => {
  it("both engines compute the same VM outputs, so the same differences; --calibrate is reported", async () => {
    const calibration = write("calibration.json", Array.from({ length: 20 }, (_, k) => Array.from(mnist.image(k))));
    const [wasm, ts] = await Promise.all(
      ["wasm", "ts"].map(async (engine) => {
        const r = await cli("check", fixture("models/mnist-mlp.onnx"), "--inputs", digits, "--calibrate", calibration, "--engine", engine, "--json");
        expect(r.err).toBe("");
        expect(r.code).toBe(0);
        return JSON.parse(r.out);
      }),
    );
    expect(wasm).toMatchObject({ n: 50, engine: "wasm", onnxruntime: "1.30.0", calibration, output: "output", outputSize: 10, headApplied: null, kind: "classifier", agreement: 1, disagreements: [], saturatedRuns: 0, saturations: [] });
    expect(wasm.maxRelativeDelta).toBeLessThan(1e-3);
    expect(wasm.maxRelativeDelta).toBeCloseTo(wasm.maxAbsDelta / wasm.scale, 12);
    expect(ts.engine).toBe("ts");
    expect(ts.maxAbsDelta).toBe(wasm.maxAbsDelta);
    expect(ts.scale).toBe(wasm.scale);
  });

  it("a Softmax head: the VM's logits go through softmax before they are compared with onnxruntime's probabilities", async () => {
    const r = await cli("check", fixture("models/tanh-softmax.onnx"), "--inputs", fixture("models/tanh-softmax.reference.json"), "--json");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({ n: 5, output: "output", headApplied: "softmax", agreement: 1 });
    // Probabilities are below 1: a scale under 1 says the probabilities, not the logits, were compared.
    expect(result.scale).toBeLessThan(1);
    expect(result.maxAbsDelta).toBeLessThan(1e-4);
  });

  it("a regressor (one output): agreement is the share of outputs within 2% of the output scale", async () => {
    const w1 = [[0.5, -1, 2], [1.5, 0.25, -0.75], [-2, 1, 1]];
    const model = write("regressor.onnx", onnxModel({ layers: [{ w: w1, b: [0.1, -0.2, 0.3] }, { w: [[3, -2, 1.5]], b: [10] }], outputs: [{ name: "logits", size: 1 }] }));
    const inputs = write("regressor-inputs.json", Array.from({ length: 30 }, (_, k) => [Math.sin(k), Math.cos(3 * k) * 4, k / 10]));
    const r = await cli("check", model, "--inputs", inputs, "--json");
    expect(r.err).toBe("");
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({ n: 30, kind: "regressor", outputSize: 1, agreement: 1 });
    expect(result.maxRelativeDelta).toBeLessThan(1e-3);
    const text = await cli("check", model, "--inputs", inputs);
    expect(text.out).toContain("prediction agreement (within 2% of the output scale): 100.00% (30/30 outputs)");
  });
});

describe("saturation", () => {
  it("inputs beyond the calibration's range saturate the dense layer: check says which runs, where and how many values", async () => {
    const model = write("loud.onnx", onnxModel({ layers: [{ w: [[1000, 1000, 1000, 1000], [-1000, -1000, -1000, -1000], [1, 1, 1, 1]], b: [0, 0, 0] }], outputs: [{ name: "logits", size: 3 }] }));
    const calibration = write("quiet.json", [[1, 1, 1, 1], [0.5, -1, 0.25, 0]]);
    // Calibrated on |outputs| ≤ 4000, the outputs get 16× room (to 65,536); the second input's reach 400,000.
    const inputs = write("loud-inputs.json", [[1, 1, 1, 1], [100, 100, 100, 100], [0.5, 0.5, 0.5, 0.5]]);
    const r = await cli("check", model, "--inputs", inputs, "--calibrate", calibration);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[4]).toMatch(
      /^saturated runs: 1 of 3, values clamped to their format's range at instruction 0 \(dense 4→3 Q\d+\.\d+, from Gemm "[^"]*"\): 2 values in 1 runs \(outputs may differ from the float model: recompile with --calibrate inputs that reach these values\)$/,
    );
    const json = JSON.parse((await cli("check", model, "--inputs", inputs, "--calibrate", calibration, "--json")).out);
    expect(json).toMatchObject({ saturatedRuns: 1, saturations: [{ pc: 0, values: 2, runs: 1 }] });
    expect(json.saturations[0].instruction).toMatch(/^instruction 0 \(dense 4→3 /);
    expect(json.maxRelativeDelta).toBeGreaterThan(0.5);
    // Calibrated on the inputs themselves (the default), nothing saturates and the VM agrees.
    const own = JSON.parse((await cli("check", model, "--inputs", inputs, "--json")).out);
    expect(own).toMatchObject({ saturatedRuns: 0, saturations: [], agreement: 1 });
    expect(own.maxRelativeDelta).toBeLessThan(1e-3);
  });
});

describe("what check feeds and compares", () => {
  it("reads {inputs} and bare arrays, flattening nested inputs row-major; a wrong size names the input", () => {
    expect(readInputs(write("a.json", { inputs: [[[1, 2], [3, 4]], [5, 6, 7, 8]] }), "--inputs", 4)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(readInputs(write("b.json", [1, 2, 3]), "--inputs", 3)).toEqual([[1, 2, 3]]);
    expect(() => readInputs(write("c.json", [[1, 2, 3], [1, 2]]), "--inputs", 3)).toThrow(/input 1 has 2 values, the model takes 3/);
    expect(() => readInputs(write("d.json", [[1, "x", 3]]), "--inputs", 3)).toThrow(/input 0 value 1 is "x"/);
    expect(() => readInputs(write("e.json", { rows: [] }), "--inputs", 3)).toThrow(/neither an array of inputs nor/);
  });

  it("a wrong-sized input is one line, exit 1; a model that is not .onnx is refused", async () => {
    const r = await cli("check", fixture("models/mnist-mlp.onnx"), "--inputs", write("short.json", [[0, 1, 2]]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mlvm check: --inputs file .*short\.json: input 0 has 3 values, the model takes 784$/);
    const json = await cli("check", fixture("models/tiny.json"), "--inputs", digits);
    expect(json.code).toBe(1);
    expect(json.err).toContain("MODEL must be an .onnx file");
    expect((await cli("check", fixture("models/mnist-mlp.onnx"))).code).toBe(2);
  });

  it("with two graph outputs, the logits are compared, not the Softmax's probabilities", () => {
    const outputs = [
      { name: "logits", values: Float64Array.of(2, -1, 0) },
      { name: "probs", values: Float64Array.of(0.84, 0.04, 0.12) },
    ];
    const heads = new Map([["probs", "softmax" as const]]);
    expect(chooseOutput(outputs, 3, heads, "softmax")).toEqual({ name: "logits", head: undefined });
    expect(chooseOutput([outputs[1], outputs[0]], 3, heads, undefined)).toEqual({ name: "logits", head: undefined });
    expect(chooseOutput([outputs[1]], 3, heads, undefined)).toEqual({ name: "probs", head: "softmax" });
    expect(() => chooseOutput(outputs, 4, heads, undefined)).toThrow(OrtRunError);
  });

  it("two graph outputs as onnxruntime returns them: both by name, and the logits are the ones compared", async () => {
    const bytes = onnxModel({ layers: [{ w: [[1, -1], [0.5, 2], [-1, 0.25]], b: [0, 0.5, -0.5] }], tail: [{ opType: "Softmax", input: "logits", output: "probs" }], outputs: [{ name: "logits", size: 3 }, { name: "probs", size: 3 }] });
    const { loadOrtModel } = await import("../../reference/onnxruntime.js");
    const { headOutputs } = await import("../../reference/heads.js");
    const ort = await loadOrtModel(write("two-outputs.onnx", bytes));
    try {
      const outputs = await ort.run([1, 2]);
      expect(outputs.map((o) => o.name)).toEqual(["logits", "probs"]);
      expect(Array.from(outputs[0].values)).toEqual([-1, 5, -1]);
      expect(chooseOutput(outputs, 3, headOutputs(bytes), "softmax")).toEqual({ name: "logits", head: undefined });
    } finally {
      await ort.release();
    }
  });

  it("the scale is the largest |onnxruntime output| over the file; classifiers agree on the argmax", () => {
    const rows = [
      { vm: Float64Array.of(1, 2), ort: Float64Array.of(1.1, 1.9) },
      { vm: Float64Array.of(3, 2.9), ort: Float64Array.of(-10, 3) },
    ];
    const c = compare(rows, true);
    expect(c).toMatchObject({ agree: 1, of: 2, disagreements: [1], scale: 10 });
    expect(c.maxAbsDelta).toBeCloseTo(13, 12);
    expect(c.maxRelativeDelta).toBeCloseTo(1.3, 12);
    const r = compare([{ vm: Float64Array.of(100.5), ort: Float64Array.of(100) }, { vm: Float64Array.of(3), ort: Float64Array.of(1) }], false);
    expect(r).toMatchObject({ agree: 2, of: 2, scale: 100 });
    expect(compare([{ vm: Float64Array.of(103), ort: Float64Array.of(100) }], false)).toMatchObject({ agree: 0, disagreements: [0] });
  });
});

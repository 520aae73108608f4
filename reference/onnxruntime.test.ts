/**
 * The float reference: onnxruntime-node on the bundled MNIST export computes PyTorch's float32 logits (the
 * fixture's first 20 rows, to 1e-5), and files it cannot run are typed errors naming the file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../datasets/mnist.js";
import { MlvmError } from "../vm/errors.js";
import { applyHead, headOutputs } from "./heads.js";
import { type OrtModel, OrtLoadError, OrtRunError, concreteShape, loadOrtModel } from "./onnxruntime.js";

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "mlvm-ort-"));

describe("onnxruntime-node on the MNIST export", () => {
  let ort: OrtModel;
  beforeAll(async () => {
    ort = await loadOrtModel(fixture("models/mnist-mlp.onnx"));
  });
  afterAll(() => ort.release());

  it("gives the reference file's float32 logits for test digits 8000–8019 to 1e-5", async () => {
    const reference = JSON.parse(readFileSync(fixture("models/mnist-mlp.reference.json"), "utf8")) as { evaluated_on: string; float32_logits_first20: number[][] };
    expect(reference.evaluated_on).toBe("t10k[8000:10000]");
    const mnist = loadMnist(fixture("mnist"));
    for (let k = 0; k < 20; k++) {
      const outputs = await ort.run(mnist.image(8000 + k));
      expect(outputs.map((o) => o.name)).toEqual(["output"]);
      const logits = outputs[0].values;
      expect(logits).toBeInstanceOf(Float64Array);
      expect(logits).toHaveLength(10);
      for (let j = 0; j < 10; j++) expect(Math.abs(logits[j] - reference.float32_logits_first20[k][j])).toBeLessThan(1e-5);
    }
  });

  it("reports its version and input, and refuses an input of the wrong size", async () => {
    expect(ort.version).toBe("1.30.0");
    expect(ort.inputName).toBe("input");
    expect(ort.inputShape).toEqual(["batch", 784]);
    await expect(ort.run(new Float64Array(783))).rejects.toThrow(OrtRunError);
  });
});

describe("files onnxruntime cannot load", () => {
  it("a text file is an OrtLoadError naming the file, one line", async () => {
    const path = join(tmp, "notes.onnx");
    writeFileSync(path, "these are not the weights you are looking for\n");
    const error = await loadOrtModel(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrtLoadError);
    expect(error).toBeInstanceOf(MlvmError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).not.toContain("\n");
  });

  it("a missing file is an OrtLoadError too", async () => {
    await expect(loadOrtModel(join(tmp, "absent.onnx"))).rejects.toThrow(OrtLoadError);
  });
});

describe("input shapes", () => {
  it("the batch dimension is 1 and one other unknown dimension takes the rest", () => {
    expect(concreteShape(["batch", 784], 784)).toEqual([1, 784]);
    expect(concreteShape([-1, 1, 4], 4)).toEqual([1, 1, 4]);
    expect(concreteShape(["N", 1, 28, 28], 784)).toEqual([1, 1, 28, 28]);
    expect(concreteShape(["N", "F"], 12)).toEqual([1, 12]);
    expect(concreteShape([], 5)).toEqual([1, 5]);
  });

  it("an input that does not fit is an OrtRunError", () => {
    expect(() => concreteShape([1, 784], 783)).toThrow(OrtRunError);
    expect(() => concreteShape(["N", "C", "F"], 10)).toThrow(OrtRunError);
  });
});

describe("softmax heads", () => {
  it("finds the Softmax output of the tanh-softmax export, and none in the MNIST export", () => {
    expect([...headOutputs(readFileSync(fixture("models/tanh-softmax.onnx")))]).toEqual([["output", "softmax"]]);
    expect(headOutputs(readFileSync(fixture("models/mnist-mlp.onnx"))).size).toBe(0);
    expect(headOutputs(new TextEncoder().encode("not onnx")).size).toBe(0);
  });

  it("applyHead on the VM's logits gives onnxruntime's probabilities for the tanh-softmax export", async () => {
    const reference = JSON.parse(readFileSync(fixture("models/tanh-softmax.reference.json"), "utf8")) as { inputs: number[][]; logits: number[][]; probabilities: number[][] };
    const ort = await loadOrtModel(fixture("models/tanh-softmax.onnx"));
    try {
      for (let k = 0; k < reference.inputs.length; k++) {
        const [probabilities] = await ort.run(reference.inputs[k].flat());
        const fromLogits = applyHead("softmax", reference.logits[k]);
        for (let j = 0; j < fromLogits.length; j++) expect(Math.abs(fromLogits[j] - probabilities.values[j])).toBeLessThan(1e-6);
        const logSoftmax = applyHead("log_softmax", reference.logits[k]);
        for (let j = 0; j < fromLogits.length; j++) expect(logSoftmax[j]).toBeCloseTo(Math.log(probabilities.values[j]), 5);
      }
    } finally {
      await ort.release();
    }
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FLAG_ARGMAX_OUTPUT, stepCount } from "../vm/program.js";
import { Opcode } from "../vm/opcodes.js";
import { ONE } from "../vm/fixed.js";
import { CHUNK_WORDS, dataBase } from "../vm/memory.js";
import { decodeOutput, encodeInput, run } from "../interpreter/run.js";
import { prng } from "../datasets/synthetic.js";
import { ModelTooLargeError, WeightRangeError, emit, memoryDepthFor } from "./emit.js";
import { forwardFloat } from "./float.js";
import { INPUT, type Layer, type ModelGraph } from "./graph.js";
import { compileGraph } from "./compile.js";
import { importOnnx } from "./onnx.js";

const mnist = () => importOnnx(readFileSync(new URL("../fixtures/models/mnist-mlp.onnx", import.meta.url)), "mnist-mlp");

function tiny(weights: number[], bias: number[], inputs: number, extra: Layer[] = []): ModelGraph {
  return {
    name: "tiny",
    inputSize: inputs,
    outputSize: extra.length ? (extra.at(-1) as { size: number }).size : bias.length,
    softmaxFolded: false,
    layers: [{ kind: "dense", inputs, outputs: bias.length, weights: Float64Array.from(weights), bias: Float64Array.from(bias) }, ...extra],
  };
}

const dense = (inputs: number, outputs: number, rand: () => number, scale = 1, input?: number): Layer => ({
  kind: "dense",
  inputs,
  outputs,
  weights: Float64Array.from({ length: inputs * outputs }, () => ((rand() * 2 - 1) * scale) / Math.sqrt(inputs)),
  bias: Float64Array.from({ length: outputs }, () => (rand() * 2 - 1) * 0.1 * scale),
  ...(input !== undefined ? { input } : {}),
});

/** The VM's outputs for `x` against float64's, as the largest difference relative to the float output scale. */
function relativeError(graph: ModelGraph, inputs: number[][], calibration?: number[][]): number {
  const model = compileGraph(graph, calibration ? { calibration } : {});
  let scale = 0;
  let worst = 0;
  for (const x of inputs) {
    const want = forwardFloat(graph, x);
    const { output, saturations } = run(model, encodeInput(model.program, x));
    expect(saturations).toEqual([]);
    const got = decodeOutput(model.program, output).values;
    want.forEach((v, j) => {
      scale = Math.max(scale, Math.abs(v));
      worst = Math.max(worst, Math.abs(got[j] - v));
    });
  }
  return worst / scale;
}

describe("emit: layout and code generation", () => {
  it("lays out the MNIST model as documented: weights in their own format, activations in place", () => {
    const { program, image, formats } = emit(mnist());
    const base = dataBase(15);
    expect(program.memoryDepth).toBe(15);
    expect(program.flags).toBe(FLAG_ARGMAX_OUTPUT);
    expect(program.instructions.map((i) => i.opcode)).toEqual([Opcode.DENSE, Opcode.RELU, Opcode.DENSE, Opcode.RELU, Opcode.DENSE, Opcode.ARGMAX, Opcode.HALT]);
    expect(formats.input).toBe(16);
    expect(formats.layers).toEqual([16, 16, 16, 16, 16]);
    // rows padded to whole chunks: 784 → 800 words; the shift is the weights' fraction bits (fx = fy = 16)
    const [input, weights, bias, output, inputs, outputs, shift] = program.instructions[0].args;
    expect([input, weights, bias, output, inputs, outputs]).toEqual([base, 0, 128 * 800, base + 800, 784, 128]);
    expect(shift).toBeGreaterThan(16); // the weights are < 1: more fraction bits than Q15.16 gives them
    expect(program.instructions[1].args).toEqual([base + 800, base + 800, 128, 16, 16]);
    expect(program.instructions[5].args).toEqual([base + 992, 10, base + 1002]);
    expect(program.outputAddress).toBe(base + 992);
    expect(program.outputLength).toBe(11);
    expect(image.length).toBe(111434);
    // N = 128·25 + 16 + 64·4 + 8 + 10·2 + 2 + 1
    expect(stepCount(program)).toBe(3503);
  });

  it("quantizes weights row by row in the layer's weight format, with zero padding up to the chunk", () => {
    // fw = ⌊log2(2^30 / (3 inputs · max|w| 4))⌋ = 26; the bias is in the output format, Q15.16
    const { image, program } = emit(tiny([0.5, -0.25, 1, 2, -3, 4], [0.125, -1], 3));
    expect(program.instructions[0].args[6]).toBe(26);
    expect(Array.from(image.subarray(0, 3))).toEqual([0.5 * 2 ** 26, -0.25 * 2 ** 26, 2 ** 26]);
    expect(Array.from(image.subarray(3, CHUNK_WORDS))).toEqual(new Array(CHUNK_WORDS - 3).fill(0));
    expect(Array.from(image.subarray(CHUNK_WORDS, CHUNK_WORDS + 3))).toEqual([2 * 2 ** 26, -3 * 2 ** 26, 4 * 2 ** 26]);
    expect(Array.from(image.subarray(2 * CHUNK_WORDS, 2 * CHUNK_WORDS + 2))).toEqual([0.125 * ONE, -ONE]);
  });

  it("a single-output model has no ARGMAX and no flag; an activation nothing else reads works in place", () => {
    const { program } = emit(tiny([1, 1], [0], 2, [{ kind: "activation", fn: "sigmoid", size: 1 }]));
    expect(program.flags).toBe(0);
    expect(program.outputLength).toBe(1);
    expect(program.instructions.map((i) => i.opcode)).toEqual([Opcode.DENSE, Opcode.SIGMOID, Opcode.HALT]);
    expect(program.instructions[1].args[0]).toBe(program.instructions[0].args[3]);
    expect(program.instructions[1].args[1]).toBe(program.instructions[0].args[3]);
  });

  it("h + relu(h): the activation writes a new buffer, since the ADD still reads h", () => {
    const rand = prng(3);
    const graph: ModelGraph = {
      name: "residual",
      inputSize: 4,
      outputSize: 4,
      softmaxFolded: false,
      layers: [dense(4, 4, rand), { kind: "activation", fn: "relu", size: 4 }, { kind: "add", other: 0, size: 4 }],
    };
    const { program } = emit(graph);
    const [d, r, a] = program.instructions;
    expect(r.args[0]).toBe(d.args[3]);
    expect(r.args[1]).not.toBe(d.args[3]);
    expect(a.opcode).toBe(Opcode.ADD);
    expect(relativeError(graph, [[1, -2, 3, -4], [0.5, 0.5, -0.5, 0]])).toBeLessThan(1e-4);
  });

  it.each([
    ["a bias beyond every format", [0, 0], [1e12], /layer 0 \(dense 2→1\) bias \[0\] is 1000000000000, beyond what its layer's formats can hold \(\|value\| < 2\^31 with 0 fraction bits\)/],
    ["a weight beyond every format", [1e20, 0], [0], /weight \[0\]\[0\] is 100000000000000000000/],
  ])("rejects %s with a WeightRangeError naming it", (_, w, b, message) => {
    expect(() => emit(tiny(w, b, 2))).toThrow(WeightRangeError);
    expect(() => emit(tiny(w, b, 2))).toThrow(message);
  });

  it("picks the smallest memory depth whose halves hold the model, and refuses larger than the maximum", () => {
    expect(memoryDepthFor(8)).toBe(1);
    expect(memoryDepthFor(9)).toBe(2);
    expect(memoryDepthFor(111434)).toBe(15);
    expect(() => memoryDepthFor(2 ** 33)).toThrow(ModelTooLargeError);
  });
});

describe("formats: a range that fits the model", () => {
  const inputs = (n: number, size: number, seed: number, scale = 1) => {
    const rand = prng(seed);
    return Array.from({ length: n }, () => Array.from({ length: size }, () => (rand() * 2 - 1) * scale));
  };

  it("outputs near 10^5 get fewer fraction bits, and agree with float64", () => {
    const rand = prng(5);
    const graph: ModelGraph = { name: "big", inputSize: 6, outputSize: 2, softmaxFolded: false, layers: [dense(6, 16, rand), { kind: "activation", fn: "relu", size: 16 }, dense(16, 2, rand, 3e4)] };
    graph.layers[2] = { ...(graph.layers[2] as Extract<Layer, { kind: "dense" }>), bias: Float64Array.of(5e4, -8e4) };
    const { formats, program } = emit(graph);
    expect(program.outputFrac).toBeLessThan(16);
    expect(formats.layers[2]).toBe(program.outputFrac);
    expect(relativeError(graph, inputs(20, 6, 6))).toBeLessThan(1e-5);
  });

  it("activations near 10^-4 get more fraction bits, and agree with float64", () => {
    const rand = prng(7);
    const graph: ModelGraph = {
      name: "tiny-hidden",
      inputSize: 5,
      outputSize: 1,
      softmaxFolded: false,
      layers: [dense(5, 8, rand, 1e-4), { kind: "activation", fn: "tanh", size: 8 }, dense(8, 1, rand, 1e4)],
    };
    const { formats } = emit(graph);
    expect(formats.layers[0]).toBeGreaterThan(16);
    expect(relativeError(graph, inputs(20, 5, 8))).toBeLessThan(1e-3);
  });

  it("calibration inputs set the input format and the ranges", () => {
    const rand = prng(9);
    const graph: ModelGraph = { name: "c", inputSize: 3, outputSize: 2, softmaxFolded: false, layers: [dense(3, 2, rand)] };
    const small = emit(graph, { calibration: inputs(8, 3, 10, 1e-3) });
    expect(small.formats.calibrated).toBe(true);
    expect(small.program.inputFrac).toBe(24);
    const large = emit(graph, { calibration: inputs(8, 3, 10, 5e4) });
    expect(large.program.inputFrac).toBeLessThan(16);
    expect(relativeError(graph, inputs(10, 3, 11, 5e4), inputs(8, 3, 10, 5e4))).toBeLessThan(1e-5);
  });

  it("every layer kind through a random DAG agrees with float64, and saturation-free", () => {
    const fns = ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "softplus", "clip", "gelu", "gelu_tanh", "silu"] as const;
    for (let trial = 0; trial < 10; trial++) {
      const rand = prng(100 + trial);
      const layers: Layer[] = [dense(6, 12, rand)];
      layers.push({ kind: "activation", fn: fns[trial], size: 12, alpha: 0.2, min: -0.5, max: 0.7 });
      layers.push({ kind: "layernorm", size: 12, epsilon: 1e-5, gamma: Float64Array.from({ length: 12 }, () => 0.5 + rand()), beta: Float64Array.from({ length: 12 }, () => rand() - 0.5) });
      layers.push(dense(12, 12, rand, 1, 2));
      layers.push({ kind: "activation", fn: fns[(trial + 3) % fns.length], size: 12, alpha: 1, min: 0, max: 6 });
      layers.push({ kind: "add", input: 4, other: 1, size: 12 });
      layers.push(dense(12, 3, rand));
      const graph: ModelGraph = { name: `dag-${trial}`, inputSize: 6, outputSize: 3, softmaxFolded: false, layers };
      expect(relativeError(graph, inputs(8, 6, 200 + trial, 2))).toBeLessThan(2e-4);
    }
  });

  it("a layer reading the graph input directly (INPUT) is laid out from the input buffer", () => {
    const rand = prng(12);
    const graph: ModelGraph = {
      name: "skip",
      inputSize: 4,
      outputSize: 4,
      softmaxFolded: false,
      layers: [dense(4, 4, rand), { kind: "add", other: INPUT, size: 4 }],
    };
    expect(relativeError(graph, inputs(6, 4, 13))).toBeLessThan(1e-4);
  });
});

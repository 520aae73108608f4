import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FLAG_ARGMAX_OUTPUT, stepCount } from "../vm/program.js";
import { Opcode } from "../vm/opcodes.js";
import { ONE } from "../vm/fixed.js";
import { CHUNK_WORDS, dataBase } from "../vm/memory.js";
import { ModelTooLargeError, WeightRangeError, emit, memoryDepthFor } from "./emit.js";
import type { ModelGraph } from "./graph.js";
import { importOnnx } from "./onnx.js";

const mnist = () => importOnnx(readFileSync(new URL("../fixtures/models/mnist-mlp.onnx", import.meta.url)), "mnist-mlp");

function tiny(weights: number[], bias: number[], inputs: number, extra: ModelGraph["layers"] = []): ModelGraph {
  return {
    name: "tiny",
    inputSize: inputs,
    outputSize: bias.length,
    softmaxFolded: false,
    layers: [{ kind: "dense", inputs, outputs: bias.length, weights: Float64Array.from(weights), bias: Float64Array.from(bias) }, ...extra],
  };
}

describe("emit: layout and code generation", () => {
  it("lays out the MNIST model as documented", () => {
    const { program, image } = emit(mnist());
    const base = dataBase(15);
    expect(program.memoryDepth).toBe(15);
    expect(program.flags).toBe(FLAG_ARGMAX_OUTPUT);
    expect(program.instructions.map((i) => i.opcode)).toEqual([Opcode.DENSE, Opcode.RELU, Opcode.DENSE, Opcode.RELU, Opcode.DENSE, Opcode.ARGMAX, Opcode.HALT]);
    // rows padded to whole chunks: 784 → 800 words
    expect(program.instructions[0].args).toEqual([base, 0, 128 * 800, base + 800, 784, 128]);
    expect(program.instructions[2].args).toEqual([base + 800, 102528, 102528 + 64 * 128, base + 928, 128, 64]);
    expect(program.instructions[5].args).toEqual([base + 992, 10, base + 1002]);
    expect(program.outputAddress).toBe(base + 992);
    expect(program.outputLength).toBe(11);
    expect(image.length).toBe(111434);
    // N = 128·25 + 16 + 64·4 + 8 + 10·2 + 2 + 1
    expect(stepCount(program)).toBe(3503);
  });

  it("quantizes weights row by row with zero padding up to the chunk", () => {
    const { image } = emit(tiny([0.5, -0.25, 1, 2, -3, 4], [0.125, -1], 3));
    expect(Array.from(image.subarray(0, 3))).toEqual([0.5 * ONE, -0.25 * ONE, ONE]);
    expect(Array.from(image.subarray(3, CHUNK_WORDS))).toEqual(new Array(CHUNK_WORDS - 3).fill(0));
    expect(Array.from(image.subarray(CHUNK_WORDS, CHUNK_WORDS + 3))).toEqual([2 * ONE, -3 * ONE, 4 * ONE]);
    expect(Array.from(image.subarray(2 * CHUNK_WORDS, 2 * CHUNK_WORDS + 2))).toEqual([0.125 * ONE, -ONE]);
  });

  it("a single-output model has no ARGMAX and no flag; activations work in place", () => {
    const { program } = emit(tiny([1, 1], [0], 2, [{ kind: "activation", fn: "sigmoid", size: 1 }]));
    expect(program.flags).toBe(0);
    expect(program.outputLength).toBe(1);
    expect(program.instructions.map((i) => i.opcode)).toEqual([Opcode.DENSE, Opcode.SIGMOID, Opcode.HALT]);
    expect(program.instructions[1].args[0]).toBe(program.instructions[0].args[3]);
  });

  it.each([
    ["a weight", [40000, 0], [0], /layer 0 \(dense\) weight \[0\]\[0\] is 40000/],
    ["a negative weight", [0, -32768.5], [0], /weight \[0\]\[1\] is -32768.5/],
    ["a bias", [0, 0], [1e6], /layer 0 \(dense\) bias \[0\] is 1000000/],
  ])("rejects %s outside the Q16.16 range with a WeightRangeError naming it", (_, w, b, message) => {
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

/**
 * The compiler's entry points: a model file (ONNX, JSON weights or an already compiled .mlvm) → a
 * CompiledModel (program, memory image, commitment, metadata).
 */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { MlvmError } from "../vm/errors.js";
import { type ModelCommitment, commitModel } from "../vm/commitment.js";
import { toHex } from "../vm/hash.js";
import type { Program } from "../vm/program.js";
import { emit } from "./emit.js";
import { type ImageShape, type Layer, type ModelGraph, describeLayer } from "./graph.js";
import { formatName } from "../vm/fixed.js";
import { importJson } from "./json.js";
import { importOnnx } from "./onnx.js";
import { decodeModelFile } from "./modelfile.js";

/** What a .mlvm file records besides the program and the weights. */
export interface ModelMeta {
  name: string;
  inputSize: number;
  /** The input's image shape [C, H, W] when the model reads images (inputs may then be given as [C][H][W] arrays). */
  inputShape?: ImageShape;
  outputSize: number;
  softmaxFolded: boolean;
  /** The folded head (Softmax or LogSoftmax), for a float reference that compares values. */
  foldedHead?: "softmax" | "log_softmax";
  /** Weights and biases. */
  parameters: number;
  /**
   * One line per layer of the compiled (folded) graph, e.g. "dense 784→128 Q15.16", "relu 128 Q15.16",
   * "conv 5×5 1×28×28→6×28×28 pad 2,2,2,2 Q13.18", "maxpool 2×2 6×28×28→14×14 Q13.18".
   */
  layers: string[];
  /** Where each layer came from in the source model (`Gemm "/fc1/Gemm"`), when the importer knows. */
  sources: (string | null)[];
  /**
   * For each instruction, the index in `layers` of the layer it computes, or -1 (ARGMAX, HALT): a convolution's
   * IM2COL and MATMUL instructions (one pair per group) all name the convolution.
   */
  instructionLayers: number[];
  /** Whether the formats came from the user's calibration inputs (else from seeded standard-normal inputs). */
  calibrated: boolean;
  steps: number;
  /** The model commitment, 0x-hex. */
  commitment: string;
}

export interface CompiledModel {
  meta: ModelMeta;
  program: Program;
  /** The model region of memory: quantized weights and biases. */
  image: Int32Array;
  commitment: ModelCommitment;
}

/** A file that cannot be read, or whose kind mlvm does not know. */
export class ModelPathError extends MlvmError {}

export interface CompileOptions {
  /** Calibration inputs: the tensor formats follow the ranges these reach (compiler/formats.ts). */
  calibration?: readonly ArrayLike<number>[];
}

export function compileGraph(source: ModelGraph, options: CompileOptions = {}): CompiledModel {
  const { program, image, graph, formats, instructionLayers } = emit(source, options);
  const commitment = commitModel(program, image);
  const meta: ModelMeta = {
    name: graph.name,
    inputSize: graph.inputSize,
    ...(graph.inputShape ? { inputShape: { ...graph.inputShape } } : {}),
    outputSize: graph.outputSize,
    softmaxFolded: graph.softmaxFolded,
    ...(graph.foldedHead ? { foldedHead: graph.foldedHead } : {}),
    parameters: graph.layers.reduce((n, l) => n + parameterCount(l), 0),
    layers: graph.layers.map((l, k) => `${describeLayer(l)} ${formatName(formats.layers[k])}`),
    sources: graph.layers.map((l) => l.source ?? null),
    instructionLayers,
    calibrated: formats.calibrated,
    steps: commitment.steps,
    commitment: toHex(commitment.hash),
  };
  return { meta, program, image, commitment };
}

function parameterCount(layer: Layer): number {
  if (layer.kind === "dense" || layer.kind === "conv") return layer.weights.length + layer.bias.length;
  if (layer.kind === "layernorm") return 2 * layer.size;
  return 0;
}

/** "instruction 3 (relu 64 Q15.16, from Relu \"/act/Relu\")": how a run names the instruction at pc. */
export function describeInstruction(meta: ModelMeta, pc: number): string {
  const layer = meta.instructionLayers?.[pc] ?? -1;
  if (layer < 0) return `instruction ${pc}`;
  const source = meta.sources?.[layer];
  return `instruction ${pc} (${meta.layers[layer]}${source ? `, from ${source}` : ""})`;
}

/** "instruction 2 (dense 16→3 Q15.16, from Gemm "/2/Gemm"): 2 values; …": where one run clamped values. */
export function describeSaturations(meta: ModelMeta, saturations: readonly { pc: number; count: number }[]): string {
  return saturations.map((s) => `${describeInstruction(meta, s.pc)}: ${s.count} values`).join("; ");
}

/** Reads a model file by its extension: .onnx and .json are compiled, .mlvm is loaded and verified. */
export function loadModel(path: string, options: CompileOptions = {}): CompiledModel {
  const { ext, bytes } = readModelFile(path, [".onnx", ".json", ".mlvm"]);
  if (ext === ".mlvm") return decodeModelFile(bytes);
  return compileGraph(graphOf(path, ext, bytes), options);
}

/** Imports a source model (.onnx or .json) into the float IR, without compiling it. */
export function loadGraph(path: string): ModelGraph {
  const { ext, bytes } = readModelFile(path, [".onnx", ".json"]);
  return graphOf(path, ext, bytes);
}

function graphOf(path: string, ext: string, bytes: Uint8Array): ModelGraph {
  const name = basename(path, ext);
  return ext === ".json" ? importJson(new TextDecoder().decode(bytes), name) : importOnnx(bytes, name);
}

/** A model file's bytes, refused in one line (ModelPathError) when its extension is not one of `kinds` or it cannot be read. */
export function readModelFile(path: string, kinds: string[]): { ext: string; bytes: Uint8Array } {
  const ext = extname(path).toLowerCase();
  if (!kinds.includes(ext)) {
    const expected = kinds.length > 1 ? `${kinds.slice(0, -1).join(", ")} or ${kinds.at(-1)}` : kinds[0];
    throw new ModelPathError(`${path}: unknown model kind "${ext}" (expected ${expected})`);
  }
  try {
    return { ext, bytes: readFileSync(path) };
  } catch (error) {
    throw new ModelPathError(`${path}: cannot read model file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

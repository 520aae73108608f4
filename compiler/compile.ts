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
import type { ModelGraph } from "./graph.js";
import { importJson } from "./json.js";
import { importOnnx } from "./onnx.js";
import { decodeModelFile } from "./modelfile.js";

/** What a .mlvm file records besides the program and the weights. */
export interface ModelMeta {
  name: string;
  inputSize: number;
  outputSize: number;
  softmaxFolded: boolean;
  /** Weights and biases. */
  parameters: number;
  /** One line per layer, e.g. "dense 784→128", "relu 128". */
  layers: string[];
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

export function compileGraph(graph: ModelGraph): CompiledModel {
  const { program, image } = emit(graph);
  const commitment = commitModel(program, image);
  const meta: ModelMeta = {
    name: graph.name,
    inputSize: graph.inputSize,
    outputSize: graph.outputSize,
    softmaxFolded: graph.softmaxFolded,
    parameters: graph.layers.reduce((n, l) => (l.kind === "dense" ? n + l.weights.length + l.bias.length : n), 0),
    layers: graph.layers.map((l) => (l.kind === "dense" ? `dense ${l.inputs}→${l.outputs}` : `${l.fn} ${l.size}`)),
    steps: commitment.steps,
    commitment: toHex(commitment.hash),
  };
  return { meta, program, image, commitment };
}

/** Reads a model file by its extension: .onnx and .json are compiled, .mlvm is loaded and verified. */
export function loadModel(path: string): CompiledModel {
  const ext = extname(path).toLowerCase();
  if (![".onnx", ".json", ".mlvm"].includes(ext)) {
    throw new ModelPathError(`${path}: unknown model kind "${ext}" (expected .onnx, .json or .mlvm)`);
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ModelPathError(`${path}: cannot read model file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const name = basename(path, ext);
  if (ext === ".mlvm") return decodeModelFile(bytes);
  if (ext === ".json") return compileGraph(importJson(new TextDecoder().decode(bytes), name));
  return compileGraph(importOnnx(bytes, name));
}

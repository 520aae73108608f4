/**
 * The models mlvm ships: each an ONNX export in fixtures/models with PyTorch's float32 predictions beside it, both
 * trained on MNIST t10k[0:8000] and evaluated on t10k[8000:10000]. `mlvm demo --model NAME` disputes an inference
 * of one, the bench measures both.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type CompiledModel, compileGraph, describeInstruction } from "../compiler/compile.js";
import { importOnnx } from "../compiler/onnx.js";
import { opcodeInfo } from "../vm/opcodes.js";
import { instructionStarts } from "../vm/program.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

export interface BundledModel {
  name: string;
  /** The ONNX file, relative to the repository root. */
  file: string;
  /** PyTorch's float32 predictions and accuracy (fixtures/models/NAME.reference.json). */
  reference: string;
  description: string;
}

export const BUNDLED_MODELS: Record<string, BundledModel> = {
  "mnist-mlp": {
    name: "mnist-mlp",
    file: "fixtures/models/mnist-mlp.onnx",
    reference: "fixtures/models/mnist-mlp.reference.json",
    description: "an MLP 784-128-64-10 with ReLU",
  },
  lenet5: {
    name: "lenet5",
    file: "fixtures/models/lenet5.onnx",
    reference: "fixtures/models/lenet5.reference.json",
    description: "LeNet-5: conv 5×5 (6, pad 2), max-pool, conv 5×5 (16), max-pool, dense 400-120-84-10, ReLU",
  },
};

/** The bundled model called `name`, or undefined. */
export function bundledModel(name: string): BundledModel | undefined {
  return Object.hasOwn(BUNDLED_MODELS, name) ? BUNDLED_MODELS[name] : undefined;
}

/** A bundled model, compiled from its ONNX file. */
export function compileBundled(model: BundledModel): CompiledModel {
  return compileGraph(importOnnx(readFileSync(new URL(`../${model.file}`, import.meta.url)), model.name));
}

/** The instruction executing at trace step `step` (the step from s_step to s_step+1): its index (a program counter). */
export function instructionAtStep(model: CompiledModel, step: number): number {
  const starts = instructionStarts(model.program);
  let pc = 0;
  while (pc + 1 < starts.length && starts[pc + 1] <= step) pc++;
  return pc;
}

/**
 * What produces state s_k (the step from s_k−1 to s_k, the one a proof of leaf k checks), for messages:
 * "instruction 4, MATMUL (conv 5×5 6×14×14→16×10×10 Q15.16, from Conv …)"; s_0 is the initial state.
 */
export function describeStateSource(model: CompiledModel, k: number): string {
  return k === 0 ? "the initial state" : describeStep(model, k - 1);
}

/** What runs at trace step `step` (from s_step to s_step+1): "instruction 4, MATMUL (conv …)". */
export function describeStep(model: CompiledModel, step: number): string {
  const pc = instructionAtStep(model, step);
  const name = opcodeInfo(model.program.instructions[pc].opcode)?.name ?? "?";
  const text = describeInstruction(model.meta, pc);
  const open = text.indexOf(" (");
  return open < 0 ? `${text}, ${name}` : `${text.slice(0, open)}, ${name}${text.slice(open)}`;
}

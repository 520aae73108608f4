/**
 * The models an agent can re-execute, keyed by their on-chain id (the compiler's commitment), each with one WASM
 * machine. A claim on a model the agent does not hold is reported, never guessed at.
 */
import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { type CompiledModel, loadModel } from "../compiler/compile.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { MlvmError } from "../vm/errors.js";

/** A --models directory that is missing or holds no model. */
export class ModelsDirError extends MlvmError {}

export interface ShelvedModel {
  id: string;
  model: CompiledModel;
  machine: WasmMachine;
  /** Where it was loaded from, for logs. */
  source: string;
}

export class ModelShelf {
  private readonly byId = new Map<string, ShelvedModel>();

  add(model: CompiledModel, source: string): ShelvedModel {
    const id = model.meta.commitment.toLowerCase();
    const existing = this.byId.get(id);
    if (existing) return existing;
    const shelved = { id, model, machine: new WasmMachine(model), source };
    this.byId.set(id, shelved);
    return shelved;
  }

  get(modelId: string): ShelvedModel | undefined {
    return this.byId.get(modelId.toLowerCase());
  }

  get size(): number {
    return this.byId.size;
  }

  list(): ShelvedModel[] {
    return [...this.byId.values()];
  }

  /** Every .mlvm, .onnx and .json model file in `dir` (not recursive); a file that does not load is an error. */
  static fromDir(dir: string): ModelShelf {
    let names: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new ModelsDirError(`--models ${dir} is not a directory`);
      names = readdirSync(dir);
    } catch (error) {
      if (error instanceof ModelsDirError) throw error;
      throw new ModelsDirError(`--models ${dir}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    const shelf = new ModelShelf();
    for (const name of names.sort()) {
      if ([".mlvm", ".onnx", ".json"].includes(extname(name).toLowerCase())) shelf.add(loadModel(join(dir, name)), join(dir, name));
    }
    if (shelf.size === 0) throw new ModelsDirError(`--models ${dir} holds no .mlvm, .onnx or .json model`);
    return shelf;
  }
}

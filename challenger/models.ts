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
  /** The files fromDir skipped because they did not load. */
  readonly skipped: SkippedModel[] = [];

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

  /**
   * Every .mlvm, .onnx and .json model file in `dir` (not recursive). A file that does not load is skipped, not
   * fatal (one bad file must not stop a daemon serving the others): each is passed to `onSkip` and kept in
   * `skipped`. A ModelsDirError when the directory cannot be read or no model loads (naming each file's reason).
   */
  static fromDir(dir: string, onSkip?: (skipped: SkippedModel) => void): ModelShelf {
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
      if (![".mlvm", ".onnx", ".json"].includes(extname(name).toLowerCase())) continue;
      const file = join(dir, name);
      try {
        if (!statSync(file).isFile()) throw new Error("not a regular file");
        shelf.add(loadModel(file), file);
      } catch (error) {
        const skipped = { file, reason: reasonOf(error, file) };
        shelf.skipped.push(skipped);
        onSkip?.(skipped);
      }
    }
    if (shelf.size === 0) {
      const why = shelf.skipped.map((s) => `${s.file}: ${s.reason}`).join("; ");
      throw new ModelsDirError(`--models ${dir} holds no usable .mlvm, .onnx or .json model${why ? ` (skipped ${why})` : ""}`);
    }
    return shelf;
  }
}

/** A model file fromDir could not load, and why (the loader's message without the file's path). */
export interface SkippedModel {
  file: string;
  reason: string;
}

function reasonOf(error: unknown, file: string): string {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
}

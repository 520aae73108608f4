/**
 * Loads the AssemblyScript kernel (built by `npm run build:wasm`, which `npm ci` runs as `prepare`).
 * The compiled module is cached; each instance has its own linear memory, so each loaded model gets one.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MlvmError } from "../../vm/errors.js";

const WASM_PATH = fileURLToPath(new URL("./build/kernel.wasm", import.meta.url));

/** The kernel has not been built (a checkout where `npm ci`'s prepare step did not run). */
export class KernelMissingError extends MlvmError {}

let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    if (!existsSync(WASM_PATH)) throw new KernelMissingError(`the WASM kernel is not built (${WASM_PATH} is missing): run npm run build:wasm`);
    compiled = new WebAssembly.Module(readFileSync(WASM_PATH));
  }
  return compiled;
}

/** The raw exports of a fresh kernel instance: functions by name, and its memory. */
export type KernelExports = Record<string, (...args: never[]) => unknown> & { memory: WebAssembly.Memory };

export function instantiateKernel(): KernelExports {
  const instance = new WebAssembly.Instance(kernelModule(), {
    env: {
      abort(message: number, file: number, line: number, column: number) {
        throw new Error(`WASM kernel aborted at ${line}:${column} (message ${message}, file ${file})`);
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}

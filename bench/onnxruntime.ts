/**
 * mlvm beside the runtime people deploy ONNX models with: onnxruntime-node's session.run on the same MNIST
 * file, in the same process as mlvm's figures, so the ratios (WASM / ORT, traced / ORT) hold on any machine.
 * One intra-op thread: mlvm runs on one core, and the ratio should not depend on how many the machine has.
 */
import type { Tensor } from "onnxruntime-node";
import { loadOrtModel } from "../reference/onnxruntime.js";
import type { Timing } from "./timing.js";

export const ORT_THREADS = 1;

export interface OnnxRuntimeBench {
  version: string;
  intraOpNumThreads: number;
  /** Median µs of one `session.run` on one digit (input tensor built beforehand, as mlvm's inputs are encoded beforehand). */
  sessionRunUs: number;
  /** mlvm's figures over ORT's: the WASM kernel's plain run, the TypeScript interpreter's, the WASM traced run (trace root included). */
  wasmOverOrt: number;
  referenceOverOrt: number;
  tracedOverOrt: number;
}

/** What mlvm measured on the same model and digits (bench/inference.ts). */
export interface MlvmFigures {
  wasmUs: number;
  referenceInterpreterUs: number;
  tracedRunMs: number;
}

export async function benchOnnxRuntime(path: string, images: ArrayLike<number>[], mlvm: MlvmFigures): Promise<OnnxRuntimeBench> {
  const ort = await loadOrtModel(path, { intraOpNumThreads: ORT_THREADS });
  try {
    const feeds = images.map((image) => ({ [ort.inputName]: ort.tensor(image) }) as Record<string, Tensor>);
    const run = await measureAsync((k) => ort.session.run(feeds[k % feeds.length]), { samples: 300, perBatch: 10, warmup: 200 });
    return {
      version: ort.version,
      intraOpNumThreads: ORT_THREADS,
      sessionRunUs: run.medianUs,
      wasmOverOrt: mlvm.wasmUs / run.medianUs,
      referenceOverOrt: mlvm.referenceInterpreterUs / run.medianUs,
      tracedOverOrt: (mlvm.tracedRunMs * 1000) / run.medianUs,
    };
  } finally {
    await ort.release();
  }
}

/** timing.ts's measure for a function returning a promise: each call awaited before the next starts. */
async function measureAsync(fn: (k: number) => Promise<unknown>, { samples, perBatch = 1, warmup = 10 }: { samples: number; perBatch?: number; warmup?: number }): Promise<Timing> {
  let k = 0;
  for (let w = 0; w < warmup; w++) await fn(k++);
  const means: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let b = 0; b < perBatch; b++) await fn(k++);
    means.push(Number(process.hrtime.bigint() - start) / 1000 / perBatch);
  }
  means.sort((a, b) => a - b);
  return { medianUs: means[Math.floor(means.length / 2)], samples };
}

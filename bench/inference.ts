/**
 * MNIST inference latency (median of many single inferences): the TypeScript reference interpreter, the WASM
 * kernel, and a plain float64 forward pass of the same weights (the practical floor); then the traced run
 * (trace root included, model tree cached), step witnesses, and the process's peak RSS.
 */
import { forwardFloat } from "../compiler/float.js";
import type { ModelGraph } from "../compiler/graph.js";
import type { CompiledModel } from "../compiler/compile.js";
import { run } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { measure } from "./timing.js";

export interface InferenceBench {
  referenceInterpreterUs: number;
  wasmUs: number;
  float64Us: number;
  referenceOverFloat: number;
  wasmOverFloat: number;
}

export interface TraceBench {
  tracedRunMs: number;
  /** The first traced run of a fresh machine: builds and caches the model region's tree too. */
  firstTracedRunMs: number;
  witnessMs: number;
  steps: number;
  traceDepth: number;
  checkpointInterval: number;
  peakRssMB: number;
}

export function benchInference(graph: ModelGraph, model: CompiledModel, inputs: Int32Array[], images: Float64Array[]): InferenceBench {
  const machine = new WasmMachine(model);
  const reference = measure((k) => run(model, inputs[k % inputs.length]), { samples: 200 });
  const wasm = measure((k) => machine.run(inputs[k % inputs.length]), { samples: 300, perBatch: 10, warmup: 200 });
  const float = measure((k) => forwardFloat(graph, images[k % images.length]), { samples: 200, perBatch: 50, warmup: 500 });
  return {
    referenceInterpreterUs: reference.medianUs,
    wasmUs: wasm.medianUs,
    float64Us: float.medianUs,
    referenceOverFloat: reference.medianUs / float.medianUs,
    wasmOverFloat: wasm.medianUs / float.medianUs,
  };
}

export function benchTrace(model: CompiledModel, inputs: Int32Array[]): TraceBench {
  const machine = new WasmMachine(model);
  const start = process.hrtime.bigint();
  machine.trace(inputs[0]);
  const firstTracedRunMs = Number(process.hrtime.bigint() - start) / 1e6;
  const traced = measure((k) => machine.trace(inputs[k % inputs.length]), { samples: 50, warmup: 5 });
  const trace = machine.trace(inputs[0]);
  // Witnesses for steps spread over the whole trace (every step kind), each from its checkpoint.
  const witness = measure((k) => trace.witness((k * 7919) % trace.steps), { samples: 300, warmup: 20 });
  return {
    tracedRunMs: traced.medianUs / 1000,
    firstTracedRunMs,
    witnessMs: witness.medianUs / 1000,
    steps: trace.steps,
    traceDepth: trace.depth,
    checkpointInterval: machine.checkpointInterval,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

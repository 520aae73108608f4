/**
 * The scale sweep: random-weight MLPs of about 10k, 100k, 1M and 4M parameters, each measured in a child
 * process of its own so that its peak RSS is its own: compile time, WASM plain-run and traced-run time, the
 * reference interpreter's plain run, steps, trace depth and peak RSS. Costs should grow about linearly with
 * the parameters; the report prints each size's cost per parameter relative to the smallest.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { compileGraph } from "../compiler/compile.js";
import { run } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { randomGraph, randomInput } from "../datasets/synthetic.js";
import { measure } from "./timing.js";

export const SCALE_SHAPES: number[][] = [
  [128, 64, 32, 10], // 10.6k parameters
  [784, 128, 64, 10], // 109k
  [1024, 768, 256, 10], // 985k
  [2048, 1536, 512, 10], // 3.9M
];

export interface ScalePoint {
  shape: number[];
  parameters: number;
  steps: number;
  traceDepth: number;
  compileMs: number;
  wasmPlainUs: number;
  referencePlainUs: number;
  tracedRunMs: number;
  witnessMs: number;
  peakRssMB: number;
}

/** Measures one shape in this process (the child's side). */
export function measureScalePoint(shape: number[]): ScalePoint {
  let start = process.hrtime.bigint();
  const model = compileGraph(randomGraph(7, shape, shape.slice(1, -1).map(() => "relu")));
  const compileMs = Number(process.hrtime.bigint() - start) / 1e6;
  const inputs = Array.from({ length: 8 }, (_, k) => randomInput(k, shape[0], 1));
  const machine = new WasmMachine(model);
  const big = model.meta.parameters > 500_000;
  const wasm = measure((k) => machine.run(inputs[k % 8]), { samples: big ? 30 : 200, warmup: 5 });
  const reference = measure((k) => run(model, inputs[k % 8]), { samples: big ? 5 : 30, warmup: 1 });
  machine.trace(inputs[0]); // builds the model tree once
  start = process.hrtime.bigint();
  const traced = measure((k) => machine.trace(inputs[k % 8]), { samples: big ? 5 : 20, warmup: 1 });
  const trace = machine.trace(inputs[0]);
  const witness = measure((k) => trace.witness((k * 7919) % trace.steps), { samples: 50, warmup: 5 });
  return {
    shape,
    parameters: model.meta.parameters,
    steps: trace.steps,
    traceDepth: trace.depth,
    compileMs,
    wasmPlainUs: wasm.medianUs,
    referencePlainUs: reference.medianUs,
    tracedRunMs: traced.medianUs / 1000,
    witnessMs: witness.medianUs / 1000,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Runs every shape in a child process (`bench.js --scale-point i`) and collects the results. */
export function benchScale(): ScalePoint[] {
  const bin = fileURLToPath(new URL("../bin/bench.js", import.meta.url));
  return SCALE_SHAPES.map((_, i) => JSON.parse(execFileSync(process.execPath, [bin, "--scale-point", String(i)], { encoding: "utf8", maxBuffer: 1 << 20 })) as ScalePoint);
}

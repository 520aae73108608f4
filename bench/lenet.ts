/**
 * The second bundled model beside the first: LeNet-5 (demo/models.ts) measured as the MNIST MLP is, in the same
 * process — plain runs (WASM kernel, TypeScript interpreter, float64 forward pass), onnxruntime-node's session.run
 * on the same ONNX file (one intra-op thread) and the ratio, the traced run, the trace's depth, and a whole
 * dispute's gas with the lie inside the second convolution (its MATMUL), proven by one step of it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CompiledModel } from "../compiler/compile.js";
import { importOnnx } from "../compiler/onnx.js";
import { loadMnist } from "../datasets/mnist.js";
import { BUNDLED_MODELS, compileBundled, describeStateSource } from "../demo/models.js";
import { encodeInput } from "../interpreter/run.js";
import { Opcode } from "../vm/opcodes.js";
import { instructionStarts } from "../vm/program.js";
import { type DisputeGas, benchDispute } from "./dispute.js";
import { type InferenceBench, type TraceBench, benchInference, benchTrace } from "./inference.js";
import { type OnnxRuntimeBench, benchOnnxRuntime } from "./onnxruntime.js";
import { formatUs } from "./timing.js";

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export interface LenetBench {
  parameters: number;
  instructions: number;
  steps: number;
  inference: InferenceBench;
  trace: TraceBench;
  onnxruntime: OnnxRuntimeBench;
  /** The dispute: the lying step, the instruction that makes it, and the gas. */
  lieAtStep: number;
  lieInstruction: string;
  dispute: DisputeGas;
}

/** The step the bench lies from: 1,235 steps into the second convolution's MATMUL (as test/e2e/demo-lenet does). */
export function lieInsideSecondConv(model: CompiledModel): number {
  const matmuls = model.program.instructions.flatMap((insn, pc) => (insn.opcode === Opcode.MATMUL ? [pc] : []));
  return instructionStarts(model.program)[matmuls[1]] + 1235;
}

export async function benchLenet(log: (line: string) => void): Promise<LenetBench> {
  const bundled = BUNDLED_MODELS.lenet5;
  const graph = importOnnx(readFileSync(root(bundled.file)), bundled.name);
  const model = compileBundled(bundled);
  const mnist = loadMnist(root("fixtures/mnist"));
  const images = Array.from({ length: 200 }, (_, k) => mnist.image(8000 + k));
  const inputs = images.map((image) => encodeInput(model.program, image));
  const instructions = model.program.instructions.length;
  log(`\nLeNet-5 (${bundled.description}; ${model.meta.parameters.toLocaleString("en-US")} parameters, ${instructions} instructions, ${model.meta.steps.toLocaleString("en-US")} steps), median`);
  const inference = benchInference(graph, model, inputs, images);
  const trace = benchTrace(model, inputs);
  const onnxruntime = await benchOnnxRuntime(root(bundled.file), images, { ...inference, tracedRunMs: trace.tracedRunMs });
  log(`  onnxruntime-node ${onnxruntime.version} session.run  ${formatUs(onnxruntime.sessionRunUs).padStart(10)}   (CPU, float32, intraOpNumThreads: ${onnxruntime.intraOpNumThreads})`);
  log(`  mlvm WASM kernel, plain run         ${formatUs(inference.wasmUs).padStart(10)}   ${onnxruntime.wasmOverOrt.toFixed(2)}× onnxruntime`);
  log(`  mlvm TypeScript interpreter         ${formatUs(inference.referenceInterpreterUs).padStart(10)}   ${onnxruntime.referenceOverOrt.toFixed(1)}× onnxruntime`);
  log(`  float64 forward pass (plain JS)     ${formatUs(inference.float64Us).padStart(10)}`);
  log(`  mlvm traced run (WASM, trace root)  ${formatUs(trace.tracedRunMs * 1000).padStart(10)}   ${onnxruntime.tracedOverOrt.toFixed(1)}× onnxruntime   (first run, building the model tree: ${trace.firstTracedRunMs.toFixed(1)} ms)`);
  log(`  witness for a step                  ${trace.witnessMs.toFixed(3).padStart(7)} ms   steps ${trace.steps}, trace depth ${trace.traceDepth}, peak RSS ${trace.peakRssMB.toFixed(0)} MB`);
  const lieAtStep = lieInsideSecondConv(model);
  const lieInstruction = describeStateSource(model, lieAtStep);
  const dispute = await benchDispute(model, inputs[0], lieAtStep);
  log(`  a dispute lying from step ${lieAtStep} (made by ${lieInstruction}), on the Hardhat network, m = ${dispute.splitBits}:`);
  log(`    register model ${dispute.register}, claim ${dispute.claim}, challenge ${dispute.challenge}, ${dispute.rounds} rounds: ${dispute.movesCount} moves ${dispute.moves} (max reveal ${dispute.maxReveal}, max choose ${dispute.maxChoose}), prove ${dispute.prove}`);
  log(`    the dispute, both parties summed: ${dispute.dispute.toLocaleString("en-US")} gas`);
  return { parameters: model.meta.parameters, instructions, steps: model.meta.steps, inference, trace, onnxruntime, lieAtStep, lieInstruction, dispute };
}

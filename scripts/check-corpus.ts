/**
 * The bar of issue 12, measured: over a directory of ONNX exports (each NAME.onnx with NAME.reference.json holding
 * inputs, and optionally NAME.calibration.json), how many mlvm compiles and runs, and of those how many agree
 * with onnxruntime-node: ≥ 99% prediction agreement (argmax for a classifier, within 2% of the output scale for
 * each output of a one-output regressor) and max |Δ| ≤ 2% of the output scale. One line per model, then the
 * totals. `scripts/export_unseen.py DIR` writes such a directory (needs PyTorch); then
 *
 *     npx tsx scripts/check-corpus.ts DIR [--engine ts|wasm] [--uncalibrated]
 *
 * --uncalibrated ignores the calibration files: the formats then come from the compiler's seeded inputs alone.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { compileGraph } from "../compiler/compile.js";
import { importOnnx } from "../compiler/onnx.js";
import { engine } from "../cli/engine.js";
import { readInputs } from "../cli/inputs.js";
import { compareWithOnnxruntime } from "../reference/compare.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: npx tsx scripts/check-corpus.ts DIR [--engine ts|wasm] [--uncalibrated]");
const engineName = process.argv.includes("--engine") ? process.argv[process.argv.indexOf("--engine") + 1] : "wasm";
const uncalibrated = process.argv.includes("--uncalibrated");
const files = readdirSync(dir).filter((f) => f.endsWith(".onnx")).sort();
let ran = 0;
let agreed = 0;
let saturated = 0;
const refused: string[] = [];
const differ: string[] = [];
for (const file of files) {
  const name = basename(file, ".onnx");
  const path = join(dir, file);
  try {
    const bytes = readFileSync(path);
    const graph = importOnnx(bytes, name);
    const inputs = readInputs(join(dir, `${name}.reference.json`), "reference", graph.inputSize);
    const calibrationPath = join(dir, `${name}.calibration.json`);
    const calibration = !uncalibrated && existsSync(calibrationPath) ? readInputs(calibrationPath, "calibration", graph.inputSize) : undefined;
    const model = compileGraph(graph, calibration ? { calibration } : {});
    const { comparison: c, saturations } = await compareWithOnnxruntime(path, bytes, model, inputs, engine(model, engineName));
    ran++;
    const agreement = c.agree / c.of;
    const ok = agreement >= 0.99 && c.maxRelativeDelta <= 0.02;
    const clamped = saturations.filter((s) => s.length > 0).length;
    if (clamped) saturated++;
    if (ok) agreed++;
    else differ.push(name);
    console.log(`${ok ? "ok    " : "DIFFER"} ${name}: ${(100 * agreement).toFixed(1)}% agree, max |Δ| ${(100 * c.maxRelativeDelta).toPrecision(3)}% of scale${clamped ? `, ${clamped} runs saturated` : ""}`);
  } catch (error) {
    refused.push(name);
    console.log(`REFUSE ${name}: ${(error as Error).message}`);
  }
}
const pct = (k: number) => `${((100 * k) / files.length).toFixed(1)}%`;
console.log(`${files.length} models: ${ran} run (${pct(ran)}), ${agreed} agree (${pct(agreed)}), ${differ.length} differ, ${refused.length} refused, ${saturated} with saturated runs`);

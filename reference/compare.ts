/**
 * The VM against onnxruntime-node on the same ONNX file and inputs: both run every input, and the comparison says
 * how often their predictions agree and the largest difference relative to the output's scale. `mlvm check` prints
 * it; scripts/check-corpus.ts runs it over a directory of exports.
 */
import type { CompiledModel } from "../compiler/compile.js";
import { type Saturation, decodeOutput, encodeInput } from "../interpreter/run.js";
import { type Head, applyHead, headOutputs } from "./heads.js";
import { type OrtOutput, OrtRunError, loadOrtModel } from "./onnxruntime.js";

/** A regressor's output agrees when it is within this fraction of the output scale of onnxruntime's. */
export const REGRESSION_TOLERANCE = 0.02;

export interface ModelComparison {
  /** The onnxruntime output compared, and the head applied to the VM's logits first (if any). */
  output: string;
  head: Head | undefined;
  outputNames: readonly string[];
  onnxruntime: string;
  comparison: Comparison;
  /** Each input's saturations, in input order. */
  saturations: Saturation[][];
}

/** Runs every input through `execute` (the compiled model) and through onnxruntime on `path`, and compares. */
export async function compareWithOnnxruntime(
  path: string,
  bytes: Uint8Array,
  model: CompiledModel,
  inputs: number[][],
  execute: (input: Int32Array) => { output: Int32Array; saturations: Saturation[] },
): Promise<ModelComparison> {
  const ort = await loadOrtModel(path);
  try {
    const heads = headOutputs(bytes);
    const rows: { vm: Float64Array; ort: Float64Array }[] = [];
    const saturations: Saturation[][] = [];
    let chosen: { name: string; head: Head | undefined } | undefined;
    for (const input of inputs) {
      const run = execute(encodeInput(model.program, input));
      saturations.push(run.saturations);
      const outputs = await ort.run(input);
      chosen ??= chooseOutput(outputs, model.meta.outputSize, heads, model.meta.foldedHead);
      const logits = decodeOutput(model.program, run.output).values;
      const vm = chosen.head ? applyHead(chosen.head, logits) : Float64Array.from(logits);
      rows.push({ vm, ort: outputs.find((o) => o.name === chosen!.name)!.values });
    }
    return {
      output: chosen!.name,
      head: chosen!.head,
      outputNames: ort.outputNames,
      onnxruntime: ort.version,
      comparison: compare(rows, model.meta.outputSize > 1),
      saturations,
    };
  } finally {
    await ort.release();
  }
}

/**
 * The onnxruntime output to compare with the VM's: the only one, or, when the graph returns several (logits and
 * probabilities), the one of the VM's size that is not a Softmax/LogSoftmax head; a head's output is compared
 * with the head applied to the VM's logits.
 */
export function chooseOutput(outputs: OrtOutput[], size: number, heads: Map<string, Head>, folded: Head | undefined): { name: string; head: Head | undefined } {
  const sized = outputs.filter((o) => o.values.length === size);
  if (sized.length === 0) {
    throw new OrtRunError(`onnxruntime's outputs (${outputs.map((o) => `"${o.name}": ${o.values.length} values`).join(", ")}) have none of the VM's ${size} values`);
  }
  const logits = outputs.length > 1 ? sized.find((o) => !heads.has(o.name)) : undefined;
  if (logits) return { name: logits.name, head: undefined };
  return { name: sized[0].name, head: heads.get(sized[0].name) ?? folded };
}

interface Comparison {
  classifier: boolean;
  agree: number;
  /** Inputs (classifier) or output values (regressor) compared. */
  of: number;
  /** Indices of the inputs whose predictions differ. */
  disagreements: number[];
  /** Output values within REGRESSION_TOLERANCE of the scale, of all (for a classifier too: a many-output regressor reads this). */
  valuesWithin: number;
  values: number;
  scale: number;
  maxAbsDelta: number;
  maxRelativeDelta: number;
}

/** Agreement and the largest difference; the scale is the largest |onnxruntime output| over the whole file. */
export function compare(rows: { vm: Float64Array; ort: Float64Array }[], classifier: boolean): Comparison {
  let scale = 0;
  let maxAbsDelta = 0;
  for (const { vm, ort } of rows) {
    for (let j = 0; j < ort.length; j++) {
      scale = Math.max(scale, Math.abs(ort[j]));
      maxAbsDelta = Math.max(maxAbsDelta, Math.abs(vm[j] - ort[j]));
    }
  }
  let argmaxAgree = 0;
  let values = 0;
  let valuesWithin = 0;
  const argmaxDiffer: number[] = [];
  const valuesDiffer: number[] = [];
  rows.forEach(({ vm, ort }, k) => {
    if (argmax(vm) === argmax(ort)) argmaxAgree++;
    else argmaxDiffer.push(k);
    let rowWithin = true;
    for (let j = 0; j < ort.length; j++) {
      values++;
      if (Math.abs(vm[j] - ort[j]) <= REGRESSION_TOLERANCE * scale) valuesWithin++;
      else rowWithin = false;
    }
    if (!rowWithin) valuesDiffer.push(k);
  });
  const maxRelativeDelta = scale > 0 ? maxAbsDelta / scale : maxAbsDelta === 0 ? 0 : Infinity;
  return classifier
    ? { classifier, agree: argmaxAgree, of: rows.length, disagreements: argmaxDiffer, valuesWithin, values, scale, maxAbsDelta, maxRelativeDelta }
    : { classifier, agree: valuesWithin, of: values, disagreements: valuesDiffer, valuesWithin, values, scale, maxAbsDelta, maxRelativeDelta };
}

/** The index of the largest value, the lowest on ties (as the VM's ARGMAX). */
function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
  return best;
}

/** Files of model inputs, as `mlvm check --inputs` and `mlvm compile --calibrate` read them. */
import { InputError } from "../vm/errors.js";
import { readJsonFile } from "./args.js";

/**
 * An inputs file: {"inputs": [...]} (as fixtures' *.reference.json and *.calibration.json hold them) or a bare
 * array; each element an input of any nesting, flattened row-major; a flat array of numbers is one input.
 */
export function readInputs(path: string, option: string, inputSize: number): number[][] {
  const json = readJsonFile(path, `${option} file`);
  const list = Array.isArray(json) ? json : json !== null && typeof json === "object" && Array.isArray((json as { inputs?: unknown }).inputs) ? (json as { inputs: unknown[] }).inputs : undefined;
  if (!list) throw new InputError(`${option} file ${path} is neither an array of inputs nor {"inputs": [...]}`);
  if (list.length === 0) throw new InputError(`${option} file ${path} has no inputs`);
  const rows = list.every((v) => typeof v === "number") ? [list] : list;
  return rows.map((row, k) => {
    const flat = Array.isArray(row) ? (row.flat(Infinity) as unknown[]) : [row];
    const bad = flat.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
    if (bad >= 0) throw new InputError(`${option} file ${path}: input ${k} value ${bad} is ${JSON.stringify(flat[bad])}, not a finite number`);
    if (flat.length !== inputSize) throw new InputError(`${option} file ${path}: input ${k} has ${flat.length} values, the model takes ${inputSize}`);
    return flat as number[];
  });
}

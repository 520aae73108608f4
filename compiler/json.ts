/**
 * JSON weights importer: the "mlvm-mlp" format documented in docs/json-weights.md.
 *
 *   {
 *     "format": "mlvm-mlp",
 *     "version": 1,
 *     "input_size": 3,
 *     "layers": [
 *       { "type": "dense", "weights": [[...3 numbers], ...4 rows], "bias": [...4 numbers] },   // [out][in]
 *       { "type": "relu" },
 *       { "type": "dense", "weights": [[...4], [...4]], "bias": [0.1, -0.2] },
 *       { "type": "softmax" }
 *     ],
 *     "metadata": { ...anything, ignored }
 *   }
 *
 * Validation is strict: unknown fields and layer types, ragged or mis-sized rows, non-numbers and numbers that
 * overflow float64 (1e400 parses as Infinity) are errors naming the field, e.g. `layers[2].weights[1][0]`.
 */
import { ModelFormatError, NonFiniteWeightError, validateGraph } from "./graph.js";
import type { Layer, ModelGraph } from "./graph.js";

export const JSON_FORMAT = "mlvm-mlp";
export const JSON_VERSION = 1;

const TOP_LEVEL_FIELDS = ["format", "version", "input_size", "layers", "metadata"];
const ACTIVATIONS = ["relu", "sigmoid", "tanh"] as const;
const LAYER_TYPES = ["dense", ...ACTIVATIONS, "softmax"];

/** Parses a JSON weights document into the float IR. Throws ModelFormatError (or NonFiniteWeightError) naming the field. */
export function importJson(text: string, name: string): ModelGraph {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ModelFormatError(`${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new ModelFormatError(`${name}: the top level must be a JSON object, got ${kindOf(doc)}`);
  rejectUnknown(doc, TOP_LEVEL_FIELDS, name);

  if (doc.format !== JSON_FORMAT) {
    throw new ModelFormatError(
      doc.format === undefined
        ? `${name}: missing "format": "${JSON_FORMAT}"`
        : `${name}: "format" must be "${JSON_FORMAT}", got ${JSON.stringify(doc.format)}`,
    );
  }
  if (doc.version !== JSON_VERSION) {
    throw new ModelFormatError(
      doc.version === undefined
        ? `${name}: missing "version" (this mlvm reads version ${JSON_VERSION})`
        : `${name}: unsupported "version" ${JSON.stringify(doc.version)} (this mlvm reads version ${JSON_VERSION})`,
    );
  }
  const inputSize = doc.input_size;
  if (typeof inputSize !== "number" || !Number.isInteger(inputSize) || inputSize <= 0) {
    throw new ModelFormatError(`${name}: "input_size" must be a positive integer, got ${JSON.stringify(inputSize) ?? "nothing"}`);
  }
  if (doc.metadata !== undefined && !isObject(doc.metadata)) {
    throw new ModelFormatError(`${name}: "metadata" must be an object, got ${kindOf(doc.metadata)}`);
  }
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) {
    throw new ModelFormatError(`${name}: "layers" must be a non-empty array, got ${kindOf(doc.layers)}`);
  }

  const layers: Layer[] = [];
  let size = inputSize;
  let softmaxFolded = false;
  doc.layers.forEach((raw: unknown, index: number) => {
    const where = `${name}: layers[${index}]`;
    if (!isObject(raw)) throw new ModelFormatError(`${where} must be an object, got ${kindOf(raw)}`);
    const type = raw.type;
    if (typeof type !== "string" || !LAYER_TYPES.includes(type)) {
      throw new ModelFormatError(`${where}.type: unknown layer type ${JSON.stringify(type) ?? "(missing)"} (expected one of ${LAYER_TYPES.join(", ")})`);
    }
    if (softmaxFolded) throw new ModelFormatError(`${where}: a softmax layer must be the last layer, but layers[${index - 1}] is softmax`);
    if (type === "dense") {
      rejectUnknown(raw, ["type", "weights", "bias"], where);
      const weights = matrix(raw.weights, size, `${where}.weights`);
      const outputs = weights.length / size;
      const bias = raw.bias === undefined ? new Float64Array(outputs) : vector(raw.bias, outputs, `${where}.bias`);
      layers.push({ kind: "dense", inputs: size, outputs, weights, bias });
      size = outputs;
    } else {
      rejectUnknown(raw, ["type"], where);
      if (type === "softmax") softmaxFolded = true;
      else layers.push({ kind: "activation", fn: type as (typeof ACTIVATIONS)[number], size });
    }
  });
  return validateGraph({ name, inputSize, outputSize: size, layers, softmaxFolded });
}

/** A [rows][inputs] array of arrays of numbers, flattened row-major. */
function matrix(value: unknown, inputs: number, where: string): Float64Array {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ModelFormatError(`${where} must be a non-empty array of rows ([outputs][inputs]), got ${kindOf(value)}`);
  }
  const out = new Float64Array(value.length * inputs);
  value.forEach((row: unknown, o: number) => {
    if (!Array.isArray(row)) throw new ModelFormatError(`${where}[${o}] must be an array of ${inputs} numbers, got ${kindOf(row)}`);
    if (row.length !== inputs) {
      throw new ModelFormatError(`${where}[${o}] has ${row.length} entries, expected ${inputs} (the layer's input size; rows are [outputs][inputs])`);
    }
    for (let i = 0; i < inputs; i++) out[o * inputs + i] = number(row[i], `${where}[${o}][${i}]`);
  });
  return out;
}

function vector(value: unknown, length: number, where: string): Float64Array {
  if (!Array.isArray(value)) throw new ModelFormatError(`${where} must be an array of ${length} numbers, got ${kindOf(value)}`);
  if (value.length !== length) throw new ModelFormatError(`${where} has ${value.length} entries, expected ${length} (one per output)`);
  return Float64Array.from(value, (v: unknown, i: number) => number(v, `${where}[${i}]`));
}

function number(value: unknown, where: string): number {
  if (typeof value !== "number") throw new ModelFormatError(`${where} must be a number, got ${kindOf(value)} ${JSON.stringify(value)}`);
  if (!Number.isFinite(value)) {
    // JSON has no NaN/Infinity literals, but a number too large for float64 (1e400) parses as ±Infinity.
    throw new NonFiniteWeightError(`${where} is ${value} (the number is too large for float64)`);
  }
  return value;
}

function rejectUnknown(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ModelFormatError(`${where}: unknown field "${key}" (allowed: ${allowed.join(", ")})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

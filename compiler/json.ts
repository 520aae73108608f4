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
 * Activations: relu, sigmoid, tanh, softplus, gelu, gelu_tanh, silu; leaky_relu and elu with an optional
 * "alpha" (default 0.01 and 1, as PyTorch); clip with "min" and/or "max". A final "softmax" or "log_softmax" is
 * folded into the argmax (graph.ts).
 *
 * Validation is strict: unknown fields and layer types, ragged or mis-sized rows, non-numbers and numbers that
 * overflow float64 (1e400 parses as Infinity) are errors naming the field, e.g. `layers[2].weights[1][0]`.
 */
import { ModelFormatError, NonFiniteWeightError, validateGraph } from "./graph.js";
import type { ActivationKind, Layer, ModelGraph } from "./graph.js";

export const JSON_FORMAT = "mlvm-mlp";
export const JSON_VERSION = 1;

const TOP_LEVEL_FIELDS = ["format", "version", "input_size", "layers", "metadata"];
const ACTIVATIONS: ActivationKind[] = ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "softplus", "clip", "gelu", "gelu_tanh", "silu"];
const HEADS = ["softmax", "log_softmax"] as const;
const LAYER_TYPES = ["dense", ...ACTIVATIONS, ...HEADS];
/** The parameters each activation takes, and their defaults (undefined: optional with no default). */
const PARAMETERS: Partial<Record<ActivationKind, Record<string, number | undefined>>> = {
  leaky_relu: { alpha: 0.01 },
  elu: { alpha: 1 },
  clip: { min: undefined, max: undefined },
};

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
  let head: (typeof HEADS)[number] | undefined;
  doc.layers.forEach((raw: unknown, index: number) => {
    const where = `${name}: layers[${index}]`;
    if (!isObject(raw)) throw new ModelFormatError(`${where} must be an object, got ${kindOf(raw)}`);
    const type = raw.type;
    if (typeof type !== "string" || !LAYER_TYPES.includes(type)) {
      throw new ModelFormatError(`${where}.type: unknown layer type ${JSON.stringify(type) ?? "(missing)"} (expected one of ${LAYER_TYPES.join(", ")})`);
    }
    if (head) throw new ModelFormatError(`${where}: a ${head} layer must be the last layer, but layers[${index - 1}] is ${head}`);
    if (type === "dense") {
      rejectUnknown(raw, ["type", "weights", "bias"], where);
      const weights = matrix(raw.weights, size, `${where}.weights`);
      const outputs = weights.length / size;
      const bias = raw.bias === undefined ? new Float64Array(outputs) : vector(raw.bias, outputs, `${where}.bias`);
      layers.push({ kind: "dense", inputs: size, outputs, weights, bias });
      size = outputs;
    } else if ((HEADS as readonly string[]).includes(type)) {
      rejectUnknown(raw, ["type"], where);
      head = type as (typeof HEADS)[number];
    } else {
      layers.push(activation(raw, type as ActivationKind, size, where));
    }
  });
  return validateGraph({ name, inputSize, outputSize: size, layers, softmaxFolded: head !== undefined, ...(head ? { foldedHead: head } : {}) });
}

function activation(raw: Record<string, unknown>, fn: ActivationKind, size: number, where: string): Layer {
  const params = PARAMETERS[fn] ?? {};
  rejectUnknown(raw, ["type", ...Object.keys(params)], where);
  const layer: Layer = { kind: "activation", fn, size };
  for (const [key, fallback] of Object.entries(params)) {
    const value = raw[key] === undefined ? fallback : number(raw[key], `${where}.${key}`);
    if (value !== undefined) (layer as unknown as Record<string, number>)[key] = value;
  }
  if (fn === "clip") {
    if (layer.min === undefined && layer.max === undefined) throw new ModelFormatError(`${where}: a clip layer needs "min", "max" or both`);
    if ((layer.min ?? -Infinity) > (layer.max ?? Infinity)) throw new ModelFormatError(`${where}: clip "min" ${layer.min} is greater than "max" ${layer.max}`);
  }
  return layer;
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

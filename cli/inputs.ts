/**
 * Files of model inputs, as `mlvm run --input`, `check --inputs`, `compile --calibrate`, `trace` and `request` read
 * them. One reader, so every command takes the same files:
 *   - JSON: {"inputs": [...]} (as fixtures' *.reference.json and *.calibration.json hold them) or a bare array.
 *     An input is a flat vector of the model's inputSize numbers or any nesting of them, e.g. an image as
 *     [C][H][W], [1][C][H][W] or, for one channel, [H][W] (flattened row-major: the VM's channel-major layout);
 *     a file holds one input or a list of them ([N][C][H][W] is N images). When the model reads images, a nested
 *     input must have one of those shapes: a [W][H] or [H][W][C] image is refused rather than read scrambled.
 *   - IDX (the MNIST distribution's format, gzipped or not: a path ending in -ubyte, .idx or their .gz): an
 *     unsigned-byte array [N, H, W] (or [N, C, H, W]) of N images, each pixel scaled to [0, 1] (pixel / 255, the
 *     scaling the bundled models were trained with).
 */
import type { ImageShape } from "../compiler/graph.js";
import { parseIdx } from "../datasets/idx.js";
import { InputError } from "../vm/errors.js";
import { readFileSync } from "node:fs";
import { readJsonFile } from "./args.js";

/** Does this path name an IDX file (rather than JSON)? */
export function isIdxPath(path: string): boolean {
  return /(-ubyte|\.idx\d?)(\.gz)?$/i.test(path);
}

/**
 * The inputs in `path` as flat vectors of `inputSize` numbers. `option` names the flag in messages; `shape` is the
 * model's image shape when it reads images. `range` keeps inputs [from, to) of the file.
 */
export function readInputs(path: string, option: string, inputSize: number, shape?: ImageShape, range?: [number, number]): number[][] {
  const all = isIdxPath(path) ? readIdxInputs(path, option, inputSize, shape) : readJsonInputs(path, option, inputSize, shape);
  if (!range) return all;
  const [from, to] = range;
  if (from >= to || to > all.length) throw new InputError(`${option} file ${path} has ${all.length} inputs: range ${from}:${to} is not inside [0, ${all.length}]`);
  return all.slice(from, to);
}

function readJsonInputs(path: string, option: string, inputSize: number, shape?: ImageShape): number[][] {
  const json = readJsonFile(path, `${option} file`);
  const list = Array.isArray(json) ? json : json !== null && typeof json === "object" && Array.isArray((json as { inputs?: unknown }).inputs) ? (json as { inputs: unknown[] }).inputs : undefined;
  if (!list) throw new InputError(`${option} file ${path} is neither an array of inputs nor {"inputs": [...]}`);
  if (list.length === 0) throw new InputError(`${option} file ${path} has no inputs`);
  // The whole array is one input when it holds exactly one input's numbers (a flat vector, or one nested image).
  const single = list.every((v) => typeof v === "number") || (list.flat(Infinity).length === inputSize && !list.every((v) => Array.isArray(v) && v.flat(Infinity).length === inputSize));
  const rows: unknown[] = single ? [list] : list;
  return rows.map((row, k) => {
    const at = `${option} file ${path}: input ${k}`;
    const flat = Array.isArray(row) ? (row.flat(Infinity) as unknown[]) : [row];
    const bad = flat.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
    if (bad >= 0) throw new InputError(`${at} value ${bad} is ${JSON.stringify(flat[bad])}, not a finite number`);
    if (flat.length !== inputSize) throw new InputError(`${at} has ${flat.length} values, the model takes ${inputSize}`);
    if (shape && Array.isArray(row)) checkImageShape(row, shape, at);
    return flat as number[];
  });
}

/** The dimensions of a nested array, by its first elements (ragged arrays are caught by the value count). */
function dimsOf(value: unknown): number[] {
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  return dims;
}

/** A nested image input must be [C][H][W], [1][C][H][W] or (one channel) [H][W]; a flat vector is always fine. */
function checkImageShape(row: unknown[], shape: ImageShape, at: string): void {
  const dims = dimsOf(row);
  if (dims.length === 1) return;
  const { channels: c, height: h, width: w } = shape;
  const fits = (expected: number[]) => expected.length === dims.length && expected.every((d, k) => d === dims[k]);
  if (fits([c, h, w]) || fits([1, c, h, w]) || (c === 1 && fits([h, w]))) return;
  throw new InputError(`${at} has shape [${dims.join(", ")}]; the model reads images [${c}, ${h}, ${w}] (channels, height, width), given as [C][H][W], [1][C][H][W]${c === 1 ? ", [H][W]" : ""} or flat`);
}

function readIdxInputs(path: string, option: string, inputSize: number, shape?: ImageShape): number[][] {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (error) {
    throw new InputError(`${option} file ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const { dims, data } = parseIdx(raw, `${option} file ${path}`);
  if (dims.length < 2) throw new InputError(`${option} file ${path} is an IDX array of shape [${dims.join(", ")}], not a list of images [N, H, W]`);
  const [n, ...each] = dims;
  const size = each.reduce((a, b) => a * b, 1);
  if (size !== inputSize) {
    const wanted = shape ? `[${shape.channels}, ${shape.height}, ${shape.width}]` : `${inputSize} values`;
    throw new InputError(`${option} file ${path} holds ${n} images of shape [${each.join(", ")}], the model reads ${wanted}`);
  }
  if (shape && !(each.length === 3 ? each[0] === shape.channels && each[1] === shape.height && each[2] === shape.width : shape.channels === 1 && each[0] === shape.height && each[1] === shape.width)) {
    throw new InputError(`${option} file ${path} holds images of shape [${each.join(", ")}], the model reads [${shape.channels}, ${shape.height}, ${shape.width}]`);
  }
  const inputs: number[][] = [];
  for (let k = 0; k < n; k++) inputs.push(Array.from(data.subarray(k * size, (k + 1) * size), (p) => p / 255));
  return inputs;
}

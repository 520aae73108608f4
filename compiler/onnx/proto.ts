/**
 * The ONNX file as data: decoding the protobuf (ModelProto) into the few fields the importer reads, tensors into
 * float or integer constants, and node attributes into numbers. Nothing here knows what an operator means.
 */
import onnxProto from "onnx-proto";
import { ModelFormatError } from "../graph.js";
import type { FloatValue, IntsValue } from "./values.js";
import { fmtShape } from "./values.js";

// onnx-proto is a CommonJS module whose exports Node's ESM loader cannot detect statically:
// `import { onnx } from "onnx-proto"` fails at run time; the default import is module.exports.
const { onnx } = onnxProto;

export type OnnxTensor = import("onnx-proto").onnx.ITensorProto;
export type OnnxAttribute = import("onnx-proto").onnx.IAttributeProto;
export type OnnxValueInfo = import("onnx-proto").onnx.IValueInfoProto;
type OnnxOpset = import("onnx-proto").onnx.IOperatorSetIdProto;

/** The parts of a decoded NodeProto we read, with protobufjs's optional fields made definite. */
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/** The parts of a decoded ModelProto we read. */
export interface OnnxGraph {
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  opsetImport: OnnxOpset[];
}

/** protobufjs decodes int64 fields as Long objects (or plain numbers when Long is unavailable). */
type IntLike = number | { toNumber(): number } | null | undefined;

// TensorProto.DataType values used here.
export const FLOAT = 1;
export const INT32 = 6;
export const INT64 = 7;
export const DOUBLE = 11;
const DATA_TYPE_NAMES = [
  "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
  "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
];

export function decodeModel(bytes: Uint8Array, name: string): OnnxGraph {
  let model: import("onnx-proto").onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ModelFormatError(`${name} is not a valid ONNX model (protobuf decoding failed: ${(err as Error).message})`);
  }
  // Protobuf decoding is lenient (an empty file is a valid empty message, random bytes may parse as
  // unknown fields), so also require the parts every ONNX model has.
  const graph = model.graph;
  if (!graph || !graph.node?.length || !graph.output?.length) {
    throw new ModelFormatError(`${name} is not a valid ONNX model (it has no graph, no nodes or no outputs)`);
  }
  return {
    node: graph.node.map((n) => ({
      name: n.name ?? "",
      opType: n.opType ?? "",
      domain: n.domain ?? "",
      input: n.input ?? [],
      output: n.output ?? [],
      attribute: n.attribute ?? [],
    })),
    initializer: graph.initializer ?? [],
    input: graph.input ?? [],
    output: graph.output,
    opsetImport: model.opsetImport ?? [],
  };
}

/** The model's ai.onnx opset version. */
export function opsetOf(graph: OnnxGraph, name: string): number {
  const opsets = graph.opsetImport.filter((o) => !o.domain || o.domain === "ai.onnx");
  if (opsets.length === 0) throw new ModelFormatError(`${name}: the model declares no ai.onnx opset version`);
  const opset = toNumber(opsets[0].version);
  if (opset < 7) throw new ModelFormatError(`${name}: opset ${opset} is too old (mlvm reads opset 7 and later)`);
  return opset;
}

export function constantFromNode(node: OnnxNode, where: string): FloatValue | IntsValue {
  const attr = node.attribute[0];
  if (!attr || node.attribute.length !== 1) throw new ModelFormatError(`${where} must have exactly one value attribute`);
  switch (attr.name) {
    case "value":
      if (!attr.t) throw new ModelFormatError(`${where}: attribute "value" holds no tensor`);
      return constantFromTensor(attr.t, `Constant ${where}`);
    case "value_float":
      return floatConstant([], Float64Array.of(attr.f ?? 0), `Constant ${where}`);
    case "value_floats":
      return floatConstant([attr.floats!.length], Float64Array.from(attr.floats!), `Constant ${where}`);
    case "value_int":
      return { kind: "ints", dims: [], values: [toNumber(attr.i)], origin: `Constant ${where}` };
    case "value_ints":
      return { kind: "ints", dims: [attr.ints!.length], values: attr.ints!.map(toNumber), origin: `Constant ${where}` };
    default:
      throw new ModelFormatError(`${where}: Constant attribute "${attr.name}" is not supported`);
  }
}

export function floatConstant(dims: number[], values: Float64Array, origin: string): FloatValue {
  return { kind: "float", dims, origin, load: () => values };
}

export function constantFromTensor(t: OnnxTensor, origin: string): FloatValue | IntsValue {
  const dims = (t.dims ?? []).map(toNumber);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new ModelFormatError(`${origin} has invalid dims ${fmtShape(dims)}`);
  const count = dims.reduce((p, d) => p * d, 1);
  const type = t.dataType ?? 0;
  if (t.dataLocation === 1) {
    throw new ModelFormatError(`${origin} stores its data in an external file; re-export the model with the weights inside the .onnx file`);
  }
  if (type === INT64 || type === INT32) {
    const size = type === INT64 ? 8 : 4;
    const raw = t.rawData;
    let values: number[];
    if (raw && raw.length > 0) {
      if (raw.length !== count * size) throw new ModelFormatError(`${origin} has ${raw.length} bytes of data, expected ${count * size} for ${fmtShape(dims)}`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      values = Array.from({ length: count }, (_, i) => (size === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true)));
    } else {
      values = (type === INT64 ? (t.int64Data ?? []) : (t.int32Data ?? [])).map(toNumber);
      if (values.length !== count) throw new ModelFormatError(`${origin} has ${values.length} values, expected ${count} for ${fmtShape(dims)}`);
    }
    return { kind: "ints", dims, values, origin };
  }
  let memo: Float64Array | null = null;
  const load = () => (memo ??= decodeFloats(t, type, count, dims, origin));
  return { kind: "float", dims, origin, load };
}

function decodeFloats(t: OnnxTensor, type: number, count: number, dims: number[], origin: string): Float64Array {
  if (type !== FLOAT && type !== DOUBLE) {
    throw new ModelFormatError(`${origin} has data type ${typeName(type)}; weights must be FLOAT (float32) or DOUBLE`);
  }
  const size = type === FLOAT ? 4 : 8;
  const raw = t.rawData;
  const out = new Float64Array(count);
  if (raw && raw.length > 0) {
    if (raw.length !== count * size) {
      throw new ModelFormatError(`${origin} has ${raw.length} bytes of data, expected ${count * size} for ${typeName(type)} ${fmtShape(dims)}`);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (size === 4) for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    else for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  } else {
    const list = type === FLOAT ? t.floatData : t.doubleData;
    if (!list || list.length !== count) {
      throw new ModelFormatError(`${origin} has ${list ? list.length : 0} values, expected ${count} for ${fmtShape(dims)}`);
    }
    for (let i = 0; i < count; i++) out[i] = list[i];
  }
  return out;
}

export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function attrInt(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? toNumber(a.i) : fallback;
}

export function attrFloat(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? 0) : fallback;
}

export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(toNumber) : undefined;
}

export function attrString(node: OnnxNode, name: string, fallback: string): string {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

export function toNumber(v: IntLike): number {
  if (v == null) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

export function typeName(type: number): string {
  return DATA_TYPE_NAMES[type] ?? `type ${type}`;
}

/** `Gemm node "/fc1/Gemm"`: how messages name a node. */
export function describeNode(node: OnnxNode, index: number): string {
  const op = node.opType || "?";
  return node.name ? `${op} node "${node.name}"` : `${op} node #${index} (output "${node.output[0] ?? ""}")`;
}

/** `Gemm "/fc1/Gemm"`: a layer's `source` when one node made it. */
export function nodeSource(node: OnnxNode, index: number): string {
  return node.name ? `${node.opType} "${node.name}"` : `${node.opType} #${index}`;
}

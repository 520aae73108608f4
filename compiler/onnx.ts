/**
 * ONNX importer: turns the MLP subset of what torch.onnx.export writes (opsets 11-17; older and newer opsets
 * are read with the same rules) into the float IR of graph.ts.
 *
 * Supported, along a single chain from the one graph input to the one graph output:
 *   Gemm (transA=0, transB 0 or 1, alpha and beta folded into the weights and bias, C absent or broadcast)
 *   MatMul (weights [in][out]) optionally followed by Add of a constant bias (either operand order)
 *   Relu, Sigmoid, Tanh
 *   Flatten (axis=1) and Reshape keeping the batch dimension first (shape from an initializer, a Constant,
 *     or the Shape -> Gather -> Unsqueeze -> Concat subgraph torch writes for x.reshape(x.shape[0], -1))
 *   Identity and inference-mode Dropout (no-ops)
 *   Softmax over the feature axis, only as the last op (sets softmaxFolded: the VM computes the logits)
 * Weights must be initializers or Constant nodes (float32 or float64), stored inside the file.
 */
import onnxProto from "onnx-proto";
import { ModelFormatError, UnsupportedOpError, validateGraph } from "./graph.js";
import type { ActivationKind, Layer, ModelGraph } from "./graph.js";

// onnx-proto is a CommonJS module whose exports Node's ESM loader cannot detect statically:
// `import { onnx } from "onnx-proto"` fails at run time; the default import is module.exports.
const { onnx } = onnxProto;

type OnnxTensor = import("onnx-proto").onnx.ITensorProto;
type OnnxAttribute = import("onnx-proto").onnx.IAttributeProto;
type OnnxValueInfo = import("onnx-proto").onnx.IValueInfoProto;
type OnnxOpset = import("onnx-proto").onnx.IOperatorSetIdProto;

/** The parts of a decoded NodeProto we read, with protobufjs's optional fields made definite. */
interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/** The parts of a decoded ModelProto we read. */
interface OnnxGraph {
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  opsetImport: OnnxOpset[];
}
/** protobufjs decodes int64 fields as Long objects (or plain numbers when Long is unavailable). */
type IntLike = number | { toNumber(): number } | null | undefined;

// TensorProto.DataType values used here.
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;
const DATA_TYPE_NAMES = [
  "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
  "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
];

/** A dimension: a number, or null for the symbolic batch size (dim 0 of the graph input). */
type Dim = number | null;

/** A tensor computed from the graph input (the chain we compile). */
interface DataValue {
  kind: "data";
  shape: Dim[];
  /** The node that produced it ("graph input" for the input itself), for messages. */
  origin: string;
  /** When this tensor is the direct output of a dense layer (so an Add can fold into its bias), that layer. */
  dense: { layer: number; node: string } | null;
}

/** A float constant (an initializer, a Constant node, or a transpose of one), decoded on first use. */
interface FloatValue {
  kind: "float";
  dims: number[];
  origin: string;
  load(): Float64Array;
}

/** An integer tensor known at import time (shapes, axes, indices); it may hold the symbolic batch size. */
interface IntsValue {
  kind: "ints";
  dims: number[];
  values: Dim[];
  origin: string;
}

type Value = DataValue | FloatValue | IntsValue;

const SUPPORTED =
  "Gemm, MatMul (+Add), Relu, Sigmoid, Tanh, Flatten, Reshape, Identity, Dropout and a final Softmax";

/**
 * Parses an ONNX model (the bytes of a .onnx file) into the float IR. Throws ModelFormatError (or its
 * subclasses UnsupportedOpError and NonFiniteWeightError) naming the problem and the node.
 */
export function importOnnx(bytes: Uint8Array, name: string): ModelGraph {
  const model = decodeModel(bytes, name);
  return new Importer(model, name).run();
}

function decodeModel(bytes: Uint8Array, name: string): OnnxGraph {
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

class Importer {
  private readonly values = new Map<string, Value>();
  private readonly consumedBy = new Map<string, string>();
  private readonly dataNames: string[] = [];
  private readonly layers: Layer[] = [];
  private readonly opset: number;
  private softmaxNode: string | null = null;
  private inputSize = 0;

  constructor(
    private readonly graph: OnnxGraph,
    private readonly name: string,
  ) {
    const opsets = graph.opsetImport.filter((o) => !o.domain || o.domain === "ai.onnx");
    if (opsets.length === 0) throw new ModelFormatError(`${name}: the model declares no ai.onnx opset version`);
    this.opset = toNumber(opsets[0].version);
    if (this.opset < 7) throw new ModelFormatError(`${name}: opset ${this.opset} is too old (mlvm reads opset 7 and later)`);
  }

  run(): ModelGraph {
    const graph = this.graph;
    for (const t of graph.initializer) {
      if (t.name) this.values.set(t.name, constantFromTensor(t, `initializer "${t.name}"`));
    }
    this.readInput();
    graph.node.forEach((node, index) => this.visit(node, index));
    const outputName = this.readOutput();
    const graphOut: ModelGraph = {
      name: this.name,
      inputSize: this.inputSize,
      outputSize: this.features(this.values.get(outputName) as DataValue),
      layers: this.layers,
      softmaxFolded: this.softmaxNode !== null,
    };
    return validateGraph(graphOut);
  }

  private readInput(): void {
    const graph = this.graph;
    const inputs = graph.input.filter((i) => !this.values.has(i.name ?? "")); // IR < 4 lists initializers as inputs
    if (inputs.length !== 1) {
      throw new ModelFormatError(
        `${this.name}: the graph must have exactly one input, it has ${inputs.length} (${inputs.map((i) => `"${i.name}"`).join(", ")})`,
      );
    }
    const input = inputs[0];
    const where = `graph input "${input.name}"`;
    const tensorType = input.type?.tensorType;
    if (!tensorType) throw new ModelFormatError(`${where} is not a tensor`);
    const elemType = tensorType.elemType ?? 0;
    if (elemType !== FLOAT && elemType !== DOUBLE) {
      throw new ModelFormatError(`${where} has element type ${typeName(elemType)}; mlvm models take float inputs`);
    }
    const dims = tensorType.shape?.dim;
    if (!dims || dims.length < 2) {
      throw new ModelFormatError(`${where} must have a shape [batch, ...features], got ${dims ? dims.length : "no"} dimensions`);
    }
    const shape: Dim[] = dims.map((d, i) => {
      const value = d.dimValue == null ? 0 : toNumber(d.dimValue);
      if (i === 0) return value > 0 ? value : null; // the batch size: symbolic (dimParam) or fixed
      if (!(value > 0)) {
        const what = d.dimParam ? `symbolic ("${d.dimParam}")` : "unknown";
        throw new ModelFormatError(`${where}: dimension ${i} is ${what}; the input size must be fixed`);
      }
      return value;
    });
    const data: DataValue = { kind: "data", shape, origin: where, dense: null };
    this.values.set(input.name!, data);
    this.dataNames.push(input.name!);
    this.inputSize = this.features(data);
  }

  private readOutput(): string {
    const graph = this.graph;
    if (graph.output.length !== 1) {
      throw new ModelFormatError(`${this.name}: the graph must have exactly one output, it has ${graph.output.length}`);
    }
    const outputName = graph.output[0].name ?? "";
    const out = this.values.get(outputName);
    if (!out || out.kind !== "data") {
      throw new ModelFormatError(`${this.name}: graph output "${outputName}" is not computed from the graph input`);
    }
    const consumer = this.consumedBy.get(outputName);
    if (consumer) {
      throw new ModelFormatError(`the graph is not a single chain: graph output "${outputName}" is also used by ${consumer}`);
    }
    for (const name of this.dataNames) {
      if (name !== outputName && !this.consumedBy.has(name)) {
        const v = this.values.get(name) as DataValue;
        throw new ModelFormatError(
          `the graph is not a single chain: tensor "${name}" (from ${v.origin}) is neither used nor the graph output "${outputName}"`,
        );
      }
    }
    if (out.shape.length !== 2) {
      throw new ModelFormatError(`graph output "${outputName}" has shape ${fmtShape(out.shape)}; it must be [batch, classes]`);
    }
    const declared = graph.output[0].type?.tensorType?.shape?.dim;
    if (declared && declared.length === 2 && declared[1].dimValue != null) {
      const n = toNumber(declared[1].dimValue);
      if (n > 0 && n !== out.shape[1]) {
        throw new ModelFormatError(`graph output "${outputName}" is declared with ${n} features but computes ${out.shape[1]}`);
      }
    }
    return outputName;
  }

  private visit(node: OnnxNode, index: number): void {
    const op = node.opType ?? "";
    const where = describe(node, index);
    if (node.domain && node.domain !== "ai.onnx") {
      throw new UnsupportedOpError(`unsupported operator ${node.domain}.${op} (${where}); mlvm supports ${SUPPORTED}`);
    }
    if (this.softmaxNode && op !== "Identity" && node.input.some((n) => this.values.get(n)?.kind === "data")) {
      throw new ModelFormatError(`${this.softmaxNode} is not the last operation: it is followed by ${where}; Softmax is only supported at the end`);
    }
    switch (op) {
      case "Gemm":
        return this.gemm(node, where);
      case "MatMul":
        return this.matmul(node, where);
      case "Add":
        return this.add(node, where);
      case "Relu":
      case "Sigmoid":
      case "Tanh":
        return this.activation(node, where, op.toLowerCase() as ActivationKind);
      case "Flatten":
        return this.flatten(node, where);
      case "Reshape":
        return this.reshape(node, where);
      case "Identity":
      case "Dropout":
        return this.identity(node, where, op);
      case "Softmax":
        return this.softmax(node, where);
      case "Constant":
        return this.set(node, 0, constantFromNode(node, where), where);
      case "Shape":
        return this.shape(node, where);
      case "Gather":
        return this.gather(node, where);
      case "Unsqueeze":
      case "Squeeze":
        return this.squeeze(node, where, op);
      case "Concat":
        return this.concat(node, where);
      case "Cast":
        return this.cast(node, where);
      case "Transpose":
        return this.transpose(node, where);
      default:
        throw new UnsupportedOpError(`unsupported operator ${op} (${where}); mlvm supports ${SUPPORTED}`);
    }
  }

  // ---- the chain ----

  private gemm(node: OnnxNode, where: string): void {
    const x = this.chainInput(node, where);
    if (attrInt(node, "transA", 0) !== 0) throw new ModelFormatError(`${where} has transA=1, which would transpose the batch; not supported`);
    const transB = attrInt(node, "transB", 0);
    const alpha = attrFloat(node, "alpha", 1);
    const beta = attrFloat(node, "beta", 1);
    const inputs = this.require2d(x, where);
    const b = this.floatInput(node, 1, where, "B (the weights)");
    if (b.dims.length !== 2) throw new ModelFormatError(`${where}: weights ${b.origin} must be 2-D, got ${fmtShape(b.dims)}`);
    const [rows, cols] = b.dims;
    const k = transB ? cols : rows;
    const outputs = transB ? rows : cols;
    if (k !== inputs) {
      throw new ModelFormatError(`${where}: weights ${b.origin} ${fmtShape(b.dims)} (transB=${transB}) take ${k} inputs but the tensor has ${inputs} features`);
    }
    const loaded = this.load(b, where);
    const weights = transB ? copy(loaded) : transpose(loaded, rows, cols);
    if (alpha !== 1) for (let i = 0; i < weights.length; i++) weights[i] *= alpha;
    const bias = new Float64Array(outputs);
    if (node.input.length > 2 && node.input[2]) {
      const c = this.floatInput(node, 2, where, "C (the bias)");
      broadcastBias(c, this.load(c, where), outputs, where, bias, beta);
    }
    this.pushDense(node, where, x, inputs, outputs, weights, bias);
  }

  private matmul(node: OnnxNode, where: string): void {
    const a = this.value(node, 0, where);
    if (a.kind !== "data") {
      throw new ModelFormatError(`${where}: the first operand must be the tensor computed from the graph input (x @ W)`);
    }
    const x = this.chainInput(node, where);
    const inputs = this.require2d(x, where);
    const w = this.floatInput(node, 1, where, "the weights");
    if (w.dims.length !== 2) throw new ModelFormatError(`${where}: weights ${w.origin} must be 2-D, got ${fmtShape(w.dims)}`);
    const [rows, cols] = w.dims;
    if (rows !== inputs) {
      throw new ModelFormatError(`${where}: weights ${w.origin} ${fmtShape(w.dims)} take ${rows} inputs but the tensor has ${inputs} features`);
    }
    this.pushDense(node, where, x, inputs, cols, transpose(this.load(w, where), rows, cols), new Float64Array(cols));
  }

  private add(node: OnnxNode, where: string): void {
    const x = this.chainInput(node, where);
    const constIndex = this.value(node, 0, where).kind === "data" ? 1 : 0;
    if (!x.dense || x.shape.length !== 2) {
      throw new ModelFormatError(`${where} adds to the output of ${x.origin}; only a bias Add right after MatMul/Gemm is supported`);
    }
    const layer = this.layers[x.dense.layer] as Extract<Layer, { kind: "dense" }>;
    const c = this.floatInput(node, constIndex, where, "the bias");
    broadcastBias(c, this.load(c, where), layer.outputs, where, layer.bias, 1, true);
    this.set(node, 0, { kind: "data", shape: x.shape, origin: where, dense: x.dense }, where);
  }

  private activation(node: OnnxNode, where: string, fn: ActivationKind): void {
    const x = this.chainInput(node, where);
    this.layers.push({ kind: "activation", fn, size: this.features(x) });
    this.set(node, 0, { kind: "data", shape: x.shape, origin: where, dense: null }, where);
  }

  private flatten(node: OnnxNode, where: string): void {
    const x = this.chainInput(node, where);
    const rank = x.shape.length;
    let axis = attrInt(node, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis !== 1) {
      throw new ModelFormatError(`${where} has axis=${attrInt(node, "axis", 1)} on a rank-${rank} tensor; only axis=1 (keep the batch, flatten the rest) is supported`);
    }
    this.set(node, 0, { kind: "data", shape: [x.shape[0], this.features(x)], origin: where, dense: x.dense }, where);
  }

  private reshape(node: OnnxNode, where: string): void {
    const x = this.chainInput(node, where);
    const target = this.value(node, 1, where);
    if (target.kind !== "ints" || target.dims.length !== 1) {
      throw new ModelFormatError(`${where}: the target shape must be a 1-D integer constant (an initializer, a Constant, or computed with Shape/Gather/Concat)`);
    }
    const shape = resolveReshape(x.shape, target.values, attrInt(node, "allowzero", 0) !== 0, where);
    this.set(node, 0, { kind: "data", shape, origin: where, dense: x.dense }, where);
  }

  private identity(node: OnnxNode, where: string, op: string): void {
    const v = this.value(node, 0, where);
    if (op === "Dropout") {
      if (node.output.length > 1 && node.output[1]) throw new ModelFormatError(`${where}: the Dropout mask output is not supported`);
      if (node.input.length > 2 && node.input[2]) {
        const mode = this.value(node, 2, where);
        if (mode.kind !== "ints" || mode.values.some((m) => m !== 0)) {
          throw new ModelFormatError(`${where}: only inference-mode Dropout (training_mode false) is supported`);
        }
      }
    }
    if (v.kind === "data") {
      const x = this.chainInput(node, where);
      this.set(node, 0, { ...x, origin: where }, where);
    } else {
      this.set(node, 0, v, where);
    }
  }

  private softmax(node: OnnxNode, where: string): void {
    const x = this.chainInput(node, where);
    const rank = x.shape.length;
    const given = attrInt(node, "axis", this.opset >= 13 ? -1 : 1);
    const axis = given < 0 ? given + rank : given;
    if (rank !== 2 || axis !== 1) {
      throw new ModelFormatError(`${where}: Softmax must be over the features of a [batch, classes] tensor, got axis=${given} on ${fmtShape(x.shape)}`);
    }
    this.softmaxNode = where;
    this.set(node, 0, { kind: "data", shape: x.shape, origin: where, dense: null }, where);
  }

  private pushDense(node: OnnxNode, where: string, x: DataValue, inputs: number, outputs: number, weights: Float64Array, bias: Float64Array): void {
    this.layers.push({ kind: "dense", inputs, outputs, weights, bias });
    const dense = { layer: this.layers.length - 1, node: where };
    this.set(node, 0, { kind: "data", shape: [x.shape[0], outputs], origin: where, dense }, where);
  }

  // ---- shape computations (constant or derived from the input's shape) ----

  private shape(node: OnnxNode, where: string): void {
    const v = this.value(node, 0, where);
    const shape: Dim[] = v.kind === "data" ? v.shape : v.dims;
    const rank = shape.length;
    const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + rank : i, 0), rank);
    const start = clamp(attrInt(node, "start", 0));
    const end = clamp(attrInt(node, "end", rank));
    const values = shape.slice(start, Math.max(start, end));
    this.set(node, 0, { kind: "ints", dims: [values.length], values, origin: where }, where);
  }

  private gather(node: OnnxNode, where: string): void {
    const data = this.intsInput(node, 0, where);
    const indices = this.intsInput(node, 1, where);
    if (data.dims.length !== 1 || attrInt(node, "axis", 0) !== 0) {
      throw new ModelFormatError(`${where}: Gather is only supported on a 1-D shape tensor with axis=0`);
    }
    const values = indices.values.map((i) => {
      const n = data.values.length;
      if (i === null || i < -n || i >= n) throw new ModelFormatError(`${where}: index ${i} is out of range for ${n} values`);
      return data.values[i < 0 ? i + n : i];
    });
    this.set(node, 0, { kind: "ints", dims: indices.dims, values, origin: where }, where);
  }

  private squeeze(node: OnnxNode, where: string, op: string): void {
    const v = this.intsInput(node, 0, where);
    const axes = node.input.length > 1 && node.input[1] ? this.intsInput(node, 1, where).values : attrInts(node, "axes");
    let dims: number[];
    if (op === "Unsqueeze") {
      const rank = v.dims.length + axes.length;
      const norm = axes.map((a) => (a === null ? NaN : a < 0 ? a + rank : a));
      dims = [];
      for (let i = 0, j = 0; i < rank; i++) dims.push(norm.includes(i) ? 1 : v.dims[j++]);
      if (dims.some((d) => d === undefined) || norm.some((a) => !(a >= 0 && a < rank))) {
        throw new ModelFormatError(`${where}: bad axes ${JSON.stringify(axes)}`);
      }
    } else {
      const rank = v.dims.length;
      const norm = axes.map((a) => (a === null ? NaN : a < 0 ? a + rank : a));
      dims = v.dims.filter((d, i) => (axes.length === 0 ? d !== 1 : !norm.includes(i)));
    }
    this.set(node, 0, { kind: "ints", dims, values: v.values, origin: where }, where);
  }

  private concat(node: OnnxNode, where: string): void {
    const parts = node.input.map((_, i) => this.intsInput(node, i, where));
    const axis = attrInt(node, "axis", 0);
    if (parts.some((p) => p.dims.length !== 1) || (axis !== 0 && axis !== -1)) {
      throw new ModelFormatError(`${where}: Concat is only supported on 1-D shape tensors`);
    }
    const values = parts.flatMap((p) => p.values);
    this.set(node, 0, { kind: "ints", dims: [values.length], values, origin: where }, where);
  }

  private cast(node: OnnxNode, where: string): void {
    const v = this.intsInput(node, 0, where);
    const to = attrInt(node, "to", 0);
    if (to !== INT64 && to !== INT32) throw new ModelFormatError(`${where}: only casts between integer shape tensors are supported`);
    this.set(node, 0, { ...v, origin: where }, where);
  }

  private transpose(node: OnnxNode, where: string): void {
    const v = this.value(node, 0, where);
    const perm = attrInts(node, "perm");
    if (v.kind !== "float" || v.dims.length !== 2 || (perm.length > 0 && (perm[0] !== 1 || perm[1] !== 0))) {
      throw new ModelFormatError(`${where}: Transpose is only supported on a 2-D constant weight matrix`);
    }
    const [rows, cols] = v.dims;
    let memo: Float64Array | null = null;
    const load = () => (memo ??= transpose(v.load(), rows, cols));
    this.set(node, 0, { kind: "float", dims: [cols, rows], origin: `${v.origin} transposed by ${where}`, load }, where);
  }

  // ---- helpers ----

  private value(node: OnnxNode, k: number, where: string): Value {
    const name = node.input[k];
    if (!name) throw new ModelFormatError(`${where} is missing input ${k}`);
    const v = this.values.get(name);
    if (!v) {
      throw new ModelFormatError(`${where} reads "${name}", which is not an initializer, a Constant, the graph input, or the output of an earlier node (missing initializer?)`);
    }
    return v;
  }

  /** The node's one input computed from the graph input; marks it consumed (a second consumer breaks the chain). */
  private chainInput(node: OnnxNode, where: string): DataValue {
    const names = node.input.filter((n) => n && this.values.get(n)?.kind === "data");
    if (names.length !== 1) {
      throw new ModelFormatError(
        names.length === 0
          ? `${where} does not act on the tensor computed from the graph input (only constants)`
          : `the graph is not a single chain: ${where} combines ${names.map((n) => `"${n}"`).join(" and ")}, which are both computed from the graph input`,
      );
    }
    const name = names[0];
    const prev = this.consumedBy.get(name);
    if (prev) throw new ModelFormatError(`the graph is not a single chain: tensor "${name}" is used by both ${prev} and ${where}`);
    this.consumedBy.set(name, where);
    return this.values.get(name) as DataValue;
  }

  private floatInput(node: OnnxNode, k: number, where: string, role: string): FloatValue {
    const v = this.value(node, k, where);
    if (v.kind === "data") throw new ModelFormatError(`${where}: ${role} is computed from the graph input; weights must be initializers or Constants`);
    if (v.kind !== "float") throw new ModelFormatError(`${where}: ${role} ${v.origin} is an integer tensor; weights must be float`);
    return v;
  }

  /** Decodes a constant's values, naming the node in decoding errors (bad data type, wrong byte count). */
  private load(v: FloatValue, where: string): Float64Array {
    try {
      return v.load();
    } catch (err) {
      if (err instanceof ModelFormatError) throw new ModelFormatError(`${where}: ${err.message}`);
      throw err;
    }
  }

  private intsInput(node: OnnxNode, k: number, where: string): IntsValue {
    const v = this.value(node, k, where);
    if (v.kind !== "ints") throw new ModelFormatError(`${where} is only supported on integer shape tensors, but input ${k} is not one`);
    return v;
  }

  private require2d(x: DataValue, where: string): number {
    if (x.shape.length !== 2) {
      throw new ModelFormatError(`${where} needs a [batch, features] tensor but gets ${fmtShape(x.shape)} (add a Flatten first)`);
    }
    return x.shape[1] as number;
  }

  private features(x: DataValue): number {
    return x.shape.slice(1).reduce<number>((p, d) => p * (d ?? NaN), 1);
  }

  private set(node: OnnxNode, k: number, v: Value, where: string): void {
    const name = node.output[k];
    if (!name) throw new ModelFormatError(`${where} has no output ${k}`);
    if (this.values.has(name)) throw new ModelFormatError(`${where} writes "${name}", which is already defined`);
    this.values.set(name, v);
    if (v.kind === "data") this.dataNames.push(name);
  }
}

function resolveReshape(input: Dim[], target: Dim[], allowZero: boolean, where: string): Dim[] {
  const batch = input[0];
  const features = input.slice(1).reduce<number>((p, d) => p * (d as number), 1);
  const out = target.map((t, i) => {
    if (t === 0 && !allowZero) {
      if (i >= input.length) throw new ModelFormatError(`${where}: shape entry ${i} is 0 (copy) but the input has rank ${input.length}`);
      return input[i];
    }
    return t;
  });
  const bad = () =>
    new ModelFormatError(
      `${where}: reshaping ${fmtShape(input)} to ${fmtShape(target)} does not keep the batch dimension first; the result must be [batch, features]`,
    );
  if (out.length === 0 || out.slice(1).some((d) => d === null || (d as number) < -1)) throw bad();
  if (out.filter((d) => d === -1).length > 1) throw new ModelFormatError(`${where}: shape ${fmtShape(target)} has more than one -1`);
  const rest = out.slice(1) as number[];
  const known = rest.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  if (out[0] === -1) {
    if (known !== features) throw bad();
    out[0] = batch;
  } else {
    if (out[0] !== batch) throw bad();
    const inferred = rest.indexOf(-1);
    if (inferred >= 0) {
      if (known === 0 || features % known !== 0) throw bad();
      out[inferred + 1] = features / known;
    } else if (known !== features) {
      throw bad();
    }
  }
  return out;
}

/** Adds beta * C, broadcast to `outputs` entries, into `bias`. C may be a scalar, [1], [N], [1, N] or [1, 1]. */
function broadcastBias(c: FloatValue, values: Float64Array, outputs: number, where: string, bias: Float64Array, beta: number, add = false): void {
  const dims = c.dims;
  const n = dims.reduce((p, d) => p * d, 1);
  const okShape = dims.length <= 2 && (dims.length < 2 || dims[0] === 1) && (n === outputs || n === 1);
  if (!okShape) {
    throw new ModelFormatError(`${where}: bias ${c.origin} has shape ${fmtShape(dims)}; expected [${outputs}] (or a broadcastable [1, ${outputs}] or scalar)`);
  }
  for (let o = 0; o < outputs; o++) {
    const v = beta * values[n === 1 ? 0 : o];
    bias[o] = add ? bias[o] + v : v;
  }
}

function constantFromNode(node: OnnxNode, where: string): FloatValue | IntsValue {
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

function floatConstant(dims: number[], values: Float64Array, origin: string): FloatValue {
  return { kind: "float", dims, origin, load: () => values };
}

function constantFromTensor(t: OnnxTensor, origin: string): FloatValue | IntsValue {
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

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

function attrInt(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? toNumber(a.i) : fallback;
}

function attrFloat(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? 0) : fallback;
}

function attrInts(node: OnnxNode, name: string): number[] {
  return (attr(node, name)?.ints ?? []).map(toNumber);
}

function toNumber(v: IntLike): number {
  if (v == null) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

function copy(values: Float64Array): Float64Array {
  return Float64Array.from(values);
}

/** [rows][cols] -> [cols][rows]. */
function transpose(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

function typeName(type: number): string {
  return DATA_TYPE_NAMES[type] ?? `type ${type}`;
}

function fmtShape(shape: Dim[]): string {
  return `[${shape.map((d) => (d === null ? "batch" : d)).join(", ")}]`;
}

function describe(node: OnnxNode, index: number): string {
  const op = node.opType || "?";
  return node.name ? `${op} node "${node.name}"` : `${op} node #${index} (output "${node.output[0] ?? ""}")`;
}

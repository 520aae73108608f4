/**
 * The importer's state while it walks the ONNX nodes: the value of every tensor seen so far (data, float or
 * integer constant), the layers made so far, and who consumes each tensor. Handlers and patterns read their
 * operands and append layers only through it, so the rules (a data operand must not be a Softmax head, weights
 * must be constants, a message names the node) live in one place.
 */
import { ModelFormatError, UnsupportedOpError } from "../graph.js";
import type { Layer } from "../graph.js";
import type { OnnxNode } from "./proto.js";
import type { DataValue, Dim, FloatValue, IntsValue, Value } from "./values.js";

/** A layer as the importer builds it: `input` always set (absolute). */
export type BuiltLayer = Layer & { input: number };

export class ImportContext {
  readonly values = new Map<string, Value>();
  readonly layers: BuiltLayer[] = [];

  constructor(
    readonly opset: number,
    /** Node indices reading each tensor; -1 stands for a graph output. */
    readonly consumers: ReadonlyMap<string, readonly number[]>,
  ) {}

  value(node: OnnxNode, k: number, where: string): Value {
    const name = node.input[k];
    if (!name) throw new ModelFormatError(`${where} is missing input ${k}`);
    return this.named(name, where);
  }

  /** The value of input k, or undefined when the input is absent (an empty name: an optional input left out). */
  optional(node: OnnxNode, k: number, where: string): Value | undefined {
    return node.input[k] ? this.value(node, k, where) : undefined;
  }

  named(name: string, where: string): Value {
    const v = this.values.get(name);
    if (!v) {
      throw new ModelFormatError(`${where} reads "${name}", which is not an initializer, a Constant, the graph input, or the output of an earlier node (missing initializer?)`);
    }
    return v;
  }

  /** Input k, which must be computed from the graph input (and not be a Softmax head). */
  data(node: OnnxNode, k: number, where: string): DataValue {
    const v = this.value(node, k, where);
    if (v.kind !== "data") throw new ModelFormatError(`${where} does not act on the tensor computed from the graph input (input ${k} is ${v.origin})`);
    return this.usable(v, where);
  }

  /**
   * Rejects a Softmax/LogSoftmax output used by anything but a graph output, and a padded image (a Pad's
   * output) used by anything but a Conv or pooling (they read it through `window`).
   */
  usable(v: DataValue, where: string): DataValue {
    if (v.head) throw new ModelFormatError(`${v.head.where} is not the last operation: it is followed by ${where}; Softmax and LogSoftmax are only supported at the end`);
    if (v.pad) throw new UnsupportedOpError(`${v.pad.where} pads the data read by ${where}; mlvm supports a Pad only right before a Conv, an AveragePool, or (zero pads) a MaxPool`);
    return v;
  }

  /** Input k of a Conv or pooling: an image, possibly a Pad's output (returned with its pads). */
  window(node: OnnxNode, k: number, where: string): DataValue {
    const v = this.value(node, k, where);
    if (v.kind !== "data") throw new ModelFormatError(`${where} does not act on the tensor computed from the graph input (input ${k} is ${v.origin})`);
    const { pad: _pad, ...unpadded } = v;
    this.usable(unpadded, where);
    return v;
  }

  floatConst(node: OnnxNode, k: number, where: string, role: string): FloatValue {
    const v = this.value(node, k, where);
    if (v.kind === "data") throw new ModelFormatError(`${where}: ${role} is computed from the graph input; weights must be initializers or Constants`);
    if (v.kind !== "float") throw new ModelFormatError(`${where}: ${role} ${v.origin} is an integer tensor; weights must be float`);
    return v;
  }

  /** Decodes a constant's values, naming the node in decoding errors (bad data type, wrong byte count). */
  load(v: FloatValue, where: string): Float64Array {
    try {
      return v.load();
    } catch (err) {
      if (err instanceof ModelFormatError) throw new ModelFormatError(`${where}: ${err.message}`);
      throw err;
    }
  }

  ints(node: OnnxNode, k: number, where: string): IntsValue {
    const v = this.value(node, k, where);
    if (v.kind !== "ints") throw new ModelFormatError(`${where} is only supported on integer shape tensors, but input ${k} is not one`);
    return v;
  }

  set(node: OnnxNode, k: number, v: Value, where: string): void {
    const name = node.output[k];
    if (!name) throw new ModelFormatError(`${where} has no output ${k}`);
    if (this.values.has(name)) throw new ModelFormatError(`${where} writes "${name}", which is already defined`);
    this.values.set(name, v);
  }

  /** Refuses a node whose output k (an optional extra output such as a mask or statistics) is used. */
  unusedOutput(node: OnnxNode, k: number, where: string, what: string): void {
    const name = node.output[k];
    if (name && (this.consumers.get(name)?.length ?? 0) > 0) throw new ModelFormatError(`${where}: its ${what} output is used; only inference is supported`);
  }

  /** Appends a layer reading `from` (a data value or a layer index) and returns the data value it produces. */
  push(layer: Layer, from: DataValue | number, shape: Dim[], batchAxis: number, origin: string): DataValue {
    const input = typeof from === "number" ? from : from.ref;
    this.layers.push({ ...layer, input } as BuiltLayer);
    return { kind: "data", shape, batchAxis, ref: this.layers.length - 1, origin };
  }

  /** Appends a same-shape layer (activation, affine, layernorm, ...) after x and sets it as the node's output. */
  pushLike(node: OnnxNode, layer: Layer, x: DataValue, where: string): DataValue {
    const out = this.push(layer, x, x.shape, x.batchAxis, where);
    this.set(node, 0, out, where);
    return out;
  }
}

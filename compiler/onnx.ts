/**
 * ONNX importer: turns what torch.onnx.export writes for feed-forward and convolutional networks (opsets 7-18)
 * into the float IR of graph.ts. The walk: constants (initializers, Constant nodes) are read first; the
 * subgraphs that mean one layer (GELU, SiLU, LayerNorm: onnx/patterns.ts) are found next; then every node, in
 * order, is either part of a pattern (its layer is emitted at the pattern's last node) or goes to its operator's
 * handler (onnx/ops.ts, onnx/conv.ts). An image input [N, C, H, W] sets the graph's inputShape.
 * Each handler records what its output tensor is: a data tensor (a layer's output under some shape), or a
 * constant. The graph may branch and join (residual Adds); dead branches are dropped; the output is the graph
 * output's layer, or the logits when the graph also (or only) outputs their Softmax/LogSoftmax.
 * Weights must be initializers or Constant nodes (float32 or float64), stored inside the file.
 */
import { INPUT, ModelFormatError, UnsupportedOpError, validateGraph } from "./graph.js";
import type { ImageShape, Layer, ModelGraph } from "./graph.js";
import { compactGraph, mergeBiasAdds } from "./fold.js";
import { ImportContext } from "./onnx/context.js";
import { OP_HANDLERS, SUPPORTED_OPS } from "./onnx/ops.js";
import { findPatterns } from "./onnx/patterns.js";
import { DOUBLE, FLOAT, constantFromNode, constantFromTensor, decodeModel, describeNode, nodeSource, opsetOf, toNumber, typeName } from "./onnx/proto.js";
import type { OnnxGraph } from "./onnx/proto.js";
import type { DataValue, Dim, FloatValue, IntsValue } from "./onnx/values.js";
import { features, fmtShape, imageOf } from "./onnx/values.js";

/**
 * Parses an ONNX model (the bytes of a .onnx file) into the float IR. Throws ModelFormatError (or its
 * subclasses UnsupportedOpError and NonFiniteWeightError) naming the problem and the node or layer.
 */
export function importOnnx(bytes: Uint8Array, name: string): ModelGraph {
  const model = decodeModel(bytes, name);
  const opset = opsetOf(model, name);
  const nodes = model.node;

  const constants = new Map<string, FloatValue | IntsValue>();
  for (const t of model.initializer) if (t.name) constants.set(t.name, constantFromTensor(t, `initializer "${t.name}"`));
  nodes.forEach((node, i) => {
    if (node.opType === "Constant" && !node.domain) constants.set(node.output[0], constantFromNode(node, describeNode(node, i)));
  });
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  const use = (tensor: string, by: number) => {
    if (tensor) consumers.set(tensor, [...(consumers.get(tensor) ?? []), by]);
  };
  nodes.forEach((node, i) => {
    node.output.forEach((o) => o && producer.set(o, i));
    node.input.forEach((t) => use(t, i));
  });
  for (const o of model.output) use(o.name ?? "", -1);

  const ctx = new ImportContext(opset, consumers);
  for (const [tensor, value] of constants) ctx.values.set(tensor, value);
  const input = readInput(model, ctx, name);

  const { byLast, claimed } = findPatterns({ nodes, producer, consumers, constants });
  nodes.forEach((node, i) => {
    const where = describeNode(node, i);
    if (node.domain && node.domain !== "ai.onnx") {
      throw new UnsupportedOpError(`unsupported operator ${node.domain}.${node.opType} (${where}); mlvm supports ${SUPPORTED_OPS}`);
    }
    const match = byLast.get(i);
    if (match) return match.build(ctx, node, match.label);
    if (claimed.has(i)) return;
    const handler = Object.hasOwn(OP_HANDLERS, node.opType) ? OP_HANDLERS[node.opType] : undefined;
    if (!handler) throw new UnsupportedOpError(`unsupported operator ${node.opType} (${where}); mlvm supports ${SUPPORTED_OPS}`);
    handler(ctx, node, where, nodeSource(node, i));
  });

  const out = readOutput(model, ctx, name);
  const inputShape = imageOf(input) ?? windowOnInput(ctx.layers);
  const graph = mergeBiasAdds(
    compactGraph(
      {
        name,
        inputSize: features(input),
        ...(inputShape ? { inputShape } : {}),
        softmaxFolded: out.head !== undefined,
        ...(out.head ? { foldedHead: out.head } : {}),
      },
      ctx.layers,
      out.value.ref,
    ),
  );
  try {
    return validateGraph(graph);
  } catch (err) {
    const layer = /^layer (\d+) /.exec((err as Error).message);
    const source = layer ? graph.layers[Number(layer[1])]?.source : undefined;
    if (!(err instanceof ModelFormatError) || !source) throw err;
    throw new (err.constructor as new (message: string) => ModelFormatError)(`${source}: ${err.message}`);
  }
}

/** The image a conv or pool layer sees in the graph input, when the input is not itself [N, C, H, W] (e.g. [N, H, W] unsqueezed). */
function windowOnInput(layers: readonly Layer[]): ImageShape | undefined {
  const first = layers.find((l) => (l.kind === "conv" || l.kind === "pool") && l.input === INPUT);
  return first?.kind === "conv" || first?.kind === "pool" ? first.inShape : undefined;
}

function readInput(model: OnnxGraph, ctx: ImportContext, name: string): DataValue {
  const inputs = model.input.filter((i) => !ctx.values.has(i.name ?? "")); // IR < 4 lists initializers as inputs
  if (inputs.length !== 1) {
    throw new ModelFormatError(`${name}: the graph must have exactly one input, it has ${inputs.length} (${inputs.map((i) => `"${i.name}"`).join(", ")})`);
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
  // The batch is the one symbolic dimension (axis 0 of [batch, features], axis 1 of a features-major input for
  // Gemm transA=1), else axis 0; a batch fixed at 1 is no batch at all (every axis a feature axis).
  const values = dims.map((d) => (d.dimValue == null ? 0 : toNumber(d.dimValue)));
  const symbolic = values.flatMap((v, i) => (v > 0 ? [] : [i]));
  if (symbolic.length > 1) {
    const i = symbolic[1];
    const what = dims[i].dimParam ? `symbolic ("${dims[i].dimParam}")` : "unknown";
    throw new ModelFormatError(`${where}: dimension ${i} is ${what}; the input size must be fixed`);
  }
  const batch = symbolic.length === 1 ? symbolic[0] : 0;
  const shape: Dim[] = values.map((v, i) => (i === batch && !(v > 0) ? null : v));
  const data: DataValue = { kind: "data", shape, batchAxis: shape[batch] === 1 ? -1 : batch, ref: INPUT, origin: where };
  ctx.values.set(input.name!, data);
  return data;
}

/** The data tensor the VM computes, and the head folded into argmax if the graph outputs Softmax/LogSoftmax. */
function readOutput(model: OnnxGraph, ctx: ImportContext, name: string): { value: DataValue; head?: "softmax" | "log_softmax" } {
  const outputs = model.output.map((o) => {
    const outName = o.name ?? "";
    const v = ctx.values.get(outName);
    if (!v || v.kind !== "data") throw new ModelFormatError(`${name}: graph output "${outName}" is not computed from the graph input`);
    if (v.pad) throw new UnsupportedOpError(`${v.pad.where} pads the graph output "${outName}"; mlvm supports a Pad only right before a Conv or pooling`);
    return { name: outName, v, declared: o.type?.tensorType?.shape?.dim };
  });
  let chosen = outputs[0];
  if (outputs.length === 2) {
    const [a, b] = outputs;
    const pair = a.v.head && !b.v.head ? [b, a] : b.v.head && !a.v.head ? [a, b] : undefined;
    if (!pair || pair[0].v.ref !== pair[1].v.ref) {
      throw new ModelFormatError(`${name}: the graph has 2 outputs ("${a.name}", "${b.name}"); mlvm computes one, or the logits and their Softmax/LogSoftmax`);
    }
    chosen = { ...pair[0], v: { ...pair[0].v, head: pair[1].v.head } };
  } else if (outputs.length !== 1) {
    throw new ModelFormatError(`${name}: the graph must have exactly one output, it has ${outputs.length}`);
  }
  const { name: outName, v, declared } = chosen;
  if (v.batchAxis > 0 && features(v) > 1) {
    throw new ModelFormatError(`graph output "${outName}" has shape ${fmtShape(v.shape, v.batchAxis)}; the batch must come first`);
  }
  if (declared && declared.length === v.shape.length) {
    const fixed = declared.filter((_, i) => i !== v.batchAxis).map((d) => (d.dimValue == null ? 0 : toNumber(d.dimValue)));
    const n = fixed.reduce((p, d) => p * d, 1);
    if (fixed.every((d) => d > 0) && n !== features(v)) {
      throw new ModelFormatError(`graph output "${outName}" is declared with ${n} features but computes ${features(v)}`);
    }
  }
  return { value: v, head: v.head?.fn };
}

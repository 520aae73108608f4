/**
 * Which of an ONNX file's graph outputs are a Softmax or LogSoftmax head. The compiler folds such a head (the VM
 * computes the logits; the argmax is the same), so a comparison with onnxruntime must either pick the graph's
 * other output (the logits, when the export returns both) or apply the head to the VM's logits first.
 */
import onnxProto from "onnx-proto";

// onnx-proto is CommonJS; its named exports are only reachable through the default import (see compiler/onnx.ts).
const { onnx } = onnxProto;

export type Head = "softmax" | "log_softmax";

/**
 * Graph output name → the head that produces it (through Identity nodes), for the outputs that are one. A file
 * that does not decode gives an empty map: the caller's loaders report that file's problem, not this.
 */
export function headOutputs(bytes: Uint8Array): Map<string, Head> {
  let graph: import("onnx-proto").onnx.IGraphProto | null | undefined;
  try {
    graph = onnx.ModelProto.decode(bytes).graph;
  } catch {
    return new Map();
  }
  const producer = new Map<string, import("onnx-proto").onnx.INodeProto>();
  for (const node of graph?.node ?? []) for (const out of node.output ?? []) producer.set(out, node);
  const heads = new Map<string, Head>();
  for (const output of graph?.output ?? []) {
    let node = producer.get(output.name ?? "");
    while (node?.opType === "Identity") node = producer.get(node.input?.[0] ?? "");
    if (node?.opType === "Softmax") heads.set(output.name ?? "", "softmax");
    if (node?.opType === "LogSoftmax") heads.set(output.name ?? "", "log_softmax");
  }
  return heads;
}

/** softmax or log_softmax of a whole vector, in float64 (max subtracted first, so large logits do not overflow). */
export function applyHead(head: Head, logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < logits.length; k++) max = Math.max(max, logits[k]);
  let sum = 0;
  for (let k = 0; k < logits.length; k++) sum += Math.exp(logits[k] - max);
  const out = new Float64Array(logits.length);
  for (let k = 0; k < logits.length; k++) out[k] = head === "softmax" ? Math.exp(logits[k] - max) / sum : logits[k] - max - Math.log(sum);
  return out;
}

/**
 * A small ONNX model builder for tests: writes the node lists torch.onnx.export writes (or the variants it does
 * not) as real protobuf bytes, so the importer's tests read models exactly as it reads files.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

export type Attr = number | number[] | { float: number } | { string: string } | { tensor: ReturnType<typeof tensor> };

/** A float (dataType 1), int64 (7) or double (11) tensor. */
export function tensor(name: string, dims: number[], values: number[], dataType = 1) {
  if (dataType === 7) return { name, dims, dataType, int64Data: values };
  if (dataType === 11) return { name, dims, dataType, doubleData: values };
  return { name, dims, dataType, floatData: values };
}

export function node(opType: string, input: string[], output: string[], attrs: Record<string, Attr> = {}, name = `${opType}_${output[0]}`) {
  const attribute = Object.entries(attrs).map(([attrName, v]) => {
    if (Array.isArray(v)) return { name: attrName, type: 7, ints: v };
    if (typeof v === "number") return { name: attrName, type: 2, i: v };
    if ("float" in v) return { name: attrName, type: 1, f: v.float };
    if ("string" in v) return { name: attrName, type: 3, s: new TextEncoder().encode(v.string) };
    return { name: attrName, type: 4, t: v.tensor };
  });
  return { name, opType, input, output, attribute };
}

/** A Constant node holding a float scalar (as torch writes 0.5, 1.0, √2 ...). */
export function scalarNode(output: string, value: number) {
  return node("Constant", [], [output], { value: { tensor: tensor("", [], [value]) } }, `Constant_${output}`);
}

export interface Spec {
  nodes: ReturnType<typeof node>[];
  inits?: ReturnType<typeof tensor>[];
  inputShape?: (number | string)[];
  inputType?: number;
  inputs?: string[];
  outputs?: string[];
  opset?: number;
}

export function build(spec: Spec): Uint8Array {
  const dim = (d: number | string) => (typeof d === "number" ? { dimValue: d } : { dimParam: d });
  const valueInfo = (name: string, shape: (number | string)[], elemType = 1) => ({ name, type: { tensorType: { elemType, shape: { dim: shape.map(dim) } } } });
  const model = onnx.ModelProto.fromObject({
    irVersion: 7,
    opsetImport: [{ domain: "", version: spec.opset ?? 13 }],
    graph: {
      name: "test",
      node: spec.nodes,
      initializer: spec.inits ?? [],
      input: (spec.inputs ?? ["x"]).map((n) => valueInfo(n, spec.inputShape ?? ["N", 3], spec.inputType)),
      output: (spec.outputs ?? ["y"]).map((n) => valueInfo(n, ["N"])),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Deterministic pseudo-random numbers in [-1, 1). */
export function randoms(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / (1 << 23) - 1;
  });
}

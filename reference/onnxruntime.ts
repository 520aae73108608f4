/**
 * onnxruntime-node as mlvm's float reference: the same ONNX file a user compiles, run by the runtime people
 * deploy it with, in float32. `mlvm check` compares the VM against it and `npm run bench` times it; users have
 * no PyTorch predictions file, but they have the .onnx and this runtime computes what PyTorch would (to float32
 * rounding). The runtime is imported lazily, so the other mlvm commands never load its native library.
 */
import type { InferenceSession, Tensor } from "onnxruntime-node";
import { MlvmError } from "../vm/errors.js";

/** A file onnxruntime cannot load as a model (not ONNX, an op or opset it lacks, inconsistent graph). */
export class OrtLoadError extends MlvmError {}

/** A model onnxruntime loaded but that mlvm cannot feed (not one float32 tensor input), or a run it refused. */
export class OrtRunError extends MlvmError {}

export interface OrtOptions {
  /** Threads inside one operator; default 1, so figures and results do not depend on the machine's cores. */
  intraOpNumThreads?: number;
}

/** One graph output of a run, widened to float64, with its name as the ONNX file spells it. */
export interface OrtOutput {
  name: string;
  values: Float64Array;
}

export interface OrtModel {
  /** The onnxruntime-node version that runs it. */
  version: string;
  inputName: string;
  /** The input's declared shape: numbers, and names for symbolic dimensions such as the batch. */
  inputShape: readonly (number | string)[];
  outputNames: readonly string[];
  /** Runs one input (flattened row-major, batch of 1) and returns every graph output, in the graph's order. */
  run(input: ArrayLike<number>): Promise<OrtOutput[]>;
  /** The raw session, for benchmarks that time session.run itself. */
  session: InferenceSession;
  /** The input tensor run() would build for `input`, for the same benchmarks. */
  tensor(input: ArrayLike<number>): Tensor;
  release(): Promise<void>;
}

/** Loads an ONNX file into an onnxruntime-node CPU session. */
export async function loadOrtModel(path: string, options: OrtOptions = {}): Promise<OrtModel> {
  const ort = await import("onnxruntime-node");
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, {
      executionProviders: ["cpu"],
      intraOpNumThreads: options.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw new OrtLoadError(`onnxruntime cannot load ${path}: ${firstLine(error)}`);
  }
  if (session.inputNames.length !== 1) {
    await session.release();
    throw new OrtRunError(`${path} takes ${session.inputNames.length} inputs (${session.inputNames.join(", ")}); mlvm models take one`);
  }
  const input = session.inputMetadata[0];
  if (!input.isTensor || input.type !== "float32") {
    await session.release();
    throw new OrtRunError(`${path}'s input "${session.inputNames[0]}" is ${input.isTensor ? `a ${input.type} tensor` : "not a tensor"}; mlvm models take float32`);
  }
  const inputName = session.inputNames[0];
  const inputShape = input.shape;
  const tensor = (values: ArrayLike<number>) => new ort.Tensor("float32", Float32Array.from(values), concreteShape(inputShape, values.length, path));
  return {
    version: ort.env.versions.node ?? "unknown",
    inputName,
    inputShape,
    outputNames: session.outputNames,
    session,
    tensor,
    async run(values) {
      let result: InferenceSession.ReturnType;
      try {
        result = await session.run({ [inputName]: tensor(values) });
      } catch (error) {
        throw new OrtRunError(`onnxruntime could not run ${path}: ${firstLine(error)}`);
      }
      return session.outputNames.map((name) => ({ name, values: Float64Array.from(result[name].data as ArrayLike<number | bigint>, Number) }));
    },
    release: () => session.release(),
  };
}

/**
 * The shape of one input of `size` values: a symbolic (or -1) leading dimension is the batch, 1; one other
 * symbolic dimension takes what the known ones leave; a shape ONNX left undeclared is [1, size].
 */
export function concreteShape(shape: readonly (number | string)[], size: number, path = "the model"): number[] {
  if (shape.length === 0) return [1, size];
  const dims = shape.map((d, k) => (k === 0 && !isKnown(d) ? 1 : d));
  const unknown = dims.flatMap((d, k) => (isKnown(d) ? [] : [k]));
  const known = dims.reduce<number>((p, d) => (isKnown(d) ? p * d : p), 1);
  if (unknown.length > 1) throw new OrtRunError(`${path}'s input shape [${shape.join(", ")}] has ${unknown.length} unknown dimensions besides the batch`);
  if (unknown.length === 1) {
    if (size % known !== 0) throw new OrtRunError(`an input of ${size} values does not fit ${path}'s input shape [${shape.join(", ")}]`);
    dims[unknown[0]] = size / known;
  } else if (known !== size) {
    throw new OrtRunError(`an input of ${size} values does not fit ${path}'s input shape [${shape.join(", ")}] (${known} values)`);
  }
  return dims as number[];
}

function isKnown(d: number | string): d is number {
  return typeof d === "number" && d >= 0;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0].trim();
}

/**
 * Synthetic models and inputs, reproducible from a seed: random-weight MLPs of any shape (for the scale
 * benchmark and for tests) and random input vectors.
 */
import type { ActivationKind, Layer, ModelGraph } from "../compiler/graph.js";
import { ONE } from "../vm/fixed.js";

/** A deterministic PRNG (mulberry32): uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [lo, hi]. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/**
 * A random MLP: sizes[0] inputs, then a dense layer for each of sizes[1..], the l-th followed by
 * activations[l] when given. Weights are uniform in ±1/√inputs (a standard initialization), biases in ±0.1.
 */
export function randomGraph(seed: number, sizes: number[], activations: (ActivationKind | null)[] = []): ModelGraph {
  const rand = prng(seed);
  const layers: Layer[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const [inputs, outputs] = [sizes[l - 1], sizes[l]];
    const scale = 1 / Math.sqrt(inputs);
    layers.push({
      kind: "dense",
      inputs,
      outputs,
      weights: Float64Array.from({ length: inputs * outputs }, () => (rand() * 2 - 1) * scale),
      bias: Float64Array.from({ length: outputs }, () => (rand() * 2 - 1) * 0.1),
    });
    const fn = activations[l - 1];
    if (fn) layers.push({ kind: "activation", fn, size: outputs });
  }
  return { name: `random-${sizes.join("-")}`, inputSize: sizes[0], outputSize: sizes.at(-1)!, layers, softmaxFolded: false };
}

/** A random input in [-range, range) as Q15.16 words (the input format of an uncalibrated model). */
export function randomInput(seed: number, length: number, range = 2): Int32Array {
  const rand = prng(seed);
  return Int32Array.from({ length }, () => Math.round((rand() * 2 - 1) * range * ONE));
}

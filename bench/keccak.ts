/**
 * keccak256 throughput on 64-byte inputs: @noble/hashes (pure JavaScript) against the WASM kernel's keccak256
 * called once per hash from JavaScript (input copied in, digest copied out: what a JS caller pays), and against
 * the kernel hashing in a loop of its own (what the kernel's Merkle code pays per hash).
 * Each figure is the best of a few timed runs after a warm-up.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { createWasmKeccak, createWasmKeccakChain } from "../interpreter/wasm/keccak.js";
import { instantiateKernel } from "../interpreter/wasm/load.js";

export interface KeccakBench {
  nobleHashesPerSecond: number;
  wasmHashesPerSecond: number;
  wasmInKernelHashesPerSecond?: number;
  inputBytes: 64;
}

const INPUT_BYTES = 64;

/** Hashes per second: the best of `runs` timed runs of `count` hashes each, after `warmup` untimed ones. */
function throughput(hashBatch: (count: number) => void, { count, runs, warmup }: { count: number; runs: number; warmup: number }): number {
  hashBatch(warmup);
  let best = 0;
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    hashBatch(count);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, count / seconds);
  }
  return best;
}

export function benchKeccak(): KeccakBench {
  // 256 distinct pseudo-random inputs, cycled through, the same for every implementation.
  const inputs: Uint8Array[] = [];
  let seed = 0x12345678;
  for (let k = 0; k < 256; k++) {
    const input = new Uint8Array(INPUT_BYTES);
    for (let i = 0; i < INPUT_BYTES; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      input[i] = seed >>> 24;
    }
    inputs.push(input);
  }
  let sink = 0; // folds every digest in, so no hash can be skipped

  const noble = throughput(
    (count) => {
      for (let k = 0; k < count; k++) sink ^= keccak_256(inputs[k & 255])[0];
    },
    { count: 60_000, runs: 3, warmup: 20_000 },
  );

  const kernel = instantiateKernel();
  const wasmKeccak = createWasmKeccak(kernel);
  const wasm = throughput(
    (count) => {
      for (let k = 0; k < count; k++) sink ^= wasmKeccak(inputs[k & 255])[0];
    },
    { count: 200_000, runs: 3, warmup: 50_000 },
  );

  const chain = createWasmKeccakChain(kernel);
  const inKernel = throughput(
    (count) => {
      sink ^= chain(inputs[0], count)[0];
    },
    { count: 500_000, runs: 3, warmup: 100_000 },
  );

  if (sink === 0x100) console.log(sink); // never true (a byte): keeps the results alive
  return { nobleHashesPerSecond: noble, wasmHashesPerSecond: wasm, wasmInKernelHashesPerSecond: inKernel, inputBytes: INPUT_BYTES };
}

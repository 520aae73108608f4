/**
 * keccak256 (Ethereum's: original Keccak padding) computed by the WASM kernel (assembly/keccak.ts), for callers in
 * JavaScript. Each function copies its input into a scratch buffer in the instance's linear memory (allocated
 * with the kernel's bump allocator and replaced by a larger one when an input does not fit), calls the kernel,
 * and copies the digest out.
 */
import { instantiateKernel, type KernelExports } from "./load.js";

/** The kernel exports these wrappers use. */
interface KeccakKernel {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  keccak256(src: number, len: number, dst: number): void;
  keccak256Batch(src: number, len: number, count: number, dst: number): void;
  keccak256Chain(buf: number, len: number, n: number): void;
}

/** A growable scratch region of one kernel instance, with a byte view that follows memory growth. */
class Scratch {
  private ptr = 0;
  private capacity = 0;
  private buffer: ArrayBuffer | undefined;
  private view = new Uint8Array(0);

  constructor(private readonly kernel: KeccakKernel) {}

  /** The address of at least `bytes` bytes of scratch (contents not preserved across a grow). */
  reserve(bytes: number): number {
    if (bytes > this.capacity) {
      const capacity = Math.max(4096, this.capacity * 2, bytes);
      this.ptr = this.kernel.alloc(capacity) >>> 0;
      this.capacity = capacity;
    }
    return this.ptr;
  }

  /** A view of the whole linear memory, rebuilt only after the memory has grown. */
  bytes(): Uint8Array {
    const buffer = this.kernel.memory.buffer;
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.view = new Uint8Array(buffer);
    }
    return this.view;
  }
}

function keccakKernel(kernel: KernelExports): KeccakKernel {
  return kernel as unknown as KeccakKernel;
}

/** keccak256 of one input; returns a fresh 32-byte array. Uses its own kernel instance unless one is given. */
export function createWasmKeccak(kernel: KernelExports = instantiateKernel()): (data: Uint8Array) => Uint8Array {
  const k = keccakKernel(kernel);
  const scratch = new Scratch(k);
  const dst = k.alloc(32) >>> 0;
  const hash = k.keccak256;
  return (data) => {
    const src = scratch.reserve(data.length);
    const mem = scratch.bytes();
    mem.set(data, src);
    hash(src, data.length, dst);
    return mem.slice(dst, dst + 32);
  };
}

/**
 * keccak256 of `inputs.length / length` inputs of `length` bytes each, laid back to back in `inputs`, in one call
 * into the kernel; returns their digests back to back (32 bytes each).
 */
export function createWasmKeccakBatch(kernel: KernelExports = instantiateKernel()): (inputs: Uint8Array, length: number) => Uint8Array {
  const k = keccakKernel(kernel);
  const scratch = new Scratch(k);
  return (inputs, length) => {
    if (!Number.isInteger(length) || length < 0 || (length === 0 ? inputs.length !== 0 : inputs.length % length !== 0)) {
      throw new RangeError(`keccak batch: ${inputs.length} bytes are not a whole number of ${length}-byte inputs`);
    }
    const count = length === 0 ? 0 : inputs.length / length;
    const src = scratch.reserve(inputs.length + count * 32);
    const dst = src + inputs.length;
    const mem = scratch.bytes();
    mem.set(inputs, src);
    k.keccak256Batch(src, length, count, dst);
    return mem.slice(dst, dst + count * 32);
  };
}

/**
 * For benchmarks: starting from `data` (at least 32 bytes), `n` times replaces its first 32 bytes by the keccak256
 * of the whole of it, all inside the kernel; returns the final first 32 bytes (the last digest, or data's own first
 * 32 bytes when n = 0).
 */
export function createWasmKeccakChain(kernel: KernelExports = instantiateKernel()): (data: Uint8Array, n: number) => Uint8Array {
  const k = keccakKernel(kernel);
  const scratch = new Scratch(k);
  return (data, n) => {
    if (data.length < 32) throw new RangeError(`keccak chain: the input must be at least 32 bytes, not ${data.length}`);
    const buf = scratch.reserve(data.length);
    scratch.bytes().set(data, buf);
    k.keccak256Chain(buf, data.length, n);
    const mem = scratch.bytes();
    return mem.slice(buf, buf + 32);
  };
}

import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { createWasmKeccak, createWasmKeccakBatch, createWasmKeccakChain } from "./keccak.js";
import { instantiateKernel } from "./load.js";
import { prng } from "../../datasets/synthetic.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const utf8 = (text: string) => new TextEncoder().encode(text);


function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

const keccak = createWasmKeccak();

describe("WASM keccak256", () => {
  it("matches the known vectors", () => {
    expect(hex(keccak(new Uint8Array(0)))).toBe("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    expect(hex(keccak(utf8("abc")))).toBe("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    // Not SHA3-256 (which pads with 0x06): SHA3-256("") = a7ffc6f8bf1ed766…
    expect(hex(keccak(new Uint8Array(0)))).not.toBe("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    expect(hex(keccak(utf8("abc")))).toBe(hex(keccak_256(utf8("abc"))));
  });

  it("agrees with @noble/hashes on every length 0..600", () => {
    const next = prng(1);
    for (let length = 0; length <= 600; length++) {
      const data = randomBytes(next, length);
      expect(hex(keccak(data)), `length ${length}`).toBe(hex(keccak_256(data)));
    }
  });

  it("agrees on the rate boundaries (136-byte blocks) and on constant inputs there", () => {
    for (const length of [135, 136, 137, 271, 272, 273, 407, 408, 409]) {
      for (const fill of [0x00, 0x01, 0x80, 0xff]) {
        const data = new Uint8Array(length).fill(fill);
        expect(hex(keccak(data)), `length ${length} fill ${fill}`).toBe(hex(keccak_256(data)));
      }
    }
  });

  it("agrees on 10,000 random inputs of random lengths", () => {
    const next = prng(0xc0ffee);
    for (let k = 0; k < 10_000; k++) {
      // Mostly short (the kernel's 41/73/107-byte hashes), sometimes several blocks long.
      const length = next() < 0.8 ? Math.floor(next() * 140) : Math.floor(next() * 2000);
      const data = randomBytes(next, length);
      expect(hex(keccak(data)), `input ${k}, length ${length}`).toBe(hex(keccak_256(data)));
    }
  });

  it("hashes inputs larger than the initial scratch buffer, and smaller ones again afterwards", () => {
    const next = prng(7);
    for (const length of [5000, 100_000, 3, 70_000, 1_000_000, 64]) {
      const data = randomBytes(next, length);
      expect(hex(keccak(data)), `length ${length}`).toBe(hex(keccak_256(data)));
    }
  });

  it("returns a fresh array each call", () => {
    const a = keccak(utf8("a"));
    const b = keccak(utf8("b"));
    expect(hex(a)).toBe(hex(keccak_256(utf8("a"))));
    expect(hex(b)).toBe(hex(keccak_256(utf8("b"))));
    expect(a.length).toBe(32);
    expect(a.buffer).not.toBe(b.buffer);
  });
});

describe("WASM keccak256Concat and keccak256Concat3", () => {
  const kernel = instantiateKernel();
  const alloc = kernel.alloc as unknown as (bytes: number) => number;
  const concat2 = kernel.keccak256Concat as unknown as (a: number, aLen: number, b: number, bLen: number, dst: number) => void;
  const concat3 = kernel.keccak256Concat3 as unknown as (a: number, aLen: number, b: number, bLen: number, c: number, cLen: number, dst: number) => void;
  const MAX = 1200;
  const pa = alloc(MAX);
  const pb = alloc(MAX);
  const pc = alloc(MAX);
  const dst = alloc(32);
  const mem = () => new Uint8Array(kernel.memory.buffer);

  function viaConcat(pieces: Uint8Array[]): string {
    const ptrs = [pa, pb, pc];
    pieces.forEach((piece, i) => mem().set(piece, ptrs[i]));
    if (pieces.length === 2) concat2(pa, pieces[0].length, pb, pieces[1].length, dst);
    else concat3(pa, pieces[0].length, pb, pieces[1].length, pc, pieces[2].length, dst);
    return hex(mem().slice(dst, dst + 32));
  }

  function whole(pieces: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  it("equal the hash of the concatenation for the kernel's own shapes", () => {
    const next = prng(11);
    for (const [tag, ...rest] of [
      [9, 32, 32], // node = H("mlvm.node" ‖ left ‖ right)
      [9, 32],
      [5, 36, 32],
      [41, 32, 34],
      [0, 0, 0],
      [0, 136, 0],
      [135, 1, 0],
      [136, 0, 136],
    ]) {
      const pieces = [tag, ...rest].map((n) => randomBytes(next, n));
      expect(viaConcat(pieces), `shape ${[tag, ...rest]}`).toBe(hex(keccak_256(whole(pieces))));
    }
  });

  it("equal the hash of the concatenation for 3,000 random splits", () => {
    const next = prng(0xbeef);
    for (let k = 0; k < 3000; k++) {
      const total = next() < 0.7 ? Math.floor(next() * 150) : Math.floor(next() * MAX);
      const data = randomBytes(next, total);
      const three = next() < 0.5;
      let i = Math.floor(next() * (total + 1));
      let j = Math.floor(next() * (total + 1));
      if (i > j) [i, j] = [j, i];
      const pieces = three ? [data.subarray(0, i), data.subarray(i, j), data.subarray(j)] : [data.subarray(0, i), data.subarray(i)];
      expect(viaConcat(pieces), `split ${k}: ${pieces.map((p) => p.length)}`).toBe(hex(keccak_256(data)));
    }
  });

  it("equal the hash of the concatenation when the pieces end exactly on block boundaries", () => {
    const next = prng(3);
    for (const lengths of [
      [136, 136],
      [136, 136, 136],
      [100, 36, 136],
      [135, 137, 0],
      [1, 135, 135],
      [272, 1, 135],
      [68, 68, 68],
    ]) {
      const pieces = lengths.map((n) => randomBytes(next, n));
      expect(viaConcat(pieces), `lengths ${lengths}`).toBe(hex(keccak_256(whole(pieces))));
    }
  });
});

describe("WASM keccak batch and chain helpers", () => {
  it("keccak256Batch hashes back-to-back inputs", () => {
    const batch = createWasmKeccakBatch();
    const next = prng(5);
    for (const length of [0, 1, 64, 135, 136, 300]) {
      const count = length === 0 ? 0 : 17;
      const inputs = randomBytes(next, length * count);
      const digests = batch(inputs, length);
      expect(digests.length).toBe(32 * count);
      for (let k = 0; k < count; k++) {
        expect(hex(digests.subarray(32 * k, 32 * k + 32))).toBe(hex(keccak_256(inputs.subarray(length * k, length * (k + 1)))));
      }
    }
    expect(() => batch(new Uint8Array(10), 3)).toThrow(RangeError);
  });

  it("keccak256Chain repeats the hash inside the kernel", () => {
    const chain = createWasmKeccakChain();
    const next = prng(9);
    for (const length of [32, 64, 200]) {
      const data = randomBytes(next, length);
      const expected = data.slice();
      for (let k = 0; k < 100; k++) expected.set(keccak_256(expected), 0);
      expect(hex(chain(data, 100))).toBe(hex(expected.subarray(0, 32)));
      expect(hex(chain(data, 0))).toBe(hex(data.subarray(0, 32)));
    }
  });
});

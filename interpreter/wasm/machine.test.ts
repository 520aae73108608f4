import { keccak_256 } from "@noble/hashes/sha3.js";
import { MerkleTree } from "merkletreejs";
import { describe, expect, it } from "vitest";
import { compileGraph } from "../../compiler/compile.js";
import { mnist, mnistInput, randomGraph, randomInput } from "../../test/helpers/models.js";
import { TAG, toHex } from "../../vm/hash.js";
import { emptySubtrees, merkleRoot, rootFromProof } from "../../vm/merkle.js";
import { Opcode } from "../../vm/opcodes.js";
import { verifyStep } from "../../vm/onestep.js";
import { decodeState } from "../../vm/state.js";
import { witnessFromJson, witnessToJson } from "../../vm/witness.js";
import { run } from "../run.js";
import { referenceTrace } from "../trace-reference.js";
import { StaleTraceError, WasmMachine } from "./machine.js";

const model = mnist();
const machine = new WasmMachine(model);

const shapes: [string, number[], ("relu" | "sigmoid" | "tanh" | null)[]][] = [
  ["tanh/sigmoid, ragged sizes", [37, 19, 3], ["tanh", "sigmoid"]],
  ["a single output", [70, 5, 1], ["relu", "sigmoid"]],
  ["wide", [300, 65, 10], ["relu", null]],
  ["one input", [1, 8, 2], ["sigmoid", null]],
];

describe("WASM plain runs agree with the reference interpreter", () => {
  it("on 250 MNIST digits", () => {
    for (let k = 0; k < 250; k++) {
      const input = mnistInput(8000 + k);
      expect(Array.from(machine.run(input))).toEqual(Array.from(run(model, input).output));
    }
  });

  it.each(shapes)("on random models: %s", (_, sizes, activations) => {
    const random = compileGraph(randomGraph(sizes.length, sizes, activations));
    const m = new WasmMachine(random);
    for (let seed = 0; seed < 20; seed++) {
      const input = randomInput(seed, sizes[0], 4);
      expect(Array.from(m.run(input))).toEqual(Array.from(run(random, input).output));
    }
  });

  it("rejects a wrong input length like the reference", () => {
    expect(() => machine.run(new Int32Array(10))).toThrow(/input has 10 words, the model takes 784/);
  });
});

describe("traced runs", () => {
  it.each(shapes)("every state hash equals the reference's: %s", (_, sizes, activations) => {
    const random = compileGraph(randomGraph(sizes.length + 100, sizes, activations));
    const m = new WasmMachine(random, { checkpointInterval: 5 });
    const input = randomInput(3, sizes[0], 4);
    const trace = m.trace(input);
    const expected = referenceTrace(random, input);
    expect(trace.steps).toBe(expected.length - 1);
    expected.forEach((h, k) => expect(toHex(trace.stateHash(k))).toBe(toHex(h)));
    expect(Array.from(trace.output)).toEqual(Array.from(run(random, input).output));
  });

  it("the trace root is the Merkle root of s0 … sN padded with sN, and merkletreejs agrees", () => {
    const input = mnistInput(8001);
    const trace = machine.trace(input);
    const hashes = Array.from({ length: trace.steps + 1 }, (_, k) => trace.stateHash(k));
    const padding = emptySubtrees(hashes[trace.steps], trace.depth);
    expect(toHex(trace.root)).toBe(toHex(merkleRoot(hashes, trace.depth, padding)));

    const padded = [...hashes, ...Array(2 ** trace.depth - hashes.length).fill(hashes[trace.steps])].map((h) => Buffer.from(h));
    const hashFn = (data: Buffer) => Buffer.from(keccak_256(Uint8Array.from([...TAG.node, ...data])));
    const tree = new MerkleTree(padded, hashFn, { hashLeaves: false, sortPairs: false });
    expect(tree.getHexRoot()).toBe(toHex(trace.root));
    for (const k of [0, 1, 1234, trace.steps - 1, trace.steps, 2 ** trace.depth - 1]) {
      const proof = trace.proof(k);
      expect(toHex(rootFromProof(trace.stateHash(k), k, proof))).toBe(toHex(trace.root));
      const theirs = tree.getProof(padded[k], k).map((p) => toHex(p.data));
      expect(theirs).toEqual(proof.map(toHex));
      expect(tree.verify(tree.getProof(padded[k], k), padded[k], tree.getRoot())).toBe(true);
    }
  });

  it("a trace is invalid once its machine runs another input", () => {
    const trace = machine.trace(mnistInput(8002));
    machine.run(mnistInput(8003));
    expect(() => trace.stateHash(0)).toThrow(StaleTraceError);
  });
});

describe("step witnesses", () => {
  const input = mnistInput(8004);

  it("every step of a full MNIST trace verifies to the next state hash", () => {
    const freshTrace = machine.trace(input);
    for (let k = 0; k < freshTrace.steps; k++) {
      const w = freshTrace.witness(k);
      expect(toHex(verifyStep(freshTrace.stateHash(k), w))).toBe(toHex(freshTrace.stateHash(k + 1)));
      expect(toHex(w.postStateHash)).toBe(toHex(freshTrace.stateHash(k + 1)));
    }
  });

  it("covers every step kind: DENSE chunks, row ends, RELU, ARGMAX, HALT", () => {
    const trace = machine.trace(input);
    const states = Array.from({ length: trace.steps }, (_, k) => decodeState(trace.witness(k).preState).state);
    const kinds = new Set(states.map((s) => model.program.instructions[s.pc].opcode));
    expect([...kinds].sort()).toEqual([Opcode.HALT, Opcode.DENSE, Opcode.RELU, Opcode.ARGMAX].sort());
    const rowEnd = trace.witness(24); // row 0 of the first layer: chunks 0..24, the last one stores y[0]
    expect(rowEnd.reads.map((r) => r.kind)).toEqual(["chunk", "chunk", "leaf"]);
    const first = trace.witness(0);
    expect(first.reads.map((r) => r.kind)).toEqual(["chunk", "chunk", "leaf"]); // weights, input, bias
    // a chunk is proven from height 2 of the depth-15 memory tree, a leaf from height 0
    expect(first.reads.map((r) => r.proof.length)).toEqual([13, 13, 15]);
  });

  it("past the halted state, a step proves sN → sN", () => {
    const trace = machine.trace(input);
    const w = trace.witness(2 ** trace.depth - 2);
    expect(w.reads).toHaveLength(0);
    expect(toHex(verifyStep(w.postStateHash, w))).toBe(toHex(w.postStateHash));
  });

  it("is the same whatever the checkpoint interval", () => {
    const every = [1, 7, 256, 10_000].map((interval) => {
      const t = new WasmMachine(model, { checkpointInterval: interval }).trace(input);
      return [0, 1, 24, 25, 3200, 3216, 3490, 3500, 3502].map((k) => JSON.stringify(witnessToJson(t.witness(k))));
    });
    for (const w of every.slice(1)) expect(w).toEqual(every[0]);
  });

  it("round-trips through JSON", () => {
    const t = machine.trace(input);
    for (const k of [0, 24, 3300, 3502]) {
      const w = t.witness(k);
      const back = witnessFromJson(JSON.parse(JSON.stringify(witnessToJson(w))));
      expect(back).toEqual(w);
      expect(toHex(verifyStep(t.stateHash(k), back))).toBe(toHex(t.stateHash(k + 1)));
    }
  });

});

/**
 * What a claimant posts (InferenceOracle.claim) and later re-posts to finalize, built from a traced run: the
 * model's commitment fields, the input as leaves, the trace tree, sN's preimage with its proof as leaf N, and the
 * chunks holding the output with their memory proofs. `lyingClaim` builds the same for a dishonest claimant, for
 * tests and demos (`--lie-output`, `--lie-at-step`).
 */
import type { CompiledModel } from "../compiler/compile.js";
import type { Trace } from "../interpreter/wasm/machine.js";
import { TAG, taggedHash, toHex } from "../vm/hash.js";
import { CHUNK_LEAVES, CHUNK_WORDS, LEAF_WORDS, encodeLeaf, regionRoot } from "../vm/memory.js";
import { rootFromProof } from "../vm/merkle.js";
import { decodeState, encodeState } from "../vm/state.js";
import { FLAG_ARGMAX_OUTPUT } from "../vm/program.js";
import { ONE } from "../vm/fixed.js";
import { TraceTree } from "./trace-tree.js";

/** The Model struct of ModelRegistry/InferenceOracle: the commitment's fields (registrant is the registry's to fill). */
export function modelFields(model: CompiledModel) {
  const c = model.commitment;
  return {
    programRoot: toHex(c.programRoot),
    modelRoot: toHex(c.modelRoot),
    memoryDepth: c.memoryDepth,
    flags: c.flags,
    inputLength: c.inputLength,
    outputAddress: c.outputAddress,
    outputLength: c.outputLength,
    steps: c.steps,
    inputFrac: c.inputFrac,
    outputFrac: c.outputFrac,
    registrant: "0x0000000000000000000000000000000000000000",
  };
}

/** Words packed into 32-byte leaves (8 big-endian int32 each): InferenceOracle.request's input format. */
export function inputLeaves(input: Int32Array): string[] {
  const leaves: string[] = [];
  for (let off = 0; off < input.length; off += LEAF_WORDS) leaves.push(toHex(encodeLeaf(input, off)));
  return leaves;
}

/** A claimant's view of a run: its trace tree, sN's preimage, and the output chunks with their proofs. */
export interface ClaimView {
  tree: TraceTree;
  finalState: Uint8Array;
  outputLeaves: string[];
  outputProofs: string[][];
}

const chunkLeaves = (words: Int32Array) => Array.from({ length: CHUNK_LEAVES }, (_, l) => toHex(encodeLeaf(words, LEAF_WORDS * l)));

export function honestClaim(trace: Trace): ClaimView {
  const chunks = trace.outputChunks();
  return {
    tree: TraceTree.fromTrace(trace),
    finalState: trace.witness(trace.steps).preState,
    outputLeaves: chunks.flatMap((c) => chunkLeaves(c.words)),
    outputProofs: chunks.map((c) => c.proof.map(toHex)),
  };
}

/**
 * A dishonest claim: the first output word is one higher in sN's memory and a classifier's prediction is the
 * next class (under a consistent fake memory root, so the claim itself is well-formed), and for k < N the
 * states k … N−1 are garbage too. Only a game exposes it.
 */
export function lyingClaim(trace: Trace, k: number): ClaimView {
  const N = trace.steps;
  const leaves = Array.from({ length: N + 1 }, (_, s) => trace.stateHash(s));
  const [chunk] = trace.outputChunks();
  const words = chunk.words.slice();
  const program = trace.model.program;
  words[program.outputAddress - chunk.address] += ONE;
  // A classifier's prediction (its last output word) names another class, when it sits in the same chunk.
  const last = program.outputAddress + program.outputLength - 1 - chunk.address;
  if (program.flags & FLAG_ARGMAX_OUTPUT && last < CHUNK_WORDS) words[last] = (words[last] + 1) % (program.outputLength - 1);
  const chunkRoot = regionRoot(words, Math.log2(CHUNK_LEAVES));
  const fakeRoot = rootFromProof(chunkRoot, chunk.address / CHUNK_WORDS, chunk.proof);
  const { programRoot, state } = decodeState(trace.witness(N).preState);
  const finalState = encodeState(programRoot, fakeRoot, state);
  leaves[N] = taggedHash(TAG.state, finalState);
  for (let s = k; s < N; s++) leaves[s] = taggedHash(TAG.state, Uint8Array.from([s & 255, 0xde, 0xad]));
  return { tree: new TraceTree(leaves), finalState, outputLeaves: chunkLeaves(words), outputProofs: [chunk.proof.map(toHex)] };
}

/** The arguments proving a claim's final state and output: for claim() and again for finalize(). */
export function finalArgs(view: ClaimView, steps: number) {
  return [toHex(view.finalState), view.tree.path(0, steps, view.tree.depth).map(toHex), view.outputLeaves, view.outputProofs] as const;
}

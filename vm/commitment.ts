/**
 * The model commitment: the 32 bytes that go on-chain when a model is registered, instead of its weights.
 *
 *   modelHash = keccak256("mlvm.model" ‖ programRoot ‖ modelRoot ‖ u8 memoryDepth ‖ u8 flags
 *                         ‖ u32 inputLength ‖ u32 outputAddress ‖ u32 outputLength ‖ u64 steps
 *                         ‖ u8 inputFrac ‖ u8 outputFrac)
 * The formats are committed so that a requester knows how to encode the input words and a consumer how to
 * read the output words (value = word / 2^outputFrac), from the registry alone.
 *
 * modelRoot is the root of the model region (the left half of memory: weights and biases). With it and an
 * input, the initial state s0 is computable on-chain: memoryRoot = H(node, modelRoot ‖ inputRoot(input)).
 */
import { TAG, taggedHash } from "./hash.js";
import { type State, hashState, INITIAL_STATE } from "./state.js";
import { type Program, programRoot, stepCount } from "./program.js";
import { memoryRoot, regionRoot } from "./memory.js";

export interface ModelCommitment {
  programRoot: Uint8Array;
  modelRoot: Uint8Array;
  memoryDepth: number;
  flags: number;
  inputLength: number;
  outputAddress: number;
  outputLength: number;
  steps: number;
  inputFrac: number;
  outputFrac: number;
  hash: Uint8Array;
}

export function commitModel(program: Program, image: Int32Array): ModelCommitment {
  const fields = {
    programRoot: programRoot(program),
    modelRoot: regionRoot(image, program.memoryDepth - 1),
    memoryDepth: program.memoryDepth,
    flags: program.flags,
    inputLength: program.inputLength,
    outputAddress: program.outputAddress,
    outputLength: program.outputLength,
    steps: stepCount(program),
    inputFrac: program.inputFrac,
    outputFrac: program.outputFrac,
  };
  const bytes = new Uint8Array(32 + 32 + 1 + 1 + 4 + 4 + 4 + 8 + 1 + 1);
  const view = new DataView(bytes.buffer);
  bytes.set(fields.programRoot, 0);
  bytes.set(fields.modelRoot, 32);
  view.setUint8(64, fields.memoryDepth);
  view.setUint8(65, fields.flags);
  view.setUint32(66, fields.inputLength, false);
  view.setUint32(70, fields.outputAddress, false);
  view.setUint32(74, fields.outputLength, false);
  view.setBigUint64(78, BigInt(fields.steps), false);
  view.setUint8(86, fields.inputFrac);
  view.setUint8(87, fields.outputFrac);
  return { ...fields, hash: taggedHash(TAG.model, bytes) };
}

/** The root of the data region holding only `input` (a subtree of depth D-1): the on-chain input commitment. */
export function inputRoot(input: Int32Array, memoryDepth: number): Uint8Array {
  return regionRoot(input, memoryDepth - 1);
}

/** s0's hash: the initial registers over the model's program and the memory holding model + input. */
export function initialStateHash(model: ModelCommitment, input: Int32Array): Uint8Array {
  const state: State = INITIAL_STATE;
  return hashState(model.programRoot, memoryRoot(model.modelRoot, inputRoot(input, model.memoryDepth)), state);
}

/**
 * The reference traced run: the state hash after every step, computed with vm/ alone (vm/step.ts, vm/state.ts,
 * @noble/hashes keccak). Slow, plain and obviously right: tests hold the WASM kernel's traced run to it.
 */
import { programRoot } from "../vm/program.js";
import { INITIAL_STATE, hashState } from "../vm/state.js";
import { step } from "../vm/step.js";
import { MerkleMemory } from "./merkle-memory.js";
import { type Executable, initialMemory } from "./run.js";

const programRoots = new WeakMap<object, Uint8Array>();

/** s0 … sN: the hash of every state from the initial one to the halted one. */
export function referenceTrace(model: Executable, input: Int32Array): Uint8Array[] {
  let root = programRoots.get(model.program);
  if (!root) programRoots.set(model.program, (root = programRoot(model.program)));
  const memory = new MerkleMemory(model, initialMemory(model, input));
  let state = INITIAL_STATE;
  const hashes = [hashState(root, memory.root, state)];
  while (!state.halted) {
    const result = step(state, model.program.instructions[state.pc], memory);
    if (result.write) memory.write(result.write);
    state = result.state;
    hashes.push(hashState(root, memory.root, state));
  }
  return hashes;
}

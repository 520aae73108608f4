/**
 * Randomized states and operands, replayed in the EVM: for each step kind, thousands of witnesses from random
 * programs, memories and registers (test/helpers/random-steps.ts); the EVM's post-state hash must equal the
 * TypeScript one for every one. Shared by the random-*.slow.test.ts files, which run in parallel.
 */
import { expect } from "vitest";
import { toHex } from "../../vm/hash.js";
import { type StepKind, randomStepWitnesses } from "../helpers/random-steps.js";
import { deployVerifier, evmPostState } from "./verifier.js";

export async function replayRandom(kind: StepKind, count: number, seed: number): Promise<number> {
  const verifier = await deployVerifier();
  let agreed = 0;
  for (const { preStateHash, witness } of randomStepWitnesses(kind, count, seed)) {
    const post = await evmPostState(verifier, preStateHash, witness);
    if (post !== toHex(witness.postStateHash)) expect({ kind, step: witness.step, post }).toEqual({ kind, step: witness.step, post: toHex(witness.postStateHash) });
    agreed++;
  }
  return agreed;
}

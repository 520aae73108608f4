/**
 * Randomized states and operands, replayed in the EVM: for each step kind, thousands of witnesses from random
 * programs, memories and registers (test/helpers/random-steps.ts); the EVM's post-state hash must equal the
 * TypeScript one for every one. Shared by the random-*.slow.test.ts files, which run in parallel: each takes every
 * third kind of STEP_KINDS (the opcode table's order), so an opcode added to the table is replayed without a new test.
 */
import { expect } from "vitest";
import { toHex } from "../../vm/hash.js";
import { Opcode } from "../../vm/opcodes.js";
import { STEP_KINDS, type StepKind, randomStepWitnesses } from "../helpers/random-steps.js";
import { deployVerifier, evmPostState } from "./verifier.js";

export async function replayRandom(kind: StepKind, count: number, seed: number): Promise<number> {
  const verifier = await deployVerifier();
  let agreed = 0;
  for (const { preStateHash, witness } of randomStepWitnesses(kind, count, seed, { perTree: 10 })) {
    const post = await evmPostState(verifier, preStateHash, witness);
    if (post !== toHex(witness.postStateHash)) expect({ kind, step: witness.step, post }).toEqual({ kind, step: witness.step, post: toHex(witness.postStateHash) });
    agreed++;
  }
  return agreed;
}

/**
 * How many random states each kind gets in the slow suites: DENSE, whose arithmetic has the most cases (row
 * starts, ends, int64 saturation, 32 shifts), 10,000; every other opcode 5,000; HALT, unknown and halted, which
 * compute nothing, 2,000.
 */
export function randomCount(kind: StepKind): number {
  if (kind === Opcode.DENSE) return 10000;
  if (kind === Opcode.HALT || kind === "unknown" || kind === "halted") return 2000;
  return 5000;
}

/** Part `part` (0, 1, 2) of the kinds: every third one, with a seed per kind. */
export function kindsOfPart(part: number): { name: string; kind: StepKind; count: number; seed: number }[] {
  return STEP_KINDS.flatMap(({ name, kind }, index) => (index % 3 === part ? [{ name, kind, count: randomCount(kind), seed: 100 * (part + 1) + index }] : []));
}

/**
 * A step witness (vm/witness.ts) as the arguments of OneStepVerifier.verifyStep (contracts/vm/OneStep.sol):
 * words are packed back into 32-byte leaves, a read's kind becomes 0 (leaf) or 1 (chunk), and a halted
 * pre-state's absent instruction becomes zero.
 */
import { toHex } from "../vm/hash.js";
import { LEAF_WORDS, encodeLeaf } from "../vm/memory.js";
import type { StepWitness } from "../vm/witness.js";

export interface ReadArgs {
  kind: number;
  addr: number;
  leaves: string[];
  proof: string[];
}

export interface WitnessArgs {
  preState: string;
  instruction: string;
  instructionProof: string[];
  reads: ReadArgs[];
}

export const READ_KIND = { leaf: 0, chunk: 1 } as const;

export function witnessArgs(w: StepWitness): WitnessArgs {
  const instruction = new Uint8Array(32);
  instruction.set(w.instruction.subarray(0, 32));
  return {
    preState: toHex(w.preState),
    instruction: toHex(instruction),
    instructionProof: w.instructionProof.map(toHex),
    reads: w.reads.map((r) => {
      const leaves: string[] = [];
      for (let off = 0; off < r.words.length; off += LEAF_WORDS) leaves.push(toHex(encodeLeaf(r.words, off)));
      return { kind: READ_KIND[r.kind], addr: r.address, leaves, proof: r.proof.map(toHex) };
    }),
  };
}

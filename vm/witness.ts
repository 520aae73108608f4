/**
 * A step witness: everything the one-step verifier needs to check s_k → s_{k+1} without the rest of memory.
 *
 *   preState          the 97-byte preimage of s_k (vm/state.ts): program root, memory root, registers
 *   instruction       the 32 bytes of the instruction at pc, with its program-tree proof
 *   reads             every memory read of the step, in the order the executor makes them: a leaf (8 words,
 *                     proven from height 0) or a chunk (32 words = 4 leaves, proven from height 2), with the
 *                     sibling path up to the memory root. A step's one write is always to a leaf it read
 *                     first, so that read's path also yields the new memory root.
 *   postStateHash     the hash of s_{k+1} the honest machine reaches
 * A halted pre-state needs no instruction and no reads: it steps to itself.
 *
 * JSON: byte strings as 0x-hex, words as arrays of numbers, e.g.
 *   {"step": 7, "preState": "0x…", "instruction": "0x…", "instructionProof": ["0x…"],
 *    "reads": [{"kind": "chunk", "address": 16384, "words": [...32], "proof": ["0x…", …]}], "postStateHash": "0x…"}
 */
import { MlvmError } from "./errors.js";
import { fromHex, toHex } from "./hash.js";
import { CHUNK_WORDS, LEAF_WORDS } from "./memory.js";

export type ReadKind = "leaf" | "chunk";

export interface MemoryRead {
  kind: ReadKind;
  /** The first word address (leaf- or chunk-aligned). */
  address: number;
  words: Int32Array;
  /** Siblings from the read's height (0 for a leaf, 2 for a chunk) up to the memory root. */
  proof: Uint8Array[];
}

export interface StepWitness {
  step: number;
  preState: Uint8Array;
  instruction: Uint8Array;
  instructionProof: Uint8Array[];
  reads: MemoryRead[];
  postStateHash: Uint8Array;
}

/** A witness that is malformed or does not prove what it claims. */
export class WitnessError extends MlvmError {}

export const READ_WORDS: Record<ReadKind, number> = { leaf: LEAF_WORDS, chunk: CHUNK_WORDS };
/** Height of a read's subtree above the leaves: a leaf is a leaf, a chunk is a 4-leaf subtree. */
export const READ_HEIGHT: Record<ReadKind, number> = { leaf: 0, chunk: 2 };

export interface StepWitnessJson {
  step: number;
  preState: string;
  instruction: string;
  instructionProof: string[];
  reads: { kind: ReadKind; address: number; words: number[]; proof: string[] }[];
  postStateHash: string;
}

export function witnessToJson(w: StepWitness): StepWitnessJson {
  return {
    step: w.step,
    preState: toHex(w.preState),
    instruction: toHex(w.instruction),
    instructionProof: w.instructionProof.map(toHex),
    reads: w.reads.map((r) => ({ kind: r.kind, address: r.address, words: Array.from(r.words), proof: r.proof.map(toHex) })),
    postStateHash: toHex(w.postStateHash),
  };
}

export function witnessFromJson(json: StepWitnessJson): StepWitness {
  const bytes = (hex: unknown, what: string, length?: number) => {
    if (typeof hex !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new WitnessError(`${what} is not a 0x-hex byte string`);
    const b = fromHex(hex);
    if (length !== undefined && b.length !== length) throw new WitnessError(`${what} is ${b.length} bytes, expected ${length}`);
    return b;
  };
  const list = (value: unknown, what: string) => {
    if (!Array.isArray(value)) throw new WitnessError(`${what} is not an array`);
    return value.map((h, k) => bytes(h, `${what}[${k}]`, 32));
  };
  if (typeof json !== "object" || json === null) throw new WitnessError("a witness must be a JSON object");
  if (!Number.isSafeInteger(json.step) || json.step < 0) throw new WitnessError("step is not a non-negative integer");
  if (!Array.isArray(json.reads)) throw new WitnessError("reads is not an array");
  return {
    step: json.step,
    preState: bytes(json.preState, "preState"),
    instruction: bytes(json.instruction, "instruction"),
    instructionProof: list(json.instructionProof, "instructionProof"),
    reads: json.reads.map((r, k) => {
      if (r?.kind !== "leaf" && r?.kind !== "chunk") throw new WitnessError(`reads[${k}].kind must be "leaf" or "chunk"`);
      if (!Array.isArray(r.words) || !r.words.every((v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) {
        throw new WitnessError(`reads[${k}].words must be int32 values`);
      }
      if (!Number.isSafeInteger(r.address) || r.address < 0) throw new WitnessError(`reads[${k}].address is not a word address`);
      return { kind: r.kind, address: r.address, words: Int32Array.from(r.words), proof: list(r.proof, `reads[${k}].proof`) };
    }),
    postStateHash: bytes(json.postStateHash, "postStateHash", 32),
  };
}

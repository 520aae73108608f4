/**
 * Building the trace tree of one MNIST run (3,504 state hashes padded to 4,096 leaves): merkletreejs against
 * vm/merkle.ts, both hashing with @noble/hashes' keccak, so the difference is the tree code itself. (The WASM
 * kernel builds the same tree with its own keccak inside its traced run.)
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { MerkleTree } from "merkletreejs";
import { TAG, toHex } from "../vm/hash.js";
import { buildLevels, emptySubtrees } from "../vm/merkle.js";
import { measure } from "./timing.js";

export interface MerkleBench {
  leaves: number;
  merkletreejsMs: number;
  vmMerkleMs: number;
  sameRoot: boolean;
}

export function benchMerkle(stateHashes: Uint8Array[]): MerkleBench {
  const depth = Math.ceil(Math.log2(stateHashes.length));
  const padded = [...stateHashes, ...Array(2 ** depth - stateHashes.length).fill(stateHashes.at(-1)!)];
  const buffers = padded.map((h) => Buffer.from(h));
  const hashFn = (data: Buffer) => Buffer.from(keccak_256(Uint8Array.from([...TAG.node, ...data])));
  let theirs = "";
  const merkletreejs = measure(() => (theirs = new MerkleTree(buffers, hashFn, { hashLeaves: false, sortPairs: false }).getHexRoot()), { samples: 5, warmup: 1 });
  const padding = emptySubtrees(stateHashes.at(-1)!, depth);
  let ours = "";
  const vmMerkle = measure(() => (ours = toHex(buildLevels(stateHashes, depth, padding)[depth][0])), { samples: 5, warmup: 1 });
  return { leaves: padded.length, merkletreejsMs: merkletreejs.medianUs / 1000, vmMerkleMs: vmMerkle.medianUs / 1000, sameRoot: theirs === ours };
}

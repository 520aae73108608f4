/**
 * Domain-tagged keccak256. Every hashed object starts with a tag naming its kind, so that a leaf can never
 * be passed off as an inner node, an instruction as a memory leaf, or a state as anything else:
 *   H(kind, data) = keccak256(utf8("mlvm." ‖ kind) ‖ data)
 * Solidity writes the same thing as keccak256(abi.encodePacked("mlvm.leaf", data)).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";

const encoder = new TextEncoder();

function tag(name: string): Uint8Array {
  return encoder.encode(`mlvm.${name}`);
}

export const TAG = {
  /** A 32-byte memory leaf (8 words). */
  leaf: tag("leaf"),
  /** An inner node of any mlvm Merkle tree: H(node, left ‖ right). */
  node: tag("node"),
  /** A 32-byte instruction, a leaf of the program tree. */
  insn: tag("insn"),
  /** A machine state (see state.ts). */
  state: tag("state"),
  /** A model commitment (see commitment.ts). */
  model: tag("model"),
} as const;

/** keccak256(tag ‖ data). */
export function taggedHash(tagBytes: Uint8Array, data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(tagBytes.length + data.length);
  buf.set(tagBytes, 0);
  buf.set(data, tagBytes.length);
  return keccak_256(buf);
}

/** H(node, left ‖ right). */
export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(TAG.node.length + 64);
  buf.set(TAG.node, 0);
  buf.set(left, TAG.node.length);
  buf.set(right, TAG.node.length + 32);
  return keccak_256(buf);
}

export function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.startsWith("0x") ? hex.slice(2) : hex, "hex"));
}

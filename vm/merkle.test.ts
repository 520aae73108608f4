import { describe, expect, it } from "vitest";
import { hashNode, toHex } from "./hash.js";
import { EMPTY_MEMORY, hashLeaf, memoryRoot, regionRoot, decodeLeaf, encodeLeaf } from "./memory.js";
import { buildLevels, emptySubtrees, merkleProof, merkleRoot, rootFromProof, subtreeRoot } from "./merkle.js";

/** A full tree built the obvious way, padding explicitly: the oracle for the sparse builder. */
function naiveRoot(leaves: Uint8Array[], depth: number, emptyLeaf: Uint8Array): Uint8Array {
  let level = [...leaves];
  while (level.length < 2 ** depth) level.push(emptyLeaf);
  for (let k = 0; k < depth; k++) level = level.reduce<Uint8Array[]>((up, _, p) => (p % 2 ? up : [...up, hashNode(level[p], level[p + 1])]), []);
  return level[0];
}

const leaf = (k: number) => hashLeaf(Int32Array.from({ length: 8 }, (_, t) => k * 8 + t + 1));

describe("sparse Merkle trees", () => {
  it.each([
    [0, 0],
    [1, 0],
    [1, 3],
    [3, 2],
    [5, 3],
    [8, 3],
    [2, 5],
  ])("%i leaves in a depth-%i tree: root equals the naive full tree", (count, depth) => {
    const leaves = Array.from({ length: count }, (_, k) => leaf(k));
    expect(toHex(merkleRoot(leaves, depth, EMPTY_MEMORY))).toBe(toHex(naiveRoot(leaves, depth, EMPTY_MEMORY[0])));
  });

  it("proves every position, empty ones included, and a proof does not transfer to another index or leaf", () => {
    const leaves = Array.from({ length: 5 }, (_, k) => leaf(k));
    const levels = buildLevels(leaves, 3, EMPTY_MEMORY);
    const root = toHex(levels[3][0]);
    for (let index = 0; index < 8; index++) {
      const value = index < 5 ? leaves[index] : EMPTY_MEMORY[0];
      const proof = merkleProof(levels, index, EMPTY_MEMORY);
      expect(proof.length).toBe(3);
      expect(toHex(rootFromProof(value, index, proof))).toBe(root);
      if (index < 6) expect(toHex(rootFromProof(value, index ^ 1, proof))).not.toBe(root); // 6 and 7 are both empty
      expect(toHex(rootFromProof(leaf(99), index, proof))).not.toBe(root);
    }
  });

  it("rejects more leaves than the depth holds", () => {
    expect(() => merkleRoot([leaf(0), leaf(1), leaf(2)], 1, EMPTY_MEMORY)).toThrow(RangeError);
  });

  it("empty subtrees are hashes of empty subtrees", () => {
    const empty = emptySubtrees(EMPTY_MEMORY[0], 3);
    expect(toHex(empty[3])).toBe(toHex(naiveRoot([], 3, EMPTY_MEMORY[0])));
    expect(toHex(EMPTY_MEMORY[3])).toBe(toHex(empty[3]));
  });
});

describe("memory leaves and regions", () => {
  it("packs 8 int32 words big-endian and back", () => {
    const words = Int32Array.of(1, -1, 2147483647, -2147483648, 0, 65536, -65536, 7);
    const bytes = encodeLeaf(words);
    expect(toHex(bytes).slice(0, 2 + 16 * 2)).toBe("0x00000001ffffffff7fffffff80000000");
    expect(Array.from(decodeLeaf(bytes))).toEqual(Array.from(words));
  });

  it("a region root zero-pads its last leaf and the rest of the region", () => {
    const words = Int32Array.of(5, 6, 7, 8, 9, 10, 11, 12, 13);
    const padded = Int32Array.of(13, 0, 0, 0, 0, 0, 0, 0);
    const expected = naiveRoot([hashLeaf(words), hashLeaf(padded)], 4, EMPTY_MEMORY[0]);
    expect(toHex(regionRoot(words, 4))).toBe(toHex(expected));
  });

  it("the memory root joins the model and data regions as the two halves of one tree", () => {
    const model = Int32Array.of(1, 2, 3);
    const data = Int32Array.of(4);
    const both = naiveRoot([hashLeaf(model), ...Array(7).fill(EMPTY_MEMORY[0]), hashLeaf(data)], 4, EMPTY_MEMORY[0]);
    expect(toHex(memoryRoot(regionRoot(model, 3), regionRoot(data, 3)))).toBe(toHex(both));
  });
});

describe("subtreeRoot (a k-ary dissection reveal: 2^m nodes of one level)", () => {
  it.each([0, 1, 2, 3, 4, 6])("2^%i nodes hash to the root of the full tree over them", (m) => {
    const nodes = Array.from({ length: 2 ** m }, (_, k) => leaf(k));
    expect(toHex(subtreeRoot(nodes))).toBe(toHex(naiveRoot(nodes, m, EMPTY_MEMORY[0])));
  });

  it("depends on every node and its position", () => {
    const nodes = Array.from({ length: 16 }, (_, k) => leaf(k));
    const root = toHex(subtreeRoot(nodes));
    for (let k = 0; k < 16; k++) {
      const changed = nodes.slice();
      changed[k] = leaf(100 + k);
      expect(toHex(subtreeRoot(changed))).not.toBe(root);
    }
    expect(toHex(subtreeRoot([nodes[1], nodes[0], ...nodes.slice(2)]))).not.toBe(root);
  });

  it("refuses a count that is not a power of two", () => {
    expect(() => subtreeRoot([])).toThrow(RangeError);
    expect(() => subtreeRoot([leaf(0), leaf(1), leaf(2)])).toThrow(/3 nodes are not a power of two/);
  });
});

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Memory} from "./Memory.sol";
import {Merkle} from "./Merkle.sol";

/// One memory read of a step, as the witness carries it (vm/witness.ts MemoryRead): a leaf (kind 0, one bytes32,
/// proven from height 0) or a chunk (kind 1, four bytes32, proven as a height-2 subtree), with its path to the
/// memory root.
struct Read {
    uint8 kind;
    uint32 addr;
    bytes32[] leaves;
    bytes32[] proof;
}

/// Where the step is in the witness's reads, and the memory root they are checked against.
struct Reader {
    uint256 next;
    bytes32 root;
}

/// The step makes read `index` but the witness has no more.
error WitnessReadMissing(uint256 index);
/// Read `index` is not the kind or address the step reads.
error WitnessReadMismatch(uint256 index, uint8 kind, uint256 addr);
/// Read `index` has an address not aligned to its kind.
error WitnessReadUnaligned(uint256 index, uint256 addr);
/// Read `index` has the wrong number of leaves for its kind.
error WitnessReadLength(uint256 index, uint256 leaves);
/// Read `index`'s position does not fit its proof's length.
error WitnessReadIndexTooLarge(uint256 index);
/// Read `index`'s path does not lead to the memory root.
error WitnessReadProofInvalid(uint256 index);
/// The witness has reads the step does not make.
error WitnessReadsUnused(uint256 given, uint256 used);
/// The step writes a leaf it did not read.
error WitnessWriteNotRead(uint256 addr);

/// @title The step's memory, served from a witness.
/// @notice The Solidity twin of vm/onestep.ts's WitnessMemory: each read the step makes must be the witness's
/// next read, same kind and address, with a Merkle path to the pre-state's memory root. (The TypeScript step
/// takes any MemoryReader; here the reads are calldata passed alongside the Reader.)
library WitnessMemory {
    uint8 internal constant LEAF = 0;
    uint8 internal constant CHUNK = 1;

    function readLeaf(Reader memory m, Read[] calldata reads, uint256 addr) internal pure returns (bytes32) {
        return serve(m, reads, LEAF, addr)[0];
    }

    function readChunk(Reader memory m, Read[] calldata reads, uint256 addr) internal pure returns (bytes32[] calldata) {
        return serve(m, reads, CHUNK, addr);
    }

    function serve(Reader memory m, Read[] calldata reads, uint8 kind, uint256 addr) private pure returns (bytes32[] calldata) {
        uint256 k = m.next++;
        if (k >= reads.length) revert WitnessReadMissing(k);
        Read calldata read = reads[k];
        if (read.kind != kind || read.addr != addr) revert WitnessReadMismatch(k, kind, addr);
        uint256 words = kind == LEAF ? Memory.LEAF_WORDS : Memory.CHUNK_WORDS;
        if (addr % words != 0) revert WitnessReadUnaligned(k, addr);
        if (read.leaves.length != words / Memory.LEAF_WORDS) revert WitnessReadLength(k, read.leaves.length);
        uint256 index = addr / words;
        if (read.proof.length < 256 && index >> read.proof.length != 0) revert WitnessReadIndexTooLarge(k);
        if (Merkle.rootFromProof(subtreeRoot(read.leaves), index, read.proof) != m.root) revert WitnessReadProofInvalid(k);
        return read.leaves;
    }

    /// The root of a read's subtree: its leaf's hash, or the 4-leaf chunk's height-2 node.
    function subtreeRoot(bytes32[] calldata leaves) private pure returns (bytes32) {
        if (leaves.length == 1) return Memory.hashLeaf(leaves[0]);
        return Merkle.hashNode(
            Merkle.hashNode(Memory.hashLeaf(leaves[0]), Memory.hashLeaf(leaves[1])),
            Merkle.hashNode(Memory.hashLeaf(leaves[2]), Memory.hashLeaf(leaves[3]))
        );
    }

    /// Every read of the witness was used.
    function finish(Reader memory m, Read[] calldata reads) internal pure {
        if (m.next != reads.length) revert WitnessReadsUnused(reads.length, m.next);
    }

    /// The memory root after writing a leaf the step read: that read's path, with the new leaf.
    function rootAfter(Read[] calldata reads, uint256 addr, bytes32 leaf) internal pure returns (bytes32) {
        for (uint256 k = 0; k < reads.length; ++k) {
            if (reads[k].kind == LEAF && reads[k].addr == addr) {
                return Merkle.rootFromProof(Memory.hashLeaf(leaf), addr / Memory.LEAF_WORDS, reads[k].proof);
            }
        }
        revert WitnessWriteNotRead(addr);
    }
}

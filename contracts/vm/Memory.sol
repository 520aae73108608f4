// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Memory leaves and their hashes.
/// @notice The Solidity twin of the parts of vm/memory.ts a verifier needs: a leaf is 32 bytes holding 8
/// big-endian int32 words, word 0 first; a chunk is 4 consecutive leaves (32 words), proven as one height-2
/// subtree. H(leaf) = keccak256("mlvm.leaf" ‖ 32 bytes).
library Memory {
    uint256 internal constant LEAF_WORDS = 8;
    uint256 internal constant CHUNK_WORDS = 32;
    uint256 internal constant CHUNK_LEAVES = 4;

    /// Word t (0 = most significant) of a leaf.
    function wordAt(bytes32 leaf, uint256 t) internal pure returns (int32) {
        return int32(uint32(uint256(leaf) >> (224 - 32 * t)));
    }

    /// The leaf with word t replaced by `value`.
    function withWord(bytes32 leaf, uint256 t, int32 value) internal pure returns (bytes32) {
        uint256 shift = 224 - 32 * t;
        uint256 cleared = uint256(leaf) & ~(uint256(0xffffffff) << shift);
        return bytes32(cleared | (uint256(uint32(value)) << shift));
    }

    /// keccak256("mlvm.leaf" ‖ leaf)
    function hashLeaf(bytes32 leaf) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x6d6c766d2e6c6561660000000000000000000000000000000000000000000000) // "mlvm.leaf"
            mstore(add(p, 9), leaf)
            h := keccak256(p, 41)
        }
    }
}

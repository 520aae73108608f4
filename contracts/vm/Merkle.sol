// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Binary Merkle paths.
/// @notice The Solidity twin of vm/merkle.ts's hashNode and rootFromProof: node = keccak256("mlvm.node" ‖ left ‖ right).
library Merkle {
    /// keccak256("mlvm.node" ‖ left ‖ right)
    function hashNode(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x6d6c766d2e6e6f64650000000000000000000000000000000000000000000000) // "mlvm.node"
            mstore(add(p, 9), left)
            mstore(add(p, 41), right)
            h := keccak256(p, 73)
        }
    }

    /// The root that a node at `index` and its sibling path (bottom-up) imply: at level k the node is the right
    /// child when bit k of index is set. (The loop reads the calldata path directly: it runs ~60 times per step.)
    function rootFromProof(bytes32 node, uint256 index, bytes32[] calldata proof) internal pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x6d6c766d2e6e6f64650000000000000000000000000000000000000000000000) // "mlvm.node"
            for { let k := 0 } lt(k, proof.length) { k := add(k, 1) } {
                let sibling := calldataload(add(proof.offset, shl(5, k)))
                switch and(shr(k, index), 1)
                case 0 {
                    mstore(add(p, 9), node)
                    mstore(add(p, 41), sibling)
                }
                default {
                    mstore(add(p, 9), sibling)
                    mstore(add(p, 41), node)
                }
                node := keccak256(p, 73)
            }
            root := node
        }
    }

    /// The root of the subtree whose nodes at one level are `nodes` (a power of two of them, left to right): the
    /// twin of vm/merkle.ts's subtreeRoot. A k-ary dissection move reveals 2^m nodes; this checks they belong.
    function subtreeRoot(bytes32[] calldata nodes) internal pure returns (bytes32 root) {
        bytes32[] memory level = nodes;
        for (uint256 width = nodes.length; width > 1; width /= 2) {
            for (uint256 p = 0; p < width / 2; ++p) level[p] = hashNode(level[2 * p], level[2 * p + 1]);
        }
        return level[0];
    }
}

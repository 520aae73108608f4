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

    /// The root that a node at `index` and its sibling path (bottom-up) imply.
    function rootFromProof(bytes32 node, uint256 index, bytes32[] calldata proof) internal pure returns (bytes32) {
        for (uint256 k = 0; k < proof.length; ++k) {
            node = (index >> k) & 1 == 1 ? hashNode(proof[k], node) : hashNode(node, proof[k]);
        }
        return node;
    }
}

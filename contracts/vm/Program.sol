// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Instructions.
/// @notice The Solidity twin of the instruction layout of vm/program.ts: 32 bytes, u8 opcode, 3 zero bytes,
/// then 7 big-endian u32 operands; a leaf of the program tree is keccak256("mlvm.insn" ‖ 32 bytes).
library Program {
    uint256 internal constant MAX_OPERANDS = 7;

    function opcodeOf(bytes32 insn) internal pure returns (uint256) {
        return uint8(insn[0]);
    }

    /// The 7 operands, without validation: an opcode outside the table is the step's to handle (a trap).
    function operandsOf(bytes32 insn) internal pure returns (uint256[7] memory args) {
        for (uint256 k = 0; k < MAX_OPERANDS; ++k) args[k] = uint32(uint256(insn) >> (192 - 32 * k));
    }

    function hashInstruction(bytes32 insn) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("mlvm.insn", insn));
    }
}

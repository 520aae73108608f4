// SPDX-License-Identifier: MIT
// GENERATED from vm/opcodes.ts by scripts/gen-opcodes-sol.ts: do not edit (test/opcodes-sol.test.ts checks it).
pragma solidity 0.8.28;

/// @title The opcode table's codes, as declared once in vm/opcodes.ts.
library Opcodes {
    /// HALT
    uint256 internal constant HALT = 0x00;
    /// DENSE input weights bias output inputs outputs
    uint256 internal constant DENSE = 0x01;
    /// RELU addr n
    uint256 internal constant RELU = 0x02;
    /// SIGMOID addr n
    uint256 internal constant SIGMOID = 0x03;
    /// TANH addr n
    uint256 internal constant TANH = 0x04;
    /// ARGMAX src n dst
    uint256 internal constant ARGMAX = 0x05;
}

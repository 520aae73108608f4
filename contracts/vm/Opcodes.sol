// SPDX-License-Identifier: MIT
// GENERATED from vm/opcodes.ts by scripts/gen-opcodes-sol.ts: do not edit (test/opcodes-sol.test.ts checks it).
pragma solidity 0.8.28;

/// @title The opcode table's codes, as declared once in vm/opcodes.ts.
library Opcodes {
    /// HALT
    uint256 internal constant HALT = 0x00;
    /// DENSE input weights bias output inputs outputs shift
    uint256 internal constant DENSE = 0x01;
    /// RELU src dst n fin fout
    uint256 internal constant RELU = 0x02;
    /// SIGMOID src dst n fin fout
    uint256 internal constant SIGMOID = 0x03;
    /// TANH src dst n fin fout
    uint256 internal constant TANH = 0x04;
    /// ARGMAX src n dst
    uint256 internal constant ARGMAX = 0x05;
    /// LEAKY_RELU src dst n fin fout alpha
    uint256 internal constant LEAKY_RELU = 0x06;
    /// ELU src dst n fin fout alpha
    uint256 internal constant ELU = 0x07;
    /// SOFTPLUS src dst n fin fout
    uint256 internal constant SOFTPLUS = 0x08;
    /// CLIP src dst n fin fout lo hi
    uint256 internal constant CLIP = 0x09;
    /// GELU src dst n fin fout
    uint256 internal constant GELU = 0x0a;
    /// GELU_TANH src dst n fin fout
    uint256 internal constant GELU_TANH = 0x0b;
    /// SILU src dst n fin fout
    uint256 internal constant SILU = 0x0c;
    /// ADD a b dst n fa fb fout
    uint256 internal constant ADD = 0x0d;
    /// LAYERNORM src dst n params fin fout eps
    uint256 internal constant LAYERNORM = 0x0e;
    /// IM2COL src dst channels image out kernel pad
    uint256 internal constant IM2COL = 0x0f;
    /// MATMUL patches weights output inputs outputs pixels shift
    uint256 internal constant MATMUL = 0x10;
    /// MAXPOOL src dst channels image out kernel pad
    uint256 internal constant MAXPOOL = 0x11;
    /// AVGPOOL src dst channels image out kernel pad
    uint256 internal constant AVGPOOL = 0x12;
    /// AVGPOOL_VALID src dst channels image out kernel pad
    uint256 internal constant AVGPOOL_VALID = 0x13;
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
/// A trivial contract for the in-process EVM harness's own tests (evm/inprocess.test.ts).
contract Probe { function f(int256 a) external pure returns (int256) { return a >> 1; } }

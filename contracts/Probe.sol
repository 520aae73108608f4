// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
contract Probe { function f(int256 a) external pure returns (int256) { return a >> 1; } }

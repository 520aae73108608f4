/** The Solidity rendering of the opcode table (contracts/vm/Opcodes.sol is generated from this, never edited). */
import { OPCODES } from "./opcodes.js";

export function opcodesSolidity(): string {
  const hex = (code: number) => `0x${code.toString(16).padStart(2, "0")}`;
  return [
    "// SPDX-License-Identifier: MIT",
    "// GENERATED from vm/opcodes.ts by scripts/gen-opcodes-sol.ts: do not edit (test/opcodes-sol.test.ts checks it).",
    "pragma solidity 0.8.28;",
    "",
    "/// @title The opcode table's codes, as declared once in vm/opcodes.ts.",
    "library Opcodes {",
    ...OPCODES.map((o) => `    /// ${o.name}${o.operands.length ? ` ${o.operands.join(" ")}` : ""}\n    uint256 internal constant ${o.name} = ${hex(o.code)};`),
    "}",
    "",
  ].join("\n");
}

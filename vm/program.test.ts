import { describe, expect, it } from "vitest";
import { insn, program } from "../test/helpers/bytecode.js";
import { BytecodeError } from "./errors.js";
import { TAG, hashNode, taggedHash, toHex } from "./hash.js";
import { dataBase } from "./memory.js";
import { BYTECODE_VERSION, HEADER_BYTES, INSN_BYTES, decodeProgram, encodeInstruction, encodeProgram, hashInstruction, programRoot } from "./program.js";

const DEPTH = 6;
const BASE = dataBase(DEPTH);
const sample = () =>
  program(DEPTH, 8, 32, 3, [insn("DENSE", BASE, 0, 64, BASE + 32, 8, 2, 16), insn("SIGMOID", BASE + 32, BASE + 32, 2, 16, 16), insn("ARGMAX", BASE + 32, 2, BASE + 34)], true, { inputFrac: 12, outputFrac: 20 });

describe("bytecode", () => {
  it("round-trips a program through encode and decode", () => {
    const bytes = encodeProgram(sample());
    expect(bytes.length).toBe(HEADER_BYTES + 4 * INSN_BYTES);
    expect(decodeProgram(bytes)).toEqual(sample());
  });

  it("encodes an instruction as opcode, 3 zero bytes and big-endian u32 operands", () => {
    const bytes = encodeInstruction(insn("ARGMAX", 0x01020304, 5, 6));
    expect(toHex(bytes)).toBe("0x05000000" + "01020304" + "00000005" + "00000006" + "00".repeat(16));
    expect(toHex(encodeInstruction(insn("HALT")))).toBe("0x" + "00".repeat(32));
  });

  const corrupt = (edit: (b: Uint8Array) => Uint8Array) => () => decodeProgram(edit(encodeProgram(sample()).slice()));
  it.each([
    ["a truncated header", (b: Uint8Array) => b.subarray(0, 20), /shorter than its 32-byte header/],
    ["a truncated instruction", (b: Uint8Array) => b.subarray(0, b.length - 1), /declares 4 instructions/],
    ["trailing bytes", (b: Uint8Array) => Uint8Array.from([...b, 0]), /declares 4 instructions/],
    ["a bad magic", (b: Uint8Array) => ((b[0] = 0x58), b), /magic/],
    ["an unknown version", (b: Uint8Array) => ((b[5] = BYTECODE_VERSION + 1), b), /version 3 is not supported/],
    ["a non-zero reserved header byte", (b: Uint8Array) => ((b[31] = 1), b), /header byte 31 is reserved/],
    ["an output format past 24", (b: Uint8Array) => ((b[25] = 25), b), /output format 25/],
    ["an unknown opcode", (b: Uint8Array) => ((b[HEADER_BYTES + INSN_BYTES] = 0x42), b), /instruction 1: unknown opcode 0x42/],
    ["non-zero reserved bytes", (b: Uint8Array) => ((b[HEADER_BYTES + 2] = 1), b), /reserved bytes/],
    ["a non-zero unused operand", (b: Uint8Array) => ((b[HEADER_BYTES + INSN_BYTES + 31] = 1), b), /unused operand 6/],
    ["a format operand past 24", (b: Uint8Array) => ((b[HEADER_BYTES + INSN_BYTES + 4 + 4 * 4 + 3] = 30), b), /fout = 30/],
    ["unknown header flags", (b: Uint8Array) => ((b[7] = 0x80), b), /unknown header flags/],
  ])("rejects %s with a BytecodeError", (_, edit, message) => {
    expect(corrupt(edit)).toThrow(BytecodeError);
    expect(corrupt(edit)).toThrow(message);
  });
});

describe("program root", () => {
  it("is the Merkle root of tagged instruction leaves, padded with HALT", () => {
    const p = sample(); // 4 instructions: a full depth-2 tree
    const leaves = p.instructions.map((i) => taggedHash(TAG.insn, encodeInstruction(i)));
    expect(toHex(programRoot(p))).toBe(toHex(hashNode(hashNode(leaves[0], leaves[1]), hashNode(leaves[2], leaves[3]))));
    const three = { ...p, instructions: [p.instructions[0], p.instructions[1], insn("HALT")] };
    const halt = hashInstruction(insn("HALT"));
    const l = three.instructions.map(hashInstruction);
    expect(toHex(programRoot(three))).toBe(toHex(hashNode(hashNode(l[0], l[1]), hashNode(l[2], halt))));
  });

  it("changes when any operand changes", () => {
    const base = toHex(programRoot(sample()));
    const edited = sample();
    (edited.instructions[1].args as number[])[1] = 1;
    expect(toHex(programRoot(edited))).not.toBe(base);
  });
});

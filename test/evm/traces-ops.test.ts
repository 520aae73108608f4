/**
 * Whole traces of programs using every elementwise op and ADD (test/evm/traces-ops.ts), every step replayed in the
 * EVM and in vm/onestep.ts: both must return the post-state hash of the run, at every step.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Deployed } from "../../evm/inprocess.js";
import { opcodeInfo } from "../../vm/opcodes.js";
import { Opcode, UNARY_OPCODES, opsProgram, replayOpsProgram } from "./traces-ops.js";
import { deployVerifier } from "./verifier.js";

let verifier: Deployed;
beforeAll(async () => {
  verifier = await deployVerifier();
});

describe("whole traces of programs with the elementwise ops and ADD, TS witness → EVM == TS == the run", () => {
  it.each(UNARY_OPCODES.map((op) => [opcodeInfo(op)!.name, op] as const))("%s (src ≠ dst, in place), ADD ×3, LAYERNORM, DENSE ×2, ARGMAX", async (_, op) => {
    const { steps, opcodes } = await replayOpsProgram(verifier, opsProgram(op, 1000 + op));
    expect([...opcodes].sort((a, b) => a - b)).toEqual([Opcode.HALT, Opcode.DENSE, op, Opcode.ARGMAX, Opcode.ADD, Opcode.LAYERNORM].sort((a, b) => a - b));
    // DENSE 13 rows × 1 chunk, 2 + 2 unary leaves, 3 × 2 ADD leaves, LAYERNORM 3 passes × 2 leaves, DENSE 10 rows,
    // ARGMAX 2 leaves, HALT, 2 halted
    expect(steps).toBe(13 + 4 + 6 + 6 + 10 + 2 + 1 + 2);
  }, 60_000);
});

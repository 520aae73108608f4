/**
 * Whole traces of small CNN programs (test/evm/traces-ops-cnn.ts): IM2COL + MATMUL (one pair per group) + RELU +
 * a pooling + DENSE + ARGMAX, every step replayed in the EVM and in vm/onestep.ts: both must return the post-state
 * hash of the run, at every step.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Deployed } from "../../evm/inprocess.js";
import { Opcode, opcodeInfo } from "../../vm/opcodes.js";
import { CNN_SHAPES, cnnProgram } from "./traces-ops-cnn.js";
import { replayOpsProgram } from "./traces-ops.js";
import { deployVerifier } from "./verifier.js";

let verifier: Deployed;
beforeAll(async () => {
  verifier = await deployVerifier();
});

describe("whole traces of small CNN programs, TS witness → EVM == TS == the run", () => {
  it.each(CNN_SHAPES)("%s", async (_, shape, seed) => {
    const p = cnnProgram(shape, seed);
    const { steps, opcodes } = await replayOpsProgram(verifier, p);
    const names = [...opcodes].sort((a, b) => a - b).map((op) => opcodeInfo(op)!.name);
    expect(names).toEqual(["HALT", "DENSE", "RELU", "ARGMAX", "IM2COL", "MATMUL", opcodeInfo(shape.pool.op)!.name]);
    expect(p.program.instructions.filter((i) => i.opcode === Opcode.IM2COL)).toHaveLength(shape.groups);
    expect(steps).toBe(p.steps + 2); // every step of the run, then the halted state twice
  }, 120_000);
});

/** Whole traces of 120 random programs with the elementwise ops and ADD (test/evm/traces-ops.ts), every step in the EVM. */
import { describe, expect, it } from "vitest";
import { prng, randInt } from "../helpers/bytecode.js";
import { UNARY_OPCODES, opsProgram, replayOpsProgram } from "./traces-ops.js";
import { deployVerifier } from "./verifier.js";

describe("whole traces of random programs with the elementwise ops and ADD, TS witness → EVM == TS == the run", () => {
  it("120 programs: every unary op, sizes up to 64 inputs and 40 hidden words, random formats", async () => {
    const verifier = await deployVerifier();
    const rand = prng(12);
    let programs = 0;
    for (let k = 0; k < 120; k++) {
      const op = UNARY_OPCODES[k % UNARY_OPCODES.length];
      const { steps } = await replayOpsProgram(verifier, opsProgram(op, 5000 + k, randInt(rand, 1, 64), randInt(rand, 1, 40), randInt(rand, 1, 16)));
      expect(steps).toBeGreaterThan(8);
      programs++;
    }
    expect(programs).toBe(120);
  }, 1_800_000);
});

/** Whole traces of 40 random CNN programs (test/evm/traces-ops-cnn.ts), every step replayed in the EVM and in vm/onestep.ts. */
import { describe, expect, it } from "vitest";
import { Opcode } from "../../vm/opcodes.js";
import { prng } from "../helpers/bytecode.js";
import { cnnProgram, randomCnnShape } from "./traces-ops-cnn.js";
import { replayOpsProgram } from "./traces-ops.js";
import { deployVerifier } from "./verifier.js";

describe("whole traces of random CNN programs, TS witness → EVM == TS == the run", () => {
  it("40 programs: kernels 1–5, strides, padding, dilation, groups and depthwise, the three poolings", async () => {
    const verifier = await deployVerifier();
    const rand = prng(13);
    const pools = new Set<number>();
    let [grouped, steps] = [0, 0];
    for (let k = 0; k < 40; k++) {
      const shape = randomCnnShape(rand);
      const p = cnnProgram(shape, 9000 + k);
      const run = await replayOpsProgram(verifier, p);
      expect(run.steps).toBe(p.steps + 2);
      expect(run.opcodes.has(Opcode.IM2COL) && run.opcodes.has(Opcode.MATMUL) && run.opcodes.has(shape.pool.op)).toBe(true);
      pools.add(shape.pool.op);
      if (shape.groups > 1) grouped++;
      steps += run.steps;
    }
    expect([...pools].sort()).toEqual([Opcode.MAXPOOL, Opcode.AVGPOOL, Opcode.AVGPOOL_VALID]);
    expect(grouped).toBeGreaterThan(3);
    expect(steps).toBeGreaterThan(4000);
  }, 1_800_000);
});

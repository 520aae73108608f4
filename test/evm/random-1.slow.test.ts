import { describe, expect, it } from "vitest";
import { Opcode } from "../../vm/opcodes.js";
import { replayRandom } from "./random.js";

describe("randomized states and operands, TS witness → EVM post-state == TS post-state (part 1 of 3)", () => {
  it("DENSE: 10,000 random states", async () => {
    expect(await replayRandom(Opcode.DENSE, 10000, 100)).toBe(10000);
  }, 1_800_000);
  it("HALT: 10,000 random states", async () => {
    expect(await replayRandom(Opcode.HALT, 10000, 101)).toBe(10000);
  }, 1_800_000);
});

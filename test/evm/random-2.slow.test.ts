import { describe, expect, it } from "vitest";
import { Opcode } from "../../vm/opcodes.js";
import { replayRandom } from "./random.js";

describe("randomized states and operands, TS witness → EVM post-state == TS post-state (part 2 of 3)", () => {
  it("RELU: 10,000 random states", async () => {
    expect(await replayRandom(Opcode.RELU, 10000, 200)).toBe(10000);
  }, 1_800_000);
  it("SIGMOID: 10,000 random states", async () => {
    expect(await replayRandom(Opcode.SIGMOID, 10000, 201)).toBe(10000);
  }, 1_800_000);
  it("UNKNOWN: 2,000 random states", async () => {
    expect(await replayRandom("unknown", 2000, 202)).toBe(2000);
  }, 1_800_000);
});

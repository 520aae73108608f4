import { describe, expect, it } from "vitest";
import { Opcode } from "../../vm/opcodes.js";
import { replayRandom } from "./random.js";

describe("randomized states and operands, TS witness → EVM post-state == TS post-state (part 3 of 3)", () => {
  it("TANH: 10,000 random states", async () => {
    expect(await replayRandom(Opcode.TANH, 10000, 300)).toBe(10000);
  }, 1_800_000);
  it("ARGMAX: 10,000 random states", async () => {
    expect(await replayRandom(Opcode.ARGMAX, 10000, 301)).toBe(10000);
  }, 1_800_000);
  it("HALTED: 2,000 random states", async () => {
    expect(await replayRandom("halted", 2000, 302)).toBe(2000);
  }, 1_800_000);
});

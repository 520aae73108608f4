import { describe, expect, it } from "vitest";
import { replayTraces } from "./traces.js";

describe("every step of full MNIST traces, TS witness → EVM post-state == TS post-state (part 2 of 2)", () => {
  it("digits 8010–8019: 10 traces × 3,503 steps", async () => {
    const digits = Array.from({ length: 10 }, (_, k) => 8010 + k);
    expect(await replayTraces(digits)).toBe(10 * 3503);
  }, 1_800_000);
});

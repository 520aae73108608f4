import { describe, expect, it } from "vitest";
import { kindsOfPart, replayRandom } from "./random.js";

describe("randomized states and operands, TS witness → EVM post-state == TS post-state (part 1 of 3)", () => {
  it.each(kindsOfPart(0).map((p) => [p.name, p.count.toLocaleString("en-US"), p] as const))("%s: %s random states", async (_, __, { kind, count, seed }) => {
    expect(await replayRandom(kind, count, seed)).toBe(count);
  }, 1_800_000);
});

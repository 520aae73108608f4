import { describe, expect, it } from "vitest";
import { disputedSteps } from "./moves.js";

describe("disputedSteps", () => {
  it("names the steps under a node of the trace tree, clipped to the last step N", () => {
    // MNIST: N = 3503, 4096 leaves, depth 12.
    expect(disputedSteps(0, 0, 12, 3503)).toEqual([0, 3503]);
    expect(disputedSteps(1, 0, 12, 3503)).toEqual([0, 2047]);
    expect(disputedSteps(1, 1, 12, 3503)).toEqual([2048, 3503]);
    expect(disputedSteps(12, 1234, 12, 3503)).toEqual([1234, 1234]);
    // A node wholly in the padding (copies of sN) names sN.
    expect(disputedSteps(2, 3, 12, 3503)).toEqual([3072, 3503]);
    expect(disputedSteps(3, 7, 12, 3503)).toEqual([3503, 3503]); // leaves 3584…4095
  });
});

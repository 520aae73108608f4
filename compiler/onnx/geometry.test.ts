/**
 * The window output-size formulas against the sizes PyTorch 1.13 prints (F.max_pool2d on an n×n zeros image,
 * floor and ceil mode; 0 where PyTorch raises "output size is too small"), and auto_pad SAME's split.
 */
import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../graph.js";
import { expectThrow } from "../../test/helpers/expect.js";
import { outputSize, samePads, windowPads } from "./geometry.js";

describe("outputSize", () => {
  // [n, kernel, stride, pad, dilation, floor size, ceil size], as torch.nn.functional.max_pool2d computes them
  const TORCH: [number, number, number, number, number, number, number][] = [
    [7, 2, 2, 0, 1, 3, 4],
    [1, 2, 2, 0, 1, 0, 1], // ceil: a kernel wider than the image still has one window
    [5, 2, 2, 0, 1, 2, 3],
    [6, 3, 2, 1, 1, 3, 4],
    [7, 3, 2, 1, 1, 4, 4],
    [8, 3, 2, 1, 1, 4, 5],
    [10, 3, 3, 1, 1, 4, 4],
    [5, 3, 2, 1, 2, 2, 2],
    [4, 2, 3, 1, 1, 2, 2], // ceil gives 3, but the third window would start in the end padding: PyTorch drops it
    [9, 3, 2, 0, 1, 4, 4],
  ];
  for (const [n, k, s, p, d, floor, ceil] of TORCH) {
    it(`n=${n} k=${k} s=${s} p=${p} d=${d}: ${floor} (floor), ${ceil} (ceil) as PyTorch`, () => {
      expect(Math.max(0, outputSize(n, k, s, d, p, p, false))).toBe(floor);
      expect(outputSize(n, k, s, d, p, p, true)).toBe(ceil);
    });
  }

  it("uses both pads: asymmetric [1, 2] on 6 with k=3 s=1 gives 7", () => {
    expect(outputSize(6, 3, 1, 1, 1, 2, false)).toBe(7);
  });
});

describe("samePads and windowPads", () => {
  it("SAME keeps ⌈n/s⌉ outputs, the odd padding cell at the end (UPPER) or the beginning (LOWER)", () => {
    expect(samePads(7, 3, 2, 1, "SAME_UPPER")).toEqual([1, 1]); // 4 outputs: (4−1)·2 + 3 − 7 = 2
    expect(samePads(8, 3, 2, 1, "SAME_UPPER")).toEqual([0, 1]); // (4−1)·2 + 3 − 8 = 1
    expect(samePads(8, 3, 2, 1, "SAME_LOWER")).toEqual([1, 0]);
    expect(samePads(4, 4, 1, 1, "SAME_UPPER")).toEqual([1, 2]);
    expect(samePads(4, 4, 1, 1, "SAME_LOWER")).toEqual([2, 1]);
    expect(samePads(5, 3, 1, 2, "SAME_UPPER")).toEqual([2, 2]); // dilation 2: span 5
    expect(samePads(5, 1, 2, 1, "SAME_UPPER")).toEqual([0, 0]);
    for (const [n, k, s, d] of [[7, 3, 2, 1], [8, 5, 3, 1], [9, 3, 1, 2], [6, 2, 4, 1]]) {
      const [b, e] = samePads(n, k, s, d, "SAME_UPPER");
      expect(outputSize(n, k, s, d, b, e, false)).toBe(Math.ceil(n / s));
    }
  });

  it("reads pads as [top, left, bottom, right], VALID as none, SAME per axis", () => {
    const w = (auto: string, pads?: number[]) => windowPads(auto, pads, [8, 7], [3, 3], [2, 2], [1, 1], 'Conv node "c"');
    expect(w("NOTSET", [1, 2, 3, 4])).toEqual([1, 2, 3, 4]);
    expect(w("NOTSET")).toEqual([0, 0, 0, 0]);
    expect(w("VALID", [1, 1, 1, 1])).toEqual([0, 0, 0, 0]);
    expect(w("SAME_UPPER")).toEqual([0, 1, 1, 1]);
    expect(w("SAME_LOWER")).toEqual([1, 1, 0, 1]);
  });

  it("refuses an unknown auto_pad and malformed pads, naming the node", () => {
    expectThrow(() => windowPads("SAME", undefined, [8, 8], [3, 3], [1, 1], [1, 1], 'Conv node "c"'), ModelFormatError, /Conv node "c": auto_pad "SAME"/);
    expectThrow(() => windowPads("NOTSET", [1, 1], [8, 8], [3, 3], [1, 1], [1, 1], 'Conv node "c"'), ModelFormatError, /pads \[1, 1\] must be 4/);
    expectThrow(() => windowPads("NOTSET", [1, -1, 1, 1], [8, 8], [3, 3], [1, 1], [1, 1], 'Conv node "c"'), ModelFormatError, /non-negative/);
  });
});

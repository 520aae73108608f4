import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { IdxFormatError, parseIdx } from "./idx.js";

const idx = (dims: number[], data: number[]) => {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return new Uint8Array(Buffer.concat([header, Buffer.from(data)]));
};

describe("IDX files", () => {
  it("parses plain and gzipped files", () => {
    const raw = idx([2, 3], [1, 2, 3, 4, 5, 6]);
    for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
      const parsed = parseIdx(bytes, "x");
      expect(parsed.dims).toEqual([2, 3]);
      expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it.each([
    ["a bad magic", new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), /bad magic/],
    ["a float element type", Object.assign(idx([1], [0]), { 2: 0x0d }), /element type 0xd/],
    ["a truncated header", idx([2, 3], []).subarray(0, 9), /header is truncated/],
    ["missing data", idx([2, 3], [1, 2]), /data is 2 bytes, its header says 6/],
    ["corrupt gzip", new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), /corrupt gzip/],
  ])("rejects %s", (_, bytes, message) => {
    expect(() => parseIdx(bytes, "f")).toThrow(IdxFormatError);
    expect(() => parseIdx(bytes, "f")).toThrow(message);
  });
});

import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { toHex } from "../vm/hash.js";
import { BytecodeError } from "../vm/errors.js";
import { loadModel } from "./compile.js";
import { ModelFileError, decodeModelFile, encodeModelFile } from "./modelfile.js";

const model = loadModel(fileURLToPath(new URL("../fixtures/models/tiny.json", import.meta.url)));

/** Rewrites the checksum after an edit, to get past it to the deeper checks. */
function resum(file: Uint8Array): Uint8Array {
  file.set(keccak_256(file.subarray(40)), 8);
  return file;
}

describe(".mlvm model files", () => {
  it("round-trip program, image, metadata and commitment", () => {
    const decoded = decodeModelFile(encodeModelFile(model));
    expect(decoded.program).toEqual(model.program);
    expect(Array.from(decoded.image)).toEqual(Array.from(model.image));
    expect(decoded.meta).toEqual(model.meta);
    expect(toHex(decoded.commitment.hash)).toBe(model.meta.commitment);
  });

  const file = () => encodeModelFile(model).slice();
  it.each([
    ["an empty file", () => new Uint8Array(0), /too short/],
    ["another kind of file", () => new TextEncoder().encode("PK\u0003\u0004 this is a zip file, not a model....."), /not an .mlvm model file/],
    ["a newer version", () => Object.assign(file(), { 5: 9 }), /version 9 is not supported/],
    ["a flipped bit in the weights", () => { const f = file(); f[f.length - 3] ^= 1; return f; }, /corrupted: its checksum/],
    ["a truncated file", () => file().subarray(0, 200), /corrupted: its checksum/],
    ["a truncated file with a matching checksum", () => resum(file().slice(0, 120)), /truncated/],
    ["weights edited with the checksum recomputed", () => { const f = file(); f[f.length - 3] ^= 1; return resum(f); }, /commitment .* does not match/],
  ])("rejects %s with a ModelFileError", (_, make, message) => {
    expect(() => decodeModelFile(make())).toThrow(ModelFileError);
    expect(() => decodeModelFile(make())).toThrow(message);
  });

  it("rejects invalid bytecode inside a well-formed file", () => {
    const f = file();
    const bytecodeStart = Buffer.from(f).indexOf("MLBC");
    expect(bytecodeStart).toBeGreaterThan(40);
    f[bytecodeStart + 5] = 7; // bytecode version
    expect(() => decodeModelFile(resum(f))).toThrow(BytecodeError);
  });
});

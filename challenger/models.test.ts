/**
 * ModelShelf.fromDir: a --models directory with bad files in it still serves its good models, and names each
 * file it skipped with the loader's reason; only a directory with no usable model at all is an error.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadModel } from "../compiler/compile.js";
import { fixturePath } from "../test/helpers/models.js";
import { ModelShelf, ModelsDirError, type SkippedModel } from "./models.js";

/** A directory holding the tiny JSON model and four bad model files, and a note and a sub-directory it ignores. */
function mixedDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mlvm-models-"));
  copyFileSync(fixturePath("models/tiny.json"), join(dir, "tiny.json"));
  writeFileSync(join(dir, "broken.json"), "{ not json");
  writeFileSync(join(dir, "truncated.mlvm"), new Uint8Array([0x4d, 0x4c, 0x56]));
  writeFileSync(join(dir, "garbage.onnx"), "this is not a protobuf");
  mkdirSync(join(dir, "folder.onnx"));
  writeFileSync(join(dir, "README.txt"), "not a model");
  return dir;
}

describe("ModelShelf.fromDir", () => {
  it("loads the good model and skips each bad file, naming it and why, through the callback and the list", () => {
    const dir = mixedDir();
    const told: SkippedModel[] = [];
    const shelf = ModelShelf.fromDir(dir, (s) => told.push(s));
    expect(shelf.size).toBe(1);
    const tiny = loadModel(fixturePath("models/tiny.json"));
    expect(shelf.get(tiny.meta.commitment)?.source).toBe(join(dir, "tiny.json"));
    expect(told.map((s) => s.file)).toEqual(["broken.json", "folder.onnx", "garbage.onnx", "truncated.mlvm"].map((n) => join(dir, n)));
    expect(shelf.skipped).toEqual(told);
    for (const s of told) {
      expect(s.reason.length).toBeGreaterThan(0);
      expect(s.reason).not.toContain(s.file); // the path is given once, as `file`
    }
    expect(told[0].reason).toMatch(/JSON/);
    expect(told[1].reason).toBe("not a regular file");
  });

  it("with no usable model, a ModelsDirError names every skipped file", () => {
    const dir = mixedDir();
    const tinyDir = mkdtempSync(join(tmpdir(), "mlvm-models-bad-"));
    for (const name of ["broken.json", "garbage.onnx"]) copyFileSync(join(dir, name), join(tinyDir, name));
    let error: unknown;
    try {
      ModelShelf.fromDir(tinyDir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelsDirError);
    const message = (error as Error).message;
    expect(message).toContain(`--models ${tinyDir} holds no usable`);
    expect(message).toContain(join(tinyDir, "broken.json"));
    expect(message).toContain(join(tinyDir, "garbage.onnx"));
    expect(message.split("\n")).toHaveLength(1);
  });

  it("an empty directory and a missing one are ModelsDirErrors", () => {
    const empty = mkdtempSync(join(tmpdir(), "mlvm-models-empty-"));
    expect(() => ModelShelf.fromDir(empty)).toThrow(new ModelsDirError(`--models ${empty} holds no usable .mlvm, .onnx or .json model`));
    expect(() => ModelShelf.fromDir(join(empty, "nope"))).toThrow(/cannot read \(ENOENT\)/);
  });
});

/**
 * The one input reader every command uses (cli/inputs.ts): flat vectors, images nested as [C][H][W], [1][C][H][W]
 * or [H][W], batches, {"inputs": [...]}, IDX files of images (gzipped or not), ranges; and the refusals, each one
 * line naming the file, the input and the shape.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../datasets/mnist.js";
import { main } from "./main.js";
import { isIdxPath, readInputs } from "./inputs.js";

const tmp = mkdtempSync(join(tmpdir(), "mlvm-inputs-"));
const write = (name: string, value: unknown) => {
  const path = join(tmp, name);
  writeFileSync(path, value instanceof Uint8Array ? value : JSON.stringify(value));
  return path;
};
const root = fileURLToPath(new URL("..", import.meta.url));
const RGB = { channels: 3, height: 2, width: 2 };
const values = Array.from({ length: 12 }, (_, k) => k / 10);
/** values as a [3][2][2] image, channel-major. */
const image = [0, 1, 2].map((c) => [0, 1].map((h) => values.slice(c * 4 + h * 2, c * 4 + h * 2 + 2)));

/** An IDX file of unsigned bytes with the given dims. */
function idx(dims: number[], data: number[]): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  return Uint8Array.from([...header, ...data]);
}

describe("readInputs", () => {
  it("reads an image as [C][H][W], [1][C][H][W] or flat, and a batch [N][C][H][W], all in channel-major order", () => {
    expect(readInputs(write("chw.json", image), "--input", 12, RGB)).toEqual([values]);
    expect(readInputs(write("nchw1.json", [image]), "--input", 12, RGB)).toEqual([values]);
    expect(readInputs(write("flat.json", values), "--input", 12, RGB)).toEqual([values]);
    expect(readInputs(write("batch.json", { inputs: [image, image, values] }), "--input", 12, RGB)).toEqual([values, values, values]);
    const gray = [[0.5, 0.25], [1, 0]];
    expect(readInputs(write("hw.json", gray), "--input", 4, { channels: 1, height: 2, width: 2 })).toEqual([[0.5, 0.25, 1, 0]]);
  });

  it("refuses a nested image of another shape (HWC, transposed) instead of reading it scrambled", () => {
    const hwc = [0, 1].map((h) => [0, 1].map((w) => [0, 1, 2].map((c) => values[c * 4 + h * 2 + w])));
    expect(() => readInputs(write("hwc.json", hwc), "--input", 12, RGB)).toThrow(
      /hwc\.json: input 0 has shape \[2, 2, 3\]; the model reads images \[3, 2, 2\] \(channels, height, width\), given as \[C\]\[H\]\[W\], \[1\]\[C\]\[H\]\[W\] or flat$/,
    );
    expect(() => readInputs(write("short.json", [values.slice(1)]), "--input", 12, RGB)).toThrow(/input 0 has 11 values, the model takes 12/);
  });

  it("reads an IDX file of images, gzipped or not, pixels scaled to [0, 1], and keeps a range", () => {
    const data = [0, 255, 51, 102, 10, 20, 30, 40];
    const plain = write("two-images-idx3-ubyte", idx([2, 2, 2], data));
    const gz = write("two-images-idx3-ubyte.gz", gzipSync(idx([2, 2, 2], data)));
    const expected = [[0, 1, 0.2, 0.4], [10 / 255, 20 / 255, 30 / 255, 40 / 255]];
    const gray = { channels: 1, height: 2, width: 2 };
    expect(readInputs(plain, "--input", 4, gray)).toEqual(expected);
    expect(readInputs(gz, "--input", 4, gray)).toEqual(expected);
    expect(readInputs(gz, "--input", 4, gray, [1, 2])).toEqual([expected[1]]);
    expect(() => readInputs(gz, "--input", 4, gray, [1, 3])).toThrow(/has 2 inputs: range 1:3 is not inside \[0, 2\]/);
    expect(() => readInputs(plain, "--input", 12, RGB)).toThrow(/holds 2 images of shape \[2, 2\], the model reads \[3, 2, 2\]/);
    expect(isIdxPath("x.json")).toBe(false);
    expect(isIdxPath("t10k-images-idx3-ubyte.gz")).toBe(true);
  });

  it("reads MNIST's own test file as the bundled models see it", () => {
    const path = join(root, "fixtures/mnist/t10k-images-idx3-ubyte.gz");
    const mnist = loadMnist(join(root, "fixtures/mnist"));
    const read = readInputs(path, "--input", 784, { channels: 1, height: 28, width: 28 }, [8000, 8003]);
    expect(read).toEqual([8000, 8001, 8002].map((k) => Array.from(mnist.image(k))));
  });
});

describe("mlvm run on images", () => {
  it("runs LeNet-5 on MNIST's IDX file directly (--range), and on a digit nested as [1][28][28]", async () => {
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out, err };
    };
    const model = join(root, "fixtures/models/lenet5.onnx");
    const idxRun = await run("run", model, "--input", join(root, "fixtures/mnist/t10k-images-idx3-ubyte.gz"), "--range", "0:3", "--json");
    expect(idxRun.err).toEqual([]);
    expect(JSON.parse(idxRun.out.join("")).predictions).toEqual([7, 2, 1]); // the labels of t10k 0, 1, 2
    const digit = Array.from(loadMnist(join(root, "fixtures/mnist")).image(1));
    const nested = [Array.from({ length: 28 }, (_, h) => digit.slice(h * 28, h * 28 + 28))]; // [1][28][28]
    const nestedRun = await run("run", model, "--input", write("digit.json", nested), "--json");
    expect(JSON.parse(nestedRun.out.join("")).predictions).toEqual([2]);
    const wrong = await run("run", model, "--input", write("wrong.json", [Array.from({ length: 28 }, (_, h) => digit.slice(h * 28, h * 28 + 28)).flat().map((v) => [v])]));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toHaveLength(1);
    expect(wrong.err[0]).toMatch(/input 0 has shape \[784, 1\]; the model reads images \[1, 28, 28\]/);
  }, 60_000);
});

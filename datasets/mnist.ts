/**
 * MNIST from its standard IDX files: images as 784 pixels scaled to [0, 1] (pixel / 255), the scaling the
 * bundled model was trained with, and labels 0–9.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MlvmError } from "../vm/errors.js";
import { readIdx } from "./idx.js";

export const MNIST_PIXELS = 28 * 28;

/** A directory without the MNIST files, or files that disagree with each other. */
export class MnistError extends MlvmError {}

export interface MnistSet {
  count: number;
  /** Image k's pixels, scaled to [0, 1]. */
  image(k: number): Float64Array;
  label(k: number): number;
}

/** The files of a split: t10k (the test set, bundled in fixtures/mnist) or train, gzipped or not. */
function findFile(dir: string, split: string, kind: "images-idx3" | "labels-idx1"): string {
  for (const name of [`${split}-${kind}-ubyte.gz`, `${split}-${kind}-ubyte`, `${split}-${kind.replace("-", ".")}-ubyte`]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new MnistError(`${dir}: no ${split}-${kind}-ubyte[.gz] file (expected the standard MNIST file names)`);
}

export function loadMnist(dir: string, split: "t10k" | "train" = "t10k"): MnistSet {
  const images = readIdx(findFile(dir, split, "images-idx3"));
  const labels = readIdx(findFile(dir, split, "labels-idx1"));
  if (images.dims.length !== 3 || images.dims[1] * images.dims[2] !== MNIST_PIXELS) {
    throw new MnistError(`${dir}: images have shape [${images.dims}], expected [n, 28, 28]`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new MnistError(`${dir}: ${labels.dims[0]} labels for ${images.dims[0]} images`);
  }
  return {
    count: images.dims[0],
    image(k) {
      const pixels = new Float64Array(MNIST_PIXELS);
      for (let p = 0; p < MNIST_PIXELS; p++) pixels[p] = images.data[k * MNIST_PIXELS + p] / 255;
      return pixels;
    },
    label: (k) => labels.data[k],
  };
}

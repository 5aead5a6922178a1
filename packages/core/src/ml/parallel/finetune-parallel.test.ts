// Fine-tuning on the data-parallel replicas: image LoRA, image full fine-tuning with a freeze
// pattern and text LoRA (adapter dropout on) on 2 threads follow the 1-thread loss curves (the
// base's pre-training included), frozen weights stay bit-identical to the base, and a stopped
// 2-thread fine-tune resumes to the same weights as an uninterrupted one.
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import type { FinetuneSpecInput } from "../../schemas/finetune-spec";
import { selectBackend } from "../backend";
import { loadLatestCheckpoint } from "../checkpoint";
import { runFinetuneJob } from "../finetune/finetune-job";
import { type FakeCtx, fakeCtx, maxAbsDiff } from "../test-helpers";

// light-cnn: its dropout (classifier.2) is active while fine-tuning, so the replicas' masks matter
const imageSpec = (o: Partial<FinetuneSpecInput> = {}): FinetuneSpecInput => ({
  kind: "finetune",
  task: "image",
  base: { pretrain: { model: "light-cnn", dataset: "synthetic", epochs: 1, batchSize: 32, maxTrainSamples: 64 } },
  method: "lora",
  lora: { r: 4, alpha: 16, targets: ["classifier.0", "classifier.3"] },
  dataset: "synthetic",
  epochs: 2,
  batchSize: 32,
  lr: 0.01,
  // 100 samples: the last micro-batch of an epoch has 4 rows, 2 per replica
  maxTrainSamples: 100,
  maxTestSamples: 32,
  logEvery: 1,
  saveEvery: 2,
  seed: 3,
  ...o,
});

const series = (c: FakeCtx, key: string) => c.logs.filter((l) => key in l.metrics).map((l) => l.metrics[key]!);
const baseWeights = (c: FakeCtx) => loadLatestCheckpoint(join(c.checkpointDir, "base"))!.weights;
const finalWeights = (c: FakeCtx) => loadLatestCheckpoint(c.checkpointDir)!.weights;

/** max relative difference of two loss curves of equal length */
function curveGap(a: number[], b: number[]): number {
  expect(a.length).toBeGreaterThan(0);
  expect(b).toHaveLength(a.length);
  return Math.max(...a.map((v, i) => Math.abs(b[i]! - v) / Math.abs(v)));
}

// the text model of finetune-training.test.ts; batches of 16 keep 8 sequences per replica
const textSpec = (o: Partial<FinetuneSpecInput> = {}): FinetuneSpecInput => ({
  kind: "finetune",
  task: "text",
  base: { pretrain: { steps: 3, batchSize: 16, model: { dModel: 16, layers: 2, heads: 2, context: 80 } } },
  method: "lora",
  lora: { r: 4, alpha: 16, dropout: 0.1, targets: ["q_proj", "v_proj", "up_proj", "down_proj"] },
  data: { builtin: "almanac" },
  maxLength: 80,
  samples: 0,
  // 40 pairs: micro-batches of 16, 16 and 8 sequences
  maxTrainSamples: 40,
  epochs: 2,
  batchSize: 16,
  lr: 0.01,
  logEvery: 1,
  saveEvery: 2,
  seed: 5,
  ...o,
});

/** runs `s` on 1 and on 2 threads and checks the 2-thread logs and loss curves */
async function oneVsTwo(s: FinetuneSpecInput, steps: number): Promise<{ one: FakeCtx; two: FakeCtx }> {
  const one = fakeCtx();
  const two = fakeCtx();
  await runFinetuneJob({ ...s, threads: 1 }, one);
  const r = await runFinetuneJob({ ...s, threads: 2 }, two);
  const log = two.infos.join("\n");
  expect(log).toMatch(/base: threads: 2 \(2 asked\)/);
  expect(log).toMatch(/^threads: 2 \(2 asked\)$/m);
  expect(r.summary.threads).toBe(2);
  expect(series(two, "train/loss")).toHaveLength(steps);
  // measured here (float summation order only): pre-training ≤ 1.1e-7 (image), 4.3e-7 (text);
  // fine-tuning ≤ 3.2e-7 (image LoRA), 9e-8 (image full), 2.2e-7 (text LoRA)
  expect(curveGap(series(one, "pretrain/loss"), series(two, "pretrain/loss"))).toBeLessThan(1e-5);
  expect(curveGap(series(one, "train/loss"), series(two, "train/loss"))).toBeLessThan(1e-5);
  return { one, two };
}

beforeAll(async () => {
  await selectBackend({ force: "wasm" });
});

describe("fine-tuning on 2 threads", () => {
  let lora: FakeCtx | undefined;

  it("image LoRA follows the 1-thread loss curve and leaves the base weights untouched", async () => {
    const { two } = await oneVsTwo(imageSpec(), 8);
    lora = two;
    const base = baseWeights(two);
    const merged = finalWeights(two);
    for (const [name, w] of Object.entries(base)) {
      const adapted = name === "classifier.0.weight" || name === "classifier.3.weight";
      // the adapted weights end as W + scale·A·B (merged for export); every other one is the base's, bit for bit
      if (adapted) expect(maxAbsDiff(merged[name]!, w), name).toBeGreaterThan(0);
      else expect(maxAbsDiff(merged[name]!, w), name).toBe(0);
    }
  });

  it("an image full fine-tune with a freeze pattern follows 1 thread; the frozen layers stay bit-identical", async () => {
    // gradient accumulation 2 over micro-batches of 32, 32 | 32, 4: 2 steps per epoch
    const { two } = await oneVsTwo(imageSpec({ method: "full", lora: undefined, freeze: ["features.**"], gradAccumulation: 2 }), 4);
    const base = baseWeights(two);
    const end = finalWeights(two);
    for (const [name, w] of Object.entries(base)) {
      if (name.startsWith("features.")) expect(maxAbsDiff(end[name]!, w), name).toBe(0);
      else expect(maxAbsDiff(end[name]!, w), name).toBeGreaterThan(0);
    }
  });

  it("a stopped 2-thread image LoRA fine-tune resumes to the same weights as an uninterrupted one", async () => {
    expect(lora, "needs the uninterrupted run of the first test").toBeDefined();
    const ref = finalWeights(lora!);
    const dir = fakeCtx().checkpointDir;
    const first = fakeCtx({ dir, onLog: (step, m, c) => step === 3 && "train/loss" in m && c.abort.abort() });
    expect((await runFinetuneJob({ ...imageSpec(), threads: 2 }, first)).summary.stopped).toBe("aborted");
    const second = fakeCtx({ dir });
    await runFinetuneJob({ ...imageSpec(), threads: 2 }, second);
    expect(second.infos.join("\n")).toMatch(/resumed from checkpoint at step 3/);
    expect(second.infos.join("\n")).not.toMatch(/resuming on/);
    const resumed = finalWeights(second);
    expect(Object.keys(resumed).sort()).toEqual(Object.keys(ref).sort());
    for (const [name, w] of Object.entries(ref)) expect(maxAbsDiff(resumed[name]!, w), name).toBe(0);
  });

  it("text LoRA with adapter dropout follows the 1-thread loss curve; a stopped 2-thread run resumes bit-identical", async () => {
    const { two } = await oneVsTwo(textSpec(), 6);
    const base = baseWeights(two);
    const merged = finalWeights(two);
    for (const [name, w] of Object.entries(base)) {
      const adapted = /\.(q_proj|v_proj|up_proj|down_proj)\.weight$/.test(name);
      if (adapted) expect(maxAbsDiff(merged[name]!, w), name).toBeGreaterThan(0);
      else expect(maxAbsDiff(merged[name]!, w), name).toBe(0);
    }
    const dir = fakeCtx().checkpointDir;
    const first = fakeCtx({ dir, onLog: (step, m, c) => step === 3 && "train/loss" in m && c.abort.abort() });
    expect((await runFinetuneJob({ ...textSpec(), threads: 2 }, first)).summary.stopped).toBe("aborted");
    const second = fakeCtx({ dir });
    await runFinetuneJob({ ...textSpec(), threads: 2 }, second);
    expect(second.infos.join("\n")).toMatch(/resumed from checkpoint at step 3/);
    const resumed = finalWeights(second);
    expect(Object.keys(resumed).sort()).toEqual(Object.keys(merged).sort());
    for (const [name, w] of Object.entries(merged)) expect(maxAbsDiff(resumed[name]!, w), name).toBe(0);
  });
});

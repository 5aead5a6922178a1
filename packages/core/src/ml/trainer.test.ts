import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { type TrainSpecInput, TrainSpecSchema } from "../schemas/train-spec";
import { listCheckpoints, loadLatestCheckpoint, readCheckpoint, saveCheckpoint } from "./checkpoint";
import { learningRate } from "./schedule";
import { fakeCtx, maxAbsDiff } from "./test-helpers";
import { runTrainJob } from "./trainer";

const base: TrainSpecInput = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 2, batchSize: 32, lr: 0.01, seed: 5, logEvery: 2 };

describe("train spec", () => {
  it("keeps old specs valid, fills defaults, and explains bad fields", () => {
    const s = TrainSpecSchema.parse({ kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 1, batchSize: 64, lr: 0.001 });
    expect(s).toMatchObject({ optimizer: "adam", schedule: "constant", gradAccumulation: 1, logEvery: 10, warmupSteps: 0 });
    expect(TrainSpecSchema.parse({ ...base, batchSize: "auto" }).batchSize).toBe("auto");
    const err = (x: object) => JSON.stringify(TrainSpecSchema.safeParse(x).error?.issues.map((i) => i.message));
    expect(err({ ...base, dataset: "cifar10" })).toContain("cifarPath is required for dataset cifar10");
    expect(err({ ...base, optimizer: "rmsprop" })).toContain("optimizer must be sgd or adam");
    expect(err({ ...base, batchSize: 0 })).toContain("batchSize must be ≥ 1");
    expect(err({ ...base, batchSize: "big" })).toContain('batchSize must be an integer in [1, 65536] or \\"auto\\"');
    expect(err({ ...base, model: "resnet" })).toContain("model must be one of");
    expect(err({ ...base, momentum: 0.9 })).toContain("momentum applies to optimizer sgd only");
    expect(err({ ...base, schedule: "step" })).toContain("schedule must be constant, linear or cosine");
  });
});

describe("learning-rate schedules", () => {
  const o = { lr: 1, warmupSteps: 10, totalSteps: 110 };
  it("warm up linearly, then hold / decay linearly / follow a cosine to 0", () => {
    expect(learningRate(0, { ...o, schedule: "constant" })).toBeCloseTo(0.1);
    expect(learningRate(9, { ...o, schedule: "cosine" })).toBeCloseTo(1);
    expect(learningRate(60, { ...o, schedule: "constant" })).toBe(1);
    expect(learningRate(60, { ...o, schedule: "linear" })).toBeCloseTo(0.5);
    expect(learningRate(60, { ...o, schedule: "cosine" })).toBeCloseTo(0.5);
    expect(learningRate(35, { ...o, schedule: "cosine" })).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)));
    expect(learningRate(110, { ...o, schedule: "linear" })).toBe(0);
  });
});

describe("runTrainJob", () => {
  it("learns, logs the contract metrics, reports progress and a summary", async () => {
    const ctx = fakeCtx();
    const res = await runTrainJob({ ...base, optimizer: "sgd", momentum: 0.9, schedule: "cosine", warmupSteps: 4, clipGradNorm: 5 }, ctx);
    const train = ctx.logs.filter((l) => "train/loss" in l.metrics);
    expect(train.length).toBe(16); // 512 samples / 32 = 16 steps per epoch, 2 epochs, every 2nd step
    expect(Object.keys(train[0]!.metrics).sort()).toEqual(["train/epoch", "train/grad_norm", "train/loss", "train/lr"]);
    expect(train[0]!.metrics["train/lr"]).toBeCloseTo(0.01 * (2 / 4));
    expect(train.at(-1)!.metrics["train/epoch"]).toBe(2);
    const tests = ctx.logs.filter((l) => "test/accuracy" in l.metrics);
    expect(tests.map((t) => t.step)).toEqual([16, 32]);
    expect(tests[1]!.metrics["test/accuracy"]).toBeGreaterThan(0.9);
    expect(train.at(-1)!.metrics["train/loss"]).toBeLessThan(train[0]!.metrics["train/loss"]! / 2);
    expect(ctx.progresses.at(-1)).toMatchObject({ epoch: 2, epochs: 2, step: 32, totalSteps: 32 });
    expect(res.summary).toMatchObject({ backend: "wasm", param_count: 101_770 });
    expect(res.summary.test_accuracy).toBe(tests[1]!.metrics["test/accuracy"]);
    expect(ctx.summary.samples_per_s).toBeGreaterThan(0);
    expect(listCheckpoints(ctx.checkpointDir).length).toBe(2);
  });

  it("resumes from the latest checkpoint to the same weights as an uninterrupted run", async () => {
    const spec: TrainSpecInput = {
      ...base,
      model: "light-cnn",
      epochs: 2,
      batchSize: 16,
      maxTrainSamples: 96,
      maxTestSamples: 32,
      checkpointEvery: 4,
      logEvery: 1,
    };
    const synthetic = { ...spec };
    const full = fakeCtx();
    await runTrainJob(synthetic, full);
    const ref = loadLatestCheckpoint(full.checkpointDir)!;
    expect(ref.step).toBe(12);

    // interrupted at step 5 (mid-epoch, after the step-4 checkpoint) by a cancel
    const dir = fakeCtx().checkpointDir;
    const first = fakeCtx({ dir, onLog: (step, _m, c) => step === 5 && c.abort.abort() });
    const r1 = await runTrainJob(synthetic, first);
    expect(r1.summary.stopped).toBe("aborted");
    expect(loadLatestCheckpoint(dir)!.step).toBe(5);
    const second = fakeCtx({ dir });
    await runTrainJob(synthetic, second);
    expect(second.infos.join("\n")).toMatch(/resumed from checkpoint at step 5/);
    expect(second.logs[0]!.step).toBe(6);
    const resumed = loadLatestCheckpoint(dir)!;
    expect(resumed.step).toBe(12);
    for (const [name, w] of Object.entries(ref.weights)) expect(maxAbsDiff(resumed.weights[name]!, w)).toBe(0);
    for (const [name, s] of Object.entries(ref.optimizer.slots)) expect(maxAbsDiff(resumed.optimizer.slots[name]!, s)).toBe(0);
    // and the logged losses after the resume match the uninterrupted run's
    const loss = (c: typeof full, step: number) => c.logs.find((l) => l.step === step && "train/loss" in l.metrics)!.metrics["train/loss"];
    expect(loss(second, 9)).toBe(loss(full, 9));
  });

  it("gradient accumulation: 2 × 16 equals one batch of 32", async () => {
    const spec = { ...base, optimizer: "sgd" as const, epochs: 1, maxTrainSamples: 64 };
    const a = fakeCtx();
    const b = fakeCtx();
    await runTrainJob({ ...spec, batchSize: 32 }, a);
    await runTrainJob({ ...spec, batchSize: 16, gradAccumulation: 2 }, b);
    const wa = loadLatestCheckpoint(a.checkpointDir)!.weights;
    const wb = loadLatestCheckpoint(b.checkpointDir)!.weights;
    expect(maxAbsDiff(wa["layer1.weight"]!, wb["layer1.weight"]!)).toBeLessThan(1e-6);
  });

  it("a NaN loss fails the job with a clear reason and keeps earlier metrics", async () => {
    const ctx = fakeCtx();
    // a checkpoint whose weights went NaN (what a diverged run leaves behind)
    await runTrainJob({ ...base, epochs: 1, maxTrainSamples: 64 }, ctx);
    const ck = readCheckpoint(join(ctx.checkpointDir, listCheckpoints(ctx.checkpointDir).at(-1)!));
    ck.weights["layer2.bias"]![0] = NaN;
    saveCheckpoint(ctx.checkpointDir, { ...ck, step: ck.step + 1 });
    const before = ctx.logs.length;
    await expect(runTrainJob({ ...base, epochs: 2, maxTrainSamples: 64 }, ctx)).rejects.toThrow(
      /training diverged: loss is NaN at step 4 .*lower lr or set clipGradNorm/,
    );
    expect(ctx.logs.length).toBe(before);
  });

  it("rejects a spec whose model does not fit the data", async () => {
    await expect(runTrainJob({ ...base, model: "light-cnn", epochs: 1 }, fakeCtx())).resolves.toBeDefined(); // 28×28×1 adapts
    await expect(runTrainJob({ ...base, dataset: "cifar10", cifarPath: "/nonexistent" }, fakeCtx())).rejects.toThrow(/does not exist/);
  });
});

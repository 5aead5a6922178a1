import { afterEach, describe, expect, it } from "vitest";

import { chooseBatchSize, DATASET_TRAIN_SIZES, memoryBudget, memorySummary, memoryTable, planMemory } from "./memory-planner";
import { measureStepPeak } from "./memory-planner-measure";
import { fakeCtx } from "./test-helpers";
import { runTrainJob } from "./trainer";

describe("memory planner", () => {
  afterEach(() => {
    delete process.env.HERON_MEMORY_BUDGET;
  });

  it("breaks memory down into weights, gradients, optimizer slots and activations (MNIST MLP, Adam)", () => {
    const p = planMemory({ model: "mlp-mnist", dataset: "mnist", batchSize: 64, optimizer: "adam" });
    expect(p.parametersBytes).toBe(101_770 * 4);
    expect(p.gradientsBytes).toBe(101_770 * 4);
    expect(p.optimizerBytes).toBeGreaterThanOrEqual(2 * 101_770 * 4); // m and v
    expect(p.batchBytes).toBe(64 * (784 + 10) * 4);
    expect(p.totalBytes).toBe(p.parametersBytes + p.gradientsBytes + p.optimizerBytes + p.batchBytes + p.activationsBytes);
    // seed 000's four parts, summing to the total, in the printed table too
    expect(p.parts.map((x) => x.part)).toEqual(["params + grads", "optimizer state", "batch", "activations"]);
    expect(p.parts[0]!.bytes).toBe(2 * 101_770 * 4);
    expect(p.parts.reduce((n, x) => n + x.bytes, 0)).toBe(p.totalBytes);
    expect(p.table).toMatch(/params \+ grads\s+795\.1 KiB/);
    expect(p.table).toMatch(/planned total\s+[\d.]+ MiB/);
    expect(memorySummary(p)).toMatchObject({ planned_bytes: p.totalBytes, planned_params_grads_bytes: 2 * 101_770 * 4, planned_batch_bytes: p.batchBytes });
    const sgd = planMemory({ model: "mlp-mnist", dataset: "mnist", batchSize: 64, optimizer: "sgd", momentum: 0 });
    expect(p.optimizerBytes - sgd.optimizerBytes).toBe(2 * 101_770 * 4);
    // activations grow with the batch, parameters do not
    const big = planMemory({ model: "mlp-mnist", dataset: "mnist", batchSize: 4096 });
    expect(big.activationsBytes / p.activationsBytes).toBeCloseTo(64);
    expect(big.parametersBytes).toBe(p.parametersBytes);
  });

  it.each([
    ["mlp-mnist", 256, undefined],
    ["light-cnn", 64, [32, 32, 3]],
  ] as const)("%s batch %i: estimate within 25%% of the measured peak of a real training step", async (model, batchSize, shape) => {
    const ctx = fakeCtx();
    const res = await runTrainJob(
      { kind: "train", dataset: "synthetic", model, epochs: 1, batchSize, lr: 1e-3, maxTrainSamples: batchSize * 2, maxTestSamples: 8 },
      ctx,
    );
    void shape;
    const planned = Number(res.summary.planned_bytes);
    console.log(model, "planned", planned, "measured", res.summary.measured_peak_bytes);
    const measured = Number(res.summary.measured_peak_bytes);
    expect(measured).toBeGreaterThan(0);
    expect(Math.abs(planned - measured) / measured).toBeLessThan(0.25);
    expect(ctx.infos.join("\n")).toMatch(/memory: planned .* measured peak/);
  });

  it("chooses the largest power-of-two batch within 80% of the budget", () => {
    const spec = { model: "light-cnn" as const, dataset: "cifar10" as const, batchSize: "auto" as const, optimizer: "adam" as const };
    const budget = 256 * 2 ** 20;
    const { batchSize, plan } = chooseBatchSize(spec, budget);
    expect(Math.log2(batchSize) % 1).toBe(0);
    expect(plan.totalBytes).toBeLessThanOrEqual(0.8 * budget);
    expect(planMemory(spec, { batchSize: batchSize * 2 }).totalBytes).toBeGreaterThan(0.8 * budget);
    expect(() => chooseBatchSize({ ...spec, model: "deep-cnn" }, 1e6)).toThrow(/does not fit/);
  });

  it("batchSize auto never exceeds the training set: 60,000 on MNIST with a budget for more", () => {
    const spec = { model: "mlp-mnist" as const, dataset: "mnist" as const, batchSize: "auto" as const };
    const huge = 1024 ** 4;
    expect(chooseBatchSize(spec, huge).batchSize).toBe(65_536); // what it chose before knowing the set
    const { batchSize, plan } = chooseBatchSize(spec, huge, { trainSamples: DATASET_TRAIN_SIZES.mnist });
    expect(batchSize).toBe(60_000);
    expect(plan.batchSize).toBe(60_000);
    expect(chooseBatchSize(spec, huge, { trainSamples: 300 }).batchSize).toBe(300);
    expect(chooseBatchSize(spec, huge, { trainSamples: 1 }).batchSize).toBe(1);
    // a tight budget still picks a power of two below the set
    const tight = chooseBatchSize(spec, 8e6, { trainSamples: 60_000 }).batchSize;
    expect(Math.log2(tight) % 1).toBe(0);
    expect(tight).toBeLessThan(60_000);
  });

  it("the backend's measured peak of one step is within 25% of the plan, and the table shows both", async () => {
    const plan = planMemory({ model: "mlp-mnist", dataset: "mnist", batchSize: 256 });
    const { peakBytes } = await measureStepPeak({ model: "mlp-mnist" }, { batchSize: 256, inputShape: [28, 28, 1] });
    expect(Math.abs(plan.totalBytes - peakBytes) / peakBytes).toBeLessThan(0.25);
    expect(memoryTable("t", plan, peakBytes)).toMatch(/measured peak\s+[\d.]+ MiB\s+\(\d+% of the plan/);
  });

  it("reads HERON_MEMORY_BUDGET and batchSize auto uses it", async () => {
    process.env.HERON_MEMORY_BUDGET = "64MiB";
    expect(memoryBudget()).toEqual({ bytes: 64 * 2 ** 20, source: "HERON_MEMORY_BUDGET" });
    process.env.HERON_MEMORY_BUDGET = "lots";
    expect(() => memoryBudget()).toThrow(/is not a size/);
    process.env.HERON_MEMORY_BUDGET = "8MB";
    const ctx = fakeCtx();
    const res = await runTrainJob(
      { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: "auto", lr: 1e-3, maxTrainSamples: 256, maxTestSamples: 8 },
      ctx,
    );
    const expected = chooseBatchSize({ model: "mlp-mnist", dataset: "synthetic", batchSize: "auto" }, 8e6).batchSize;
    expect(res.summary.batch_size).toBe(Math.min(expected, 256));
    expect(ctx.infos.join("\n")).toMatch(/batchSize auto → \d+ \(80% of .* from HERON_MEMORY_BUDGET\)/);
  });
});

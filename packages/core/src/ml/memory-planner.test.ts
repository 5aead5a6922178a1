import { afterEach, describe, expect, it } from "vitest";

import { chooseBatchSize, memoryBudget, planMemory } from "./memory-planner";
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
    expect(p.table).toMatch(/parameters\s+397\.5 KiB/);
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

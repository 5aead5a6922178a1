import { describe, expect, it } from "vitest";

import { fakeCtx } from "./test-helpers";
import { runTrainJob } from "./trainer";

// The one real-data test: the MNIST MLP (784-128-10) on the full MNIST (60k), 2 epochs — ~5–15 s on wasm.
describe("MNIST MLP (784-128-10)", () => {
  it("reaches ≥ 97% test accuracy in 2 epochs", { timeout: 90_000 }, async () => {
    const ctx = fakeCtx();
    const res = await runTrainJob(
      { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 2, batchSize: 64, lr: 3e-3, schedule: "cosine", seed: 0, logEvery: 100 },
      ctx,
    );
    expect(res.summary.param_count).toBe(101_770);
    expect(Number(res.summary.test_accuracy)).toBeGreaterThanOrEqual(0.97);
  });
});

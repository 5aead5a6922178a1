import { describe, expect, it } from "vitest";

import { Rng } from "../ml/rng";
import { parameterImportance } from "./importance";
import { pearson, spearman } from "./math";
import { randomParams } from "./space";
import { SweepSpecSchema } from "./spec";

const sweep = SweepSpecSchema.parse({
  method: "random",
  metric: { name: "val/acc", goal: "maximize" },
  maxTrials: 60,
  spec: {},
  parameters: {
    lr: { min: 1e-5, max: 1e-1, distribution: "log_uniform" },
    noise: { min: 0, max: 1 },
    optimizer: { values: ["adam", "sgd", "rmsprop"] },
    kind: { value: "train" },
  },
});

describe("parameterImportance", () => {
  it("ranks the parameter that drives the metric above noise parameters", () => {
    const rng = new Rng(1);
    const trials = Array.from({ length: 60 }, (_, i) => {
      const params = randomParams(sweep, i);
      // accuracy falls with log lr; noise and optimizer do nothing
      return { params, value: -Math.log10(params.lr as number) + 0.3 * rng.normal() };
    });
    const ranked = parameterImportance(sweep, trials);
    expect(ranked.map((r) => r.path)).toEqual(expect.arrayContaining(["lr", "noise", "optimizer"]));
    expect(ranked).toHaveLength(3);
    expect(ranked[0]?.path).toBe("lr");
    const lr = ranked.find((r) => r.path === "lr");
    const noise = ranked.find((r) => r.path === "noise");
    expect(lr?.importance).toBeGreaterThan(0.8);
    expect(lr?.correlation).toBeLessThan(-0.9);
    expect(noise?.importance).toBeLessThan(0.15);
    expect(Math.abs(noise?.correlation ?? 1)).toBeLessThan(0.3);
    expect(ranked.find((r) => r.path === "optimizer")?.correlation).toBeNull();
  });

  it("finds a categorical parameter's effect", () => {
    const trials = Array.from({ length: 60 }, (_, i) => {
      const params = randomParams(sweep, i);
      return { params, value: params.optimizer === "adam" ? 0.9 : 0.5 + 0.01 * (i % 3) };
    });
    expect(parameterImportance(sweep, trials)[0]?.path).toBe("optimizer");
  });

  it("skips trials without a finite metric", () => {
    const trials = [
      { params: { lr: 0.1, noise: 0.5, optimizer: "adam" }, value: null },
      { params: { lr: 0.1, noise: 0.5, optimizer: "adam" }, value: NaN },
    ];
    expect(parameterImportance(sweep, trials).every((r) => r.trials === 0 && r.importance === 0 && r.correlation === null)).toBe(true);
  });
});

describe("correlations", () => {
  it("Spearman sees a monotone effect Pearson understates", () => {
    const xs = [1, 2, 3, 4, 5, 6];
    const ys = xs.map((x) => Math.exp(2 * x));
    expect(spearman(xs, ys)).toBeCloseTo(1, 10);
    expect(pearson(xs, ys)).toBeLessThan(0.9);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
  });
});

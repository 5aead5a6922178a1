import { describe, expect, it } from "vitest";

import { type EpochReport, shouldPrune } from "./early-stop";
import { EarlyTerminateSchema } from "./spec";

const asha = EarlyTerminateSchema.parse({ type: "asha", minEpochs: 1, reductionFactor: 3, maxEpochs: 27 });
const median = EarlyTerminateSchema.parse({ type: "median", minEpochs: 2, minTrials: 3 });

/** accuracy curves: value at epoch e is base + e·slope */
function curve(base: number, slope: number, epochs: number): EpochReport[] {
  return Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, value: base + (i + 1) * slope }));
}

describe("ASHA", () => {
  const reports = {
    good1: curve(0.8, 0.01, 3),
    good2: curve(0.7, 0.01, 3),
    good3: curve(0.75, 0.01, 3),
    best: curve(0.9, 0.01, 1),
    bad: curve(0.1, 0.0, 1),
  };

  it("prunes a clearly bad trial at the first rung and keeps the best", () => {
    const bad = shouldPrune({ earlyTerminate: asha, goal: "maximize", reports, trialId: "bad", epoch: 1 });
    expect(bad.prune).toBe(true);
    expect(bad.reason).toContain("rung 1");
    expect(shouldPrune({ earlyTerminate: asha, goal: "maximize", reports, trialId: "best", epoch: 1 }).prune).toBe(false);
  });

  it("follows the goal: for a loss the low value is the good one", () => {
    const losses = { a: curve(0.2, 0, 1), b: curve(0.3, 0, 1), c: curve(0.25, 0, 1), high: curve(5, 0, 1) };
    expect(shouldPrune({ earlyTerminate: asha, goal: "minimize", reports: losses, trialId: "high", epoch: 1 }).prune).toBe(true);
    expect(shouldPrune({ earlyTerminate: asha, goal: "minimize", reports: losses, trialId: "a", epoch: 1 }).prune).toBe(false);
    // a diverged trial (NaN) is the worst, whatever the goal
    const nan = { ...losses, nan: [{ epoch: 1, value: NaN }] };
    expect(shouldPrune({ earlyTerminate: asha, goal: "maximize", reports: nan, trialId: "nan", epoch: 1 }).prune).toBe(true);
  });

  it("lets the first trial at a rung continue, and judges a rung only when it is reached", () => {
    expect(shouldPrune({ earlyTerminate: asha, goal: "maximize", reports: { only: curve(0, 0, 1) }, trialId: "only", epoch: 1 }).prune).toBe(false);
    // epoch 2 is between rungs 1 and 3: no decision, even for a poor trial
    const between = { ...reports, poor: curve(0.1, 0, 2) };
    expect(shouldPrune({ earlyTerminate: asha, goal: "maximize", reports: between, trialId: "poor", epoch: 2 }).prune).toBe(false);
    // at rung 3 it competes with the trials that reached epoch 3
    const atThree = { ...reports, poor: curve(0.1, 0, 3) };
    expect(shouldPrune({ earlyTerminate: asha, goal: "maximize", reports: atThree, trialId: "poor", epoch: 3 }).prune).toBe(true);
  });

  it("keeps the top 1/η: with six trials at a rung, the best two continue", () => {
    const six = Object.fromEntries([0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map((v, i) => [`t${i}`, [{ epoch: 1, value: v }]]));
    const pruned = Object.keys(six).filter((id) => shouldPrune({ earlyTerminate: asha, goal: "maximize", reports: six, trialId: id, epoch: 1 }).prune);
    expect(pruned).toEqual(["t0", "t1", "t2", "t3"]);
  });
});

describe("median stopping", () => {
  const others = { a: curve(0.5, 0.1, 4), b: curve(0.6, 0.1, 4), c: curve(0.55, 0.1, 4) };

  it("stops a trial whose best so far is below the others' median at the same epoch, after the warm-up", () => {
    const reports = { ...others, bad: curve(0.1, 0.01, 2) };
    const decision = shouldPrune({ earlyTerminate: median, goal: "maximize", reports, trialId: "bad", epoch: 2 });
    expect(decision).toEqual({ prune: true, reason: "median: best so far is worse than the median of 3 other trials at epoch 2" });
    // epoch 1 is warm-up
    expect(shouldPrune({ earlyTerminate: median, goal: "maximize", reports, trialId: "bad", epoch: 1 }).prune).toBe(false);
  });

  it("keeps the best trial and waits for enough other trials", () => {
    const reports = { ...others, best: curve(0.9, 0.1, 2) };
    expect(shouldPrune({ earlyTerminate: median, goal: "maximize", reports, trialId: "best", epoch: 2 }).prune).toBe(false);
    const few = { a: others.a, bad: curve(0.1, 0.01, 2) };
    expect(shouldPrune({ earlyTerminate: median, goal: "maximize", reports: few, trialId: "bad", epoch: 2 }).prune).toBe(false);
  });

  it("uses the best value so far, so one noisy epoch does not stop a trial", () => {
    // at epoch 3 the others sit near 0.85; this trial dipped to 0.2 but reached 0.95 at epoch 2
    const reports = {
      ...others,
      noisy: [
        { epoch: 1, value: 0.5 },
        { epoch: 2, value: 0.95 },
        { epoch: 3, value: 0.2 },
      ],
    };
    expect(shouldPrune({ earlyTerminate: median, goal: "maximize", reports, trialId: "noisy", epoch: 3 }).prune).toBe(false);
  });
});

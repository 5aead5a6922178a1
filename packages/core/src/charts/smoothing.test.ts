import { describe, expect, it } from "vitest";

import { smoothEma, smoothRunningAverage } from "./smoothing";

describe("chart smoothing", () => {
  it("EMA with weight 0 returns the raw values and keeps gaps", () => {
    expect(smoothEma([1, null, 3], 0)).toEqual([1, null, 3]);
  });
  it("debiased EMA starts at the first value and converges to a constant", () => {
    const out = smoothEma([5, 5, 5, 5], 0.9);
    for (const v of out) expect(v).toBeCloseTo(5, 10);
  });
  it("EMA follows a step change gradually and skips NaN without resetting", () => {
    const out = smoothEma([0, 0, NaN, 10, 10], 0.5);
    expect(out[2]).toBeNull();
    expect(out[3]!).toBeGreaterThan(0);
    expect(out[3]!).toBeLessThan(10);
    expect(out[4]!).toBeGreaterThan(out[3]!);
  });
  it("running average averages the trailing window", () => {
    expect(smoothRunningAverage([1, 2, 3, 4, null, 5], 2)).toEqual([1, 1.5, 2.5, 3.5, null, 4.5]);
    expect(smoothRunningAverage([1, 2], 1)).toEqual([1, 2]);
  });
});

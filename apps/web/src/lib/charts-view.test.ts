import { describe, expect, it } from "vitest";

import { chartsViewFromParams, chartsViewFromState, chartsViewToParams, chartsViewToState, DEFAULT_CHARTS_VIEW } from "./charts-view";

describe("charts view in the URL", () => {
  it("round-trips every field, keys with commas and semicolons included", () => {
    const v = {
      runs: ["r1", "r2"],
      by: "config:opt.lr",
      band: "std" as const,
      panels: [["train/loss", "val/loss"], ["odd,key;x"]],
      hidden: ["sys/cpu"],
      xKey: "train/epoch",
      pc: "test/accuracy",
      settings: { ema: 0.6, avgWindow: 1, xAxis: "wall" as const, log: true },
    };
    const p = chartsViewToParams(v, new URLSearchParams());
    expect(chartsViewFromParams(new URLSearchParams(p.toString()))).toEqual(v);
  });

  it("leaves defaults out and ignores a group-by it does not know", () => {
    expect(chartsViewToParams(DEFAULT_CHARTS_VIEW, new URLSearchParams("x=step")).toString()).toBe("");
    expect(chartsViewFromParams(new URLSearchParams("by=colour")).by).toBeNull();
  });

  it("goes into a saved view's state and back; a view without chart fields keeps the current ones", () => {
    const v = {
      ...DEFAULT_CHARTS_VIEW,
      by: "tag",
      band: "std" as const,
      panels: [["a", "b"]],
      hidden: ["c"],
      xKey: "train/epoch",
      settings: { ema: 0.5, avgWindow: 3, xAxis: "relative" as const, log: false },
    };
    expect(chartsViewFromState(chartsViewToState(v))).toEqual(v);
    expect(chartsViewFromState({}, v)).toEqual(v);
  });
});

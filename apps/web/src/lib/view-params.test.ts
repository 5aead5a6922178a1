import { describe, expect, it } from "vitest";

import { DEFAULT_SETTINGS } from "./chart-data";
import { collapsedFromParams, collapsedToParams, settingsFromParams, settingsToParams } from "./view-params";

describe("view state in the URL", () => {
  it("round-trips chart settings and leaves defaults out", () => {
    const s = { ema: 0.6, avgWindow: 5, xAxis: "wall" as const, log: true };
    const p = settingsToParams(s, new URLSearchParams("tab=logs"));
    expect(p.toString()).toBe("tab=logs&ema=0.6&avg=5&x=wall&log=1");
    expect(settingsFromParams(p)).toEqual(s);
    expect(settingsToParams(DEFAULT_SETTINGS, new URLSearchParams()).toString()).toBe("");
  });
  it("clamps or ignores bad values", () => {
    expect(settingsFromParams(new URLSearchParams("ema=7&avg=-3&x=sideways&log=yes"))).toEqual({ ema: 0.999, avgWindow: 1, xAxis: "step", log: false });
  });
  it("round-trips collapsed sections", () => {
    const p = collapsedToParams({ train: true, "sys/h": true, test: false }, new URLSearchParams());
    expect(p.get("collapsed")).toBe("train,sys/h");
    expect(collapsedFromParams(p)).toEqual({ train: true, "sys/h": true });
  });
});

import type { Series } from "@heron/core";
import { describe, expect, it } from "vitest";

import { DEFAULT_SETTINGS, groupKeys, type PreparedLine, prepareLine, stepRangesForWindow, timeAxisAvailable, unionRange } from "./chart-data";
import { toCsv } from "./csv";
import { flattenConfig } from "./flatten";

const exact: Series = { key: "k", bucketed: false, steps: [0, 1, 2], values: [1, null, 3], ts: [1000, 2000, 3000] };
const bucketed: Series = { key: "k", bucketed: true, steps: [63, 127], values: [5, 6], min: [1, 2], max: [9, 8] };

describe("chart data", () => {
  it("appends only live points after the last stored step (no duplicates after a refetch)", () => {
    const p = prepareLine(
      { id: "r", label: "r", color: "#000000", series: exact, live: { steps: [1, 2, 3, 4], values: [0, 0, 4, 5], ts: [0, 0, 4000, 5000] } },
      DEFAULT_SETTINGS,
    )!;
    expect(p.x).toEqual([0, 1, 2, 3, 4]);
    expect(p.y).toEqual([1, null, 3, 4, 5]);
  });
  it("keeps the min/max band of bucketed series, and draws them against time with their per-bucket ts", () => {
    const line = { id: "r", label: "r", color: "#000000", series: bucketed };
    const p = prepareLine(line, DEFAULT_SETTINGS)!;
    expect(p.lo).toEqual([1, 2]);
    expect(p.hi).toEqual([9, 8]);
    // an answer without ts (an older server) stays on steps
    expect(timeAxisAvailable([line])).toBe(false);
    expect(timeAxisAvailable([{ ...line, series: exact }])).toBe(true);
    const timed = { ...line, series: { ...bucketed, ts: [64_000, 128_000] }, startTs: 0 };
    expect(timeAxisAvailable([timed])).toBe(true);
    expect(prepareLine(timed, { ...DEFAULT_SETTINGS, xAxis: "relative" })!.x).toEqual([64, 128]);
  });
  it("keeps a time axis monotone when a clock stepped back", () => {
    const s: Series = { key: "k", bucketed: false, steps: [0, 1, 2, 3], values: [1, 2, 3, 4], ts: [1000, 3000, 2000, 4000] };
    expect(prepareLine({ id: "r", label: "r", color: "#000000", series: s, startTs: 0 }, { ...DEFAULT_SETTINGS, xAxis: "relative" })!.x).toEqual([1, 3, 3, 4]);
  });
  it("maps a zoomed time window to the steps of the buckets it covers, exact at bucket edges", () => {
    // buckets of 64 steps ending at steps 63, 127, 191, 255 at 10, 20, 30, 40 s
    const line = { x: [10, 20, 30, 40], steps: [63, 127, 191, 255], y: [1, 2, 3, 4], smooth: null, lo: null, hi: null };
    const stepRangeForWindow = (lines: (PreparedLine | null)[], a: number, b: number) => unionRange(stepRangesForWindow(lines, a, b));
    // 12–28 s: inside the 2nd (ends 20 s) and 3rd (ends 30 s) buckets
    expect(stepRangeForWindow([line], 12, 28)).toEqual({ stepMin: 64, stepMax: 191 });
    // exactly on edges: the bucket ending at 20 s is in (its last point is), the one after 30 s is not
    expect(stepRangeForWindow([line], 20, 30)).toEqual({ stepMin: 64, stepMax: 191 });
    expect(stepRangeForWindow([line], 0, 5)).toEqual({ stepMin: 0, stepMax: 63 });
    expect(stepRangeForWindow([line], 35, 99)).toEqual({ stepMin: 192, stepMax: 255 });
    expect(stepRangeForWindow([line], 41, 99)).toBeNull();
    // several runs (compare): each its own steps for the same seconds, and their union
    const other = { ...line, x: [25, 50], steps: [500, 1000] };
    expect(stepRangesForWindow([line, null, other], 12, 28)).toEqual([{ stepMin: 64, stepMax: 191 }, null, { stepMin: 0, stepMax: 1000 }]);
    expect(stepRangeForWindow([line, null, other], 12, 28)).toEqual({ stepMin: 0, stepMax: 1000 });
  });
  it("draws relative time in seconds from the run start, and wall time in epoch seconds", () => {
    const line = { id: "r", label: "r", color: "#000000", series: exact, startTs: 0 };
    expect(prepareLine(line, { ...DEFAULT_SETTINGS, xAxis: "relative" })!.x).toEqual([1, 2, 3]);
    expect(prepareLine(line, { ...DEFAULT_SETTINGS, xAxis: "wall" })!.x).toEqual([1, 2, 3]);
  });
  it("turns values ≤ 0 into gaps on a log scale, and smooths only when asked", () => {
    const s: Series = { key: "k", bucketed: false, steps: [0, 1, 2], values: [0, 2, -1] };
    const p = prepareLine({ id: "r", label: "r", color: "#000000", series: s }, { ...DEFAULT_SETTINGS, log: true })!;
    expect(p.y).toEqual([null, 2, null]);
    expect(p.smooth).toBeNull();
    expect(prepareLine({ id: "r", label: "r", color: "#000000", series: s }, { ...DEFAULT_SETTINGS, ema: 0.5 })!.smooth).toHaveLength(3);
  });
  it("groups keys into sections by prefix", () => {
    expect(groupKeys(["train/loss", "acc", "test/acc", "train/lr"])).toEqual([
      ["charts", ["acc"]],
      ["test", ["test/acc"]],
      ["train", ["train/loss", "train/lr"]],
    ]);
  });
  it("writes CSV with quoting and flattens nested config", () => {
    expect(
      toCsv([
        ["a", 'b "c"', "x,y"],
        [1, null, undefined],
      ]),
    ).toBe('a,"b ""c""","x,y"\r\n1,,\r\n');
    expect(flattenConfig({ opt: { lr: 0.1, betas: [0.9, 0.99] }, name: "x" })).toEqual({ "opt.lr": "0.1", "opt.betas": "[0.9,0.99]", name: "x" });
  });
});

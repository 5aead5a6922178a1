import { lowerBound, type Series, smoothEma, smoothRunningAverage } from "@heron/core";

export type XAxisMode = "step" | "relative" | "wall";
export type ChartSettings = { ema: number; avgWindow: number; xAxis: XAxisMode; log: boolean };
export const DEFAULT_SETTINGS: ChartSettings = { ema: 0, avgWindow: 1, xAxis: "step", log: false };

export type LivePoints = { steps: number[]; values: (number | null)[]; ts: number[] };
export type ChartLine = { id: string; label: string; color: string; series: Series | null; live?: LivePoints; startTs?: number };

/** One line ready to draw: x, raw y, smoothed y (or null when no smoothing), band lo/hi. */
export type PreparedLine = {
  x: number[];
  y: (number | null)[];
  smooth: (number | null)[] | null;
  lo: (number | null)[] | null;
  hi: (number | null)[] | null;
  steps: number[];
};

/** Stored series plus the live points logged after its last step (live points are exact). */
function mergeLive(series: Series, live: LivePoints | undefined) {
  const steps = series.steps.slice();
  const values = series.values.slice();
  const ts = series.ts ? series.ts.slice() : null;
  const lo = series.min ? series.min.slice() : null;
  const hi = series.max ? series.max.slice() : null;
  if (live && live.steps.length) {
    const last = steps.length ? steps[steps.length - 1]! : -1;
    for (let i = 0; i < live.steps.length; i++) {
      const s = live.steps[i]!;
      if (s <= last) continue;
      steps.push(s);
      values.push(live.values[i]!);
      ts?.push(live.ts[i]!);
      lo?.push(live.values[i]!);
      hi?.push(live.values[i]!);
    }
  }
  return { steps, values, ts, lo, hi };
}

/**
 * Whether every line can be drawn against time. Stored series carry ts, bucketed ones too (each
 * bucket its last point's); only an answer from a server older than that lacks them.
 */
export function timeAxisAvailable(lines: ChartLine[]): boolean {
  return lines.every((l) => !l.series || !!l.series.ts);
}

export function prepareLine(line: ChartLine, s: ChartSettings): PreparedLine | null {
  if (!line.series) return null;
  const m = mergeLive(line.series, line.live);
  const useTime = s.xAxis !== "step" && !!m.ts;
  const t0 = line.startTs ?? (m.ts && m.ts.length ? m.ts[0]! : 0);
  const x = useTime ? timeAxis(m.ts!, s.xAxis === "wall" ? 0 : t0) : m.steps;
  // log scales cannot show values ≤ 0: draw them as gaps rather than break the axis
  const clip = (a: (number | null)[]) => (s.log ? a.map((v) => (v !== null && v > 0 ? v : null)) : a);
  const y = clip(m.values);
  let smooth: (number | null)[] | null = null;
  if (s.ema > 0) smooth = smoothEma(y, s.ema);
  if (s.avgWindow > 1) smooth = smoothRunningAverage(smooth ?? y, s.avgWindow);
  return { x, y, smooth, lo: m.lo ? clip(m.lo) : null, hi: m.hi ? clip(m.hi) : null, steps: m.steps };
}

/**
 * Seconds since `t0` per point, never decreasing: uPlot binary-searches x (hover, zoom), and a
 * point whose clock stepped back (NTP, a resumed run on another host) would break that, so it
 * is drawn at its predecessor's time instead.
 */
function timeAxis(ts: number[], t0: number): number[] {
  const x = new Array<number>(ts.length);
  let prev = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const v = (ts[i]! - t0) / 1000;
    prev = v > prev ? v : prev;
    x[i] = prev;
  }
  return x;
}

export type StepRange = { stepMin: number; stepMax: number };

/**
 * Per line, the step range to re-query for a window [a, b] zoomed on a time axis (x units of
 * the prepared lines); null for a line with no points at or after `a`.
 *
 * Mapped here, from the times the answer already carries, rather than sent to the server as a
 * time range: a bucket's time is its last point's, and times rise with steps, so bucket i holds
 * exactly the points with times in (x[i-1], x[i]] and steps in (steps[i-1], steps[i]]. The
 * window therefore maps to steps exactly at bucket edges: from just after the last bucket that
 * ends before `a` to the end of the first bucket that ends at or after `b` (exact points: at
 * most one point past `b`). The store keeps no index by time — chunks and rollups are keyed by
 * step — so a server-side time range would need its own search; this way a time-mode zoom
 * is the same step query as a step-mode one (one round trip, the same "Reset zoom"). Runs
 * overlaid on a time axis (compare) each get their own range: the same seconds are different
 * steps in a faster run.
 */
export function stepRangesForWindow(lines: (PreparedLine | null)[], a: number, b: number): (StepRange | null)[] {
  return lines.map((l) => {
    const n = l?.x.length ?? 0;
    if (!l || n === 0) return null;
    const i0 = lowerBound(l.x, a); // buckets before it end before a
    const j = lowerBound(l.x, b); // buckets after it start after b
    if (i0 >= n) return null; // the window lies after this line's last point
    return { stepMin: i0 === 0 ? 0 : l.steps[i0 - 1]! + 1, stepMax: l.steps[Math.min(j, n - 1)]! };
  });
}

/** the smallest range holding all of them; null when there are none */
export function unionRange(ranges: (StepRange | null)[]): StepRange | null {
  const some = ranges.filter((r): r is StepRange => r !== null);
  return some.length ? { stepMin: Math.min(...some.map((r) => r.stepMin)), stepMax: Math.max(...some.map((r) => r.stepMax)) } : null;
}

/**
 * Groups keys into sections by their prefix ("train/loss" → "train"); keys without one go to
 * "charts". depth 2 groups "sys/host-a/cpu" under "sys/host-a" (one section per host).
 */
export function groupKeys(keys: string[], depth = 1): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const k of [...keys].sort()) {
    const parts = k.split("/");
    const section = parts.length > depth ? parts.slice(0, depth).join("/") : parts.length > 1 ? parts.slice(0, -1).join("/") : "charts";
    groups.set(section, [...(groups.get(section) ?? []), k]);
  }
  return [...groups.entries()];
}
